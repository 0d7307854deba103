//! Differences inside tracked data between two revisions, or a revision and the workspace:
//! every tracked path is flattened to its files (a directory through its manifest), then
//! the two listings are compared file by file. Against the workspace, when both sides track
//! the same paths, each path is compared on its own: its manifest with the compact listing
//! `status` makes, no path strings built but for the changes.

use crate::cache::Cache;
use crate::hash::Hash;
use crate::manifest::Manifest;
use crate::repo::{Repo, Tracked};
use crate::stat_cache::StatCache;
use crate::status::listing::{self, Listing as Files};
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
                &abs,
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

/// Compares the pointers `old` with the workspace one tracked path at a time (`current`,
/// the work tree's pointers, tracks the same paths), holding one directory's manifest and
/// listing at once. `unknown` collects directories whose manifest the cache lacks; their
/// files are not compared. Changes are sorted by path, as `compare` gives them.
pub fn against_workspace(
    repo: &Repo,
    cache: &Cache,
    stat: &mut StatCache,
    old: &[Tracked],
    current: &[Tracked],
    unknown: &mut Vec<String>,
) -> anyhow::Result<Diff> {
    let mut d = Diff::default();
    for t in current {
        let Some(o) = old.iter().find(|o| o.path == t.path) else {
            continue;
        };
        let was = match o.pointer.is_dir() {
            false => Side::File(o.pointer.hash, o.pointer.size),
            true => match Manifest::read_cached(cache, &o.pointer.hash) {
                Ok(m) => Side::Dir(m?),
                Err(crate::cache::CacheError::Missing { .. }) => {
                    unknown.push(t.path.to_string());
                    continue;
                }
                Err(e) => return Err(e.into()),
            },
        };
        let now = workspace_side(repo, cache, stat, t)?;
        compare_sides(t.path.as_str(), &was, &now, &mut d);
    }
    for list in [&mut d.added, &mut d.removed, &mut d.modified] {
        list.sort_unstable_by(|a, b| a.path.cmp(&b.path));
    }
    Ok(d)
}

/// What one side holds at a tracked path: a file, a directory's files, or nothing.
enum Side<D> {
    None,
    File(Hash, u64),
    Dir(D),
}

fn workspace_side(
    repo: &Repo,
    cache: &Cache,
    stat: &mut StatCache,
    t: &Tracked,
) -> anyhow::Result<Side<Files>> {
    let abs = t.path.to_abs(repo.root());
    let Ok(lmeta) = std::fs::symlink_metadata(&abs) else {
        return Ok(Side::None);
    };
    if lmeta.is_dir() {
        let files = listing::scan(
            repo.root(),
            &abs,
            t.path.as_str(),
            cache.root(),
            stat,
            &crate::progress::NoProgress,
        )?;
        return Ok(Side::Dir(files));
    }
    let (meta, kind) = workspace::classify(&abs, lmeta, cache.root())?;
    if matches!(kind, Kind::Other(_)) {
        return Ok(Side::None);
    }
    let (h, fresh) = workspace::hash_one(t.path.as_str(), &abs, &meta, stat, None)?;
    if fresh {
        stat.record(t.path.to_string(), &meta, h);
    }
    Ok(Side::File(h, meta.len()))
}

/// The changes at the tracked path `base` between a committed side and the workspace.
fn compare_sides(base: &str, old: &Side<Manifest>, new: &Side<Files>, d: &mut Diff) {
    let full = |rel: &str| match rel.is_empty() {
        true => base.to_owned(),
        false => format!("{base}/{rel}"),
    };
    let mut seen: Vec<Vec<bool>> = match new {
        Side::Dir(l) => l
            .folders
            .iter()
            .map(|f| vec![false; f.files.len()])
            .collect(),
        _ => Vec::new(),
    };
    let mut file_seen = false;
    let mut find = |rel: &str| -> Option<(Hash, u64)> {
        match new {
            Side::None => None,
            Side::File(h, size) => rel.is_empty().then(|| {
                file_seen = true;
                (*h, *size)
            }),
            Side::Dir(l) => {
                let (folder, name) = rel.rsplit_once('/').unwrap_or(("", rel));
                let d = l
                    .folders
                    .binary_search_by(|f| f.rel.as_bytes().cmp(folder.as_bytes()))
                    .ok()?;
                let i = l.folders[d].find(name)?;
                seen[d][i] = true;
                let f = &l.folders[d].files[i];
                Some((f.hash, f.size))
            }
        }
    };
    let mut one = |rel: &str, hash: Hash, size: u64| match find(rel) {
        None => d.removed.push(Change {
            path: full(rel),
            old_size: Some(size),
            new_size: None,
        }),
        Some((h2, size2)) if h2 != hash => d.modified.push(Change {
            path: full(rel),
            old_size: Some(size),
            new_size: Some(size2),
        }),
        Some(_) => {}
    };
    match old {
        Side::None => {}
        Side::File(h, size) => one("", *h, *size),
        Side::Dir(m) => {
            for e in m.entries() {
                one(&e.path, e.hash, e.size);
            }
        }
    }
    let added = |path: String, size: u64| Change {
        path,
        old_size: None,
        new_size: Some(size),
    };
    match new {
        Side::None => {}
        Side::File(_, size) if !file_seen => d.added.push(added(full(""), *size)),
        Side::File(..) => {}
        Side::Dir(l) => {
            for (f, seen) in l.folders.iter().zip(&seen) {
                for i in (0..f.files.len()).filter(|i| !seen[*i]) {
                    d.added
                        .push(added(full(&f.path(i).to_string()), f.files[i].size));
                }
            }
        }
    }
}

impl Diff {
    /// Keeps only the changes at paths that `keep` accepts.
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        for list in [&mut self.added, &mut self.removed, &mut self.modified] {
            list.retain(|c| keep(&c.path));
        }
    }
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
