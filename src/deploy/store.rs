//! An object-store or HTTP deploy target: the version's files, its marker, then
//! `current.json` written last.

use super::{Expected, MARKER, Marker};
use crate::cache::Cache;
use crate::remote::Backend;
use crate::repo::Tracked;
use futures::StreamExt;
/// What `current.json` on an object store says.
#[derive(Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CurrentJson {
    pub version: String,
    /// Relative to `<name>/`: `v1.2.0/model.pkl`.
    pub path: String,
    pub commit: String,
    pub hash: String,
}

/// True when the target already serves `current`: `current.json` says so, the version's
/// marker names its hash, and every expected file is there. Read before anything is
/// fetched, so a deploy with nothing to do (a CI job for an older tag) downloads nothing.
pub async fn serves(
    backend: &dyn Backend,
    name: &str,
    current: &CurrentJson,
    expected: &Expected,
    jobs: usize,
) -> anyhow::Result<bool> {
    let read = |key: String| async move {
        match backend.get_bytes(&key, 64 << 10).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind == crate::remote::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    };
    let said = read(format!("{name}/current.json")).await?;
    if !said.is_some_and(|b| serde_json::from_slice::<CurrentJson>(&b).is_ok_and(|c| c == *current))
    {
        return Ok(false);
    }
    let marker = read(format!("{name}/{}/{MARKER}", current.version)).await?;
    if !marker.is_some_and(|b| {
        serde_json::from_slice::<Marker>(&b).is_ok_and(|m| m.hash == expected.hash)
    }) {
        return Ok(false);
    }
    let base = format!("{name}/{}", current.path);
    let found: Vec<anyhow::Result<bool>> = futures::stream::iter(&expected.files)
        .map(|(rel, _, _)| {
            let key = if rel.is_empty() {
                base.clone()
            } else {
                format!("{base}/{rel}")
            };
            async move { Ok(backend.exists(&key).await?) }
        })
        .buffer_unordered(jobs.max(1))
        .collect()
        .await;
    for f in found {
        if !f? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Uploads the version's files from the cache under `<name>/<version>/<file_name>`, then
/// the version's marker, then `<name>/current.json` last. Files already there are skipped
/// only when the marker says they are this version's; otherwise (another commit's bytes
/// under the same version, or an upload that never finished) each is replaced.
pub async fn upload(
    backend: &dyn Backend,
    cache: &Cache,
    name: &str,
    t: &Tracked,
    current: &CurrentJson,
    jobs: usize,
) -> anyhow::Result<()> {
    let expected = Expected::of(cache, t)?;
    let version_dir = format!("{name}/{}", current.version);
    let marker_key = format!("{version_dir}/{MARKER}");
    let trusted = match backend.get_bytes(&marker_key, 64 << 10).await {
        Ok(bytes) => {
            serde_json::from_slice::<Marker>(&bytes).is_ok_and(|m| m.hash == expected.hash)
        }
        Err(e) if e.kind == crate::remote::ErrorKind::NotFound => false,
        Err(e) => return Err(e.into()),
    };
    let base = format!("{name}/{}", current.path);
    let results: Vec<anyhow::Result<()>> = futures::stream::iter(expected.files)
        .map(|(rel, hash, size)| {
            let key = if rel.is_empty() {
                base.clone()
            } else {
                format!("{base}/{rel}")
            };
            async move {
                if trusted && backend.exists(&key).await? {
                    return Ok(());
                }
                // Write-once keys: what another commit left there goes first.
                backend.delete(&key).await?;
                backend
                    .put_file(&key, &cache.object_path(&hash), size)
                    .await?;
                Ok(())
            }
        })
        .buffer_unordered(jobs.max(1))
        .collect()
        .await;
    results.into_iter().collect::<anyhow::Result<()>>()?;
    if !trusted {
        let marker = Marker {
            hash: expected.hash,
            commit: current.commit.clone(),
        };
        backend
            .replace(&marker_key, serde_json::to_vec_pretty(&marker)?.into())
            .await?;
    }
    let json = serde_json::to_vec_pretty(current)?;
    backend
        .replace(&format!("{name}/current.json"), json.into())
        .await?;
    Ok(())
}
