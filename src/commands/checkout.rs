//! `git mlv checkout [<path>…]`: make workspace data match the pointer files.

use crate::cache::Access;
use crate::ops::checkout;
use crate::repo::Repo;
use crate::restore;
use crate::ui::{self, Ui};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub paths: super::common::PathArgs,
    /// Overwrite or remove workspace files even when their content is not in the cache
    #[arg(long)]
    pub force: bool,
    /// Use the pointers committed at this git revision (read from git; no file in the work tree changes but the data)
    #[arg(long, value_name = "REV")]
    pub rev: Option<String>,
    /// Write the data under this folder, at the same relative paths, instead of the work tree
    #[arg(long, value_name = "DIR")]
    pub to: Option<PathBuf>,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    let _cache_lock = super::common::lock_cache(&repo.cache()?, Access::Shared, ui)?;
    let request = checkout::Request {
        paths: &args.paths.paths,
        exclude: &args.paths.exclude,
        rev: args.rev.as_deref(),
        to: args.to.as_deref(),
        force: args.force,
        ready_copies: &[],
    };
    let (summary, missing) = checkout::checkout(&repo, &request, ui)?;
    if ui.json {
        ui.print_json(&serde_json::json!({ "summary": summary, "missing_from_cache": missing }))?;
    } else {
        summary_line(ui, &summary, &missing);
    }
    checkout::missing_error(&repo, &missing)
}

/// The one-line summary of a checkout for people; shared with `pull` and the hooks.
pub fn summary_line(ui: &Ui, summary: &restore::Summary, missing: &[String]) {
    if summary.written + summary.removed > 0 {
        ui.info(&format!(
            "checked out {} ({}), removed {}, {} already up to date",
            ui::count(summary.written, "file"),
            ui::size(summary.bytes),
            summary.removed,
            summary.unchanged
        ));
    } else if missing.is_empty() {
        ui.info("data already matches its pointers");
    }
}
