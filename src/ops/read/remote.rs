//! A reader's remote: opened on first need, objects fetched into the cache verified, and
//! an object's URL there.

use super::Reader;
use crate::cache::Access;
use crate::hash::Hash;
use crate::ops::engine;
use crate::paths;
use crate::progress::NoProgress;
use crate::repo::Repo;
use crate::transfer::Engine;
use std::path::PathBuf;

impl Reader {
    /// The URL of the file's object on the remote (a folder remote's is its path), once
    /// the remote is seen to hold it there; an object pushed inside a pack has none.
    pub fn url(&self, path: &str) -> anyhow::Result<String> {
        let (hash, size) = self.file(path)?;
        let Remote {
            name,
            engine,
            rt,
            folder,
        } = self.engine()?;
        let missing = rt
            .block_on(engine.missing(&[(hash, Some(size))]))
            .map_err(|e| {
                anyhow::Error::from(e)
                    .context(format!("reading remote `{name}` ({})", engine.url()))
            })?;
        if !missing.is_empty() {
            return Err(crate::problem::failed_with_hint(
                format!(
                    "remote `{name}` ({}) does not hold the data of `{path}`",
                    engine.url()
                ),
                "run `git mlv push` in a clone that has it",
            ));
        }
        if let Some(at) = rt.block_on(engine.packs())?.find(&hash) {
            return Err(crate::problem::usage_with_hint(
                format!(
                    "the data of `{path}` is stored inside pack {} on remote `{name}`, so it has no URL of its own",
                    at.pack
                ),
                format!(
                    "objects up to the remote's `pack_threshold` are pushed in packs; read it with `mlv.open`, or set `git mlv remote set {name} pack_threshold 0` before pushing"
                ),
            ));
        }
        Ok(match folder {
            Some(folder) => paths::normalize(&folder.join(hash.key()))
                .display()
                .to_string(),
            None => format!("{}/{}", engine.url().trim_end_matches('/'), hash.key()),
        })
    }

    /// Downloads objects into the cache, verified, under the cache's shared lock.
    pub(super) fn fetch(&self, objects: Vec<(Hash, Option<u64>)>) -> anyhow::Result<()> {
        let Remote {
            name, engine, rt, ..
        } = self.engine()?;
        let _lock = self.cache.lock(Access::Shared, |_| {})?;
        let summary = rt.block_on(engine.download(&self.cache, objects, &NoProgress));
        engine::failures(name, &summary)
    }

    /// The remote's engine and the runtime it runs on, opened on first need; its format
    /// is checked once.
    fn engine(&self) -> anyhow::Result<&Remote> {
        if let Some(r) = self.remote_engine.get() {
            return Ok(r);
        }
        let repo = Repo::open(&self.dir)?;
        let (name, engine) = engine::engine(&repo, self.remote.as_deref(), None)?;
        let rt = engine::runtime()?;
        rt.block_on(engine.check_format(false)).map_err(|e| {
            anyhow::Error::from(e)
                .context(format!("fetching from remote `{name}` ({})", engine.url()))
        })?;
        let (_, config) = repo.config.remote(Some(&name))?;
        let folder = crate::remote::folder(&config.url, repo.root());
        let _ = self.remote_engine.set(Remote {
            name,
            engine,
            rt,
            folder,
        });
        Ok(self.remote_engine.get().expect("set above"))
    }
}

/// The remote a reader fetches from, opened once.
pub(super) struct Remote {
    name: String,
    engine: Engine,
    rt: tokio::runtime::Runtime,
    /// A folder remote's folder (its objects' URLs are paths).
    folder: Option<PathBuf>,
}
