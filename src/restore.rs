//! Making data match its pointer (`checkout`): plan first, refuse if any workspace file
//! whose content is not safe in the cache would be overwritten or removed, then write.

use crate::cache::{Cache, CacheError};
use crate::hash::Hash;
use crate::manifest::Manifest;
use crate::paths::RepoPath;
use crate::pathspec::Scope;
use crate::progress::Progress;
use crate::repo::{Repo, Tracked};
use crate::stat_cache::{Stat, StatCache};
use crate::workspace::{self, FileEntry, Kind};
use anyhow::Context;
use rayon::prelude::*;
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

/// One file to write: 80 bytes and its path below its tracked path, where full paths
/// and stat cache keys for each of a million files would take three times that.
/// Files written in one parallel slice.
const WRITE_EVERY: usize = 1 << 16;

struct Write {
    /// Which tracked path (`Plan::roots`).
    root: u32,
    /// The path below it, `/`-separated; empty for a tracked file.
    rel: Box<str>,
    hash: Hash,
    exec: bool,
    size: u64,
}

/// Where a tracked path is written, and its stat cache key when in the work tree.
struct Root {
    abs: PathBuf,
    key: Option<String>,
}

impl Plan {
    fn root(&mut self, abs: &Path, key: Option<String>) -> u32 {
        let last = self.roots.last();
        if last.is_none_or(|r| r.abs != abs) {
            self.roots.push(Root {
                abs: abs.to_path_buf(),
                key,
            });
        }
        (self.roots.len() - 1) as u32
    }

    fn abs(&self, w: &Write) -> PathBuf {
        let root = &self.roots[w.root as usize].abs;
        match w.rel.is_empty() {
            true => root.clone(),
            false => root.join(&*w.rel),
        }
    }
}

/// What a checkout will do; nothing is changed until `apply`.
#[derive(Default)]
pub struct Plan {
    writes: Vec<Write>,
    roots: Vec<Root>,
    removes: Vec<PathBuf>,
    /// Folders whose now-empty sub-folders are pruned after removals.
    prune: Vec<PathBuf>,
    make_dirs: Vec<PathBuf>,
    /// Workspace files that would lose content not in the cache (refused without `--force`).
    pub conflicts: Vec<String>,
    /// Tracked paths whose objects are not in the cache.
    pub missing: Vec<String>,
    pub unchanged: u64,
    /// Git's index, read the first time a tracked path would change the work tree.
    index: Option<crate::gitx::IndexedPaths>,
}

impl Plan {
    /// How many changes (and refusals) the plan holds, to tell whether a path added any.
    fn changes(&self) -> usize {
        self.writes.len() + self.removes.len() + self.make_dirs.len() + self.conflicts.len()
    }
}

#[derive(Debug, Default, serde::Serialize)]
pub struct Summary {
    pub written: u64,
    pub bytes: u64,
    pub removed: u64,
    pub unchanged: u64,
}

/// Where and how a checkout writes.
pub struct Target<'a> {
    /// The work tree, or a `--to` folder.
    pub dest_root: &'a Path,
    /// Overwrite and remove files whose content is not in the cache.
    pub force: bool,
}

/// The folder `checkout --to DIR` writes under, created and canonical. Refused (exit 2)
/// when it is or lies in a `.git` folder or `.mlv/` of the work tree (judged relative to
/// the work tree's root), or in this repository's git dirs; judged before it is created and
/// again once links are resolved.
pub fn export_root(repo: &Repo, dir: &Path) -> anyhow::Result<PathBuf> {
    let refuse = |abs: &Path| {
        let reserved = match abs.strip_prefix(repo.root()) {
            Ok(rel) => rel.to_str().is_some_and(crate::paths::is_reserved),
            Err(_) => {
                abs.starts_with(&repo.layout.git_dir) || abs.starts_with(&repo.layout.common_dir)
            }
        };
        match reserved {
            true => Err(crate::problem::usage_with_hint(
                format!(
                    "`--to {}` lies in a `.git` folder or `.mlv/`; git-mlv never writes there",
                    dir.display()
                ),
                "choose a folder outside them",
            )),
            false => Ok(()),
        }
    };
    let cwd = std::env::current_dir()?;
    let cwd = cwd.canonicalize().unwrap_or(cwd);
    refuse(&crate::paths::normalize(&cwd.join(dir)))?;
    let abs = cwd.join(dir);
    fs_err::create_dir_all(&abs)?;
    let abs = fs_err::canonicalize(&abs)?;
    refuse(&abs)?;
    Ok(abs)
}

/// Plans the checkout of `t`; `scope` limits a directory to the files selected. Refuses
/// (exit 2) data that would be written through a symbolic link to outside the
/// destination, or over a path git tracks.
pub fn plan(
    repo: &Repo,
    cache: &Cache,
    stat: &mut StatCache,
    t: &Tracked,
    scope: &Scope,
    target: &Target,
    plan: &mut Plan,
) -> anyhow::Result<()> {
    crate::paths::check_no_link_out(target.dest_root, t.path.as_str())?;
    let before = plan.changes();
    plan_one(repo, cache, stat, t, scope, target, plan)?;
    // Only a path that changes something inside the work tree costs a read of the index.
    let Ok(in_tree) = target.dest_root.strip_prefix(repo.root()) else {
        return Ok(());
    };
    if plan.changes() == before {
        return Ok(());
    }
    let dest = match in_tree.to_str() {
        Some("") => t.path.to_string(),
        Some(dir) => format!("{dir}/{}", t.path),
        None => return Ok(()),
    };
    if plan.index.is_none() {
        plan.index = Some(repo.git.index()?);
    }
    if let Some(code) = plan.index.as_ref().and_then(|i| i.first_under(&dest)) {
        return Err(crate::problem::usage_with_hint(
            format!(
                "`{}` would write data over `{code}`, which git tracks; git-mlv never overwrites files git tracks",
                t.path.pointer()
            ),
            format!(
                "if the data belongs there, `git rm --cached {code}` first; otherwise remove the pointer with `git rm --cached {}` and commit",
                t.path.pointer()
            ),
        ));
    }
    Ok(())
}

fn plan_one(
    repo: &Repo,
    cache: &Cache,
    stat: &mut StatCache,
    t: &Tracked,
    scope: &Scope,
    target: &Target,
    plan: &mut Plan,
) -> anyhow::Result<()> {
    let Target { dest_root, force } = *target;
    let in_workspace = dest_root == repo.root();
    let abs = t.path.to_abs(dest_root);
    let lmeta = match std::fs::symlink_metadata(&abs) {
        Ok(m) => Some(m),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(
                io::Error::new(e.kind(), format!("reading `{}`: {e}", abs.display())).into(),
            );
        }
    };
    if !t.pointer.is_dir() {
        if !cache.contains(&t.pointer.hash) {
            plan.missing.push(t.path.to_string());
            return Ok(());
        }
        t.check_sizes(cache, None)?;
        if let Some(lmeta) = lmeta {
            if lmeta.is_dir() {
                let files = workspace::list_dir(dest_root, &abs, cache.root())?;
                let hashes = hash_listed(&files, &abs, &t.path, in_workspace, stat)?;
                judge_removals(cache, &files, &hashes, &abs, &t.path, force, plan);
                plan.removes.push(abs.clone());
            } else {
                let (meta, kind) = workspace::classify(&abs, lmeta, cache.root())?;
                let current = match kind {
                    Kind::Other(_) => None,
                    _ => Some(workspace::hash_one(t.path.as_str(), &abs, &meta, stat, None)?.0),
                };
                if current == Some(t.pointer.hash) {
                    plan.unchanged += 1;
                    return Ok(());
                }
                if !force && !current.is_some_and(|h| cache.contains(&h)) {
                    plan.conflicts.push(t.path.to_string());
                    return Ok(());
                }
            }
        }
        let root = plan.root(&abs, in_workspace.then(|| t.path.to_string()));
        plan.writes.push(Write {
            root,
            rel: "".into(),
            hash: t.pointer.hash,
            exec: false,
            size: t.pointer.size,
        });
        return Ok(());
    }

    if !cache.contains(&t.pointer.hash) {
        plan.missing.push(t.path.to_string());
        return Ok(());
    }
    // A file where the directory belongs, refused once the manifest is read and checked.
    let mut refused = false;
    let files = match &lmeta {
        Some(m) if m.is_dir() => workspace::list_dir(dest_root, &abs, cache.root())?,
        Some(m) => {
            let (meta, kind) = workspace::classify(&abs, m.clone(), cache.root())?;
            let safe = kind == Kind::Regular
                && cache.contains(&workspace::hash_one("", &abs, &meta, stat, None)?.0);
            refused = !safe && !force;
            if !refused {
                plan.removes.push(abs.clone());
            }
            Vec::new()
        }
        None => Vec::new(),
    };
    let files: Vec<FileEntry> = files
        .into_iter()
        .filter(|f| scope.covers(&t.path, &f.rel))
        .collect();
    let hashes = hash_listed(&files, &abs, &t.path, in_workspace, stat)?;
    let root = plan.root(&abs, in_workspace.then(|| t.path.to_string()));
    let mut dir = DirPlan {
        cache,
        stat,
        t,
        abs: &abs,
        listed: lmeta.is_some(),
        in_workspace,
        force,
        current: files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.rel.as_str(), i))
            .collect(),
        files: &files,
        hashes: &hashes,
        matched: vec![false; files.len()],
        root,
        missing_objects: false,
        failed: None,
    };
    // Each entry is planned as the manifest streams in: a million parsed entries held
    // beside the plan were 100 MB more. Nothing is written before the whole is checked.
    let streamed = Manifest::stream_cached(cache, &t.pointer.hash, |e| {
        if !refused && dir.failed.is_none() && scope.covers(&t.path, &e.path) {
            dir.failed = dir.entry(e, plan).err();
        }
    });
    let totals = match streamed {
        Ok(m) => m.with_context(|| format!("the manifest of `{}`", t.path))?,
        Err(CacheError::Missing { .. }) => {
            plan.missing.push(t.path.to_string());
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(e) = dir.failed {
        return Err(e);
    }
    t.check_totals(totals)?;
    if refused {
        plan.conflicts.push(t.path.to_string());
        return Ok(());
    }
    if dir.missing_objects {
        plan.missing.push(t.path.to_string());
    }
    let matched = dir.matched;
    let (extra_files, extra_hashes): (Vec<_>, Vec<_>) = files
        .into_iter()
        .zip(hashes)
        .zip(matched)
        .filter_map(|((f, h), matched)| (!matched).then_some((f, h)))
        .unzip();
    judge_removals(
        cache,
        &extra_files,
        &extra_hashes,
        &abs,
        &t.path,
        force,
        plan,
    );
    plan.prune.push(abs.clone());
    if totals.files == 0 || lmeta.is_none() {
        plan.make_dirs.push(abs);
    }
    Ok(())
}

/// A tracked directory being planned, entry by entry, against its listed files.
struct DirPlan<'a> {
    cache: &'a Cache,
    stat: &'a mut StatCache,
    t: &'a Tracked,
    abs: &'a Path,
    /// Whether anything is at the directory's place.
    listed: bool,
    in_workspace: bool,
    force: bool,
    files: &'a [FileEntry],
    hashes: &'a [Option<Hash>],
    /// Each listed file's place in `files`, by path.
    current: HashMap<&'a str, usize>,
    /// The listed files some entry names (the others are removed).
    matched: Vec<bool>,
    root: u32,
    missing_objects: bool,
    failed: Option<anyhow::Error>,
}

impl DirPlan<'_> {
    fn entry(&mut self, e: crate::manifest::Entry, plan: &mut Plan) -> anyhow::Result<()> {
        let listed = self.current.get(e.path.as_str()).copied();
        if let Some(i) = listed {
            self.matched[i] = true;
        }
        let mut current_here = listed.map(|i| (self.hashes[i], &self.files[i]));
        // A listed file the listing skipped (an `.mlvignore` rule now covers it) may still
        // hold bytes the cache lacks: judged like any other before it is overwritten.
        let unlisted;
        let dest = (current_here.is_none() && self.listed).then(|| self.abs.join(&e.path));
        if let Some(dest) = dest
            && let Ok(m) = std::fs::symlink_metadata(&dest)
        {
            let (meta, kind) = workspace::classify(&dest, m, self.cache.root())?;
            unlisted = FileEntry {
                rel: e.path.clone(),
                meta: (&meta).into(),
                kind,
            };
            let one = std::slice::from_ref(&unlisted);
            let h = hash_listed(one, self.abs, &self.t.path, self.in_workspace, self.stat)?;
            current_here = Some((h[0], &unlisted));
        }
        match current_here {
            Some((Some(h), f))
                if h == e.hash && (f.exec() == e.exec || f.kind != Kind::Regular) =>
            {
                plan.unchanged += 1;
                return Ok(());
            }
            Some((h, _)) if !self.force && !h.is_some_and(|h| self.cache.contains(&h)) => {
                plan.conflicts.push(format!("{}/{}", self.t.path, e.path));
                return Ok(());
            }
            _ => {}
        }
        if !self.cache.contains(&e.hash) {
            self.missing_objects = true;
            return Ok(());
        }
        plan.writes.push(Write {
            root: self.root,
            rel: e.path.into_boxed_str(),
            hash: e.hash,
            exec: e.exec,
            size: e.size,
        });
        Ok(())
    }
}

/// Hashes workspace files listed from `dir` (not symlinks or special files, which have no
/// hash here).
fn hash_listed(
    files: &[FileEntry],
    dir: &Path,
    base: &RepoPath,
    in_workspace: bool,
    stat: &mut StatCache,
) -> anyhow::Result<Vec<Option<Hash>>> {
    let regular: Vec<&FileEntry> = files
        .iter()
        .filter(|f| !matches!(f.kind, Kind::Other(_)))
        .collect();
    let hashed: Vec<(Hash, bool)> = regular
        .par_iter()
        .map(|f| {
            let key = if in_workspace {
                format!("{base}/{}", f.rel)
            } else {
                String::new()
            };
            workspace::hash_one(&key, &f.abs(dir), &f.meta, stat, None)
        })
        .collect::<Result<_, _>>()?;
    let mut by_path: HashMap<&str, Hash> = HashMap::new();
    for (f, (h, fresh)) in regular.iter().zip(&hashed) {
        if *fresh && in_workspace {
            stat.record(format!("{base}/{}", f.rel), &f.meta, *h);
        }
        by_path.insert(f.rel.as_str(), *h);
    }
    Ok(files
        .iter()
        .map(|f| by_path.get(f.rel.as_str()).copied())
        .collect())
}

/// Extra workspace files (listed from `dir`, tracked as `base`) are removed only when their
/// content is safe in the cache.
fn judge_removals(
    cache: &Cache,
    files: &[FileEntry],
    hashes: &[Option<Hash>],
    dir: &Path,
    base: &RepoPath,
    force: bool,
    plan: &mut Plan,
) {
    for (f, h) in files.iter().zip(hashes) {
        if force || h.is_some_and(|h| cache.contains(&h)) {
            plan.removes.push(f.abs(dir));
        } else {
            plan.conflicts.push(format!("{base}/{}", f.rel));
        }
    }
}

/// Carries out a plan that has no conflicts (or was forced). Objects in `ready` have a
/// ready copy beside the cache (written by the download just before), which is moved into
/// place instead of copying the object again.
pub fn apply(
    repo: &Repo,
    cache: &Cache,
    stat: &mut StatCache,
    plan: Plan,
    ready: &[Hash],
    progress: &dyn Progress,
) -> anyhow::Result<Summary> {
    let mut summary = Summary {
        unchanged: plan.unchanged,
        ..Summary::default()
    };
    for path in &plan.removes {
        let removed = match std::fs::symlink_metadata(path) {
            Ok(m) if m.is_dir() => fs_err::remove_dir_all(path),
            Ok(_) => fs_err::remove_file(path),
            Err(_) => Ok(()),
        };
        removed?;
        summary.removed += 1;
    }
    for dir in &plan.make_dirs {
        fs_err::create_dir_all(dir)?;
    }
    let links = &repo.config.cache.link;
    progress.start(
        plan.writes.len() as u64,
        plan.writes.iter().map(|w| w.size).sum(),
    );
    // In slices, so that a failed write stops the rest soon; the stat of each written
    // file is kept (32 bytes) and merged into the stat cache file once, at the end.
    let mut stats: Vec<Stat> = Vec::with_capacity(plan.writes.len());
    let mut failed = None;
    for chunk in plan.writes.chunks(WRITE_EVERY) {
        let done: io::Result<Vec<Stat>> = chunk
            .par_iter()
            .map(|w| {
                let abs = plan.abs(w);
                let placed = ready.contains(&w.hash)
                    && crate::link::place(&cache.ready_copy_path(&w.hash), &abs, w.exec)?;
                if !placed {
                    crate::link::materialize(&cache.object_path(&w.hash), &abs, w.exec, links)?;
                }
                let meta = fs_err::metadata(&abs)?;
                progress.inc(1, meta.len());
                Ok(Stat::from(&meta))
            })
            .collect();
        match done {
            Ok(done) => stats.extend(done),
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    summary.written = stats.len() as u64;
    summary.bytes = stats.iter().map(|s| s.size()).sum();
    record_written(stat, &plan, &stats)?;
    if let Some(e) = failed {
        return Err(e.into());
    }
    if summary.removed > 0 {
        for dir in &plan.prune {
            prune_empty_dirs(dir);
        }
    }
    Ok(summary)
}

/// Records the files written (`stats[i]` is `plan.writes[i]`'s) in the stat cache:
/// tracked files one by one, the files of tracked directories merged straight into the
/// stat cache file, which is written then (a million recorded entries held in memory
/// until the command saved were 130 MB).
fn record_written(stat: &mut StatCache, plan: &Plan, stats: &[Stat]) -> io::Result<()> {
    let writes = &plan.writes[..stats.len()];
    // Each tracked directory's writes: consecutive, in its manifest's (path) order.
    let mut runs: Vec<(&str, std::ops::Range<usize>)> = Vec::new();
    for (i, w) in writes.iter().enumerate() {
        let Some(key) = plan.roots[w.root as usize].key.as_deref() else {
            continue;
        };
        if w.rel.is_empty() {
            stat.record(key.to_string(), stats[i], w.hash);
        } else if let Some(run) = runs.last_mut().filter(|r| r.1.end == i && r.0 == key) {
            run.1.end = i + 1;
        } else {
            runs.push((key, i..i + 1));
        }
    }
    if runs.is_empty() {
        return Ok(());
    }
    // `<dir>/` orders the directories as their files' keys sort (`a-b/` before `a/`).
    runs.sort_by(|a, b| a.0.bytes().chain([b'/']).cmp(b.0.bytes().chain([b'/'])));
    stat.save_with_under(|| {
        runs.iter().flat_map(|(key, range)| {
            range
                .clone()
                .map(|i| (*key, &*writes[i].rel, stats[i], writes[i].hash))
        })
    })
}

/// Removes empty folders below `dir` (not `dir` itself), deepest first.
fn prune_empty_dirs(dir: &Path) {
    let mut dirs: Vec<PathBuf> = ignore::WalkBuilder::new(dir)
        .standard_filters(false)
        .build()
        .filter_map(Result::ok)
        .filter(|e| e.depth() > 0 && e.file_type().is_some_and(|t| t.is_dir()))
        .map(|e| e.into_path())
        .collect();
    dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    for d in dirs {
        let _ = std::fs::remove_dir(d); // fails, as intended, when not empty
    }
}
