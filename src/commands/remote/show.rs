//! `git mlv remote show <name>`: every setting of one remote as the two config files give
//! it together, its URL redacted and its secrets masked.

use crate::config::SECRET_KEYS;
use crate::paths::RepoPath;
use crate::repo::Repo;
use crate::ui::Ui;

#[derive(clap::Args)]
pub struct Args {
    name: String,
}

/// Changes nothing, so returns no file to commit.
pub fn run(args: Args, repo: &Repo, ui: &Ui) -> anyhow::Result<Vec<RepoPath>> {
    let (name, remote) = repo.config.remote(Some(&args.name))?;
    let serde_json::Value::Object(all) = serde_json::to_value(remote)? else {
        anyhow::bail!("a remote's settings are a table");
    };
    let settings: serde_json::Map<String, serde_json::Value> = all
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            let shown = match (k.as_str(), v) {
                (key, _) if SECRET_KEYS.contains(&key) => "***".into(),
                ("url", serde_json::Value::String(url)) => crate::remote::redact(&url).into(),
                (_, v) => v,
            };
            (k, shown)
        })
        .collect();
    if ui.json {
        ui.print_json(&serde_json::json!({ "name": name, "settings": settings }))?;
        return Ok(Vec::new());
    }
    ui.out(&name)?;
    for (key, value) in &settings {
        let value = match value {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        ui.out(&format!("  {key} = {value}"))?;
    }
    Ok(Vec::new())
}
