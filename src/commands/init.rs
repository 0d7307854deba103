//! `git mlv init`: the `.mlv/` folder with the team config and its ignore entry.

use crate::config;
use crate::repo::Repo;
use crate::ui::Ui;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    let created = crate::ops::init::ensure(&repo)?;
    if !created.is_empty() {
        ui.info("initialized git-mlv: created `.mlv/config.toml`");
        super::common::hint_git_add(&repo, ui, &created);
    } else {
        ui.info("git-mlv is already initialized here");
    }
    if ui.json {
        ui.print_json(&serde_json::json!({
            "created": !created.is_empty(),
            "config": format!("{}/{}", config::DIR, config::FILE),
            "cache": repo.cache()?.root(),
        }))?;
    }
    Ok(())
}
