//! `status` of a whole tracked directory whose manifest is in the cache, from its compact
//! listing. Three ways, cheapest first: the listing's digest is the one recorded for this
//! manifest (nothing to read); only some folders' digests moved, and the stat cache's saved
//! records of those folders still make the digests recorded for the manifest (compare only
//! them, still without reading the manifest); else the manifest is read and compared whole.

use super::listing::{Listing, scan};
use super::{ArtifactStatus, State};
use crate::cache::Cache;
use crate::hash::Hash;
use crate::manifest::Manifest;
use crate::progress::Progress;
use crate::repo::{Repo, Tracked};
use crate::stat_cache::{StatCache, cache_stamp};
use crate::workspace::{self, Kind};
use anyhow::Context;
use std::collections::HashSet;
use std::path::Path;

/// A manifest's entries in one folder: (name, hash, size).
type Saved = Vec<(String, Hash, u64)>;
/// The folders to compare, each with the manifest's entries there, and the cache's stamp.
type Changed = (Vec<(String, Saved)>, Option<Hash>);

pub(super) fn status(
    repo: &Repo,
    cache: &Cache,
    stat: &mut StatCache,
    t: &Tracked,
    abs: &Path,
    mut out: ArtifactStatus,
    progress: &dyn Progress,
) -> anyhow::Result<ArtifactStatus> {
    let base = t.path.as_str();
    let listing = scan(repo.root(), abs, base, cache.root(), stat, progress)?;
    out.files_read = listing.read;
    let digest = listing.digest();
    let only_regular = listing.other.is_empty();
    if only_regular
        && t.pointer.size == listing.size()
        && t.pointer.files == Some(listing.files())
        && let Some((manifest, was)) = stat.dir_manifest(base, &digest)
        && manifest == t.pointer.hash
    {
        // No object added to or removed from the cache since all were there: skip
        // listing the cache. The stamp is taken before the listing it vouches for.
        let stamp = cache_stamp(cache)?;
        if stamp.is_some() && stamp == was {
            if stat.dir_folders(base, &manifest).is_none() {
                stat.record_folders(base, listing.folder_digests());
            }
            return Ok(out);
        }
        let hashes = listing.hashes();
        let missing = cache.missing(&hashes)?;
        out.missing_objects = hashes.iter().filter(|h| missing.contains(h)).count();
        out.in_cache = out.missing_objects == 0;
        if out.in_cache {
            stat.record_dir(base, digest, manifest, stamp);
            stat.record_folders(base, listing.folder_digests());
        }
        return Ok(out);
    }
    if only_regular && let Some((changed, stamp)) = changed_folders(cache, stat, t, &listing)? {
        let entries = changed.iter().flat_map(|(rel, saved)| {
            saved
                .iter()
                .map(move |(name, hash, _)| (rel.as_str(), name.as_str(), *hash))
        });
        let scope: Vec<&str> = changed.iter().map(|(rel, _)| rel.as_str()).collect();
        let news = compare(
            cache,
            t,
            abs,
            &listing,
            entries,
            Some(scope.as_slice()),
            &HashSet::new(),
            &mut out,
        );
        if finish(cache, &listing, &news, None, &mut out) {
            stat.record_dir(base, digest, t.pointer.hash, stamp);
            stat.record_folders(base, listing.folder_digests());
        }
        return Ok(out);
    }
    let manifest = Manifest::read_cached(cache, &t.pointer.hash)?
        .with_context(|| format!("the manifest of `{}`", t.path))?;
    t.check_sizes(cache, Some(&manifest))?;
    let hashes: Vec<Hash> = manifest.entries().iter().map(|e| e.hash).collect();
    let missing = cache.missing(&hashes)?;
    out.missing_objects = hashes.iter().filter(|h| missing.contains(h)).count();
    out.in_cache = out.missing_objects == 0;
    let entries = manifest.entries().iter().map(|e| {
        let (folder, name) = e.path.rsplit_once('/').unwrap_or(("", &e.path));
        (folder, name, e.hash)
    });
    let news = compare(cache, t, abs, &listing, entries, None, &missing, &mut out);
    for f in &listing.other {
        if manifest.get(&f.rel).is_none() {
            out.changes.added.push(format!("{}/{}", t.path, f.rel));
        }
    }
    if finish(cache, &listing, &news, Some(t), &mut out) && only_regular {
        // This listing is the pointer's manifest: the next status can skip reading it.
        stat.record_dir(base, digest, t.pointer.hash, None);
        stat.record_folders(base, listing.folder_digests());
    }
    Ok(out)
}

/// The manifest's entries in the folders whose digest moved since the listing last was the
/// pointer's manifest, from the stat cache's saved records, when those records provably
/// are the manifest's there (they make the folder's recorded digest), no object left the
/// cache since (its stamp), and the totals agree with the pointer. None: read the manifest.
fn changed_folders(
    cache: &Cache,
    stat: &StatCache,
    t: &Tracked,
    listing: &Listing,
) -> anyhow::Result<Option<Changed>> {
    let base = t.path.as_str();
    let Some((recorded, was)) = stat.dir_folders(base, &t.pointer.hash) else {
        return Ok(None);
    };
    let stamp = cache_stamp(cache)?;
    if stamp.is_none() || stamp != was {
        return Ok(None);
    }
    let (mut size, mut files) = (0, 0);
    let mut changed = Vec::new();
    for (rel, digest) in recorded {
        let now = listing.folder(rel);
        if let Some(f) = now.filter(|f| f.digest.as_bytes() == digest) {
            size += f.files.iter().map(|f| f.size).sum::<u64>();
            files += f.files.len() as u64;
            continue;
        }
        let key = match rel.is_empty() {
            true => base.to_owned(),
            false => format!("{base}/{rel}"),
        };
        // The exec bit is not in the stat cache: taken from the file as it is now; a file
        // whose bit changed makes another digest, and the manifest is read instead.
        let exec = |name: &str| {
            now.and_then(|f| f.find(name).map(|i| f.files[i].exec))
                .unwrap_or(false)
        };
        let saved: Vec<_> = stat.saved_in(&key);
        let made = workspace::folder_digest(
            saved
                .iter()
                .map(|(name, s, hash)| (name.as_str(), hash, s.size(), exec(name))),
        );
        if made.as_bytes() != digest {
            return Ok(None);
        }
        size += saved.iter().map(|(_, s, _)| s.size()).sum::<u64>();
        files += saved.len() as u64;
        let saved = saved
            .into_iter()
            .map(|(name, s, hash)| (name, hash, s.size()))
            .collect();
        changed.push((rel.clone(), saved));
    }
    if size != t.pointer.size || Some(files) != t.pointer.files {
        return Ok(None);
    }
    // Folders the manifest has no file in: everything there is new.
    for f in &listing.folders {
        if recorded
            .binary_search_by(|(rel, _)| rel.as_bytes().cmp(f.rel.as_bytes()))
            .is_err()
        {
            changed.push((f.rel.clone(), Vec::new()));
        }
    }
    changed.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    Ok(Some((changed, stamp)))
}

/// Compares the manifest's `entries` (folder, name, hash) with the listing: removed, not
/// pulled (absent and not in the cache), modified; then added, in the listing's folders
/// named by `scope` (all when None). Marks a modified file that is a link into the cache
/// object it should be as damage. Returns the hashes of the modified and added files.
#[allow(clippy::too_many_arguments)]
fn compare<'m>(
    cache: &Cache,
    t: &Tracked,
    abs: &Path,
    listing: &Listing,
    entries: impl Iterator<Item = (&'m str, &'m str, Hash)>,
    scope: Option<&[&str]>,
    missing: &HashSet<Hash>,
    out: &mut ArtifactStatus,
) -> Vec<Hash> {
    let mut seen: Vec<Vec<bool>> = listing
        .folders
        .iter()
        .map(|f| vec![false; f.files.len()])
        .collect();
    let shown = |folder: &str, name: &str| match folder.is_empty() {
        true => format!("{}/{name}", t.path),
        false => format!("{}/{folder}/{name}", t.path),
    };
    let mut damaged = false;
    let mut news = Vec::new();
    for (folder, name, hash) in entries {
        let at = listing
            .folders
            .binary_search_by(|f| f.rel.as_bytes().cmp(folder.as_bytes()))
            .ok()
            .and_then(|d| Some((d, listing.folders[d].find(name)?)));
        match at {
            None if missing.contains(&hash) => out.not_pulled.push(shown(folder, name)),
            None => out.changes.removed.push(shown(folder, name)),
            Some((d, i)) => {
                seen[d][i] = true;
                if listing.folders[d].files[i].hash != hash {
                    news.push(listing.folders[d].files[i].hash);
                    damaged |= links_to(
                        cache,
                        &abs.join(listing.folders[d].path(i).to_string()),
                        &hash,
                    );
                    out.changes.modified.push(shown(folder, name));
                }
            }
        }
    }
    for (d, f) in listing.folders.iter().enumerate() {
        // `scope` is sorted by bytes, as `changed_folders` returns it.
        if scope.is_some_and(|s| s.binary_search(&f.rel.as_str()).is_err()) {
            continue;
        }
        for i in (0..f.files.len()).filter(|i| !seen[d][*i]) {
            out.changes.added.push(shown(&f.rel, f.name(i)));
            news.push(f.files[i].hash);
        }
    }
    if damaged {
        out.state = State::DamagedCache;
    }
    news
}

/// Whether the workspace file at `abs` is a link into the cache object `hash`.
fn links_to(cache: &Cache, abs: &Path, hash: &Hash) -> bool {
    let Ok((meta, kind)) =
        std::fs::symlink_metadata(abs).and_then(|m| workspace::classify(abs, m, cache.root()))
    else {
        return false;
    };
    matches!(kind, Kind::CacheLink(l) if l == *hash)
        || workspace::is_hardlink_to(&meta, &cache.object_path(hash))
}

/// Orders the lists and settles the state; true when the listing is the pointer's manifest.
/// `news` are the hashes of the modified and added files; `t` lists the paths that are not
/// regular files (the full comparison).
fn finish(
    cache: &Cache,
    listing: &Listing,
    news: &[Hash],
    t: Option<&Tracked>,
    out: &mut ArtifactStatus,
) -> bool {
    for list in [
        &mut out.changes.added,
        &mut out.changes.removed,
        &mut out.changes.modified,
        &mut out.not_pulled,
    ] {
        list.sort_unstable();
    }
    if let Some(t) = t {
        out.not_regular = super::not_regular(t, &listing.other);
    }
    let damaged = out.state == State::DamagedCache;
    if !out.changes.is_empty() {
        out.state = if damaged {
            State::DamagedCache
        } else if listing.other.is_empty()
            // A version the cache holds has every object there: one missing (as for any
            // file the user rewrote) settles it without hashing the whole manifest's bytes.
            && news.iter().all(|h| cache.contains(h))
            && cache.contains(&listing.manifest_hash())
        {
            State::OutOfStep
        } else {
            State::Modified
        };
        false
    } else if !out.not_pulled.is_empty() {
        out.state = State::Missing;
        false
    } else {
        out.state = State::Unchanged;
        true
    }
}
