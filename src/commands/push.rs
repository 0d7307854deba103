//! `git mlv push`: upload the objects tracked data needs and the remote lacks.

use super::common::{self, TransferArgs};
use crate::repo::Repo;
use crate::ui::Ui;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub transfer: TransferArgs,
    /// Also upload data imported from other repositories or URLs (by default their
    /// sources hold it, and pull and fetch get it from there)
    #[arg(long)]
    pub include_imports: bool,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    let cache = repo.cache()?;
    let mut selected = args.transfer.select(&repo)?;
    let mut skipped = Vec::new();
    if !args.include_imports {
        (selected, skipped) = crate::ops::import::without_imports(selected);
    }
    let (name, engine) =
        common::engine(&repo, args.transfer.remote.as_deref(), args.transfer.jobs)?;
    common::check_writable(&repo, &name, "a push")?;
    let started = std::time::Instant::now();
    let bar = ui.bar("pushing");
    let report = common::runtime()?.block_on(crate::sync::push(&cache, &engine, &selected, &bar));
    drop(bar);
    let report = report
        .map_err(|e| e.context(format!("pushing to remote `{name}` ({})", engine.url())))
        .inspect_err(|e| common::json_error(ui, e))?;
    if !report.not_in_cache.is_empty() {
        ui.warn(&format!(
            "not pushed, because the cache lacks their data: {}\nhint: `git mlv add` or `git mlv fetch` them first",
            report.not_in_cache.join(", ")
        ));
    }
    let seconds = started.elapsed().as_secs_f64();
    if ui.json {
        let mut v = common::summary_json(&name, &report.summary, seconds)?;
        v["not_in_cache"] = serde_json::json!(report.not_in_cache);
        v["imports_skipped"] = serde_json::json!(skipped);
        ui.print_json(&v)?;
    } else {
        common::summary_line(ui, "pushed", &report.summary, seconds);
        if !skipped.is_empty() {
            ui.info(&format!(
                "not pushed: {} imported from elsewhere, which its source holds (`--include-imports` pushes it)",
                skipped.join(", ")
            ));
        }
    }
    common::failures(&name, &report.summary)?;
    if !report.not_in_cache.is_empty() {
        return Err(crate::error::CliError::Silent(1).into());
    }
    Ok(())
}
