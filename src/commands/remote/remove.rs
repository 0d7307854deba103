//! `git mlv remote remove <name>`: the remote goes from both config files, and so does
//! the default when it named it.

use super::shared::{file, known, team};
use crate::config;
use crate::error::usage;
use crate::paths::RepoPath;
use crate::repo::Repo;
use crate::ui::Ui;
use toml_edit::Item;

#[derive(clap::Args)]
pub struct Args {
    name: String,
}

/// Returns the committed files it changed.
pub fn run(args: Args, repo: &Repo, ui: &Ui) -> anyhow::Result<Vec<RepoPath>> {
    let name = args.name;
    if !known(repo, &name) {
        return Err(usage(format!(
            "there is no remote named `{name}`\nhint: `git mlv remote list` shows the configured remotes"
        )));
    }
    let mut to_stage = Vec::new();
    for local in [false, true] {
        if !file(repo, local).exists() {
            continue;
        }
        let changed = config::edit(&file(repo, local), |doc| {
            if let Some(remotes) = doc.get_mut("remotes").and_then(Item::as_table_mut) {
                remotes.remove(&name);
            }
            if doc
                .get("core")
                .and_then(|c| c.get("remote"))
                .and_then(Item::as_str)
                == Some(name.as_str())
                && let Some(core) = doc.get_mut("core").and_then(Item::as_table_mut)
            {
                core.remove("remote");
            }
            Ok(())
        })?;
        to_stage.extend(team(changed, local));
    }
    ui.info(&format!("removed remote `{name}`"));
    if ui.json {
        ui.print_json(&serde_json::json!({ "removed": name }))?;
    }
    Ok(to_stage)
}
