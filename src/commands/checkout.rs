//! `git mlv checkout [<path>…]`: make workspace data match the pointer files.

use crate::cache::Access;
use crate::error::failed;
use crate::paths::RepoPath;
use crate::repo::Repo;
use crate::restore::{self, Plan};
use crate::ui::{self, Ui};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub paths: super::common::PathArgs,
    /// Overwrite or remove workspace files even when their content is not in the cache
    #[arg(long)]
    pub force: bool,
    /// Use the pointers committed at this git revision (read from git; no file in the work tree changes but the data)
    #[arg(long, value_name = "REV")]
    pub rev: Option<String>,
    /// Write the data under this folder, at the same relative paths, instead of the work tree
    #[arg(long, value_name = "DIR")]
    pub to: Option<PathBuf>,
}

/// What to check out, and where.
pub struct Request<'a> {
    pub paths: &'a [PathBuf],
    /// `--exclude` patterns.
    pub exclude: &'a [PathBuf],
    pub rev: Option<&'a str>,
    pub to: Option<&'a std::path::Path>,
    pub force: bool,
    /// Objects with a ready copy beside the cache, from the fetch just before (`pull`).
    pub ready_copies: &'a [crate::hash::Hash],
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    let _cache_lock = super::common::lock_cache(&repo.cache()?, Access::Shared, ui)?;
    let request = Request {
        paths: &args.paths.paths,
        exclude: &args.paths.exclude,
        rev: args.rev.as_deref(),
        to: args.to.as_deref(),
        force: args.force,
        ready_copies: &[],
    };
    let (summary, missing) = checkout(&repo, &request, ui)?;
    if ui.json {
        ui.print_json(&serde_json::json!({ "summary": summary, "missing_from_cache": missing }))?;
    } else {
        summary_line(ui, &summary, &missing);
    }
    missing_error(&repo, &missing)
}

/// Checks out the selected paths (the caller holds the cache lock); shared with `pull`,
/// `deploy` and the hooks. Returns what was done and the tracked
/// paths whose objects the cache lacks. Refuses (changing nothing) when unsaved work would be lost.
pub fn checkout(
    repo: &Repo,
    req: &Request,
    ui: &Ui,
) -> anyhow::Result<(restore::Summary, Vec<String>)> {
    let _lock = super::common::lock_repo(repo, ui)?;
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
        return Err(failed(format!(
            "checkout would overwrite or remove {} whose content is not in the cache; nothing was changed:\n{}{}\nhint: `git mlv add` them to keep the new data, or run `git mlv checkout --force` to discard it",
            crate::ui::count(plan.conflicts.len() as u64, "workspace file"),
            shown.join("\n"),
            if more > 0 {
                format!("\n  … and {more} more")
            } else {
                String::new()
            }
        )));
    }
    let missing = std::mem::take(&mut plan.missing);
    let bar = ui.bar("checkout");
    let summary = restore::apply(repo, &cache, &mut stat, plan, req.ready_copies, &bar);
    drop(bar);
    stat.save()?;
    Ok((summary?, missing))
}

pub fn summary_line(ui: &Ui, summary: &restore::Summary, missing: &[String]) {
    if summary.written + summary.removed > 0 {
        ui.info(&format!(
            "checked out {} ({}), removed {}, {} already up to date",
            ui::count(summary.written, "file"),
            ui::size(summary.bytes),
            summary.removed,
            summary.unchanged
        ));
    } else if missing.is_empty() {
        ui.info("data already matches its pointers");
    }
}

pub fn missing_error(repo: &Repo, missing: &[String]) -> anyhow::Result<()> {
    if missing.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = missing
        .iter()
        .map(|p| repo.display(&RepoPath::new(p.as_str())))
        .collect();
    Err(failed(format!(
        "not in the cache, so not checked out: {}\nhint: run `git mlv pull` to fetch them from a remote",
        shown.join(", ")
    )))
}
