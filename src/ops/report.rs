//! How an operation tells the person running it what it waits for and how far it got,
//! without knowing how (or whether) that is shown: the command layer implements
//! `Reporter` for its `Ui`.

use crate::cache::{Access, Cache, CacheLock};
use crate::progress::Progress;
use crate::repo::{Repo, WorktreeLock};
use std::path::Path;

pub trait Reporter {
    /// Another process holds the cache lock `lock` in a way `access` must wait for.
    fn waiting_for_cache(&self, access: Access, lock: &Path);
    /// Another git-mlv process holds this worktree's lock `lock`.
    fn waiting_for_worktree(&self, lock: &Path);
    /// Progress of one phase, named by `verb` (`fetching`, `checkout`), shown until dropped.
    fn progress(&self, verb: &str) -> Box<dyn Progress>;
    /// Something the operation found and dealt with that the person should know about.
    fn warn(&self, msg: &str);
}

/// Takes the cache-wide lock (see `Cache::lock`), reporting when it has to wait. Taken
/// before the worktree lock, everywhere, so two processes never wait on each other in
/// opposite orders.
pub fn lock_cache(
    cache: &Cache,
    access: Access,
    report: &dyn Reporter,
) -> anyhow::Result<CacheLock> {
    Ok(cache.lock(access, |path| report.waiting_for_cache(access, path))?)
}

/// Takes the worktree lock (see `Repo::lock`), reporting when it has to wait.
pub fn lock_worktree(repo: &Repo, report: &dyn Reporter) -> anyhow::Result<WorktreeLock> {
    repo.lock(|path| report.waiting_for_worktree(path))
}
