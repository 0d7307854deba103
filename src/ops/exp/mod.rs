//! Experiments (see `experiment` for the concepts): `run` queues and runs them in worktrees
//! of their own, `show` reads them back, `apply` brings one into the work tree; the small
//! rest (`find`, `remove`) is here.

pub mod apply;
pub mod run;
pub mod show;

use crate::experiment::{self, ExperimentError, Store};
use crate::repo::Repo;

/// The store of this clone's experiment records and worktrees.
pub fn store(repo: &Repo) -> Store {
    Store::new(&repo.layout.common_dir)
}

/// The commit of the finished experiment `arg` (its name or its full ref); exit 2 when
/// there is none.
pub fn find(repo: &Repo, arg: &str) -> anyhow::Result<String> {
    let name = experiment::name_of(arg);
    experiment::check_name(name)?;
    repo.git
        .refs_under(experiment::REF_PREFIX)?
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, commit)| commit)
        .ok_or_else(|| match store(repo).load(name) {
            Ok(Some(r)) => crate::problem::usage_with_hint(
                format!("experiment `{name}` is {}, so it has no commit", r.status.as_str()),
                "`git mlv exp run --run-all` runs the queued and interrupted ones; `git mlv exp show` says how each ended",
            ),
            _ => ExperimentError::Unknown(name.to_string()).into(),
        })
}

/// Whether `arg` names an experiment with a ref, a record, or both; exit 2 when it names
/// none, or one that is running (it cannot be removed now).
pub fn check_removable(repo: &Repo, arg: &str) -> anyhow::Result<(bool, bool)> {
    let name = experiment::name_of(arg);
    experiment::check_name(name)?;
    let store = store(repo);
    let has_ref = repo
        .git
        .refs_under(experiment::REF_PREFIX)?
        .iter()
        .any(|(n, _)| n == name);
    let record = store.load(name)?;
    if !has_ref && record.is_none() {
        return Err(ExperimentError::Unknown(name.to_string()).into());
    }
    if record.is_some() && store.try_lock(name)?.is_none() {
        return Err(crate::problem::usage_with_hint(
            format!("experiment `{name}` is running"),
            "wait for it to end, then remove it",
        ));
    }
    Ok((has_ref, record.is_some()))
}

/// Forgets the experiment `arg`: its ref, its record and log, its worktree (see
/// `check_removable` for what is refused).
pub fn remove(repo: &Repo, arg: &str) -> anyhow::Result<()> {
    let (has_ref, _) = check_removable(repo, arg)?;
    let name = experiment::name_of(arg);
    let store = store(repo);
    if has_ref {
        repo.git.delete_ref(&experiment::ref_name(name))?;
    }
    remove_worktree(repo, &store, name)?;
    store.forget(name)
}

/// Removes the worktree of `name` if one is left (see `gitx`'s `worktree_remove`), one
/// runner at a time.
fn remove_worktree(repo: &Repo, store: &Store, name: &str) -> anyhow::Result<()> {
    let _lock = store.lock_worktrees()?;
    Ok(repo.git.worktree_remove(&store.worktree(name))?)
}
