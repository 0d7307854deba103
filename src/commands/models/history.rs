//! `git mlv models history <name>`: every registry event of an artifact, newest first,
//! with its time, version, stage, commit, author and message (`gto history <name>`).

use crate::commands::metrics::print_table;
use crate::project::Project;
use crate::registry::{self, Registry};
use crate::repo::Repo;
use crate::ui::Ui;

pub fn run(repo: &Repo, name: &str, ui: &Ui) -> anyhow::Result<()> {
    registry::check_name(name)?;
    let reg = Registry::load(&repo.git)?;
    if !reg.is_registered(name) && !Project::load(repo.root())?.artifacts.contains_key(name) {
        return Err(crate::problem::usage_with_hint(
            format!("no artifact `{name}` is registered or declared in `mlv.toml`"),
            "`git mlv models --deprecated` lists every artifact",
        ));
    }
    let events = reg.journal(&repo.git, name)?;
    if ui.json {
        return Ok(ui.print_json(&serde_json::json!({ "name": name, "events": events }))?);
    }
    if events.is_empty() {
        ui.info(&format!(
            "`{name}` has no registry event yet; `git mlv register {name}` registers a version"
        ));
        return Ok(());
    }
    let mut rows = vec![
        [
            "timestamp",
            "event",
            "version",
            "stage",
            "commit",
            "author",
            "message",
        ]
        .map(String::from),
    ];
    let dash = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".into());
    rows.extend(events.iter().map(|e| {
        // One line per event: the message's first line, without control characters.
        let first = e.message.lines().next().unwrap_or("");
        let message: String = first.chars().filter(|c| !c.is_control()).collect();
        [
            e.timestamp.clone(),
            e.event.to_string(),
            dash(&e.version),
            dash(&e.stage),
            e.commit.chars().take(12).collect(),
            e.author.clone(),
            message,
        ]
    }));
    print_table(ui, &rows)
}
