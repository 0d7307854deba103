//! Recording a stage: clearing its cache-linked outs before the command runs, and after it
//! succeeded, tracking its outs like `add` and building its `mlv.lock` entry.

use super::inputs::Inputs;
use crate::cache::Cache;
use crate::lockfile::{LockFile, OutEntry, StageLock};
use crate::paths::RepoPath;
use crate::project::Stage;
use crate::repo::Repo;
use crate::stat_cache::StatCache;
use crate::workspace;
use std::collections::BTreeMap;

/// Before a stage's command runs: removes outs that are read-only links into the cache
/// (hardlink/symlink link types), so the command writes new files instead of through them.
/// Only links go: a file with another hard link, or a symlink into the cache, loses no bytes.
pub fn unlink_cached_outs(repo: &Repo, stage: &Stage) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt;
    if !repo.config.links_read_only() {
        return Ok(());
    }
    let cache_root = repo.cache_dir();
    for out in &stage.outs {
        let abs = out.to_abs(repo.root());
        let Ok(meta) = std::fs::symlink_metadata(&abs) else {
            continue;
        };
        let files: Vec<(std::path::PathBuf, workspace::Kind, u64)> = if meta.is_dir() {
            workspace::list_dir(repo.root(), &abs, &cache_root)?
                .into_iter()
                .map(|f| {
                    let file = f.abs(&abs);
                    let nlink = std::fs::symlink_metadata(&file).map_or(1, |m| m.nlink());
                    (file, f.kind, nlink)
                })
                .collect()
        } else {
            let nlink = meta.nlink();
            let (_, kind) = workspace::classify(&abs, meta, &cache_root)?;
            vec![(abs, kind, nlink)]
        };
        for (abs, kind, nlink) in files {
            let linked = match kind {
                workspace::Kind::CacheLink(_) => true,
                workspace::Kind::Regular => nlink > 1,
                workspace::Kind::Other(_) => false,
            };
            if linked {
                fs_err::remove_file(&abs)?;
            }
        }
    }
    Ok(())
}

/// After a stage's command succeeded: tracks its outs like `add`, keeps its metrics'
/// bytes in the cache, and returns its new lock entry.
pub fn record(
    repo: &Repo,
    cache: &Cache,
    stat: &mut StatCache,
    stage: &Stage,
    now: &Inputs,
) -> anyhow::Result<StageLock> {
    // Every product must be there before any is tracked, so a failure records nothing.
    if let Some(absent) = stage
        .products()
        .find(|p| std::fs::symlink_metadata(p.to_abs(repo.root())).is_err())
    {
        return Err(crate::problem::failed_with_hint(
            format!(
                "stage `{}` finished but did not write `{absent}`; nothing was recorded for it",
                stage.name
            ),
            "fix the command or `outs`/`metrics` in mlv.toml",
        ));
    }
    let mut outs = BTreeMap::new();
    // One walk of the work tree; each out tracked here joins the list for the next check.
    let mut tracked = repo.tracked_paths()?;
    for out in &stage.outs {
        let meta = crate::track::check_addable(repo, &tracked, out)?;
        let added = crate::track::add(repo, cache, stat, out, &meta, &crate::progress::NoProgress)?;
        outs.insert(
            out.to_string(),
            OutEntry {
                hash: added.pointer.hash,
                size: added.pointer.size,
                files: added.pointer.files,
            },
        );
        tracked.push(added.path);
    }
    let mut metrics = BTreeMap::new();
    for m in &stage.metrics {
        let bytes = fs_err::read(m.to_abs(repo.root()))?;
        metrics.insert(m.to_string(), cache.insert_bytes(&bytes)?);
    }
    let deps = now
        .deps
        .iter()
        .filter_map(|(d, h)| h.map(|h| (d.clone(), h)))
        .collect();
    Ok(StageLock {
        cmd: stage.cmd.clone(),
        deps,
        params: now.params.clone(),
        outs,
        metrics,
    })
}

/// Writes a stage's new lock entry at once, so a later stage's failure keeps it.
pub(super) fn write_entry(
    repo: &Repo,
    lock: &mut LockFile,
    stat: &mut StatCache,
    stage: &Stage,
    run: StageLock,
) -> anyhow::Result<()> {
    lock.stages.insert(stage.name.clone(), run);
    lock.save(repo.root())?;
    stat.save()?;
    Ok(())
}

/// The files in git that recording `stage` changed: its outs' pointers and `.gitignore`
/// entries, and its metrics files.
pub(super) fn committed_files(repo: &Repo, stage: &Stage) -> Vec<RepoPath> {
    let mut files = Vec::new();
    for out in &stage.outs {
        files.push(out.pointer());
        files.push(crate::gitignore::file_for(out));
    }
    // A stage may leave a declared metrics file unwritten; `git add` would refuse the whole
    // line for it.
    files.extend(
        stage
            .metrics
            .iter()
            .filter(|m| m.to_abs(repo.root()).exists())
            .cloned(),
    );
    files
}
