//! `git mlv remote add|set|list|remove|default`: where data is shared.

use crate::config::{self, SECRET_KEYS};
use crate::error::usage;
use crate::paths::RepoPath;
use crate::repo::Repo;
use crate::ui::Ui;
use clap::Subcommand;
use toml_edit::{DocumentMut, Item, Table, value};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Subcommand)]
pub enum Action {
    /// Add a remote: a folder path, file://, s3://bucket/prefix, gs://, az:// or http(s)://
    Add {
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
        /// Make it the default remote
        #[arg(long)]
        default: bool,
        /// Write to `.mlv/config.local.toml` (this machine only) instead of the team config
        #[arg(long)]
        local: bool,
    },
    /// Set one setting of a remote (url, endpoint, region, path_style, jobs, profile,
    /// instance_credentials, user, and — always in the local file — access_key_id,
    /// secret_access_key, session_token, password)
    Set {
        name: String,
        key: String,
        value: String,
        #[arg(long)]
        local: bool,
    },
    /// List the remotes
    List,
    /// Remove a remote
    Remove { name: String },
    /// Make a remote the default
    Default {
        name: String,
        #[arg(long)]
        local: bool,
    },
}

const KEYS: [&str; 12] = [
    "url",
    "endpoint",
    "region",
    "path_style",
    "jobs",
    "profile",
    "instance_credentials",
    "user",
    "access_key_id",
    "secret_access_key",
    "session_token",
    "password",
];

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    let file = |local: bool| {
        repo.root().join(config::DIR).join(if local {
            config::LOCAL_FILE
        } else {
            config::FILE
        })
    };
    let shown = |local: bool| {
        format!(
            "{}/{}",
            config::DIR,
            if local {
                config::LOCAL_FILE
            } else {
                config::FILE
            }
        )
    };
    // Committed files changed (the team config, what an implicit init created), for the
    // closing `git add` hint: a remote reaches teammates and CI only once committed.
    let mut to_stage: Vec<RepoPath> = Vec::new();
    let team = |changed: bool, local: bool| {
        (changed && !local).then(|| RepoPath::new(format!("{}/{}", config::DIR, config::FILE)))
    };
    // A remote left without a `url` can still be fixed or removed.
    let known = |name: &str| {
        repo.config.remotes.contains_key(name) || repo.config.incomplete.contains_key(name)
    };
    match args.action {
        Action::Add {
            name,
            url,
            endpoint,
            region,
            path_style,
            default,
            local,
        } => {
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
            to_stage.extend(crate::ops::init::ensure(&repo)?);
            let changed = config::edit(&file(local), |doc| {
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
        }
        Action::Set {
            name,
            key,
            value: val,
            local,
        } => {
            if !known(&name) {
                return Err(usage(format!(
                    "there is no remote named `{name}`\nhint: add it with `git mlv remote add {name} <url>`"
                )));
            }
            if !KEYS.contains(&key.as_str()) {
                return Err(usage(format!(
                    "`{key}` is not a remote setting; use one of: {}",
                    KEYS.join(", ")
                )));
            }
            if key == "url" {
                // The same checks as `remote add`, before anything is written.
                check_url(
                    &name,
                    &val,
                    local,
                    &format!("git mlv remote set {name} url <url>"),
                )?;
                repo.check_remote_folder(&name, &val)?;
            }
            let secret = SECRET_KEYS.contains(&key.as_str());
            let item = match key.as_str() {
                "path_style" | "instance_credentials" => value(
                    val.parse::<bool>()
                        .map_err(|_| usage(format!("`{key}` takes true or false")))?,
                ),
                "jobs" => value(
                    val.parse::<i64>()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| usage("`jobs` takes a positive number"))?,
                ),
                _ => value(val.as_str()),
            };
            let changed = config::edit(&file(local || secret), |doc| {
                remote_table(doc, &name).insert(&key, item);
                Ok(())
            })?;
            to_stage.extend(team(changed, local || secret));
            if secret {
                ui.info(&format!("set `{key}` of remote `{name}` in `.mlv/config.local.toml` (credentials never go to the committed config)"));
            } else {
                ui.info(&format!("set `{key}` of remote `{name}`"));
            }
            if ui.json {
                ui.print_json(&serde_json::json!({
                    "remote": name, "set": key, "file": shown(local || secret),
                }))?;
            }
        }
        Action::List => {
            for why in repo.config.incomplete.values() {
                ui.warn(why.lines().next().unwrap_or_default());
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
        }
        Action::Remove { name } => {
            if !known(&name) {
                return Err(usage(format!(
                    "there is no remote named `{name}`\nhint: `git mlv remote list` shows the configured remotes"
                )));
            }
            for local in [false, true] {
                if !file(local).exists() {
                    continue;
                }
                let changed = config::edit(&file(local), |doc| {
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
        }
        Action::Default { name, local } => {
            if !repo.config.remotes.contains_key(&name) {
                return Err(usage(format!(
                    "there is no remote named `{name}`\nhint: `git mlv remote list` shows the configured remotes"
                )));
            }
            let changed = config::edit(&file(local), |doc| {
                set_default(doc, &name);
                Ok(())
            })?;
            to_stage.extend(team(changed, local));
            ui.info(&format!("`{name}` is now the default remote"));
            if ui.json {
                ui.print_json(&serde_json::json!({ "default": name, "file": shown(local) }))?;
            }
        }
    }
    super::common::hint_git_add(&repo, ui, &to_stage);
    Ok(())
}

/// A URL `remote add` or `remote set … url` can write: a form git-mlv can open, and no
/// password bound for the committed config. `again` is the command to run with a fixed URL.
fn check_url(name: &str, url: &str, local: bool, again: &str) -> anyhow::Result<()> {
    if let Err(why) = crate::remote::check_url(url) {
        return Err(usage(format!(
            "the URL `{}` given for remote `{name}` {why}\nhint: a remote is {}; run `{again}` with one of those",
            crate::remote::redact(url),
            crate::remote::URL_FORMS
        )));
    }
    if !local && url::Url::parse(url).is_ok_and(|u| u.password().is_some()) {
        return Err(usage(format!(
            "the URL of `{name}` holds a password, which must not reach the committed config\nhint: use `--local`, or set `user`/`password` with `git mlv remote set --local {name}`"
        )));
    }
    Ok(())
}

fn check_name(name: &str) -> anyhow::Result<()> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(usage(format!(
            "`{name}` is not a valid remote name: use letters, digits, `-` and `_`"
        )));
    }
    Ok(())
}

fn remote_table<'a>(doc: &'a mut DocumentMut, name: &str) -> &'a mut Table {
    let remotes = doc.entry("remotes").or_insert_with(|| {
        let mut t = Table::new();
        t.set_implicit(true);
        Item::Table(t)
    });
    remotes
        .as_table_mut()
        .expect("`remotes` is a table")
        .entry(name)
        .or_insert_with(|| Item::Table(Table::new()))
        .as_table_mut()
        .expect("a remote is a table")
}

fn set_default(doc: &mut DocumentMut, name: &str) {
    let core = doc
        .entry("core")
        .or_insert_with(|| Item::Table(Table::new()));
    if let Some(t) = core.as_table_mut() {
        t.insert("remote", value(name));
    }
}
