//! Credentials from the ecosystem's standard places, never from the committed config:
//! `.mlv/config.local.toml`, then the AWS environment variables (read by `object_store`),
//! then the profile in the AWS shared credentials and config files. When none of them
//! holds any, the remote is refused before a request is made: `object_store` would ask the
//! EC2 instance metadata service next, which off EC2 fails slowly with a baffling 403.
//! That service, and the container and web-identity providers, are used only when asked
//! for (see [`provider_chosen`]).

use crate::config::RemoteConfig;
use std::path::PathBuf;

pub struct AwsCreds {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

/// Explicit credentials for the S3 remote `name`, or `None` when `object_store` finds them
/// in the environment itself (keys, a container or web-identity provider, or the instance
/// metadata the remote opted into). An error when there are none anywhere.
pub fn aws(name: &str, remote: &RemoteConfig) -> anyhow::Result<Option<AwsCreds>> {
    if let (Some(id), Some(secret)) = (&remote.access_key_id, &remote.secret_access_key) {
        return Ok(Some(AwsCreds {
            access_key_id: id.clone(),
            secret_access_key: secret.clone(),
            session_token: remote.session_token.clone(),
        }));
    }
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() && remote.profile.is_none() {
        return Ok(None);
    }
    let named = remote.profile.is_some() || std::env::var_os("AWS_PROFILE").is_some();
    let profile = remote
        .profile
        .clone()
        .or_else(|| std::env::var("AWS_PROFILE").ok())
        .unwrap_or_else(|| "default".into());
    // The credentials file names a profile `[name]`, the config file `[profile name]`
    // (but `[default]`), as the AWS CLI writes them.
    let config_section = match profile.as_str() {
        "default" => "default".to_string(),
        p => format!("profile {p}"),
    };
    let shared = match &remote.credentials_file {
        Some(file) if !file.is_file() => {
            return Err(crate::problem::usage_with_hint(
                format!(
                    "the `credentials_file` of remote `{name}`, `{}`, is not a file",
                    file.display()
                ),
                format!(
                    "point it at an AWS shared credentials file: `git mlv remote set {name} credentials_file <file>`"
                ),
            ));
        }
        Some(file) => Some(file.clone()),
        None => credentials_file(),
    };
    let mut found = false;
    for (file, section) in [
        (shared, profile.as_str()),
        (config_file(), config_section.as_str()),
    ] {
        let Some(file) = file.filter(|f| f.is_file()) else {
            continue;
        };
        let ini = ini::Ini::load_from_file(&file).map_err(|e| {
            crate::problem::usage(format!(
                "the AWS file `{}` does not parse: {e}",
                file.display()
            ))
        })?;
        let Some(section) = ini.section(Some(section)) else {
            continue;
        };
        found = true;
        if let (Some(id), Some(secret)) = (
            section.get("aws_access_key_id"),
            section.get("aws_secret_access_key"),
        ) {
            return Ok(Some(AwsCreds {
                access_key_id: id.to_string(),
                secret_access_key: secret.to_string(),
                session_token: section.get("aws_session_token").map(str::to_owned),
            }));
        }
    }
    if named && !found {
        return Err(crate::problem::usage_with_hint(
            format!(
                "AWS profile `{profile}` is in neither {}",
                files_shown(remote)
            ),
            format!(
                "add it there (`aws configure --profile {profile}`), or set `profile` for the remote in `.mlv/config.local.toml`"
            ),
        ));
    }
    if provider_chosen(remote) {
        return Ok(None);
    }
    let (message, hint) = no_credentials(name, remote, &profile, found);
    Err(crate::problem::usage_with_hint(message, hint))
}

/// True when the user chose a source `object_store` asks over the network: the remote's
/// `instance_credentials` (EC2 instance metadata), or the variables ECS, EKS and web
/// identity set for their providers, or `AWS_SKIP_SIGNATURE=true` (a public bucket).
fn provider_chosen(remote: &RemoteConfig) -> bool {
    let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    remote.instance_credentials == Some(true)
        || set("AWS_WEB_IDENTITY_TOKEN_FILE") && set("AWS_ROLE_ARN")
        || set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        || set("AWS_CONTAINER_CREDENTIALS_FULL_URI")
            && set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
        || std::env::var("AWS_SKIP_SIGNATURE").is_ok_and(|v| v.eq_ignore_ascii_case("true"))
}

fn credentials_file() -> Option<PathBuf> {
    aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials")
}

fn config_file() -> Option<PathBuf> {
    aws_file("AWS_CONFIG_FILE", "config")
}

/// An AWS file: where its variable says, else `~/.aws/<name>`.
fn aws_file(var: &str, name: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(f) => Some(PathBuf::from(f)),
        None => std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".aws").join(name)),
    }
}

/// The two AWS files as the user knows them: `~/.aws/…`, or the path a variable or the
/// remote's `credentials_file` gives.
fn files_shown(remote: &RemoteConfig) -> String {
    let shown = |var: &str, name: &str| match std::env::var_os(var) {
        Some(f) => format!("`{}` ({var})", PathBuf::from(f).display()),
        None => format!("`~/.aws/{name}`"),
    };
    let credentials = match &remote.credentials_file {
        Some(f) => format!("`{}` (the remote's `credentials_file`)", f.display()),
        None => shown("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
    };
    format!("{credentials} and {}", shown("AWS_CONFIG_FILE", "config"))
}

/// Where credentials were looked for, and how to give some (the hint).
fn no_credentials(
    name: &str,
    remote_config: &RemoteConfig,
    profile: &str,
    profile_found: bool,
) -> (String, String) {
    // A deploy target borrows a remote's settings under a name that is no remote's
    // (remote names have no spaces): its hint names none.
    let remote = if name.contains(' ') { "<remote>" } else { name };
    let keyless = if profile_found {
        " (it is there, but holds no `aws_access_key_id` and `aws_secret_access_key`; SSO and role profiles are not read)"
    } else {
        ""
    };
    let message = format!(
        "no credentials found for remote `{name}`; looked in:\n  \
         - `.mlv/config.local.toml`: `access_key_id` and `secret_access_key` of remote `{remote}`\n  \
         - the environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n  \
         - profile `{profile}` (AWS_PROFILE, or the remote's `profile`) in {}{keyless}",
        files_shown(remote_config)
    );
    let hint = format!(
        "for this machine, run `git mlv remote set {remote} access_key_id <id>` and `git mlv remote set {remote} secret_access_key <secret>` (kept in `.mlv/config.local.toml`), or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run `aws configure`; on EC2 with an instance role, `git mlv remote set {remote} instance_credentials true`"
    );
    (message, hint)
}
