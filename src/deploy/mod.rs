//! Where deployed artifacts live: `<target>/<name>/v<semver>/<file or folder name>`, with
//! `<target>/<name>/current` switched atomically once a version is complete. On a folder
//! `current` is a symlink replaced by rename; on an object store it is `current.json`,
//! written after every file of the version. Earlier versions are kept, so a rollback whose
//! version is already there only switches `current` — once the folder is checked to hold
//! that version's bytes (see `Folder::holds`).

use crate::cache::{Cache, CacheError};
use crate::config;
use crate::hash::Hash;
use crate::manifest::Manifest;
use crate::problem::{Hinted, with_hint};
use crate::repo::Tracked;
use std::io;
use std::path::{Path, PathBuf};

/// Where a deploy goes: a folder on this machine, or an object store / HTTP URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Dir(PathBuf),
    Url(String),
}

impl Target {
    /// A path (relative to `cwd`), `file://` URL, or a remote URL. An scp-style location
    /// is a URL (one `deploy` refuses), never a folder.
    pub fn parse(s: &str, cwd: &Path) -> Target {
        if let Some(path) = url::Url::parse(s)
            .ok()
            .filter(|u| u.scheme() == "file")
            .and_then(|u| u.to_file_path().ok())
        {
            return Target::Dir(path);
        }
        if crate::remote::is_url(s) {
            Target::Url(s.to_string())
        } else {
            Target::Dir(cwd.join(s))
        }
    }

    /// How the target is written in the config.
    pub fn as_config(&self) -> String {
        match self {
            Target::Dir(p) => p.display().to_string(),
            Target::Url(u) => u.clone(),
        }
    }

    /// How the target is shown: a URL's credentials redacted.
    pub fn shown(&self) -> String {
        match self {
            Target::Dir(p) => p.display().to_string(),
            Target::Url(u) => crate::remote::redact(u),
        }
    }

    /// A folder is one machine's, and a URL with credentials must not reach git history:
    /// both are remembered in the local file only.
    fn is_private(&self) -> bool {
        match self {
            Target::Dir(_) => true,
            Target::Url(u) => crate::remote::redact(u) != *u,
        }
    }
}

/// Remembers the target of `name`'s `stage`: in this machine's `.mlv/config.local.toml`
/// when it is private (a folder, or a URL with credentials), else in the team's
/// `.mlv/config.toml`; an entry for the same stage in the other file is removed, so the
/// target given last is the one used, wherever it is stored. Returns the file's name (in
/// `.mlv/`) when anything changed.
pub fn remember(
    root: &Path,
    name: &str,
    stage: &str,
    target: &Target,
) -> anyhow::Result<Option<&'static str>> {
    let (file, other) = if target.is_private() {
        (config::LOCAL_FILE, config::FILE)
    } else {
        (config::FILE, config::LOCAL_FILE)
    };
    let value = target.as_config();
    let mut changed = false;
    config::edit(&root.join(config::DIR).join(file), |doc| {
        let deploy = doc
            .entry("deploy")
            .or_insert_with(|| toml_edit::Item::Table(toml_edit::Table::new()))
            .as_table_mut()
            .ok_or_else(|| anyhow::anyhow!("`deploy` in `{file}` is not a table"))?;
        deploy.set_implicit(true);
        let per_name = deploy
            .entry(name)
            .or_insert_with(|| toml_edit::Item::Table(toml_edit::Table::new()))
            .as_table_mut()
            .ok_or_else(|| anyhow::anyhow!("`deploy.{name}` in `{file}` is not a table"))?;
        if per_name.get(stage).and_then(|v| v.as_str()) != Some(value.as_str()) {
            per_name[stage] = toml_edit::value(value.as_str());
            changed = true;
        }
        Ok(())
    })?;
    let other = root.join(config::DIR).join(other);
    if other.exists() {
        config::edit(&other, |doc| {
            changed |= forget(doc, name, stage);
            Ok(())
        })?;
    }
    Ok(changed.then_some(file))
}

/// Removes `deploy.<name>.<stage>` (and tables it leaves empty); true when it was there.
fn forget(doc: &mut toml_edit::DocumentMut, name: &str, stage: &str) -> bool {
    let Some(deploy) = doc.get_mut("deploy").and_then(|d| d.as_table_mut()) else {
        return false;
    };
    let Some(per_name) = deploy.get_mut(name).and_then(|n| n.as_table_mut()) else {
        return false;
    };
    let removed = per_name.remove(stage).is_some();
    if per_name.is_empty() {
        deploy.remove(name);
    }
    if deploy.is_empty() {
        doc.remove("deploy");
    }
    removed
}

/// True when the cache holds every object `t` needs.
pub fn cached(cache: &Cache, t: &Tracked) -> Result<bool, CacheError> {
    if !t.pointer.is_dir() {
        return Ok(cache.contains(&t.pointer.hash));
    }
    match cache.read_verified(&t.pointer.hash) {
        Ok(bytes) => Ok(Manifest::from_bytes(&bytes, &t.pointer.hash)
            // Kept as the cache's error (exit 1), with the manifest's hint in its text.
            .map_err(|e| CacheError::Io(io::Error::other(with_hint(&e, e.hint().as_deref()))))?
            .entries()
            .iter()
            .all(|e| cache.contains(&e.hash))),
        Err(CacheError::Missing { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// What a deployed version must hold: the artifact's hash, and each of its files.
pub struct Expected {
    pub hash: Hash,
    pub dir: bool,
    /// Each file's path under the artifact (`""` for a file artifact), hash and size.
    pub files: Vec<(String, Hash, u64)>,
}

impl Expected {
    /// Read from the pointer, and for a folder from its manifest in the cache.
    pub fn of(cache: &Cache, t: &Tracked) -> anyhow::Result<Expected> {
        let files = if t.pointer.is_dir() {
            let bytes = cache.read_verified(&t.pointer.hash)?;
            Manifest::from_bytes(&bytes, &t.pointer.hash)?
                .entries()
                .iter()
                .map(|e| (e.path.clone(), e.hash, e.size))
                .collect()
        } else {
            vec![(String::new(), t.pointer.hash, t.pointer.size)]
        };
        Ok(Expected {
            hash: t.pointer.hash,
            dir: t.pointer.is_dir(),
            files,
        })
    }
}

/// Written into a version (`v1.2.0/.mlv-deployed.json`) once it is complete: which hash it
/// holds. On a folder, a file changed after it (a newer ctime) gets hashed again.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Marker {
    pub(crate) hash: Hash,
    pub(crate) commit: String,
}

pub(crate) const MARKER: &str = ".mlv-deployed.json";

mod folder;
mod store;

pub use folder::{CURRENT, Folder};
pub use store::{CurrentJson, serves, upload};
