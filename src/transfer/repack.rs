//! `gc -r` on packs: one listing of `packs/`, the plan (`pack::plan`), then, pack by pack,
//! a new pack and index of the live objects uploaded before the old index goes (after its
//! tombstone), and packs without an index removed once past the grace period. At every
//! step an index on the remote still means its pack is complete, and every live object is
//! in some indexed pack.

use super::packed::RUN_MAX;
use super::{Engine, Failure};
use crate::cache::Cache;
use crate::hash::{Hash, SortedHashes};
use crate::pack::{self, Built, Listing, PackWriter, Repack};
use crate::remote::{ErrorKind, Held, RemoteError};
use serde::Serialize;
use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// What a sweep of the remote's packs did (or, in a dry run, would do).
#[derive(Debug, Default, Serialize)]
pub struct Sweep {
    pub repacked: Vec<Repacked>,
    /// Packs with no live object whose index went.
    pub dropped: Vec<String>,
    /// Packs without an index past the grace period, removed.
    pub orphans_removed: Vec<String>,
    /// Packs without an index inside the grace period, kept.
    pub orphans_kept: usize,
    /// Indexed packs younger than the grace period, never touched.
    pub kept_young: usize,
    /// Bytes of the packs removed.
    pub freed_bytes: u64,
    #[serde(skip)]
    pub failed: Vec<Failure>,
}

#[derive(Debug, Serialize)]
pub struct Repacked {
    pub pack: String,
    /// The new pack of its live objects (`None` in a dry run).
    pub into: Option<String>,
    pub live_bytes: u64,
    pub bytes: u64,
}

const TOMBSTONE: &[u8] = b"git-mlv gc removed this pack's index; the pack goes once the grace period from then has passed\n";

impl Engine {
    /// Sweeps the remote's packs (`live`: what the refs need); a dry run only plans.
    /// `None` when the remote cannot list `packs/`.
    pub async fn sweep_packs(
        &self,
        cache: &Cache,
        live: &SortedHashes,
        grace: Duration,
        dry_run: bool,
    ) -> Result<Option<Sweep>, RemoteError> {
        let Some(listing) = self.pack_listing().await? else {
            return Ok(None);
        };
        // A damaged index is listed but not read: its pack is neither planned nor an orphan.
        let indexes = self.indexes_of(listing.indexes.keys().copied()).await?;
        let plan = pack::plan(&listing, &indexes, live, SystemTime::now(), grace);
        let mut sweep = Sweep {
            orphans_kept: plan.orphans_kept,
            kept_young: plan.kept_young,
            ..Sweep::default()
        };
        let doomed: HashSet<Hash> = plan
            .repack
            .iter()
            .map(|r| r.pack)
            .chain(plan.drop.iter().copied())
            .collect();
        let mut fail = |object: String, error: String| sweep.failed.push(Failure { object, error });
        let mut repacked = Vec::new();
        // Packs this sweep uploads: the plan may list one as an old orphan (a repack
        // killed before its index and now done again makes the same pack).
        let mut uploaded = HashSet::new();
        for r in &plan.repack {
            let into = if dry_run {
                None
            } else {
                match self
                    .repack(cache, r, &listing, &doomed, &mut uploaded)
                    .await
                {
                    Ok(new) => Some(new.to_string()),
                    Err(e) => {
                        fail(pack::pack_key(&r.pack), e);
                        continue;
                    }
                }
            };
            repacked.push(Repacked {
                pack: r.pack.to_string(),
                into,
                live_bytes: r.live_bytes,
                bytes: r.bytes,
            });
        }
        let mut dropped = Vec::new();
        for p in &plan.drop {
            match if dry_run {
                Ok(())
            } else {
                self.drop_index(p).await
            } {
                Ok(()) => dropped.push(p.to_string()),
                Err(e) => fail(pack::index_key(p), e.text()),
            }
        }
        let (mut removed, mut freed) = (Vec::new(), 0);
        for (p, size) in plan.orphans.iter().filter(|(p, _)| !uploaded.contains(p)) {
            let gone = if dry_run {
                Ok(true)
            } else {
                self.remove_orphan(p, listing.tombstones.contains_key(p))
                    .await
            };
            match gone {
                Ok(true) => {
                    removed.push(p.to_string());
                    freed += size;
                }
                Ok(false) => {}
                Err(e) => fail(pack::pack_key(p), e.text()),
            }
        }
        for p in plan.stale_tombstones.iter().filter(|_| !dry_run) {
            let key = pack::tombstone_key(p);
            if let Err(e) = self.retry(|| self.backend.delete(&key)).await {
                fail(key, e.text());
            }
        }
        sweep.repacked = repacked;
        sweep.dropped = dropped;
        sweep.orphans_removed = removed;
        sweep.freed_bytes = freed;
        Ok(Some(sweep))
    }

    /// Packs on the remote without an index (what a killed push or a repack leaves), or
    /// none when the remote cannot list.
    pub async fn orphan_packs(&self) -> Result<Vec<Hash>, RemoteError> {
        let Some(listing) = self.pack_listing().await? else {
            return Ok(Vec::new());
        };
        let mut out: Vec<Hash> = listing
            .packs
            .keys()
            .filter(|p| !listing.indexes.contains_key(p))
            .copied()
            .collect();
        out.sort();
        Ok(out)
    }

    async fn pack_listing(&self) -> Result<Option<Listing>, RemoteError> {
        let Some(listed) = self
            .retry(|| self.backend.list(pack::DIR, usize::MAX))
            .await?
        else {
            return Ok(None);
        };
        let mut out = Listing::default();
        for l in listed {
            match pack::parse_key(&l.key) {
                Some((p, "idx")) => {
                    out.indexes.insert(p, l.modified);
                }
                Some((p, "pack")) => {
                    let size = match l.held {
                        Held::Object(Some(size)) => size,
                        _ => 0,
                    };
                    out.packs.insert(p, (l.modified, size));
                }
                Some((p, "gone")) => {
                    out.tombstones.insert(p, l.modified);
                }
                _ => {}
            }
        }
        Ok(Some(out))
    }

    /// A new pack of `r`'s live objects, uploaded with its index, then the old index
    /// removed; returns the new pack's name.
    async fn repack(
        &self,
        cache: &Cache,
        r: &Repack,
        listing: &Listing,
        doomed: &HashSet<Hash>,
        uploaded: &mut HashSet<Hash>,
    ) -> Result<Hash, String> {
        let built = self.rebuild(cache, r).await?;
        let new = built.index.pack;
        if doomed.contains(&new) {
            return Err(format!(
                "its live objects make pack {new}, which this gc removes; both left as they are"
            ));
        }
        // A repack killed after its upload and done again makes the same pack.
        if !listing.indexes.contains_key(&new) {
            uploaded.insert(new);
            self.upload_built(&built).await.map_err(|e| e.text())?;
        }
        // Only a local copy: the next command downloads the index if this fails.
        let _ = self.learn_index(&built.index);
        self.drop_index(&r.pack).await.map_err(|e| e.text())?;
        Ok(new)
    }

    /// Builds the new pack in the cache's tmp folder, the objects in their old order: from
    /// the cache where it holds a whole range, else read from the old pack and verified.
    async fn rebuild(&self, cache: &Cache, r: &Repack) -> Result<Built, String> {
        let local = |e: std::io::Error| format!("building a pack in the cache: {e}");
        let writer = Mutex::new(PackWriter::create(&cache.tmp_dir()).map_err(local)?);
        let add = |h: &Hash, bytes: &[u8]| {
            writer
                .lock()
                .expect("not poisoned")
                .add_verified(h, bytes)
                .map_err(|e| RemoteError::new(ErrorKind::Fatal, local(e)))
        };
        let progress = crate::progress::NoProgress;
        for run in pack::runs(r.live.clone(), pack::COALESCE_GAP, RUN_MAX) {
            if run.objects.iter().all(|e| cache.contains(&e.hash)) {
                let mut w = writer.lock().expect("not poisoned");
                for e in &run.objects {
                    w.add(&e.hash, &cache.object_path(&e.hash)).map_err(local)?;
                }
                continue;
            }
            for (results, _) in self.read_runs(vec![(r.pack, run)], &add, &progress).await {
                for (h, result) in results {
                    result.map_err(|e| format!("reading {h}: {}", e.text()))?;
                }
            }
        }
        let built = writer
            .into_inner()
            .expect("not poisoned")
            .finish()
            .map_err(local)?;
        Ok(built)
    }

    /// The pack's tombstone first, then its index: readers stop seeing the pack, and its
    /// grace period starts.
    async fn drop_index(&self, p: &Hash) -> Result<(), RemoteError> {
        let tombstone = pack::tombstone_key(p);
        self.retry(|| {
            self.backend
                .replace(&tombstone, bytes::Bytes::from_static(TOMBSTONE))
        })
        .await?;
        let index = pack::index_key(p);
        self.retry(|| self.backend.delete(&index)).await?;
        if let Some(local) = &self.local_indexes {
            local.forget(p);
        }
        Ok(())
    }

    /// The pack, then its tombstone (a tombstone left alone goes in a later sweep);
    /// `false` when the pack has an index again (a push or repack since the listing
    /// completed it) and stays.
    async fn remove_orphan(&self, p: &Hash, tombstone: bool) -> Result<bool, RemoteError> {
        let index = pack::index_key(p);
        if self.retry(|| self.backend.exists(&index)).await? {
            return Ok(false);
        }
        let key = pack::pack_key(p);
        self.retry(|| self.backend.delete(&key)).await?;
        if tombstone {
            let key = pack::tombstone_key(p);
            self.retry(|| self.backend.delete(&key)).await?;
        }
        Ok(true)
    }
}
