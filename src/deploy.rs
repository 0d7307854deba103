//! Where deployed artifacts live: `<target>/<name>/v<semver>/<file or folder name>`, with
//! `<target>/<name>/current` switched atomically once a version is complete. On a folder
//! `current` is a symlink replaced by rename; on an object store it is `current.json`,
//! written after every file of the version. Earlier versions are kept, so a rollback whose
//! version is already there only switches `current`.

use crate::cache::{Cache, CacheError};
use crate::config;
use crate::hash::Hash;
use crate::manifest::Manifest;
use crate::remote::Backend;
use crate::repo::Tracked;
use futures::StreamExt;
use std::io;
use std::path::{Path, PathBuf};

/// Where a deploy goes: a folder on this machine, or an object store / HTTP URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Dir(PathBuf),
    Url(String),
}

impl Target {
    /// A path (relative to `cwd`), `file://` URL, or a remote URL.
    pub fn parse(s: &str, cwd: &Path) -> Target {
        if let Some(path) = url::Url::parse(s)
            .ok()
            .filter(|u| u.scheme() == "file")
            .and_then(|u| u.to_file_path().ok())
        {
            return Target::Dir(path);
        }
        if s.contains("://") {
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
}

/// Remembers the target of `name`'s `stage`: a folder in this machine's
/// `.mlv/config.local.toml`, a URL in the team's `.mlv/config.toml`. Returns the file's
/// repository path.
pub fn remember(root: &Path, name: &str, stage: &str, target: &Target) -> anyhow::Result<String> {
    let file = match target {
        Target::Dir(_) => config::LOCAL_FILE,
        Target::Url(_) => config::FILE,
    };
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
        per_name[stage] = toml_edit::value(target.as_config());
        Ok(())
    })?;
    Ok(format!("{}/{file}", config::DIR))
}

/// True when the cache holds every object `t` needs.
pub fn cached(cache: &Cache, t: &Tracked) -> Result<bool, CacheError> {
    if !t.pointer.is_dir() {
        return Ok(cache.contains(&t.pointer.hash));
    }
    match cache.read_verified(&t.pointer.hash) {
        Ok(bytes) => Ok(Manifest::from_bytes(&bytes, &t.pointer.hash)
            .map_err(|e| CacheError::Io(io::Error::other(e.to_string())))?
            .entries()
            .iter()
            .all(|e| cache.contains(&e.hash))),
        Err(CacheError::Missing { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// `<target>/<name>` on a folder.
pub struct Folder {
    pub dir: PathBuf,
}

pub const CURRENT: &str = "current";
const SCRATCH: &str = ".deploying-";
const TMP_CURRENT: &str = ".current-";

impl Folder {
    pub fn new(target: &Path, name: &str) -> Folder {
        Folder {
            dir: target.join(name),
        }
    }

    pub fn version_dir(&self, version: &str) -> PathBuf {
        self.dir.join(version)
    }

    /// The version `current` points at, if any.
    pub fn current(&self) -> Option<String> {
        let link = std::fs::read_link(self.dir.join(CURRENT)).ok()?;
        Some(link.file_name()?.to_string_lossy().into_owned())
    }

    /// A fresh scratch folder for assembling `version`, after removing what deploys killed
    /// halfway left behind: scratch folders and temporary `current` links whose process is gone.
    pub fn scratch(&self, version: &str) -> io::Result<PathBuf> {
        fs_err::create_dir_all(&self.dir)?;
        for entry in fs_err::read_dir(&self.dir)? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            let Some(pid) = [SCRATCH, TMP_CURRENT]
                .iter()
                .find_map(|p| name.strip_prefix(p))
                .and_then(|r| r.rsplit('-').next())
            else {
                continue;
            };
            if !Path::new("/proc").join(pid).exists() {
                let path = self.dir.join(&name);
                if name.starts_with(SCRATCH) {
                    fs_err::remove_dir_all(path)?;
                } else {
                    fs_err::remove_file(path)?;
                }
            }
        }
        let scratch = self
            .dir
            .join(format!("{SCRATCH}{version}-{}", std::process::id()));
        fs_err::create_dir_all(&scratch)?;
        Ok(scratch)
    }

    /// Moves the checked-out `data` into `v<semver>/<file_name>` in one rename of its folder,
    /// so a version folder that exists is always complete.
    pub fn install(
        &self,
        scratch: &Path,
        data: &Path,
        version: &str,
        file_name: &str,
    ) -> io::Result<()> {
        let assembled = scratch.join("version");
        fs_err::create_dir_all(&assembled)?;
        fs_err::rename(data, assembled.join(file_name))?;
        fs_err::rename(&assembled, self.version_dir(version))?;
        fs_err::remove_dir_all(scratch)
    }

    /// Points `current` at `version`: a new symlink under a temporary name renamed over
    /// the old one, so readers see the old version or the new one, never neither.
    pub fn switch(&self, version: &str) -> io::Result<()> {
        let tmp = self
            .dir
            .join(format!("{TMP_CURRENT}{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(version, &tmp).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("creating symlink `{}`: {e}", tmp.display()),
            )
        })?;
        fs_err::rename(&tmp, self.dir.join(CURRENT))
    }
}

/// What `current.json` on an object store says.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct CurrentJson {
    pub version: String,
    /// Relative to `<name>/`: `v1.2.0/model.pkl`.
    pub path: String,
    pub commit: String,
    pub hash: String,
}

/// Uploads the version's files from the cache under `<name>/<version>/<file_name>` (what is
/// already there is skipped), then writes `<name>/current.json` last.
pub async fn upload(
    backend: &dyn Backend,
    cache: &Cache,
    name: &str,
    t: &Tracked,
    current: &CurrentJson,
    jobs: usize,
) -> anyhow::Result<()> {
    let base = format!("{name}/{}", current.path);
    let files: Vec<(String, Hash, u64)> = if t.pointer.is_dir() {
        let bytes = cache.read_verified(&t.pointer.hash)?;
        Manifest::from_bytes(&bytes, &t.pointer.hash)?
            .entries()
            .iter()
            .map(|e| (format!("{base}/{}", e.path), e.hash, e.size))
            .collect()
    } else {
        vec![(base, t.pointer.hash, t.pointer.size)]
    };
    let results: Vec<anyhow::Result<()>> = futures::stream::iter(files)
        .map(|(key, hash, size)| async move {
            if !backend.exists(&key).await? {
                backend
                    .put_file(&key, &cache.object_path(&hash), size)
                    .await?;
            }
            Ok(())
        })
        .buffer_unordered(jobs.max(1))
        .collect()
        .await;
    results.into_iter().collect::<anyhow::Result<()>>()?;
    let json = serde_json::to_vec_pretty(current)?;
    backend
        .replace(&format!("{name}/current.json"), json.into())
        .await?;
    Ok(())
}
