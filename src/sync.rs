//! Moving tracked data between the cache and a remote: which objects a selection needs,
//! push (files first, each directory's manifest only after all its files), fetch
//! (manifests first, then the files they list), and what a remote lacks.

use crate::cache::{Cache, CacheError};
use crate::hash::{Hash, SortedHashes};
use crate::manifest::Manifest;
use crate::pathspec::Scope;
use crate::progress::Progress;
use crate::repo::{Selection, Tracked};
use crate::transfer::{Engine, Failure, Summary};
use anyhow::Context;
use std::collections::HashMap;

/// The objects one tracked path needs, as far as the cache can tell.
struct Needed {
    /// File objects with their sizes.
    files: Vec<(Hash, u64)>,
    /// A directory's manifest (hash, byte size), which must reach a remote last.
    manifest: Option<(Hash, u64)>,
}

/// What a tracked path needs, read from the cache (`None` when a directory's manifest is not
/// there); `scope` limits a directory to the files selected. A pointer whose size disagrees
/// with its object (or manifest) is refused, naming it.
fn needed(cache: &Cache, t: &Tracked, scope: &Scope) -> anyhow::Result<Option<Needed>> {
    if !t.pointer.is_dir() {
        t.check_sizes(cache, None)?;
        return Ok(Some(Needed {
            files: vec![(t.pointer.hash, t.pointer.size)],
            manifest: None,
        }));
    }
    // Only each entry's hash and size are kept, as the manifest streams in: the parsed
    // manifest (about 100 MB at a million files) was held beside this list.
    let mut files = Vec::new();
    let streamed = Manifest::stream_cached(cache, &t.pointer.hash, |e| {
        if scope.covers(&t.path, &e.path) {
            files.push((e.hash, e.size));
        }
    });
    let totals = match streamed {
        // A manifest refused as unsafe keeps its own error (exit 2), naming the directory.
        Ok(m) => m.with_context(|| format!("the manifest of `{}`", t.path))?,
        Err(CacheError::Missing { .. }) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let manifest_size = fs_err::metadata(cache.object_path(&t.pointer.hash))?.len();
    t.check_totals(totals)?;
    Ok(Some(Needed {
        files,
        manifest: Some((t.pointer.hash, manifest_size)),
    }))
}

/// The result of a push: the transfer summary and the tracked paths that could not be
/// pushed because the cache lacks their data.
#[derive(Debug, Default, serde::Serialize)]
pub struct PushReport {
    #[serde(flatten)]
    pub summary: Summary,
    pub not_in_cache: Vec<String>,
}

pub async fn push(
    cache: &Cache,
    engine: &Engine,
    selected: &Selection,
    progress: &dyn Progress,
) -> anyhow::Result<PushReport> {
    let mut report = PushReport::default();
    // Every file in the manifests' order, so that a folder's files sit together in a pack,
    // and each manifest's range of them: 40 bytes a file, no per-file set or map.
    let mut listed: Vec<(Hash, u64)> = Vec::new();
    let mut manifests: Vec<(Hash, u64, std::ops::Range<usize>)> = Vec::new();
    // A directory goes up whole: its manifest is only worth having with all its files.
    for (t, _) in selected {
        let Some(need) = needed(cache, t, &Scope::default())? else {
            report.not_in_cache.push(t.path.to_string());
            continue;
        };
        if need.files.iter().any(|(h, _)| !cache.contains(h)) {
            report.not_in_cache.push(t.path.to_string());
            continue;
        }
        let start = listed.len();
        listed.extend(need.files);
        if let Some((h, size)) = need.manifest {
            manifests.push((h, size, start..listed.len()));
        }
    }
    engine.check_format(true).await?;
    let mut all: Vec<(Hash, Option<u64>)> = listed
        .iter()
        .map(|(h, s)| (*h, Some(*s)))
        .chain(manifests.iter().map(|m| (m.0, Some(m.1))))
        .collect();
    all.sort_unstable_by_key(|o| o.0);
    all.dedup_by_key(|o| o.0);
    let missing = engine.missing(&all).await?;
    let present = all.len() - missing.len();
    drop(all);
    // Each missing file once, at its first place in the manifests' order.
    let mut queued = vec![false; missing.len()];
    let uploads: Vec<(Hash, u64)> = listed
        .iter()
        .filter(|(h, _)| {
            missing
                .position(h)
                .is_some_and(|i| !std::mem::replace(&mut queued[i], true))
        })
        .copied()
        .collect();
    drop(queued);
    let manifest_uploads: Vec<&(Hash, u64, std::ops::Range<usize>)> = manifests
        .iter()
        .filter(|m| missing.contains(&m.0))
        .collect();
    drop(missing);
    progress.start(
        (uploads.len() + manifest_uploads.len()) as u64,
        uploads.iter().map(|u| u.1).sum::<u64>()
            + manifest_uploads.iter().map(|m| m.1).sum::<u64>(),
    );
    let mut summary = engine.upload_files(cache, uploads, progress).await;
    let failed: SortedHashes = summary
        .failed
        .iter()
        .filter_map(|f| f.object.parse().ok())
        .collect();
    // A manifest goes up only once every file it lists is on the remote.
    let (ready, blocked): (Vec<_>, Vec<_>) = manifest_uploads
        .into_iter()
        .partition(|m| listed[m.2.clone()].iter().all(|(f, _)| !failed.contains(f)));
    for m in blocked {
        summary.failed.push(Failure {
            object: m.0.to_string(),
            error: "directory manifest held back because some of its files failed to upload".into(),
        });
    }
    summary.merge(
        engine
            .upload(cache, ready.iter().map(|m| (m.0, m.1)).collect(), progress)
            .await,
    );
    summary.present = present as u64;
    report.summary = summary;
    Ok(report)
}

/// Downloads the manifests of the selected directories that the cache lacks, so that a
/// pathspec reaching into them can be judged against their files. The caller has checked
/// the remote's format (`Engine::check_format`), once per command.
pub async fn fetch_manifests(
    cache: &Cache,
    engine: &Engine,
    selected: &Selection,
    progress: &dyn Progress,
) -> anyhow::Result<Summary> {
    let manifests: Vec<(Hash, Option<u64>)> = selected
        .iter()
        .filter(|(t, _)| t.pointer.is_dir() && !cache.contains(&t.pointer.hash))
        .map(|(t, _)| (t.pointer.hash, None))
        .collect::<HashMap<_, _>>()
        .into_iter()
        .collect();
    // Manifests are a phase of their own: the files' total is known only once they are here.
    progress.start(manifests.len() as u64, 0);
    Ok(engine.download(cache, manifests, progress).await)
}

/// Downloads what the selection needs and the cache lacks: manifests first, then files.
/// The caller has checked the remote's format, as for [`fetch_manifests`].
pub async fn fetch(
    cache: &Cache,
    engine: &Engine,
    selected: &Selection,
    progress: &dyn Progress,
) -> anyhow::Result<Summary> {
    let mut summary = fetch_manifests(cache, engine, selected, progress).await?;
    let mut files: HashMap<Hash, u64> = HashMap::new();
    let mut present = 0u64;
    for (t, scope) in selected {
        // Without its manifest (its download failed above, already reported) it is skipped.
        let Some(need) = needed(cache, t, scope)? else {
            continue;
        };
        for (h, size) in need.files {
            if cache.contains(&h) {
                present += 1;
            } else {
                files.insert(h, size);
            }
        }
    }
    progress.start(files.len() as u64, files.values().sum());
    let files: Vec<(Hash, Option<u64>)> = files.into_iter().map(|(h, s)| (h, Some(s))).collect();
    summary.merge(engine.download(cache, files, progress).await);
    summary.present += present;
    // A file's object, now verified in the cache, shows whether its pointer's size is right.
    for (t, _) in selected {
        t.check_sizes(cache, None)?;
    }
    Ok(summary)
}

/// True when the cache holds every object the selected part of `t` needs (a directory's
/// manifest too).
pub fn in_cache(cache: &Cache, t: &Tracked, scope: &Scope) -> anyhow::Result<bool> {
    Ok(needed(cache, t, scope)?.is_some_and(|n| n.files.iter().all(|(h, _)| cache.contains(h))))
}

/// For each tracked path, how many of its objects the remote lacks (`status -r`).
pub async fn missing_on_remote(
    cache: &Cache,
    engine: &Engine,
    selected: &Selection,
) -> anyhow::Result<Vec<(String, usize)>> {
    // Each path's objects are a range of `all`: per-path copies of them, and a copy of
    // each manifest's list on the way, were 120 MB more at a million files.
    let mut per_path: Vec<(String, std::ops::Range<usize>)> = Vec::new();
    let mut all = Vec::new();
    for (t, _) in selected {
        let start = all.len();
        match needed(cache, t, &Scope::default())? {
            Some(n) => all.extend(
                n.files
                    .iter()
                    .chain(n.manifest.as_ref())
                    .map(|(h, s)| (*h, Some(*s))),
            ),
            // Without the manifest locally, ask only for the manifest itself.
            None => all.push((t.pointer.hash, None)),
        }
        per_path.push((t.path.to_string(), start..all.len()));
    }
    let missing = engine.missing(&all).await?;
    Ok(per_path
        .into_iter()
        .map(|(p, range)| {
            let lacking = all[range].iter().filter(|(h, _)| missing.contains(h));
            (p, lacking.count())
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Entry;
    use crate::paths::RepoPath;
    use crate::pointer::Pointer;
    use crate::progress::tests::Recorder;

    /// Issue 13: a fetch drew "(1/0 files)" for the manifest, then "(304/303 files)": each
    /// phase must count against its own total.
    #[test]
    fn push_and_fetch_never_count_past_their_totals() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = Cache::open(&tmp.path().join("cache"), false).unwrap();
        let entries: Vec<Entry> = (0..5)
            .map(|i| {
                let bytes = format!("file {i}");
                Entry {
                    path: format!("f{i}"),
                    hash: cache.insert_bytes(bytes.as_bytes()).unwrap(),
                    size: bytes.len() as u64,
                    exec: false,
                }
            })
            .collect();
        let manifest = Manifest::new(entries);
        let hash = cache.insert_bytes(&manifest.to_bytes()).unwrap();
        let tracked = Tracked {
            path: RepoPath::new("data"),
            pointer: Pointer::dir(hash, manifest.total_size(), 5),
        };
        let selected = vec![(tracked, crate::pathspec::Scope::default())];
        let config = crate::config::RemoteConfig {
            url: tmp.path().join("remote").display().to_string(),
            ..Default::default()
        };
        let engine = Engine::new(
            crate::remote::open("r", &config, &tmp.path().join("repo")).unwrap(),
            4,
        );
        // Multi-threaded, as the commands run it: the folder backend reads in `block_in_place`.
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let pushed = Recorder::default();
        rt.block_on(push(&cache, &engine, &selected, &pushed))
            .unwrap();
        assert_eq!(pushed.labels.lock().unwrap().last().unwrap(), "(6/6 files)");
        let fresh = Cache::open(&tmp.path().join("fresh"), false).unwrap();
        let fetched = Recorder::default();
        rt.block_on(fetch(&fresh, &engine, &selected, &fetched))
            .unwrap();
        let labels = fetched.labels.lock().unwrap();
        assert!(labels.contains(&"(1/1 file)".to_string()), "{labels:?}");
        assert_eq!(labels.last().unwrap(), "(5/5 files)", "{labels:?}");
    }
}
