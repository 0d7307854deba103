//! `git mlv remote set <name> <key> <value>`: one setting of a remote; credentials always
//! go to the local file.

use super::shared::{check_url, file, known, remote_table, shown, team};
use crate::config::{self, LOCAL_KEYS, SECRET_KEYS};
use crate::error::usage;
use crate::paths::RepoPath;
use crate::repo::Repo;
use crate::ui::Ui;
use toml_edit::value;

#[derive(clap::Args)]
pub struct Args {
    name: String,
    key: String,
    value: String,
    #[arg(long)]
    local: bool,
}

const KEYS: [&str; 22] = [
    "url",
    "endpoint",
    "region",
    "path_style",
    "jobs",
    "pack_threshold",
    "profile",
    "instance_credentials",
    "user",
    "access_key_id",
    "secret_access_key",
    "session_token",
    "account_key",
    "password",
    "ssl_verify",
    "ca_bundle",
    "timeout",
    "read_only",
    "credentials_file",
    "ssh_config",
    "identity_file",
    "known_hosts",
];

/// Returns the committed files it changed.
pub fn run(args: Args, repo: &Repo, ui: &Ui) -> anyhow::Result<Vec<RepoPath>> {
    let Args {
        name,
        key,
        value: val,
        local,
    } = args;
    if !known(repo, &name) {
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
    let machine = LOCAL_KEYS.contains(&key.as_str());
    let item = match key.as_str() {
        "path_style" | "instance_credentials" | "ssl_verify" | "read_only" => value(
            val.parse::<bool>()
                .map_err(|_| usage(format!("`{key}` takes true or false")))?,
        ),
        "jobs" | "timeout" => value(
            val.parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| usage(format!("`{key}` takes a positive number")))?,
        ),
        "ca_bundle" | "credentials_file" => value(machine_file(&key, &val)?),
        "pack_threshold" => value(
            config::parse_bytes(&val)
                .filter(|n| *n <= crate::pack::MAX_THRESHOLD)
                .ok_or_else(|| {
                    usage(format!(
                        "`pack_threshold` takes a byte count up to 64MiB, like `1048576` or `1MiB` (0: never pack); `{val}` is not one"
                    ))
                })? as i64,
        ),
        _ => value(val.as_str()),
    };
    let local = local || machine;
    let changed = config::edit(&file(repo, local || secret), |doc| {
        remote_table(doc, &name).insert(&key, item);
        Ok(())
    })?;
    if secret {
        ui.info(&format!("set `{key}` of remote `{name}` in `.mlv/config.local.toml` (credentials never go to the committed config)"));
    } else if machine {
        ui.info(&format!(
            "set `{key}` of remote `{name}` in `.mlv/config.local.toml` (a file on this machine)"
        ));
    } else {
        ui.info(&format!("set `{key}` of remote `{name}`"));
    }
    if ui.json {
        ui.print_json(&serde_json::json!({
            "remote": name, "set": key, "file": shown(local || secret),
        }))?;
    }
    Ok(team(changed, local || secret).into_iter().collect())
}

/// A file setting as written: absolute (taken from the current folder), and a file that
/// exists, so a typo is caught here rather than at the next transfer.
fn machine_file(key: &str, given: &str) -> anyhow::Result<String> {
    let path = std::path::absolute(given)?;
    if !path.is_file() {
        return Err(usage(format!(
            "`{key}` names `{}`, which is not a file\nhint: give the path of an existing file",
            path.display()
        )));
    }
    Ok(path.display().to_string())
}
