//! Tracking data (`add`): hash files in parallel into the cache, build a directory's
//! manifest, write the pointer and the `.gitignore` entry.

use crate::cache::Cache;
use crate::config::LinkType;
use crate::paths::RepoPath;
use crate::pointer::{Pointer, PointerError};
use crate::problem::{usage, usage_with_hint};
use crate::progress::Progress;
use crate::repo::Repo;
use crate::stat_cache::{Stat, StatCache};
use crate::workspace::{self, Kind};
use anyhow::Context;

pub struct Added {
    pub path: RepoPath,
    pub pointer: Pointer,
    /// False when the pointer already said exactly this.
    pub changed: bool,
    pub gitignore: Option<RepoPath>,
    /// The pointer file that was there could not be read and was replaced (the reason).
    pub replaced_damaged: Option<String>,
    /// Files whose bytes had to be read (the stat cache vouched for the rest).
    pub files_read: u64,
}

/// Refuses paths git-mlv cannot track, before any byte is read.
pub fn check_addable(
    repo: &Repo,
    tracked: &[RepoPath],
    path: &RepoPath,
) -> anyhow::Result<std::fs::Metadata> {
    // The pointer and `.gitignore` line go beside the data: never through a link to outside.
    crate::paths::check_no_link_out(repo.root(), path.as_str())?;
    let abs = path.to_abs(repo.root());
    let meta = match std::fs::symlink_metadata(&abs) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(crate::paths::PathError::NotFound(repo.display(path).into()).into());
        }
        Err(e) => return Err(e).with_context(|| format!("reading `{path}`")),
    };
    if meta.file_type().is_symlink() {
        return Err(usage_with_hint(
            format!(
                "`{path}` is a symbolic link; git-mlv versions the bytes of regular files and directories"
            ),
            "add the file it points to, or replace the link with a copy",
        ));
    }
    if !meta.is_file() && !meta.is_dir() {
        return Err(usage(format!(
            "`{path}` is a special file (FIFO, socket or device); git-mlv versions regular files and directories"
        )));
    }
    if meta.is_file() && crate::fsutil::is_temp_name(path.file_name()) {
        return Err(usage_with_hint(
            format!(
                "`{path}` is named like git-mlv's temporary files (`{}…`), which listing, status and checkout skip",
                crate::fsutil::TEMP_PREFIX
            ),
            "rename it",
        ));
    }
    if path.file_name() == crate::mlvignore::FILE {
        return Err(usage_with_hint(
            format!("`{path}` holds ignore rules, not data"),
            format!("commit it with git: `git add {path}`"),
        ));
    }
    if let Some(rule) = crate::mlvignore::ignoring(repo.root(), path.as_str(), meta.is_dir())? {
        let file = rule.file.strip_prefix(repo.root()).unwrap_or(&rule.file);
        return Err(usage_with_hint(
            format!(
                "`{path}` is ignored by `{}` (rule `{}`)",
                file.display(),
                rule.pattern
            ),
            format!(
                "remove the rule, or add `!{}` after it, to track `{path}`",
                path.file_name()
            ),
        ));
    }
    check_not_nested(tracked, path)?;
    if let Some(first) = repo.git.index()?.first_under(path.as_str()) {
        return Err(usage_with_hint(
            format!("`{first}` is already tracked by git, so git-mlv cannot take `{path}` over"),
            format!("run `git rm -r --cached {path}` first, then `git mlv add {path}`"),
        ));
    }
    Ok(meta)
}

/// Refuses `path` inside, or containing, a path of `tracked` other than itself: tracked
/// data never nests.
pub fn check_not_nested(tracked: &[RepoPath], path: &RepoPath) -> anyhow::Result<()> {
    for t in tracked {
        if path != t && path.starts_with(t) {
            return Err(usage_with_hint(
                format!("`{path}` is inside `{t}`, which git-mlv already tracks as one directory"),
                format!("run `git mlv add {t}` to record changes inside it"),
            ));
        }
        if path != t && t.starts_with(path) {
            return Err(usage_with_hint(
                format!("`{path}` contains `{t}`, which git-mlv already tracks on its own"),
                format!(
                    "delete `{}` and its `.gitignore` line first, then add the whole directory",
                    t.pointer()
                ),
            ));
        }
    }
    Ok(())
}

/// Adds one path (file or directory) to the cache and writes its pointer.
pub fn add(
    repo: &Repo,
    cache: &Cache,
    stat: &mut StatCache,
    path: &RepoPath,
    meta: &std::fs::Metadata,
    progress: &dyn Progress,
) -> anyhow::Result<Added> {
    let abs = path.to_abs(repo.root());
    let links = &repo.config.cache.link;
    let link_back = matches!(links.first(), Some(LinkType::Hardlink | LinkType::Symlink));
    let mut files_read = 0;
    let pointer = if meta.is_file() {
        progress.start(1, meta.len());
        let (hash, fresh) = workspace::hash_one(path.as_str(), &abs, meta, stat, Some(cache))
            .map_err(|e| with_data_safe(e.into(), path))?;
        progress.inc(1, meta.len());
        if fresh {
            stat.record(path.to_string(), meta, hash);
            files_read = 1;
        }
        if link_back {
            crate::link::materialize(&cache.object_path(&hash), &abs, false, links)?;
            stat.record(path.to_string(), &fs_err::metadata(&abs)?, hash);
        }
        Pointer::file(hash, meta.len())
    } else {
        let files = workspace::list_dir(repo.root(), &abs, cache.root())
            .with_context(|| format!("listing `{path}`"))?;
        if let Some(bad) = files.iter().find(|f| matches!(f.kind, Kind::Other(_))) {
            let Kind::Other(what) = bad.kind else {
                unreachable!()
            };
            return Err(usage_with_hint(
                format!(
                    "`{}` inside `{path}` is {what}; git-mlv versions only regular files, so it would be lost on checkout",
                    path.join(&bad.rel)
                ),
                format!(
                    "replace it with a regular file or move it out of `{path}`, then add again"
                ),
            ));
        }
        if let Some(p) = files.iter().find(|f| f.rel.ends_with(crate::pointer::EXT)) {
            return Err(usage_with_hint(
                format!(
                    "`{}` inside `{path}` is a git-mlv pointer; a tracked directory cannot hold tracked paths",
                    path.join(&p.rel)
                ),
                "delete it (and its `.gitignore` line) first",
            ));
        }
        if let Some(g) = files.iter().find(|f| crate::paths::has_git_segment(&f.rel)) {
            return Err(usage_with_hint(
                format!(
                    "`{}` inside `{path}` lies in a `.git` folder (a nested repository); git-mlv never tracks or writes anything under `.git`",
                    path.join(&g.rel)
                ),
                format!("move that repository out of `{path}`, then add again"),
            ));
        }
        progress.start(files.len() as u64, files.iter().map(|f| f.meta.len()).sum());
        let results =
            workspace::hash_each(&files, path.as_str(), &abs, stat, Some(cache), progress)
                .map_err(|e| with_data_safe(e.into(), path))?;
        let hashes = || results.iter().map(|(h, _)| h);
        files_read = results.iter().filter(|(_, fresh)| *fresh).count() as u64;
        let hash = cache
            .insert_streamed(|out| workspace::write_manifest(out, &files, hashes()))
            .map_err(|e| with_data_safe(e.into(), path))?;
        stat.record_dir(
            path.as_str(),
            workspace::listing_digest(&files, hashes()),
            hash,
            None,
        );
        // Fresh hashes go straight into the stat cache file: a million recorded paths
        // held in memory until the command saved them were a fifth of add's peak.
        stat.save_with(path.as_str(), || {
            files
                .iter()
                .zip(&results)
                .filter(|(_, (_, fresh))| *fresh)
                .map(|(f, (h, _))| (f.rel.as_str(), Stat::from(&f.meta), *h))
        })?;
        if link_back {
            for (f, (h, _)) in files.iter().zip(&results) {
                let file = f.abs(&abs);
                crate::link::materialize(&cache.object_path(h), &file, false, links)?;
                stat.record(format!("{path}/{}", f.rel), &fs_err::metadata(&file)?, *h);
            }
        }
        let size = files.iter().map(|f| f.meta.len()).sum();
        Pointer::dir(hash, size, files.len() as u64)
    };
    let pointer_abs = path.pointer().to_abs(repo.root());
    // A damaged pointer is replaced: the data it stood for is right here (a newer-version
    // one is still refused, so an old build never downgrades it).
    let mut replaced_damaged = None;
    let old = match pointer_abs.exists() {
        true => match repo.load_pointer(path) {
            Ok(p) => Some(p),
            Err(PointerError::Invalid { reason, .. }) => {
                replaced_damaged = Some(reason);
                None
            }
            Err(e) => return Err(e.into()),
        },
        false => None,
    };
    // Imported data changed here is this repository's own: without `[source]`, `push`
    // uploads it and `pull` no longer looks for it at a source that never had it.
    let pointer = match &old {
        Some(old) if old.hash != pointer.hash => pointer.keeping_extra_of(old).without_source(),
        Some(old) => pointer.keeping_extra_of(old),
        None => pointer,
    };
    let changed = old.as_ref() != Some(&pointer);
    if changed {
        crate::fsutil::write_atomic(&pointer_abs, pointer.render().as_bytes())?;
    }
    let gitignore = crate::gitignore::ensure(repo.root(), path)?;
    Ok(Added {
        path: path.clone(),
        pointer,
        changed,
        gitignore,
        replaced_damaged,
        files_read,
    })
}

/// True when an error was caused by a full disk, so the message can say so.
fn is_disk_full(err: &anyhow::Error) -> bool {
    use crate::cache::CacheError;
    use std::io;
    let full =
        |e: &io::Error| e.raw_os_error() == Some(28) || e.kind() == io::ErrorKind::StorageFull;
    err.chain().any(|c| {
        c.downcast_ref::<io::Error>().is_some_and(full)
            || matches!(c.downcast_ref::<CacheError>(), Some(CacheError::Io(e)) if full(e))
    })
}

/// Says plainly that a failed add did not touch the user's data, and why it failed.
fn with_data_safe(err: anyhow::Error, path: &RepoPath) -> anyhow::Error {
    let full = is_disk_full(&err);
    let msg = if full {
        format!(
            "the disk holding the git-mlv cache is full while adding `{path}`; `{path}` itself is intact and its pointer unchanged\nhint: free some space (or move the cache with `cache.dir` in `.mlv/config.local.toml`), then run `git mlv add {path}` again"
        )
    } else {
        format!("adding `{path}` failed; `{path}` itself is intact and its pointer unchanged")
    };
    err.context(msg)
}
