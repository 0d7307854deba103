//! One big object's ranges: fetched from a network remote with retries that resume where
//! the bytes stopped, or copied from a folder remote in the kernel while the pool hashes
//! the ranges already copied.

use super::Engine;
use super::download::{cache_error, wrong_size};
use super::partial::Partial;
use super::retry::backoff;
use crate::hash::Hash;
use crate::progress::Progress;
use crate::remote::{BlockingRead, RemoteError};
use futures::StreamExt;
use std::ops::Range;
use std::time::Instant;

/// One range of a big download: where it resumes, and the object's size.
pub(super) struct RangeJob {
    pub(super) index: usize,
    pub(super) range: Range<u64>,
    pub(super) pos: u64,
    pub(super) size: u64,
}

impl Engine {
    /// A big object from a folder remote, range by range: this thread copies each range
    /// into the partial file (in the kernel), and as each lands the pool hashes it and
    /// copies it into the ready copy, so on two cores the passes overlap instead of
    /// following one another.
    pub(super) fn copy_from_folder(
        &self,
        folder: &dyn BlockingRead,
        partial: &Partial,
        hash: &Hash,
        (plan, starts): (&[Range<u64>], &[u64]),
        hashers: &mut [blake3::Hasher],
        progress: &dyn Progress,
    ) -> Result<(), RemoteError> {
        let local_err = |e: std::io::Error| cache_error(hash, e.into());
        let key = hash.key();
        let failed: std::sync::Mutex<Option<std::io::Error>> = std::sync::Mutex::new(None);
        rayon::in_place_scope(|scope| {
            for (index, ((range, &start), hasher)) in
                plan.iter().zip(starts).zip(hashers).enumerate()
            {
                if start < range.end {
                    let copied =
                        folder.copy_range_into(&key, &partial.file, start..range.end, progress)?;
                    if start + copied < range.end {
                        return Err(wrong_size(hash, self.url(), "fewer"));
                    }
                    partial
                        .record(index, range.start, range.end)
                        .map_err(local_err)?;
                }
                let failed = &failed;
                scope.spawn(move |_| {
                    if let Err(e) = partial.digest_range(range.clone(), hasher) {
                        failed.lock().expect("not poisoned").get_or_insert(e);
                    }
                });
            }
            Ok(())
        })?;
        match failed.into_inner().expect("not poisoned") {
            Some(e) => Err(local_err(e)),
            None => Ok(()),
        }
    }

    /// Downloads one range of an object into the partial file (and its ready copy),
    /// retrying transient failures from where the bytes stopped.
    pub(super) async fn fetch_range(
        &self,
        partial: &Partial,
        hash: &Hash,
        job: RangeJob,
        hasher: &mut blake3::Hasher,
        progress: &dyn Progress,
    ) -> Result<(), RemoteError> {
        let local_err = |e: std::io::Error| cache_error(hash, e.into());
        let key = hash.key();
        let RangeJob {
            index,
            range,
            mut pos,
            size,
        } = job;
        // A range that runs to the object's end is asked for without an end: a server
        // that ignores ranges still serves a download from the start.
        let to = (range.end < size).then_some(range.end);
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            self.check_reachable()?;
            let result: Result<(), RemoteError> = async {
                let mut stream = self.backend.get(&key, pos, to).await?;
                while let Some(chunk) = stream.next().await {
                    let chunk = chunk?;
                    if pos + chunk.len() as u64 > range.end {
                        return Err(wrong_size(hash, self.url(), "more"));
                    }
                    // Page-cache writes are quick; the blocking pool would cost more than it saves.
                    partial.write_at(&chunk, pos).map_err(local_err)?;
                    hasher.update(&chunk);
                    pos += chunk.len() as u64;
                    partial.record(index, range.start, pos).map_err(local_err)?;
                    progress.inc(0, chunk.len() as u64);
                }
                if pos < range.end {
                    return Err(wrong_size(hash, self.url(), "fewer"));
                }
                Ok(())
            }
            .await;
            match result {
                Err(e) if self.may_retry(&e, attempt, started) => {
                    attempt += 1;
                    tokio::time::sleep(backoff(attempt)).await;
                }
                other => return other,
            }
        }
    }
}
