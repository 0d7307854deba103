//! `git mlv fetch`: download into the cache what tracked data needs; the work tree is not touched.

use super::common::{self, TransferArgs};
use crate::cache::Access;
use crate::ops;
use crate::repo::Repo;
use crate::ui::Ui;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub transfer: TransferArgs,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    let _cache_lock = common::lock_cache(&repo.cache()?, Access::Shared, ui)?;
    let select = args.transfer.selector();
    let request = args.transfer.fetch_request(&select, false);
    let fetched = ops::fetch::fetch(&repo, &request, &ui.bar("fetching"));
    let fetched = fetched.inspect_err(|e| common::json_error(ui, e))?;
    let (summary, seconds) = (&fetched.summary, fetched.seconds);
    if ui.json {
        let mut doc = common::summary_json(&fetched.remote, summary, seconds)?;
        doc["imports_failed"] = serde_json::to_value(&fetched.imports_failed)?;
        ui.print_json(&doc)?;
    } else {
        common::summary_line(ui, "fetched", summary, seconds);
    }
    fetched.failures()
}
