//! A remote's pack indexes kept on this machine (`<git common dir>/mlv/remotes/<name>/packs/`):
//! an index never changes once written, so a cached one is read from here, and only the
//! listing of the remote's `packs/` says which ones still count.

use super::{Entry, Index};
use crate::hash::Hash;
use std::path::{Path, PathBuf};

pub struct LocalIndexes {
    dir: PathBuf,
}

/// Where a packed object lies: which pack, and its range there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub pack: Hash,
    pub entry: Entry,
}

/// Every object the remote's current indexes list: one sorted array (56 bytes an object,
/// no hash table), searched by halving; an object in two packs is found in the first added.
#[derive(Debug, Default, Clone)]
pub struct Inventory {
    packs: Vec<Hash>,
    /// (object, pack number, offset, length), sorted by object.
    objects: Vec<(Hash, u32, u64, u64)>,
}

impl Inventory {
    /// The inventory of `indexes`, sorted once.
    pub fn of<'a>(indexes: impl IntoIterator<Item = &'a Index>) -> Self {
        let mut inventory = Inventory::default();
        for index in indexes {
            inventory.append(index);
        }
        inventory.settle();
        inventory
    }

    pub fn add(&mut self, index: &Index) {
        self.append(index);
        self.settle();
    }

    fn append(&mut self, index: &Index) {
        if self.packs.contains(&index.pack) {
            return;
        }
        let n = self.packs.len() as u32;
        self.packs.push(index.pack);
        self.objects.extend(
            index
                .entries()
                .iter()
                .map(|e| (e.hash, n, e.offset, e.length)),
        );
    }

    /// Sorted by object, the first pack's copy kept (a stable sort: each index's entries
    /// are a sorted run, so this costs little more than a merge).
    fn settle(&mut self) {
        self.objects.sort_by_key(|o| o.0);
        self.objects.dedup_by_key(|o| o.0);
    }

    pub fn find(&self, hash: &Hash) -> Option<Location> {
        let i = self.objects.binary_search_by_key(hash, |o| o.0).ok()?;
        let (hash, n, offset, length) = self.objects[i];
        Some(Location {
            pack: self.packs[n as usize],
            entry: Entry {
                hash,
                offset,
                length,
            },
        })
    }

    pub fn packs(&self) -> &[Hash] {
        &self.packs
    }

    pub fn is_empty(&self) -> bool {
        self.packs.is_empty()
    }

    /// Every packed object, grouped by pack.
    pub fn by_pack(&self) -> Vec<(Hash, Vec<Entry>)> {
        let mut out: Vec<(Hash, Vec<Entry>)> = self.packs.iter().map(|p| (*p, vec![])).collect();
        for &(hash, n, offset, length) in &self.objects {
            out[n as usize].1.push(Entry {
                hash,
                offset,
                length,
            });
        }
        out
    }
}

impl LocalIndexes {
    pub fn new(dir: &Path) -> Self {
        LocalIndexes {
            dir: dir.to_path_buf(),
        }
    }

    fn path(&self, pack: &Hash) -> PathBuf {
        self.dir.join(format!("{}.idx", pack.hex()))
    }

    /// The packs whose indexes are here.
    pub fn cached(&self) -> Vec<Hash> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name();
                super::pack_of_index_key(&format!("{}{}", super::DIR, name.to_str()?))
            })
            .collect()
    }

    /// The cached index of `pack`, or `None` when it is not here or does not read back
    /// sound (then it is removed, to be downloaded again).
    pub fn read(&self, pack: &Hash) -> Option<Index> {
        let path = self.path(pack);
        let bytes = std::fs::read(&path).ok()?;
        match Index::decode(&super::index_key(pack), &bytes) {
            Ok(index) => Some(index),
            Err(_) => {
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    pub fn save(&self, index: &Index) -> std::io::Result<()> {
        fs_err::create_dir_all(&self.dir)?;
        crate::fsutil::write_atomic(&self.path(&index.pack), &index.encode())
    }

    /// Forgets an index the remote no longer lists.
    pub fn forget(&self, pack: &Hash) {
        let _ = std::fs::remove_file(self.path(pack));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_in_two_packs_is_found_in_the_first_and_each_pack_lists_its_own() {
        let e = |b: &[u8], offset| Entry {
            hash: Hash::of(b),
            offset,
            length: 1,
        };
        let first = Index::new(Hash::of(b"p1"), vec![e(b"x", 8), e(b"y", 9)]);
        let second = Index::new(Hash::of(b"p2"), vec![e(b"x", 20), e(b"z", 21)]);
        let mut inventory = Inventory::of([&first]);
        inventory.add(&second);
        inventory.add(&second);
        assert_eq!(inventory.packs(), &[first.pack, second.pack]);
        assert_eq!(inventory.find(&Hash::of(b"x")).unwrap().pack, first.pack);
        assert_eq!(inventory.find(&Hash::of(b"x")).unwrap().entry.offset, 8);
        assert_eq!(inventory.find(&Hash::of(b"z")).unwrap().entry, e(b"z", 21));
        assert!(inventory.find(&Hash::of(b"w")).is_none());
        let by_pack = inventory.by_pack();
        assert_eq!(by_pack[0].1.len(), 2);
        assert_eq!(by_pack[1].1, vec![e(b"z", 21)]);
    }

    #[test]
    fn cached_indexes_read_back_and_damaged_ones_are_dropped() {
        let tmp = tempfile::tempdir().unwrap();
        let local = LocalIndexes::new(&tmp.path().join("packs"));
        assert!(local.cached().is_empty());
        let entry = Entry {
            hash: Hash::of(b"x"),
            offset: 8,
            length: 1,
        };
        let index = Index::new(Hash::of(b"p"), vec![entry]);
        local.save(&index).unwrap();
        assert_eq!(local.cached(), vec![index.pack]);
        assert_eq!(local.read(&index.pack), Some(index.clone()));
        let mut inventory = Inventory::default();
        inventory.add(&index);
        assert_eq!(inventory.find(&entry.hash).unwrap().pack, index.pack);
        assert_eq!(inventory.by_pack(), vec![(index.pack, vec![entry])]);
        std::fs::write(local.path(&index.pack), b"junk").unwrap();
        assert_eq!(local.read(&index.pack), None);
        assert!(local.cached().is_empty());
    }
}
