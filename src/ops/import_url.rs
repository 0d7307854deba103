//! `import-url`: a plain file at a URL, hashed into this cache and tracked, with its URL
//! and what says it changed (size and mtime; an ETag where the server gives one) in the
//! pointer's `[source]` table, so `update` downloads it again only when that changed.

use super::import::{Done, place};
use super::report::{self, Reporter};
use crate::cache::Access;
use crate::paths::RepoPath;
use crate::pointer::Pointer;
use crate::problem::usage_with_hint;
use crate::repo::Repo;
use std::path::{Path, PathBuf};

/// Downloads the file at `url` into the cache and tracks it at `out` (default: its name).
pub fn import_url(
    repo: &Repo,
    url: &str,
    out: Option<&Path>,
    report: &dyn Reporter,
) -> anyhow::Result<Done> {
    let file = local_file(url)?;
    let name = file.file_name().map(PathBuf::from).unwrap_or_default();
    let dest = repo.resolve(out.unwrap_or(&name))?;
    crate::paths::check_no_link_out(repo.root(), dest.as_str())?;
    if let Some(first) = repo.git.index()?.first_under(dest.as_str()) {
        return Err(usage_with_hint(
            format!("`{first}` is tracked by git, so imported data cannot take `{dest}` over"),
            "choose another place with `-o`",
        ));
    }
    if dest.to_abs(repo.root()).symlink_metadata().is_ok() {
        return Err(usage_with_hint(
            format!("`{}` exists already", repo.display(&dest)),
            "choose another place with `-o`, or remove it first",
        ));
    }
    download(repo, url, &file, &dest, report)
}

/// Downloads the source of `pointer` again when its size or mtime changed.
pub(super) fn update(
    repo: &Repo,
    dest: &RepoPath,
    pointer: &Pointer,
    source: &toml::Table,
    report: &dyn Reporter,
) -> anyhow::Result<Done> {
    let url = source
        .get("url")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    if !changed(url, source)? {
        return Ok(done(dest, url, pointer, false));
    }
    download(repo, url, &local_file(url)?, dest, report)
}

/// True when the file at `url` no longer has the size and mtime `source` recorded.
pub(super) fn changed(url: &str, source: &toml::Table) -> anyhow::Result<bool> {
    let (size, mtime) = stamp(&local_file(url)?)?;
    Ok(
        source.get("size").and_then(|v| v.as_integer()) != Some(size as i64)
            || source.get("mtime").and_then(|v| v.as_integer()) != Some(mtime),
    )
}

fn download(
    repo: &Repo,
    url: &str,
    file: &Path,
    dest: &RepoPath,
    report: &dyn Reporter,
) -> anyhow::Result<Done> {
    let cache = repo.cache()?;
    let _cache_lock = report::lock_cache(&cache, Access::Shared, report)?;
    let (size, mtime) = stamp(file)?;
    let (hash, size) = cache.insert_file(file, size)?;
    let mut source = toml::Table::new();
    source.insert("url".into(), url.into());
    source.insert("size".into(), (size as i64).into());
    source.insert("mtime".into(), mtime.into());
    let pointer = Pointer::file(hash, size).with_source(source);
    place(repo, dest, &pointer, true, report)?;
    Ok(done(dest, url, &pointer, true))
}

/// The file a `file://` URL or plain path names; other schemes are not read yet.
fn local_file(url: &str) -> anyhow::Result<PathBuf> {
    let path = match url::Url::parse(url) {
        Ok(u) if u.scheme() == "file" => u.to_file_path().map_err(|()| {
            usage_with_hint(format!("`{url}` is not a file URL"), "use `file:///path`")
        })?,
        Ok(u) if u.scheme().len() > 1 => {
            return Err(usage_with_hint(
                format!(
                    "`{url}`: `{}` URLs are not supported by `import-url` yet",
                    u.scheme()
                ),
                "download the file yourself and `git mlv add` it",
            ));
        }
        _ => PathBuf::from(url),
    };
    if !path.is_file() {
        return Err(usage_with_hint(
            format!("`{url}` names no file (`{}`)", path.display()),
            "check the URL",
        ));
    }
    Ok(path)
}

/// The size and mtime (nanoseconds) that say whether the file changed.
fn stamp(file: &Path) -> anyhow::Result<(u64, i64)> {
    let meta = fs_err::metadata(file)?;
    Ok((meta.len(), crate::fsutil::mtime_ns(&meta)))
}

fn done(dest: &RepoPath, url: &str, p: &Pointer, updated: bool) -> Done {
    Done {
        path: dest.to_string(),
        url: url.to_string(),
        rev: None,
        commit: None,
        source_path: String::new(),
        hash: p.hash,
        size: p.size,
        files: 1,
        updated,
    }
}
