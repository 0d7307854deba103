//! Credentials from the ecosystem's standard places, never from the committed config:
//! `.mlv/config.local.toml`, then the AWS environment variables (read by `object_store`),
//! then the AWS shared credentials file and profile.

use crate::config::RemoteConfig;

pub struct AwsCreds {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

/// Explicit credentials for an S3 remote, or `None` to let the environment decide.
pub fn aws(remote: &RemoteConfig) -> anyhow::Result<Option<AwsCreds>> {
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
    let profile = remote
        .profile
        .clone()
        .or_else(|| std::env::var("AWS_PROFILE").ok())
        .unwrap_or_else(|| "default".into());
    let file = match std::env::var_os("AWS_SHARED_CREDENTIALS_FILE") {
        Some(f) => std::path::PathBuf::from(f),
        None => match std::env::var_os("HOME") {
            Some(home) => std::path::Path::new(&home).join(".aws/credentials"),
            None => return Ok(None),
        },
    };
    if !file.is_file() {
        return Ok(None);
    }
    let ini = ini::Ini::load_from_file(&file).map_err(|e| {
        crate::error::usage(format!(
            "the AWS credentials file `{}` does not parse: {e}",
            file.display()
        ))
    })?;
    let Some(section) = ini.section(Some(profile.as_str())) else {
        if remote.profile.is_some() || std::env::var_os("AWS_PROFILE").is_some() {
            return Err(crate::error::usage(format!(
                "AWS profile `{profile}` is not in `{}`\nhint: add it there, or set `profile` for the remote in `.mlv/config.local.toml`",
                file.display()
            )));
        }
        return Ok(None);
    };
    match (
        section.get("aws_access_key_id"),
        section.get("aws_secret_access_key"),
    ) {
        (Some(id), Some(secret)) => Ok(Some(AwsCreds {
            access_key_id: id.to_string(),
            secret_access_key: secret.to_string(),
            session_token: section.get("aws_session_token").map(str::to_owned),
        })),
        _ => Ok(None),
    }
}
