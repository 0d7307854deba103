//! `git mlv gc [--dry-run] [--all-commits] [--drop-unpushed]`: free cache space.

use super::common;
use crate::cache::Access;
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
    /// Collect garbage on this remote instead of the local cache (needs --force)
    #[arg(short = 'r', long = "remote")]
    pub remote: Option<String>,
    /// Confirm removing objects from a remote the team shares
    #[arg(long)]
    pub force: bool,
}

/// Temporary files of interrupted writes and downloads untouched this long are removed.
const TEMP_AGE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Objects younger than this stay on a remote: a teammate's pre-push uploads data before
/// their refs move, so new objects may not be referenced by any ref yet.
const REMOTE_GRACE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    if repo.config.cache.shared {
        return Err(crate::error::usage(
            "the cache is shared between repositories (`cache.shared = true`), and one repository cannot see the others' refs, so gc would delete their data\nhint: collect garbage by hand, or turn sharing off",
        ));
    }
    let cache = repo.cache()?;
    // Alone in the cache: no writer in any worktree is between storing objects and
    // recording them in a pointer or `mlv.lock`. A dry run removes nothing.
    let access = if args.dry_run {
        Access::Shared
    } else {
        Access::Exclusive
    };
    let _cache_lock = common::lock_cache(&cache, access, ui)?;
    let _lock = common::lock_repo(&repo, ui)?;
    if args.remote.is_some() {
        return remote_gc(&repo, &cache, &args, ui);
    }
    let roots = gc_roots(&repo, args.all_commits, ui)?;
    let keep = crate::gc::referenced(&repo, &cache, &roots)?;
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
        // With their sizes: a remote copy of another size is a bad one, not a safe copy.
        let sized: Vec<(Hash, Option<u64>)> = candidates
            .iter()
            .map(|h| {
                (
                    *h,
                    std::fs::metadata(cache.object_path(h))
                        .ok()
                        .map(|m| m.len()),
                )
            })
            .collect();
        for name in &names {
            let (_, engine) = common::engine(&repo, Some(name), None)?;
            let missing = rt.block_on(engine.missing(&sized)).map_err(|e| {
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
    let mut temp = cache.stale_temp_files(TEMP_AGE)?;
    // Killed checkouts and adds leave theirs in the work tree, with the same grace.
    temp.extend(crate::workspace::stale_temp_files(
        repo.root(),
        &repo.tracked_paths()?,
        std::time::SystemTime::now() - TEMP_AGE,
    )?);
    let temp_bytes: u64 = temp.iter().map(|t| t.1).sum();
    if !args.dry_run {
        remove_files(&temp)?;
    }
    if ui.json {
        ui.print_json(&serde_json::json!({
            "dry_run": args.dry_run, "removed": removed, "freed_bytes": freed,
            "kept_referenced": keep.len(), "kept_unpushed": unpushed,
            "temp_files": temp.len(), "temp_bytes": temp_bytes,
        }))?;
    } else {
        if args.dry_run {
            for r in &removed {
                ui.out(&format!("would remove {r}"))?;
            }
            for (path, _) in &temp {
                ui.out(&format!("would remove {}", path.display()))?;
            }
        }
        let verb = if args.dry_run { "would free" } else { "freed" };
        ui.info(&format!(
            "{verb} {} in {}; kept {} referenced and {unpushed} that no remote holds",
            ui::size(freed),
            ui::count(removed.len() as u64, "object"),
            keep.len()
        ));
        temp_line(ui, verb, &temp, temp_bytes);
        if unpushed > 0 {
            ui.hint("`git mlv push` them (or run gc with `--drop-unpushed`) to free those too");
        }
    }
    Ok(())
}

/// `gc -r R --force`: removes from the remote only objects that no commit on any ref
/// reaches and that are older than the grace period.
fn remote_gc(repo: &Repo, cache: &crate::cache::Cache, args: &Args, ui: &Ui) -> anyhow::Result<()> {
    if !args.force && !args.dry_run {
        return Err(crate::error::usage(
            "`gc -r` deletes objects from storage the whole team shares\nhint: look first with `--dry-run`, then run it with `--force`",
        ));
    }
    let (name, engine) = common::engine(repo, args.remote.as_deref(), None)?;
    if !args.dry_run {
        common::check_writable(repo, &name, "`gc -r --force`")?;
    }
    let rt = common::runtime()?;
    let Some(listed) = rt.block_on(engine.list_objects())? else {
        return Err(crate::error::usage(format!(
            "remote `{name}` ({}) cannot list its objects (plain HTTP), so gc cannot tell what is unreferenced",
            engine.url()
        )));
    };
    // Manifests of every ref's pointers are needed to know the files they list.
    let roots = gc_roots(repo, true, ui)?;
    let everything: Vec<(crate::repo::Tracked, Option<String>)> = {
        let mut out = Vec::new();
        for c in &roots.commits {
            out.extend(
                repo.tracked_at(Some(c))?
                    .into_iter()
                    .filter(|t| t.pointer.is_dir())
                    .map(|t| (t, None)),
            );
        }
        out
    };
    let manifests: Vec<(Hash, Option<u64>)> = everything
        .iter()
        .map(|(t, _)| (t.pointer.hash, None))
        .filter(|(h, _)| !cache.contains(h))
        .collect();
    let fetched = rt.block_on(engine.download(cache, manifests, &crate::progress::NoProgress));
    common::failures(&name, &fetched)?;
    let keep = crate::gc::referenced(repo, cache, &roots)?;
    let now = std::time::SystemTime::now();
    let mut young = 0usize;
    let doomed: Vec<Hash> = listed
        .into_iter()
        .filter(|(h, _)| !keep.contains(h))
        .filter(|(_, modified)| {
            let old = now
                .duration_since(*modified)
                .is_ok_and(|age| age >= REMOTE_GRACE);
            young += usize::from(!old);
            old
        })
        .map(|(h, _)| h)
        .collect();
    let failed = if args.dry_run {
        Vec::new()
    } else {
        rt.block_on(engine.delete(&doomed))
    };
    // Packs: repacked, dropped, orphans removed (see `transfer::Sweep`).
    let sweep = rt
        .block_on(engine.sweep_packs(cache, &keep, REMOTE_GRACE, args.dry_run))?
        .unwrap_or_default();
    // Killed uploads to a folder leave their temporary files; object stores keep none.
    let temp = engine.stale_uploads(REMOTE_GRACE)?;
    let temp_bytes: u64 = temp.iter().map(|t| t.1).sum();
    if !args.dry_run {
        remove_files(&temp)?;
    }
    let removed: Vec<String> = doomed.iter().map(Hash::to_string).collect();
    if ui.json {
        ui.print_json(&serde_json::json!({
            "remote": name, "dry_run": args.dry_run, "removed": removed,
            "kept_referenced": keep.len(), "kept_young": young, "failed": failed,
            "temp_files": temp.len(), "temp_bytes": temp_bytes, "packs": sweep,
        }))?;
    } else {
        for r in removed.iter().filter(|_| args.dry_run) {
            ui.out(&format!("would remove {r}"))?;
        }
        for (path, _) in temp.iter().filter(|_| args.dry_run) {
            ui.out(&format!("would remove {}", path.display()))?;
        }
        let verb = if args.dry_run {
            "would remove"
        } else {
            "removed"
        };
        ui.info(&format!(
            "{verb} {} from remote `{name}`; kept {} referenced and {young} younger than 24 h",
            ui::count((removed.len() - failed.len()) as u64, "object"),
            keep.len()
        ));
        temp_line(ui, verb, &temp, temp_bytes);
        pack_lines(ui, args.dry_run, &sweep)?;
    }
    let summary = crate::transfer::Summary {
        failed: failed.into_iter().chain(sweep.failed).collect(),
        ..Default::default()
    };
    common::failures(&name, &summary)
}

/// The roots, warning about worktrees deleted by hand: git still keeps their HEAD, which
/// stays a root, but their work tree and index are gone (as `git worktree list` says).
fn gc_roots(repo: &Repo, all_commits: bool, ui: &Ui) -> anyhow::Result<crate::gitx::GcRoots> {
    let roots = repo.git.gc_roots(all_commits)?;
    for wt in &roots.missing_worktrees {
        ui.warn(&format!(
            "worktree `{}` is missing, so its work tree and index are not roots (its HEAD still is); `git worktree prune` forgets it",
            wt.display()
        ));
    }
    Ok(roots)
}

/// Removes files (temporary ones that interrupted writes left); one already gone is fine.
fn remove_files(files: &[(std::path::PathBuf, u64)]) -> anyhow::Result<()> {
    for (path, _) in files {
        if let Err(e) = fs_err::remove_file(path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            return Err(e.into());
        }
    }
    Ok(())
}

fn temp_line(ui: &Ui, verb: &str, temp: &[(std::path::PathBuf, u64)], bytes: u64) {
    if !temp.is_empty() {
        ui.info(&format!(
            "{verb} {} in {} that interrupted writes or downloads left over a day ago",
            ui::size(bytes),
            ui::count(temp.len() as u64, "temporary file")
        ));
    }
}

/// What the sweep of the remote's packs did: each pack in a dry run, then one line.
fn pack_lines(ui: &Ui, dry_run: bool, sweep: &crate::transfer::Sweep) -> anyhow::Result<()> {
    let acted = sweep.repacked.len() + sweep.dropped.len() + sweep.orphans_removed.len();
    if acted + sweep.kept_young + sweep.orphans_kept == 0 {
        return Ok(());
    }
    if dry_run {
        for r in &sweep.repacked {
            ui.out(&format!(
                "would repack {} ({} live of {})",
                r.pack,
                ui::size(r.live_bytes),
                ui::size(r.bytes)
            ))?;
        }
        for p in &sweep.dropped {
            ui.out(&format!("would drop the index of {p} (no live object)"))?;
        }
        for p in &sweep.orphans_removed {
            ui.out(&format!("would remove {p} (a pack without an index)"))?;
        }
    }
    let (repack, drop, remove) = if dry_run {
        ("would repack", "would drop", "would remove")
    } else {
        ("repacked", "dropped", "removed")
    };
    let packs = |n: usize| ui::count(n as u64, "pack");
    ui.info(&format!(
        "{repack} {} under half live, {drop} the index of {} with no live object, {remove} {} without an index ({}); kept {} younger than 24 h and {} without an index inside their 24 h",
        packs(sweep.repacked.len()),
        packs(sweep.dropped.len()),
        packs(sweep.orphans_removed.len()),
        ui::size(sweep.freed_bytes),
        packs(sweep.kept_young),
        sweep.orphans_kept,
    ));
    Ok(())
}
