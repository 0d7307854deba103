//! `get`'s writing: it tracks nothing, so it fills no cache of this repository (as DVC's
//! `get`). What the source's remote sends is verified into a store in a temporary folder
//! beside the output and each object renamed to its file; what this cache already holds is
//! copied from it. The output appears whole, by one rename at the end; a failure leaves
//! neither it nor the temporary folder.

use super::external::External;
use super::import::{Done, from_repository_done};
use super::read::Reader;
use super::report::{self, Reporter};
use crate::cache::{Access, Cache};
use crate::config::LinkType;
use crate::hash::Hash;
use crate::link;
use crate::manifest::Manifest;
use crate::paths::RepoPath;
use crate::pointer::Pointer;
use crate::repo::Repo;
use rayon::prelude::*;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// One file to write: where, from which object, with which mode.
struct File {
    /// Inside the output (`""`: the output is the file).
    rel: String,
    hash: Hash,
    exec: bool,
}

/// Copies `path` of `ext` to `dest` (checked by `import::destination`).
pub(super) fn write(
    repo: &Repo,
    ext: External,
    path: &str,
    dest: &RepoPath,
    report: &dyn Reporter,
) -> anyhow::Result<Done> {
    let path = path.trim_start_matches("./").trim_end_matches('/');
    let cache = repo.cache()?;
    let _cache_lock = report::lock_cache(&cache, Access::Shared, report)?;
    let abs = dest.to_abs(repo.root());
    let staging = tempfile::Builder::new()
        .prefix(crate::fsutil::TEMP_PREFIX)
        .tempdir_in(existing_ancestor(&abs))?;
    let store = Cache::open(&staging.path().join("objects"), false)?;
    let reader = Reader::new(ext, store.clone(), None).reading_first(cache.clone());
    let bar = report.progress("fetching");
    let pointer = reader.pointer(path, &*bar)?;
    if let Err(e) = reader.fetch(&pointer, &*bar) {
        return Err(match files_of(&reader, &pointer) {
            Ok(files) => naming_files(e, path, &files),
            Err(_) => e,
        });
    }
    drop(bar);
    let files = files_of(&reader, &pointer)?;
    let hashes: Vec<Hash> = files.iter().map(|f| f.hash).collect();
    let fetched = cache.missing(&hashes)?;
    let sources = Sources {
        cache: &cache,
        store: &store,
        fetched: &fetched,
    };
    let out = staging.path().join("out");
    place(&sources, &files, &out, &repo.config.cache.link, report)?;
    let _lock = report::lock_worktree(repo, report)?;
    // Nothing took the place meanwhile (a folder renamed over would be replaced).
    super::import::destination(repo, &abs, false)?;
    fs_err::create_dir_all(abs.parent().expect("a work tree path has a parent"))?;
    fs_err::rename(&out, &abs)?;
    Ok(from_repository_done(
        dest,
        reader.source(),
        path,
        &pointer,
        true,
    ))
}

/// The nearest folder above `abs` that exists (the work tree's root at worst): the
/// temporary folder goes there, on the output's file system, and creates no folder of the
/// output's before it is whole.
fn existing_ancestor(abs: &Path) -> &Path {
    abs.ancestors()
        .skip(1)
        .find(|d| d.is_dir())
        .unwrap_or(Path::new("."))
}

/// The files of `pointer`: one, or a folder's, from its manifest (in a cache by now).
fn files_of(reader: &Reader, pointer: &Pointer) -> anyhow::Result<Vec<File>> {
    if !pointer.is_dir() {
        return Ok(vec![File {
            rel: String::new(),
            hash: pointer.hash,
            exec: false,
        }]);
    }
    let holder = reader.holder(&pointer.hash).unwrap_or(reader.cache());
    let manifest = Manifest::from_bytes(&holder.read_verified(&pointer.hash)?, &pointer.hash)?;
    Ok(manifest
        .entries()
        .iter()
        .map(|e| File {
            rel: e.path.clone(),
            hash: e.hash,
            exec: e.exec,
        })
        .collect())
}

/// A failed fetch, naming the files (source paths) whose objects it names.
fn naming_files(e: anyhow::Error, path: &str, files: &[File]) -> anyhow::Error {
    let text = format!("{e:#}");
    let named: Vec<String> = files
        .iter()
        .filter(|f| text.contains(&f.hash.to_string()))
        .map(|f| match f.rel.as_str() {
            "" => format!("`{path}`"),
            rel => format!("`{path}/{rel}`"),
        })
        .collect();
    match named.len() {
        0 => e,
        n if n <= 10 => e.context(format!("could not get {}", named.join(", "))),
        n => e.context(format!(
            "could not get {} and {} more",
            named[..10].join(", "),
            n - 10
        )),
    }
}

/// Where the objects are: this repository's cache, or (`fetched`) the temporary store.
struct Sources<'a> {
    cache: &'a Cache,
    store: &'a Cache,
    fetched: &'a HashSet<Hash>,
}

impl Sources<'_> {
    fn object(&self, hash: &Hash) -> PathBuf {
        match self.fetched.contains(hash) {
            true => self.store.object_path(hash),
            false => self.cache.object_path(hash),
        }
    }
}

/// Writes `files` under `out`: an object fetched into `store` is renamed to its (last)
/// file, once any other file with the same bytes was copied from it; one this repository's
/// cache holds is put there as checkout would (`cache.link`).
fn place(
    sources: &Sources,
    files: &[File],
    out: &Path,
    links: &[LinkType],
    report: &dyn Reporter,
) -> anyhow::Result<()> {
    let target = |f: &File| match f.rel.as_str() {
        "" => out.to_path_buf(),
        rel => out.join(rel),
    };
    let dirs: BTreeSet<PathBuf> = files
        .iter()
        .filter_map(|f| target(f).parent().map(Path::to_path_buf))
        .collect();
    for d in &dirs {
        fs_err::create_dir_all(d)?;
    }
    // The store's objects are gone with the temporary folder: never linked to.
    let copies = [LinkType::Reflink, LinkType::Copy];
    let last: HashMap<Hash, usize> = files
        .iter()
        .enumerate()
        .filter(|(_, f)| sources.fetched.contains(&f.hash))
        .map(|(i, f)| (f.hash, i))
        .collect();
    let bar = report.progress("checkout");
    bar.start(files.len() as u64, 0);
    let (renames, copied): (Vec<_>, Vec<_>) = files
        .iter()
        .enumerate()
        .partition(|(i, f)| last.get(&f.hash) == Some(i));
    copied.par_iter().try_for_each(|(_, f)| {
        let links = match sources.fetched.contains(&f.hash) {
            true => &copies[..],
            false => links,
        };
        link::materialize(&sources.object(&f.hash), &target(f), f.exec, links)?;
        bar.inc(1, 0);
        std::io::Result::Ok(())
    })?;
    renames.par_iter().try_for_each(|(_, f)| {
        let object = sources.object(&f.hash);
        if !link::place(&object, &target(f), f.exec)? {
            link::materialize(&object, &target(f), f.exec, &copies)?;
        }
        bar.inc(1, 0);
        std::io::Result::Ok(())
    })?;
    Ok(())
}
