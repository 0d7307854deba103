//! `git mlv remote add <name> <url>`: a new remote, checked before it is written.

use super::shared::{check_name, check_url, file, remote_table, set_default, shown, team};
use crate::config;
use crate::error::usage;
use crate::paths::RepoPath;
use crate::repo::Repo;
use crate::ui::Ui;
use toml_edit::value;

#[derive(clap::Args)]
pub struct Args {
    name: String,
    url: String,
    /// S3-compatible endpoint URL (path-style addressing becomes the default)
    #[arg(long)]
    endpoint: Option<String>,
    #[arg(long)]
    region: Option<String>,
    /// Address buckets in the path, not the host name
    #[arg(long)]
    path_style: bool,
    /// Make it the default remote (`-d`, as `dvc remote add -d`)
    #[arg(short = 'd', long)]
    default: bool,
    /// Write to `.mlv/config.local.toml` (this machine only) instead of the team config
    #[arg(long)]
    local: bool,
}

/// Returns the committed files it changed.
pub fn run(args: Args, repo: &Repo, ui: &Ui) -> anyhow::Result<Vec<RepoPath>> {
    let Args {
        name,
        url,
        endpoint,
        region,
        path_style,
        default,
        local,
    } = args;
    let mut to_stage = Vec::new();
    check_name(&name)?;
    if repo.config.remotes.contains_key(&name) {
        return Err(usage(format!(
            "remote `{name}` already exists\nhint: change it with `git mlv remote set {name} url <url>`"
        )));
    }
    check_url(
        &name,
        &url,
        local,
        &format!("git mlv remote add {name} <url>"),
    )?;
    repo.check_remote_folder(&name, &url)?;
    let remote = config::RemoteConfig {
        url: url.clone(),
        endpoint: endpoint.clone(),
        region: region.clone(),
        ..Default::default()
    };
    crate::remote::check(&name, &remote, repo.root())?;
    to_stage.extend(crate::ops::init::ensure(repo)?);
    let changed = config::edit(&file(repo, local), |doc| {
        let t = remote_table(doc, &name);
        t.insert("url", value(url.as_str()));
        if let Some(e) = &endpoint {
            t.insert("endpoint", value(e.as_str()));
        }
        if let Some(r) = &region {
            t.insert("region", value(r.as_str()));
        }
        if path_style {
            t.insert("path_style", value(true));
        }
        if default {
            set_default(doc, &name);
        }
        Ok(())
    })?;
    to_stage.extend(team(changed, local));
    let redacted = crate::remote::redact(&url);
    ui.info(&format!(
        "added remote `{name}` at `{redacted}`{}",
        if default { " (default)" } else { "" }
    ));
    if ui.json {
        ui.print_json(&serde_json::json!({
            "added": name, "url": redacted, "default": default, "file": shown(local),
        }))?;
    }
    Ok(to_stage)
}
