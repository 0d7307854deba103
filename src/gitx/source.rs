//! The one way to read a repository file: from the work tree, from the index git hands a
//! hook, or from a revision in git's object database.

use super::{GitError, GitRepo};
use std::path::{Path, PathBuf};

/// Where a repository file is read from.
#[derive(Clone, Copy)]
pub enum Source<'a> {
    /// The work tree at this root.
    WorkTree(&'a Path),
    /// The index, as git hands it to a hook (`GIT_INDEX_FILE` counts).
    Index(&'a GitRepo),
    /// The tree of a revision (a tag or branch counts as its commit).
    Rev(&'a GitRepo, &'a str),
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Git(#[from] GitError),
    /// The work tree file exists but could not be read; callers name it in their own error.
    #[error("reading `{}`", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl ReadError {
    /// For callers on anyhow: a git failure stays the `GitError` itself (so its exit code
    /// counts), a work tree failure becomes the caller's own error, `io(path, error)`.
    pub fn or_io<E>(self, io: impl FnOnce(PathBuf, std::io::Error) -> E) -> anyhow::Error
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        match self {
            ReadError::Git(e) => e.into(),
            ReadError::Io { path, source } => io(path, source).into(),
        }
    }

    /// For callers on anyhow, with no error of their own for a work tree failure.
    pub fn into_anyhow(self) -> anyhow::Error {
        self.or_io(|path, source| ReadError::Io { path, source })
    }
}

impl Source<'_> {
    /// The bytes of the file at `path` (repository-relative, `/`-separated), or `None` when
    /// there is no such file there.
    pub fn read(&self, path: &str) -> Result<Option<Vec<u8>>, ReadError> {
        match self {
            Source::WorkTree(root) => {
                let abs = root.join(path);
                match std::fs::read(&abs) {
                    Ok(b) => Ok(Some(b)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(source) => Err(ReadError::Io { path: abs, source }),
                }
            }
            Source::Index(git) => Ok(git.staged_bytes(path)?),
            Source::Rev(git, rev) => Ok(git.file_at(rev, path)?),
        }
    }

    /// The revision read from, if any.
    pub fn rev(&self) -> Option<&str> {
        match self {
            Source::Rev(_, rev) => Some(rev),
            _ => None,
        }
    }

    /// How a file read from here is named in errors: `HEAD~1:mlv.toml` at a revision, the
    /// path itself in the work tree or the index.
    pub fn shown(&self, path: &str) -> PathBuf {
        match self {
            Source::Rev(_, rev) => PathBuf::from(format!("{rev}:{path}")),
            _ => PathBuf::from(path),
        }
    }
}

impl std::fmt::Display for Source<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::WorkTree(_) => write!(f, "work tree"),
            Source::Index(_) => write!(f, "staged"),
            Source::Rev(_, rev) => write!(f, "at `{rev}`"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_tree_reads_a_file_and_absent_is_none() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("m.json"), b"{}").unwrap();
        std::fs::create_dir(dir.path().join("d")).unwrap();
        let src = Source::WorkTree(dir.path());
        assert_eq!(src.read("m.json").unwrap(), Some(b"{}".to_vec()));
        assert_eq!(src.read("gone.json").unwrap(), None);
        // A directory is not a missing file: the caller decides what it means.
        assert!(matches!(src.read("d"), Err(ReadError::Io { .. })));
        assert_eq!(src.rev(), None);
        assert_eq!(src.shown("mlv.toml"), PathBuf::from("mlv.toml"));
        assert_eq!(src.to_string(), "work tree");
    }
}
