//! Reading tracked data without a checkout, the one read API: the tracked entries at a
//! revision (files inside a tracked directory too), a file's object fetched from the remote
//! into the cache and verified, and the object's URL on the remote. The repository is this
//! one or another, by path or git URL ([`External`] opens it); the Python package
//! (`mlv.open`, `mlv.ls`, `MlvFileSystem`) and `get`/`import`/`update` are built on this;
//! the work tree is never touched.

mod fetch;
mod remote;

use super::external::{External, is_url};
use crate::cache::Cache;
use crate::hash::Hash;
use crate::manifest::Manifest;
use crate::paths::{self, RepoPath};
use crate::problem::{Hinted, Kind};
use crate::progress::NoProgress;
use crate::repo::{Repo, Tracked};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Neither a tracked path, nor inside a tracked directory, nor a folder holding one.
    #[error("`{path}` is not tracked {at}")]
    NotTracked {
        path: String,
        at: String,
        /// Read from another repository (`get`, `import`, a `repo` URL): its `ls` is not ours.
        elsewhere: bool,
    },
    #[error("`{0}` is a directory; name one of its files")]
    IsADirectory(String),
}

impl Hinted for ReadError {
    fn kind(&self) -> Kind {
        Kind::Usage
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            ReadError::NotTracked {
                elsewhere: false, ..
            } => {
                "`git mlv ls` (with `--rev`) lists what is tracked; paths are relative to the repository root".into()
            }
            ReadError::NotTracked { .. } => {
                "give the path of data it tracks (a `<path>.mlv` pointer there), or a file or folder inside it; `mlv.ls` lists them".into()
            }
            ReadError::IsADirectory(p) => format!("list its files with `mlv.ls(\"{p}\")`"),
        })
    }
}

/// The folder `repo` names, for what reads a repository on this machine only
/// (`mlv.lineage`: lineage reads stages and history, not only tracked pointers).
pub fn local_repo(repo: &str) -> anyhow::Result<&Path> {
    if is_url(repo) {
        return Err(crate::problem::usage_with_hint(
            format!(
                "lineage reads a repository on this machine, not one by its git URL (`{}`)",
                crate::remote::redact(repo)
            ),
            "clone it and name the clone's folder as `repo`",
        ));
    }
    Ok(Path::new(repo))
}

/// What `rel` names inside a tracked directory's `manifest`: one of its files, or a folder
/// with the entries below it (their paths relative to that folder); the one lookup of a
/// path inside a tracked directory.
enum Inside<'a> {
    File(&'a crate::manifest::Entry),
    Folder(Vec<crate::manifest::Entry>),
}

fn inside<'a>(manifest: &'a Manifest, rel: &str) -> Option<Inside<'a>> {
    if let Some(e) = manifest.get(rel) {
        return Some(Inside::File(e));
    }
    let prefix = format!("{rel}/");
    let below: Vec<_> = manifest
        .entries()
        .iter()
        .filter_map(|e| {
            Some(crate::manifest::Entry {
                path: e.path.strip_prefix(&prefix)?.to_string(),
                ..e.clone()
            })
        })
        .collect();
    (!below.is_empty()).then_some(Inside::Folder(below))
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
    source: External,
    /// Where objects are read from and fetched into.
    cache: Cache,
    /// A cache read before `cache` and never written (`get`: this repository's).
    first: Option<Cache>,
    remote: Option<String>,
    remote_engine: OnceLock<remote::Remote>,
    manifests: Mutex<HashMap<Hash, Arc<Manifest>>>,
}

impl Reader {
    /// The pointers committed at `rev` in `repo`, whose data comes from the cache or else
    /// from `remote` (default: the default remote). `repo` is a folder of this machine's
    /// repository (with `rev` `None`, the pointer files in its work tree, as `git mlv ls`
    /// reads them; its own cache and remotes), or a git URL: read without a clone (see
    /// [`External`]), its data from the remotes its committed config names, into the
    /// object cache kept beside its bare repository in the user's cache folder
    /// (`$XDG_CACHE_HOME/git-mlv/repos/<key>/cache`).
    pub fn open(repo: &str, rev: Option<&str>, remote: Option<&str>) -> anyhow::Result<Reader> {
        let (source, cache) = if is_url(repo) {
            let source = External::open(repo, rev)?;
            let cache = Cache::open(&source.state().join("cache"), false)?;
            (source, cache)
        } else {
            let repo = Repo::open(Path::new(repo))?;
            (External::in_repo(&repo, rev)?, repo.cache()?)
        };
        Ok(Reader::new(source, cache, remote))
    }

    /// Reads `source` through `cache` (`get` and `import`: this repository's).
    pub fn new(source: External, cache: Cache, remote: Option<&str>) -> Reader {
        Reader {
            source,
            cache,
            first: None,
            remote: remote.map(str::to_owned),
            remote_engine: OnceLock::new(),
            manifests: Mutex::new(HashMap::new()),
        }
    }

    /// Reads objects `cache` holds from it, fetching only what it lacks into this reader's
    /// cache; `cache` is never written (`get` fills no cache of this repository).
    pub fn reading_first(self, cache: Cache) -> Reader {
        Reader {
            first: Some(cache),
            ..self
        }
    }

    /// The cache that holds `hash`, when one does: the one read first, else the reader's.
    pub fn holder(&self, hash: &Hash) -> Option<&Cache> {
        self.first
            .iter()
            .chain([&self.cache])
            .find(|c| c.contains(hash))
    }

    /// The repository read.
    pub fn source(&self) -> &External {
        &self.source
    }

    /// What `path` is: a tracked file or directory, a file or folder inside a tracked
    /// directory, or a folder that holds tracked paths.
    pub fn info(&self, path: &str) -> anyhow::Result<Entry> {
        let Some(p) = self.repo_path(path)? else {
            let size = self.source.tracked().iter().map(|t| t.pointer.size).sum();
            return Ok(Entry::dir(String::new(), size, None));
        };
        for t in self.source.tracked() {
            if t.path == p {
                return Ok(self.entry_of(t));
            }
            if let Some(rel) = p.strip_prefix(&t.path).filter(|_| t.pointer.is_dir()) {
                match inside(&*self.manifest(t, &NoProgress)?, rel) {
                    Some(Inside::File(e)) => return Ok(Entry::file(p.to_string(), e.hash, e.size)),
                    Some(Inside::Folder(below)) => {
                        let size = below.iter().map(|e| e.size).sum();
                        return Ok(Entry::dir(p.to_string(), size, None));
                    }
                    None => {}
                }
            }
        }
        let size = self
            .source
            .tracked()
            .iter()
            .filter(|t| t.path.strip_prefix(&p).is_some())
            .fold(None, |sum: Option<u64>, t| {
                Some(sum.unwrap_or(0) + t.pointer.size)
            });
        match size {
            Some(size) => Ok(Entry::dir(p.to_string(), size, None)),
            None => Err(self.not_tracked(p.as_str())),
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
        for t in self.source.tracked() {
            if let Some(rel) = t.path.as_str().strip_prefix(&prefix) {
                // A tracked path below the folder.
                match (rel.split_once('/'), recursive) {
                    (Some((first, _)), false) => add(
                        Entry::dir(format!("{prefix}{first}"), t.pointer.size, None),
                        &mut out,
                    ),
                    (None, false) => add(self.entry_of(t), &mut out),
                    (_, true) if t.pointer.is_dir() => {
                        for e in self.manifest(t, &NoProgress)?.entries() {
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
                for e in self.manifest(t, &NoProgress)?.entries() {
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
        let (hash, _) = self.objects(&[path])?[0];
        Ok(self.cache.object_path(&hash))
    }

    /// The bytes of the file `path` (see [`Reader::object`]), checked against its hash.
    pub fn read(&self, path: &str) -> anyhow::Result<Vec<u8>> {
        let (hash, _) = self.objects(&[path])?[0];
        Ok(self.cache.read_verified(&hash)?)
    }

    /// The object and size of each file in `paths`, in order, once the cache holds them
    /// all: what it lacks is fetched in one batch (the engine's parallel download, packs
    /// read by ranges), not one file at a time.
    pub fn objects<P: AsRef<str>>(&self, paths: &[P]) -> anyhow::Result<Vec<(Hash, u64)>> {
        let files = paths
            .iter()
            .map(|p| self.file(p.as_ref()))
            .collect::<anyhow::Result<Vec<_>>>()?;
        self.fetch_files(&files)?;
        Ok(files)
    }

    /// The cache objects are read from and fetched into.
    pub fn cache(&self) -> &Cache {
        &self.cache
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
            self.source.root(),
            self.source.root(),
            Path::new(trimmed),
        )?))
    }

    fn entry_of(&self, t: &Tracked) -> Entry {
        match t.pointer.is_dir() {
            true => Entry::dir(t.path.to_string(), t.pointer.size, Some(t.pointer.hash)),
            false => Entry::file(t.path.to_string(), t.pointer.hash, t.pointer.size),
        }
    }

    fn not_tracked(&self, p: &str) -> anyhow::Error {
        let s = &self.source;
        let at = match (s.is_this(), s.rev()) {
            (true, Some(r)) => format!("at `{r}`"),
            (true, None) => "in the work tree".into(),
            (false, _) => format!("in `{}`{}", s.url(), s.at()),
        };
        ReadError::NotTracked {
            path: p.to_string(),
            at,
            elsewhere: !s.is_this(),
        }
        .into()
    }
}
