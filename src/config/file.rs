//! The config files themselves: reading one as a TOML table, laying the local file over the
//! committed one, refusing secrets in the committed file, setting aside remotes without a
//! URL, and editing a file in place with its comments kept.

use super::{ConfigError, DIR, FILE, LOCAL_FILE, NoUrl, SECRET_KEYS};
use std::path::Path;

/// Takes the remotes that cannot be used out of both tables (before they are merged): those
/// whose name is not a remote name (it would be a path: see [`super::is_remote_name`]), and
/// those that neither file gives a `url`; says, per remote, which file names it and how to
/// fix that.
pub(super) fn set_aside_incomplete(
    committed: &mut toml::Table,
    local: &mut toml::Table,
) -> std::collections::BTreeMap<String, NoUrl> {
    let remotes = |t: &toml::Table| t.get("remotes").and_then(|r| r.as_table()).cloned();
    let (shared, mine) = (remotes(committed), remotes(local));
    let has_url = |t: &Option<toml::Table>, name: &str| {
        t.as_ref()
            .and_then(|r| r.get(name))
            .and_then(|r| r.as_table())
            .is_some_and(|r| r.contains_key("url"))
    };
    let names: std::collections::BTreeSet<String> = [&shared, &mine]
        .into_iter()
        .flatten()
        .flat_map(|t| t.keys().cloned())
        .collect();
    let mut out = std::collections::BTreeMap::new();
    for name in names {
        let in_committed = shared.as_ref().is_some_and(|r| r.contains_key(&name));
        if !super::is_remote_name(&name) {
            let file = if in_committed { FILE } else { LOCAL_FILE };
            let why = format!(
                "remote `{name}` in `{DIR}/{file}` has a name that is not a remote name: {}",
                super::REMOTE_NAME_RULE
            );
            let hint = format!(
                "rename it in `{DIR}/{file}`, or remove it with `git mlv remote remove {name}`"
            );
            out.insert(name, NoUrl { why, hint });
            continue;
        }
        if has_url(&shared, &name) || has_url(&mine, &name) {
            continue;
        }
        let no_url = if in_committed {
            NoUrl {
                why: format!("remote `{name}` in `{DIR}/{FILE}` has no `url`"),
                hint: format!(
                    "set one with `git mlv remote set {name} url <url>`, or remove the remote with `git mlv remote remove {name}`"
                ),
            }
        } else {
            NoUrl {
                why: format!(
                    "remote `{name}` is only in `{DIR}/{LOCAL_FILE}`, which gives it no `url`: `{DIR}/{FILE}` does not name it (any more)"
                ),
                hint: format!(
                    "add it back with `git mlv remote add {name} <url>`, or drop this machine's settings for it with `git mlv remote remove {name}`"
                ),
            }
        };
        out.insert(name, no_url);
    }
    for table in [committed, local] {
        if let Some(r) = table.get_mut("remotes").and_then(|r| r.as_table_mut()) {
            r.retain(|name, _| !out.contains_key(name));
        }
    }
    out
}

/// Credentials in the committed file would end up in git history: refuse to use them.
pub(super) fn refuse_secrets(table: &toml::Table, path: &Path) -> Result<(), ConfigError> {
    let Some(remotes) = table.get("remotes").and_then(|r| r.as_table()) else {
        return Ok(());
    };
    for (name, remote) in remotes {
        let Some(remote) = remote.as_table() else {
            continue;
        };
        let userinfo = remote
            .get("url")
            .and_then(|u| u.as_str())
            .and_then(|u| url::Url::parse(u).ok())
            .is_some_and(|u| u.password().is_some());
        if let Some(key) = SECRET_KEYS
            .iter()
            .find(|k| remote.contains_key(**k))
            .map(|k| k.to_string())
            .or(userinfo.then(|| "url password".to_string()))
        {
            return Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                reason: format!(
                    "remote `{name}` has `{key}` in the committed config, where it would reach git history; move it to `.mlv/config.local.toml` (git mlv remote set --local {name} ...)"
                ),
            });
        }
    }
    Ok(())
}

/// Edits one config file in place, keeping its comments and layout (toml_edit), and
/// writes it back atomically; returns whether its text changed.
pub fn edit(
    path: &Path,
    f: impl FnOnce(&mut toml_edit::DocumentMut) -> anyhow::Result<()>,
) -> anyhow::Result<bool> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(ConfigError::Io {
                path: path.to_path_buf(),
                source,
            }
            .into());
        }
    };
    let mut doc: toml_edit::DocumentMut =
        text.parse()
            .map_err(|e: toml_edit::TomlError| ConfigError::Invalid {
                path: path.to_path_buf(),
                reason: e.message().to_string(),
            })?;
    f(&mut doc)?;
    let new = doc.to_string();
    if new == text && path.exists() {
        return Ok(false);
    }
    if let Some(dir) = path.parent() {
        fs_err::create_dir_all(dir)?;
    }
    crate::fsutil::write_atomic(path, new.as_bytes())?;
    Ok(true)
}

pub(super) fn read_table(path: &Path) -> Result<toml::Table, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => text
            .parse()
            .map_err(|e: toml::de::Error| ConfigError::Invalid {
                path: path.to_path_buf(),
                reason: e.message().to_string(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(toml::Table::new()),
        Err(source) => Err(ConfigError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Lays `over` on `base`: tables merge key by key, anything else replaces.
pub(super) fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, LinkType};

    #[test]
    fn local_overrides_merge_per_key() {
        let mut base: toml::Table = "[cache]\nfsync = true\nlink = [\"copy\"]\n"
            .parse()
            .unwrap();
        merge(
            &mut base,
            "[cache]\nlink = [\"hardlink\"]\n".parse().unwrap(),
        );
        let c: Config = toml::Value::Table(base).try_into().unwrap();
        assert!(c.cache.fsync);
        assert_eq!(c.cache.link, [LinkType::Hardlink]);
    }
}
