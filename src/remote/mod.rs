//! Remote storage behind one trait: a folder (the embedded default), S3 and S3-compatible
//! servers, GCS and Azure (through the `object_store` crate), HTTP/WebDAV servers, and SSH
//! servers over SFTP.
//! Keys are the cache's keys (`b3/<2 hex>/<62 hex>`, `format.toml`) under the URL's prefix.

mod cloud;
mod connect;
mod file;
mod folder;
pub mod format;
mod http;
mod objstore;
mod ssh;

pub use file::open_file;

use crate::config::RemoteConfig;
use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What went wrong talking to a remote; every message names the remote (credentials
/// redacted) and the object.
#[derive(Debug, thiserror::Error)]
#[error("{detail}")]
pub struct RemoteError {
    pub kind: ErrorKind,
    pub detail: String,
    /// What to do next, shown on its own `hint:` line.
    pub hint: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The object is not there.
    NotFound,
    /// Credentials missing or refused.
    Auth,
    /// Worth retrying: connection refused or reset, timeout, 5xx.
    Transient,
    /// The remote's copy is bad: its bytes hash to something else, it has the wrong size,
    /// or it is not a regular file (a symlink on a folder remote). Never admitted, never
    /// followed; a push replaces it.
    Corrupt,
    /// Anything else: retrying would not help.
    Fatal,
}

impl RemoteError {
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        RemoteError {
            kind,
            detail: detail.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The detail followed by its hint line, as a listing of failed objects shows it.
    pub fn text(&self) -> String {
        crate::problem::with_hint(&self.detail, self.hint.as_deref())
    }
}

/// The operation ran and the remote failed it (exit 1), whatever the remote's reason.
impl crate::problem::Hinted for RemoteError {
    fn kind(&self) -> crate::problem::Kind {
        crate::problem::Kind::Failed
    }

    fn hint(&self) -> Option<String> {
        self.hint.clone()
    }
}

/// One object a listing returned.
pub struct Listed {
    pub key: String,
    /// When it was written: `gc -r` spares objects younger than the grace period.
    pub modified: std::time::SystemTime,
    pub held: Held,
}

/// What a remote holds under a key, as a listing or a HEAD request tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    Absent,
    /// A regular object, with its size when the protocol says it.
    Object(Option<u64>),
    /// Something that is not a regular file (a symlink or a folder on a folder remote):
    /// never a sound object, never read.
    NotAnObject,
}

/// What tells whether an object changed, as a HEAD request gives it: its size and, where
/// the protocol says them, its ETag and last-modified time (`import-url`'s `update`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stamp {
    pub size: Option<u64>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

impl Held {
    /// True when this is a sound copy of an object of `size` bytes as far as its kind and
    /// size tell (`None`: size unknown); a wrong size or a symlink is a bad object.
    pub fn sound(self, size: Option<u64>) -> bool {
        match self {
            Held::Object(Some(have)) => size.is_none_or(|want| want == have),
            Held::Object(None) => true,
            Held::Absent | Held::NotAnObject => false,
        }
    }
}

/// The remote storage protocol every backend speaks. Keys are relative to the remote root.
#[async_trait]
pub trait Backend: Send + Sync {
    /// The remote's URL for messages, without credentials.
    fn url(&self) -> &str;
    /// What the remote holds under `key`, without reading it.
    async fn head(&self, key: &str) -> Result<Held, RemoteError>;
    /// The object's [`Stamp`], `None` when it is not there (or is no object).
    async fn stamp(&self, key: &str) -> Result<Option<Stamp>, RemoteError> {
        Ok(match self.head(key).await? {
            Held::Object(size) => Some(Stamp {
                size,
                ..Stamp::default()
            }),
            Held::Absent | Held::NotAnObject => None,
        })
    }
    async fn exists(&self, key: &str) -> Result<bool, RemoteError> {
        Ok(self.head(key).await? != Held::Absent)
    }
    /// Every key under `prefix`, or `None` when there are more than `limit` (the listing
    /// stops there) or the protocol cannot list (plain HTTP).
    async fn list(&self, prefix: &str, limit: usize) -> Result<Option<Vec<Listed>>, RemoteError>;
    async fn delete(&self, key: &str) -> Result<(), RemoteError>;
    /// The object's bytes from `from` on, up to `to` (exclusive) or its end, as a stream:
    /// a broken download resumes, a big one downloads in ranges.
    async fn get(
        &self,
        key: &str,
        from: u64,
        to: Option<u64>,
    ) -> Result<BoxStream<'static, Result<Bytes, RemoteError>>, RemoteError>;
    /// A whole small object in memory. More than `limit` bytes means the remote copy is
    /// damaged: it is refused, so a bad object cannot make us hold more than that.
    async fn get_bytes(&self, key: &str, limit: u64) -> Result<Bytes, RemoteError> {
        let mut stream = self.get(key, 0, None).await?;
        let mut out = bytes::BytesMut::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            if (out.len() + chunk.len()) as u64 > limit {
                return Err(too_big(key, self.url(), limit));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out.freeze())
    }
    /// How many ranges of one big object are worth downloading at once: one for a folder
    /// (a local read is not latency-bound) and for plain HTTP servers, some of which
    /// ignore range requests.
    fn parallel_ranges(&self) -> usize {
        1
    }
    /// Blocking reads on the caller's thread, for a remote whose objects are local files (a
    /// folder): the engine copies from it in the kernel and reads small objects without
    /// hand-offs to the blocking pool. `None` for a network protocol.
    fn blocking_reads(&self) -> Option<&dyn BlockingRead> {
        None
    }
    /// Temporary files that killed uploads left on the remote (with their sizes), untouched
    /// for `age` (`gc -r` removes them). Object stores and HTTP servers keep none.
    fn stale_uploads(&self, _age: std::time::Duration) -> std::io::Result<Vec<(PathBuf, u64)>> {
        Ok(Vec::new())
    }
    /// Uploads a cache file of `size` bytes, streaming it with bounded memory; create-only
    /// where the protocol allows, so a sound existing object is never rewritten, but one of
    /// the wrong size or kind (a bad object) is replaced. A file that does not hold `size`
    /// bytes never completes an upload.
    async fn put_file(&self, key: &str, path: &Path, size: u64) -> Result<(), RemoteError>;
    async fn put_bytes(&self, key: &str, bytes: Bytes) -> Result<(), RemoteError>;
    /// Writes a small object that may already exist, replacing it whole (deploy's
    /// `current.json`, the one key that is not write-once).
    async fn replace(&self, key: &str, bytes: Bytes) -> Result<(), RemoteError>;
}

/// What a remote of local files can do with plain blocking I/O (see
/// `Backend::blocking_reads`).
pub trait BlockingRead: Sync {
    /// Copies bytes `range` of `key` into `dest` at the same offsets, in the kernel
    /// (`copy_file_range`), a step at a time so progress shows and a broken copy keeps what
    /// it wrote. Returns the bytes copied: fewer than asked when the object is shorter.
    fn copy_range_into(
        &self,
        key: &str,
        dest: &std::fs::File,
        range: std::ops::Range<u64>,
        progress: &dyn crate::progress::Progress,
    ) -> Result<u64, RemoteError>;
    /// A whole object of at most `limit` bytes.
    fn read_limited(&self, key: &str, limit: u64) -> Result<Bytes, RemoteError>;
}

/// How long a connection may take to open.
pub(crate) const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// How long a server may stay silent (no answer, no bytes) before the request counts as
/// timed out and is retried: two silent attempts exceed the engine's 20 s retry budget, so
/// a server that accepts connections but never answers fails an operation in about 20 s.
pub(crate) const SILENCE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// What to do about an object a remote holds damaged.
pub const CORRUPT_HINT: &str =
    "run `git mlv fsck -r <remote>`, then push the object again from a machine that has it";

/// The URL forms a remote or deploy target can take, for hints.
pub const URL_FORMS: &str = "a folder path, file://, s3://bucket/prefix, gs://, az://, http(s)://, ssh://[user@]host/path or [user@]host:path";

/// What a URL names, once its form is known to be one git-mlv can use.
enum Place {
    /// A folder: a path relative to the repository root, or absolute.
    Folder(PathBuf),
    ObjStore(url::Url),
    Http(url::Url),
    Ssh(ssh::Location),
}

/// Reads the form of `url`, or says why git-mlv cannot use it.
fn place(url: &str, root: &Path) -> Result<Place, String> {
    if !url.contains("://") {
        if is_scp_like(url) {
            return ssh::Location::scp(url).map(Place::Ssh);
        }
        return Ok(Place::Folder(root.join(url)));
    }
    let parsed = url::Url::parse(url).map_err(|e| format!("does not parse ({e})"))?;
    match parsed.scheme() {
        "file" => parsed
            .to_file_path()
            .map(Place::Folder)
            .map_err(|_| "is not a local path".to_string()),
        "s3" | "gs" | "az" | "azure" | "abfs" if parsed.host_str().unwrap_or("").is_empty() => {
            Err(format!(
                "has no bucket or container (write it as {}://bucket/prefix)",
                parsed.scheme()
            ))
        }
        "s3" | "gs" | "az" | "azure" | "abfs" => Ok(Place::ObjStore(parsed)),
        "http" | "https" => Ok(Place::Http(parsed)),
        "ssh" | "sftp" => ssh::Location::from_url(&parsed).map(Place::Ssh),
        other => Err(format!("has the unknown scheme `{other}`")),
    }
}

/// True when `location` is a URL (`file://`, `https://`, `s3://`, ssh scp-style), not a
/// local path.
pub fn is_url(location: &str) -> bool {
    location.contains("://") || is_scp_like(location)
}

/// Git's rule for a location without `://`: a `:` before the first `/` makes it scp-style
/// SSH (`me@nas:/srv/mlv`, `host:path`); `./a:b` and `/x/a:b` are paths. Read as a folder,
/// it would put the data in a folder `me@nas:` inside the work tree.
pub fn is_scp_like(url: &str) -> bool {
    url.find(':')
        .is_some_and(|colon| url.find('/').is_none_or(|slash| colon < slash))
}

/// The folder a folder remote's URL names (relative paths from `root`), or `None` for
/// any other kind of remote or a URL git-mlv cannot use.
pub fn folder(url: &str, root: &Path) -> Option<PathBuf> {
    match place(url, root) {
        Ok(Place::Folder(p)) => Some(p),
        _ => None,
    }
}

/// Checks the form of a URL (or folder path) without opening it: `Err(why)` for a malformed
/// URL or an unknown scheme, so callers can word the message for what the URL is for.
pub fn check_url(url: &str) -> Result<(), String> {
    place(url, Path::new("")).map(|_| ())
}

/// Opens the backend for a remote's URL and settings, to talk to it. A malformed URL, an
/// unknown scheme or an S3 remote with no credentials anywhere is a usage error.
pub fn open(name: &str, remote: &RemoteConfig, root: &Path) -> anyhow::Result<Arc<dyn Backend>> {
    open_as(name, remote, root, true)
}

/// Checks that a remote's URL and settings open, without asking for credentials: `remote
/// add` writes a remote before its credentials are set.
pub fn check(name: &str, remote: &RemoteConfig, root: &Path) -> anyhow::Result<()> {
    open_as(name, remote, root, false).map(|_| ())
}

fn open_as(
    name: &str,
    remote: &RemoteConfig,
    root: &Path,
    credentials: bool,
) -> anyhow::Result<Arc<dyn Backend>> {
    let url = remote.url.as_str();
    let place = place(url, root).map_err(|why| {
        crate::problem::usage_with_hint(
            format!("remote `{name}` has URL `{}` that {why}", redact(url)),
            format!("use {URL_FORMS}; fix it with `git mlv remote set {name} url <url>`"),
        )
    })?;
    let connect = |aws, files| connect::Connect::read(name, remote, root, aws, files);
    Ok(match place {
        Place::Folder(path) => Arc::new(folder::Folder::new(&path, url)),
        Place::ObjStore(p) => {
            let c = connect(p.scheme() == "s3", credentials)?;
            Arc::new(objstore::ObjStore::open(name, &p, remote, credentials, &c)?)
        }
        Place::Http(p) => Arc::new(http::Http::open(&p, remote, &connect(false, credentials)?)?),
        Place::Ssh(loc) => {
            // No TLS over ssh: only `timeout` applies, and no CA bundle is read.
            let c = connect(false, false)?;
            Arc::new(ssh::Ssh::open(name, loc, remote, root, &c))
        }
    })
}

/// A cache file to upload in one request. A small one is read on the calling task: a
/// hand-off to the blocking pool per 8 KiB file costs more than the read.
async fn read_whole(path: &Path, size: u64) -> std::io::Result<Vec<u8>> {
    if size <= crate::hash::SMALL_FILE {
        std::fs::read(path)
    } else {
        tokio::fs::read(path).await
    }
}

pub(super) fn too_big(key: &str, url: &str, limit: u64) -> RemoteError {
    RemoteError::new(
        ErrorKind::Corrupt,
        format!(
            "`{key}` on remote `{url}` holds more than the {limit} bytes expected: it is corrupt"
        ),
    )
    .with_hint(CORRUPT_HINT)
}

/// The URL without a user name or password, for every message and listing.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("***");
            let _ = u.set_password(None);
            u.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scp_style_locations_are_ssh_not_folders() {
        for url in ["me@nas:/srv/mlv", "host:path", "nas:mlv", "h:"] {
            assert!(
                matches!(place(url, Path::new("")), Ok(Place::Ssh(_))),
                "{url}"
            );
        }
        assert!(check_url("C:\\data").is_err_and(|why| why.contains("Windows")));
        for url in [
            "./a:b",
            "/x/a:b",
            "../a:b",
            "data",
            "/srv/mlv",
            "file:///x/a:b",
        ] {
            assert!(check_url(url).is_ok(), "{url}");
        }
    }

    #[test]
    fn redacts_credentials_in_urls() {
        assert_eq!(
            redact("https://alice:s3cret@host/data"),
            "https://***@host/data"
        );
        assert_eq!(redact("s3://bucket/prefix"), "s3://bucket/prefix");
        assert_eq!(redact("/mnt/nas/store"), "/mnt/nas/store");
    }
}
