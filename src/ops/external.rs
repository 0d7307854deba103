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

use super::engine;
use crate::cache::{Cache, CacheError};
use crate::config::Config;
use crate::gitx::{FetchFailure, GitRepo};
use crate::hash::Hash;
use crate::manifest::Manifest;
use crate::paths::RepoPath;
use crate::pointer::Pointer;
use crate::problem::{failed_with_hint, usage_with_hint};
use crate::progress::Progress;
use crate::repo::Tracked;
use crate::transfer::Engine;
use anyhow::Context;
use std::path::{Path, PathBuf};

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
        if repo.contains("://") || crate::remote::is_scp_like(repo) {
            Self::open_url(repo, rev)
        } else {
            Self::open_path(repo, rev)
        }
    }

    fn open_path(repo: &str, rev: Option<&str>) -> anyhow::Result<External> {
        let (layout, git) = crate::gitx::discover(Path::new(repo))?;
        let root = layout.workdir;
        let state = cache_home()?.join(key(&root.display().to_string()));
        let Some(rev) = rev else {
            let config = Config::load(&root)?;
            let tracked = crate::repo::tracked_in(&root)?;
            return Ok(External {
                url: repo.to_string(),
                rev: None,
                commit: None,
                root,
                state,
                config,
                tracked,
            });
        };
        let commit = git.resolve_commit(rev)?;
        Self::at_commit(repo, rev, commit, &git, root, state)
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
        })
    }

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

    /// The files and folders at or below `path` (`""` or `.`: everything), recursing into
    /// tracked folders' manifests (fetched when missing); `recursive` lists files at any
    /// depth, else the direct children of `path` (or `path` itself when it is a file).
    pub fn ls(
        &self,
        cache: &Cache,
        path: &str,
        recursive: bool,
        remote: Option<&str>,
        progress: &dyn Progress,
    ) -> anyhow::Result<Vec<Entry>> {
        let base = path.trim_start_matches("./").trim_end_matches('/');
        let base = if base == "." { "" } else { base };
        let mut files: Vec<Entry> = Vec::new();
        for t in &self.tracked {
            let inside = base.is_empty() || t.path.starts_with(&RepoPath::new(base));
            let holds = !base.is_empty() && RepoPath::new(base).starts_with(&t.path);
            if !(inside || holds) {
                continue;
            }
            if !t.pointer.is_dir() {
                files.push(file_entry(
                    t.path.to_string(),
                    t.pointer.size,
                    t.pointer.hash,
                ));
                continue;
            }
            let manifest = self.manifest(cache, t, remote, progress)?;
            for e in manifest.entries() {
                files.push(file_entry(format!("{}/{}", t.path, e.path), e.size, e.hash));
            }
        }
        let under = |p: &str| base.is_empty() || p == base || p.starts_with(&format!("{base}/"));
        files.retain(|e| under(&e.path));
        if files.is_empty() {
            return Err(usage_with_hint(
                format!("`{base}` is not tracked in `{}`{}", self.url, self.at()),
                "list the root (`.`) to see what it tracks",
            ));
        }
        if recursive || files.iter().any(|e| e.path == base) {
            return Ok(files);
        }
        Ok(children(&self.tracked, base, files))
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

fn file_entry(path: String, size: u64, hash: Hash) -> Entry {
    Entry {
        path,
        size,
        hash: Some(hash),
        kind: "file",
    }
}

/// The direct children of `base` among `files` (all below it): files as they are, folders
/// once each with the total size below them (a tracked folder with its manifest's hash).
fn children(tracked: &[Tracked], base: &str, files: Vec<Entry>) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    for f in files {
        let rel = if base.is_empty() {
            f.path.as_str()
        } else {
            &f.path[base.len() + 1..]
        };
        let Some((first, _)) = rel.split_once('/') else {
            out.push(f);
            continue;
        };
        let dir = if base.is_empty() {
            first.to_string()
        } else {
            format!("{base}/{first}")
        };
        match out.iter_mut().find(|e| e.path == dir) {
            Some(e) => e.size += f.size,
            None => out.push(Entry {
                hash: tracked
                    .iter()
                    .find(|t| t.path.as_str() == dir)
                    .map(|t| t.pointer.hash),
                path: dir,
                size: f.size,
                kind: "directory",
            }),
        }
    }
    out
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
