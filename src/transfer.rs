//! The one transfer engine every backend shares: many transfers in flight, retries with
//! backoff for transient failures, existence checks in batches, downloads verified (and
//! resumable) before they enter the cache.

use crate::cache::Cache;
use crate::hash::{Hash, PieceHasher};
use crate::partial::Partial;
use crate::progress::Progress;
use crate::remote::{Backend, BlockingRead, ErrorKind, Held, RemoteError};
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The remote's format marker, like the cache's.
const FORMAT_KEY: &str = "format.toml";
/// With at least this many objects to check, listing the `b3/xx/` folders they fall in
/// replaces one HEAD per object. Measured on loopback s3s-fs: 6,600 HEADs at 32 in
/// flight took 0.8 s, listing the 256 folders 3.6 s; over a WAN the HEADs' latency adds up,
/// so listing pays off for very large pushes only.
const LIST_THRESHOLD: usize = 50_000;
/// Retries stop once a transfer has been failing for this long, so an unreachable remote
/// fails well within 30 seconds instead of hanging.
const RETRY_BUDGET: Duration = Duration::from_secs(20);
const MAX_ATTEMPTS: u32 = 6;
/// Objects up to this size are downloaded into memory, verified there and written to the
/// cache with one temporary file: for an 8 KiB object, a resumable partial file (lock,
/// re-read, rename across folders) costs more than the transfer itself.
const IN_MEMORY: u64 = crate::hash::SMALL_FILE;
/// Nothing records a manifest's size before it is fetched; every use of one holds it in
/// memory anyway. A remote object bigger than this (~2 million entries) is refused.
const MANIFEST_MAX: u64 = 256 << 20;
/// Big objects download in ranges of this size where the backend takes several at once.
const RANGE: u64 = 32 << 20;
const CORRUPT_HINT: &str =
    "hint: run `git mlv fsck -r <remote>`, then push the object again from a machine that has it";

#[derive(Debug, Default, Serialize)]
pub struct Summary {
    /// Objects transferred in this run.
    pub transferred: u64,
    pub bytes: u64,
    /// Objects that were already where they needed to be.
    pub present: u64,
    /// Bytes of interrupted downloads that were kept and not fetched again.
    pub resumed_bytes: u64,
    pub failed: Vec<Failure>,
    /// Big objects downloaded with a ready copy beside the cache (see
    /// `Engine::with_ready_copies`).
    #[serde(skip)]
    pub ready_copies: Vec<Hash>,
}

#[derive(Debug, Serialize)]
pub struct Failure {
    pub object: String,
    pub error: String,
}

impl Summary {
    pub fn merge(&mut self, other: Summary) {
        self.transferred += other.transferred;
        self.bytes += other.bytes;
        self.present += other.present;
        self.resumed_bytes += other.resumed_bytes;
        self.failed.extend(other.failed);
        self.ready_copies.extend(other.ready_copies);
    }
}

/// Bytes fetched, bytes resumed from an earlier run, and whether a ready copy was kept,
/// for one download.
type Downloaded = Result<(u64, u64, bool), RemoteError>;

pub struct Engine {
    backend: Arc<dyn Backend>,
    jobs: usize,
    /// Set once an operation gave up on a transient failure: the remote is down, so the
    /// remaining transfers fail at once instead of each waiting out its own retries.
    unreachable: std::sync::Mutex<Option<String>>,
    /// Big downloads also write a ready copy, which a checkout moves into the work tree
    /// instead of copying the object a second time (`pull`).
    ready_copies: bool,
}

impl Engine {
    pub fn new(backend: Arc<dyn Backend>, jobs: usize) -> Self {
        Engine {
            backend,
            jobs: jobs.max(1),
            unreachable: std::sync::Mutex::new(None),
            ready_copies: false,
        }
    }

    /// Turns ready copies of big downloads on: worth it only when a checkout follows that
    /// would otherwise copy the bytes (see `link::ready_copies_pay`).
    pub fn with_ready_copies(mut self, on: bool) -> Self {
        self.ready_copies = on;
        self
    }

    pub fn url(&self) -> &str {
        self.backend.url()
    }

    /// Checks the remote's format marker; `create` writes it on a new remote (push).
    pub async fn check_format(&self, create: bool) -> Result<(), RemoteError> {
        let text = match self
            .retry(|| self.backend.get_bytes(FORMAT_KEY, 1 << 16))
            .await
        {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) if e.kind == ErrorKind::NotFound && !create => return Ok(()),
            Err(e) if e.kind == ErrorKind::NotFound => {
                let text = format!(
                    "# git-mlv object store: objects under b3/<2 hex>/<62 hex>\nversion = {}\n",
                    crate::cache::FORMAT_VERSION
                );
                return self
                    .retry(|| self.backend.put_bytes(FORMAT_KEY, text.clone().into()))
                    .await;
            }
            Err(e) => return Err(e),
        };
        let version = text
            .parse::<toml::Table>()
            .ok()
            .and_then(|t| t.get("version").and_then(|v| v.as_integer()));
        match version {
            Some(v) if v <= crate::cache::FORMAT_VERSION as i64 => Ok(()),
            Some(v) => Err(RemoteError::new(
                ErrorKind::Fatal,
                format!(
                    "remote `{}` has object store format {v}, newer than this git-mlv understands\nhint: upgrade git-mlv",
                    self.url()
                ),
            )),
            None => Err(RemoteError::new(
                ErrorKind::Fatal,
                format!("remote `{}` has a damaged `{FORMAT_KEY}`", self.url()),
            )),
        }
    }

    /// Which of `objects` (with their sizes where known) the remote lacks or holds only a
    /// bad copy of: one of another size, or not a regular file (a symlink on a folder
    /// remote). Always asks the remote: nothing remembered from an earlier run can make a
    /// push skip an object.
    pub async fn missing(
        &self,
        objects: &[(Hash, Option<u64>)],
    ) -> Result<HashSet<Hash>, RemoteError> {
        let wanted: HashMap<Hash, Option<u64>> = objects.iter().copied().collect();
        let lacking = |listed: Vec<crate::remote::Listed>| {
            let held: HashMap<Hash, Held> = listed
                .iter()
                .filter_map(|l| Hash::from_key(&l.key).map(|h| (h, l.held)))
                .collect();
            wanted
                .iter()
                .filter(|(h, size)| !held.get(h).is_some_and(|held| held.sound(**size)))
                .map(|(h, _)| *h)
                .collect()
        };
        // A remote that holds no more objects than this push has answers in one short
        // listing: to an empty remote, one request instead of a HEAD per object. A bigger
        // one stops the listing there, which then cost as much as the HEADs at most.
        let budget = wanted.len().max(1_000);
        if let Some(listed) = self.retry(|| self.backend.list("b3/", budget)).await? {
            return Ok(lacking(listed));
        }
        if wanted.len() >= LIST_THRESHOLD {
            let prefixes: HashSet<String> = wanted
                .keys()
                .map(|h| format!("b3/{}/", &h.hex()[..2]))
                .collect();
            let listed: Vec<Option<Vec<crate::remote::Listed>>> = futures::stream::iter(prefixes)
                .map(|p| async move { self.retry(|| self.backend.list(&p, usize::MAX)).await })
                .buffer_unordered(self.jobs)
                .try_collect()
                .await?;
            if listed.iter().all(Option::is_some) {
                return Ok(lacking(listed.into_iter().flatten().flatten().collect()));
            }
        }
        let checked: Vec<(Hash, bool)> = futures::stream::iter(wanted)
            .map(|(h, size)| async move {
                let key = h.key();
                self.retry(|| self.backend.head(&key))
                    .await
                    .map(|held| (h, held.sound(size)))
            })
            .buffer_unordered(self.jobs)
            .try_collect()
            .await?;
        Ok(checked
            .into_iter()
            .filter(|(_, sound)| !sound)
            .map(|(h, _)| h)
            .collect())
    }

    /// Uploads objects from the cache, many at once.
    pub async fn upload(
        &self,
        cache: &Cache,
        objects: Vec<(Hash, u64)>,
        progress: &dyn Progress,
    ) -> Summary {
        let results: Vec<(Hash, u64, Result<(), RemoteError>)> = futures::stream::iter(objects)
            .map(|(h, size)| async move {
                let path = cache.object_path(&h);
                let key = h.key();
                let r = self
                    .retry(|| self.backend.put_file(&key, &path, size))
                    .await;
                progress.inc(1, size);
                (h, size, r)
            })
            .buffer_unordered(self.jobs)
            .collect()
            .await;
        let mut summary = Summary::default();
        for (h, size, r) in results {
            match r {
                Ok(()) => {
                    summary.transferred += 1;
                    summary.bytes += size;
                }
                Err(e) => summary.failed.push(Failure {
                    object: h.to_string(),
                    error: e.to_string(),
                }),
            }
        }
        summary
    }

    /// Downloads objects into the cache, each verified against its hash before it is
    /// admitted. A size of `None` (a manifest, whose size nothing records) means small.
    /// A big download that breaks resumes from the bytes already written.
    pub async fn download(
        &self,
        cache: &Cache,
        objects: Vec<(Hash, Option<u64>)>,
        progress: &dyn Progress,
    ) -> Summary {
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
        let mut summary = Summary::default();
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
                    error: e.to_string(),
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

    /// A big object from a folder remote, range by range: this thread copies each range
    /// into the partial file (in the kernel), and as each lands the pool hashes it and
    /// copies it into the ready copy, so on two cores the passes overlap instead of
    /// following one another.
    fn copy_from_folder(
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
    async fn fetch_range(
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
                Err(e) if may_retry(&e, attempt, started) => {
                    attempt += 1;
                    tokio::time::sleep(backoff(attempt)).await;
                }
                other => return other,
            }
        }
    }

    /// Streams one remote object and returns the hash of its bytes (for `fsck -r`).
    pub async fn rehash_remote(&self, hash: &Hash) -> Result<Hash, RemoteError> {
        self.retry(|| async {
            let mut stream = self.backend.get(&hash.key(), 0, None).await?;
            let mut hasher = blake3::Hasher::new();
            while let Some(chunk) = stream.next().await {
                hasher.update(&chunk?);
            }
            Ok(Hash::from_bytes(*hasher.finalize().as_bytes()))
        })
        .await
    }

    /// Every object the remote lists, or `None` when it cannot list.
    /// Every object the remote lists with when it was written, or `None` when it cannot list.
    pub async fn list_objects(
        &self,
    ) -> Result<Option<Vec<(Hash, std::time::SystemTime)>>, RemoteError> {
        Ok(self
            .retry(|| self.backend.list("b3/", usize::MAX))
            .await?
            .map(|listed| {
                listed
                    .iter()
                    .filter_map(|l| Hash::from_key(&l.key).map(|h| (h, l.modified)))
                    .collect()
            }))
    }

    /// Deletes objects from the remote, many at once; returns the failures.
    pub async fn delete(&self, objects: &[Hash]) -> Vec<Failure> {
        futures::stream::iter(objects.iter().copied())
            .map(|h| async move {
                let key = h.key();
                self.retry(|| self.backend.delete(&key))
                    .await
                    .err()
                    .map(|e| Failure {
                        object: h.to_string(),
                        error: e.to_string(),
                    })
            })
            .buffer_unordered(self.jobs)
            .filter_map(|f| async move { f })
            .collect()
            .await
    }

    pub fn jobs(&self) -> usize {
        self.jobs
    }

    /// Temporary files that killed uploads left on the remote, untouched for `age`.
    pub fn stale_uploads(
        &self,
        age: Duration,
    ) -> std::io::Result<Vec<(std::path::PathBuf, u64)>> {
        self.backend.stale_uploads(age)
    }
}

/// One range of a big download: where it resumes, and the object's size.
struct RangeJob {
    index: usize,
    range: Range<u64>,
    pos: u64,
    size: u64,
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
            "object {hash} downloaded from remote `{url}` is corrupt: its bytes hash to {actual}; it was not admitted to the cache\n{CORRUPT_HINT}"
        ),
    ))
}

/// The remote sent more or fewer bytes than the object's recorded size.
fn wrong_size(hash: &Hash, url: &str, more_or_fewer: &str) -> RemoteError {
    RemoteError::new(
        ErrorKind::Corrupt,
        format!(
            "object {hash} on remote `{url}` is corrupt: it holds {more_or_fewer} bytes than its recorded size; it was not admitted to the cache\n{CORRUPT_HINT}"
        ),
    )
}

fn cache_error(hash: &Hash, e: crate::cache::CacheError) -> RemoteError {
    RemoteError::new(
        ErrorKind::Fatal,
        format!("writing object {hash} into the cache: {e}"),
    )
}

/// A transient failure is tried again while attempts and the time budget last.
fn may_retry(e: &RemoteError, attempt: u32, started: Instant) -> bool {
    e.kind == ErrorKind::Transient && attempt + 1 < MAX_ATTEMPTS && started.elapsed() < RETRY_BUDGET
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis((100u64 << (2 * attempt.min(4))).min(4_000))
}

impl Engine {
    /// Runs `op` again on transient failures, with exponential backoff, within the budget.
    async fn retry<T, F, Fut>(&self, mut op: F) -> Result<T, RemoteError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, RemoteError>>,
    {
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            self.check_reachable()?;
            match op().await {
                Err(e) if may_retry(&e, attempt, started) => {
                    attempt += 1;
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(e) if e.kind == ErrorKind::Transient => {
                    self.give_up(&e);
                    return Err(e);
                }
                other => return other,
            }
        }
    }

    /// Fails at once when an earlier operation already found the remote down.
    fn check_reachable(&self) -> Result<(), RemoteError> {
        match self.unreachable.lock().expect("not poisoned").clone() {
            Some(why) => Err(RemoteError::new(ErrorKind::Transient, why)),
            None => Ok(()),
        }
    }

    fn give_up(&self, e: &RemoteError) {
        self.unreachable
            .lock()
            .expect("not poisoned")
            .get_or_insert_with(|| {
                format!(
                    "remote `{}` stopped answering ({}); not tried",
                    self.url(),
                    e.detail.lines().next().unwrap_or("")
                )
            });
    }
}
