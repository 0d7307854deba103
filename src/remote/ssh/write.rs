//! Writing over SFTP: folders made as needed, pipelined writes to a temporary file beside
//! the object, and the link or rename that puts it in place whole.

use super::{PIPELINE, REQUEST, Ssh, is_dir};
use crate::remote::{Backend, ErrorKind, RemoteError};
use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};
use openssh_sftp_client::Error as SftpError;
use openssh_sftp_client::Sftp;
use openssh_sftp_client::error::SftpErrorKind;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::AsyncSeekExt;

impl Ssh {
    /// Creates `dir` and the folders above it that are missing.
    pub(super) async fn make_dirs(
        &self,
        sftp: &Sftp,
        dir: &Path,
        key: &str,
    ) -> Result<(), RemoteError> {
        let mut fs = sftp.fs();
        let mut missing = Vec::new();
        let mut cur = Some(dir);
        while let Some(d) = cur.filter(|d| !d.as_os_str().is_empty()) {
            match fs.create_dir(d).await {
                Ok(()) => break,
                Err(SftpError::SftpError(SftpErrorKind::NoSuchFile, _)) => {
                    missing.push(d);
                    cur = d.parent();
                }
                Err(e) => {
                    // It exists (sftp says only "failure"), made by a concurrent upload.
                    if fs.metadata(d).await.is_ok_and(|m| is_dir(&m)) {
                        break;
                    }
                    return Err(self.err(key, "creating the folder of", &e));
                }
            }
        }
        for d in missing.into_iter().rev() {
            if let Err(e) = fs.create_dir(d).await
                && !fs.metadata(d).await.is_ok_and(|m| is_dir(&m))
            {
                return Err(self.err(key, "creating the folder of", &e));
            }
        }
        Ok(())
    }

    /// Writes `body` (`size` bytes) to a new temporary file beside `key`'s place and returns
    /// its path; the writes are pipelined. A body of another size never completes.
    pub(super) async fn upload(
        &self,
        sftp: &Sftp,
        key: &str,
        body: impl Stream<Item = std::io::Result<Bytes>> + Send,
        size: u64,
    ) -> Result<PathBuf, RemoteError> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dest = self.path(key);
        let dir = dest.parent().map(Path::to_path_buf).unwrap_or_default();
        let tmp = dir.join(format!(
            ".put-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let create = || async {
            let mut options = sftp.options();
            options.write(true).create(true).truncate(true);
            options.open(&tmp).await
        };
        let file = match create().await {
            Err(SftpError::SftpError(SftpErrorKind::NoSuchFile, _)) => {
                self.make_dirs(sftp, &dir, key).await?;
                create().await
            }
            other => other,
        }
        .map_err(|e| self.err(key, "uploading", &e))?;
        let mut offset = 0;
        let written = body
            .map_err(|e| {
                RemoteError::new(
                    ErrorKind::Fatal,
                    format!("reading the cache's copy of `{key}` to upload it: {e}"),
                )
            })
            .map_ok(|chunk| {
                let at = offset;
                offset += chunk.len() as u64;
                let mut file = file.clone();
                async move {
                    file.seek(std::io::SeekFrom::Start(at))
                        .await
                        .map_err(SftpError::from)?;
                    file.write_all(&chunk).await?;
                    Ok::<_, SftpError>(chunk.len() as u64)
                }
            })
            .map(|r| async move {
                match r {
                    Ok(write) => write.await.map_err(|e| self.err(key, "uploading", &e)),
                    Err(e) => Err(e),
                }
            })
            .buffer_unordered(PIPELINE)
            .try_fold(0, |n, w| async move { Ok::<u64, RemoteError>(n + w) })
            .await;
        let closed = file.close().await;
        let result = match (written, closed) {
            (Ok(n), _) if n != size => Err(RemoteError::new(
                ErrorKind::Fatal,
                format!(
                    "the cache's copy of `{key}` is {n} bytes, not {size}: it is damaged; run `git mlv fsck`"
                ),
            )),
            (Ok(_), Err(e)) => Err(self.err(key, "uploading", &e)),
            (written, _) => written.map(drop),
        };
        match result {
            Ok(()) => Ok(tmp),
            Err(e) => {
                let _ = sftp.fs().remove_file(&tmp).await;
                Err(e)
            }
        }
    }

    /// Puts the uploaded `tmp` in `key`'s place unless a sound object of `size` bytes is
    /// there already (a hard link never replaces); a bad one is replaced.
    pub(super) async fn settle(
        &self,
        sftp: &Sftp,
        tmp: &Path,
        key: &str,
        size: u64,
    ) -> Result<(), RemoteError> {
        let mut fs = sftp.fs();
        let dest = self.path(key);
        let linked = sftp.support_hardlink() && fs.hard_link(tmp, &dest).await.is_ok();
        if linked || self.head(key).await?.sound(Some(size)) {
            let _ = fs.remove_file(tmp).await;
            return Ok(());
        }
        self.rename_over(sftp, tmp, key).await
    }

    /// Renames `tmp` over `key`: atomically where the server has `posix-rename` (OpenSSH
    /// does); plain SFTP renames only onto a free name, so the old object goes first.
    pub(super) async fn rename_over(
        &self,
        sftp: &Sftp,
        tmp: &Path,
        key: &str,
    ) -> Result<(), RemoteError> {
        let mut fs = sftp.fs();
        let dest = self.path(key);
        let mut renamed = fs.rename(tmp, &dest).await;
        if renamed.is_err() && !sftp.support_posix_rename() {
            let _ = fs.remove_file(&dest).await;
            renamed = fs.rename(tmp, &dest).await;
        }
        if let Err(e) = renamed {
            let _ = fs.remove_file(tmp).await;
            return Err(self.err(key, "uploading", &e));
        }
        Ok(())
    }
}

/// `bytes` in pieces of one write request each.
pub(super) fn chunks(bytes: Bytes) -> impl Stream<Item = std::io::Result<Bytes>> + Send {
    let pieces: Vec<std::io::Result<Bytes>> = (0..bytes.len())
        .step_by(REQUEST)
        .map(|at| Ok(bytes.slice(at..(at + REQUEST).min(bytes.len()))))
        .collect();
    futures::stream::iter(pieces)
}
