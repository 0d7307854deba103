//! Checking out: make workspace data (or a copy of it elsewhere) match the pointer files.
//! `checkout` runs it, and so do `pull`, the git hooks and `deploy`.

use super::report::{self, Reporter};
use crate::paths::RepoPath;
use crate::problem::failed_with_hint;
use crate::repo::Repo;
use crate::restore::{self, Plan};
use std::path::{Path, PathBuf};

/// What to check out, and where.
pub struct Request<'a> {
    pub paths: &'a [PathBuf],
    /// `--exclude` patterns.
    pub exclude: &'a [PathBuf],
    pub rev: Option<&'a str>,
    pub to: Option<&'a Path>,
    pub force: bool,
    /// Objects with a ready copy beside the cache, from the fetch just before (`pull`).
    pub ready_copies: &'a [crate::hash::Hash],
}

/// Checks out the selected paths (the caller holds the cache lock). Returns what was done
/// and the tracked paths whose objects the cache lacks. Refuses (changing nothing) when
/// unsaved work would be lost.
pub fn checkout(
    repo: &Repo,
    req: &Request,
    report: &dyn Reporter,
) -> anyhow::Result<(restore::Summary, Vec<String>)> {
    let _lock = report::lock_worktree(repo, report)?;
    let cache = repo.cache()?;
    let mut stat = repo.stat_cache();
    let selected = repo.select_at(&repo.pathspec(req.paths, req.exclude)?, req.rev)?;
    let mut plan = Plan::default();
    let dest_root = match req.to {
        Some(dir) => restore::export_root(repo, dir)?,
        None => repo.root().to_path_buf(),
    };
    let target = restore::Target {
        dest_root: &dest_root,
        force: req.force,
    };
    for (t, scope) in &selected {
        restore::plan(repo, &cache, &mut stat, t, scope, &target, &mut plan)?;
    }
    if !plan.conflicts.is_empty() {
        stat.save()?;
        let shown: Vec<String> = plan
            .conflicts
            .iter()
            .take(20)
            .map(|p| format!("  {}", repo.display(&RepoPath::new(p.as_str()))))
            .collect();
        let more = plan.conflicts.len().saturating_sub(20);
        return Err(failed_with_hint(
            format!(
                "checkout would overwrite or remove {} whose content is not in the cache; nothing was changed:\n{}",
                crate::units::count(plan.conflicts.len() as u64, "workspace file"),
                crate::units::listing(&shown, more)
            ),
            "`git mlv add` them to keep the new data, or run `git mlv checkout --force` to discard it",
        ));
    }
    let missing = std::mem::take(&mut plan.missing);
    let bar = report.progress("checkout");
    let summary = restore::apply(repo, &cache, &mut stat, plan, req.ready_copies, &*bar);
    drop(bar);
    stat.save()?;
    Ok((summary?, missing))
}

/// The error for tracked paths a checkout left out because the cache lacks their objects.
pub fn missing_error(repo: &Repo, missing: &[String]) -> anyhow::Result<()> {
    if missing.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = missing
        .iter()
        .map(|p| repo.display(&RepoPath::new(p.as_str())))
        .collect();
    Err(failed_with_hint(
        format!("not in the cache, so not checked out: {}", shown.join(", ")),
        "run `git mlv pull` to fetch them from a remote",
    ))
}
