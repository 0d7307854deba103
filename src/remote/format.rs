//! The format marker at a remote's root (`format.toml`), like the cache's: which object
//! layout the remote holds, so an older git-mlv refuses a store it would misread.

use super::{Backend, ErrorKind, RemoteError};

/// The remote's format marker, like the cache's.
const FORMAT_KEY: &str = "format.toml";

/// Checks the remote's format marker; `create` writes it on a new remote (push).
pub async fn check(backend: &dyn Backend, create: bool) -> Result<(), RemoteError> {
    let text = match backend.get_bytes(FORMAT_KEY, 1 << 16).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) if e.kind == ErrorKind::NotFound && !create => return Ok(()),
        Err(e) if e.kind == ErrorKind::NotFound => {
            let text = format!(
                "# git-mlv object store: objects under b3/<2 hex>/<62 hex>\nversion = {}\n",
                crate::cache::FORMAT_VERSION
            );
            return backend.put_bytes(FORMAT_KEY, text.into()).await;
        }
        Err(e) => return Err(e),
    };
    let version = text
        .parse::<toml::Table>()
        .ok()
        .and_then(|t| t.get("version").and_then(|v| v.as_integer()));
    match version {
        Some(v) if v <= crate::cache::FORMAT_VERSION as i64 => Ok(()),
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
