//! What a reader fetches into its cache: tracked directories' manifests (kept once read),
//! the pointer of a path to copy (`get`, `import`), and every object of a pointer.

use super::{Inside, Reader, inside};
use crate::cache::CacheError;
use crate::hash::Hash;
use crate::manifest::Manifest;
use crate::pointer::Pointer;
use crate::progress::{NoProgress, Progress};
use crate::repo::Tracked;
use anyhow::Context;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

impl Reader {
    /// The pointer for `path`: a tracked path (its hash, size and file count), or a file or
    /// folder inside a tracked directory (a folder gets a manifest of its own, put in the
    /// cache). A path that is not tracked there is a usage error (exit 2).
    pub fn pointer(&self, path: &str, progress: &dyn Progress) -> anyhow::Result<Pointer> {
        let path = path.trim_start_matches("./").trim_end_matches('/');
        if !crate::paths::is_safe_relative(path) {
            return Err(self.not_tracked(path));
        }
        let p = crate::paths::RepoPath::new(path);
        let Some(t) = self
            .source
            .tracked()
            .iter()
            .find(|t| t.path == p || p.starts_with(&t.path))
        else {
            return Err(self.not_tracked(path));
        };
        let Some(rel) = p.strip_prefix(&t.path) else {
            return Ok(match t.pointer.files {
                Some(files) => Pointer::dir(t.pointer.hash, t.pointer.size, files),
                None => Pointer::file(t.pointer.hash, t.pointer.size),
            });
        };
        match inside(&*self.manifest(t, progress)?, rel) {
            Some(Inside::File(e)) => Ok(Pointer::file(e.hash, e.size)),
            Some(Inside::Folder(below)) => {
                let sub = Manifest::new(below);
                let hash = self.cache.insert_bytes(&sub.to_bytes())?;
                Ok(Pointer::dir(
                    hash,
                    sub.total_size(),
                    sub.entries().len() as u64,
                ))
            }
            None => Err(self.not_tracked(path)),
        }
    }

    /// Makes sure the cache holds every object of `pointer` (a folder's manifest first),
    /// downloading from the remote what it lacks, each verified against its hash.
    pub fn fetch(&self, pointer: &Pointer, progress: &dyn Progress) -> anyhow::Result<()> {
        let cache = &self.cache;
        let wanted: Vec<(Hash, Option<u64>)> = match pointer.is_dir() {
            false => vec![(pointer.hash, Some(pointer.size))],
            true => {
                if self.holder(&pointer.hash).is_none() {
                    self.download(vec![(pointer.hash, None)], progress)?;
                }
                let holder = self.holder(&pointer.hash).unwrap_or(cache);
                let bytes = holder.read_verified(&pointer.hash)?;
                let manifest = Manifest::from_bytes(&bytes, &pointer.hash)?;
                let sizes: HashMap<Hash, u64> = manifest
                    .entries()
                    .iter()
                    .map(|e| (e.hash, e.size))
                    .collect();
                sizes.into_iter().map(|(h, s)| (h, Some(s))).collect()
            }
        };
        let hashes: Vec<Hash> = wanted.iter().map(|(h, _)| *h).collect();
        let absent = self.absent(&hashes)?;
        let missing: Vec<_> = wanted
            .into_iter()
            .filter(|(h, _)| absent.contains(h))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        self.download(missing, progress)?;
        // A tracked file's pointer may name the wrong size: the object, now verified, shows it.
        if let Some(t) = self
            .source
            .tracked()
            .iter()
            .find(|t| t.pointer.hash == pointer.hash && !t.pointer.is_dir())
        {
            t.check_sizes(cache, None)?;
        }
        Ok(())
    }

    /// Makes sure the cache holds the objects of these files (hash, size), fetching what
    /// it lacks in one download.
    pub(super) fn fetch_files(&self, files: &[(Hash, u64)]) -> anyhow::Result<()> {
        let mut seen = HashSet::new();
        let missing: Vec<_> = files
            .iter()
            .filter(|(h, _)| seen.insert(*h) && !self.cache.contains(h))
            .map(|&(h, s)| (h, Some(s)))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let fetched: HashSet<Hash> = missing.iter().map(|(h, _)| *h).collect();
        self.download(missing, &NoProgress)?;
        // A tracked file's pointer may name the wrong size: the object, now verified, shows it.
        for t in self.source.tracked() {
            if !t.pointer.is_dir() && fetched.contains(&t.pointer.hash) {
                t.check_sizes(&self.cache, None)?;
            }
        }
        Ok(())
    }

    /// Which of `hashes` neither cache holds (one listing of each for thousands).
    fn absent(&self, hashes: &[Hash]) -> std::io::Result<HashSet<Hash>> {
        let mut absent = self.cache.missing(hashes)?;
        if let Some(first) = &self.first {
            let lacks = first.missing(hashes)?;
            absent.retain(|h| lacks.contains(h));
        }
        Ok(absent)
    }

    /// A tracked directory's manifest, from the cache or else the remote.
    pub(super) fn manifest(
        &self,
        t: &Tracked,
        progress: &dyn Progress,
    ) -> anyhow::Result<Arc<Manifest>> {
        let hash = t.pointer.hash;
        if let Some(m) = self.manifests.lock().expect("not poisoned").get(&hash) {
            return Ok(m.clone());
        }
        let cache = self.holder(&hash).unwrap_or(&self.cache);
        let bytes = match cache.read_verified(&hash) {
            Err(CacheError::Missing { .. }) => {
                self.download(vec![(hash, None)], progress)?;
                cache.read_verified(&hash)?
            }
            other => other?,
        };
        let m =
            Manifest::from_bytes(&bytes, &hash).with_context(|| match self.source.is_this() {
                true => format!("the manifest of `{}`", t.path),
                false => format!("the manifest of `{}` in `{}`", t.path, self.source.url()),
            })?;
        t.check_sizes(cache, Some(&m))?;
        let m = Arc::new(m);
        self.manifests
            .lock()
            .expect("not poisoned")
            .insert(hash, m.clone());
        Ok(m)
    }
}
