//! `git mlv remote default <name>`: the remote transfers use when none is named.

use super::shared::{file, set_default, shown, team};
use crate::config;
use crate::error::usage;
use crate::paths::RepoPath;
use crate::repo::Repo;
use crate::ui::Ui;

#[derive(clap::Args)]
pub struct Args {
    name: String,
    #[arg(long)]
    local: bool,
}

/// Returns the committed files it changed.
pub fn run(args: Args, repo: &Repo, ui: &Ui) -> anyhow::Result<Vec<RepoPath>> {
    let Args { name, local } = args;
    if !repo.config.remotes.contains_key(&name) {
        return Err(usage(format!(
            "there is no remote named `{name}`\nhint: `git mlv remote list` shows the configured remotes"
        )));
    }
    let changed = config::edit(&file(repo, local), |doc| {
        set_default(doc, &name);
        Ok(())
    })?;
    ui.info(&format!("`{name}` is now the default remote"));
    if ui.json {
        ui.print_json(&serde_json::json!({ "default": name, "file": shown(local) }))?;
    }
    Ok(team(changed, local).into_iter().collect())
}
