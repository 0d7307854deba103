//! Moving (`mv`) and untracking (`rm`) tracked paths: the data, its pointer and its
//! `.gitignore` entry change together; the hash is kept and nothing is staged in git.

use crate::cache::Cache;
use crate::paths::RepoPath;
use crate::problem::{failed_with_hint, usage_with_hint};
use crate::repo::Repo;
use crate::stat_cache::StatCache;
use crate::workspace::{self, Kind};
use anyhow::Context;
use std::io;

/// What `mv` did.
pub struct Moved {
    pub from: RepoPath,
    pub to: RepoPath,
    /// False when the data was not in the workspace (only the pointer moved).
    pub data_moved: bool,
    /// Files git must record (pointers and `.gitignore`s that changed or went).
    pub to_stage: Vec<RepoPath>,
}

/// What `rm` did.
pub struct Removed {
    pub path: RepoPath,
    /// How many data files were deleted (0 with `--keep-data` or no data in the workspace).
    pub files_deleted: usize,
    pub data_deleted: bool,
    pub to_stage: Vec<RepoPath>,
}

/// Refuses `path` unless it is a tracked path itself (not a file inside a tracked directory).
pub fn check_tracked(tracked: &[RepoPath], path: &RepoPath, shown: &str) -> anyhow::Result<()> {
    if tracked.contains(path) {
        return Ok(());
    }
    if let Some(t) = tracked.iter().find(|t| path.starts_with(t)) {
        return Err(usage_with_hint(
            format!(
                "`{shown}` lies inside `{t}`, which git-mlv tracks as one directory; `mv` and `rm` take a whole tracked path"
            ),
            format!("move or remove the file in place and run `git mlv add {t}` to record it"),
        ));
    }
    Err(usage_with_hint(
        format!("`{shown}` is not tracked by git-mlv"),
        "`git mlv ls` lists what is tracked",
    ))
}

/// Moves the tracked `from` to `to`: data, pointer and `.gitignore` entry. Refuses (exit 2,
/// changing nothing) a `to` that exists, lies inside tracked data or holds some, is a path
/// git tracks, or lies behind a link to outside; reserved and outside paths never resolve.
pub fn move_tracked(
    repo: &Repo,
    stat: &mut StatCache,
    tracked: &[RepoPath],
    from: &RepoPath,
    to: &RepoPath,
) -> anyhow::Result<Moved> {
    let root = repo.root();
    let shown = repo.display(to);
    crate::paths::check_no_link_out(root, to.as_str())?;
    for taken in [to.clone(), to.pointer()] {
        if std::fs::symlink_metadata(taken.to_abs(root)).is_ok() {
            return Err(usage_with_hint(
                format!(
                    "`{}` already exists; `git mlv mv` never overwrites",
                    repo.display(&taken)
                ),
                format!(
                    "choose another destination, or remove `{}` first",
                    repo.display(&taken)
                ),
            ));
        }
    }
    if let Some(t) = tracked.iter().find(|t| to.starts_with(t)) {
        return Err(usage_with_hint(
            format!(
                "`{shown}` lies inside `{}`, which git-mlv tracks as one directory",
                repo.display(t)
            ),
            "choose a destination outside tracked data",
        ));
    }
    if let Some(t) = tracked.iter().find(|t| t.starts_with(to)) {
        return Err(usage_with_hint(
            format!(
                "`{shown}` would contain `{}`, which git-mlv tracks on its own",
                repo.display(t)
            ),
            "choose another destination",
        ));
    }
    if crate::fsutil::is_temp_name(to.file_name()) {
        return Err(usage_with_hint(
            format!(
                "`{shown}` is named like git-mlv's temporary files (`{}…`), which listing, status and checkout skip",
                crate::fsutil::TEMP_PREFIX
            ),
            "choose another name",
        ));
    }
    let index = repo.git.index()?;
    if let Some(code) = index.first_under(to.as_str()) {
        return Err(usage_with_hint(
            format!("`{code}` is tracked by git; git-mlv never puts data over files git tracks"),
            "choose another destination",
        ));
    }

    let (from_abs, to_abs) = (from.to_abs(root), to.to_abs(root));
    if let Some(parent) = to_abs.parent() {
        fs_err::create_dir_all(parent)?;
    }
    let data_moved = std::fs::symlink_metadata(&from_abs).is_ok();
    if data_moved {
        fs_err::rename(&from_abs, &to_abs)?;
    }
    if let Err(e) = fs_err::rename(from.pointer().to_abs(root), to.pointer().to_abs(root)) {
        // Put the data back, so data and pointer stay together.
        if data_moved {
            let _ = std::fs::rename(&to_abs, &from_abs);
        }
        return Err(e.into());
    }
    stat.rename_under(from.as_str(), to.as_str());
    let added = crate::gitignore::ensure(root, to)?;
    let removed = crate::gitignore::remove(root, from)?;
    let to_stage = stageable(
        repo,
        &index,
        [Some(from.pointer()), Some(to.pointer()), added, removed],
    );
    Ok(Moved {
        from: from.clone(),
        to: to.clone(),
        data_moved,
        to_stage,
    })
}

/// Stops tracking `path`: removes its pointer and `.gitignore` entry and, unless
/// `keep_data`, its data. Data is deleted only when every file's content is in the cache
/// (as checkout's rule); otherwise nothing changes and the files are named (exit 1). In a
/// directory, files `.mlvignore` rules ignore are not data and are left in place.
pub fn remove_tracked(
    repo: &Repo,
    cache: &Cache,
    stat: &mut StatCache,
    path: &RepoPath,
    keep_data: bool,
) -> anyhow::Result<Removed> {
    let root = repo.root();
    let abs = path.to_abs(root);
    let lmeta = std::fs::symlink_metadata(&abs).ok().filter(|_| !keep_data);
    let mut files = Vec::new();
    if let Some(lmeta) = &lmeta {
        let listed = match lmeta.is_dir() {
            true => workspace::list_dir(root, &abs, cache.root())
                .with_context(|| format!("listing `{path}`"))?,
            false => {
                let (meta, kind) = workspace::classify(&abs, lmeta.clone(), cache.root())?;
                vec![workspace::FileEntry {
                    rel: String::new(),
                    meta: (&meta).into(),
                    kind,
                }]
            }
        };
        let key = |f: &workspace::FileEntry| match f.rel.as_str() {
            "" => path.to_string(),
            rel => format!("{path}/{rel}"),
        };
        let mut unsafe_files = Vec::new();
        for f in &listed {
            let safe = match f.kind {
                Kind::CacheLink(h) => cache.contains(&h),
                Kind::Other(_) => false,
                Kind::Regular => {
                    let (h, fresh) =
                        workspace::hash_one(&key(f), &f.abs(&abs), &f.meta, stat, None)?;
                    if fresh {
                        stat.record(key(f), &f.meta, h);
                    }
                    cache.contains(&h)
                }
            };
            if !safe {
                unsafe_files.push(repo.display(&RepoPath::new(key(f))));
            }
        }
        if !unsafe_files.is_empty() {
            let more = unsafe_files.len().saturating_sub(20);
            let list: Vec<String> = unsafe_files
                .iter()
                .take(20)
                .map(|p| format!("  {p}"))
                .collect();
            let shown = repo.display(path);
            let what = match (lmeta.is_dir(), unsafe_files.len()) {
                (false, _) => format!("`{shown}` holds bytes that are not in the cache"),
                (true, 1) => format!("`{shown}` holds a file that is not in the cache"),
                (true, n) => format!("`{shown}` holds {n} files that are not in the cache"),
            };
            let listing = match lmeta.is_dir() {
                true => format!(":\n{}", crate::units::listing(&list, more)),
                false => String::new(),
            };
            return Err(failed_with_hint(
                format!("{what}; `rm` would lose them, so nothing was changed{listing}"),
                format!(
                    "run `git mlv add {shown}` first to keep them, or `git mlv rm --keep-data {shown}` to stop tracking and keep the files"
                ),
            ));
        }
        files = listed;
    }
    let index = repo.git.index()?;
    let data_deleted = lmeta.is_some();
    if let Some(lmeta) = &lmeta {
        for f in &files {
            fs_err::remove_file(f.abs(&abs))?;
        }
        if lmeta.is_dir() {
            remove_empty_dirs(&abs)?;
        }
    }
    stat.forget_under(path.as_str());
    fs_err::remove_file(path.pointer().to_abs(root))?;
    let ignore = crate::gitignore::remove(root, path)?;
    Ok(Removed {
        path: path.clone(),
        files_deleted: files.len(),
        data_deleted,
        to_stage: stageable(repo, &index, [Some(path.pointer()), ignore]),
    })
}

/// Removes `dir` and the folders below it that are empty, deepest first; folders that still
/// hold files (ignored ones) stay.
fn remove_empty_dirs(dir: &std::path::Path) -> io::Result<()> {
    let mut dirs: Vec<std::path::PathBuf> = ignore::WalkBuilder::new(dir)
        .standard_filters(false)
        .build()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_some_and(|t| t.is_dir()))
        .map(|e| e.into_path())
        .collect();
    dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    for d in dirs {
        match std::fs::remove_dir(&d) {
            Err(e) if e.kind() != io::ErrorKind::DirectoryNotEmpty => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("removing `{}`: {e}", d.display()),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The paths among `paths` that `git add -A` can take: those in the work tree or the index
/// (a pointer that was never staged and is now gone needs nothing).
fn stageable(
    repo: &Repo,
    index: &crate::gitx::IndexedPaths,
    paths: impl IntoIterator<Item = Option<RepoPath>>,
) -> Vec<RepoPath> {
    let mut out: Vec<RepoPath> = paths
        .into_iter()
        .flatten()
        .filter(|p| {
            p.to_abs(repo.root()).exists() || index.first_under(p.as_str()) == Some(p.as_str())
        })
        .collect();
    out.sort();
    out.dedup();
    out
}
