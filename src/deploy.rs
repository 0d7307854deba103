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
        if s.contains("://") || crate::remote::is_scp_like(s) {
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
            .map_err(|e| CacheError::Io(io::Error::other(e.to_string())))?
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
struct Marker {
    hash: Hash,
    commit: String,
}

const MARKER: &str = ".mlv-deployed.json";

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

    /// The path of `current` when something other than a symlink is there (a folder
    /// copied by hand): switching would have to delete it, so deploy refuses instead.
    pub fn foreign_current(&self) -> Option<PathBuf> {
        let path = self.dir.join(CURRENT);
        std::fs::symlink_metadata(&path)
            .ok()
            .filter(|m| !m.file_type().is_symlink())
            .map(|_| path)
    }

    /// Removes what deploys that died halfway left behind: scratch folders and temporary
    /// `current` links whose process is gone.
    pub fn sweep(&self) -> io::Result<()> {
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
        Ok(())
    }

    /// A fresh scratch folder for assembling `version`.
    pub fn scratch(&self, version: &str) -> io::Result<PathBuf> {
        let scratch = self
            .dir
            .join(format!("{SCRATCH}{version}-{}", std::process::id()));
        fs_err::create_dir_all(&scratch)?;
        Ok(scratch)
    }

    /// True when `v<semver>/` holds exactly the expected version: its marker names the
    /// hash, nothing but the artifact and the marker is there, and every file has the
    /// expected path and size. Files changed since the marker was written (a newer ctime,
    /// which no tool can set back) are hashed; when they all match, the marker is written
    /// again so the next check is fast.
    pub fn holds(&self, version: &str, file_name: &str, expected: &Expected) -> io::Result<bool> {
        let vdir = self.version_dir(version);
        let marker_path = vdir.join(MARKER);
        let Ok(marker_meta) = std::fs::symlink_metadata(&marker_path) else {
            return Ok(false);
        };
        let marker: Option<Marker> = std::fs::read(&marker_path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        let Some(marker) = marker.filter(|m| marker_meta.is_file() && m.hash == expected.hash)
        else {
            return Ok(false);
        };
        for entry in fs_err::read_dir(&vdir)? {
            let name = entry?.file_name();
            if name != MARKER && name != file_name {
                return Ok(false);
            }
        }
        let Some(found) = files_under(&vdir.join(file_name), expected.dir)? else {
            return Ok(false);
        };
        if found.len() != expected.files.len() {
            return Ok(false);
        }
        let wanted: std::collections::HashMap<&str, (&Hash, u64)> = expected
            .files
            .iter()
            .map(|(p, h, s)| (p.as_str(), (h, *s)))
            .collect();
        let written = ctime_ns(&marker_meta);
        let mut hashed = false;
        for (rel, meta) in &found {
            let Some(&(hash, size)) = wanted.get(rel.as_str()) else {
                return Ok(false);
            };
            if meta.len() != size {
                return Ok(false);
            }
            if ctime_ns(meta) > written {
                let path = if rel.is_empty() {
                    vdir.join(file_name)
                } else {
                    vdir.join(file_name).join(rel)
                };
                let file = fs_err::File::open(path)?.into_parts().0;
                if crate::cache::hash_reader(file)? != *hash {
                    return Ok(false);
                }
                hashed = true;
            }
        }
        if hashed {
            write_marker(&vdir, &marker)?;
        }
        Ok(true)
    }

    /// Moves the checked-out `data` into `v<semver>/<file_name>` in one rename of its folder,
    /// so a version folder that exists is always complete. A folder already there under that
    /// name (one that did not hold this version) is swapped out in the same step where the
    /// file system can exchange two names, else moved aside just before.
    pub fn install(
        &self,
        scratch: &Path,
        data: &Path,
        version: &str,
        file_name: &str,
        hash: Hash,
        commit: &str,
    ) -> io::Result<()> {
        let assembled = scratch.join("version");
        fs_err::create_dir_all(&assembled)?;
        fs_err::rename(data, assembled.join(file_name))?;
        // Written last, after the rename above changed the data's ctime.
        write_marker(
            &assembled,
            &Marker {
                hash,
                commit: commit.to_string(),
            },
        )?;
        let vdir = self.version_dir(version);
        if std::fs::symlink_metadata(&vdir).is_err() {
            fs_err::rename(&assembled, &vdir)?;
        } else {
            use rustix::fs::{CWD, RenameFlags, renameat_with};
            match renameat_with(CWD, &assembled, CWD, &vdir, RenameFlags::EXCHANGE) {
                Ok(()) => {}
                Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {
                    fs_err::rename(&vdir, scratch.join("replaced"))?;
                    fs_err::rename(&assembled, &vdir)?;
                }
                Err(e) => {
                    let e = io::Error::from(e);
                    return Err(io::Error::new(
                        e.kind(),
                        format!("replacing `{}`: {e}", vdir.display()),
                    ));
                }
            }
        }
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
        fs_err::rename(&tmp, self.dir.join(CURRENT)).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
    }
}

fn write_marker(dir: &Path, marker: &Marker) -> io::Result<()> {
    let json = serde_json::to_vec_pretty(marker).map_err(io::Error::other)?;
    crate::fsutil::write_atomic(&dir.join(MARKER), &json)
}

/// Every file under `root` with its metadata, by path relative to it (`""` for `root`
/// itself when it is expected to be a file); `None` when something else is there: nothing,
/// a symlink, a special file, or a file where a folder should be or the reverse.
fn files_under(root: &Path, dir: bool) -> io::Result<Option<Vec<(String, std::fs::Metadata)>>> {
    let meta = match std::fs::symlink_metadata(root) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(io::Error::new(
                e.kind(),
                format!("`{}`: {e}", root.display()),
            ));
        }
    };
    if !dir {
        return Ok(meta.is_file().then(|| vec![(String::new(), meta)]));
    }
    if !meta.is_dir() {
        return Ok(None);
    }
    let mut out = Vec::new();
    let mut todo = vec![(root.to_path_buf(), String::new())];
    while let Some((path, rel)) = todo.pop() {
        for entry in fs_err::read_dir(&path)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let meta = fs_err::symlink_metadata(entry.path())?;
            if meta.is_dir() {
                todo.push((entry.path(), rel));
            } else if meta.is_file() {
                out.push((rel, meta));
            } else {
                return Ok(None);
            }
        }
    }
    Ok(Some(out))
}

fn ctime_ns(meta: &std::fs::Metadata) -> i64 {
    use std::os::unix::fs::MetadataExt;
    meta.ctime() * 1_000_000_000 + meta.ctime_nsec()
}

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
