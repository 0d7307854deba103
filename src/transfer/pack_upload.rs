//! Pushing small objects in packs: each pack built on a temporary file in the cache, then
//! uploaded whole, and its index only once the pack is complete on the remote; bigger
//! objects go up loose at the same time.

use super::{Engine, Failure, Summary};
use crate::cache::Cache;
use crate::hash::Hash;
use crate::pack::{self, Built, PackWriter};
use crate::progress::Progress;
use crate::remote::{RemoteError, format};
use futures::StreamExt;
use std::sync::atomic::Ordering;

/// Packs built and uploaded at once: each holds a temporary file of up to 64 MiB.
const PACKS_IN_FLIGHT: usize = 4;

/// A pack on the remote with its index, and its objects.
type Written = (Hash, Vec<Hash>);

impl Engine {
    /// Uploads file objects (in the order given, so one folder's files sit together in a
    /// pack): those up to the remote's pack threshold in packs, bigger ones loose.
    pub async fn upload_files(
        &self,
        cache: &Cache,
        objects: Vec<(Hash, u64)>,
        progress: &dyn Progress,
    ) -> Summary {
        let threshold = self.pack_threshold;
        let (small, big): (Vec<_>, Vec<_>) = objects
            .into_iter()
            .partition(|(_, size)| threshold > 0 && *size <= threshold);
        let (mut summary, loose) = futures::join!(
            self.upload_packed(cache, small, progress),
            self.upload(cache, big, progress)
        );
        summary.merge(loose);
        summary
    }

    async fn upload_packed(
        &self,
        cache: &Cache,
        objects: Vec<(Hash, u64)>,
        progress: &dyn Progress,
    ) -> Summary {
        let mut summary = Summary::default();
        if objects.is_empty() {
            return summary;
        }
        // Before the first pack: a build that knows only loose objects must refuse this remote.
        if self.format.load(Ordering::Relaxed) < format::PACKS_VERSION {
            if let Err(e) = self
                .retry(|| format::mark_packs(self.backend.as_ref()))
                .await
            {
                fail_all(&mut summary, objects.iter().map(|o| o.0), &e.to_string());
                return summary;
            }
            self.format.store(format::PACKS_VERSION, Ordering::Relaxed);
        }
        let results: Vec<(Summary, Option<Written>)> = futures::stream::iter(batches(objects))
            .map(|batch| self.push_pack(cache, batch, progress))
            .buffer_unordered(PACKS_IN_FLIGHT.min(self.jobs))
            .collect()
            .await;
        let mut written = Vec::new();
        for (s, pack) in results {
            summary.merge(s);
            written.extend(pack);
        }
        let names: Vec<Hash> = written.iter().map(|w| w.0).collect();
        if let Err(e) = self.record_in_inventory(&names).await {
            // No reader of a remote that cannot list sees these packs: their objects
            // failed, so the manifests naming them stay back.
            let error = format!("recording the packs in `{}`: {e}", pack::INVENTORY_KEY);
            let objects: Vec<Hash> = written.into_iter().flat_map(|w| w.1).collect();
            summary.transferred -= objects.len() as u64;
            fail_all(&mut summary, objects.into_iter(), &error);
        }
        summary
    }

    /// Builds one pack from `batch`, uploads it, then its index; returns the pack's name
    /// and objects once its index is on the remote.
    async fn push_pack(
        &self,
        cache: &Cache,
        batch: Vec<(Hash, u64)>,
        progress: &dyn Progress,
    ) -> (Summary, Option<Written>) {
        let mut summary = Summary::default();
        let total: u64 = batch.iter().map(|o| o.1).sum();
        let count = batch.len() as u64;
        let (owned, hashes) = (cache.clone(), batch.iter().map(|o| o.0).collect::<Vec<_>>());
        let built = tokio::task::spawn_blocking(move || build(&owned, &batch))
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r.map_err(|e| format!("building a pack in the cache: {e}")));
        let (built, failed) = match built {
            Ok(b) => b,
            Err(e) => {
                fail_all(&mut summary, hashes.into_iter(), &e);
                progress.inc(count, total);
                return (summary, None);
            }
        };
        summary.failed.extend(failed);
        if built.index.entries().is_empty() {
            progress.inc(count, total);
            return (summary, None);
        }
        let pack = built.index.pack;
        let uploaded = self.upload_built(&built).await;
        progress.inc(count, total);
        let entries = built.index.entries();
        match uploaded {
            Ok(()) => {
                summary.transferred += entries.len() as u64;
                summary.bytes += entries.iter().map(|e| e.length).sum::<u64>();
                if let Err(e) = self.learn_index(&built.index) {
                    // The pack is on the remote; the next command downloads its index.
                    summary.failed.push(Failure {
                        object: pack::index_key(&pack),
                        error: format!("keeping a copy of the index: {e}"),
                    });
                }
                (
                    summary,
                    Some((pack, entries.iter().map(|e| e.hash).collect())),
                )
            }
            Err(e) => {
                fail_all(&mut summary, entries.iter().map(|e| e.hash), &e.to_string());
                (summary, None)
            }
        }
    }

    /// The pack first, whole; its index only after: an index on the remote means its
    /// pack is complete.
    pub(super) async fn upload_built(&self, built: &Built) -> Result<(), RemoteError> {
        let pack = built.index.pack;
        let (pack_key, index_key) = (pack::pack_key(&pack), pack::index_key(&pack));
        self.retry(|| {
            self.backend
                .put_file(&pack_key, built.file.path(), built.size)
        })
        .await?;
        let index = bytes::Bytes::from(built.index.encode());
        self.retry(|| self.backend.put_bytes(&index_key, index.clone()))
            .await
    }
}

/// A pack of `batch`'s objects read from the cache, and the objects left out (damaged).
fn build(cache: &Cache, batch: &[(Hash, u64)]) -> std::io::Result<(Built, Vec<Failure>)> {
    let mut writer = PackWriter::create(&cache.tmp_dir())?;
    let mut failed = Vec::new();
    for (h, _) in batch {
        if let Err(e) = writer.add(h, &cache.object_path(h)) {
            failed.push(Failure {
                object: h.to_string(),
                error: e.to_string(),
            });
        }
    }
    Ok((writer.finish()?, failed))
}

/// Consecutive objects grouped into packs of about `PACK_SIZE` bytes, one pack's worth
/// at a time (no second copy of a million-object list).
fn batches(objects: Vec<(Hash, u64)>) -> impl Iterator<Item = Vec<(Hash, u64)>> {
    let mut objects = objects.into_iter().peekable();
    std::iter::from_fn(move || {
        let (mut batch, mut size) = (Vec::new(), 0);
        while let Some(o) = objects.next_if(|o| batch.is_empty() || size + o.1 <= pack::PACK_SIZE) {
            size += o.1;
            batch.push(o);
        }
        (!batch.is_empty()).then_some(batch)
    })
}

fn fail_all(summary: &mut Summary, objects: impl Iterator<Item = Hash>, error: &str) {
    summary.failed.extend(objects.map(|h| Failure {
        object: h.to_string(),
        error: error.to_string(),
    }));
}
