//! All access to git goes through here: reads on gix (`read.rs`; gix changes its API
//! between minor versions, so that churn touches this one folder), and the few calls that
//! must run the git binary (`command.rs`). Returns git-mlv types only.

mod command;
mod fetch;
mod read;
mod source;
mod tags;
mod worktree;

pub use command::{AnnotatedTag, CommitInfo, GcRoots, version};
pub use fetch::FetchFailure;
pub use read::IndexedPaths;
pub use source::{ReadError, Source};
pub use tags::{TagNote, utc_time};

use crate::problem::{Hinted, Kind};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("`{0}` is not inside a git repository")]
    NotARepo(PathBuf),
    #[error("`{0}` is a bare repository; git-mlv needs a work tree")]
    Bare(PathBuf),
    #[error("reading git's index in `{path}`: {reason}")]
    Index { path: PathBuf, reason: String },
    #[error("`{rev}` is not a revision of this repository{}", if reason.is_empty() { String::new() } else { format!(" ({reason})") })]
    BadRevision { rev: String, reason: String },
    #[error("reading revision `{rev}` from git's object database: {reason}")]
    Objects { rev: String, reason: String },
    #[error("creating tag `{name}`: {reason}")]
    Tag { name: String, reason: String },
    /// The git binary failed, or could not be started: the command and what git said.
    #[error("`git {command}` failed: {reason}")]
    Command {
        command: String,
        reason: String,
        started: bool,
    },
}

/// Not a repository, or not a revision of it, is the request's fault; git failing is not.
impl Hinted for GitError {
    fn kind(&self) -> Kind {
        match self {
            GitError::NotARepo(_) | GitError::Bare(_) => Kind::Usage,
            GitError::BadRevision { .. } => Kind::Usage,
            GitError::Index { .. }
            | GitError::Objects { .. }
            | GitError::Tag { .. }
            | GitError::Command { .. } => Kind::Failed,
        }
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            GitError::NotARepo(_) => "run `git init` first; git-mlv versions data next to git".into(),
            GitError::BadRevision { rev, .. } => format!(
                "check it with `git rev-parse {rev}`; in a shallow clone, `git fetch --unshallow` brings the missing history"
            ),
            GitError::Tag { .. } => "a tag's tagger is git's committer identity; set `user.name` and `user.email` if git asks for them".into(),
            GitError::Command { started: true, .. } => "git's message says what is wrong; `git fsck` finds damage in the repository".into(),
            GitError::Command { started: false, .. } => "git-mlv runs the `git` found on PATH; check that git is installed".into(),
            GitError::Bare(_) | GitError::Index { .. } | GitError::Objects { .. } => return None,
        })
    }
}

/// The ref namespace of finished experiments (see `experiment`): a name that is no other
/// revision is looked up there.
pub const EXPERIMENT_REFS: &str = "refs/mlv/exps/";

/// Where a repository keeps things, as `git rev-parse` would say.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The work tree root (`--show-toplevel`), canonical.
    pub workdir: PathBuf,
    /// This worktree's git dir (`--git-dir`): per-worktree state.
    pub git_dir: PathBuf,
    /// The git dir shared by all worktrees (`--git-common-dir`): the shared cache.
    pub common_dir: PathBuf,
}

pub struct GitRepo {
    repo: gix::Repository,
}

/// Finds the repository containing `cwd`, honouring `GIT_DIR` like git does.
pub fn discover(cwd: &Path) -> Result<(Layout, GitRepo), GitError> {
    let repo = gix::ThreadSafeRepository::discover_with_environment_overrides(cwd)
        .map_err(|_| GitError::NotARepo(cwd.to_path_buf()))?
        .to_thread_local();
    let workdir = repo
        .workdir()
        .ok_or_else(|| GitError::Bare(repo.git_dir().to_path_buf()))?;
    let canon = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let layout = Layout {
        workdir: canon(workdir),
        git_dir: canon(repo.git_dir()),
        common_dir: canon(repo.common_dir()),
    };
    Ok((layout, GitRepo { repo }))
}

/// A pointer file as committed at some revision.
pub struct CommittedFile {
    /// Repository-relative, `/`-separated path of the pointer file.
    pub path: String,
    pub data: Vec<u8>,
}
