//! All access to git goes through here, on gix: gix changes its API between minor
//! versions, so that churn touches this one folder. Returns git-mlv types only.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error(
        "`{0}` is not inside a git repository\nhint: run `git init` first; git-mlv versions data next to git"
    )]
    NotARepo(PathBuf),
    #[error("`{0}` is a bare repository; git-mlv needs a work tree")]
    Bare(PathBuf),
    #[error("reading git's index in `{path}`: {reason}")]
    Index { path: PathBuf, reason: String },
    #[error("`{rev}` is not a revision of this repository{}\nhint: check it with `git rev-parse {rev}`; in a shallow clone, `git fetch --unshallow` brings the missing history", if reason.is_empty() { String::new() } else { format!(" ({reason})") })]
    BadRevision { rev: String, reason: String },
    #[error("reading revision `{rev}` from git's object database: {reason}")]
    Objects { rev: String, reason: String },
    #[error(
        "creating tag `{name}`: {reason}\nhint: a tag's tagger is git's committer identity; set `user.name` and `user.email` if git asks for them"
    )]
    Tag { name: String, reason: String },
    /// The git binary failed, or could not be started: the command and what git said.
    #[error("`git {command}` failed: {reason}\nhint: {}", if *started { "git's message says what is wrong; `git fsck` finds damage in the repository" } else { "git-mlv runs the `git` found on PATH; check that git is installed" })]
    Command {
        command: String,
        reason: String,
        started: bool,
    },
}

impl GitError {
    pub fn exit_code(&self) -> u8 {
        match self {
            GitError::NotARepo(_) | GitError::Bare(_) => 2,
            GitError::BadRevision { .. } => 2,
            GitError::Index { .. }
            | GitError::Objects { .. }
            | GitError::Tag { .. }
            | GitError::Command { .. } => 1,
        }
    }
}

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

impl GitRepo {
    /// The paths in this worktree's index, read once for many questions.
    pub fn index(&self) -> Result<IndexedPaths, GitError> {
        let index = self.repo.index_or_empty().map_err(|e| GitError::Index {
            path: self.repo.git_dir().to_path_buf(),
            reason: e.to_string(),
        })?;
        let mut paths: Vec<String> = index
            .entries()
            .iter()
            .map(|e| e.path(&index).to_string())
            .collect();
        paths.sort();
        Ok(IndexedPaths(paths))
    }
}

/// The paths git tracks (its index), sorted: data that git already tracks is never handed
/// to git-mlv, and git-tracked code is never overwritten by data.
#[derive(Debug, Default)]
pub struct IndexedPaths(Vec<String>);

impl IndexedPaths {
    /// The first indexed path at or below `path` (`/`-separated, relative to the root).
    pub fn first_under(&self, path: &str) -> Option<&str> {
        if let Ok(i) = self.0.binary_search_by(|p| p.as_str().cmp(path)) {
            return Some(&self.0[i]);
        }
        // Everything below `path/` forms one run in sorted order.
        let dir_prefix = format!("{path}/");
        let i = self.0.partition_point(|p| p.as_str() < dir_prefix.as_str());
        self.0
            .get(i)
            .filter(|p| p.starts_with(&dir_prefix))
            .map(String::as_str)
    }
}

/// A pointer file as committed at some revision.
pub struct CommittedFile {
    /// Repository-relative, `/`-separated path of the pointer file.
    pub path: String,
    pub data: Vec<u8>,
}

impl GitRepo {
    /// Every file whose name ends with `suffix` in the tree of `rev`, read straight from
    /// git's object database (the work tree is not touched).
    pub fn files_at(&self, rev: &str, suffix: &str) -> Result<Vec<CommittedFile>, GitError> {
        let objects = |reason: String| GitError::Objects {
            rev: rev.to_string(),
            reason,
        };
        let tree = self
            .commit(rev)?
            .tree()
            .map_err(|e| objects(e.to_string()))?;
        let mut recorder = gix::traverse::tree::Recorder::default();
        tree.traverse()
            .breadthfirst(&mut recorder)
            .map_err(|e| objects(e.to_string()))?;
        let mut out = Vec::new();
        for entry in recorder.records {
            if !entry.mode.is_blob() {
                continue;
            }
            let path = entry.filepath.to_string();
            let name = path.rsplit('/').next().unwrap_or(&path);
            if name.len() <= suffix.len() || !name.ends_with(suffix) {
                continue;
            }
            let object = self
                .repo
                .find_object(entry.oid)
                .map_err(|e| objects(e.to_string()))?;
            out.push(CommittedFile {
                path,
                data: object.detach().data,
            });
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }
}

impl GitRepo {
    /// The bytes of the file at `path` in the tree of `rev`, or `None` when that commit has
    /// no such file (`mlv.toml`, `mlv.lock` and metrics files at an older revision).
    pub fn file_at(&self, rev: &str, path: &str) -> Result<Option<Vec<u8>>, GitError> {
        let objects = |reason: String| GitError::Objects {
            rev: rev.to_string(),
            reason,
        };
        let tree = self
            .commit(rev)?
            .tree()
            .map_err(|e| objects(e.to_string()))?;
        let Some(entry) = tree
            .lookup_entry_by_path(path)
            .map_err(|e| objects(e.to_string()))?
        else {
            return Ok(None);
        };
        if !entry.mode().is_blob() {
            return Ok(None);
        }
        let object = entry.object().map_err(|e| objects(e.to_string()))?;
        Ok(Some(object.detach().data))
    }

    /// The full commit id `rev` names.
    pub fn resolve_commit(&self, rev: &str) -> Result<String, GitError> {
        Ok(self.commit(rev)?.id.to_string())
    }

    /// The commit `rev` names (a tag or branch peeled to its commit).
    fn commit(&self, rev: &str) -> Result<gix::Commit<'_>, GitError> {
        let bad = |reason: String| GitError::BadRevision {
            rev: rev.to_string(),
            reason,
        };
        self.repo
            .rev_parse_single(rev)
            .map_err(|e| bad(e.to_string()))?
            .object()
            .map_err(|e| bad(e.to_string()))?
            .peel_to_commit()
            .map_err(|e| bad(e.to_string()))
    }
}

impl GitRepo {
    /// Runs the git binary in this repository (for what hooks hand over as git sees it:
    /// `GIT_INDEX_FILE`, `core.hooksPath`, rev-list ranges) and returns its stdout.
    fn git(&self, args: &[&str]) -> Result<String, GitError> {
        let out = self.git_output(args)?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
            return Err(GitError::Command {
                command: args.join(" "),
                reason: match stderr.is_empty() {
                    true => out.status.to_string(),
                    false => stderr,
                },
                started: true,
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Runs the git binary and returns what it did, whatever its exit status.
    fn git_output(&self, args: &[&str]) -> Result<std::process::Output, GitError> {
        let dir = self.repo.workdir().unwrap_or(self.repo.git_dir());
        std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .map_err(|e| GitError::Command {
                command: args.join(" "),
                reason: e.to_string(),
                started: false,
            })
    }

    /// Where git runs hooks from (`git rev-parse --git-path hooks`, so `core.hooksPath` counts).
    pub fn hooks_dir(&self) -> Result<PathBuf, GitError> {
        let p = PathBuf::from(self.git(&["rev-parse", "--git-path", "hooks"])?.trim());
        let dir = self.repo.workdir().unwrap_or(self.repo.git_dir());
        Ok(if p.is_absolute() { p } else { dir.join(p) })
    }

    /// The commits a push of `local` sends that the remote does not have: reachable from
    /// `local` but not from `remote_sha` (when known) nor from the remote's tracking refs.
    pub fn commits_to_push(
        &self,
        local: &str,
        remote_sha: Option<&str>,
        remote: &str,
    ) -> Result<Vec<String>, GitError> {
        let mut args = vec![
            "rev-list".to_string(),
            local.to_string(),
            "--not".to_string(),
            format!("--remotes={remote}"),
        ];
        if let Some(r) = remote_sha.filter(|r| self.repo.rev_parse_single(*r).is_ok()) {
            args.push(r.to_string());
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        Ok(self.git(&refs)?.lines().map(str::to_owned).collect())
    }

    /// Staged paths (added or modified) in the index git hands a hook, with their blob sizes.
    pub fn staged(&self) -> Result<Vec<(String, u64)>, GitError> {
        let names = self.git(&["diff", "--cached", "--name-only", "--diff-filter=AM", "-z"])?;
        let mut out = Vec::new();
        for name in names.split('\0').filter(|n| !n.is_empty()) {
            let size = self
                .git(&["cat-file", "-s", &format!(":{name}")])?
                .trim()
                .parse()
                .unwrap_or(0);
            out.push((name.to_string(), size));
        }
        Ok(out)
    }

    /// The last commit reachable from `rev` that changed `path`, or `None` when none did.
    pub fn last_change(&self, rev: &str, path: &str) -> Result<Option<CommitInfo>, GitError> {
        let out = self.git(&["log", "-1", "--format=%H%x00%cs%x00%s", rev, "--", path])?;
        let mut parts = out.trim_end_matches('\n').splitn(3, '\0');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(id), Some(date), Some(summary)) if !id.is_empty() => Ok(Some(CommitInfo {
                id: id.to_string(),
                date: date.to_string(),
                summary: summary.to_string(),
            })),
            _ => Ok(None),
        }
    }

    /// The staged bytes of a path, or `None` when the index has no such file.
    pub fn staged_bytes(&self, path: &str) -> Result<Option<Vec<u8>>, GitError> {
        let out = self.git_output(&["cat-file", "blob", &format!(":{path}")])?;
        Ok(out.status.success().then_some(out.stdout))
    }

    /// The staged content of a path, as the index git hands a hook holds it.
    pub fn staged_content(&self, path: &str) -> Result<String, GitError> {
        self.git(&["cat-file", "blob", &format!(":{path}")])
    }
}

/// A commit as lineage shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CommitInfo {
    pub id: String,
    /// Committer date, `YYYY-MM-DD`.
    pub date: String,
    pub summary: String,
}

/// What garbage collection must keep: the commits whose pointers are roots, and the
/// worktrees whose work trees and indexes are.
pub struct GcRoots {
    pub commits: Vec<String>,
    pub worktrees: Vec<PathBuf>,
    /// Worktrees git still lists whose folder is gone (deleted without `git worktree
    /// prune`): their HEAD is among `commits`, their work tree and index cannot be read.
    pub missing_worktrees: Vec<PathBuf>,
}

impl GitRepo {
    /// The roots: the commit of every ref under `refs/` (branches, remote-tracking branches,
    /// tags, and any other ref a tool keeps, such as `refs/notes` or experiments), every
    /// worktree's HEAD and every stash entry (with `all_commits`, every commit reachable
    /// from them). Refs at trees or blobs hold no pointers and are passed over. Reflogs
    /// are not roots.
    pub fn gc_roots(&self, all_commits: bool) -> Result<GcRoots, GitError> {
        let mut worktrees = Vec::new();
        let mut missing_worktrees = Vec::new();
        let mut commits = Vec::new();
        // One stanza per worktree, separated by blank lines; `prunable` marks one whose
        // folder git can no longer find.
        for stanza in self
            .git(&["worktree", "list", "--porcelain"])?
            .split("\n\n")
        {
            let mut path = None;
            let mut prunable = false;
            for line in stanza.lines() {
                if let Some(p) = line.strip_prefix("worktree ") {
                    path = Some(PathBuf::from(p));
                } else if let Some(h) = line.strip_prefix("HEAD ") {
                    commits.push(h.to_string());
                } else if line == "prunable" || line.starts_with("prunable ") {
                    prunable = true;
                }
            }
            match path {
                Some(p) if prunable || !p.is_dir() => missing_worktrees.push(p),
                Some(p) => worktrees.push(p),
                None => {}
            }
        }
        commits.extend(
            self.git(&["stash", "list", "--format=%H"])?
                .lines()
                .map(str::to_owned),
        );
        let refs = self.git(&[
            "for-each-ref",
            "--format=%(objecttype) %(objectname)",
            "refs/",
        ])?;
        for line in refs.lines() {
            match line.split_once(' ') {
                Some(("commit", id)) => commits.push(id.to_string()),
                // A tag, peeled (through tags of tags) to the commit it names, if any.
                Some(("tag", id)) => {
                    if let Ok(c) = self.commit(id) {
                        commits.push(c.id.to_string());
                    }
                }
                _ => {}
            }
        }
        if all_commits {
            let mut args = vec!["rev-list".to_string()];
            args.extend(commits.iter().cloned());
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            if refs.len() > 1 {
                commits.extend(self.git(&refs)?.lines().map(str::to_owned));
            }
        }
        commits.sort();
        commits.dedup();
        Ok(GcRoots {
            commits,
            worktrees,
            missing_worktrees,
        })
    }

    /// The pointer files staged in the index of the worktree at `worktree`.
    pub fn indexed_pointers(
        &self,
        worktree: &std::path::Path,
        suffix: &str,
    ) -> Result<Vec<CommittedFile>, GitError> {
        let wt = worktree.display().to_string();
        let listing = self.git(&["-C", &wt, "ls-files", "-s", "-z"])?;
        let mut out = Vec::new();
        for entry in listing.split('\0').filter(|e| !e.is_empty()) {
            let Some((meta, path)) = entry.split_once('\t') else {
                continue;
            };
            if !path.ends_with(suffix) {
                continue;
            }
            let Some(sha) = meta.split_whitespace().nth(1) else {
                continue;
            };
            out.push(CommittedFile {
                path: path.to_string(),
                data: self.git(&["cat-file", "blob", sha])?.into_bytes(),
            });
        }
        Ok(out)
    }
}

impl GitRepo {
    /// The commits `push`/`fetch` selectors name: tips of local branches, tips of tags, or
    /// every commit reachable from any ref.
    pub fn selector_commits(
        &self,
        branches: bool,
        tags: bool,
        all_commits: bool,
    ) -> Result<Vec<String>, GitError> {
        let mut out = Vec::new();
        if branches {
            out.extend(
                self.git(&["for-each-ref", "--format=%(objectname)", "refs/heads"])?
                    .lines()
                    .map(str::to_owned),
            );
        }
        if tags {
            out.extend(
                self.git(&["for-each-ref", "--format=%(objectname)", "refs/tags"])?
                    .lines()
                    .map(str::to_owned),
            );
        }
        if all_commits {
            out.extend(self.git(&["rev-list", "--all"])?.lines().map(str::to_owned));
        }
        out.sort();
        out.dedup();
        Ok(out)
    }
}

/// An annotated tag: its name, the commit it points at and its tagger time. Lightweight
/// tags are left out, as GTO leaves them out of the registry.
#[derive(Debug, Clone)]
pub struct AnnotatedTag {
    pub name: String,
    pub commit: String,
    /// Tagger time, seconds since the epoch.
    pub time: i64,
}

impl GitRepo {
    /// Every annotated tag that points (directly) at a commit.
    pub fn annotated_tags(&self) -> Result<Vec<AnnotatedTag>, GitError> {
        let listing = self.git(&[
            "for-each-ref",
            "--format=%(objecttype)%00%(*objecttype)%00%(*objectname)%00%(taggerdate:unix)%00%(refname:strip=2)",
            "refs/tags",
        ])?;
        Ok(listing
            .lines()
            .filter_map(|line| {
                let mut f = line.splitn(5, '\0');
                let (kind, peeled_kind, commit, time, name) =
                    (f.next()?, f.next()?, f.next()?, f.next()?, f.next()?);
                (kind == "tag" && peeled_kind == "commit").then(|| AnnotatedTag {
                    name: name.to_string(),
                    commit: commit.to_string(),
                    time: time.parse().unwrap_or(0),
                })
            })
            .collect())
    }

    /// Creates the annotated tag `name` on `commit` with tagger time `time` (seconds since
    /// the epoch, UTC); refuses to replace an existing tag.
    pub fn create_tag(
        &self,
        name: &str,
        commit: &str,
        message: &str,
        time: i64,
    ) -> Result<(), GitError> {
        let dir = self.repo.workdir().unwrap_or(self.repo.git_dir());
        let out = std::process::Command::new("git")
            .args(["tag", "-a", "-m", message, name, commit])
            .env("GIT_COMMITTER_DATE", format!("@{time} +0000"))
            .current_dir(dir)
            .output()
            .map_err(|e| GitError::Command {
                command: format!("tag -a {name} {commit}"),
                reason: e.to_string(),
                started: false,
            })?;
        if !out.status.success() {
            return Err(GitError::Tag {
                name: name.to_string(),
                reason: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        Ok(())
    }
}
