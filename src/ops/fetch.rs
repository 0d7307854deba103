//! Fetching: download into the cache what the selected tracked data needs; the work tree
//! is not touched. `fetch` runs it, `pull` before its checkout, `deploy` for an artifact
//! the cache lacks. Imported data this repository's remote lacks (pushed without
//! `--include-imports`) comes from its source instead (see [`super::import::from_sources`]).

use super::engine;
use super::select::Selector;
use crate::progress::Progress;
use crate::repo::Repo;
use crate::transfer::Summary;

/// What to fetch, and from where.
pub struct Request<'a> {
    pub select: &'a Selector,
    /// The remote's name (default: the configured default remote).
    pub remote: Option<&'a str>,
    pub jobs: Option<usize>,
    /// Keep a ready copy of big objects beside the cache for the checkout that follows
    /// (see `Engine::with_ready_copies`).
    pub ready_copies: bool,
}

/// What a fetch did.
pub struct Fetched {
    /// The remote's name.
    pub remote: String,
    pub summary: Summary,
    pub seconds: f64,
    /// Imported paths that neither this remote nor their source could give, and why.
    pub imports_failed: Vec<super::import::SourceFailure>,
}

impl Fetched {
    /// An error naming every object and imported path that failed, when any did.
    pub fn failures(&self) -> anyhow::Result<()> {
        engine::failures(&self.remote, &self.summary)?;
        super::import::sources_failed(&self.imports_failed)
    }
}

/// Fetches the selection (the caller holds the cache lock).
pub fn fetch(repo: &Repo, req: &Request, progress: &dyn Progress) -> anyhow::Result<Fetched> {
    let cache = repo.cache()?;
    let mut selected = req.select.select(repo)?;
    let (name, engine) = engine::engine(repo, req.remote, req.jobs)?;
    let engine = engine.with_ready_copies(req.ready_copies);
    let started = std::time::Instant::now();
    let rt = engine::runtime()?;
    let context =
        |e: anyhow::Error| e.context(format!("fetching from remote `{name}` ({})", engine.url()));
    // Once per command: a pathspec into an uncached directory fetches manifests first.
    rt.block_on(engine.check_format(false))
        .map_err(|e| context(e.into()))?;
    let mut summary = Summary::default();
    // A path or glob inside a directory is judged against its files: get the manifests
    // first, then select again, so one that matches nothing is refused before any data moves.
    if selected
        .iter()
        .any(|(t, scope)| !scope.is_whole() && !cache.contains(&t.pointer.hash))
    {
        summary = rt
            .block_on(crate::sync::fetch_manifests(
                &cache, &engine, &selected, progress,
            ))
            .map_err(context)?;
        selected = req.select.select(repo)?;
    }
    let (imports, own): (Vec<_>, Vec<_>) = selected
        .into_iter()
        .partition(|(t, _)| t.pointer.source().is_some());
    let rest = rt.block_on(crate::sync::fetch(&cache, &engine, &own, progress));
    summary.merge(rest.map_err(context)?);
    let mut imports_failed = Vec::new();
    if !imports.is_empty() {
        // Pushed with `--include-imports`, this remote holds them; what it lacks is no
        // failure yet: the source is asked for it next.
        let mut got = rt
            .block_on(crate::sync::fetch(&cache, &engine, &imports, progress))
            .map_err(context)?;
        got.failed.clear();
        summary.merge(got);
        imports_failed = super::import::from_sources(&cache, &imports, progress)?;
    }
    Ok(Fetched {
        remote: name,
        summary,
        seconds: started.elapsed().as_secs_f64(),
        imports_failed,
    })
}
