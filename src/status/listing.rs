//! A tracked directory listed compactly for `status`: per folder, its files' names, hashes,
//! sizes and exec bits (about 60 bytes a file, where a path and metadata each were 230),
//! looked up in the stat cache folder by folder as the walk reads them, and each folder
//! digested, so a folder equal to the manifest's is known without reading the manifest.

use crate::cache::CacheError;
use crate::hash::Hash;
use crate::manifest::EntryRef;
use crate::progress::Progress;
use crate::stat_cache::{Stat, StatCache};
use crate::workspace::{self, FileEntry, Kind};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub struct Listing {
    /// Folders that hold files, by path ("" is the tracked directory itself).
    pub folders: Vec<Folder>,
    /// Paths that are not regular files (nor cache links), by path.
    pub other: Vec<FileEntry>,
    /// Files whose bytes had to be read.
    pub read: u64,
}

pub struct Folder {
    pub rel: String,
    /// The files' names, one after another; `File::end` says where each ends.
    names: String,
    /// By name.
    pub files: Vec<File>,
    pub digest: Hash,
    /// Files the stat cache could not vouch for: (index, path, stat), hashed after the walk.
    fresh: Vec<(usize, PathBuf, Stat)>,
}

pub struct File {
    end: u32,
    pub hash: Hash,
    pub size: u64,
    pub exec: bool,
}

impl Folder {
    pub fn name(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.files[i - 1].end };
        &self.names[start as usize..self.files[i].end as usize]
    }

    pub fn find(&self, name: &str) -> Option<usize> {
        let (mut lo, mut hi) = (0, self.files.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.name(mid).as_bytes().cmp(name.as_bytes()) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// The path of file `i` relative to the tracked directory.
    pub fn path(&self, i: usize) -> Path2<'_> {
        Path2(&self.rel, self.name(i))
    }

    fn digest_files(&self) -> Hash {
        workspace::folder_digest((0..self.files.len()).map(|i| {
            let f = &self.files[i];
            (self.name(i), &f.hash, f.size, f.exec)
        }))
    }
}

/// A path in two parts, folder and name, shown and serialized as `folder/name`.
#[derive(Clone, Copy)]
pub struct Path2<'a>(&'a str, &'a str);

impl std::fmt::Display for Path2<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.is_empty() {
            true => f.write_str(self.1),
            false => write!(f, "{}/{}", self.0, self.1),
        }
    }
}

impl serde::Serialize for Path2<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Path2<'_> {
    /// The path's bytes, for comparing without building it.
    fn bytes(&self) -> impl Iterator<Item = u8> + '_ {
        let sep: &[u8] = if self.0.is_empty() { b"" } else { b"/" };
        self.0
            .bytes()
            .chain(sep.iter().copied())
            .chain(self.1.bytes())
    }
}

/// Lists the tracked directory `dir` (stat cache keys `<base>/<path>`), hashing what the stat
/// cache cannot vouch for and recording those hashes.
pub fn scan(
    root: &Path,
    dir: &Path,
    base: &str,
    cache_root: &Path,
    stat: &mut StatCache,
    progress: &dyn Progress,
) -> Result<Listing, CacheError> {
    let found = Mutex::new((Vec::new(), Vec::new()));
    let known: &StatCache = stat;
    workspace::walk_dir(root, dir, cache_root, &|rel, here| {
        // The regular files' places, sorted by name: sorting and partitioning the entries
        // themselves (140 bytes each, grown by doubling) was a tenth of the CPU of an
        // unchanged status.
        let mut regular: Vec<u32> = (0..here.len() as u32)
            .filter(|i| !matches!(here[*i as usize].kind, Kind::Other(_)))
            .collect();
        regular.sort_unstable_by(|a, b| {
            let name = |i: &u32| here[*i as usize].rel.as_bytes();
            name(a).cmp(name(b))
        });
        let folder =
            (!regular.is_empty()).then(|| fold(rel, base, dir, &here, &regular, known, progress));
        let other = here
            .into_iter()
            .filter(|f| matches!(f.kind, Kind::Other(_)));
        let mut found = found.lock().expect("not poisoned");
        found.0.extend(folder);
        found.1.extend(other);
    })?;
    let (mut folders, mut other) = found.into_inner().expect("not poisoned");
    folders.sort_unstable_by(|a: &Folder, b| a.rel.as_bytes().cmp(b.rel.as_bytes()));
    other.sort_unstable_by(|a: &FileEntry, b| a.rel.as_bytes().cmp(b.rel.as_bytes()));
    let learnt = folders
        .par_iter_mut()
        .map(|folder| {
            let mut learnt = Vec::new();
            // `fold` looked these up already: read them, without a second lookup.
            for (i, abs, meta) in std::mem::take(&mut folder.fresh) {
                let hash = workspace::hash_read(&abs, meta)?;
                folder.files[i].hash = hash;
                learnt.push((format!("{base}/{}", folder.path(i)), meta, hash));
            }
            folder.digest = folder.digest_files();
            Ok(learnt)
        })
        .collect::<Result<Vec<_>, CacheError>>()?;
    let mut read = 0;
    for (key, meta, hash) in learnt.into_iter().flatten() {
        stat.record(key, meta, hash);
        read += 1;
    }
    Ok(Listing {
        folders,
        other,
        read,
    })
}

/// One folder's regular files (`files` at the places `order` gives, sorted, listed from
/// `dir`) into a `Folder`, hashes from the stat cache.
fn fold(
    rel: &str,
    base: &str,
    dir: &Path,
    files: &[FileEntry],
    order: &[u32],
    stat: &StatCache,
    progress: &dyn Progress,
) -> Folder {
    let files = || order.iter().map(|i| &files[*i as usize]);
    let skip = if rel.is_empty() { 0 } else { rel.len() + 1 };
    let key = match rel.is_empty() {
        true => base.to_owned(),
        false => format!("{base}/{rel}"),
    };
    let known = stat.lookup_sorted_in(&key, files().map(|f| (&f.rel[skip..], (&f.meta).into())));
    let mut folder = Folder {
        rel: rel.to_owned(),
        names: String::with_capacity(files().map(|f| f.rel.len() - skip).sum()),
        files: Vec::with_capacity(order.len()),
        digest: Hash::from_bytes([0; 32]),
        fresh: Vec::new(),
    };
    let mut bytes = 0;
    for (i, (f, known)) in files().zip(known).enumerate() {
        folder.names.push_str(&f.rel[skip..]);
        bytes += f.meta.len();
        if known.is_none() {
            folder.fresh.push((i, f.abs(dir), (&f.meta).into()));
        }
        folder.files.push(File {
            end: folder.names.len() as u32,
            hash: known.unwrap_or(Hash::from_bytes([0; 32])),
            size: f.meta.len(),
            exec: f.exec(),
        });
    }
    progress.inc(folder.files.len() as u64, bytes);
    folder
}

impl Listing {
    pub fn files(&self) -> u64 {
        self.folders.iter().map(|f| f.files.len() as u64).sum()
    }

    pub fn size(&self) -> u64 {
        self.folders
            .iter()
            .flat_map(|f| &f.files)
            .map(|f| f.size)
            .sum()
    }

    pub fn digest(&self) -> Hash {
        workspace::tree_digest(self.folders.iter().map(|f| (f.rel.as_str(), f.digest)))
    }

    pub fn folder_digests(&self) -> crate::stat_cache::Folders {
        self.folders
            .iter()
            .map(|f| (f.rel.clone(), *f.digest.as_bytes()))
            .collect()
    }

    pub fn folder(&self, rel: &str) -> Option<&Folder> {
        self.folders
            .binary_search_by(|f| f.rel.as_bytes().cmp(rel.as_bytes()))
            .ok()
            .map(|i| &self.folders[i])
    }

    pub fn hashes(&self) -> Vec<Hash> {
        self.folders
            .iter()
            .flat_map(|f| f.files.iter().map(|f| f.hash))
            .collect()
    }

    /// The hash of the manifest these files make (what `add` would record), streamed in
    /// path order.
    pub fn manifest_hash(&self) -> Hash {
        let mut order: Vec<(u32, u32)> = self
            .folders
            .iter()
            .enumerate()
            .flat_map(|(d, f)| (0..f.files.len()).map(move |i| (d as u32, i as u32)))
            .collect();
        let path = |&(d, i): &(u32, u32)| self.folders[d as usize].path(i as usize);
        order.par_sort_unstable_by(|a, b| path(a).bytes().cmp(path(b).bytes()));
        crate::manifest::hash_of_sorted(order.iter().map(|at| {
            let f = &self.folders[at.0 as usize].files[at.1 as usize];
            EntryRef {
                path: path(at),
                hash: &f.hash,
                size: f.size,
                exec: f.exec,
            }
        }))
    }
}
