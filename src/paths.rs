//! Paths inside the repository: what the user typed, from any sub-folder, resolved to a
//! normalized `/`-separated path relative to the work tree root.

use crate::problem::{Hinted, Kind};
use std::fmt;
use std::path::{Component, Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum PathError {
    #[error("`{path}` is outside the repository at `{root}`")]
    Outside { path: PathBuf, root: PathBuf },
    #[error("`{0}` does not exist")]
    NotFound(PathBuf),
    #[error("`{0}` is not valid UTF-8; git-mlv tracks only paths that are")]
    NotUtf8(PathBuf),
    #[error("`{0}` is the repository root or inside `.git`/`.mlv`; git-mlv cannot track it")]
    Reserved(PathBuf),
    /// A pointer (in the work tree, or committed at `rev`) whose data path is reserved.
    #[error(
        "pointer `{pointer}`{} would put data at `{path}`, inside a `.git` folder or `.mlv/`; git-mlv never writes there",
        rev.as_ref().map(|r| format!(" committed at `{r}`")).unwrap_or_default()
    )]
    ReservedPointer {
        pointer: String,
        path: String,
        rev: Option<String>,
    },
    /// A parent folder of `path` is a symbolic link that leads out of the tree being written.
    #[error(
        "`{path}` lies in `{parent}`, a symbolic link to `{target}` outside `{root}`; git-mlv writes nothing through a link to outside"
    )]
    ThroughLink {
        path: String,
        parent: String,
        target: PathBuf,
        root: PathBuf,
    },
}

/// Every path error is the request's fault: the path given, or a pointer that names one.
impl Hinted for PathError {
    fn kind(&self) -> Kind {
        Kind::Usage
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            PathError::Outside { .. } => {
                "git-mlv tracks data inside the work tree; move it there first".into()
            }
            PathError::NotFound(_) => {
                "check the path, or run `git mlv status` to see what is tracked".into()
            }
            PathError::NotUtf8(_) => "rename it".into(),
            PathError::Reserved(_) => return None,
            PathError::ReservedPointer { pointer, rev, .. } => match rev {
                None => format!(
                    "remove it with `git rm --cached {pointer}` and delete the file, then commit"
                ),
                Some(_) => format!(
                    "use another revision, or remove it in a new commit with `git rm --cached {pointer}`"
                ),
            },
            PathError::ThroughLink { parent, .. } => format!(
                "replace the link `{parent}` with a real folder, or track the data where it really is"
            ),
        })
    }
}

/// A path relative to the work tree root, `/`-separated, without `.` or `..` segments.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepoPath(String);

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
    let normalized = normalize(&joined);
    let rel = normalized
        .strip_prefix(root)
        .map_err(|_| PathError::Outside {
            path: arg.to_path_buf(),
            root: root.to_path_buf(),
        })?;
    let s = rel
        .to_str()
        .ok_or_else(|| PathError::NotUtf8(arg.to_path_buf()))?;
    if s.is_empty() || is_reserved(s) {
        return Err(PathError::Reserved(arg.to_path_buf()));
    }
    Ok(RepoPath(s.to_string()))
}

/// A path segment as the file systems git protects against see it: case folded (`.GIT` is
/// `.git` on macOS and Windows), without the characters HFS+ ignores, and without the
/// trailing dots and spaces NTFS drops (git's `is_hfs_dotgit`/`is_ntfs_dotgit`).
fn fold(seg: &str) -> String {
    let ignored = |c: char| matches!(c, '\u{200c}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{206a}'..='\u{206f}' | '\u{feff}');
    let kept: String = seg.chars().filter(|c| !ignored(*c)).collect();
    kept.trim_end_matches(['.', ' ']).to_lowercase()
}

/// True when some segment of `p` names git's own folder on some file system: `.git` in any
/// case (and `git~1`, its NTFS short name). Manifest entries must never have one.
pub fn has_git_segment(p: &str) -> bool {
    p.split('/')
        .any(|seg| matches!(fold(seg).as_str(), ".git" | "git~1"))
}

/// True when git-mlv must never write at `p`, a path relative to the work tree root: a
/// `.git` segment anywhere (git's folder, a nested repository's, or a linked worktree's
/// `.git` file) or a first segment `.mlv` (git-mlv's own settings). Relative to the root,
/// so a work tree that itself lies below some `.git` folder is fine.
pub fn is_reserved(p: &str) -> bool {
    has_git_segment(p)
        || p.split('/')
            .next()
            .is_some_and(|first| fold(first) == ".mlv")
}

/// Refuses `rel` when its parent folder under `root`, resolved through symbolic links,
/// lies outside `root` (canonical): writing there would write through the link. The
/// deepest parent that exists decides; one that is a dangling link is refused too.
pub fn check_no_link_out(root: &Path, rel: &str) -> Result<(), PathError> {
    let mut parent = Path::new(rel).parent();
    while let Some(p) = parent.filter(|p| !p.as_os_str().is_empty()) {
        let abs = root.join(p);
        if std::fs::symlink_metadata(&abs).is_ok() {
            match abs.canonicalize() {
                Ok(target) if target.starts_with(root) => return Ok(()),
                target => {
                    return Err(PathError::ThroughLink {
                        path: rel.to_string(),
                        parent: p.display().to_string(),
                        target: target.unwrap_or_else(|_| std::fs::read_link(&abs).unwrap_or(abs)),
                        root: root.to_path_buf(),
                    });
                }
            }
        }
        parent = p.parent();
    }
    Ok(())
}

/// `abs` without `.` and `..` segments, lexically (a symlink is not followed).
pub fn normalize(abs: &Path) -> PathBuf {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for comp in abs.components() {
        match comp {
            Component::RootDir | Component::Prefix(_) => parts.clear(),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop();
            }
            Component::Normal(p) => parts.push(p),
        }
    }
    std::iter::once(Component::RootDir.as_os_str())
        .chain(parts)
        .collect()
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

    #[test]
    fn git_and_mlv_folders_are_reserved_in_any_case() {
        for bad in [
            ".git",
            ".GIT/config",
            "sub/.Git",
            "a/.git/HEAD",
            "a/.git. /x",
            "a/GIT~1/x",
            "a/.g\u{200c}it",
            ".mlv",
            ".MLV/config.toml",
        ] {
            assert!(is_reserved(bad), "{bad}");
        }
        for good in [
            "data/.gitignore",
            ".git.d",
            "x.git",
            "git",
            "sub/.mlv",
            "data/.mlvx",
        ] {
            assert!(!is_reserved(good), "{good}");
        }
        assert!(has_git_segment("x/.GIT/y") && !has_git_segment(".mlv/x"));
    }
}
