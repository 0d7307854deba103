//! `get`, `import`, `update` and `import-url`: data from another repository (read through
//! [`Reader`] over [`External`]) or from a plain URL, written into this work tree from this repository's
//! cache (`get`'s without it: `import_get`); `import` and `import-url` also track it, with a `[source]` table in the pointer
//! that `update` follows.

use super::external::External;
use super::read::Reader;
use super::report::{self, Reporter};
use crate::cache::Access;
use crate::paths::RepoPath;
use crate::pointer::Pointer;
use crate::problem::{failed_with_hint, usage_with_hint};
use crate::repo::{Repo, Tracked};
use crate::restore::{self, Plan};
use std::path::Path;

pub use super::import_sources::{SourceFailure, from_sources, sources_failed};

/// What to copy, from where, to where.
pub struct Request<'a> {
    /// A git URL or a local path.
    pub repo: &'a str,
    /// The tracked path there (or a file or folder inside tracked data).
    pub path: &'a str,
    pub rev: Option<&'a str>,
    /// Where here (default: the last segment of `path`, in the current folder).
    pub out: Option<&'a Path>,
}

/// What was written, and from which commit.
#[derive(serde::Serialize)]
pub struct Done {
    /// Where the data went, repository-relative.
    pub path: String,
    pub url: String,
    pub rev: Option<String>,
    pub commit: Option<String>,
    pub source_path: String,
    pub hash: crate::hash::Hash,
    pub size: u64,
    pub files: u64,
    /// False when `update` found the source where the pointer says it was.
    pub updated: bool,
    /// True when `update` found the source unchanged but the data missing from the work
    /// tree, and wrote it again.
    pub restored: bool,
}

/// Copies the data (`track`: and tracks it, recording its source).
pub fn get(repo: &Repo, req: &Request, track: bool, report: &dyn Reporter) -> anyhow::Result<Done> {
    let name = req
        .path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("");
    let dest = destination(repo, req.out.unwrap_or(Path::new(name)), track)?;
    // `import` of a local path reads its last commit, as a git URL's `HEAD` (what DVC
    // does): a work tree has no commit to record, so the import could not be followed.
    let rev = match track && !super::external::is_url(req.repo) {
        true => Some(req.rev.unwrap_or("HEAD")),
        false => req.rev,
    };
    let ext = External::open(req.repo, rev)?;
    match track {
        true => write(repo, ext, req.path, &dest, None, report),
        false => super::import_get::write(repo, ext, req.path, &dest, report),
    }
}

/// Where `get`, `import` and `import-url` write `out`: inside the work tree (through no
/// link out of it), where nothing is yet, neither tracked data (its pointer) nor inside or
/// around it; with `track`, nothing git tracks either.
pub(super) fn destination(repo: &Repo, out: &Path, track: bool) -> anyhow::Result<RepoPath> {
    let dest = repo.resolve(out)?;
    crate::paths::check_no_link_out(repo.root(), dest.as_str())?;
    if track && let Some(first) = repo.git.index()?.first_under(dest.as_str()) {
        return Err(usage_with_hint(
            format!("`{first}` is tracked by git, so imported data cannot take `{dest}` over"),
            "choose another place with `-o`",
        ));
    }
    if dest
        .pointer()
        .to_abs(repo.root())
        .symlink_metadata()
        .is_ok()
    {
        return Err(usage_with_hint(
            format!(
                "`{}` is tracked already (its pointer `{}` exists), even if its data is not here",
                repo.display(&dest),
                repo.display(&dest.pointer())
            ),
            format!(
                "choose another place with `-o`; `git mlv update {dest}` moves imported data to a new revision"
            ),
        ));
    }
    crate::track::check_not_nested(&repo.tracked_paths()?, &dest)?;
    if dest.to_abs(repo.root()).symlink_metadata().is_ok() {
        return Err(usage_with_hint(
            format!("`{}` exists already", repo.display(&dest)),
            "choose another place with `-o`, or remove it first",
        ));
    }
    Ok(dest)
}

/// Moves imported data at `path` to its source's revision `rev` (default: the one it was
/// imported at, looked up again), or re-downloads a URL import that changed.
pub fn update(
    repo: &Repo,
    path: &Path,
    rev: Option<&str>,
    report: &dyn Reporter,
) -> anyhow::Result<Done> {
    let dest = repo.resolve(path)?;
    let pointer = repo.load_pointer(&dest)?;
    let Some(source) = pointer.source() else {
        return Err(usage_with_hint(
            format!(
                "`{}` was not imported: its pointer has no `[source]`",
                repo.display(&dest)
            ),
            "only data from `git mlv import` or `import-url` can be updated",
        ));
    };
    let url = pointer.source_field("url").unwrap_or_default();
    if pointer.source_field("commit").is_none() {
        if rev.is_some() {
            return Err(usage_with_hint(
                format!(
                    "`{}` was imported from the URL `{url}`, which has no revisions, so `--rev` means nothing for it",
                    repo.display(&dest)
                ),
                format!("`git mlv update {dest}` downloads the file again if it changed"),
            ));
        }
        return super::import_url::update(repo, &dest, &pointer, source, report);
    }
    let rev = rev.or(pointer.source_field("rev"));
    let ext = External::open(url, rev)?;
    let source_path = pointer.source_field("path").unwrap_or_default();
    if ext.commit() == pointer.source_field("commit") {
        if missing(repo, &dest) {
            let reader = Reader::new(ext, repo.cache()?, None);
            let bar = report.progress("fetching");
            // A folder's manifest: from this cache, else from the source's remote.
            reader.pointer(source_path, &*bar)?;
            reader.fetch(&pointer, &*bar)?;
            drop(bar);
            let ext = reader.source();
            place(repo, &dest, &pointer, true, report)?;
            let mut done = from_repository_done(&dest, ext, source_path, &pointer, false);
            done.restored = true;
            return Ok(done);
        }
        return Ok(from_repository_done(
            &dest,
            &ext,
            source_path,
            &pointer,
            false,
        ));
    }
    write(repo, ext, source_path, &dest, Some(&pointer), report)
}

/// True when nothing is at `dest` in the work tree.
pub(super) fn missing(repo: &Repo, dest: &RepoPath) -> bool {
    dest.to_abs(repo.root()).symlink_metadata().is_err()
}

/// Fetches `path` of `ext` into this cache and writes it at `dest` with its pointer (with
/// `[source]`, and the unknown fields of the `old` one it replaces) and `.gitignore` entry
/// (`import`, `update`; `get` is `import_get`'s).
fn write(
    repo: &Repo,
    ext: External,
    path: &str,
    dest: &RepoPath,
    old: Option<&Pointer>,
    report: &dyn Reporter,
) -> anyhow::Result<Done> {
    let path = path.trim_start_matches("./").trim_end_matches('/');
    let cache = repo.cache()?;
    let _cache_lock = report::lock_cache(&cache, Access::Shared, report)?;
    let reader = Reader::new(ext, cache, None);
    let ext = reader.source();
    let bar = report.progress("fetching");
    let pointer = reader.pointer(path, &*bar)?;
    reader.fetch(&pointer, &*bar)?;
    drop(bar);
    let pointer = keeping_extra(pointer, old).with_source(origin(ext, path));
    place(repo, dest, &pointer, true, report)?;
    Ok(from_repository_done(dest, ext, path, &pointer, true))
}

/// `pointer` with the unknown fields of the `old` one it replaces (SPEC: kept on rewrite).
pub(super) fn keeping_extra(pointer: Pointer, old: Option<&Pointer>) -> Pointer {
    match old {
        Some(old) => pointer.keeping_extra_of(old),
        None => pointer,
    }
}

/// Writes the data of `pointer` at `dest` from the cache, refusing to lose unsaved work or
/// git-tracked files; with `track`, also its pointer file and `.gitignore` entry.
pub(super) fn place(
    repo: &Repo,
    dest: &RepoPath,
    pointer: &Pointer,
    track: bool,
    report: &dyn Reporter,
) -> anyhow::Result<()> {
    let cache = repo.cache()?;
    let _lock = report::lock_worktree(repo, report)?;
    let mut stat = repo.stat_cache();
    let t = Tracked {
        path: dest.clone(),
        pointer: pointer.clone(),
    };
    let target = restore::Target {
        dest_root: repo.root(),
        force: false,
    };
    let mut plan = Plan::default();
    restore::plan(
        repo,
        &cache,
        &mut stat,
        &t,
        &Default::default(),
        &target,
        &mut plan,
    )?;
    if !plan.conflicts.is_empty() {
        return Err(failed_with_hint(
            format!(
                "writing `{}` would overwrite {} whose content is not in the cache; nothing was changed",
                repo.display(dest),
                crate::units::count(plan.conflicts.len() as u64, "workspace file")
            ),
            format!("`git mlv add {dest}` to keep it first, or remove it"),
        ));
    }
    let bar = report.progress("checkout");
    restore::apply(repo, &cache, &mut stat, plan, &[], &*bar)?;
    drop(bar);
    if track {
        crate::fsutil::write_atomic(
            &dest.pointer().to_abs(repo.root()),
            pointer.render().as_bytes(),
        )?;
        crate::gitignore::ensure(repo.root(), dest)?;
    }
    stat.save()?;
    Ok(())
}

/// The `[source]` table of data imported from `ext`.
fn origin(ext: &External, path: &str) -> toml::Table {
    let mut t = toml::Table::new();
    t.insert("url".into(), ext.url().into());
    t.insert("rev".into(), ext.rev().unwrap_or("HEAD").into());
    t.insert("commit".into(), ext.commit().unwrap_or_default().into());
    t.insert("path".into(), path.into());
    t
}

pub(super) fn from_repository_done(
    dest: &RepoPath,
    ext: &External,
    path: &str,
    p: &Pointer,
    updated: bool,
) -> Done {
    Done {
        rev: ext.rev().map(str::to_owned),
        commit: ext.commit().map(str::to_owned),
        source_path: path.to_string(),
        ..Done::new(dest, ext.url(), p, updated)
    }
}

impl Done {
    /// `p` written at `dest` from `url` (no revision: `import-url`'s).
    pub(super) fn new(dest: &RepoPath, url: &str, p: &Pointer, updated: bool) -> Done {
        Done {
            path: dest.to_string(),
            url: url.to_string(),
            rev: None,
            commit: None,
            source_path: String::new(),
            hash: p.hash,
            size: p.size,
            files: p.files.unwrap_or(1),
            updated,
            restored: false,
        }
    }
}

/// Imported data and where its source stands now.
#[derive(serde::Serialize)]
pub struct Imported {
    pub path: String,
    pub url: String,
    pub rev: Option<String>,
    pub commit: Option<String>,
    /// Whether the source moved on since (its revision names another commit, or the file at
    /// the URL changed); `None` when the source could not be reached (`error` says why).
    pub moved: Option<bool>,
    pub error: Option<String>,
}

/// Each tracked path of `tracked` that was imported, with whether its source moved on
/// (one look-up per source: a shallow fetch of its revision, or a stat of the URL).
pub fn imported(tracked: &[Tracked]) -> Vec<Imported> {
    tracked
        .iter()
        .filter_map(|t| {
            let s = t.pointer.source()?;
            let field = |k: &str| t.pointer.source_field(k).map(str::to_owned);
            let url = field("url").unwrap_or_default();
            let commit = field("commit");
            let moved = match &commit {
                Some(c) => External::open(&url, field("rev").as_deref())
                    .map(|ext| ext.commit() != Some(c.as_str())),
                None => super::import_url::changed(&url, s),
            };
            let (moved, error) = match moved {
                Ok(m) => (Some(m), None),
                Err(e) => (None, Some(format!("{e:#}"))),
            };
            Some(Imported {
                path: t.path.to_string(),
                url,
                rev: field("rev"),
                commit,
                moved,
                error,
            })
        })
        .collect()
}

/// The selection without imported data, and the paths left out: `push` uploads imported
/// data only with `--include-imports`, as its source's remote (or URL) already holds it and
/// `pull` and `fetch` get it from there when this repository's remote lacks it.
pub fn without_imports(selected: crate::repo::Selection) -> (crate::repo::Selection, Vec<String>) {
    let (imported, kept): (Vec<_>, Vec<_>) = selected
        .into_iter()
        .partition(|(t, _)| t.pointer.source().is_some());
    let mut paths: Vec<String> = imported.iter().map(|(t, _)| t.path.to_string()).collect();
    paths.dedup();
    (kept, paths)
}
