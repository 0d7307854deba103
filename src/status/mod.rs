//! Comparing workspace data with its pointer (`status`): unchanged, modified (which files),
//! missing, out of step with the pointer, or a damaged cache object behind a link.

use crate::cache::{Cache, CacheError};
use crate::hash::Hash;
use crate::manifest::Manifest;
use crate::pathspec::Scope;
use crate::progress::Progress;
use crate::repo::{Repo, Tracked};
use crate::stat_cache::StatCache;
use crate::workspace::{self, Kind};
use anyhow::Context;
use serde::Serialize;
use std::collections::HashMap;
use std::io;

pub(crate) mod listing;
mod whole;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    Unchanged,
    /// Changed by the user since the last `add`: `git mlv add` records it.
    Modified,
    /// The workspace holds another version that git-mlv knows (in the cache), as after
    /// `git reset --hard`, `git stash` or `git checkout` without the hook: `git mlv checkout`.
    OutOfStep,
    /// Not in the workspace, or (a directory) only the files whose objects the cache lacks
    /// are absent: never pulled, not deleted by the user (see `not_pulled`).
    Missing,
    /// A workspace link into the cache no longer matches: the cache object was written through.
    DamagedCache,
    /// The directory's manifest is not in the cache, so its files cannot be compared.
    Unknown,
}

#[derive(Debug, Default, Serialize)]
pub struct Changes {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub modified: Vec<String>,
}

impl Changes {
    fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.modified.is_empty()
    }
}

/// A workspace path that is a symlink (not into the cache), FIFO, socket or device: `add`
/// refuses it, so the way forward is a regular file in its place.
#[derive(Debug, Serialize)]
pub struct NotRegular {
    pub path: String,
    /// What it is instead, e.g. "a symbolic link".
    pub is: &'static str,
}

#[derive(Debug, Serialize)]
pub struct ArtifactStatus {
    pub path: String,
    pub kind: &'static str,
    pub hash: Hash,
    pub state: State,
    /// Every object the pointer needs is in the cache.
    pub in_cache: bool,
    /// Objects the pointer needs that the cache lacks. A directory whose manifest the
    /// cache lacks counts only that (which files it needs is unknown without it).
    pub missing_objects: usize,
    /// False for a directory whose manifest is not in the cache (as in a fresh clone).
    pub manifest_in_cache: bool,
    /// The file count the pointer records (directories), for messages.
    #[serde(skip)]
    pub pointer_files: Option<u64>,
    pub changes: Changes,
    /// Files of a directory that are absent from the workspace while the cache lacks their
    /// objects: never pulled (a partial pull), so not `removed` and not to be recorded by `add`.
    pub not_pulled: Vec<String>,
    /// Paths that are not regular files (and so cannot be added as they are).
    pub not_regular: Vec<NotRegular>,
    /// Files whose bytes had to be read (the stat cache vouched for the rest).
    pub files_read: u64,
    /// With `status -r`: how many of the objects this path needs the remote lacks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_on_remote: Option<usize>,
}

impl ArtifactStatus {
    pub fn is_clean(&self) -> bool {
        self.state == State::Unchanged && self.in_cache && self.not_on_remote.unwrap_or(0) == 0
    }
}

pub fn status(
    repo: &Repo,
    cache: &Cache,
    stat: &mut StatCache,
    t: &Tracked,
    scope: &Scope,
    progress: &dyn Progress,
) -> anyhow::Result<ArtifactStatus> {
    let abs = t.path.to_abs(repo.root());
    let mut out = ArtifactStatus {
        path: t.path.to_string(),
        kind: if t.pointer.is_dir() { "dir" } else { "file" },
        hash: t.pointer.hash,
        state: State::Unchanged,
        in_cache: true,
        missing_objects: 0,
        manifest_in_cache: true,
        pointer_files: t.pointer.files,
        changes: Changes::default(),
        not_pulled: Vec::new(),
        not_regular: Vec::new(),
        files_read: 0,
        not_on_remote: None,
    };
    let lmeta = match std::fs::symlink_metadata(&abs) {
        Ok(m) => Some(m),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(io::Error::new(e.kind(), format!("reading `{}`: {e}", t.path)).into());
        }
    };
    if !t.pointer.is_dir() {
        out.in_cache = cache.contains(&t.pointer.hash);
        t.check_sizes(cache, None)?;
        out.missing_objects = usize::from(!out.in_cache);
        let Some(lmeta) = lmeta else {
            out.state = State::Missing;
            return Ok(out);
        };
        let (meta, kind) = workspace::classify(&abs, lmeta, cache.root())?;
        if let Kind::Other(is) = kind {
            // A directory in its place can be added as one; anything else cannot.
            if !meta.is_dir() {
                out.not_regular.push(NotRegular {
                    path: t.path.to_string(),
                    is,
                });
            }
            out.state = State::Modified;
            return Ok(out);
        }
        let (hash, fresh) = workspace::hash_one(t.path.as_str(), &abs, &meta, stat, None)?;
        progress.inc(1, meta.len());
        if fresh {
            stat.record(t.path.to_string(), &meta, hash);
            out.files_read = 1;
        }
        if hash != t.pointer.hash {
            let linked = matches!(kind, Kind::CacheLink(h) if h == t.pointer.hash)
                || workspace::is_hardlink_to(&meta, &cache.object_path(&t.pointer.hash));
            out.state = if linked {
                State::DamagedCache
            } else if cache.contains(&hash) {
                State::OutOfStep
            } else {
                State::Modified
            };
        }
        return Ok(out);
    }
    if lmeta.as_ref().is_some_and(|m| m.is_dir())
        && scope.is_whole()
        && cache.contains(&t.pointer.hash)
    {
        return whole::status(repo, cache, stat, t, &abs, out, progress);
    }
    let root = repo.root();
    let manifest = match cache.read_verified(&t.pointer.hash) {
        Ok(bytes) => Manifest::from_bytes(&bytes, &t.pointer.hash)
            .with_context(|| format!("the manifest of `{}`", t.path))?,
        Err(CacheError::Missing { .. }) => {
            out.in_cache = false;
            out.manifest_in_cache = false;
            out.missing_objects = 1;
            out.state = if lmeta.is_some() {
                State::Unknown
            } else {
                State::Missing
            };
            return Ok(out);
        }
        Err(e) => return Err(e.into()),
    };
    t.check_sizes(cache, Some(&manifest))?;
    // `status data/train` judges only the files at or below `train` inside `data`.
    let entries: Vec<&crate::manifest::Entry> = manifest
        .entries()
        .iter()
        .filter(|e| scope.covers(&t.path, &e.path))
        .collect();
    let hashes: Vec<Hash> = entries.iter().map(|e| e.hash).collect();
    // The cache's folders and the work tree's are read at once: each is mostly waiting on
    // system calls, and together they are most of an unchanged status.
    let listing = lmeta.as_ref().filter(|m| m.is_dir()).map(|_| &abs);
    let (missing, files) = rayon::join(
        || cache.missing(&hashes),
        || {
            listing
                .map(|dir| workspace::list_dir(root, dir, cache.root()))
                .transpose()
        },
    );
    let missing = missing?;
    out.missing_objects = hashes.iter().filter(|h| missing.contains(h)).count();
    out.in_cache = out.missing_objects == 0;
    let (regular, other, hashes, read) = match (lmeta, files?) {
        (None, _) => {
            out.state = State::Missing;
            return Ok(out);
        }
        (Some(_), None) => {
            out.state = State::Modified;
            return Ok(out);
        }
        (Some(_), Some(files)) => {
            let (regular, other): (Vec<_>, Vec<_>) = files
                .into_iter()
                .filter(|f| scope.covers(&t.path, &f.rel))
                .partition(|f| !matches!(f.kind, Kind::Other(_)));
            let (hashes, read) =
                workspace::hash_all(&regular, t.path.as_str(), &abs, stat, None, progress)?;
            (regular, other, hashes, read)
        }
    };
    out.files_read = read;
    let current: HashMap<&str, (Hash, &workspace::FileEntry)> = regular
        .iter()
        .zip(&hashes)
        .map(|(f, h)| (f.rel.as_str(), (*h, f)))
        .collect();
    let mut damaged = false;
    // The hashes of the modified and added files (see `whole::finish`).
    let mut news = Vec::new();
    for e in entries {
        match current.get(e.path.as_str()) {
            // An absent file whose object the cache lacks was never pulled; one whose object
            // is there was deleted (checkout restores it).
            None if missing.contains(&e.hash) => {
                out.not_pulled.push(format!("{}/{}", t.path, e.path));
            }
            None => out.changes.removed.push(format!("{}/{}", t.path, e.path)),
            Some((h, f)) if *h != e.hash => {
                damaged |= matches!(f.kind, Kind::CacheLink(l) if l == e.hash)
                    || workspace::is_hardlink_to(f.meta, &cache.object_path(&e.hash));
                out.changes.modified.push(format!("{}/{}", t.path, e.path));
                news.push(*h);
            }
            Some(_) => {}
        }
    }
    for f in regular.iter().chain(&other) {
        if manifest.get(&f.rel).is_none() {
            out.changes.added.push(format!("{}/{}", t.path, f.rel));
            news.extend(current.get(f.rel.as_str()).map(|(h, _)| *h));
        }
    }
    out.changes.added.sort();
    out.not_regular = not_regular(t, &other);
    if !out.changes.is_empty() {
        out.state = if damaged {
            State::DamagedCache
        } else if other.is_empty()
            && scope.is_whole()
            && news.iter().all(|h| cache.contains(h))
            && cache.contains(&workspace::manifest_hash(&regular, &hashes))
        {
            State::OutOfStep
        } else {
            State::Modified
        };
    } else if !out.not_pulled.is_empty() {
        out.state = State::Missing;
    }
    Ok(out)
}

/// The listed paths of `t` that are not regular files, as status reports them.
fn not_regular(t: &Tracked, other: &[workspace::FileEntry]) -> Vec<NotRegular> {
    other
        .iter()
        .filter_map(|f| match f.kind {
            Kind::Other(is) => Some(NotRegular {
                path: format!("{}/{}", t.path, f.rel),
                is,
            }),
            _ => None,
        })
        .collect()
}
