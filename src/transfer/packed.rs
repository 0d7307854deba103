//! Reading packed objects: the objects wanted from each pack grouped into ranges (near
//! ones coalesced, see `pack::runs`), the ranges read at once, each object hashed as it
//! completes. A bad object fails alone, naming itself and its pack; a broken range
//! resumes at the first object it had not finished. Memory: one object at a time per range.

use super::retry::backoff;
use super::{Engine, Failure, Summary};
use crate::cache::Cache;
use crate::hash::Hash;
use crate::pack::{self, Entry, Location, Run};
use crate::progress::Progress;
use crate::remote::{ErrorKind, RemoteError};
use futures::StreamExt;
use std::collections::HashMap;
use std::time::Instant;

/// A range grows to at most this many bytes: several requests run at once, and a retry
/// repeats little.
pub(super) const RUN_MAX: u64 = 8 << 20;

/// What becomes of an object read from a pack once its bytes hash right.
pub(super) type Sink<'a> = &'a (dyn Fn(&Hash, &[u8]) -> Result<(), RemoteError> + Sync);

/// One object's outcome, and the bytes a range read from the remote (gaps included).
type RunResult = (Vec<(Hash, Result<(), RemoteError>)>, u64);

impl Engine {
    /// Downloads packed objects into the cache; `bytes` counts what was read, gaps included.
    pub(super) async fn download_packed(
        &self,
        cache: &Cache,
        objects: Vec<Location>,
        progress: &dyn Progress,
    ) -> Summary {
        let store = move |h: &Hash, bytes: &[u8]| {
            cache
                .insert_verified(h, bytes)
                .map_err(|e| super::download::cache_error(h, e))
        };
        let mut summary = Summary::default();
        for (results, read) in self
            .read_runs(plan(objects, pack::COALESCE_GAP), &store, progress)
            .await
        {
            summary.bytes += read;
            for (h, r) in results {
                match r {
                    Ok(()) => summary.transferred += 1,
                    Err(e) => summary.failed.push(Failure {
                        object: h.to_string(),
                        error: e.to_string(),
                    }),
                }
            }
        }
        summary
    }

    /// Reads every object of every pack the remote's indexes list and checks its hash
    /// (`fsck -r`); returns how many were read and the outcome of each that failed (only
    /// those: a million sound objects need no entry each).
    pub async fn verify_packs(&self) -> Result<(usize, Vec<(Hash, RemoteError)>), RemoteError> {
        let runs: Vec<(Hash, Run)> = self
            .packs()
            .await?
            .by_pack()
            .into_iter()
            .flat_map(|(p, entries)| {
                pack::runs(entries, u64::MAX, RUN_MAX)
                    .into_iter()
                    .map(move |r| (p, r))
            })
            .collect();
        let ignore = |_: &Hash, _: &[u8]| Ok(());
        let progress = crate::progress::NoProgress;
        let mut checked = 0;
        let mut failed = Vec::new();
        for (results, _) in self.read_runs(runs, &ignore, &progress).await {
            checked += results.len();
            failed.extend(
                results
                    .into_iter()
                    .filter_map(|(h, r)| r.err().map(|e| (h, e))),
            );
        }
        Ok((checked, failed))
    }

    pub(super) async fn read_runs(
        &self,
        runs: Vec<(Hash, Run)>,
        sink: Sink<'_>,
        progress: &dyn Progress,
    ) -> Vec<RunResult> {
        futures::stream::iter(runs)
            .map(|(p, run)| self.read_run(p, run, sink, progress))
            .buffer_unordered(self.jobs)
            .collect()
            .await
    }

    /// One range of pack `p`, retried from the first unfinished object on transient failures.
    async fn read_run(
        &self,
        p: Hash,
        run: Run,
        sink: Sink<'_>,
        progress: &dyn Progress,
    ) -> RunResult {
        let key = pack::pack_key(&p);
        let mut reader = RunReader {
            key: &key,
            url: self.url(),
            objects: &run.objects,
            next: 0,
            done: Vec::with_capacity(run.objects.len()),
            read: 0,
        };
        let started = Instant::now();
        let mut attempt = 0;
        while reader.next < run.objects.len() {
            let result = match self.check_reachable() {
                Ok(()) => reader.stream(self, run.to, sink, progress).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(()) => {}
                Err(e) if self.may_retry(&e, attempt, started) => {
                    attempt += 1;
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(e) => {
                    if e.kind == ErrorKind::Transient {
                        self.give_up(&e);
                    }
                    for o in &run.objects[reader.next..] {
                        progress.inc(1, 0);
                        reader
                            .done
                            .push((o.hash, Err(RemoteError::new(e.kind, e.detail.clone()))));
                    }
                    break;
                }
            }
        }
        (reader.done, reader.read)
    }
}

/// The objects wanted, grouped by pack into ranges.
fn plan(objects: Vec<Location>, gap: u64) -> Vec<(Hash, Run)> {
    let mut by_pack: HashMap<Hash, Vec<Entry>> = HashMap::new();
    for o in objects {
        by_pack.entry(o.pack).or_default().push(o.entry);
    }
    by_pack
        .into_iter()
        .flat_map(|(p, entries)| {
            pack::runs(entries, gap, RUN_MAX)
                .into_iter()
                .map(move |r| (p, r))
        })
        .collect()
}

/// Where the reading of one range stands.
struct RunReader<'a> {
    key: &'a str,
    url: &'a str,
    objects: &'a [Entry],
    /// The first object not finished yet.
    next: usize,
    done: Vec<(Hash, Result<(), RemoteError>)>,
    read: u64,
}

impl RunReader<'_> {
    /// Streams the range from the first unfinished object to `to`.
    async fn stream(
        &mut self,
        engine: &Engine,
        to: u64,
        sink: Sink<'_>,
        progress: &dyn Progress,
    ) -> Result<(), RemoteError> {
        let mut pos = self.objects[self.next].offset;
        let mut stream = engine.backend.get(self.key, pos, Some(to)).await?;
        let mut buf = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            self.read += chunk.len() as u64;
            self.feed(&chunk, &mut pos, &mut buf, sink, progress);
            if self.next == self.objects.len() {
                return Ok(());
            }
        }
        self.feed(&[], &mut pos, &mut buf, sink, progress);
        if self.next < self.objects.len() {
            let e = RemoteError::new(
                ErrorKind::Corrupt,
                format!(
                    "pack `{}` on remote `{}` ends before the objects its index lists: it is truncated",
                    self.key, self.url
                ),
            );
            while self.next < self.objects.len() {
                self.finish(Err(RemoteError::new(e.kind, e.detail.clone())), progress);
            }
        }
        Ok(())
    }

    /// Takes the bytes at `pos` on: skips gaps, completes objects, hands each to `sink`.
    fn feed(
        &mut self,
        mut chunk: &[u8],
        pos: &mut u64,
        buf: &mut Vec<u8>,
        sink: Sink<'_>,
        progress: &dyn Progress,
    ) {
        while let Some(&e) = self.objects.get(self.next) {
            if *pos < e.offset {
                let skip = (e.offset - *pos).min(chunk.len() as u64);
                chunk = &chunk[skip as usize..];
                *pos += skip;
                if *pos < e.offset {
                    return;
                }
            }
            if *pos != e.offset + buf.len() as u64 {
                // Entries that overlap: a damaged index.
                buf.clear();
                let why = format!(
                    "index `{}` lists objects that overlap",
                    self.key.replace(".pack", ".idx")
                );
                self.finish(Err(RemoteError::new(ErrorKind::Corrupt, why)), progress);
                continue;
            }
            let take = ((e.length - buf.len() as u64) as usize).min(chunk.len());
            buf.extend_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
            *pos += take as u64;
            if buf.len() as u64 != e.length {
                return;
            }
            let r = self.check(&e.hash, buf).and_then(|()| sink(&e.hash, buf));
            buf.clear();
            self.finish(r, progress);
        }
    }

    fn finish(&mut self, r: Result<(), RemoteError>, progress: &dyn Progress) {
        let e = self.objects[self.next];
        progress.inc(1, if r.is_ok() { e.length } else { 0 });
        self.done.push((e.hash, r));
        self.next += 1;
    }

    /// An object whose bytes hash to something else fails alone, naming its pack.
    fn check(&self, hash: &Hash, bytes: &[u8]) -> Result<(), RemoteError> {
        let actual = Hash::of(bytes);
        if actual == *hash {
            return Ok(());
        }
        Err(RemoteError::new(
            ErrorKind::Corrupt,
            format!(
                "object {hash} in pack `{}` on remote `{}` is corrupt: its bytes hash to {actual}; it was not admitted to the cache",
                self.key, self.url
            ),
        )
        .with_hint(
            "run `git mlv fsck -r <remote>` to find every damaged object; `docs/remotes.md` (\"A damaged pack\") says how to repair it",
        ))
    }
}
