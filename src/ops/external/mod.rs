//! Another repository's tracked data at a revision, without cloning it: which pointers it
//! tracks there and which remote holds their data. [`super::read::Reader`] reads through
//! it (`get`, `import`, `update` and the Python package all come there).
//!
//! A local path is read in place (its work tree, or a commit with `rev`). A git URL
//! (`file://`, `https://`, ssh) is fetched one commit deep into a bare repository under
//! the user's cache folder, keyed by the URL (`$XDG_CACHE_HOME/git-mlv/repos/<key>`), and
//! read from there: only the tree of that commit crosses the network. The data itself comes
//! from the source's remote as its committed `.mlv/config.toml` names it. The source's
//! remote gets no settings from this repository: its credentials come from the environment
//! (`AWS_*`, `AWS_PROFILE` and the AWS files, `GOOGLE_*`, `AZURE_*`), never from this
//! repository's `config.local.toml`, whose remote names mean other servers. A repository
//! opened with [`External::in_repo`] is "this repository" instead: its own remotes, with
//! its local settings, as `git mlv fetch` uses them.

mod open;

pub use open::is_url;

use super::engine;
use crate::config::Config;
use crate::repo::{Repo, Tracked};
use crate::transfer::Engine;
use std::path::{Path, PathBuf};

/// Another repository, opened at one revision (or its work tree).
pub struct External {
    url: String,
    rev: Option<String>,
    commit: Option<String>,
    /// Where a relative folder remote of the source is taken from.
    root: PathBuf,
    /// Where this machine keeps what it holds for the source: its copies of the source
    /// remotes' pack indexes, and for a URL the bare repository.
    state: PathBuf,
    config: Config,
    tracked: Vec<Tracked>,
    /// Opened by [`External::in_repo`]: this repository, whose remotes are its own.
    this: bool,
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

    /// The repository's root folder (for a URL not on this machine, its bare cache repository).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// True when this is the repository the caller works in ([`External::in_repo`]).
    pub fn is_this(&self) -> bool {
        self.this
    }

    /// The folder this machine keeps for a source opened by URL (the bare repository).
    pub fn state(&self) -> &Path {
        &self.state
    }

    /// The engine for the source's remote `remote` (default: its default remote), with its
    /// name, and a folder remote's folder; for this repository, as `git mlv fetch` opens it.
    pub fn engine(
        &self,
        remote: Option<&str>,
    ) -> anyhow::Result<(String, Engine, Option<PathBuf>)> {
        if self.this {
            let repo = Repo::open(&self.root)?;
            let (name, engine) = engine::engine(&repo, remote, None)?;
            let (_, config) = repo.config.remote(Some(&name))?;
            let folder = crate::remote::folder(&config.url, repo.root());
            return Ok((name, engine, folder));
        }
        let (name, config) = self.config.remote(remote).map_err(|e| {
            anyhow::Error::from(e).context(format!("the source `{}`{}", self.url, self.at()))
        })?;
        let state = self
            .state
            .join("remotes")
            .join(crate::config::remote_state_folder(&name));
        let engine = engine::engine_for(&name, config, &self.root, &state, None)?;
        let folder = crate::remote::folder(&config.url, &self.root);
        Ok((name, engine, folder))
    }

    /// ` at `<rev>`` for messages, nothing for a work tree.
    pub fn at(&self) -> String {
        self.rev
            .as_deref()
            .map_or(String::new(), |r| format!(" at `{r}`"))
    }
}
