//! Downloads into the cache: small objects in memory, big ones in ranges into a resumable
//! partial file (`ranges.rs`), every object verified against its hash before it is
//! admitted.

use super::partial::Partial;
use super::ranges::RangeJob;
use super::{Engine, Failure, Summary};
use crate::cache::Cache;
use crate::hash::{Hash, PieceHasher};
use crate::problem::Hinted;
use crate::progress::Progress;
use crate::remote::{BlockingRead, CORRUPT_HINT, ErrorKind, RemoteError};
use futures::{StreamExt, TryStreamExt};
use std::ops::Range;

/// Objects up to this size are downloaded into memory, verified there and written to the
/// cache with one temporary file: for an 8 KiB object, a resumable partial file (lock,
/// re-read, rename across folders) costs more than the transfer itself.
const IN_MEMORY: u64 = crate::hash::SMALL_FILE;
/// Nothing records a manifest's size before it is fetched; every use of one holds it in
/// memory anyway. A remote object bigger than this (~2 million entries) is refused.
const MANIFEST_MAX: u64 = 256 << 20;
/// Big objects download in ranges of this size where the backend takes several at once.
const RANGE: u64 = 32 << 20;

/// Bytes fetched, bytes resumed from an earlier run, and whether a ready copy was kept,
/// for one download.
type Downloaded = Result<(u64, u64, bool), RemoteError>;

impl Engine {
    /// Downloads objects into the cache, each verified against its hash before it is
    /// admitted. A size of `None` (a manifest, whose size nothing records) means small.
    /// A big download that breaks resumes from the bytes already written.
    pub async fn download(
        &self,
        cache: &Cache,
        objects: Vec<(Hash, Option<u64>)>,
        progress: &dyn Progress,
    ) -> Summary {
        // Objects in the remote's packs are read by ranges of their packs; the rest loose.
        let (packed, objects) = match self.packs().await {
            Ok(inventory) => {
                let (packed, loose): (Vec<_>, Vec<_>) = objects
                    .into_iter()
                    .partition(|(h, _)| inventory.find(h).is_some());
                let packed = packed
                    .iter()
                    .filter_map(|(h, _)| inventory.find(h))
                    .collect();
                (packed, loose)
            }
            Err(e) => {
                return Summary {
                    failed: objects
                        .iter()
                        .map(|(h, _)| Failure {
                            object: h.to_string(),
                            error: e.to_string(),
                        })
                        .collect(),
                    ..Summary::default()
                };
            }
        };
        let mut summary = self.download_packed(cache, packed, progress).await;
        let (small, big): (Vec<_>, Vec<_>) = objects
            .into_iter()
            .partition(|(_, size)| size.is_none_or(|s| s <= IN_MEMORY));
        // A small file is read up to IN_MEMORY bytes whatever its recorded size: when its
        // bytes hash right, the object is sound and a wrong recorded size is the pointer's
        // fault, which the caller names (`Tracked::check_sizes`).
        let small: Vec<(Hash, u64)> = small
            .into_iter()
            .map(|(h, size)| (h, size.map_or(MANIFEST_MAX, |s| s.max(IN_MEMORY))))
            .collect();
        let mut results: Vec<(Hash, Downloaded)> = match self.backend.blocking_reads() {
            // Blocking, on this thread's behalf: nothing else runs on the runtime meanwhile.
            Some(folder) => tokio::task::block_in_place(|| {
                self.copy_small_from_folder(folder, cache, &small, progress)
            }),
            None => {
                futures::stream::iter(small)
                    .map(|(h, limit)| async move {
                        let r = self.download_small(cache, &h, limit).await;
                        progress.inc(1, *r.as_ref().unwrap_or(&0));
                        (h, r.map(|n| (n, 0, false)))
                    })
                    .buffer_unordered(self.jobs)
                    .collect()
                    .await
            }
        };
        results.extend(
            futures::stream::iter(big)
                .map(|(h, size)| async move {
                    let size = size.expect("big objects have a known size");
                    let r = self.download_big(cache, &h, size, progress).await;
                    progress.inc(1, if r.is_ok() { 0 } else { size });
                    (h, r)
                })
                .buffer_unordered(self.jobs)
                .collect::<Vec<_>>()
                .await,
        );
        for (h, r) in results {
            match r {
                Ok((bytes, resumed, ready)) => {
                    summary.transferred += 1;
                    summary.bytes += bytes;
                    summary.resumed_bytes += resumed;
                    if ready {
                        summary.ready_copies.push(h);
                    }
                }
                Err(e) => summary.failed.push(Failure {
                    object: h.to_string(),
                    error: e.text(),
                }),
            }
        }
        summary
    }

    /// A small object: read into memory, verified there, written to the cache at once.
    /// The write happens on this task: it takes microseconds, and a hand-off to the
    /// blocking pool per object costs more (measured: ~100 futex calls per object).
    async fn download_small(
        &self,
        cache: &Cache,
        hash: &Hash,
        limit: u64,
    ) -> Result<u64, RemoteError> {
        let key = hash.key();
        let bytes = self.retry(|| self.backend.get_bytes(&key, limit)).await?;
        store_small(cache, hash, &bytes, self.url())
    }

    /// Small objects of a folder remote, copied by `jobs` threads with plain blocking I/O:
    /// an async read of an 8 KiB file is several hand-offs to the blocking pool, which
    /// cost more than the read itself. Threads, not cores, so a NAS's latency overlaps.
    fn copy_small_from_folder(
        &self,
        folder: &dyn BlockingRead,
        cache: &Cache,
        objects: &[(Hash, u64)],
        progress: &dyn Progress,
    ) -> Vec<(Hash, Downloaded)> {
        use rayon::prelude::*;
        let copy = |(h, limit): &(Hash, u64)| {
            let r = folder
                .read_limited(&h.key(), *limit)
                .and_then(|bytes| store_small(cache, h, &bytes, self.url()));
            progress.inc(1, *r.as_ref().unwrap_or(&0));
            (*h, r.map(|n| (n, 0, false)))
        };
        match rayon::ThreadPoolBuilder::new()
            .num_threads(self.jobs.min(objects.len()).max(1))
            .build()
        {
            Ok(pool) => pool.install(|| objects.par_iter().map(copy).collect()),
            Err(_) => objects.iter().map(copy).collect(),
        }
    }

    /// A big object: written to a partial file in ranges (several at once where the backend
    /// gains from it), each range hashed as it lands, then moved into the cache. With
    /// ready copies on, the same bytes also go into a second file beside the cache, which
    /// is kept once the hash matches. Returns the bytes fetched, the bytes an interrupted
    /// earlier run had left, and whether a ready copy was kept.
    async fn download_big(
        &self,
        cache: &Cache,
        hash: &Hash,
        size: u64,
        progress: &dyn Progress,
    ) -> Downloaded {
        let folder = self.backend.blocking_reads();
        let in_flight = self.backend.parallel_ranges().min(self.jobs).max(1);
        // A folder's ranges are copied one after another, but each is hashed (and copied
        // again) while the next is copied; only an HTTP server that may ignore ranges is
        // read in one piece.
        let plan: Vec<Range<u64>> = if in_flight > 1 || folder.is_some() {
            (0..size)
                .step_by(RANGE as usize)
                .map(|s| s..(s + RANGE).min(size))
                .collect()
        } else {
            std::iter::once(0..size).collect()
        };
        let piece = match plan.len() {
            1 => size.next_power_of_two().max(blake3::CHUNK_LEN as u64),
            _ => RANGE,
        };
        let local_err = |e: std::io::Error| cache_error(hash, e.into());
        // A second pass starts from zero: the bytes kept from an earlier run may be what
        // made the hash differ (a crash can lose written data that its record still lists).
        let mut fresh_start = false;
        loop {
            let mut partial = Partial::open(cache, hash).map_err(local_err)?;
            if self.ready_copies {
                partial.start_ready_copy();
            }
            let starts = partial
                .resume(&plan, folder.is_some() || in_flight == 1)
                .map_err(local_err)?;
            let resumed: u64 = plan.iter().zip(&starts).map(|(r, s)| s - r.start).sum();
            let mut pieces = PieceHasher::new(piece, size);
            let fetched = if let Some(folder) = folder {
                // Blocking, on this thread's behalf: nothing else runs on the runtime meanwhile.
                tokio::task::block_in_place(|| {
                    self.copy_from_folder(
                        folder,
                        &partial,
                        hash,
                        (&plan, &starts),
                        pieces.pieces(),
                        progress,
                    )
                })
            } else {
                // The bytes an earlier run kept are read back; the rest hashed as they stream.
                for ((range, start), h) in plan.iter().zip(&starts).zip(pieces.pieces().iter_mut())
                {
                    partial
                        .digest_range(range.start..*start, h)
                        .map_err(local_err)?;
                }
                let jobs = plan
                    .iter()
                    .zip(starts)
                    .enumerate()
                    .map(|(index, (range, pos))| RangeJob {
                        index,
                        range: range.clone(),
                        pos,
                        size,
                    });
                futures::stream::iter(jobs.zip(pieces.pieces().iter_mut()))
                    .filter(|(j, _)| std::future::ready(j.pos < j.range.end))
                    .map(|(job, h)| self.fetch_range(&partial, hash, job, h, progress))
                    .buffer_unordered(in_flight)
                    .try_collect::<Vec<()>>()
                    .await
                    .map(|_| ())
            };
            if let Err(e) = fetched {
                // Keep the bytes of a transient failure for the next run to resume from.
                if e.kind == ErrorKind::Transient {
                    self.give_up(&e);
                } else {
                    partial.remove();
                }
                return Err(e);
            }
            let length = partial.file.metadata().map_err(local_err)?.len();
            let checked = match length.cmp(&size) {
                std::cmp::Ordering::Equal => check_hash(hash, pieces.finalize(), self.url()),
                std::cmp::Ordering::Greater => Err(wrong_size(hash, self.url(), "more")),
                std::cmp::Ordering::Less => Err(wrong_size(hash, self.url(), "fewer")),
            };
            if let Err(e) = checked {
                partial.remove();
                if resumed > 0 && !fresh_start {
                    fresh_start = true;
                    continue;
                }
                return Err(e);
            }
            cache
                .admit(&partial.path, hash)
                .map_err(|e| cache_error(hash, e))?;
            let kept = partial.keep_ready_copy(&cache.ready_copy_path(hash));
            partial.clean_up();
            return Ok((size - resumed, resumed, kept));
        }
    }
}

/// Verifies a small object held in memory and writes it to the cache; returns its size.
fn store_small(cache: &Cache, hash: &Hash, bytes: &[u8], url: &str) -> Result<u64, RemoteError> {
    check_hash(hash, Hash::of(bytes), url)?;
    cache
        .insert_verified(hash, bytes)
        .map_err(|e| cache_error(hash, e))?;
    Ok(bytes.len() as u64)
}

/// A downloaded object whose bytes hash to something else is never admitted.
fn check_hash(hash: &Hash, actual: Hash, url: &str) -> Result<(), RemoteError> {
    if actual == *hash {
        return Ok(());
    }
    Err(RemoteError::new(
        ErrorKind::Corrupt,
        format!(
            "object {hash} downloaded from remote `{url}` is corrupt: its bytes hash to {actual}; it was not admitted to the cache"
        ),
    )
    .with_hint(CORRUPT_HINT))
}

/// The remote sent more or fewer bytes than the object's recorded size.
pub(super) fn wrong_size(hash: &Hash, url: &str, more_or_fewer: &str) -> RemoteError {
    RemoteError::new(
        ErrorKind::Corrupt,
        format!(
            "object {hash} on remote `{url}` is corrupt: it holds {more_or_fewer} bytes than its recorded size; it was not admitted to the cache"
        ),
    )
    .with_hint(CORRUPT_HINT)
}

pub(super) fn cache_error(hash: &Hash, e: crate::cache::CacheError) -> RemoteError {
    RemoteError {
        hint: e.hint(),
        ..RemoteError::new(
            ErrorKind::Fatal,
            format!("writing object {hash} into the cache: {e}"),
        )
    }
}
