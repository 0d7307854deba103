//! A folder remote (a local disk, NAS or NFS mount): the embedded default. Writes go to a
//! temporary file in the remote's own `tmp/` and are renamed into place after the bytes
//! written were hashed and matched, exactly like the cache.

use super::{Backend, ErrorKind, RemoteError};
use crate::hash::Hash;
use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

pub struct Local {
    root: PathBuf,
    url: String,
}

impl Local {
    pub fn new(root: &Path, url: &str) -> Self {
        Local {
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

    /// Writes through a temporary file, verifying the bytes when the key names a hash.
    fn write_verified(&self, key: &str, mut src: impl io::Read + Send) -> io::Result<()> {
        let dest = self.root.join(key);
        let tmp_dir = self.root.join("tmp");
        fs_err::create_dir_all(&tmp_dir)?;
        let mut tmp = tempfile::Builder::new()
            .prefix("put")
            .permissions(std::fs::Permissions::from_mode(0o444))
            .tempfile_in(&tmp_dir)?;
        // Small objects are hashed in memory: the threaded pipeline for big files costs more
        // than it saves on an 8 KiB object.
        let mut head = Vec::new();
        (&mut src)
            .take(crate::hash::SMALL_FILE + 1)
            .read_to_end(&mut head)?;
        let hash = if head.len() as u64 <= crate::hash::SMALL_FILE {
            tmp.as_file_mut().write_all(&head)?;
            Hash::of(&head)
        } else {
            crate::hash::hash_copy(io::Cursor::new(head).chain(src), tmp.as_file_mut())?.0
        };
        if let Some(expected) = Hash::from_key(key)
            && expected != hash
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bytes read hash to {hash}, not {expected}"),
            ));
        }
        fs_err::create_dir_all(dest.parent().expect("keys have a folder"))?;
        tmp.persist(&dest).map_err(|e| e.error)?;
        Ok(())
    }
}

#[async_trait]
impl Backend for Local {
    fn url(&self) -> &str {
        &self.url
    }

    async fn exists(&self, key: &str) -> Result<bool, RemoteError> {
        Ok(self.root.join(key).is_file())
    }

    async fn list(&self, prefix: &str) -> Result<Option<Vec<super::Listed>>, RemoteError> {
        let base = self.root.join(prefix);
        let mut out = Vec::new();
        for entry in walkdir(&base) {
            if let Ok(rel) = entry.strip_prefix(&self.root)
                && let Some(key) = rel.to_str()
            {
                let modified = std::fs::metadata(&entry)
                    .and_then(|m| m.modified())
                    .map_err(|e| self.err(key, e))?;
                out.push(super::Listed {
                    key: key.to_string(),
                    modified,
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
        offset: u64,
    ) -> Result<BoxStream<'static, Result<Bytes, RemoteError>>, RemoteError> {
        let path = self.root.join(key);
        let mut file = std::fs::File::open(&path).map_err(|e| self.err(key, e))?;
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| self.err(key, e))?;
        let url = self.url.clone();
        let key = key.to_string();
        let stream =
            tokio_util::io::ReaderStream::with_capacity(tokio::fs::File::from_std(file), 1 << 20)
                .map(move |r| {
                    r.map_err(|e| {
                        RemoteError::new(
                            ErrorKind::Fatal,
                            format!("reading `{key}` from remote `{url}`: {e}"),
                        )
                    })
                });
        Ok(stream.boxed())
    }

    async fn put_file(&self, key: &str, path: &Path, _size: u64) -> Result<(), RemoteError> {
        // A big copy would stall the async workers: do it on the blocking pool.
        let this = Local::new(&self.root, &self.url);
        let (key, path) = (key.to_string(), path.to_path_buf());
        tokio::task::spawn_blocking(move || {
            let src = std::fs::File::open(&path).map_err(|e| this.err(&key, e))?;
            this.write_verified(&key, src)
                .map_err(|e| this.err(&key, e))
        })
        .await
        .map_err(|e| RemoteError::new(ErrorKind::Fatal, format!("upload task failed: {e}")))?
    }

    async fn put_bytes(&self, key: &str, bytes: Bytes) -> Result<(), RemoteError> {
        self.write_verified(key, &bytes[..])
            .map_err(|e| self.err(key, e))
    }

    async fn replace(&self, key: &str, bytes: Bytes) -> Result<(), RemoteError> {
        // The temporary file is renamed over the old one: readers see old or new, whole.
        self.put_bytes(key, bytes).await
    }
}

/// Every file below `dir` (none when it does not exist).
fn walkdir(dir: &Path) -> Vec<PathBuf> {
    ignore::WalkBuilder::new(dir)
        .standard_filters(false)
        .build()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .map(|e| e.into_path())
        .collect()
}
