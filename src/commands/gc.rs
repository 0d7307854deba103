//! `git mlv gc [--dry-run] [--all-commits] [--drop-unpushed]`: free cache space.

use super::common;
use crate::hash::Hash;
use crate::repo::Repo;
use crate::ui::{self, Ui};
use std::collections::HashSet;

#[derive(clap::Args)]
pub struct Args {
    /// List what would be removed and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Keep what any commit reachable from the roots references, not only their tips
    #[arg(long)]
    pub all_commits: bool,
    /// Also remove objects that no remote holds (their last copy)
    #[arg(long)]
    pub drop_unpushed: bool,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    if repo.config.cache.shared {
        return Err(crate::error::usage(
            "the cache is shared between repositories (`cache.shared = true`), and one repository cannot see the others' refs, so gc would delete their data\nhint: collect garbage by hand, or turn sharing off",
        ));
    }
    let _lock = repo.lock(ui)?;
    let cache = repo.cache()?;
    let keep = crate::gc::referenced(&repo, &cache, args.all_commits)?;
    let mut candidates: Vec<Hash> = cache
        .list()?
        .into_iter()
        .filter(|h| !keep.contains(h))
        .collect();
    candidates.sort();
    let mut unpushed = 0usize;
    if !args.drop_unpushed && !candidates.is_empty() {
        // An object is safe to drop only when some remote holds it.
        let mut on_a_remote: HashSet<Hash> = HashSet::new();
        let names: Vec<String> = repo.config.remotes.keys().cloned().collect();
        let rt = common::runtime()?;
        for name in &names {
            let (_, engine) = common::engine(&repo, Some(name), None)?;
            let missing = rt.block_on(engine.missing(&candidates)).map_err(|e| {
                anyhow::Error::from(e).context(format!(
                    "asking remote `{name}` which objects it holds; nothing was removed"
                ))
            })?;
            on_a_remote.extend(candidates.iter().filter(|h| !missing.contains(h)));
        }
        let before = candidates.len();
        candidates.retain(|h| on_a_remote.contains(h));
        unpushed = before - candidates.len();
    }
    let mut freed = 0u64;
    let mut removed = Vec::new();
    for h in &candidates {
        let path = cache.object_path(h);
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        if !args.dry_run {
            fs_err::remove_file(&path)?;
        }
        freed += size;
        removed.push(h.to_string());
    }
    if ui.json {
        ui.print_json(&serde_json::json!({
            "dry_run": args.dry_run, "removed": removed, "freed_bytes": freed,
            "kept_referenced": keep.len(), "kept_unpushed": unpushed,
        }))?;
    } else {
        if args.dry_run {
            for r in &removed {
                ui.out(&format!("would remove {r}"))?;
            }
        }
        let verb = if args.dry_run { "would free" } else { "freed" };
        ui.info(&format!(
            "{verb} {} in {} object(s); kept {} referenced and {unpushed} that no remote holds",
            ui::size(freed),
            removed.len(),
            keep.len()
        ));
        if unpushed > 0 {
            ui.hint("`git mlv push` them (or run gc with `--drop-unpushed`) to free those too");
        }
    }
    Ok(())
}
