//! The one transfer engine every backend shares: many transfers in flight, retries with
//! backoff for transient failures, existence checks in batches, downloads verified (and
//! resumable) before they enter the cache. Each concept has its file: downloads
//! (`download.rs`, their ranges in `ranges.rs`, resume records in `partial.rs`), uploads,
//! retries, which objects a remote lacks (`missing.rs`), and small objects in packs: the
//! remote's indexes (`indexes.rs`), packs written (`pack_upload.rs`) and read by ranges
//! (`packed.rs`).

mod download;
mod indexes;
mod missing;
mod pack_upload;
mod packed;
mod partial;
mod ranges;
mod repack;
mod retry;
mod upload;

pub use repack::{Repacked, Sweep};

use crate::hash::Hash;
use crate::remote::{Backend, RemoteError};
use futures::StreamExt;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

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

pub struct Engine {
    backend: Arc<dyn Backend>,
    jobs: usize,
    /// Set once an operation gave up on a transient failure: the remote is down, so the
    /// remaining transfers fail at once instead of each waiting out its own retries.
    unreachable: std::sync::Mutex<Option<String>>,
    /// How long a failing operation is retried.
    retry_budget: std::time::Duration,
    /// Big downloads also write a ready copy, which a checkout moves into the work tree
    /// instead of copying the object a second time (`pull`).
    ready_copies: bool,
    /// Objects up to this size are pushed in packs (0: never).
    pack_threshold: u64,
    /// Where this machine keeps the remote's pack indexes (`None`: in memory only).
    local_indexes: Option<crate::pack::LocalIndexes>,
    /// The remote's packed objects, read once per command (see `indexes.rs`).
    inventory: std::sync::Mutex<Option<Arc<crate::pack::Inventory>>>,
    /// Whether the remote can list `packs/` (plain HTTP cannot: it keeps an inventory).
    lists_packs: std::sync::atomic::AtomicBool,
    /// Indexes the remote lists that are damaged: never trusted (`fsck -r` names them).
    damaged_indexes: std::sync::Mutex<Vec<(String, String)>>,
    /// The remote's format version as `check_format` read it.
    format: std::sync::atomic::AtomicU32,
}

impl Engine {
    pub fn new(backend: Arc<dyn Backend>, jobs: usize) -> Self {
        Engine {
            backend,
            jobs: jobs.max(1),
            unreachable: std::sync::Mutex::new(None),
            retry_budget: retry::RETRY_BUDGET,
            ready_copies: false,
            pack_threshold: 0,
            local_indexes: None,
            inventory: std::sync::Mutex::new(None),
            lists_packs: std::sync::atomic::AtomicBool::new(true),
            damaged_indexes: std::sync::Mutex::new(Vec::new()),
            format: std::sync::atomic::AtomicU32::new(0),
        }
    }

    /// Pushes objects up to `threshold` bytes in packs (0: never), keeping the remote's
    /// indexes in `local` between commands.
    pub fn with_packs(mut self, threshold: u64, local: crate::pack::LocalIndexes) -> Self {
        self.pack_threshold = threshold.min(crate::pack::MAX_THRESHOLD);
        self.local_indexes = Some(local);
        self
    }

    /// Retries a failing operation for `budget` instead of 20 s: a remote's `timeout`
    /// makes it twice that, so a server silent for two attempts fails the operation.
    pub fn with_retry_budget(mut self, budget: std::time::Duration) -> Self {
        self.retry_budget = budget;
        self
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
        let version = self
            .retry(|| crate::remote::format::check(self.backend.as_ref(), create))
            .await?;
        self.format
            .store(version, std::sync::atomic::Ordering::Relaxed);
        Ok(())
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
                        error: e.text(),
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
    pub fn stale_uploads(&self, age: Duration) -> std::io::Result<Vec<(std::path::PathBuf, u64)>> {
        self.backend.stale_uploads(age)
    }
}
