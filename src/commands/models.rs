//! `git mlv models`: every artifact with its versions, stages and commits, as `gto show`
//! reads the same tags.

use crate::project::Project;
use crate::registry::Registry;
use crate::repo::Repo;
use crate::ui::Ui;
use std::collections::BTreeMap;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    let project = Project::load(repo.root())?;
    let reg = Registry::load(&repo.git)?;
    let mut names: Vec<&str> = reg.names();
    names.extend(project.artifacts.keys().map(String::as_str));
    names.sort();
    names.dedup();
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
                "latest": versions.first().map(|v| v.version.clone()),
                "versions": versions,
                "stages": stages,
            })
        })
        .collect();
    if ui.json {
        return Ok(ui.print_json(&serde_json::json!({ "models": models }))?);
    }
    if models.is_empty() {
        ui.info("no artifacts: declare one in `mlv.toml` (`[artifacts.model] path = \"model.pkl\"`) and `git mlv register` it");
    }
    let text = |v: &serde_json::Value| v.as_str().unwrap_or("-").to_string();
    for m in &models {
        let mut line = format!("{}  latest {}", text(&m["name"]), text(&m["latest"]));
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
