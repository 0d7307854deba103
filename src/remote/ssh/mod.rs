//! SSH remotes, spoken over SFTP (all a server needs is its sftp subsystem). The system
//! `ssh` (through the `openssh` crate) opens one master connection per command, so the
//! user's ssh config, agent and known_hosts apply as they do for git; several SFTP
//! channels share it, and each pipelines its reads and writes. An upload goes to a
//! temporary file beside the object and is linked into place only once complete:
//! create-only, as for a folder, so a sound object is never rewritten and a bad one is
//! replaced whole.

mod location;
mod write;

use write::chunks;

pub use location::Location;

use super::{Backend, ErrorKind, Held, Listed, RemoteError};
use crate::config::RemoteConfig;
use crate::hash::Hash;
use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use openssh_sftp_client::error::SftpErrorKind;
use openssh_sftp_client::metadata::MetaData;
use openssh_sftp_client::{Error as SftpError, Sftp, SftpOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::AsyncSeekExt;

/// SFTP channels on the one connection: a channel's window caps its throughput, and
/// sshd allows ten sessions per connection by default.
const CHANNELS: usize = 4;
/// Read or write requests in flight per transfer: each is a round trip, so a big object
/// streams only when several are under way.
const PIPELINE: usize = 8;
/// Folders listed at once.
const LIST_JOBS: usize = 16;
/// Bytes per read or write request: OpenSSH's largest (its `limits@openssh.com`), so a
/// chunk is one request; bigger ones are split by the client.
const REQUEST: usize = 255 << 10;

pub struct Ssh {
    name: String,
    loc: Location,
    files: location::Files,
    /// The remote's `timeout` for opening the connection (default 5 s).
    connect_timeout: std::time::Duration,
    shown: String,
    /// The channels, opened on first use; a failed connection is kept too, so the
    /// transfers of one command don't each try again.
    pool: tokio::sync::OnceCell<Result<Pool, Failed>>,
}

struct Pool {
    channels: Vec<Sftp>,
    next: AtomicUsize,
}

/// A connection error kept for every later call.
struct Failed(ErrorKind, String, Option<String>);

impl Ssh {
    pub fn open(
        name: &str,
        loc: Location,
        remote: &RemoteConfig,
        root: &Path,
        connect: &super::connect::Connect,
    ) -> Self {
        Ssh {
            name: name.to_string(),
            loc,
            files: location::Files::of(remote, root),
            connect_timeout: connect.connect_timeout(),
            shown: super::redact(&remote.url),
            pool: tokio::sync::OnceCell::new(),
        }
    }

    async fn sftp(&self) -> Result<&Sftp, RemoteError> {
        match self.pool.get_or_init(|| self.connect()).await {
            Ok(pool) => {
                let i = pool.next.fetch_add(1, Ordering::Relaxed) % pool.channels.len();
                Ok(&pool.channels[i])
            }
            Err(Failed(kind, detail, hint)) => Err(RemoteError {
                kind: *kind,
                detail: detail.clone(),
                hint: hint.clone(),
            }),
        }
    }

    async fn connect(&self) -> Result<Pool, Failed> {
        let failed = |e: RemoteError| {
            Failed(
                e.kind,
                format!("remote `{}`: {}", self.shown, e.detail),
                e.hint,
            )
        };
        let session = Arc::new(
            location::connect(&self.loc, &self.files, &self.name, self.connect_timeout)
                .await
                .map_err(failed)?,
        );
        let open =
            (0..CHANNELS).map(|_| Sftp::from_clonable_session(session.clone(), SftpOptions::new()));
        let channels = futures::future::try_join_all(open).await.map_err(|e| {
            failed(
                RemoteError::new(
                    ErrorKind::Fatal,
                    format!(
                        "`{}` answers SSH but opens no SFTP session ({})",
                        self.loc.shown_host(),
                        location::error_chain(&e)
                    ),
                )
                .with_hint("git-mlv needs the server's sftp subsystem (`Subsystem sftp internal-sftp` in its sshd_config)"),
            )
        })?;
        Ok(Pool {
            channels,
            next: AtomicUsize::new(0),
        })
    }

    fn path(&self, key: &str) -> PathBuf {
        Path::new(&self.loc.path).join(key)
    }

    fn err(&self, key: &str, op: &str, e: &SftpError) -> RemoteError {
        let kind = match e {
            SftpError::SftpError(SftpErrorKind::NoSuchFile, _) => ErrorKind::NotFound,
            SftpError::SftpError(SftpErrorKind::PermDenied, _) => ErrorKind::Auth,
            SftpError::SftpError(..) | SftpError::UnsupportedExtension(_) => ErrorKind::Fatal,
            // The connection broke or the server stopped answering.
            _ => ErrorKind::Transient,
        };
        RemoteError::new(
            kind,
            format!(
                "{op} `{key}` on remote `{}`: {}",
                self.shown,
                location::error_chain(e)
            ),
        )
    }

    fn not_an_object(&self, key: &str) -> RemoteError {
        RemoteError::new(
            ErrorKind::Corrupt,
            format!(
                "`{key}` on remote `{}` is not a regular file: it is a bad object and was not read",
                self.shown
            ),
        )
        .with_hint("`git mlv push` from a machine that has the object replaces it")
    }

    /// Everything in folder `dir` (a key prefix without its `/`): its files as listed,
    /// its folders as prefixes to list next.
    async fn read_dir(&self, dir: String) -> Result<(Vec<Listed>, Vec<String>), RemoteError> {
        let mut fs = self.sftp().await?.fs();
        let opened = match fs.open_dir(self.path(&dir)).await {
            Ok(d) => d,
            Err(e) => {
                let e = self.err(&dir, "listing", &e);
                return if e.kind == ErrorKind::NotFound {
                    Ok(Default::default())
                } else {
                    Err(e)
                };
            }
        };
        let entries: Vec<_> = opened
            .read_dir()
            .try_collect()
            .await
            .map_err(|e| self.err(&dir, "listing", &e))?;
        let (mut files, mut dirs) = (Vec::new(), Vec::new());
        for entry in entries {
            let Some(name) = entry.filename().to_str() else {
                continue;
            };
            if name == "." || name == ".." {
                continue;
            }
            let key = match dir.as_str() {
                "" => name.to_string(),
                d => format!("{d}/{name}"),
            };
            let meta = entry.metadata();
            if meta.file_type().is_some_and(|t| t.is_dir()) {
                dirs.push(key);
            } else {
                files.push(Listed {
                    key,
                    // Unknown: as young as can be, so `gc -r` spares it.
                    modified: meta
                        .modified()
                        .map_or_else(std::time::SystemTime::now, |t| t.as_system_time()),
                    held: held_by(&meta),
                });
            }
        }
        Ok((files, dirs))
    }
}

fn is_dir(meta: &MetaData) -> bool {
    meta.file_type().is_some_and(|t| t.is_dir())
}

fn held_by(meta: &MetaData) -> Held {
    if meta.file_type().is_some_and(|t| t.is_file()) {
        Held::Object(meta.len())
    } else {
        Held::NotAnObject
    }
}

#[async_trait]
impl Backend for Ssh {
    fn url(&self) -> &str {
        &self.shown
    }

    async fn head(&self, key: &str) -> Result<Held, RemoteError> {
        let mut fs = self.sftp().await?.fs();
        match fs.symlink_metadata(self.path(key)).await {
            Ok(meta) => Ok(held_by(&meta)),
            Err(e) => match self.err(key, "checking", &e) {
                e if e.kind == ErrorKind::NotFound => Ok(Held::Absent),
                e => Err(e),
            },
        }
    }

    async fn list(&self, prefix: &str, limit: usize) -> Result<Option<Vec<Listed>>, RemoteError> {
        let mut out = Vec::new();
        let mut level = vec![prefix.trim_end_matches('/').to_string()];
        while !level.is_empty() {
            let read: Vec<(Vec<Listed>, Vec<String>)> = futures::stream::iter(level)
                .map(|dir| self.read_dir(dir))
                .buffer_unordered(LIST_JOBS)
                .try_collect()
                .await?;
            level = Vec::new();
            for (files, dirs) in read {
                if out.len() + files.len() > limit {
                    return Ok(None);
                }
                out.extend(files);
                level.extend(dirs);
            }
        }
        Ok(Some(out))
    }

    async fn delete(&self, key: &str) -> Result<(), RemoteError> {
        let mut fs = self.sftp().await?.fs();
        match fs.remove_file(self.path(key)).await {
            Err(e) => match self.err(key, "deleting", &e) {
                e if e.kind == ErrorKind::NotFound => Ok(()),
                e => Err(e),
            },
            Ok(()) => Ok(()),
        }
    }

    async fn get(
        &self,
        key: &str,
        from: u64,
        to: Option<u64>,
    ) -> Result<BoxStream<'static, Result<Bytes, RemoteError>>, RemoteError> {
        // SFTP's open follows symlinks: only a regular file is read.
        let size = match self.head(key).await? {
            Held::Object(size) => size,
            Held::Absent => {
                return Err(RemoteError::new(
                    ErrorKind::NotFound,
                    format!("`{key}` is not on remote `{}`", self.shown),
                ));
            }
            Held::NotAnObject => return Err(self.not_an_object(key)),
        };
        let file = self
            .sftp()
            .await?
            .open(self.path(key))
            .await
            .map_err(|e| self.err(key, "downloading", &e))?;
        let end = match (to, size) {
            (Some(to), Some(size)) => to.min(size),
            (Some(end), None) | (None, Some(end)) => end,
            (None, None) => u64::MAX,
        };
        let step = REQUEST as u64;
        let (shown, key) = (self.shown.clone(), key.to_string());
        let reads = futures::stream::iter((from..end).step_by(step as usize)).map(move |at| {
            let mut file = file.clone();
            let want = step.min(end - at) as usize;
            let (shown, key) = (shown.clone(), key.clone());
            async move {
                read_at(&mut file, at, want).await.map_err(|e| {
                    RemoteError::new(
                        ErrorKind::Transient,
                        format!(
                            "downloading `{key}` from remote `{shown}`: {}",
                            location::error_chain(&e)
                        ),
                    )
                })
            }
        });
        Ok(reads
            .buffered(PIPELINE)
            .try_filter(|chunk| futures::future::ready(!chunk.is_empty()))
            .boxed())
    }

    fn parallel_ranges(&self) -> usize {
        CHANNELS
    }

    async fn put_file(&self, key: &str, path: &Path, size: u64) -> Result<(), RemoteError> {
        let local = tokio::fs::File::open(path).await.map_err(|e| {
            RemoteError::new(
                ErrorKind::Fatal,
                format!("reading `{}` to upload it: {e}", path.display()),
            )
        })?;
        let sftp = self.sftp().await?;
        // Chunks of at most one write request each, so they pipeline.
        let body = tokio_util::io::ReaderStream::with_capacity(local, REQUEST);
        let tmp = self.upload(sftp, key, body, size).await?;
        self.settle(sftp, &tmp, key, size).await
    }

    async fn put_bytes(&self, key: &str, bytes: Bytes) -> Result<(), RemoteError> {
        if let Some(expected) = Hash::from_key(key)
            && expected != Hash::of(&bytes)
        {
            return Err(RemoteError::new(
                ErrorKind::Fatal,
                format!("bytes to upload as `{key}` do not hash to {expected}"),
            ));
        }
        let sftp = self.sftp().await?;
        let size = bytes.len() as u64;
        let tmp = self.upload(sftp, key, chunks(bytes), size).await?;
        self.settle(sftp, &tmp, key, size).await
    }

    async fn replace(&self, key: &str, bytes: Bytes) -> Result<(), RemoteError> {
        let sftp = self.sftp().await?;
        let size = bytes.len() as u64;
        let tmp = self.upload(sftp, key, chunks(bytes), size).await?;
        self.rename_over(sftp, &tmp, key).await
    }
}

/// Up to `want` bytes of `file` from `at`: fewer only at its end.
async fn read_at(
    file: &mut openssh_sftp_client::file::File,
    at: u64,
    want: usize,
) -> Result<Bytes, SftpError> {
    file.seek(std::io::SeekFrom::Start(at)).await?;
    let mut out = BytesMut::with_capacity(want);
    while out.len() < want {
        let left = (want - out.len()) as u32;
        match file
            .read(left, BytesMut::with_capacity(left as usize))
            .await?
        {
            Some(piece) if !piece.is_empty() => out.extend_from_slice(&piece),
            _ => break,
        }
    }
    Ok(out.freeze())
}
