//! Differences inside tracked data between two revisions, or a revision and the workspace:
//! every tracked path is flattened to its files (a directory through its manifest), then
//! the two listings are compared file by file.

use crate::cache::Cache;
use crate::hash::Hash;
use crate::manifest::Manifest;
use crate::repo::{Repo, Tracked};
use crate::stat_cache::StatCache;
use crate::workspace::{self, Kind};
use serde::Serialize;
use std::collections::BTreeMap;

/// Files of tracked data by repository-relative path: hash and size.
pub type Listing = BTreeMap<String, (Hash, u64)>;

#[derive(Debug, Default, Serialize)]
pub struct Diff {
    pub added: Vec<Change>,
    pub removed: Vec<Change>,
    pub modified: Vec<Change>,
    /// Tracked directories whose manifest is not in the cache, so their files are unknown.
    pub unknown: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Change {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_size: Option<u64>,
}

/// The files that committed pointers describe; `unknown` collects directories whose
/// manifest the cache lacks.
pub fn committed(
    cache: &Cache,
    tracked: &[Tracked],
    unknown: &mut Vec<String>,
) -> anyhow::Result<Listing> {
    let mut out = Listing::new();
    for t in tracked {
        if !t.pointer.is_dir() {
            out.insert(t.path.to_string(), (t.pointer.hash, t.pointer.size));
            continue;
        }
        match Manifest::read_cached(cache, &t.pointer.hash) {
            Ok(m) => {
                for e in m?.entries() {
                    out.insert(format!("{}/{}", t.path, e.path), (e.hash, e.size));
                }
            }
            Err(crate::cache::CacheError::Missing { .. }) => unknown.push(t.path.to_string()),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}

/// The files in the workspace at the given tracked paths, hashed (the stat cache spares
/// unchanged ones).
pub fn workspace(
    repo: &Repo,
    cache: &Cache,
    stat: &mut StatCache,
    paths: &[&Tracked],
) -> anyhow::Result<Listing> {
    let mut out = Listing::new();
    for t in paths {
        let abs = t.path.to_abs(repo.root());
        let Ok(lmeta) = std::fs::symlink_metadata(&abs) else {
            continue;
        };
        if lmeta.is_dir() {
            let files: Vec<_> = workspace::list_dir(repo.root(), &abs, cache.root())?
                .into_iter()
                .filter(|f| !matches!(f.kind, Kind::Other(_)))
                .collect();
            let (hashes, _) = workspace::hash_all(
                &files,
                t.path.as_str(),
                stat,
                None,
                &crate::progress::NoProgress,
            )?;
            for (f, h) in files.iter().zip(hashes) {
                out.insert(format!("{}/{}", t.path, f.rel), (h, f.meta.len()));
            }
        } else {
            let (meta, kind) = workspace::classify(&abs, lmeta, cache.root())?;
            if matches!(kind, Kind::Other(_)) {
                continue;
            }
            let (h, fresh) = workspace::hash_one(t.path.as_str(), &abs, &meta, stat, None)?;
            if fresh {
                stat.record(t.path.to_string(), &meta, h);
            }
            out.insert(t.path.to_string(), (h, meta.len()));
        }
    }
    Ok(out)
}

/// Compares two listings, keeping only paths that `keep` accepts.
pub fn compare(old: &Listing, new: &Listing, keep: impl Fn(&str) -> bool) -> Diff {
    let mut d = Diff::default();
    for (p, (h, size)) in old {
        if !keep(p) {
            continue;
        }
        match new.get(p) {
            None => d.removed.push(Change {
                path: p.clone(),
                old_size: Some(*size),
                new_size: None,
            }),
            Some((h2, size2)) if h2 != h => d.modified.push(Change {
                path: p.clone(),
                old_size: Some(*size),
                new_size: Some(*size2),
            }),
            Some(_) => {}
        }
    }
    for (p, (_, size)) in new {
        if keep(p) && !old.contains_key(p) {
            d.added.push(Change {
                path: p.clone(),
                old_size: None,
                new_size: Some(*size),
            });
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_removed_modified() {
        let h = |s: &str| Hash::of(s.as_bytes());
        let old: Listing = [
            ("a".to_string(), (h("1"), 1)),
            ("b".to_string(), (h("2"), 1)),
        ]
        .into();
        let new: Listing = [
            ("b".to_string(), (h("3"), 2)),
            ("c".to_string(), (h("4"), 1)),
        ]
        .into();
        let d = compare(&old, &new, |_| true);
        assert_eq!(d.removed[0].path, "a");
        assert_eq!(d.modified[0].path, "b");
        assert_eq!(d.modified[0].new_size, Some(2));
        assert_eq!(d.added[0].path, "c");
        assert!(compare(&old, &new, |p| p == "a").added.is_empty());
    }
}
