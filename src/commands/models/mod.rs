//! `git mlv models`: every artifact with its versions, stages and commits, as `gto show`
//! reads the same tags, and its metadata from `mlv.toml`; `models history <name>` is the
//! registry's journal of one artifact, as `gto history` lists it.

mod history;

use crate::project::Project;
use crate::registry::Registry;
use crate::repo::Repo;
use crate::ui::Ui;
use std::collections::BTreeMap;

#[derive(clap::Args)]
pub struct Args {
    /// List deprecated artifacts too (`gto show --deprecated`)
    #[arg(long)]
    pub deprecated: bool,
    #[command(subcommand)]
    pub action: Option<Action>,
}

#[derive(clap::Subcommand)]
pub enum Action {
    /// Every registry event of an artifact, newest first, as `gto history` lists them
    History {
        /// The artifact
        name: String,
    },
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    if let Some(Action::History { name }) = args.action {
        return history::run(&repo, &name, ui);
    }
    let project = Project::load(repo.root())?;
    let reg = Registry::load(&repo.git)?;
    let mut names: Vec<&str> = reg.all_names();
    names.extend(project.artifacts.keys().map(String::as_str));
    names.sort();
    names.dedup();
    // A deprecated artifact is hidden, as `gto show` hides it, even when `mlv.toml`
    // still declares it.
    let (names, hidden): (Vec<&str>, Vec<&str>) = names
        .into_iter()
        .partition(|n| args.deprecated || reg.deprecation(n).is_none());
    let models: Vec<serde_json::Value> = names
        .iter()
        .map(|name| {
            let versions: Vec<_> = reg
                .versions(name)
                .into_iter()
                .filter(|v| v.active)
                .collect();
            let stages: BTreeMap<String, _> = reg
                .stages(name)
                .into_iter()
                .map(|s| {
                    let h = reg.holder(name, &s);
                    (s, h)
                })
                .collect();
            let declared = project.artifacts.get(*name);
            serde_json::json!({
                "name": name,
                "path": declared.map(|a| a.path.as_str()),
                "type": declared.and_then(|a| a.kind.as_deref()),
                "description": declared.and_then(|a| a.description.as_deref()),
                "labels": declared.map_or(&[][..], |a| a.labels.as_slice()),
                "registered": reg.is_registered(name),
                "deprecated": reg.deprecation(name).is_some(),
                "latest": versions.first().map(|v| v.version.clone()),
                "versions": versions,
                "stages": stages,
            })
        })
        .collect();
    if ui.json {
        return Ok(ui.print_json(&serde_json::json!({ "models": models }))?);
    }
    for name in &hidden {
        if let Some(d) = reg.deprecation(name) {
            ui.info(&format!(
                "`{name}` is deprecated (tag `{}`); `git mlv models --deprecated` lists it",
                d.tag
            ));
        }
    }
    if models.is_empty() && hidden.is_empty() {
        ui.info("no artifacts: declare one in `mlv.toml` (`[artifacts.model] path = \"model.pkl\"`) and `git mlv register` it");
    }
    let text = |v: &serde_json::Value| v.as_str().unwrap_or("-").to_string();
    for m in &models {
        let mut line = format!("{}  latest {}", text(&m["name"]), text(&m["latest"]));
        if m["deprecated"] == true {
            line.push_str("  (deprecated)");
        }
        if let Some(stages) = m["stages"].as_object() {
            for (stage, h) in stages {
                line.push_str(&format!("  {stage}={}", text(&h["version"])));
            }
        }
        ui.out(&line)?;
        // Metadata, when `mlv.toml` gives any, on a line of its own.
        let labels: Vec<&str> = m["labels"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| l.as_str())
            .collect();
        let about: Vec<String> = [
            m["type"].as_str().map(|t| format!("type {t}")),
            (!labels.is_empty()).then(|| format!("labels {}", labels.join(", "))),
            m["description"].as_str().map(str::to_string),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !about.is_empty() {
            ui.out(&format!("  {}", about.join("  ")))?;
        }
        if ui.verbose {
            for v in m["versions"].as_array().into_iter().flatten() {
                ui.out(&format!(
                    "  {}  {}",
                    text(&v["version"]),
                    text(&v["commit"])
                ))?;
            }
        }
    }
    Ok(())
}
