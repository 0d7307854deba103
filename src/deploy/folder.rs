//! A folder deploy target: versions under `<target>/<name>/`, each checked against its
//! marker before `current` (a symlink replaced by rename) points at it.

use super::{Expected, MARKER, Marker};
use crate::hash::Hash;
use std::io;
use std::path::{Path, PathBuf};
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
