//! `git mlv exp remove <name>…`: forget experiments (refs, records, logs, worktrees).

use crate::repo::Repo;
use crate::ui::Ui;

#[derive(clap::Args)]
pub struct Args {
    /// The experiments (names, or `refs/mlv/exps/<name>`)
    #[arg(required = true)]
    pub names: Vec<String>,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    // All are checked before any is removed, so a typo removes nothing.
    for name in &args.names {
        crate::ops::exp::check_removable(&repo, name)?;
    }
    for name in &args.names {
        crate::ops::exp::remove(&repo, name)?;
        ui.info(&format!("removed experiment `{name}`"));
    }
    if ui.json {
        ui.print_json(&serde_json::json!({ "removed": args.names }))?;
    }
    Ok(())
}
