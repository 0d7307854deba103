//! `git mlv models`: every artifact with its versions, stages and commits, as `gto show`
//! reads the same tags.

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
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
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
            serde_json::json!({
                "name": name,
                "path": project.artifacts.get(*name).map(|a| a.path.as_str()),
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
