//! Garbage collection of the local cache: which objects the roots need (pointers in every
//! worktree's work tree and index, at the commit of every ref, worktree HEADs and stash
//! entries), and which of the rest no remote holds (the last copy, kept by default).

use crate::cache::{Cache, CacheError};
use crate::gitx::GcRoots;
use crate::hash::{Hash, SortedHashes};
use crate::manifest::Manifest;
use crate::pointer::{self, Pointer};
use crate::repo::{self, Repo};
use std::collections::HashSet;
use std::path::Path;

/// Every object the roots need. A root whose manifest is missing from the cache keeps the
/// manifest's hash (nothing of it is here to delete anyway). A sorted array (32 B a hash)
/// rather than a hash set (about 70 B): 1,000,000 files made it gc's largest piece.
pub fn referenced(repo: &Repo, cache: &Cache, roots: &GcRoots) -> anyhow::Result<SortedHashes> {
    let mut pointers: HashSet<(Hash, bool)> = HashSet::new();
    for wt in &roots.worktrees {
        if wt.is_dir() {
            pointers.extend(
                repo::tracked_in(wt)?
                    .into_iter()
                    .map(|t| (t.pointer.hash, t.pointer.is_dir())),
            );
        }
        for f in repo.git.indexed_pointers(wt, pointer::EXT)? {
            let text = String::from_utf8_lossy(&f.data);
            let p = Pointer::parse(&text, Path::new(&f.path))?;
            pointers.insert((p.hash, p.is_dir()));
        }
    }
    for commit in &roots.commits {
        pointers.extend(
            repo.tracked_at(Some(commit))?
                .into_iter()
                .map(|t| (t.pointer.hash, t.pointer.is_dir())),
        );
    }
    let mut out = Vec::new();
    // Versions of one dataset share most files: duplicates go whenever the array has
    // doubled, so it stays within twice the distinct hashes.
    let mut distinct = 0;
    for (hash, is_dir) in pointers {
        out.push(hash);
        if is_dir {
            match Manifest::read_cached(cache, &hash) {
                Ok(m) => out.extend(m?.entries().iter().map(|e| e.hash)),
                Err(CacheError::Missing { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if out.len() > 2 * distinct.max(65_536) {
            out.sort_unstable();
            out.dedup();
            distinct = out.len();
        }
    }
    Ok(out.into_iter().collect())
}
