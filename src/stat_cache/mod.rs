//! The stat cache: what a file's (size, mtime, inode, ctime) was when it was last hashed,
//! so `status` and a repeated `add` never read unchanged bytes. Kept per worktree under
//! `$(git rev-parse --git-dir)/mlv/`, never in the work tree.
//!
//! Racy-timestamp guard, as git does for its index: an entry whose mtime is not older than
//! the stat cache file itself may have been modified again within the same clock tick after
//! it was hashed, so it is not trusted and the file is hashed again.
//!
//! On disk (version 2), sorted by path so that a million entries are read straight from a
//! memory map by binary search, without building a map or allocating per entry:
//! a 32-byte header (magic, version, entry count, path blob length, folder table length),
//! fixed 72-byte records (path offset and length in the blob, size, mtime, ctime, inode,
//! hash), the path blob, then the folder table (postcard): for a tracked directory, the
//! digest of its listing when its files last hashed to a manifest, that manifest, and
//! (version 3) the digest of each of its folders then, so `status` after a few rewrites
//! compares only the folders whose digest moved. Version 2 files are read, without those.

mod disk;
mod save;
mod stamp;

pub use stamp::cache_stamp;

use crate::hash::Hash;
use disk::{Base, MAGIC, VERSION, cmp_parts};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::Metadata;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    size: u64,
    mtime_ns: i64,
    ctime_ns: i64,
    ino: u64,
}

impl Stat {
    pub fn new(size: u64, mtime_ns: i64, ctime_ns: i64, ino: u64) -> Self {
        Stat {
            size,
            mtime_ns,
            ctime_ns,
            ino,
        }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn ino(&self) -> u64 {
        self.ino
    }

    pub fn to_bytes(&self) -> [u8; 32] {
        let mut out = [0; 32];
        out[..8].copy_from_slice(&self.size.to_le_bytes());
        out[8..16].copy_from_slice(&self.mtime_ns.to_le_bytes());
        out[16..24].copy_from_slice(&self.ctime_ns.to_le_bytes());
        out[24..].copy_from_slice(&self.ino.to_le_bytes());
        out
    }
}

impl From<&Stat> for Stat {
    fn from(stat: &Stat) -> Self {
        *stat
    }
}

impl From<&Metadata> for Stat {
    fn from(meta: &Metadata) -> Self {
        Stat::new(
            meta.len(),
            crate::fsutil::mtime_ns(meta),
            meta.ctime() * 1_000_000_000 + meta.ctime_nsec(),
            meta.ino(),
        )
    }
}

/// (tracked directory, digest of its listing, the manifest that listing makes, the cache's
/// stamp when every object of that manifest was last found in it, each folder's digest).
type DirSummary = (String, [u8; 32], [u8; 32], Option<[u8; 32]>, Folders);
type DirValue = ([u8; 32], [u8; 32], Option<[u8; 32]>, Folders);
/// (folder below the tracked directory, `workspace::folder_digest` of its own files), in
/// path order: empty when not recorded.
pub type Folders = Vec<(String, [u8; 32])>;
/// A file just hashed or written, recorded while saving: (folder, path below it, stat, hash).
pub type Fresh<'a> = (&'a str, &'a str, Stat, Hash);
/// What receives the merged entries, in path order.
type Emit<'e> = dyn FnMut(&[u8], Stat, Hash) -> io::Result<()> + 'e;

pub struct StatCache {
    path: PathBuf,
    base: Option<Base>,
    /// Entries recorded since loading; they win over the file's.
    added: BTreeMap<String, (Stat, Hash)>,
    /// The file's entries that were moved away (`rename_under`, `forget_under`).
    removed: HashSet<String>,
    dirs: HashMap<String, DirValue>,
    /// mtime of the stat cache file when it was loaded: entries not older than this are racy.
    stamp_ns: i64,
    dirty: bool,
    /// Something only a rewrite keeps (the folder table, a move, a first file).
    must_save: bool,
    /// Bytes (plus a per-file cost) that hashing the files recorded since loading took.
    learnt: u64,
}

impl StatCache {
    /// Loads the stat cache; a missing, damaged or older-format file starts empty, since
    /// everything in it can be recomputed.
    pub fn load(path: &Path) -> Self {
        let mut cache = StatCache {
            path: path.to_path_buf(),
            base: None,
            added: BTreeMap::new(),
            removed: HashSet::new(),
            dirs: HashMap::new(),
            stamp_ns: i64::MIN,
            dirty: false,
            must_save: true,
            learnt: 0,
        };
        let Ok(meta) = std::fs::metadata(path) else {
            return cache;
        };
        if let Some((base, dirs)) = Base::open(path) {
            cache.stamp_ns = crate::fsutil::mtime_ns(&meta);
            cache.base = Some(base);
            cache.must_save = false;
            cache.dirs = dirs
                .into_iter()
                .map(|(d, g, m, c, f)| (d, (g, m, c, f)))
                .collect();
        }
        cache
    }

    fn get(&self, path: &str) -> Option<(Stat, Hash)> {
        if let Some(e) = self.added.get(path) {
            return Some(*e);
        }
        let base = self.base.as_ref()?;
        if !self.removed.is_empty() && self.removed.contains(path) {
            return None;
        }
        base.find(path).map(|i| base.entry(i))
    }

    /// The hash recorded for `path` if the file is provably unchanged since.
    pub fn lookup(&self, path: &str, meta: impl Into<Stat>) -> Option<Hash> {
        let (stat, hash) = self.get(path)?;
        (stat == meta.into() && stat.mtime_ns < self.stamp_ns).then_some(hash)
    }

    /// `lookup` of `<dir>/<rel>` without building the key (a million lookups).
    pub fn lookup_in(&self, dir: &str, rel: &str, meta: impl Into<Stat>) -> Option<Hash> {
        if !self.added.is_empty() || !self.removed.is_empty() {
            return self.lookup(&format!("{dir}/{rel}"), meta);
        }
        let base = self.base.as_ref()?;
        let i = base.find_parts(&[dir.as_bytes(), b"/", rel.as_bytes()])?;
        let (stat, hash) = base.entry(i);
        (stat == meta.into() && stat.mtime_ns < self.stamp_ns).then_some(hash)
    }

    /// `lookup_in` for many files of `dir` whose `rel`s come sorted by their bytes: a walk
    /// along the file's records from the first one's place, not a search per file (a
    /// million binary searches over the map were a sixth of an unchanged status).
    pub fn lookup_sorted_in<'a>(
        &self,
        dir: &str,
        files: impl Iterator<Item = (&'a str, Stat)>,
    ) -> Vec<Option<Hash>> {
        let Some(base) = self
            .base
            .as_ref()
            .filter(|_| self.added.is_empty() && self.removed.is_empty())
        else {
            return files.map(|(rel, s)| self.lookup_in(dir, rel, s)).collect();
        };
        let mut at: Option<usize> = None;
        let mut first = None;
        let found = files
            .map(|(rel, meta)| {
                let parts: [&[u8]; 3] = [dir.as_bytes(), b"/", rel.as_bytes()];
                let mut i = match at {
                    Some(i) => i,
                    None => base.lower_bound_of(&parts),
                };
                let mut steps = 0;
                while i < base.count && cmp_parts(base.path(i), &parts).is_lt() {
                    i += 1;
                    steps += 1;
                    if steps == 16 {
                        i = base.lower_bound_of(&parts);
                        break;
                    }
                }
                at = Some(i);
                first = first.or(Some(i));
                if i < base.count && cmp_parts(base.path(i), &parts).is_eq() {
                    let (stat, hash) = base.entry(i);
                    return (stat == meta && stat.mtime_ns < self.stamp_ns).then_some(hash);
                }
                None
            })
            .collect();
        // The records walked are done with (a million lookups touched the whole map).
        if let (Some(first), Some(at)) = (first, at) {
            base.release(first..(at + 1).min(base.count));
        }
        found
    }

    pub fn record(&mut self, path: String, meta: impl Into<Stat>, hash: Hash) {
        let stat = meta.into();
        if self.get(&path) != Some((stat, hash)) {
            self.removed.remove(&path);
            self.added.insert(path, (stat, hash));
            self.dirty = true;
            // Reading a small file costs about as much as writing 8 KiB.
            self.learnt += stat.size + 8192;
        }
    }

    /// Whether saving pays for itself: the whole file is rewritten, so hashes of a few small
    /// files (a rewrite of 10 files among a million) are cheaper to learn again next time
    /// than to write 100 MB for. The folder table and moves are always kept.
    pub fn worth_saving(&self) -> bool {
        let size = self.base.as_ref().map_or(0, |b| b.len() as u64);
        self.dirty && (self.must_save || self.learnt >= size)
    }

    /// The manifest that the tracked directory `dir` was last found to be, if its listing
    /// then had this `digest` (see `workspace::listing_digest`), with the cache's stamp
    /// (`cache_stamp`) when all its objects were last found there.
    pub fn dir_manifest(&self, dir: &str, digest: &Hash) -> Option<(Hash, Option<Hash>)> {
        let (d, m, c, _) = self.dirs.get(dir)?;
        (d == digest.as_bytes()).then(|| (Hash::from_bytes(*m), c.map(Hash::from_bytes)))
    }

    /// The folder digests recorded for `dir` when it last was `manifest`, with the cache's
    /// stamp then (see `dir_manifest`); None when not recorded.
    pub fn dir_folders(&self, dir: &str, manifest: &Hash) -> Option<(&Folders, Option<Hash>)> {
        let (_, m, c, f) = self.dirs.get(dir)?;
        (m == manifest.as_bytes() && !f.is_empty()).then(|| (f, c.map(Hash::from_bytes)))
    }

    /// Records what `dir`'s listing of this `digest` is; its folder digests are kept only
    /// while the digest they make stays the same (`record_folders` sets them).
    pub fn record_dir(&mut self, dir: &str, digest: Hash, manifest: Hash, stamp: Option<Hash>) {
        let folders = match self.dirs.get(dir) {
            Some((d, _, _, f)) if d == digest.as_bytes() => f.clone(),
            _ => Vec::new(),
        };
        let value = (
            *digest.as_bytes(),
            *manifest.as_bytes(),
            stamp.map(|s| *s.as_bytes()),
            folders,
        );
        self.set_dir(dir, value);
    }

    /// Records `dir`'s folder digests, which make the digest `record_dir` recorded last.
    pub fn record_folders(&mut self, dir: &str, folders: Folders) {
        if let Some(value) = self.dirs.get(dir) {
            let value = (value.0, value.1, value.2, folders);
            self.set_dir(dir, value);
        }
    }

    fn set_dir(&mut self, dir: &str, value: DirValue) {
        if self.dirs.get(dir) != Some(&value) {
            self.dirs.insert(dir.to_owned(), value);
            self.dirty = true;
            self.must_save = true;
        }
    }

    /// The file's own records for the files directly in `folder` (not in its sub-folders),
    /// in name order: what they were when it was last written.
    pub fn saved_in(&self, folder: &str) -> Vec<(String, Stat, Hash)> {
        let Some(base) = &self.base else {
            return Vec::new();
        };
        let prefix = format!("{folder}/");
        let mut out = Vec::new();
        let mut i = base.lower_bound(prefix.as_bytes());
        while i < base.count {
            let Some(rest) = base.path(i).strip_prefix(prefix.as_bytes()) else {
                break;
            };
            match rest.iter().position(|b| *b == b'/') {
                // A sub-folder's records: skip past all of them ('0' follows '/').
                Some(at) => {
                    let mut next = prefix.as_bytes().to_vec();
                    next.extend_from_slice(&rest[..at]);
                    next.push(b'0');
                    i = base.lower_bound(&next);
                }
                None => {
                    if let Ok(name) = std::str::from_utf8(rest) {
                        let (stat, hash) = base.entry(i);
                        out.push((name.to_owned(), stat, hash));
                    }
                    i += 1;
                }
            }
        }
        out
    }

    /// How many files the saved stat cache records, and its size in bytes (what `doctor`
    /// reports); nothing recorded since loading counts.
    pub fn saved_size(&self) -> (usize, u64) {
        self.base
            .as_ref()
            .map_or((0, 0), |b| (b.count, b.len() as u64))
    }

    /// Every entry at or below `path`, from the file and recorded since.
    fn under(&self, path: &str) -> Vec<String> {
        let prefix = format!("{path}/");
        let within = |p: &str| p == path || p.starts_with(&prefix);
        let mut out: Vec<String> = self
            .added
            .range(path.to_owned()..)
            .map(|(p, _)| p)
            .take_while(|p| p.starts_with(path))
            .filter(|p| within(p))
            .cloned()
            .collect();
        if let Some(base) = &self.base {
            for i in base.lower_bound(path.as_bytes())..base.count {
                let Ok(p) = std::str::from_utf8(base.path(i)) else {
                    continue;
                };
                if !p.starts_with(path) {
                    break;
                }
                if within(p) && !self.removed.contains(p) && !self.added.contains_key(p) {
                    out.push(p.to_owned());
                }
            }
        }
        out
    }

    fn take(&mut self, path: &str) -> Option<(Stat, Hash)> {
        let entry = self.get(path)?;
        self.added.remove(path);
        if self.base.as_ref().is_some_and(|b| b.find(path).is_some()) {
            self.removed.insert(path.to_owned());
        }
        self.dirty = true;
        self.must_save = true;
        Some(entry)
    }

    /// Forgets entries at or below `path`, whose files are gone or replaced.
    pub fn forget_under(&mut self, path: &str) {
        for p in self.under(path) {
            self.take(&p);
        }
        self.forget_dirs_under(path);
    }

    /// Moves entries at or below `from` to the same place below `to` (`git mlv mv`): files
    /// in a renamed folder keep their inode and timestamps, so their hashes still hold.
    pub fn rename_under(&mut self, from: &str, to: &str) {
        for old in self.under(from) {
            if let Some(entry) = self.take(&old) {
                let new = format!("{to}{}", &old[from.len()..]);
                self.removed.remove(&new);
                self.added.insert(new, entry);
            }
        }
        self.forget_dirs_under(from);
    }

    fn forget_dirs_under(&mut self, path: &str) {
        let prefix = format!("{path}/");
        let before = self.dirs.len();
        self.dirs
            .retain(|d, _| d != path && !d.starts_with(&prefix));
        self.dirty |= self.dirs.len() != before;
        self.must_save |= self.dirs.len() != before;
    }
}

#[cfg(test)]
mod tests;
