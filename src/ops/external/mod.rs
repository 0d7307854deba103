//! Reading data tracked in another repository without cloning it: `get`, `import`,
//! `update` and the Python package's `repo=` all come here.
//!
//! A local path is read in place (its work tree, or a commit with `rev`). A git URL
//! (`file://`, `https://`, ssh) is fetched one commit deep into a bare repository under
//! the user's cache folder, keyed by the URL (`$XDG_CACHE_HOME/git-mlv/repos/<key>`), and
//! read from there: only the tree of that commit crosses the network. The data itself comes
//! from the source's remote as its committed `.mlv/config.toml` names it, into the cache the
//! caller hands in (this repository's). The source's remote gets no settings from this
//! repository: its credentials come from the environment (`AWS_*`, `AWS_PROFILE` and the AWS
//! files, `GOOGLE_*`, `AZURE_*`), never from this repository's `config.local.toml`, whose
//! remote names mean other servers.

mod listing;
mod open;

use super::engine;
use crate::cache::{Cache, CacheError};
use crate::config::Config;
use crate::hash::Hash;
use crate::manifest::Manifest;
use crate::paths::RepoPath;
use crate::pointer::Pointer;
use crate::problem::usage_with_hint;
use crate::progress::Progress;
use crate::repo::Tracked;
use crate::transfer::Engine;
use anyhow::Context;
use std::path::PathBuf;

/// Another repository, opened at one revision (or its work tree).
pub struct External {
    url: String,
    rev: Option<String>,
    commit: Option<String>,
    /// Where a relative folder remote of the source is taken from.
    root: PathBuf,
    /// Where this machine keeps its copies of the source remotes' pack indexes.
    state: PathBuf,
    config: Config,
    tracked: Vec<Tracked>,
}

/// What a listing shows of one file or folder of tracked data.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    /// Repository-relative, `/`-separated.
    pub path: String,
    pub size: u64,
    /// The file's object; a tracked folder's manifest; `None` for a folder inside one.
    pub hash: Option<Hash>,
    /// `"file"` or `"directory"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
}

impl External {
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The revision as given (`HEAD` for a URL opened without one).
    pub fn rev(&self) -> Option<&str> {
        self.rev.as_deref()
    }

    /// The commit read, `None` for a work tree.
    pub fn commit(&self) -> Option<&str> {
        self.commit.as_deref()
    }

    /// The tracked paths, sorted.
    pub fn tracked(&self) -> &[Tracked] {
        &self.tracked
    }

    /// The pointer for `path`: a tracked path (its hash, size and file count), or a file or
    /// folder inside a tracked folder (a folder gets a manifest of its own, put in `cache`).
    /// The tracked folder's manifest is fetched when `cache` lacks it. A path that is not
    /// tracked there is a usage error (exit 2).
    pub fn pointer(
        &self,
        cache: &Cache,
        path: &str,
        remote: Option<&str>,
        progress: &dyn Progress,
    ) -> anyhow::Result<Pointer> {
        let path = path.trim_start_matches("./").trim_end_matches('/');
        let not_tracked = || {
            usage_with_hint(
                format!("`{path}` is not tracked in `{}`{}", self.url, self.at()),
                "give the path of data it tracks (a `<path>.mlv` pointer there), or a file or folder inside it",
            )
        };
        if !crate::paths::is_safe_relative(path) {
            return Err(not_tracked());
        }
        let Some(t) = self
            .tracked
            .iter()
            .find(|t| t.path.as_str() == path || RepoPath::new(path).starts_with(&t.path))
        else {
            return Err(not_tracked());
        };
        if t.path.as_str() == path {
            return Ok(match t.pointer.files {
                Some(files) => Pointer::dir(t.pointer.hash, t.pointer.size, files),
                None => Pointer::file(t.pointer.hash, t.pointer.size),
            });
        }
        let inner = RepoPath::new(path)
            .strip_prefix(&t.path)
            .unwrap_or_default()
            .to_string();
        let manifest = self.manifest(cache, t, remote, progress)?;
        if let Some(e) = manifest.get(&inner) {
            return Ok(Pointer::file(e.hash, e.size));
        }
        let prefix = format!("{inner}/");
        let below: Vec<_> = manifest
            .entries()
            .iter()
            .filter_map(|e| {
                let rel = e.path.strip_prefix(&prefix)?;
                Some(crate::manifest::Entry {
                    path: rel.to_string(),
                    ..e.clone()
                })
            })
            .collect();
        if below.is_empty() {
            return Err(not_tracked());
        }
        let sub = Manifest::new(below);
        let hash = cache.insert_bytes(&sub.to_bytes())?;
        Ok(Pointer::dir(
            hash,
            sub.total_size(),
            sub.entries().len() as u64,
        ))
    }

    /// Makes sure `cache` holds every object of `pointer` (its manifest, for a folder, must
    /// be there already, as [`External::pointer`] leaves it), downloading from the source's
    /// remote what it lacks, each verified against its hash.
    pub fn fetch(
        &self,
        cache: &Cache,
        pointer: &Pointer,
        remote: Option<&str>,
        progress: &dyn Progress,
    ) -> anyhow::Result<()> {
        let selected = vec![(
            Tracked {
                path: RepoPath::new("source"),
                pointer: pointer.clone(),
            },
            crate::pathspec::Scope::default(),
        )];
        if want_all(cache, pointer)? {
            return Ok(());
        }
        let (name, engine) = self.engine(remote)?;
        let rt = engine::runtime()?;
        let context = |e: anyhow::Error| {
            e.context(format!(
                "fetching from remote `{name}` ({}) of `{}`",
                engine.url(),
                self.url
            ))
        };
        rt.block_on(engine.check_format(false))
            .map_err(|e| context(e.into()))?;
        let summary = rt
            .block_on(crate::sync::fetch(cache, &engine, &selected, progress))
            .map_err(context)?;
        engine::failures(&name, &summary)
    }

    /// The bytes of the tracked file `path` (a file inside a tracked folder too), from
    /// `cache`, fetched there first when it lacks them; verified against its hash.
    pub fn read(
        &self,
        cache: &Cache,
        path: &str,
        remote: Option<&str>,
        progress: &dyn Progress,
    ) -> anyhow::Result<Vec<u8>> {
        let (hash, _) = self.file(cache, path, remote, progress)?;
        Ok(cache.read_verified(&hash)?)
    }

    /// The cache object that holds the tracked file `path`, fetched first when missing, and
    /// its size: for streaming reads (the object is read-only and immutable).
    pub fn file(
        &self,
        cache: &Cache,
        path: &str,
        remote: Option<&str>,
        progress: &dyn Progress,
    ) -> anyhow::Result<(Hash, u64)> {
        let pointer = self.pointer(cache, path, remote, progress)?;
        if pointer.is_dir() {
            return Err(usage_with_hint(
                format!("`{path}` is a folder in `{}`{}", self.url, self.at()),
                "read a file inside it, or list it",
            ));
        }
        self.fetch(cache, &pointer, remote, progress)?;
        Ok((pointer.hash, pointer.size))
    }

    /// The URL of the object `hash` on the source's remote (its loose-object key; an
    /// object pushed inside a pack is read from that pack instead).
    pub fn object_url(&self, hash: &Hash, remote: Option<&str>) -> anyhow::Result<String> {
        let (name, config) = self.config.remote(remote)?;
        crate::remote::check(&name, config, &self.root)?;
        let base = match crate::remote::folder(&config.url, &self.root) {
            Some(dir) => format!("file://{}", dir.display()),
            None => crate::remote::redact(&config.url),
        };
        Ok(format!("{}/{}", base.trim_end_matches('/'), hash.key()))
    }

    fn engine(&self, remote: Option<&str>) -> anyhow::Result<(String, Engine)> {
        let (name, config) = self.config.remote(remote).map_err(|e| {
            anyhow::Error::from(e).context(format!("the source `{}`{}", self.url, self.at()))
        })?;
        let state = self.state.join("remotes").join(&name);
        let engine = engine::engine_for(&name, config, &self.root, &state, None)?;
        Ok((name, engine))
    }

    fn manifest(
        &self,
        cache: &Cache,
        t: &Tracked,
        remote: Option<&str>,
        progress: &dyn Progress,
    ) -> anyhow::Result<Manifest> {
        let bytes = match cache.read_verified(&t.pointer.hash) {
            Ok(b) => b,
            Err(CacheError::Missing { .. }) => {
                let (name, engine) = self.engine(remote)?;
                let rt = engine::runtime()?;
                rt.block_on(engine.check_format(false))?;
                let selected = vec![(t.clone(), crate::pathspec::Scope::default())];
                let summary = rt.block_on(crate::sync::fetch_manifests(
                    cache, &engine, &selected, progress,
                ))?;
                engine::failures(&name, &summary)?;
                cache.read_verified(&t.pointer.hash)?
            }
            Err(e) => return Err(e.into()),
        };
        Manifest::from_bytes(&bytes, &t.pointer.hash)
            .with_context(|| format!("the manifest of `{}` in `{}`", t.path, self.url))
    }

    /// ` at `<rev>`` for messages, nothing for a work tree.
    fn at(&self) -> String {
        self.rev
            .as_deref()
            .map_or(String::new(), |r| format!(" at `{r}`"))
    }
}

/// True when `cache` already holds every object of `pointer`.
fn want_all(cache: &Cache, pointer: &Pointer) -> anyhow::Result<bool> {
    if !pointer.is_dir() {
        return Ok(cache.contains(&pointer.hash));
    }
    let Ok(bytes) = cache.read_verified(&pointer.hash) else {
        return Ok(false);
    };
    let manifest = Manifest::from_bytes(&bytes, &pointer.hash)?;
    Ok(manifest.entries().iter().all(|e| cache.contains(&e.hash)))
}
