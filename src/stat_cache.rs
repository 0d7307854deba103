//! The stat cache: what a file's (size, mtime, inode, ctime) was when it was last hashed,
//! so `status` and a repeated `add` never read unchanged bytes. Kept per worktree under
//! `$(git rev-parse --git-dir)/mlv/`, never in the work tree.
//!
//! Racy-timestamp guard, as git does for its index: an entry whose mtime is not older than
//! the stat cache file itself may have been modified again within the same clock tick after
//! it was hashed, so it is not trusted and the file is hashed again.

use crate::hash::Hash;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

const VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stat {
    size: u64,
    mtime_ns: i64,
    ctime_ns: i64,
    ino: u64,
}

impl Stat {
    pub fn of(meta: &Metadata) -> Self {
        Stat {
            size: meta.len(),
            mtime_ns: crate::fsutil::mtime_ns(meta),
            ctime_ns: meta.ctime() * 1_000_000_000 + meta.ctime_nsec(),
            ino: meta.ino(),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Disk {
    version: u32,
    entries: Vec<(String, Stat, [u8; 32])>,
}

pub struct StatCache {
    path: PathBuf,
    entries: HashMap<String, (Stat, Hash)>,
    /// mtime of the stat cache file when it was loaded: entries not older than this are racy.
    stamp_ns: i64,
    dirty: bool,
}

impl StatCache {
    /// Loads the stat cache; a missing, damaged or older-format file starts empty, since
    /// everything in it can be recomputed.
    pub fn load(path: &Path) -> Self {
        let mut cache = StatCache {
            path: path.to_path_buf(),
            entries: HashMap::new(),
            stamp_ns: i64::MIN,
            dirty: false,
        };
        let Ok(bytes) = std::fs::read(path) else {
            return cache;
        };
        let Ok(meta) = std::fs::metadata(path) else {
            return cache;
        };
        if let Ok(disk) = postcard::from_bytes::<Disk>(&bytes)
            && disk.version == VERSION
        {
            cache.stamp_ns = crate::fsutil::mtime_ns(&meta);
            cache.entries = disk
                .entries
                .into_iter()
                .map(|(p, s, h)| (p, (s, Hash::from_bytes(h))))
                .collect();
        }
        cache
    }

    /// The hash recorded for `path` if the file is provably unchanged since.
    pub fn lookup(&self, path: &str, meta: &Metadata) -> Option<Hash> {
        let (stat, hash) = self.entries.get(path)?;
        let now = Stat::of(meta);
        (*stat == now && stat.mtime_ns < self.stamp_ns).then_some(*hash)
    }

    pub fn record(&mut self, path: String, meta: &Metadata, hash: Hash) {
        let stat = Stat::of(meta);
        if self.entries.get(&path) != Some(&(stat, hash)) {
            self.entries.insert(path, (stat, hash));
            self.dirty = true;
        }
    }

    /// Forgets entries at or below `path`, whose files are gone or replaced.
    pub fn forget_under(&mut self, path: &str) {
        let prefix = format!("{path}/");
        let before = self.entries.len();
        self.entries
            .retain(|p, _| p != path && !p.starts_with(&prefix));
        self.dirty |= self.entries.len() != before;
    }

    /// Moves entries at or below `from` to the same place below `to` (`git mlv mv`): files
    /// in a renamed folder keep their inode and timestamps, so their hashes still hold.
    pub fn rename_under(&mut self, from: &str, to: &str) {
        let prefix = format!("{from}/");
        let moved: Vec<String> = self
            .entries
            .keys()
            .filter(|p| *p == from || p.starts_with(&prefix))
            .cloned()
            .collect();
        for old in moved {
            if let Some(entry) = self.entries.remove(&old) {
                self.entries
                    .insert(format!("{to}{}", &old[from.len()..]), entry);
                self.dirty = true;
            }
        }
    }

    /// Writes the stat cache atomically if anything changed. Racy entries are written too:
    /// the new file's later mtime makes them trustworthy once they are hashed again.
    pub fn save(&mut self) -> std::io::Result<()> {
        if !self.dirty {
            return Ok(());
        }
        let mut entries: Vec<_> = self
            .entries
            .iter()
            .map(|(p, (s, h))| (p.clone(), *s, *h.as_bytes()))
            .collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let bytes = postcard::to_stdvec(&Disk {
            version: VERSION,
            entries,
        })
        .expect("stat cache serializes");
        if let Some(dir) = self.path.parent() {
            fs_err::create_dir_all(dir)?;
        }
        crate::fsutil::write_atomic(&self.path, &bytes)?;
        self.dirty = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unchanged_file_is_trusted_only_once_older_than_the_stamp() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"a").unwrap();
        let meta = std::fs::metadata(&file).unwrap();
        let sc_path = dir.path().join("sc");
        let mut sc = StatCache::load(&sc_path);
        sc.record("f".into(), &meta, Hash::of(b"a"));
        // Same-tick write: racy until the saved file's mtime is later than the entry.
        sc.stamp_ns = crate::fsutil::mtime_ns(&meta);
        assert_eq!(
            sc.lookup("f", &meta),
            None,
            "an entry as new as the stamp is racy"
        );
        sc.stamp_ns += 1;
        assert_eq!(sc.lookup("f", &meta), Some(Hash::of(b"a")));
        sc.save().unwrap();
        let loaded = StatCache::load(&sc_path);
        assert_eq!(loaded.entries.len(), 1);
    }

    #[test]
    fn changed_size_misses() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"a").unwrap();
        let mut sc = StatCache::load(&dir.path().join("sc"));
        sc.record(
            "f".into(),
            &std::fs::metadata(&file).unwrap(),
            Hash::of(b"a"),
        );
        sc.stamp_ns = i64::MAX;
        std::fs::write(&file, b"ab").unwrap();
        assert_eq!(sc.lookup("f", &std::fs::metadata(&file).unwrap()), None);
    }
}
