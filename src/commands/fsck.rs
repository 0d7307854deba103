//! `git mlv fsck [-r R]`: re-hash every object in the cache, or on a remote, and name the bad ones.

use super::common;
use crate::hash::Hash;
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
    #[arg(short = 'j', long = "jobs")]
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
            (
                format!("the cache at `{}`", cache.root().display()),
                objects.len(),
                bad,
            )
        }
        Some(_) => {
            let (name, engine) = common::engine(&repo, args.remote.as_deref(), args.jobs)?;
            let rt = common::runtime()?;
            let listed = rt
                .block_on(engine.list_objects())
                .map_err(anyhow::Error::from)?;
            // A remote that cannot list (plain HTTP) is checked for what this checkout references.
            let objects: Vec<Hash> = match listed {
                Some(objects) => objects.into_iter().map(|(h, _)| h).collect(),
                None => referenced(&repo, &cache)?,
            };
            let bad: Vec<Bad> = rt.block_on(
                futures::stream::iter(objects.iter().copied())
                    .map(|h| {
                        let engine = &engine;
                        async move {
                            match engine.rehash_remote(&h).await {
                                Ok(actual) if actual == h => None,
                                Ok(actual) => Some(Bad {
                                    object: h.to_string(),
                                    problem: format!("content hashes to {actual}"),
                                }),
                                Err(e) => Some(Bad {
                                    object: h.to_string(),
                                    problem: e.to_string(),
                                }),
                            }
                        }
                    })
                    .buffer_unordered(engine.jobs())
                    .filter_map(|x| async move { x })
                    .collect(),
            );
            (
                format!("remote `{name}` ({})", engine.url()),
                objects.len(),
                bad,
            )
        }
    };
    if ui.json {
        ui.print_json(&serde_json::json!({ "checked": checked, "bad": bad }))?;
    } else {
        for b in &bad {
            ui.out(&format!("bad {}: {}", b.object, b.problem))?;
        }
        ui.info(&format!(
            "checked {checked} object(s) in {place}: {} bad",
            bad.len()
        ));
    }
    if bad.is_empty() {
        Ok(())
    } else {
        // The cache is repaired from elsewhere (a remote, or the data itself); a remote is
        // repaired by pushing from a machine whose cache verifies.
        let fix = match &args.remote {
            None => {
                "delete the files named above from the cache, then fetch good copies with `git mlv fetch` (or re-store them from a good copy of the data with `git mlv add`)"
            }
            Some(_) => "remove them, then push them again from a copy that verifies",
        };
        Err(crate::error::failed(format!(
            "{} bad object(s) in {place}\nhint: {fix}",
            bad.len()
        )))
    }
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
