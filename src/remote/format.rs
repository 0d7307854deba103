//! The format marker at a remote's root (`format.toml`), like the cache's: which object
//! layout the remote holds, so an older git-mlv refuses a store it would misread.

use super::{Backend, ErrorKind, RemoteError};

/// The remote's format marker, like the cache's.
const FORMAT_KEY: &str = "format.toml";
/// The format of a remote that holds packs: a build that knows only loose objects (format
/// 1) would take packed objects for missing, so it must refuse the remote instead.
pub const PACKS_VERSION: u32 = 2;

/// Checks the remote's format marker and returns its version (0: none yet); `create`
/// writes it on a new remote (push).
pub async fn check(backend: &dyn Backend, create: bool) -> Result<u32, RemoteError> {
    let text = match backend.get_bytes(FORMAT_KEY, 1 << 16).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) if e.kind == ErrorKind::NotFound && !create => return Ok(0),
        Err(e) if e.kind == ErrorKind::NotFound => {
            let text = format!(
                "# git-mlv object store: objects under b3/<2 hex>/<62 hex>\nversion = {}\n",
                crate::cache::FORMAT_VERSION
            );
            backend.put_bytes(FORMAT_KEY, text.into()).await?;
            return Ok(crate::cache::FORMAT_VERSION);
        }
        Err(e) => return Err(e),
    };
    let version = text
        .parse::<toml::Table>()
        .ok()
        .and_then(|t| t.get("version").and_then(|v| v.as_integer()));
    match version {
        Some(v) if (0..=PACKS_VERSION as i64).contains(&v) => Ok(v as u32),
        Some(v) => Err(RemoteError::new(
            ErrorKind::Fatal,
            format!(
                "remote `{}` has object store format {v}, newer than this git-mlv understands",
                backend.url()
            ),
        )
        .with_hint("upgrade git-mlv")),
        None => Err(RemoteError::new(
            ErrorKind::Fatal,
            format!("remote `{}` has a damaged `{FORMAT_KEY}`", backend.url()),
        )),
    }
}

/// Marks the remote as holding packs (format 2), before its first pack is written.
pub async fn mark_packs(backend: &dyn Backend) -> Result<(), RemoteError> {
    let text = format!(
        "# git-mlv object store: objects under b3/<2 hex>/<62 hex>, small ones in packs/\nversion = {PACKS_VERSION}\npacks = true\n"
    );
    backend.replace(FORMAT_KEY, text.into()).await
}
