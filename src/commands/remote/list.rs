//! `git mlv remote list`: the configured remotes, their URLs redacted.

use crate::paths::RepoPath;
use crate::repo::Repo;
use crate::ui::Ui;

/// Changes nothing, so returns no file to commit.
pub fn run(repo: &Repo, ui: &Ui) -> anyhow::Result<Vec<RepoPath>> {
    for no_url in repo.config.incomplete.values() {
        ui.warn(&no_url.why);
    }
    let default = repo.config.core.remote.clone();
    if ui.json {
        let list: Vec<_> = repo
            .config
            .remotes
            .iter()
            .map(|(n, r)| {
                serde_json::json!({
                    "name": n, "url": crate::remote::redact(&r.url), "endpoint": r.endpoint,
                    "region": r.region, "default": default.as_deref() == Some(n.as_str()),
                })
            })
            .collect();
        ui.print_json(&serde_json::json!({ "remotes": list }))?;
    } else {
        for (n, r) in &repo.config.remotes {
            let mark = if default.as_deref() == Some(n.as_str()) {
                " (default)"
            } else {
                ""
            };
            let endpoint = r
                .endpoint
                .as_ref()
                .map(|e| format!("  endpoint={e}"))
                .unwrap_or_default();
            ui.out(&format!(
                "{n}\t{}{endpoint}{mark}",
                crate::remote::redact(&r.url)
            ))?;
        }
    }
    Ok(Vec::new())
}
