//! Retries: which failures are transient, the backoff between attempts, the time budget,
//! and the shared verdict that a remote is down so the remaining transfers fail at once.

use super::Engine;
use crate::remote::{ErrorKind, RemoteError};
use std::time::{Duration, Instant};

/// Retries stop once a transfer has been failing for this long, so an unreachable remote
/// fails well within 30 seconds instead of hanging (a remote's `timeout` changes it: see
/// `Engine::with_retry_budget`).
pub(super) const RETRY_BUDGET: Duration = Duration::from_secs(20);
const MAX_ATTEMPTS: u32 = 6;

pub(super) fn backoff(attempt: u32) -> Duration {
    Duration::from_millis((100u64 << (2 * attempt.min(4))).min(4_000))
}

impl Engine {
    /// A transient failure is tried again while attempts and the time budget last.
    pub(super) fn may_retry(&self, e: &RemoteError, attempt: u32, started: Instant) -> bool {
        e.kind == ErrorKind::Transient
            && attempt + 1 < MAX_ATTEMPTS
            && started.elapsed() < self.retry_budget
    }

    /// Runs `op` again on transient failures, with exponential backoff, within the budget.
    pub(super) async fn retry<T, F, Fut>(&self, mut op: F) -> Result<T, RemoteError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, RemoteError>>,
    {
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            self.check_reachable()?;
            match op().await {
                Err(e) if self.may_retry(&e, attempt, started) => {
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
    pub(super) fn check_reachable(&self) -> Result<(), RemoteError> {
        match self.unreachable.lock().expect("not poisoned").clone() {
            Some(why) => Err(RemoteError::new(ErrorKind::Transient, why)),
            None => Ok(()),
        }
    }

    pub(super) fn give_up(&self, e: &RemoteError) {
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
