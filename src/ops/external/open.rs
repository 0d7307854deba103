//! Opening another repository: a local path in place, or a git URL fetched one commit deep
//! into a bare repository under the user's cache folder, keyed by the URL.

use super::External;
use crate::config::Config;
use crate::gitx::{FetchFailure, GitRepo};
use crate::hash::Hash;
use crate::problem::{failed_with_hint, usage_with_hint};
use crate::repo::Repo;
use std::path::{Path, PathBuf};

impl External {
    /// Opens `repo` (a local path or a git URL) at `rev`: a branch, tag or commit; `None`
    /// is a local path's work tree, or a URL's default branch (`HEAD`).
    pub fn open(repo: &str, rev: Option<&str>) -> anyhow::Result<External> {
        for (what, s) in [("repository URL", Some(repo)), ("revision", rev)] {
            if s.is_some_and(|s| s.starts_with('-') || s.is_empty()) {
                return Err(usage_with_hint(
                    format!("`{}` is not a {what}", s.unwrap_or_default()),
                    "give a git URL or path and a branch, tag or commit",
                ));
            }
        }
        if is_url(repo) {
            Self::open_url(repo, rev)
        } else {
            Self::open_path(repo, rev)
        }
    }

    fn open_path(repo: &str, rev: Option<&str>) -> anyhow::Result<External> {
        let (layout, git) = crate::gitx::discover(Path::new(repo))?;
        // Recorded as the repository's absolute root: a path as typed means another
        // folder from anywhere else (`update`, `pull` in a clone run elsewhere).
        let root = fs_err::canonicalize(&layout.workdir)?;
        let url = root.display().to_string();
        let state = cache_home()?.join(key(&root.display().to_string()));
        let Some(rev) = rev else {
            // Committed settings only: the source's `config.local.toml` holds its machine's
            // credentials, which are not ours to use.
            let config = Config::load_committed(&root)?;
            let tracked = crate::repo::tracked_in(&root)?;
            return Ok(External {
                url,
                rev: None,
                commit: None,
                root,
                state,
                config,
                tracked,
                this: false,
            });
        };
        let commit = git.resolve_commit(rev)?;
        Self::at_commit(&url, rev, commit, &git, root, state)
    }

    fn open_url(url: &str, rev: Option<&str>) -> anyhow::Result<External> {
        let dir = cache_home()?.join(key(url));
        let git = GitRepo::open_bare(&dir)?;
        let rev = rev.unwrap_or("HEAD");
        // A commit id already here needs no round trip: a commit never changes.
        let known = (rev.len() == 40 && rev.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| git.resolve_commit(rev).ok())
            .flatten();
        let commit = match known {
            Some(c) => c,
            None => git.fetch_shallow(url, rev).map_err(|e| match e {
                FetchFailure::NoRevision(said) => usage_with_hint(
                    format!("`{rev}` is not a branch, tag or commit of `{url}`: {said}"),
                    format!("`git ls-remote {url}` lists its branches and tags"),
                ),
                FetchFailure::NoRepository(said) => usage_with_hint(
                    format!("`{url}` is not a git repository that can be read: {said}"),
                    "check the URL (and that you may read it: `git ls-remote <url>`)",
                ),
                FetchFailure::Other(e) => {
                    anyhow::Error::from(e).context(format!("reading the repository at `{url}`"))
                }
            })?,
        };
        let root = url::Url::parse(url)
            .ok()
            .filter(|u| u.scheme() == "file")
            .and_then(|u| u.to_file_path().ok())
            .unwrap_or_else(|| dir.clone());
        Self::at_commit(url, rev, commit, &git, root, dir)
    }

    fn at_commit(
        url: &str,
        rev: &str,
        commit: String,
        git: &GitRepo,
        root: PathBuf,
        state: PathBuf,
    ) -> anyhow::Result<External> {
        let file = format!("{}/{}", crate::config::DIR, crate::config::FILE);
        let config = match git.file_at(&commit, &file)? {
            Some(bytes) => Config::parse_committed(
                &String::from_utf8_lossy(&bytes),
                Path::new(&format!("{url} at {rev}: {file}")),
            )?,
            None => Config::default(),
        };
        let tracked = crate::repo::tracked_committed(git, &commit)?;
        Ok(External {
            url: url.to_string(),
            rev: Some(rev.to_string()),
            commit: Some(commit),
            root,
            state,
            config,
            tracked,
            this: false,
        })
    }

    /// This repository at `rev` (registry references such as `model#prod` too), pinned to
    /// its commit so a branch that moves meanwhile changes nothing read; `None` is the
    /// pointer files in its work tree, as `git mlv ls` reads them. Its data comes from its
    /// own remotes.
    pub fn in_repo(repo: &Repo, rev: Option<&str>) -> anyhow::Result<External> {
        let commit = match rev {
            Some(r) => Some(repo.git.resolve_commit(&repo.rev(r)?)?),
            None => None,
        };
        let tracked = repo.tracked_at(commit.as_deref())?;
        let root = repo.root().to_path_buf();
        Ok(External {
            url: root.display().to_string(),
            rev: rev.map(str::to_owned),
            commit,
            state: repo.state_dir(),
            root,
            config: repo.config.clone(),
            tracked,
            this: true,
        })
    }
}

pub use crate::remote::is_url;

/// The user's cache folder for git-mlv (`$XDG_CACHE_HOME/git-mlv`, else `~/.cache/git-mlv`).
fn cache_home() -> anyhow::Result<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .ok_or_else(|| {
            failed_with_hint(
                "neither `XDG_CACHE_HOME` nor `HOME` is set, so there is no cache folder for other repositories",
                "set `XDG_CACHE_HOME` to a folder git-mlv may write",
            )
        })?;
    Ok(base.join("git-mlv").join("repos"))
}

/// The folder name for a source: a short hash of its URL or path.
fn key(source: &str) -> String {
    Hash::of(source.as_bytes()).hex()[..24].to_string()
}
