//! The one transfer engine every backend shares: many transfers in flight, retries with
//! backoff for transient failures, existence checks in batches, downloads verified (and
//! resumable) before they enter the cache.

use crate::cache::Cache;
use crate::hash::Hash;
use crate::progress::Progress;
use crate::remote::{Backend, ErrorKind, RemoteError};
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;
use std::collections::HashSet;
use std::io::{Read, Write};
use std::path::PathBuf;
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
    }
}

/// Bytes fetched and bytes resumed from an earlier run, for one download.
type Downloaded = Result<(u64, u64), RemoteError>;

pub struct Engine {
    backend: Arc<dyn Backend>,
    jobs: usize,
    /// Set once an operation gave up on a transient failure: the remote is down, so the
    /// remaining transfers fail at once instead of each waiting out its own retries.
    unreachable: std::sync::Mutex<Option<String>>,
}

impl Engine {
    pub fn new(backend: Arc<dyn Backend>, jobs: usize) -> Self {
        Engine {
            backend,
            jobs: jobs.max(1),
            unreachable: std::sync::Mutex::new(None),
        }
    }

    pub fn url(&self) -> &str {
        self.backend.url()
    }

    /// Checks the remote's format marker; `create` writes it on a new remote (push).
    pub async fn check_format(&self, create: bool) -> Result<(), RemoteError> {
        let text = match self.retry(|| self.read_small(FORMAT_KEY)).await {
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

    async fn read_small(&self, key: &str) -> Result<Vec<u8>, RemoteError> {
        let stream = self.backend.get(key, 0).await?;
        let chunks: Vec<bytes::Bytes> = stream.try_collect().await?;
        Ok(chunks.concat())
    }

    /// Which of `objects` the remote lacks. Always asks the remote: nothing remembered
    /// from an earlier run can make a push skip an object.
    pub async fn missing(&self, objects: &[Hash]) -> Result<HashSet<Hash>, RemoteError> {
        let wanted: HashSet<Hash> = objects.iter().copied().collect();
        if wanted.len() >= LIST_THRESHOLD {
            let prefixes: HashSet<String> = wanted
                .iter()
                .map(|h| format!("b3/{}/", &h.hex()[..2]))
                .collect();
            let listed: Vec<Option<Vec<crate::remote::Listed>>> = futures::stream::iter(prefixes)
                .map(|p| async move { self.retry(|| self.backend.list(&p)).await })
                .buffer_unordered(self.jobs)
                .try_collect()
                .await?;
            if listed.iter().all(Option::is_some) {
                let present: HashSet<Hash> = listed
                    .into_iter()
                    .flatten()
                    .flatten()
                    .filter_map(|l| Hash::from_key(&l.key))
                    .collect();
                return Ok(wanted
                    .into_iter()
                    .filter(|h| !present.contains(h))
                    .collect());
            }
        }
        let checked: Vec<(Hash, bool)> = futures::stream::iter(wanted)
            .map(|h| async move {
                let key = h.key();
                self.retry(|| self.backend.exists(&key))
                    .await
                    .map(|e| (h, e))
            })
            .buffer_unordered(self.jobs)
            .try_collect()
            .await?;
        Ok(checked
            .into_iter()
            .filter(|(_, e)| !e)
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
    /// admitted. A download that breaks resumes from the bytes already written.
    pub async fn download(
        &self,
        cache: &Cache,
        objects: Vec<(Hash, u64)>,
        progress: &dyn Progress,
    ) -> Summary {
        let results: Vec<(Hash, Downloaded)> = futures::stream::iter(objects)
            .map(|(h, size)| async move {
                let r = self.download_one(cache, &h, progress).await;
                if r.is_err() {
                    progress.inc(1, size);
                }
                (h, r)
            })
            .buffer_unordered(self.jobs)
            .collect()
            .await;
        let mut summary = Summary::default();
        for (h, r) in results {
            match r {
                Ok((bytes, resumed)) => {
                    summary.transferred += 1;
                    summary.bytes += bytes;
                    summary.resumed_bytes += resumed;
                }
                Err(e) => summary.failed.push(Failure {
                    object: h.to_string(),
                    error: e.to_string(),
                }),
            }
        }
        summary
    }

    async fn download_one(
        &self,
        cache: &Cache,
        hash: &Hash,
        progress: &dyn Progress,
    ) -> Result<(u64, u64), RemoteError> {
        let local_err = |e: std::io::Error| {
            RemoteError::new(
                ErrorKind::Fatal,
                format!("writing object {hash} into the cache: {e}"),
            )
        };
        let (path, mut file) = open_partial(cache, hash).map_err(local_err)?;
        // Bytes kept from an interrupted run are hashed again, then the rest is fetched.
        let mut hasher = blake3::Hasher::new();
        let mut offset = 0u64;
        {
            let mut reader = std::fs::File::open(&path).map_err(local_err)?;
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = reader.read(&mut buf).map_err(local_err)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                offset += n as u64;
            }
        }
        let resumed = offset;
        let key = hash.key();
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            self.check_reachable()?;
            let result: Result<(), RemoteError> = async {
                let mut stream = self.backend.get(&key, offset).await?;
                while let Some(chunk) = stream.next().await {
                    let chunk = chunk?;
                    // Page-cache writes are quick; the blocking pool would cost more than it saves.
                    file.write_all(&chunk).map_err(local_err)?;
                    hasher.update(&chunk);
                    offset += chunk.len() as u64;
                    progress.inc(0, chunk.len() as u64);
                }
                Ok(())
            }
            .await;
            match result {
                Ok(()) => break,
                Err(e) if may_retry(&e, attempt, started) => {
                    attempt += 1;
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(e) => {
                    // Keep the bytes of a transient failure for the next run to resume from.
                    if e.kind == ErrorKind::Transient {
                        self.give_up(&e);
                    } else {
                        let _ = std::fs::remove_file(&path);
                    }
                    return Err(e);
                }
            }
        }
        progress.inc(1, 0);
        let actual = Hash::from_bytes(*hasher.finalize().as_bytes());
        if actual != *hash {
            let _ = std::fs::remove_file(&path);
            return Err(RemoteError::new(
                ErrorKind::Fatal,
                format!(
                    "object {hash} downloaded from remote `{}` is corrupt: its bytes hash to {actual}; it was not admitted to the cache\nhint: run `git mlv fsck -r <remote>`, then push the object again from a machine that has it",
                    self.url()
                ),
            ));
        }
        cache.admit(&path, hash).map_err(|e| {
            RemoteError::new(
                ErrorKind::Fatal,
                format!("admitting object {hash} into the cache: {e}"),
            )
        })?;
        Ok((offset - resumed, resumed))
    }

    /// Streams one remote object and returns the hash of its bytes (for `fsck -r`).
    pub async fn rehash_remote(&self, hash: &Hash) -> Result<Hash, RemoteError> {
        self.retry(|| async {
            let mut stream = self.backend.get(&hash.key(), 0).await?;
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
            .retry(|| self.backend.list("b3/"))
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
}

/// The partial download file for `hash`: one well-known name per object so an interrupted
/// download resumes, locked so two processes never append to the same one (the second
/// gets a fresh temporary file instead).
fn open_partial(cache: &Cache, hash: &Hash) -> std::io::Result<(PathBuf, std::fs::File)> {
    let dir = cache.tmp_dir();
    fs_err::create_dir_all(&dir)?;
    let path = dir.join(format!("partial-{}", hash.hex()));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)?;
    if file.try_lock().is_ok() {
        return Ok((path, file));
    }
    let (file, path) = tempfile::Builder::new()
        .prefix("partial")
        .tempfile_in(&dir)?
        .keep()
        .map_err(|e| e.error)?;
    Ok((path, file))
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
