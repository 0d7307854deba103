//! `git mlv fsck [-r R]`: re-hash every object in the cache, or on a remote, and name the bad ones.

use super::common;
use crate::hash::Hash;
use crate::remote::{ErrorKind, RemoteError};
use crate::repo::Repo;
use crate::ui::Ui;
use futures::StreamExt;
use rayon::prelude::*;

#[derive(clap::Args)]
pub struct Args {
    /// Check this remote's objects instead of the local cache
    #[arg(short = 'r', long = "remote")]
    pub remote: Option<String>,
    /// Transfers in flight at once (with `-r`)
    #[arg(short = 'j', long = "jobs", value_parser = common::parse_jobs)]
    pub jobs: Option<usize>,
}

#[derive(serde::Serialize)]
struct Bad {
    object: String,
    problem: String,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    let cache = repo.cache()?;
    // Remote objects that could not be checked (the server did not answer): the first error.
    let mut unchecked: Option<anyhow::Error> = None;
    // Pointers whose size disagrees with their object (the local check only).
    let mut bad_pointers: Vec<String> = Vec::new();
    // Packs on the remote without an index: invisible to readers, not an error.
    let mut orphans: Vec<crate::hash::Hash> = Vec::new();
    let (place, checked, bad) = match &args.remote {
        None => {
            let objects = cache.list()?;
            let bar = ui.bar("verifying");
            use crate::progress::Progress;
            bar.start(objects.len() as u64, 0);
            let bad: Vec<Bad> = objects
                .par_iter()
                .filter_map(|h| {
                    let r = cache.rehash(h);
                    bar.inc(1, 0);
                    match r {
                        Ok(actual) if actual == *h => None,
                        Ok(actual) => Some(Bad {
                            object: h.to_string(),
                            problem: format!(
                                "content hashes to {actual} (`{}`)",
                                cache.object_path(h).display()
                            ),
                        }),
                        Err(e) => Some(Bad {
                            object: h.to_string(),
                            problem: e.to_string(),
                        }),
                    }
                })
                .collect();
            bad_pointers = pointer_problems(&repo, &cache);
            (
                format!("the cache at `{}`", cache.root().display()),
                objects.len(),
                bad,
            )
        }
        Some(_) => {
            let (name, engine) = common::engine(&repo, args.remote.as_deref(), args.jobs)?;
            let place = format!("remote `{name}` ({})", engine.url());
            // A remote that does not answer (or refuses the credentials) cannot be checked:
            // that says nothing about its objects, so none is called bad.
            let cannot_check = |e: RemoteError| {
                let hint = e.hint.unwrap_or_else(|| format!(
                    "check that the server is up and reachable and that the credentials are right (`git mlv remote list`), then run `git mlv fsck -r {name}` again"
                ));
                crate::error::failed_with_hint(format!("cannot check {place}: {}", e.detail), hint)
            };
            let rt = common::runtime()?;
            rt.block_on(engine.check_format(false))
                .map_err(cannot_check)?;
            let listed = rt.block_on(engine.list_objects()).map_err(cannot_check)?;
            let packs = rt.block_on(engine.packs()).map_err(cannot_check)?;
            // A remote that cannot list (plain HTTP) is checked for what this checkout
            // references; its packed objects are checked in their packs below.
            let objects: Vec<Hash> = match listed {
                Some(objects) => objects.into_iter().map(|(h, _)| h).collect(),
                None => referenced(&repo, &cache)?
                    .into_iter()
                    .filter(|h| packs.find(h).is_none())
                    .collect(),
            };
            let results: Vec<Result<Option<Bad>, RemoteError>> = rt.block_on(
                futures::stream::iter(objects.iter().copied())
                    .map(|h| {
                        let engine = &engine;
                        async move {
                            match engine.rehash_remote(&h).await {
                                Ok(actual) if actual == h => Ok(None),
                                Ok(actual) => Ok(Some(Bad {
                                    object: h.to_string(),
                                    problem: format!("content hashes to {actual}"),
                                })),
                                Err(e)
                                    if matches!(
                                        e.kind,
                                        ErrorKind::Corrupt | ErrorKind::NotFound
                                    ) =>
                                {
                                    Ok(Some(Bad {
                                        object: h.to_string(),
                                        problem: e.text(),
                                    }))
                                }
                                Err(e) => Err(e),
                            }
                        }
                    })
                    .buffer_unordered(engine.jobs())
                    .collect(),
            );
            // Every packed object, read from its pack and hashed; a damaged index is bad.
            let (packed_count, packed) =
                rt.block_on(engine.verify_packs()).map_err(cannot_check)?;
            let checked = objects.len() + packed_count;
            orphans = rt.block_on(engine.orphan_packs()).map_err(cannot_check)?;
            let packed = packed.into_iter().map(|(h, e)| {
                match matches!(e.kind, ErrorKind::Corrupt | ErrorKind::NotFound) {
                    true => Ok(Some(Bad {
                        object: h.to_string(),
                        problem: e.to_string(),
                    })),
                    false => Err(e),
                }
            });
            let mut bad: Vec<Bad> = engine
                .damaged_indexes()
                .into_iter()
                .map(|(object, problem)| Bad { object, problem })
                .collect();
            for r in results.into_iter().chain(packed) {
                match r {
                    Ok(found) => bad.extend(found),
                    Err(e) if unchecked.is_none() => unchecked = Some(cannot_check(e)),
                    Err(_) => {}
                }
            }
            (place, checked, bad)
        }
    };
    if ui.json {
        ui.print_json(&serde_json::json!({
            "checked": checked,
            "bad": bad,
            "bad_pointers": bad_pointers,
            "complete": unchecked.is_none(),
            "orphan_packs": orphans.iter().map(crate::pack::pack_key).collect::<Vec<_>>(),
        }))?;
    } else {
        for b in &bad {
            ui.out(&format!("bad {}: {}", b.object, b.problem))?;
        }
        for p in &bad_pointers {
            ui.out(&format!("bad {p}"))?;
        }
        ui.info(&format!(
            "checked {} in {place}: {} bad",
            crate::ui::count(checked as u64, "object"),
            bad.len()
        ));
        if !orphans.is_empty() {
            let keys: Vec<String> = orphans.iter().map(crate::pack::pack_key).collect();
            ui.info(&format!(
                "{} without an index (a push or repack interrupted, or a repacked pack in its grace period; `git mlv gc -r <remote> --force` removes it a day on): {}",
                crate::ui::count(orphans.len() as u64, "pack"),
                keys.join(", ")
            ));
        }
    }
    if let Some(e) = unchecked {
        return Err(e);
    }
    if !bad.is_empty() {
        // The cache is repaired from elsewhere (a remote, or the data itself); a remote is
        // repaired by pushing from a machine whose cache verifies.
        let fix = match &args.remote {
            None => {
                "delete the files named above from the cache, then fetch good copies with `git mlv fetch` (or re-store them from a good copy of the data with `git mlv add`)"
            }
            Some(_) => "remove them, then push them again from a copy that verifies",
        };
        return Err(crate::error::failed(format!(
            "{} in {place}\nhint: {fix}",
            crate::ui::count(bad.len() as u64, "bad object")
        )));
    }
    if !bad_pointers.is_empty() {
        // A damaged pointer is a bad request, as everywhere else (exit 2).
        return Err(crate::error::usage(format!(
            "{} with the data their hash names\nhint: restore each with `git checkout -- <path>.mlv`, or re-add the data with `git mlv add <path>`",
            if bad_pointers.len() == 1 {
                "1 pointer disagrees".to_string()
            } else {
                format!("{} pointers disagree", bad_pointers.len())
            }
        )));
    }
    Ok(())
}

/// The work tree's pointers whose size (or file count) disagrees with the object their
/// hash names, each as ``<path>.mlv`: why``.
fn pointer_problems(repo: &Repo, cache: &crate::cache::Cache) -> Vec<String> {
    let tracked = match repo.tracked() {
        Ok(t) => t,
        Err(e) => return vec![crate::error::text(&e)],
    };
    tracked
        .iter()
        .filter_map(|t| {
            let manifest = match t.pointer.is_dir() {
                true => cache
                    .read_verified(&t.pointer.hash)
                    .ok()
                    .and_then(|b| crate::manifest::Manifest::from_bytes(&b, &t.pointer.hash).ok()),
                false => None,
            };
            t.check_sizes(cache, manifest.as_ref()).err()
        })
        .map(|e| e.to_string().lines().next().unwrap_or_default().to_string())
        .collect()
}

/// Every object the work tree's pointers reference: manifests and the files they list.
fn referenced(repo: &Repo, cache: &crate::cache::Cache) -> anyhow::Result<Vec<Hash>> {
    let mut out = Vec::new();
    for t in repo.tracked()? {
        out.push(t.pointer.hash);
        if t.pointer.is_dir()
            && let Ok(bytes) = cache.read_verified(&t.pointer.hash)
        {
            let m = crate::manifest::Manifest::from_bytes(&bytes, &t.pointer.hash)?;
            out.extend(m.entries().iter().map(|e| e.hash));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}
