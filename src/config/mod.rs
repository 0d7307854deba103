//! Team settings in `.mlv/config.toml` (committed) with a machine's overrides in
//! `.mlv/config.local.toml` (git-ignored) laid over them key by key.

use crate::problem::{Hinted, Kind};
use serde::Deserialize;
use std::path::{Path, PathBuf};

mod file;

pub use file::edit;
use file::{merge, read_table, refuse_secrets, set_aside_incomplete};

pub const DIR: &str = ".mlv";
pub const FILE: &str = "config.toml";
pub const LOCAL_FILE: &str = "config.local.toml";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config `{path}` is not valid: {reason}")]
    Invalid { path: PathBuf, reason: String },
    /// No remote was given or configured, or the one named does not exist.
    #[error("{message}")]
    NoRemote { message: String, hint: String },
    #[error("reading config `{path}`")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A config error is the request's fault: the file, or the remote asked for.
impl Hinted for ConfigError {
    fn kind(&self) -> Kind {
        Kind::Usage
    }

    fn hint(&self) -> Option<String> {
        match self {
            ConfigError::Invalid { .. } => {
                Some("fix the file; `docs/config.md` lists every key".into())
            }
            ConfigError::NoRemote { hint, .. } => Some(hint.clone()),
            ConfigError::Io { .. } => None,
        }
    }
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

/// A remote as configured: where, and how to reach it. Secrets are accepted only from
/// `.mlv/config.local.toml`.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteConfig {
    pub url: String,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub path_style: Option<bool>,
    /// Transfers in flight for this remote (`-j` overrides).
    pub jobs: Option<usize>,
    /// Objects up to this many bytes travel in packs (0: never; default 1 MiB).
    pub pack_threshold: Option<u64>,
    pub profile: Option<String>,
    /// Let an S3 remote without credentials ask the EC2 instance metadata service for them.
    pub instance_credentials: Option<bool>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    /// An Azure storage account's shared key (`az://`).
    pub account_key: Option<String>,
    pub user: Option<String>,
    pub password: Option<String>,
    /// `false`: accept any TLS certificate (a test server's); never the default.
    pub ssl_verify: Option<bool>,
    /// A PEM file of CA certificates trusted besides the system's (an on-prem CA); a
    /// relative path is relative to the work tree root.
    pub ca_bundle: Option<PathBuf>,
    /// Seconds a connection may take to open and a request may stay silent.
    pub timeout: Option<u64>,
    /// `true`: push and `gc -r`'s deletions are refused (exit 2).
    pub read_only: Option<bool>,
    /// The AWS shared credentials file to read `profile` from, instead of
    /// `AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`.
    pub credentials_file: Option<PathBuf>,
    /// SSH: this machine's files in place of `~/.ssh/config`, the default keys and
    /// `~/.ssh/known_hosts` (kept in the local file, like credentials).
    pub ssh_config: Option<String>,
    pub identity_file: Option<String>,
    pub known_hosts: Option<String>,
}

/// What a remote's name may hold, for messages.
pub const REMOTE_NAME_RULE: &str = "use letters, digits, `-` and `_`";

/// Whether `name` can name a remote: it names a folder of this clone's state too
/// (`.git/mlv/remotes/<name>`), so it must not be a path (`/`, `..`, a leading `.`).
/// A config that names a remote otherwise has that remote set aside, unusable.
pub fn is_remote_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The folder, under the remotes folder of a clone's state, that holds what it keeps about
/// remote `name`: the name itself, or for a string that is not a remote name (none comes
/// from a loaded config) its hash behind a `~` no name holds, so that it stays a single
/// folder name whatever it is.
pub fn remote_state_folder(name: &str) -> String {
    if is_remote_name(name) {
        name.to_string()
    } else {
        format!("~{}", blake3::hash(name.as_bytes()).to_hex())
    }
}

/// A byte count as a remote setting takes it: `1048576`, `512KiB`, `1MiB`, `1GiB`.
pub fn parse_bytes(text: &str) -> Option<u64> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let shift = match unit.trim() {
        "" | "B" => 0,
        "KiB" => 10,
        "MiB" => 20,
        "GiB" => 30,
        _ => return None,
    };
    number.parse::<u64>().ok()?.checked_mul(1 << shift)
}

/// Keys that name files on this machine: `remote set` writes them to the local file.
pub const LOCAL_KEYS: [&str; 5] = [
    "ssh_config",
    "identity_file",
    "known_hosts",
    "ca_bundle",
    "credentials_file",
];

/// Keys that hold secrets: refused in the committed config.
pub const SECRET_KEYS: [&str; 5] = [
    "access_key_id",
    "secret_access_key",
    "session_token",
    "account_key",
    "password",
];

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CoreConfig {
    /// The default remote's name.
    pub remote: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HooksConfig {
    /// Bytes above which pre-commit refuses a file staged in git rather than git-mlv.
    pub max_file_size: u64,
}

impl Default for HooksConfig {
    fn default() -> Self {
        HooksConfig {
            max_file_size: 10_000_000,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    pub core: CoreConfig,
    pub hooks: HooksConfig,
    pub cache: CacheConfig,
    pub remotes: std::collections::BTreeMap<String, RemoteConfig>,
    /// Where `deploy` put each artifact's stage: `[deploy.<artifact>] <stage> = "<dir or URL>"`,
    /// so later deploys and rollbacks need no `--to`.
    pub deploy: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
    /// Remotes named without a `url` (typically credentials left in the local file for a
    /// remote the committed config no longer has), with what to tell a command that uses
    /// one: set aside so that they stop only the commands that need them.
    #[serde(skip)]
    pub incomplete: std::collections::BTreeMap<String, NoUrl>,
}

/// Why a remote named in the config files cannot be used, and how to fix that.
#[derive(Debug, Clone)]
pub struct NoUrl {
    pub why: String,
    pub hint: String,
}

impl Config {
    /// Loads the committed config and the local overrides of the work tree at `root`;
    /// missing files mean defaults.
    pub fn load(root: &Path) -> Result<Self, ConfigError> {
        let merged = read_table(&root.join(DIR).join(FILE))?;
        let local = read_table(&root.join(DIR).join(LOCAL_FILE))?;
        Self::from_tables(merged, local, root.join(DIR).join(FILE))
    }

    /// The committed config of another repository's work tree at `root`, without its
    /// local file: that machine's settings (credentials) are not ours.
    pub fn load_committed(root: &Path) -> Result<Self, ConfigError> {
        let file = root.join(DIR).join(FILE);
        Self::from_tables(read_table(&file)?, toml::Table::new(), file)
    }

    /// The committed config of another repository, read from one of its commits (`shown`
    /// names it in errors): no local file counts, that machine's settings are not ours.
    pub fn parse_committed(text: &str, shown: &Path) -> Result<Self, ConfigError> {
        let table = text
            .parse()
            .map_err(|e: toml::de::Error| ConfigError::Invalid {
                path: shown.to_path_buf(),
                reason: e.message().to_string(),
            })?;
        Self::from_tables(table, toml::Table::new(), shown.to_path_buf())
    }

    fn from_tables(
        mut merged: toml::Table,
        mut local: toml::Table,
        path: PathBuf,
    ) -> Result<Self, ConfigError> {
        refuse_secrets(&merged, &path)?;
        let incomplete = set_aside_incomplete(&mut merged, &mut local);
        merge(&mut merged, local);
        let mut config: Config =
            toml::Value::Table(merged)
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Invalid {
                    path: path.clone(),
                    reason: e.message().to_string(),
                })?;
        if config.cache.link.is_empty() {
            return Err(ConfigError::Invalid {
                path,
                reason: "`cache.link` must name at least one of reflink, copy, hardlink, symlink"
                    .into(),
            });
        }
        config.incomplete = incomplete;
        Ok(config)
    }

    /// The remote to use: the one named, else the default; an unknown name is a usage error.
    pub fn remote(&self, name: Option<&str>) -> Result<(String, &RemoteConfig), ConfigError> {
        let name = match name.or(self.core.remote.as_deref()) {
            Some(n) => n.to_string(),
            None if self.remotes.len() == 1 => {
                self.remotes.keys().next().expect("one remote").clone()
            }
            None => {
                let (message, hint) = if self.remotes.is_empty() {
                    (
                        "no remote is configured",
                        "add one with `git mlv remote add <name> <url> --default`",
                    )
                } else {
                    (
                        "no default remote is set and none was given with `-r`",
                        "run `git mlv remote default <name>`",
                    )
                };
                return Err(ConfigError::NoRemote {
                    message: message.into(),
                    hint: hint.into(),
                });
            }
        };
        match self.remotes.get(&name) {
            Some(r) => Ok((name, r)),
            None => Err(match self.incomplete.get(&name) {
                Some(NoUrl { why, hint }) => ConfigError::NoRemote {
                    message: why.clone(),
                    hint: hint.clone(),
                },
                None => ConfigError::NoRemote {
                    message: format!("there is no remote named `{name}`"),
                    hint: "`git mlv remote list` shows the configured remotes".into(),
                },
            }),
        }
    }

    /// True when workspace files may be links into the cache, which makes them read-only.
    pub fn links_read_only(&self) -> bool {
        self.cache
            .link
            .iter()
            .any(|l| matches!(l, LinkType::Hardlink | LinkType::Symlink))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_take_binary_units() {
        assert_eq!(parse_bytes("0"), Some(0));
        assert_eq!(parse_bytes("4096"), Some(4096));
        assert_eq!(parse_bytes("512KiB"), Some(512 << 10));
        assert_eq!(parse_bytes("1MiB"), Some(1 << 20));
        assert_eq!(parse_bytes("2 GiB"), Some(2 << 30));
        for bad in ["", "MiB", "1MB", "-1", "1.5MiB", "1 mib"] {
            assert_eq!(parse_bytes(bad), None, "{bad}");
        }
    }

    #[test]
    fn remote_names_are_single_safe_folder_names() {
        for good in ["origin", "s3-backup", "team_2"] {
            assert!(is_remote_name(good), "{good}");
            assert_eq!(remote_state_folder(good), good);
        }
        for bad in [
            "", ".", "..", "../../x", "/abs/dir", ".hidden", "a/b", "a b", "é",
        ] {
            assert!(!is_remote_name(bad), "{bad}");
            let folder = remote_state_folder(bad);
            assert!(
                folder.starts_with('~') && folder.len() == 65,
                "{bad}: {folder}"
            );
        }
    }

    #[test]
    fn a_remote_with_a_path_for_a_name_is_set_aside() {
        let text = "[core]\nremote = \"../../x\"\n[remotes.\"../../x\"]\nurl = \"/tmp/s\"\n[remotes.ok]\nurl = \"/tmp/s\"\n";
        let config = Config::parse_committed(text, Path::new("c.toml")).unwrap();
        assert!(config.remotes.contains_key("ok"));
        assert!(!config.remotes.contains_key("../../x"));
        let err = config.remote(None).unwrap_err();
        assert!(err.to_string().contains("remote `../../x`"), "{err}");
        assert!(matches!(err, ConfigError::NoRemote { .. }));
    }
}
