//! A reader's remote: opened on first need, objects fetched into the cache verified, and
//! an object's URL there.

use super::Reader;
use crate::cache::Access;
use crate::hash::Hash;
use crate::ops::engine;
use crate::paths;
use crate::progress::Progress;
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
                    "objects up to a remote's `pack_threshold` (1 MiB by default) are pushed in packs: read this one with `mlv.open` or `mlv.read`; for objects that need URLs, push to a remote that never packs (`git mlv remote set <name> pack_threshold 0`, then `git mlv push -r <name>`) and pass its name as `remote` (on `{name}` the object stays in its pack)"
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

    /// Downloads objects into the cache, verified, under the cache's shared lock: the one
    /// way a reader fetches from the remote.
    pub(super) fn download(
        &self,
        objects: Vec<(Hash, Option<u64>)>,
        progress: &dyn Progress,
    ) -> anyhow::Result<()> {
        let Remote {
            name, engine, rt, ..
        } = self.engine()?;
        let _lock = self.cache.lock(Access::Shared, |_| {})?;
        progress.start(
            objects.len() as u64,
            objects.iter().filter_map(|(_, s)| *s).sum(),
        );
        let summary = rt.block_on(engine.download(&self.cache, objects, progress));
        engine::failures(name, &summary)
    }

    /// The remote's engine and the runtime it runs on, opened on first need; its format
    /// is checked once.
    fn engine(&self) -> anyhow::Result<&Remote> {
        if let Some(r) = self.remote_engine.get() {
            return Ok(r);
        }
        let source = &self.source;
        let (name, engine, folder) = source.engine(self.remote.as_deref())?;
        let rt = engine::runtime()?;
        rt.block_on(engine.check_format(false)).map_err(|e| {
            let of = match source.is_this() {
                true => String::new(),
                false => format!(" of `{}`", source.url()),
            };
            anyhow::Error::from(e).context(format!(
                "fetching from remote `{name}` ({}){of}",
                engine.url()
            ))
        })?;
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
