//! The run cache: `runs/<key>` records of finished runs in the cache, keyed by the exact
//! command and inputs, and restoring such a run instead of running the command again.

use crate::cache::Cache;
use crate::hash::Hash;
use crate::lockfile::{OutEntry, StageLock};
use crate::paths::RepoPath;
use crate::pointer::Pointer;
use crate::project::Stage;
use crate::repo::{Repo, Tracked};
use crate::stat_cache::StatCache;

use super::inputs::Inputs;

/// The run cache key: the exact command, where and how it runs, and its inputs.
pub fn run_key(stage: &Stage, now: &Inputs) -> Hash {
    let key = serde_json::json!({
        "cmd": stage.cmd,
        "wdir": stage.wdir.as_ref().map(RepoPath::as_str),
        "env": stage.env,
        "deps": now.deps,
        "params": now.params,
        "outs": stage.outs.iter().map(RepoPath::as_str).collect::<Vec<_>>(),
        "metrics": stage.metrics.iter().map(RepoPath::as_str).collect::<Vec<_>>(),
    });
    Hash::of(key.to_string().as_bytes())
}

fn run_record_path(cache: &Cache, key: &Hash) -> std::path::PathBuf {
    cache.root().join("runs").join(key.hex())
}

/// A previous run with the same key whose outs and metrics are all still in the cache.
pub fn cached_run(cache: &Cache, key: &Hash) -> Option<StageLock> {
    let text = std::fs::read_to_string(run_record_path(cache, key)).ok()?;
    let run: StageLock = toml::from_str(&text).ok()?;
    let file_there = |o: &OutEntry| match o.files {
        None => cache.contains(&o.hash),
        Some(_) => cache
            .read_verified(&o.hash)
            .ok()
            .and_then(|b| crate::manifest::Manifest::from_bytes(&b, &o.hash).ok())
            .is_some_and(|m| {
                let hashes: Vec<Hash> = m.entries().iter().map(|e| e.hash).collect();
                cache.missing(&hashes).is_ok_and(|m| m.is_empty())
            }),
    };
    let all_there =
        run.outs.values().all(file_there) && run.metrics.values().all(|h| cache.contains(h));
    all_there.then_some(run)
}

/// Remembers a finished run for the run cache; losing the record only costs a re-run.
pub fn remember_run(cache: &Cache, key: &Hash, run: &StageLock) -> std::io::Result<()> {
    let path = run_record_path(cache, key);
    fs_err::create_dir_all(path.parent().expect("runs/ folder"))?;
    let text = toml::to_string(run).expect("lock values are plain TOML");
    crate::fsutil::write_atomic(&path, text.as_bytes())
}

/// Puts a cached run's outs (pointers, `.gitignore`, data) and metrics files in place.
/// Returns false, changing nothing, when that would overwrite workspace content the cache
/// does not hold (a hand-edited out): the stage then runs as if nothing were cached.
pub fn restore_run(
    repo: &Repo,
    cache: &Cache,
    stat: &mut StatCache,
    run: &StageLock,
) -> anyhow::Result<bool> {
    let mut plan = crate::restore::Plan::default();
    let target = crate::restore::Target {
        dest_root: repo.root(),
        force: false,
    };
    let mut pointers = Vec::new();
    for (path, o) in &run.outs {
        let path = RepoPath::new(path.as_str());
        let pointer = match o.files {
            Some(n) => Pointer::dir(o.hash, o.size, n),
            None => Pointer::file(o.hash, o.size),
        };
        let pointer = match repo.load_pointer(&path) {
            Ok(old) => pointer.keeping_extra_of(&old),
            Err(_) => pointer,
        };
        let tracked = Tracked { path, pointer };
        crate::restore::plan(
            repo,
            cache,
            stat,
            &tracked,
            &Default::default(),
            &target,
            &mut plan,
        )?;
        pointers.push(tracked);
    }
    if !plan.conflicts.is_empty() || !plan.missing.is_empty() {
        return Ok(false);
    }
    for t in &pointers {
        let abs = t.path.pointer().to_abs(repo.root());
        crate::fsutil::write_atomic(&abs, t.pointer.render().as_bytes())?;
        crate::gitignore::ensure(repo.root(), &t.path)?;
    }
    crate::restore::apply(repo, cache, stat, plan, &[], &crate::progress::NoProgress)?;
    for (path, hash) in &run.metrics {
        let bytes = cache.read_verified(hash)?;
        crate::fsutil::write_atomic(&RepoPath::new(path.as_str()).to_abs(repo.root()), &bytes)?;
    }
    Ok(true)
}
