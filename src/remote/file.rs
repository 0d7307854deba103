//! A plain file at a URL (`import-url`): the backend for its folder, opened with no
//! settings, and its key there.

use super::{Backend, Place, connect::Connect, http, objstore, place, redact};
use crate::config::RemoteConfig;
use std::path::Path;
use std::sync::Arc;

/// The backend for the folder of a plain file's URL (`http(s)://`, `s3://`, `gs://`,
/// `az://`) and the file's key in it, with no settings: credentials from the environment
/// only. `None` for a URL of another form (a path, `file://`).
pub fn open_file(url: &url::Url) -> anyhow::Result<Option<(Arc<dyn Backend>, String)>> {
    let mut dir = url.clone();
    let key = match dir.path_segments().and_then(|mut s| s.next_back()) {
        Some(k) if !k.is_empty() => k.to_string(),
        _ => return Ok(None),
    };
    if let Ok(mut segments) = dir.path_segments_mut() {
        segments.pop();
    }
    let remote = RemoteConfig {
        url: dir.to_string(),
        ..RemoteConfig::default()
    };
    let name = redact(url.as_str());
    let backend: Arc<dyn Backend> = match place(&remote.url, Path::new("")) {
        Ok(Place::ObjStore(parsed)) => {
            let aws = parsed.scheme() == "s3";
            let connect = Connect::read(&name, &remote, Path::new(""), aws, true)?;
            Arc::new(objstore::ObjStore::open(
                &name, &parsed, &remote, true, &connect,
            )?)
        }
        Ok(Place::Http(parsed)) => {
            let connect = Connect::read(&name, &remote, Path::new(""), false, true)?;
            Arc::new(http::Http::open(&parsed, &remote, &connect)?)
        }
        _ => return Ok(None),
    };
    Ok(Some((backend, key)))
}
