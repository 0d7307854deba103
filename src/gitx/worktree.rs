//! What experiments ask the git binary: worktrees of their own under the git dir, a commit
//! made there, and the refs that keep them (listed, moved, pushed and fetched).

use super::{GitError, GitRepo};
use std::path::Path;

/// Git runs no hook for the commands below: a user's `post-checkout` or `pre-commit` is
/// about the user's work tree, not an experiment's.
const NO_HOOKS: [&str; 2] = ["-c", "core.hooksPath=/dev/null"];

impl GitRepo {
    fn git_quiet(&self, args: &[&str]) -> Result<String, GitError> {
        let mut all = NO_HOOKS.to_vec();
        all.extend_from_slice(args);
        self.git(&all)
    }

    /// A new worktree at `path` on a detached HEAD at `commit` (its files checked out).
    pub fn worktree_add(&self, path: &Path, commit: &str) -> Result<(), GitError> {
        let p = path.display().to_string();
        self.git_quiet(&["worktree", "add", "--quiet", "--detach", &p, commit])
            .map(drop)
    }

    /// Removes the worktree at `path` if git knows it, then forgets worktrees whose
    /// folders are gone (an experiment killed half way leaves either).
    pub fn worktree_remove(&self, path: &Path) -> Result<(), GitError> {
        if path.exists() {
            let p = path.display().to_string();
            if self
                .git(&["worktree", "remove", "--force", "--force", &p])
                .is_err()
            {
                fs_err::remove_dir_all(path).map_err(|e| GitError::Command {
                    command: format!("worktree remove {p}"),
                    reason: e.to_string(),
                    started: true,
                })?;
            }
        }
        self.git(&["worktree", "prune"]).map(drop)
    }

    /// Commits everything in the worktree at `path` (what `.gitignore` leaves out stays
    /// out), on its detached HEAD, and returns the new commit.
    pub fn commit_worktree(&self, path: &Path, message: &str) -> Result<String, GitError> {
        let p = path.display().to_string();
        self.git(&["-C", &p, "add", "-A"])?;
        self.git_quiet(&[
            "-C",
            &p,
            "commit",
            "--quiet",
            "--no-verify",
            "--allow-empty",
            "-m",
            message,
        ])?;
        Ok(self
            .git(&["-C", &p, "rev-parse", "HEAD"])?
            .trim()
            .to_string())
    }

    /// Points `name` (a full ref) at `commit`.
    pub fn update_ref(&self, name: &str, commit: &str) -> Result<(), GitError> {
        self.git(&["update-ref", name, commit]).map(drop)
    }

    pub fn delete_ref(&self, name: &str) -> Result<(), GitError> {
        self.git(&["update-ref", "-d", name]).map(drop)
    }

    /// The refs under `prefix` (`refs/mlv/exps/`) at commits: (name after the prefix, commit).
    pub fn refs_under(&self, prefix: &str) -> Result<Vec<(String, String)>, GitError> {
        let out = self.git(&["for-each-ref", "--format=%(objectname) %(refname)", prefix])?;
        Ok(out
            .lines()
            .filter_map(|l| l.split_once(' '))
            .filter_map(|(id, r)| Some((r.strip_prefix(prefix)?.to_string(), id.to_string())))
            .collect())
    }

    /// The paths whose content differs between the commits `a` and `b`.
    pub fn changed_paths(&self, a: &str, b: &str) -> Result<Vec<String>, GitError> {
        let out = self.git(&["diff-tree", "-r", "-z", "--no-renames", "--name-only", a, b])?;
        Ok(out
            .split('\0')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect())
    }

    /// The first parent of `commit`, if it has one.
    pub fn parent_of(&self, commit: &str) -> Result<Option<String>, GitError> {
        let c = self.commit(commit)?;
        Ok(c.parent_ids().next().map(|id| id.to_string()))
    }

    /// True when `name` is a branch name git accepts.
    pub fn is_branch_name(&self, name: &str) -> bool {
        self.git(&["check-ref-format", "--branch", name]).is_ok()
    }

    /// A new branch `name` at `commit` (git refuses one that exists).
    pub fn create_branch(&self, name: &str, commit: &str) -> Result<(), GitError> {
        self.git(&["branch", name, commit]).map(drop)
    }

    /// `git push <remote> <refspec>…`.
    pub fn push_refs(&self, remote: &str, refspecs: &[String]) -> Result<(), GitError> {
        let mut args = vec!["push", "--quiet", remote];
        args.extend(refspecs.iter().map(String::as_str));
        self.git(&args).map(drop)
    }

    /// `git fetch <remote> <refspec>…`.
    pub fn fetch_refs(&self, remote: &str, refspecs: &[String]) -> Result<(), GitError> {
        let mut args = vec!["fetch", "--quiet", remote];
        args.extend(refspecs.iter().map(String::as_str));
        self.git(&args).map(drop)
    }
}
