//! Team settings in `.mlv/config.toml` (committed) with a machine's overrides in
//! `.mlv/config.local.toml` (git-ignored) laid over them key by key.

use serde::Deserialize;
use std::path::{Path, PathBuf};

pub const DIR: &str = ".mlv";
pub const FILE: &str = "config.toml";
pub const LOCAL_FILE: &str = "config.local.toml";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "config `{path}` is not valid: {reason}\nhint: fix the file; `docs/config.md` lists every key"
    )]
    Invalid { path: PathBuf, reason: String },
    #[error("reading config `{path}`: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// How a file is put into the work tree from the cache, tried in the configured order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkType {
    Reflink,
    Copy,
    Hardlink,
    Symlink,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// Where objects live; relative paths are relative to the work tree root.
    pub dir: Option<PathBuf>,
    pub link: Vec<LinkType>,
    pub fsync: bool,
    pub shared: bool,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            dir: None,
            link: vec![LinkType::Reflink, LinkType::Copy],
            fsync: false,
            shared: false,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    pub cache: CacheConfig,
}

impl Config {
    /// Loads the committed config and the local overrides of the work tree at `root`;
    /// missing files mean defaults.
    pub fn load(root: &Path) -> Result<Self, ConfigError> {
        let mut merged = read_table(&root.join(DIR).join(FILE))?;
        merge(&mut merged, read_table(&root.join(DIR).join(LOCAL_FILE))?);
        let path = root.join(DIR).join(FILE);
        let config: Config =
            toml::Value::Table(merged)
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Invalid {
                    path,
                    reason: e.message().to_string(),
                })?;
        if config.cache.link.is_empty() {
            return Err(ConfigError::Invalid {
                path: root.join(DIR).join(FILE),
                reason: "`cache.link` must name at least one of reflink, copy, hardlink, symlink"
                    .into(),
            });
        }
        Ok(config)
    }

    /// True when workspace files may be links into the cache, which makes them read-only.
    pub fn links_read_only(&self) -> bool {
        self.cache
            .link
            .iter()
            .any(|l| matches!(l, LinkType::Hardlink | LinkType::Symlink))
    }
}

fn read_table(path: &Path) -> Result<toml::Table, ConfigError> {
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
fn merge(base: &mut toml::Table, over: toml::Table) {
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
