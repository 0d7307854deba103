//! `git mlv push`: upload the objects tracked data needs and the remote lacks.

use super::common::{self, TransferArgs};
use crate::repo::Repo;
use crate::ui::Ui;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub transfer: TransferArgs,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    let cache = repo.cache()?;
    let selected = args.transfer.select(&repo)?;
    let (name, engine) =
        common::engine(&repo, args.transfer.remote.as_deref(), args.transfer.jobs)?;
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
        ui.print_json(&v)?;
    } else {
        common::summary_line(ui, "pushed", &report.summary, seconds);
    }
    common::failures(&name, &report.summary)?;
    if !report.not_in_cache.is_empty() {
        return Err(crate::error::CliError::Silent(1).into());
    }
    Ok(())
}
