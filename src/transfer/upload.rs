//! Uploads from the cache, many at once; the backend makes each create-only.

use super::{Engine, Failure, Summary};
use crate::cache::Cache;
use crate::hash::Hash;
use crate::progress::Progress;
use crate::remote::RemoteError;
use futures::StreamExt;

impl Engine {
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
                    error: e.text(),
                }),
            }
        }
        summary
    }
}
