//! Paths inside the repository: what the user typed, from any sub-folder, resolved to a
//! normalized `/`-separated path relative to the work tree root.

use std::fmt;
use std::path::{Component, Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum PathError {
    #[error(
        "`{path}` is outside the repository at `{root}`\nhint: git-mlv tracks data inside the work tree; move it there first"
    )]
    Outside { path: PathBuf, root: PathBuf },
    #[error(
        "`{0}` does not exist\nhint: check the path, or run `git mlv status` to see what is tracked"
    )]
    NotFound(PathBuf),
    #[error("`{0}` is not valid UTF-8; git-mlv tracks only paths that are\nhint: rename it")]
    NotUtf8(PathBuf),
    #[error("`{0}` is the repository root or inside `.git`/`.mlv`; git-mlv cannot track it")]
    Reserved(PathBuf),
}

/// A path relative to the work tree root, `/`-separated, without `.` or `..` segments.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepoPath(String);

/// True when `rel`, a path inside a tracked directory, is `sub` or lies below it (always,
/// with no `sub`): `git mlv pull data/train` selects `train/…` inside `data`.
pub fn within(rel: &str, sub: Option<&str>) -> bool {
    sub.is_none_or(|s| rel == s || rel.strip_prefix(s).is_some_and(|r| r.starts_with('/')))
}

impl RepoPath {
    /// Builds a repository path from a relative `/`-separated string; callers guarantee shape.
    pub fn new(s: impl Into<String>) -> Self {
        RepoPath(s.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The absolute location under `root`.
    pub fn to_abs(&self, root: &Path) -> PathBuf {
        root.join(&self.0)
    }

    /// The pointer file that tracks this path: `<path>.mlv` beside it.
    pub fn pointer(&self) -> RepoPath {
        RepoPath(format!("{}{}", self.0, crate::pointer::EXT))
    }

    /// True when `self` is `other` or lies inside it.
    pub fn starts_with(&self, other: &RepoPath) -> bool {
        self.0 == other.0
            || (self.0.starts_with(&other.0) && self.0.as_bytes().get(other.0.len()) == Some(&b'/'))
    }

    /// The part of this path below `dir`, for a path inside it.
    pub fn strip_prefix(&self, dir: &RepoPath) -> Option<&str> {
        self.0.strip_prefix(&dir.0)?.strip_prefix('/')
    }

    pub fn join(&self, rel: &str) -> RepoPath {
        RepoPath(format!("{}/{rel}", self.0))
    }

    /// The last segment.
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// The folder holding this path, relative to the root ("" for the root itself).
    pub fn parent(&self) -> &str {
        self.0.rsplit_once('/').map_or("", |(p, _)| p)
    }
}

impl fmt::Display for RepoPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RepoPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// Resolves `arg` (absolute, or relative to `cwd`) to a path relative to `root`, lexically,
/// so that a path that does not exist yet (or a symlink) is not followed. `root` and `cwd`
/// are canonical.
pub fn resolve(root: &Path, cwd: &Path, arg: &Path) -> Result<RepoPath, PathError> {
    let joined = if arg.is_absolute() {
        arg.to_path_buf()
    } else {
        cwd.join(arg)
    };
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for comp in joined.components() {
        match comp {
            Component::RootDir | Component::Prefix(_) => parts.clear(),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop();
            }
            Component::Normal(p) => parts.push(p),
        }
    }
    let normalized: PathBuf = std::iter::once(Component::RootDir.as_os_str())
        .chain(parts)
        .collect();
    let rel = normalized
        .strip_prefix(root)
        .map_err(|_| PathError::Outside {
            path: arg.to_path_buf(),
            root: root.to_path_buf(),
        })?;
    let s = rel
        .to_str()
        .ok_or_else(|| PathError::NotUtf8(arg.to_path_buf()))?;
    let first = s.split('/').next().unwrap_or("");
    if s.is_empty() || first == ".git" || first == ".mlv" {
        return Err(PathError::Reserved(arg.to_path_buf()));
    }
    Ok(RepoPath(s.to_string()))
}

/// True when a manifest or pointer path is a safe relative path: not empty, not absolute, and
/// without empty, `.` or `..` segments, so it can never reach outside its directory.
pub fn is_safe_relative(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && p.split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
        && !p.contains('\0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_from_a_sub_folder() {
        let root = Path::new("/r");
        let p = resolve(root, Path::new("/r/a/b"), Path::new("../data")).unwrap();
        assert_eq!(p.as_str(), "a/data");
        assert!(resolve(root, Path::new("/r"), Path::new("../x")).is_err());
        assert!(resolve(root, Path::new("/r"), Path::new(".")).is_err());
        assert!(resolve(root, Path::new("/r"), Path::new(".git/config")).is_err());
    }

    #[test]
    fn prefix_is_per_segment() {
        let d = RepoPath::new("data");
        assert!(RepoPath::new("data/x").starts_with(&d));
        assert!(!RepoPath::new("data2").starts_with(&d));
        assert_eq!(RepoPath::new("data/x/y").strip_prefix(&d), Some("x/y"));
    }

    #[test]
    fn unsafe_paths_are_refused() {
        for bad in ["", "/etc/passwd", "a/../b", "./a", "a//b", "..", "a/."] {
            assert!(!is_safe_relative(bad), "{bad}");
        }
        assert!(is_safe_relative("a/b c/ü\nx"));
    }
}
