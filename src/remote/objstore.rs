//! S3 (and S3-compatible servers), Google Cloud Storage and Azure Blob Storage, through the
//! `object_store` crate: request signing, multipart uploads and listing are its job.
//! Retries are the transfer engine's, the same for every backend, so the crate's own are off.

use super::{Backend, ErrorKind, Held, RemoteError};
use crate::config::RemoteConfig;
use async_trait::async_trait;
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path as StorePath;
use object_store::{
    GetOptions, GetRange, MultipartUpload, ObjectStore, ObjectStoreExt, PutMode, PutOptions,
    PutPayload, RetryConfig,
};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// Objects above this size are uploaded in parts.
const MULTIPART_THRESHOLD: u64 = 16 << 20;
const PART_SIZE: usize = 16 << 20;
/// Parts of one object in flight at once.
const PARTS_IN_FLIGHT: usize = 3;
/// Parts read into memory at once across every upload of a command: four packs (or 32 big
/// files) each with their parts in flight held 256 MiB (2 GiB), pushing a million small
/// files to S3 peaked at 359 MB; 8 parts are 128 MiB, still 128 MiB on the wire.
const PARTS_IN_MEMORY: usize = 8;
/// Ranges of one big object downloaded at once.
const RANGES_IN_FLIGHT: usize = 4;

pub struct ObjStore {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    url: String,
    /// The bucket a push creates when a write finds it missing (GCS, Azure).
    creates: Option<super::cloud::Bucket>,
    /// A permit per part read into memory (`PARTS_IN_MEMORY`), held until the part is sent.
    parts: Arc<tokio::sync::Semaphore>,
}

impl ObjStore {
    /// The store for `url`; with `credentials`, an S3 remote's credentials are resolved
    /// first (see `credentials::aws`), without, the store is built only to check settings.
    pub fn open(
        name: &str,
        url: &url::Url,
        remote: &RemoteConfig,
        credentials: bool,
        connect: &super::connect::Connect,
    ) -> anyhow::Result<Self> {
        let bucket = url.host_str().unwrap_or_default().to_string();
        if bucket.is_empty() {
            return Err(crate::problem::usage_with_hint(
                format!("remote `{name}` has URL `{url}` without a bucket or container"),
                format!("write it as {}://bucket/prefix", url.scheme()),
            ));
        }
        let prefix = url.path().trim_matches('/').to_string();
        let retry = RetryConfig {
            max_retries: 0,
            retry_timeout: Duration::from_secs(1),
            ..RetryConfig::default()
        };
        let mut creates = None;
        let store: Arc<dyn ObjectStore> = match url.scheme() {
            "s3" => {
                let mut b = object_store::aws::AmazonS3Builder::from_env()
                    .with_bucket_name(&bucket)
                    .with_client_options(connect.object_store()?)
                    .with_retry(retry);
                if let Some(endpoint) = &remote.endpoint {
                    // botocore's rule: with a custom endpoint, path-style is the default.
                    b = b
                        .with_endpoint(endpoint)
                        .with_virtual_hosted_style_request(false);
                }
                if let Some(path_style) = remote.path_style {
                    b = b.with_virtual_hosted_style_request(!path_style);
                }
                let region = remote
                    .region
                    .clone()
                    .or_else(|| std::env::var("AWS_REGION").ok())
                    .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok());
                b = b.with_region(region.unwrap_or_else(|| "us-east-1".into()));
                let creds = match credentials {
                    true => crate::credentials::aws(name, remote)?,
                    false => None,
                };
                if let Some(creds) = creds {
                    b = b
                        .with_access_key_id(creds.access_key_id)
                        .with_secret_access_key(creds.secret_access_key);
                    if let Some(t) = creds.session_token {
                        b = b.with_token(t);
                    }
                }
                Arc::new(b.build().map_err(|e| config_error(name, e))?)
            }
            scheme => {
                // `gs`, else `az`, `azure` or `abfs` (`remote::place` admits no other).
                let open = match scheme {
                    "gs" => super::cloud::gcs,
                    _ => super::cloud::azure,
                };
                let cloud = open(name, &bucket, remote, connect, retry)?;
                creates = Some(cloud.bucket);
                cloud.store
            }
        };
        Ok(ObjStore {
            store,
            prefix,
            url: url.to_string(),
            creates,
            parts: Arc::new(tokio::sync::Semaphore::new(PARTS_IN_MEMORY)),
        })
    }

    fn path(&self, key: &str) -> StorePath {
        if self.prefix.is_empty() {
            StorePath::from(key)
        } else {
            StorePath::from(format!("{}/{key}", self.prefix))
        }
    }

    /// A small object written with `mode`; a write answered 404 found no bucket, which is
    /// created where the service allows before the write is tried once more.
    async fn put(
        &self,
        key: &str,
        bytes: &Bytes,
        mode: PutMode,
    ) -> Result<object_store::Result<object_store::PutResult>, RemoteError> {
        let put = || {
            let (store, path) = (&self.store, self.path(key));
            let (payload, mode) = (PutPayload::from(bytes.clone()), mode.clone());
            async move {
                let opts = PutOptions {
                    mode,
                    ..PutOptions::default()
                };
                store.put_opts(&path, payload, opts).await
            }
        };
        match (put().await, &self.creates) {
            (Err(object_store::Error::NotFound { .. }), Some(bucket)) => {
                bucket.create(&self.url).await?;
                Ok(put().await)
            }
            (r, _) => Ok(r),
        }
    }

    fn err(&self, key: &str, e: object_store::Error) -> RemoteError {
        map_error(&self.url, key, e)
    }

    /// Sends the file at `path` as the parts of `upload`, a few in flight, and completes
    /// it only when the file held exactly `size` bytes: a truncated cache object must
    /// never become a remote object.
    async fn send_parts(
        &self,
        upload: &mut dyn MultipartUpload,
        key: &str,
        path: &Path,
        size: u64,
    ) -> Result<(), RemoteError> {
        let io_err = |e: std::io::Error| {
            RemoteError::new(
                ErrorKind::Fatal,
                format!("reading `{}` to upload it: {e}", path.display()),
            )
        };
        let mut file = tokio::fs::File::open(path).await.map_err(io_err)?;
        let mut in_flight = futures::stream::FuturesUnordered::<
            BoxFuture<'static, object_store::Result<()>>,
        >::new();
        let mut read = 0u64;
        loop {
            // This upload's parts are sent only while it polls them: waiting for a permit
            // without polling them would hold theirs forever once every permit is out.
            let permit = loop {
                tokio::select! {
                    permit = Arc::clone(&self.parts).acquire_owned() => {
                        break permit.expect("the semaphore is never closed");
                    }
                    Some(r) = in_flight.next() => r.map_err(|e| self.err(key, e))?,
                }
            };
            let mut part = Vec::with_capacity(PART_SIZE);
            while part.len() < PART_SIZE {
                let n = (&mut file)
                    .take((PART_SIZE - part.len()) as u64)
                    .read_to_end(&mut part)
                    .await
                    .map_err(io_err)?;
                if n == 0 {
                    break;
                }
            }
            if part.is_empty() {
                break;
            }
            read += part.len() as u64;
            while in_flight.len() >= PARTS_IN_FLIGHT {
                if let Some(r) = in_flight.next().await {
                    r.map_err(|e| self.err(key, e))?;
                }
            }
            let sent = upload.put_part(PutPayload::from(part));
            in_flight.push(Box::pin(async move {
                let done = sent.await;
                drop(permit);
                done
            }));
        }
        while let Some(r) = in_flight.next().await {
            r.map_err(|e| self.err(key, e))?;
        }
        if read != size {
            return Err(RemoteError::new(
                ErrorKind::Fatal,
                format!(
                    "the cache object `{}` is {read} bytes, not {size}: it is damaged and was not uploaded",
                    path.display()
                ),
            )
            .with_hint("run `git mlv fsck`"));
        }
        upload.complete().await.map_err(|e| self.err(key, e))?;
        Ok(())
    }
}

pub(super) fn config_error(name: &str, e: object_store::Error) -> anyhow::Error {
    crate::problem::usage_with_hint(
        format!("remote `{name}` cannot be opened: {e}"),
        "check its URL, endpoint and region with `git mlv remote list`",
    )
}

pub(super) fn map_error(url: &str, key: &str, e: object_store::Error) -> RemoteError {
    use object_store::Error as E;
    let tls = super::connect::certificate_hint(&format!("{e:?}"));
    let (kind, hint) = match &e {
        E::NotFound { .. } => (ErrorKind::NotFound, None),
        // Retrying cannot make the certificate trusted.
        _ if tls.is_some() => (ErrorKind::Fatal, tls),
        E::Unauthenticated { .. } | E::PermissionDenied { .. } => (
            ErrorKind::Auth,
            Some(super::cloud::check_credentials(url).unwrap_or(CHECK_CREDENTIALS)),
        ),
        E::Generic { .. } => {
            let text = format!("{e:?}");
            if text.contains("SignatureDoesNotMatch")
                || text.contains("InvalidAccessKeyId")
                || text.contains("AccessDenied")
                || text.contains("AuthorizationFailure")
                || text.contains("AuthenticationFailed")
            {
                (
                    ErrorKind::Auth,
                    Some(super::cloud::check_credentials(url).unwrap_or(CHECK_CREDENTIALS)),
                )
            } else if text.contains("Missing") && text.contains("credential")
                || text.contains("NoCredentials")
            {
                (
                    ErrorKind::Auth,
                    Some(
                        "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile, for this remote",
                    ),
                )
            } else {
                // S3 sends these as 400s, but they are the connection's fault: AWS's own
                // SDKs retry them.
                let retryable = ["RequestTimeout", "IncompleteBody", "SlowDown"]
                    .iter()
                    .any(|code| text.contains(code));
                match http_status(&text) {
                    // Any other 4xx is the request itself being wrong (a bad bucket name,
                    // a wrong region): asking again cannot help.
                    Some(s) if (400..500).contains(&s) && s != 408 && s != 429 && !retryable => (
                        ErrorKind::Fatal,
                        Some(
                            "the server refused the request; check the bucket, endpoint and region with `git mlv remote list`",
                        ),
                    ),
                    _ => (ErrorKind::Transient, None),
                }
            }
        }
        _ => (ErrorKind::Fatal, None),
    };
    RemoteError {
        hint: hint.map(str::to_string),
        ..RemoteError::new(kind, format!("`{key}` on remote `{url}`: {e}"))
    }
}

const CHECK_CREDENTIALS: &str = "check the credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or `.mlv/config.local.toml`)";

/// The HTTP status in an object_store error's text: its `RetryError`, which carries the
/// status, is not public.
fn http_status(text: &str) -> Option<u16> {
    let (_, rest) = text.split_once("status: ")?;
    rest.get(..3)?.parse().ok()
}

#[async_trait]
impl Backend for ObjStore {
    fn url(&self) -> &str {
        &self.url
    }

    async fn head(&self, key: &str) -> Result<Held, RemoteError> {
        Ok(match self.stamp(key).await? {
            Some(stamp) => Held::Object(stamp.size),
            None => Held::Absent,
        })
    }

    async fn stamp(&self, key: &str) -> Result<Option<super::Stamp>, RemoteError> {
        match self.store.head(&self.path(key)).await {
            Ok(meta) => Ok(Some(super::Stamp {
                size: Some(meta.size),
                etag: meta.e_tag,
                last_modified: Some(meta.last_modified.to_rfc3339()),
            })),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.err(key, e)),
        }
    }

    async fn list(
        &self,
        prefix: &str,
        limit: usize,
    ) -> Result<Option<Vec<super::Listed>>, RemoteError> {
        let base = self.path(prefix);
        let strip = if self.prefix.is_empty() {
            0
        } else {
            self.prefix.len() + 1
        };
        let metas: Vec<_> = self
            .store
            .list(Some(&base))
            // Pages are fetched as they are read: stopping here stops the listing.
            .take(limit.saturating_add(1))
            .try_collect()
            .await
            .map_err(|e| self.err(prefix, e))?;
        if metas.len() > limit {
            return Ok(None);
        }
        Ok(Some(
            metas
                .into_iter()
                .map(|m| super::Listed {
                    key: m.location.as_ref()[strip..].to_string(),
                    modified: std::time::UNIX_EPOCH
                        + Duration::from_millis(m.last_modified.timestamp_millis().max(0) as u64),
                    held: Held::Object(Some(m.size)),
                })
                .collect(),
        ))
    }

    async fn delete(&self, key: &str) -> Result<(), RemoteError> {
        match self.store.delete(&self.path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.err(key, e)),
        }
    }

    async fn get(
        &self,
        key: &str,
        from: u64,
        to: Option<u64>,
    ) -> Result<BoxStream<'static, Result<Bytes, RemoteError>>, RemoteError> {
        let range = match to {
            Some(to) => Some(GetRange::Bounded(from..to)),
            None => (from > 0).then_some(GetRange::Offset(from)),
        };
        let opts = GetOptions {
            range,
            ..GetOptions::default()
        };
        let result = self
            .store
            .get_opts(&self.path(key), opts)
            .await
            .map_err(|e| self.err(key, e))?;
        let (url, key) = (self.url.clone(), key.to_string());
        Ok(result
            .into_stream()
            .map(move |r| r.map_err(|e| map_error(&url, &key, e)))
            .boxed())
    }

    /// One GET stream is bound by per-request work on both ends (s3s-fs reads 4 KiB at a
    /// time; S3 serves ~100 MB/s per connection): several ranges at once go faster.
    fn parallel_ranges(&self) -> usize {
        RANGES_IN_FLIGHT
    }

    async fn put_file(&self, key: &str, path: &Path, size: u64) -> Result<(), RemoteError> {
        let io_err = |e: std::io::Error| {
            RemoteError::new(
                ErrorKind::Fatal,
                format!("reading `{}` to upload it: {e}", path.display()),
            )
        };
        if size <= MULTIPART_THRESHOLD {
            let bytes = super::read_whole(path, size).await.map_err(io_err)?;
            return self.put_bytes(key, Bytes::from(bytes)).await;
        }
        let mut upload = self
            .store
            .put_multipart(&self.path(key))
            .await
            .map_err(|e| self.err(key, e))?;
        let sent = self.send_parts(upload.as_mut(), key, path, size).await;
        if sent.is_err() {
            // Parts of an upload never completed stay on the server (and are billed) until
            // aborted; a failed abort leaves them to the bucket's lifecycle rule.
            let _ = upload.abort().await;
        }
        sent
    }

    async fn put_bytes(&self, key: &str, bytes: Bytes) -> Result<(), RemoteError> {
        let len = bytes.len() as u64;
        match self.put(key, &bytes, PutMode::Create).await? {
            Ok(_) => Ok(()),
            // Content-addressed: an object already there holds these very bytes, unless its
            // size says it is a bad copy, which is replaced.
            Err(object_store::Error::AlreadyExists { .. })
            | Err(object_store::Error::Precondition { .. }) => {
                if self.head(key).await?.sound(Some(len)) {
                    return Ok(());
                }
                self.replace(key, bytes).await
            }
            Err(e) => Err(self.err(key, e)),
        }
    }

    async fn replace(&self, key: &str, bytes: Bytes) -> Result<(), RemoteError> {
        self.put(key, &bytes, PutMode::Overwrite)
            .await?
            .map(|_| ())
            .map_err(|e| self.err(key, e))
    }
}
