//! `import-url`: a plain file at a URL (`https://`, `http://`, `s3://` and the other object
//! stores, `file://` or a path), hashed into this cache as it downloads and tracked, with its
//! URL and what says it changed (size and ETag and Last-Modified from a HEAD request; size
//! and mtime for a local file) in the pointer's `[source]` table, so `update` downloads it
//! again only when that changed.

use super::import::{Done, destination, keeping_extra, place};
use super::report::{self, Reporter};
use crate::cache::{Access, Cache};
use crate::hash::Hash;
use crate::paths::RepoPath;
use crate::pointer::Pointer;
use crate::problem::{failed_with_hint, usage_with_hint};
use crate::progress::Progress;
use crate::remote::{Backend, RemoteError};
use crate::repo::Repo;
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the file is read from.
enum Origin {
    Local(PathBuf),
    /// The backend for the URL's folder, and the file's key in it.
    Remote(Arc<dyn Backend>, String),
}

/// Downloads the file at `url` into the cache and tracks it at `out` (default: its name).
pub fn import_url(
    repo: &Repo,
    url: &str,
    out: Option<&Path>,
    report: &dyn Reporter,
) -> anyhow::Result<Done> {
    let origin = origin(url)?;
    let name = match &origin {
        Origin::Local(file) => file.file_name().map(PathBuf::from).unwrap_or_default(),
        Origin::Remote(_, key) => PathBuf::from(key),
    };
    let dest = destination(repo, out.unwrap_or(&name), true)?;
    download(repo, url, &origin, &dest, None, report)
}

/// Downloads the source of `pointer` again when what says it changed did.
pub(super) fn update(
    repo: &Repo,
    dest: &RepoPath,
    pointer: &Pointer,
    source: &toml::Table,
    report: &dyn Reporter,
) -> anyhow::Result<Done> {
    let url = pointer.source_field("url").unwrap_or_default();
    let origin = origin(url)?;
    if !differs(&stamp(url, &origin)?, source) {
        if !super::import::missing(repo, dest) {
            return Ok(Done::new(dest, url, pointer, false));
        }
        if repo.cache()?.contains(&pointer.hash) {
            place(repo, dest, pointer, true, report)?;
            return Ok(Done {
                restored: true,
                ..Done::new(dest, url, pointer, false)
            });
        }
        return Ok(Done {
            updated: false,
            restored: true,
            ..download(repo, url, &origin, dest, Some(pointer), report)?
        });
    }
    download(repo, url, &origin, dest, Some(pointer), report)
}

/// True when the file at `url` no longer has the stamp `source` recorded (one HEAD
/// request, or a stat of a local file).
pub(super) fn changed(url: &str, source: &toml::Table) -> anyhow::Result<bool> {
    Ok(differs(&stamp(url, &origin(url)?)?, source))
}

/// True when a field of `now` differs from the one `source` recorded.
fn differs(now: &toml::Table, source: &toml::Table) -> bool {
    now.iter().any(|(k, v)| source.get(k) != Some(v))
}

/// Downloads the file at `url` and tracks it at `dest`, keeping the unknown fields of the
/// `old` pointer it replaces.
fn download(
    repo: &Repo,
    url: &str,
    origin: &Origin,
    dest: &RepoPath,
    old: Option<&Pointer>,
    report: &dyn Reporter,
) -> anyhow::Result<Done> {
    let cache = repo.cache()?;
    let _cache_lock = report::lock_cache(&cache, Access::Shared, report)?;
    let mut source = stamp(url, origin)?;
    let (hash, size) = match origin {
        Origin::Local(file) => {
            let size = source.get("size").and_then(|v| v.as_integer()).unwrap_or(0);
            cache.insert_file(file, size as u64)?
        }
        Origin::Remote(store, key) => {
            let bar = report.progress("downloading");
            let got = fetch(&cache, url, &**store, key, &*bar)?;
            drop(bar);
            got
        }
    };
    if let Some(want) = source.get("size").and_then(|v| v.as_integer())
        && want != size as i64
    {
        return Err(failed_with_hint(
            format!(
                "`{url}` changed while it was read: {size} bytes came, {want} were announced; nothing was changed"
            ),
            "run the command again",
        ));
    }
    source.insert("url".into(), url.into());
    let pointer = keeping_extra(Pointer::file(hash, size), old).with_source(source);
    place(repo, dest, &pointer, true, report)?;
    Ok(Done::new(dest, url, &pointer, true))
}

/// Streams `key` of `store` into `cache`, hashed as it is written to a temporary file
/// that enters the cache only whole, under the hash of what came.
fn fetch(
    cache: &Cache,
    url: &str,
    store: &dyn Backend,
    key: &str,
    progress: &dyn Progress,
) -> anyhow::Result<(Hash, u64)> {
    let rt = super::engine::runtime()?;
    let reader = Chunks {
        chunks: rt.block_on(store.get(key, 0, None))?,
        runtime: rt.handle().clone(),
        left: Bytes::new(),
        progress,
    };
    cache
        .insert_reader(reader)
        .map_err(|e| anyhow::Error::from(e).context(format!("downloading `{url}`")))
}

/// A download read as a blocking stream of bytes (on whichever thread reads it).
struct Chunks<'a> {
    chunks: BoxStream<'static, Result<Bytes, RemoteError>>,
    runtime: tokio::runtime::Handle,
    left: Bytes,
    progress: &'a dyn Progress,
}

impl std::io::Read for Chunks<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.left.is_empty() {
            match self.runtime.block_on(self.chunks.next()) {
                None => return Ok(0),
                Some(chunk) => {
                    self.left = chunk.map_err(std::io::Error::other)?;
                    self.progress.inc(0, self.left.len() as u64);
                }
            }
        }
        let n = buf.len().min(self.left.len());
        buf[..n].copy_from_slice(&self.left.split_to(n));
        Ok(n)
    }
}

/// What says whether the file at `url` changed: its size and mtime (nanoseconds) for a
/// local file; its size, ETag and Last-Modified where the server gives them.
fn stamp(url: &str, origin: &Origin) -> anyhow::Result<toml::Table> {
    let mut t = toml::Table::new();
    match origin {
        Origin::Local(file) => {
            let meta = fs_err::metadata(file)?;
            t.insert("size".into(), (meta.len() as i64).into());
            t.insert("mtime".into(), crate::fsutil::mtime_ns(&meta).into());
        }
        Origin::Remote(store, key) => {
            let rt = super::engine::runtime()?;
            let Some(s) = rt.block_on(store.stamp(key))? else {
                return Err(usage_with_hint(
                    format!("`{url}` names no file: the server has nothing there (404 Not Found)"),
                    "check the URL",
                ));
            };
            if let Some(size) = s.size {
                t.insert("size".into(), (size as i64).into());
            }
            if let Some(etag) = s.etag {
                t.insert("etag".into(), etag.into());
            }
            if let Some(m) = s.last_modified {
                t.insert("last_modified".into(), m.into());
            }
        }
    }
    Ok(t)
}

/// Where `url` is read from: a `file://` URL or plain path names a local file; a URL of a
/// remote kind (`https://`, `s3://`, ...) its backend, which takes no settings, so
/// credentials come from the environment. A user name or password, a query or a fragment
/// (a presigned URL's signature, a token) in the URL is refused: the pointer keeps the
/// URL, in git.
fn origin(url: &str) -> anyhow::Result<Origin> {
    if let Ok(u) = url::Url::parse(url)
        && u.scheme().len() > 1
        && (u.query().is_some() || u.fragment().is_some())
    {
        let mut bare = u.clone();
        bare.set_query(None);
        bare.set_fragment(None);
        return Err(usage_with_hint(
            format!(
                "`{}?…` has a query or fragment (a signature or token, often), which the pointer would keep in git",
                crate::remote::redact(bare.as_str())
            ),
            "give the URL without `?…` or `#…`; credentials come from the environment (`AWS_ACCESS_KEY_ID`, `AWS_PROFILE`)",
        ));
    }
    let path = match url::Url::parse(url) {
        Ok(u) if u.scheme() == "file" => u.to_file_path().map_err(|()| {
            usage_with_hint(format!("`{url}` is not a file URL"), "use `file:///path`")
        })?,
        Ok(u) if u.scheme().len() > 1 => {
            let shown = crate::remote::redact(url);
            if !u.username().is_empty() || u.password().is_some() {
                return Err(usage_with_hint(
                    format!(
                        "`{shown}` holds a user name or password, which the pointer would keep in git"
                    ),
                    "give the URL without them; S3 credentials come from the environment (`AWS_ACCESS_KEY_ID`, `AWS_PROFILE`)",
                ));
            }
            return match crate::remote::open_file(&u)? {
                Some((store, key)) => Ok(Origin::Remote(store, key)),
                None => Err(usage_with_hint(
                    format!("`{shown}` names no file `import-url` can read"),
                    "give an https://, http://, s3://, gs:// or az:// URL of a file, or a file:// URL or path",
                )),
            };
        }
        _ => PathBuf::from(url),
    };
    if !path.is_file() {
        return Err(usage_with_hint(
            format!("`{url}` names no file (`{}`)", path.display()),
            "check the URL",
        ));
    }
    Ok(Origin::Local(path))
}

/// Downloads the file at `url` into `cache` again for the imported `path` (`pull` and
/// `fetch`, when this repository's remote lacks it), only while its stamp is the one
/// `source` recorded: a file that changed holds other data, which only `update` may take.
pub(super) fn restore(
    cache: &Cache,
    url: &str,
    path: &RepoPath,
    pointer: &Pointer,
    source: &toml::Table,
    progress: &dyn Progress,
) -> anyhow::Result<()> {
    let origin = origin(url)?;
    let changed = || {
        failed_with_hint(
            format!(
                "the file changed since it was imported, so it no longer holds the data of `{path}`; run `git mlv update {path}` to import it again"
            ),
            format!("`git mlv update {path}`, then commit its pointer"),
        )
    };
    if differs(&stamp(url, &origin)?, source) {
        return Err(changed());
    }
    let (hash, _) = match &origin {
        Origin::Local(file) => cache.insert_file(file, pointer.size)?,
        Origin::Remote(store, key) => fetch(cache, url, &**store, key, progress)?,
    };
    match hash == pointer.hash {
        true => Ok(()),
        false => Err(changed()),
    }
}
