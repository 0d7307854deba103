//! A folder remote (a local disk, NAS or NFS mount): the embedded default. Every write goes
//! to a temporary file in the object's own folder and is renamed into place once complete.
//! Uploads come from the cache, whose objects were verified when they entered it, so they
//! are copied by the kernel (`copy_file_range`, a reflink where the file system shares
//! blocks) without being read and hashed again; bytes from memory are checked against the
//! hash their key names.

use super::{Backend, BlockingRead, ErrorKind, Held, RemoteError};
use crate::hash::Hash;
use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use tokio::io::AsyncReadExt;

pub struct Folder {
    root: PathBuf,
    url: String,
}

impl Folder {
    pub fn new(root: &Path, url: &str) -> Self {
        Folder {
            root: root.to_path_buf(),
            url: url.to_string(),
        }
    }

    fn err(&self, key: &str, e: io::Error) -> RemoteError {
        let kind = match e.kind() {
            io::ErrorKind::NotFound => ErrorKind::NotFound,
            io::ErrorKind::PermissionDenied => ErrorKind::Auth,
            _ => ErrorKind::Fatal,
        };
        RemoteError::new(kind, format!("`{key}` on remote `{}`: {e}", self.url))
    }

    fn not_an_object(&self, key: &str, what: &str) -> RemoteError {
        RemoteError::new(
            ErrorKind::Corrupt,
            format!(
                "`{key}` on remote `{}` is {what}, not an object file: it is a bad object and was not read",
                self.url
            ),
        )
        .with_hint("`git mlv push` from a machine that has the object replaces it")
    }

    /// Opens an object for reading without following a symlink: a link in the store could
    /// point anywhere (`/etc/...`), and only a regular file is an object.
    fn open(&self, key: &str) -> Result<std::fs::File, RemoteError> {
        use std::os::unix::fs::OpenOptionsExt;
        let flags = rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(flags.bits() as i32)
            .open(self.root.join(key))
            .map_err(|e| match e.raw_os_error() {
                Some(code) if code == rustix::io::Errno::LOOP.raw_os_error() => {
                    self.not_an_object(key, "a symbolic link")
                }
                _ => self.err(key, e),
            })?;
        match file.metadata() {
            Ok(m) if m.is_file() => Ok(file),
            Ok(_) => Err(self.not_an_object(key, "not a regular file")),
            Err(e) => Err(self.err(key, e)),
        }
    }

    /// Makes `key` hold the `size` bytes `write` puts into a temporary file beside it.
    /// Create-only: a regular file of that size already there (content-addressed, so the
    /// same bytes) is left as it is; a bad object (a symlink, the wrong size) is replaced by the rename itself, which swaps the entry and never writes through a link.
    fn write_new(
        &self,
        key: &str,
        size: u64,
        write: impl FnOnce(&mut std::fs::File) -> io::Result<()>,
    ) -> io::Result<()> {
        let dest = self.root.join(key);
        let dir = dest.parent().expect("keys have a folder");
        let mut tmp = crate::fsutil::temp_file_in(dir, ".put", 0o444)?;
        write(tmp.as_file_mut())?;
        match tmp.persist_noclobber(&dest) {
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => {
                if held(&dest)?.sound(Some(size)) {
                    return Ok(());
                }
                e.file.persist(&dest).map(drop).map_err(|e| e.error)
            }
            other => other.map(drop).map_err(|e| e.error),
        }
    }
}

#[async_trait]
impl Backend for Folder {
    fn url(&self) -> &str {
        &self.url
    }

    async fn head(&self, key: &str) -> Result<Held, RemoteError> {
        held(&self.root.join(key)).map_err(|e| self.err(key, e))
    }

    async fn list(
        &self,
        prefix: &str,
        limit: usize,
    ) -> Result<Option<Vec<super::Listed>>, RemoteError> {
        let base = self.root.join(prefix);
        let mut out = Vec::new();
        for entry in walkdir(&base) {
            if out.len() == limit {
                return Ok(None);
            }
            if let Ok(rel) = entry.strip_prefix(&self.root)
                && let Some(key) = rel.to_str()
            {
                let meta = std::fs::symlink_metadata(&entry).map_err(|e| self.err(key, e))?;
                out.push(super::Listed {
                    key: key.to_string(),
                    modified: meta.modified().map_err(|e| self.err(key, e))?,
                    held: held_by(&meta),
                });
            }
        }
        Ok(Some(out))
    }

    async fn delete(&self, key: &str) -> Result<(), RemoteError> {
        match std::fs::remove_file(self.root.join(key)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(self.err(key, e)),
            _ => Ok(()),
        }
    }

    async fn get(
        &self,
        key: &str,
        from: u64,
        to: Option<u64>,
    ) -> Result<BoxStream<'static, Result<Bytes, RemoteError>>, RemoteError> {
        let mut file = self.open(key)?;
        file.seek(SeekFrom::Start(from))
            .map_err(|e| self.err(key, e))?;
        let url = self.url.clone();
        let key = key.to_string();
        let file = tokio::fs::File::from_std(file).take(to.map_or(u64::MAX, |t| t - from));
        let stream = tokio_util::io::ReaderStream::with_capacity(file, 1 << 20).map(move |r| {
            r.map_err(|e| {
                RemoteError::new(
                    ErrorKind::Fatal,
                    format!("reading `{key}` from remote `{url}`: {e}"),
                )
            })
        });
        Ok(stream.boxed())
    }

    fn blocking_reads(&self) -> Option<&dyn BlockingRead> {
        Some(self)
    }

    /// The `.put*` files beside the objects; they are never read as objects.
    fn stale_uploads(&self, age: std::time::Duration) -> io::Result<Vec<(PathBuf, u64)>> {
        let cutoff = std::time::SystemTime::now() - age;
        crate::fsutil::stale_temp_files(&self.root.join("b3"), ".put", cutoff)
    }

    async fn put_file(&self, key: &str, path: &Path, size: u64) -> Result<(), RemoteError> {
        // A big copy would stall the async workers: do it on the blocking pool.
        let this = Folder::new(&self.root, &self.url);
        let (key, path) = (key.to_string(), path.to_path_buf());
        tokio::task::spawn_blocking(move || {
            // `io::copy` between two files is `copy_file_range`: the bytes never pass
            // through this process.
            // Not hashed again (the cache verified it), but a truncated or emptied cache
            // object must never reach the remote, where create-only puts would keep it.
            this.write_new(&key, size, |tmp| {
                let copied = io::copy(&mut std::fs::File::open(&path)?, tmp)?;
                if copied != size {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "the cache object `{}` is {copied} bytes, not {size}: it is damaged; run `git mlv fsck`",
                            path.display()
                        ),
                    ));
                }
                Ok(())
            })
            .map_err(|e| this.err(&key, e))
        })
        .await
        .map_err(|e| RemoteError::new(ErrorKind::Fatal, format!("upload task failed: {e}")))?
    }

    async fn put_bytes(&self, key: &str, bytes: Bytes) -> Result<(), RemoteError> {
        if let Some(expected) = Hash::from_key(key)
            && expected != Hash::of(&bytes)
        {
            return Err(self.err(
                key,
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("bytes to upload do not hash to {expected}"),
                ),
            ));
        }
        self.write_new(key, bytes.len() as u64, |tmp| tmp.write_all(&bytes))
            .map_err(|e| self.err(key, e))
    }

    async fn replace(&self, key: &str, bytes: Bytes) -> Result<(), RemoteError> {
        // The temporary file is renamed over the old one: readers see old or new, whole.
        self.put_bytes(key, bytes).await
    }
}

impl BlockingRead for Folder {
    fn copy_range_into(
        &self,
        key: &str,
        dest: &std::fs::File,
        range: std::ops::Range<u64>,
        progress: &dyn crate::progress::Progress,
    ) -> Result<u64, RemoteError> {
        const STEP: u64 = 64 << 20;
        let mut src = self.open(key)?;
        let mut dest = dest;
        let mut pos = range.start;
        src.seek(SeekFrom::Start(pos))
            .map_err(|e| self.err(key, e))?;
        dest.seek(SeekFrom::Start(pos))
            .map_err(|e| self.err(key, e))?;
        while pos < range.end {
            let n = io::copy(&mut (&mut src).take(STEP.min(range.end - pos)), &mut dest)
                .map_err(|e| self.err(key, e))?;
            if n == 0 {
                break;
            }
            pos += n;
            progress.inc(0, n);
        }
        Ok(pos - range.start)
    }

    fn read_limited(&self, key: &str, limit: u64) -> Result<Bytes, RemoteError> {
        let mut file = self.open(key)?;
        let len = file.metadata().map_err(|e| self.err(key, e))?.len();
        if len > limit {
            return Err(super::too_big(key, &self.url, limit));
        }
        let mut bytes = Vec::with_capacity(len as usize);
        file.read_to_end(&mut bytes).map_err(|e| self.err(key, e))?;
        Ok(bytes.into())
    }
}

/// What the entry at `path` is, never following a symlink.
fn held(path: &Path) -> io::Result<Held> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) => Ok(held_by(&meta)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Held::Absent),
        Err(e) => Err(e),
    }
}

fn held_by(meta: &std::fs::Metadata) -> Held {
    if meta.is_file() {
        Held::Object(Some(meta.len()))
    } else {
        Held::NotAnObject
    }
}

/// Every entry below `dir` that is not a folder (none when it does not exist): files, and
/// symlinks, which are listed (as bad objects) but never followed.
fn walkdir(dir: &Path) -> impl Iterator<Item = PathBuf> {
    ignore::WalkBuilder::new(dir)
        .standard_filters(false)
        .build()
        .filter_map(Result::ok)
        .filter(|e| e.depth() > 0 && e.file_type().is_some_and(|t| !t.is_dir()))
        .map(|e| e.into_path())
}
