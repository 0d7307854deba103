//! Reading tracked data in the work tree: listing a directory's files and hashing them in
//! parallel, trusting the stat cache for files that provably did not change.

mod digest;

pub use digest::{
    folder_digest, listing_digest, manifest_hash, manifest_of, tree_digest, write_manifest,
};

use crate::cache::{Cache, CacheError};
use crate::hash::Hash;
use crate::mlvignore::{self, Rules};
use crate::progress::Progress;
use crate::stat_cache::{Stat, StatCache};
use rayon::prelude::*;
use std::fs::Metadata;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Regular,
    /// A symlink into the cache, as the `symlink` link type makes.
    CacheLink(Hash),
    /// Any other symlink, a FIFO, socket or device: not data git-mlv can version.
    Other(&'static str),
}

#[derive(Debug)]
pub struct FileEntry {
    /// Path relative to the directory that was listed, `/`-separated.
    pub rel: String,
    /// For a cache link, the metadata of the object it points at.
    pub meta: FileMeta,
    pub kind: Kind,
}

impl FileEntry {
    /// The file's path, from the directory it was listed in (a single file's entry has an
    /// empty `rel`: `dir` is the file). Not kept per entry: at a million files the paths
    /// were a third of a listing's memory.
    pub fn abs(&self, dir: &Path) -> PathBuf {
        match self.rel.as_str() {
            "" => dir.to_path_buf(),
            rel => dir.join(rel),
        }
    }

    pub fn exec(&self) -> bool {
        self.kind == Kind::Regular && self.meta.mode & 0o111 != 0
    }
}

/// What a listing keeps of a file's metadata: a million `std::fs::Metadata` (about 180
/// bytes each) were most of a listing's memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileMeta {
    stat: Stat,
    dev: u64,
    mode: u32,
}

impl FileMeta {
    /// The file's size, named like `Metadata::len`, which listings used before.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> u64 {
        self.stat.size()
    }
}

impl From<&Metadata> for FileMeta {
    fn from(meta: &Metadata) -> Self {
        FileMeta {
            stat: Stat::from(meta),
            dev: meta.dev(),
            mode: meta.permissions().mode(),
        }
    }
}

impl From<&FileMeta> for FileMeta {
    fn from(meta: &FileMeta) -> Self {
        *meta
    }
}

impl From<&FileMeta> for Stat {
    fn from(meta: &FileMeta) -> Self {
        meta.stat
    }
}

/// Classifies one path from its `lstat` metadata.
pub fn classify(abs: &Path, lmeta: Metadata, cache_root: &Path) -> io::Result<(Metadata, Kind)> {
    let ft = lmeta.file_type();
    if ft.is_file() {
        return Ok((lmeta, Kind::Regular));
    }
    if ft.is_symlink() {
        let target = fs_err::read_link(abs)?;
        if let Ok(key) = target.strip_prefix(cache_root)
            && let Some(hash) = key.to_str().and_then(Hash::from_key)
            && let Ok(meta) = std::fs::metadata(abs)
        {
            return Ok((meta, Kind::CacheLink(hash)));
        }
        return Ok((lmeta, Kind::Other("a symbolic link")));
    }
    let what = if ft.is_dir() {
        "a directory"
    } else {
        "a special file (FIFO, socket or device)"
    };
    Ok((lmeta, Kind::Other(what)))
}

/// Lists every file below `dir` (hidden ones too), in parallel. Skipped: git-mlv's own
/// temporary files (`fsutil::is_temp_name`: a killed write's leftover is never data),
/// `.mlvignore` files, and what their rules ignore, read from `root` (the tree `dir` lies
/// in) down to `dir` and below; an ignored folder is not entered.
/// Each file is `lstat`ed relative to its open folder (`DirEntry::metadata` is `statx` on
/// the folder's descriptor), not by its full path: for 20,000 files the path walks were
/// an eighth of an unchanged `status`.
pub fn list_dir(root: &Path, dir: &Path, cache_root: &Path) -> io::Result<Vec<FileEntry>> {
    let found = Mutex::new(Vec::new());
    walk_dir(root, dir, cache_root, &|_, mut here| {
        found.lock().expect("not poisoned").append(&mut here);
    })?;
    let mut files = found.into_inner().expect("not poisoned");
    files.par_sort_unstable_by(|a, b| a.rel.as_bytes().cmp(b.rel.as_bytes()));
    Ok(files)
}

/// What `list_dir` lists, handed over one folder at a time as the parallel walk reads it:
/// `each` gets the folder's path relative to `dir` (empty for `dir` itself) and its files,
/// unsorted, so a caller can fold them in and drop them rather than hold every path.
pub fn walk_dir(
    root: &Path,
    dir: &Path,
    cache_root: &Path,
    each: &(dyn Fn(&str, Vec<FileEntry>) + Sync),
) -> io::Result<()> {
    let rules = crate::mlvignore::above(root, dir)?;
    let walk = Walk {
        cache_root,
        each,
        first_err: Mutex::new(None),
    };
    rayon::scope(|s| walk.folder(s, dir.to_path_buf(), String::new(), rules));
    match walk.first_err.into_inner().expect("not poisoned") {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

struct Walk<'a> {
    cache_root: &'a Path,
    each: &'a (dyn Fn(&str, Vec<FileEntry>) + Sync),
    first_err: Mutex<Option<io::Error>>,
}

impl<'a> Walk<'a> {
    /// Lists one folder: its files here, its sub-folders as tasks of their own.
    fn folder<'s>(&'s self, s: &rayon::Scope<'s>, abs: PathBuf, rel: String, rules: Rules)
    where
        'a: 's,
    {
        if self.first_err.lock().expect("not poisoned").is_some() {
            return;
        }
        let mut here = Vec::new();
        if let Err(e) = self.read(s, &abs, &rel, rules, &mut here) {
            self.first_err
                .lock()
                .expect("not poisoned")
                .get_or_insert(e);
            return;
        }
        (self.each)(&rel, here);
    }

    fn read<'s>(
        &'s self,
        s: &rayon::Scope<'s>,
        abs: &Path,
        rel: &str,
        rules: Rules,
        here: &mut Vec<FileEntry>,
    ) -> io::Result<()>
    where
        'a: 's,
    {
        let entries = fs_err::read_dir(abs)?
            .map(|e| e.map(|e| (e.file_name(), e)))
            .collect::<io::Result<Vec<_>>>()?;
        // This folder's own rules apply to everything in it, so they are read first.
        let rules = match entries.iter().any(|(name, _)| name == mlvignore::FILE) {
            true => mlvignore::enter(&rules, abs)?,
            false => rules,
        };
        for (name, entry) in entries {
            let child_abs = abs.join(&name);
            let Some(name) = name.to_str() else {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("`{}` is not a UTF-8 path; rename it", child_abs.display()),
                ));
            };
            let child_rel = if rel.is_empty() {
                name.to_owned()
            } else {
                format!("{rel}/{name}")
            };
            let meta = entry
                .metadata()
                .map_err(|e| io::Error::new(e.kind(), format!("`{}`: {e}", child_abs.display())))?;
            if rules.is_some() && mlvignore::matched(&rules, &child_abs, meta.is_dir()).is_some() {
                continue;
            }
            if meta.is_dir() {
                let rules = rules.clone();
                s.spawn(move |s| self.folder(s, child_abs, child_rel, rules));
                continue;
            }
            if crate::fsutil::is_temp_name(name) || name == mlvignore::FILE {
                continue;
            }
            let (meta, kind) = classify(&child_abs, meta, self.cache_root)?;
            here.push(FileEntry {
                rel: child_rel,
                meta: FileMeta::from(&meta),
                kind,
            });
        }
        Ok(())
    }
}

/// Temporary files that killed writes left in the work tree at `root` and that are
/// untouched since `cutoff`, with their sizes: at any depth inside each tracked directory,
/// and beside each tracked path (where a file's checkout and every pointer are written).
pub fn stale_temp_files(
    root: &Path,
    tracked: &[crate::paths::RepoPath],
    cutoff: std::time::SystemTime,
) -> io::Result<Vec<(PathBuf, u64)>> {
    let mut folders = std::collections::BTreeSet::new();
    for t in tracked {
        let abs = t.to_abs(root);
        if let Some(parent) = abs.parent() {
            folders.insert(parent.to_path_buf());
        }
        if abs.symlink_metadata().is_ok_and(|m| m.is_dir()) {
            // Symlinks are not followed: nothing outside the tracked folder is looked at.
            for entry in ignore::WalkBuilder::new(&abs)
                .standard_filters(false)
                .build()
            {
                let entry = entry.map_err(io::Error::other)?;
                if entry.file_type().is_some_and(|t| t.is_dir()) {
                    folders.insert(entry.into_path());
                }
            }
        }
    }
    let mut out = Vec::new();
    for folder in folders {
        let Ok(entries) = fs_err::read_dir(&folder) else {
            continue;
        };
        for entry in entries {
            let entry = entry?;
            if entry
                .file_name()
                .to_str()
                .is_some_and(crate::fsutil::is_temp_name)
            {
                out.extend(crate::fsutil::if_stale(entry.path(), cutoff));
            }
        }
    }
    Ok(out)
}

/// The hash of a workspace file: from the stat cache when it provably did not change, else
/// by reading it (and, with `store`, copying it into the cache on the way).
pub fn hash_one(
    key: &str,
    abs: &Path,
    meta: impl Into<Stat>,
    stat: &StatCache,
    store: Option<&Cache>,
) -> Result<(Hash, bool), CacheError> {
    let meta: Stat = meta.into();
    hash_unless_known(stat.lookup(key, meta), abs, meta, store)
}

/// The hash of a workspace file's bytes, read: for a caller whose stat cache lookup
/// already failed (a second lookup would only fail again).
pub fn hash_read(abs: &Path, meta: impl Into<Stat>) -> Result<Hash, CacheError> {
    hash_unless_known(None, abs, meta.into(), None).map(|(hash, _)| hash)
}

fn hash_unless_known(
    known: Option<Hash>,
    abs: &Path,
    meta: Stat,
    store: Option<&Cache>,
) -> Result<(Hash, bool), CacheError> {
    if let Some(h) = known
        && store.is_none_or(|c| c.contains(&h))
    {
        return Ok((h, false));
    }
    let hash = match store {
        Some(cache) => cache.insert_file(abs, meta.size())?.0,
        None if meta.size() <= crate::hash::SMALL_FILE => Hash::of(&fs_err::read(abs)?),
        None => crate::cache::hash_reader(fs_err::File::open(abs)?.into_parts().0)?,
    };
    Ok((hash, true))
}

/// Hashes many files listed in the tracked directory `base` (at `dir`) in parallel (stat
/// cache key `<base>/<rel>`). Returns each file's hash and how many files had to be read, recording
/// fresh hashes in the stat cache.
pub fn hash_all(
    files: &[FileEntry],
    base: &str,
    dir: &Path,
    stat: &mut StatCache,
    store: Option<&Cache>,
    progress: &dyn Progress,
) -> Result<(Vec<Hash>, u64), CacheError> {
    let results = hash_each(files, base, dir, stat, store, progress)?;
    let mut read = 0;
    for (f, (h, fresh)) in files.iter().zip(&results) {
        if *fresh {
            stat.record(format!("{base}/{}", f.rel), &f.meta, *h);
            read += 1;
        }
    }
    Ok((results.into_iter().map(|(h, _)| h).collect(), read))
}

/// `hash_all` without recording: each file's hash, and true when its bytes were read
/// (`StatCache::save_with` records those without holding a copy of each path).
pub fn hash_each(
    files: &[FileEntry],
    base: &str,
    dir: &Path,
    stat: &StatCache,
    store: Option<&Cache>,
    progress: &dyn Progress,
) -> Result<Vec<(Hash, bool)>, CacheError> {
    let sorted = files.is_sorted_by(|a, b| a.rel.as_bytes() <= b.rel.as_bytes());
    // Written in place: a collected parallel iterator held its parts and the whole at once.
    let mut out = vec![(Hash::from_bytes([0; 32]), false); files.len()];
    out.par_chunks_mut(4096)
        .zip(files.par_chunks(4096))
        .try_for_each(|(out, chunk)| {
            let known = match sorted {
                true => {
                    stat.lookup_sorted_in(base, chunk.iter().map(|f| (&*f.rel, (&f.meta).into())))
                }
                false => chunk
                    .iter()
                    .map(|f| stat.lookup_in(base, &f.rel, &f.meta))
                    .collect(),
            };
            for ((slot, f), known) in out.iter_mut().zip(chunk).zip(known) {
                *slot = hash_unless_known(known, &f.abs(dir), (&f.meta).into(), store)?;
                progress.inc(1, f.meta.len());
            }
            Ok::<(), CacheError>(())
        })?;
    Ok(out)
}

/// True when `meta` is the very inode of the cache object (a hardlink into the cache).
pub fn is_hardlink_to(meta: impl Into<FileMeta>, object: &Path) -> bool {
    let meta: FileMeta = meta.into();
    std::fs::metadata(object).is_ok_and(|o| o.ino() == meta.stat.ino() && o.dev() == meta.dev)
}
