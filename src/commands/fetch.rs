//! `git mlv fetch`: download into the cache what tracked data needs; the work tree is not touched.

use super::common::{self, TransferArgs};
use crate::cache::Access;
use crate::repo::Repo;
use crate::transfer::Summary;
use crate::ui::Ui;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub transfer: TransferArgs,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    let _cache_lock = common::lock_cache(&repo.cache()?, Access::Shared, ui)?;
    let (name, summary, seconds) =
        fetch(&repo, &args.transfer, false, ui).inspect_err(|e| common::json_error(ui, e))?;
    if ui.json {
        ui.print_json(&common::summary_json(&name, &summary, seconds)?)?;
    } else {
        common::summary_line(ui, "fetched", &summary, seconds);
    }
    common::failures(&name, &summary)
}

/// Fetches the selection (the caller holds the cache lock); shared with `pull`, which asks for `ready_copies` of big objects
/// (see `Engine::with_ready_copies`). Returns the remote's name, the summary and the
/// seconds it took.
pub fn fetch(
    repo: &Repo,
    args: &TransferArgs,
    ready_copies: bool,
    ui: &Ui,
) -> anyhow::Result<(String, crate::transfer::Summary, f64)> {
    let cache = repo.cache()?;
    let mut selected = args.select(repo)?;
    let (name, engine) = common::engine(repo, args.remote.as_deref(), args.jobs)?;
    let engine = engine.with_ready_copies(ready_copies);
    let started = std::time::Instant::now();
    let rt = common::runtime()?;
    let bar = ui.bar("fetching");
    let context =
        |e: anyhow::Error| e.context(format!("fetching from remote `{name}` ({})", engine.url()));
    let mut summary = Summary::default();
    // A path or glob inside a directory is judged against its files: get the manifests
    // first, then select again, so one that matches nothing is refused before any data moves.
    if selected
        .iter()
        .any(|(t, scope)| !scope.is_whole() && !cache.contains(&t.pointer.hash))
    {
        summary = rt
            .block_on(crate::sync::fetch_manifests(
                &cache, &engine, &selected, &bar,
            ))
            .map_err(context)?;
        selected = args.select(repo)?;
    }
    let rest = rt.block_on(crate::sync::fetch(&cache, &engine, &selected, &bar));
    drop(bar);
    summary.merge(rest.map_err(context)?);
    Ok((name, summary, started.elapsed().as_secs_f64()))
}
