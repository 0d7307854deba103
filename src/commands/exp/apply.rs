//! `git mlv exp apply <name>`: the experiment's params, pointers and mlv.lock into the work
//! tree (unstaged), its data checked out; refused over unsaved work as `checkout` is.

use crate::cache::Access;
use crate::ops::{checkout, exp};
use crate::repo::Repo;
use crate::ui::Ui;

#[derive(clap::Args)]
pub struct Args {
    /// The experiment (its name, or `refs/mlv/exps/<name>`)
    pub name: String,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    let _cache_lock = crate::commands::common::lock_cache(&repo.cache()?, Access::Shared, ui)?;
    let applied = exp::apply::apply(&repo, &args.name, ui)?;
    if ui.json {
        ui.print_json(&serde_json::json!({
            "experiment": args.name,
            "files": applied.files,
            "summary": applied.summary,
            "missing_from_cache": applied.missing,
        }))?;
    } else {
        super::super::checkout::summary_line(ui, &applied.summary, &applied.missing);
        ui.info(&format!(
            "applied experiment `{}`: {} changed in the work tree (not staged)",
            args.name,
            crate::ui::count(applied.files.len() as u64, "file")
        ));
        ui.hint("`git diff` shows the change; commit it to keep it");
    }
    checkout::missing_error(&repo, &applied.missing)
}
