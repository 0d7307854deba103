//! `exp apply`: an experiment's data checked out (as `git mlv checkout --rev` does, so it
//! is refused over unsaved data the same way), then the files it changed (params,
//! pointers, `mlv.lock`, metrics, `.gitignore`) written into the work tree, unstaged.
//! Refused first, changing nothing, when one of those files holds changes no commit has.

use super::super::checkout;
use super::super::report::{self, Reporter};
use crate::gitx::Source;
use crate::paths;
use crate::problem::failed_with_hint;
use crate::repo::Repo;
use crate::restore::Summary;

/// What `apply` did: the files written or removed, the checkout's summary and the paths
/// the cache lacked.
pub struct Applied {
    pub files: Vec<String>,
    pub summary: Summary,
    pub missing: Vec<String>,
}

pub fn apply(repo: &Repo, name: &str, report: &dyn Reporter) -> anyhow::Result<Applied> {
    let commit = super::find(repo, name)?;
    let parent = repo
        .git
        .parent_of(&commit)?
        .unwrap_or_else(|| commit.clone());
    let files: Vec<String> = repo
        .git
        .changed_paths(&parent, &commit)?
        .into_iter()
        .filter(|p| !paths::is_reserved(p))
        .collect();
    let exp = Source::Rev(&repo.git, &commit);
    let head = Source::Rev(&repo.git, "HEAD");
    let work = Source::WorkTree(repo.root());
    let mut unsaved = Vec::new();
    for f in &files {
        let now = work.read(f).map_err(|e| e.into_anyhow())?;
        if now != head.read(f).map_err(|e| e.into_anyhow())?
            && now != exp.read(f).map_err(|e| e.into_anyhow())?
        {
            unsaved.push(format!("  {f}"));
        }
    }
    if !unsaved.is_empty() {
        return Err(failed_with_hint(
            format!(
                "exp apply would overwrite {} with changes no commit holds; nothing was changed:\n{}",
                crate::units::count(unsaved.len() as u64, "file"),
                unsaved.join("\n")
            ),
            "commit them, or drop the changes with `git checkout -- <file>`, then apply again",
        ));
    }
    let request = checkout::Request {
        paths: &[],
        exclude: &[],
        rev: Some(&commit),
        to: None,
        force: false,
        ready_copies: &[],
    };
    let (summary, missing) = checkout::checkout(repo, &request, report)?;
    let _lock = report::lock_worktree(repo, report)?;
    for f in &files {
        paths::check_no_link_out(repo.root(), f)?;
        let abs = crate::paths::RepoPath::new(f.as_str()).to_abs(repo.root());
        match exp.read(f).map_err(|e| e.into_anyhow())? {
            Some(bytes) => {
                if let Some(dir) = abs.parent() {
                    fs_err::create_dir_all(dir)?;
                }
                crate::fsutil::write_atomic(&abs, &bytes)
                    .map_err(|e| anyhow::anyhow!("writing `{f}`: {e}"))?;
            }
            None => match fs_err::remove_file(&abs) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                _ => {}
            },
        }
    }
    Ok(Applied {
        files,
        summary,
        missing,
    })
}
