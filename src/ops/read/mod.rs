//! Reading tracked data without a checkout: the tracked entries at a revision (files inside
//! a tracked directory too), a file's object fetched from the remote into the cache and
//! verified, and the object's URL on the remote. The Python package (`mlv.open`, `mlv.ls`,
//! `MlvFileSystem`) is built on this; the work tree is never touched.

mod remote;

use crate::cache::{Cache, CacheError};
use crate::hash::Hash;
use crate::manifest::Manifest;
use crate::paths::{self, RepoPath};
use crate::problem::{Hinted, Kind};
use crate::repo::{Repo, Tracked};
use anyhow::Context;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Neither a tracked path, nor inside a tracked directory, nor a folder holding one.
    #[error("`{path}` is not tracked {at}")]
    NotTracked { path: String, at: String },
    #[error("`{0}` is a directory; name one of its files")]
    IsADirectory(String),
}

impl Hinted for ReadError {
    fn kind(&self) -> Kind {
        Kind::Usage
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            ReadError::NotTracked { .. } => {
                "`git mlv ls` (with `--rev`) lists what is tracked; paths are relative to the repository root".into()
            }
            ReadError::IsADirectory(p) => format!("list its files with `mlv.ls(\"{p}\")`"),
        })
    }
}

/// The folder `repo` names. A git URL (`https://`, `file://`, ssh) is refused until the
/// no-clone read of another repository is wired in here.
pub fn local_repo(repo: &str) -> anyhow::Result<&Path> {
    if repo.contains("://") || crate::remote::is_scp_like(repo) {
        return Err(crate::problem::usage_with_hint(
            format!(
                "reading a repository by its git URL (`{}`) is not supported yet",
                crate::remote::redact(repo)
            ),
            "clone it and name the clone's folder as `repo`",
        ));
    }
    Ok(Path::new(repo))
}

/// A file or a folder at the revision read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    /// Relative to the repository root, `/`-separated (`""` is the root).
    pub path: String,
    /// `"file"` or `"directory"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// A file's size; a folder's, the sum of the files in it.
    pub size: u64,
    /// A file's object; a tracked directory's manifest; `None` for other folders.
    pub hash: Option<Hash>,
}

impl Entry {
    fn file(path: String, hash: Hash, size: u64) -> Self {
        Entry {
            path,
            kind: "file",
            size,
            hash: Some(hash),
        }
    }

    fn dir(path: String, size: u64, hash: Option<Hash>) -> Self {
        Entry {
            path,
            kind: "directory",
            size,
            hash,
        }
    }

    pub fn is_dir(&self) -> bool {
        self.kind == "directory"
    }
}

/// One repository at one revision: the pointers read once, manifests and the remote's
/// engine on first need, so many reads (an fsspec filesystem's) cost one setup. It keeps
/// no git handle (gix's is not `Send`), so it can serve any thread.
pub struct Reader {
    /// The folder the caller named, to open the repository again for the remote's engine.
    dir: PathBuf,
    root: PathBuf,
    cache: Cache,
    /// The revision as the caller gave it, for messages; `None` is the work tree.
    rev: Option<String>,
    tracked: Vec<Tracked>,
    remote: Option<String>,
    remote_engine: OnceLock<remote::Remote>,
    manifests: Mutex<HashMap<Hash, Arc<Manifest>>>,
}

impl Reader {
    /// The pointers committed at `rev` in the repository holding the folder `repo` (with
    /// `None`, the pointer files in its work tree, as `git mlv ls` reads them), whose
    /// data comes from the cache or else from `remote` (default: the default remote).
    pub fn open(repo: &str, rev: Option<&str>, remote: Option<&str>) -> anyhow::Result<Reader> {
        let repo_dir = local_repo(repo)?;
        let repo = Repo::open(repo_dir)?;
        // Pinned to its commit, so a branch that moves meanwhile changes nothing read.
        let commit = match rev {
            Some(r) => Some(repo.git.resolve_commit(&repo.rev(r)?)?),
            None => None,
        };
        let tracked = repo.tracked_at(commit.as_deref())?;
        Ok(Reader {
            dir: repo_dir.to_path_buf(),
            root: repo.root().to_path_buf(),
            cache: repo.cache()?,
            rev: rev.map(str::to_owned),
            tracked,
            remote: remote.map(str::to_owned),
            remote_engine: OnceLock::new(),
            manifests: Mutex::new(HashMap::new()),
        })
    }

    /// What `path` is: a tracked file or directory, a file or folder inside a tracked
    /// directory, or a folder that holds tracked paths.
    pub fn info(&self, path: &str) -> anyhow::Result<Entry> {
        let Some(p) = self.repo_path(path)? else {
            let size = self.tracked.iter().map(|t| t.pointer.size).sum();
            return Ok(Entry::dir(String::new(), size, None));
        };
        for t in &self.tracked {
            if t.path == p {
                return Ok(self.entry_of(t));
            }
            if let Some(rel) = p.strip_prefix(&t.path).filter(|_| t.pointer.is_dir()) {
                let m = self.manifest(t)?;
                if let Some(e) = m.get(rel) {
                    return Ok(Entry::file(p.to_string(), e.hash, e.size));
                }
                let under = format!("{rel}/");
                let size = m
                    .entries()
                    .iter()
                    .filter(|e| e.path.starts_with(&under))
                    .fold(None, |sum: Option<u64>, e| Some(sum.unwrap_or(0) + e.size));
                if let Some(size) = size {
                    return Ok(Entry::dir(p.to_string(), size, None));
                }
            }
        }
        let size = self
            .tracked
            .iter()
            .filter(|t| t.path.strip_prefix(&p).is_some())
            .fold(None, |sum: Option<u64>, t| {
                Some(sum.unwrap_or(0) + t.pointer.size)
            });
        match size {
            Some(size) => Ok(Entry::dir(p.to_string(), size, None)),
            None => Err(self.not_tracked(&p)),
        }
    }

    /// The entries in the folder `path`, sorted by path: its children, or with `recursive`
    /// every file below it. A file lists as itself.
    pub fn list(&self, path: &str, recursive: bool) -> anyhow::Result<Vec<Entry>> {
        let top = self.info(path)?;
        if !top.is_dir() {
            return Ok(vec![top]);
        }
        let mut out: BTreeMap<String, Entry> = BTreeMap::new();
        let add = |e: Entry, out: &mut BTreeMap<String, Entry>| match out.get_mut(&e.path) {
            // Two tracked paths under one folder: the folder's size is their sum.
            Some(have) => have.size += e.size,
            None => {
                out.insert(e.path.clone(), e);
            }
        };
        let prefix = match top.path.as_str() {
            "" => String::new(),
            p => format!("{p}/"),
        };
        for t in &self.tracked {
            if let Some(rel) = t.path.as_str().strip_prefix(&prefix) {
                // A tracked path below the folder.
                match (rel.split_once('/'), recursive) {
                    (Some((first, _)), false) => add(
                        Entry::dir(format!("{prefix}{first}"), t.pointer.size, None),
                        &mut out,
                    ),
                    (None, false) => add(self.entry_of(t), &mut out),
                    (_, true) if t.pointer.is_dir() => {
                        for e in self.manifest(t)?.entries() {
                            add(
                                Entry::file(format!("{}/{}", t.path, e.path), e.hash, e.size),
                                &mut out,
                            );
                        }
                    }
                    (_, true) => add(self.entry_of(t), &mut out),
                }
            } else if let Some(inner) = prefix
                .strip_prefix(&format!("{}/", t.path))
                .filter(|_| t.pointer.is_dir())
            {
                // The folder is the tracked directory or inside it.
                for e in self.manifest(t)?.entries() {
                    let Some(rel) = e.path.strip_prefix(inner) else {
                        continue;
                    };
                    match (rel.split_once('/'), recursive) {
                        (Some((first, _)), false) => add(
                            Entry::dir(format!("{prefix}{first}"), e.size, None),
                            &mut out,
                        ),
                        _ => add(
                            Entry::file(format!("{prefix}{rel}"), e.hash, e.size),
                            &mut out,
                        ),
                    }
                }
            }
        }
        Ok(out.into_values().collect())
    }

    /// The cache file holding the object of the file `path`, fetched from the remote into
    /// the cache (verified) when the cache lacks it. Objects enter the cache only verified.
    pub fn object(&self, path: &str) -> anyhow::Result<PathBuf> {
        let (hash, size) = self.file(path)?;
        let cache = &self.cache;
        if !cache.contains(&hash) {
            self.fetch(vec![(hash, Some(size))])?;
        }
        // A tracked file's pointer may name the wrong size: the object, now verified, shows it.
        if let Some(t) = self
            .tracked
            .iter()
            .find(|t| t.pointer.hash == hash && !t.pointer.is_dir())
        {
            t.check_sizes(cache, None)?;
        }
        Ok(cache.object_path(&hash))
    }

    /// The bytes of the file `path` (see [`Reader::object`]), checked against its hash.
    pub fn read(&self, path: &str) -> anyhow::Result<Vec<u8>> {
        let (hash, _) = self.file(path)?;
        self.object(path)?;
        Ok(self.cache.read_verified(&hash)?)
    }

    /// The object and size of the file `path`.
    fn file(&self, path: &str) -> anyhow::Result<(Hash, u64)> {
        let e = self.info(path)?;
        match (e.is_dir(), e.hash) {
            (false, Some(hash)) => Ok((hash, e.size)),
            _ => Err(ReadError::IsADirectory(e.path).into()),
        }
    }

    /// `path` relative to the repository root, `None` for the root itself.
    fn repo_path(&self, path: &str) -> anyhow::Result<Option<RepoPath>> {
        let trimmed = path.trim_matches('/');
        if trimmed.is_empty() || trimmed == "." {
            return Ok(None);
        }
        Ok(Some(paths::resolve(
            &self.root,
            &self.root,
            Path::new(trimmed),
        )?))
    }

    fn entry_of(&self, t: &Tracked) -> Entry {
        match t.pointer.is_dir() {
            true => Entry::dir(t.path.to_string(), t.pointer.size, Some(t.pointer.hash)),
            false => Entry::file(t.path.to_string(), t.pointer.hash, t.pointer.size),
        }
    }

    fn not_tracked(&self, p: &RepoPath) -> anyhow::Error {
        let at = match &self.rev {
            Some(r) => format!("at `{r}`"),
            None => "in the work tree".into(),
        };
        ReadError::NotTracked {
            path: p.to_string(),
            at,
        }
        .into()
    }

    /// A tracked directory's manifest, from the cache or else the remote.
    fn manifest(&self, t: &Tracked) -> anyhow::Result<Arc<Manifest>> {
        let hash = t.pointer.hash;
        if let Some(m) = self.manifests.lock().expect("not poisoned").get(&hash) {
            return Ok(m.clone());
        }
        let cache = &self.cache;
        let bytes = match cache.read_verified(&hash) {
            Err(CacheError::Missing { .. }) => {
                self.fetch(vec![(hash, None)])?;
                cache.read_verified(&hash)?
            }
            other => other?,
        };
        let m = Manifest::from_bytes(&bytes, &hash)
            .with_context(|| format!("the manifest of `{}`", t.path))?;
        t.check_sizes(cache, Some(&m))?;
        let m = Arc::new(m);
        self.manifests
            .lock()
            .expect("not poisoned")
            .insert(hash, m.clone());
        Ok(m)
    }
}
