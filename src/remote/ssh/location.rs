//! Where an SSH remote is (`ssh://[user@]host[:port]/path` or scp-style `[user@]host:path`)
//! and how the system `ssh` connects to it: never interactive (BatchMode, strict host
//! keys, a connect timeout), with this machine's `ssh_config`, `identity_file` and
//! `known_hosts` settings when given. What `ssh` says when it fails becomes an error that
//! names the host and what to do.

use super::super::{ErrorKind, RemoteError};
use crate::config::RemoteConfig;
use std::path::PathBuf;

/// An SSH remote's host and folder, as its URL gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub user: Option<String>,
    /// A host name, an address, or an alias from the ssh config.
    pub host: String,
    pub port: Option<u16>,
    /// The remote's folder: absolute, or relative to the login folder (empty: that folder).
    pub path: String,
}

impl Location {
    /// `ssh://[user@]host[:port]/path`; `/~/path` is relative to the login folder, as git
    /// reads it.
    pub fn from_url(url: &url::Url) -> Result<Location, String> {
        let host = url.host_str().unwrap_or("");
        if host.is_empty() {
            return Err("has no host (write it as ssh://[user@]host[:port]/path)".into());
        }
        if url.password().is_some() {
            return Err(
                "holds a password: SSH remotes sign in with keys (ssh-agent or `identity_file`)"
                    .into(),
            );
        }
        let decode = |s: &str| {
            percent_decode(s).ok_or_else(|| "has a path or user that is not UTF-8".to_string())
        };
        let path = decode(url.path())?;
        let path = match path.strip_prefix("/~") {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => {
                rest.trim_start_matches('/').to_string()
            }
            _ => path,
        };
        Ok(Location {
            user: Some(decode(url.username())?).filter(|u| !u.is_empty()),
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            port: url.port(),
            path,
        })
    }

    /// scp-style `[user@]host:path` (see `remote::is_scp_like`): a relative path is relative
    /// to the login folder.
    pub fn scp(location: &str) -> Result<Location, String> {
        let (who, path) = location.split_once(':').unwrap_or((location, ""));
        let (user, host) = match who.rsplit_once('@') {
            Some((user, host)) => (Some(user.to_string()), host),
            None => (None, who),
        };
        if host.is_empty() || user.as_deref() == Some("") {
            return Err(
                "is an scp-style SSH location with no host or user (write it as [user@]host:path)"
                    .into(),
            );
        }
        if host.len() == 1 && path.starts_with(['/', '\\']) {
            return Err("looks like a Windows drive path, which is no path on this system (a folder whose name holds `:` is written with a `/` before it: `./a:b`)".into());
        }
        Ok(Location {
            user,
            host: host.to_string(),
            port: None,
            path: path.to_string(),
        })
    }

    /// How the host is named in messages: `user@host:port`.
    pub fn shown_host(&self) -> String {
        let user = self
            .user
            .as_ref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        match self.port {
            Some(p) => format!("{user}{}:{p}", self.host),
            None => format!("{user}{}", self.host),
        }
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// This machine's files for `ssh` in place of the user's defaults (`~/.ssh/config`, the
/// agent's or default keys, `~/.ssh/known_hosts`).
#[derive(Debug, Clone, Default)]
pub struct Files {
    pub ssh_config: Option<PathBuf>,
    pub identity_file: Option<PathBuf>,
    pub known_hosts: Option<PathBuf>,
}

impl Files {
    /// The settings of `remote`; a relative path is taken from the repository's `root`.
    pub fn of(remote: &RemoteConfig, root: &std::path::Path) -> Files {
        let path = |p: &Option<String>| p.as_ref().map(|p| root.join(expand_home(p)));
        Files {
            ssh_config: path(&remote.ssh_config),
            identity_file: path(&remote.identity_file),
            known_hosts: path(&remote.known_hosts),
        }
    }
}

/// `~/x` as the shell would read it.
fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}

/// Opens the master connection that the SFTP channels share, within `timeout`.
pub async fn connect(
    loc: &Location,
    files: &Files,
    name: &str,
    timeout: std::time::Duration,
) -> Result<openssh::Session, RemoteError> {
    let mut b = openssh::SessionBuilder::default();
    b.known_hosts_check(openssh::KnownHosts::Strict)
        .connect_timeout(timeout)
        .server_alive_interval(std::time::Duration::from_secs(5))
        .control_directory(std::env::temp_dir())
        // A killed command leaves no master behind for long.
        .control_persist(openssh::ControlPersist::IdleFor(
            std::num::NonZeroUsize::new(30).expect("not zero"),
        ));
    if let Some(user) = &loc.user {
        b.user(user.clone());
    }
    if let Some(port) = loc.port {
        b.port(port);
    }
    if let Some(f) = &files.ssh_config {
        b.config_file(f);
    }
    if let Some(f) = &files.identity_file {
        b.keyfile(f);
    }
    if let Some(f) = &files.known_hosts {
        b.user_known_hosts_file(f);
    }
    b.connect(&loc.host)
        .await
        .map_err(|e| connect_error(loc, files, name, &e))
}

/// What `ssh` said, as an error that names the host and the way out.
fn connect_error(loc: &Location, files: &Files, name: &str, e: &openssh::Error) -> RemoteError {
    let said = error_chain(e);
    let host = loc.shown_host();
    let lower = said.to_lowercase();
    let known_hosts = files
        .known_hosts
        .as_ref()
        .map_or("~/.ssh/known_hosts".to_string(), |p| {
            p.display().to_string()
        });
    let (kind, what, hint) = if lower.contains("host key verification failed")
        || lower.contains("host key for") && lower.contains("has changed")
    {
        let port = loc.port.map(|p| format!("-p {p} ")).unwrap_or_default();
        (
            ErrorKind::Auth,
            format!(
                "the host key of `{host}` is not known (or does not match): git-mlv never asks whether to trust a host"
            ),
            format!(
                "check the host's key, then add it: `ssh-keyscan {port}{} >> {known_hosts}` (or connect once with `ssh {host}` and accept it); another file is set with `git mlv remote set {name} known_hosts <file>`",
                loc.host
            ),
        )
    } else if lower.contains("permission denied") {
        (
            ErrorKind::Auth,
            format!("`{host}` refused the SSH key"),
            format!(
                "load the key into ssh-agent (`ssh-add`), or name it with `git mlv remote set {name} identity_file <key>`; the server must list its public key in `authorized_keys`"
            ),
        )
    } else {
        let kind = if lower.contains("could not resolve") {
            ErrorKind::Fatal
        } else {
            ErrorKind::Transient
        };
        (
            kind,
            format!("cannot connect to `{host}` over SSH"),
            format!(
                "check that `ssh {host}` works from this machine; the host, port and user come from the URL and the ssh config{}",
                files
                    .ssh_config
                    .as_ref()
                    .map(|p| format!(" `{}`", p.display()))
                    .unwrap_or_default()
            ),
        )
    };
    RemoteError::new(
        kind,
        format!(
            "{what} ({})",
            said.trim().replace("\r\n", "; ").replace('\n', "; ")
        ),
    )
    .with_hint(hint)
}

/// An error and its causes, one after the other.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cur = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Result<Location, String> {
        Location::from_url(&url::Url::parse(s).unwrap())
    }

    #[test]
    fn reads_ssh_urls() {
        let l = url("ssh://me@nas:2222/srv/mlv").unwrap();
        assert_eq!(
            (l.user.as_deref(), l.host.as_str(), l.port, l.path.as_str()),
            (Some("me"), "nas", Some(2222), "/srv/mlv")
        );
        let l = url("ssh://nas/~/store").unwrap();
        assert_eq!((l.user, l.path.as_str()), (None, "store"));
        assert_eq!(url("ssh://[::1]/x").unwrap().host, "::1");
        assert_eq!(url("ssh://nas/a%20b").unwrap().path, "/a b");
        assert!(url("ssh://me:pw@nas/x").is_err());
        assert!(url("ssh:///x").is_err());
    }

    #[test]
    fn reads_scp_style_locations() {
        let l = Location::scp("me@nas:/srv/mlv").unwrap();
        assert_eq!(
            (l.user.as_deref(), l.host.as_str(), l.path.as_str()),
            (Some("me"), "nas", "/srv/mlv")
        );
        let l = Location::scp("box:data/store").unwrap();
        assert_eq!(
            (l.user, l.host.as_str(), l.path.as_str()),
            (None, "box", "data/store")
        );
        assert_eq!(Location::scp("h:").unwrap().path, "");
        for bad in ["C:\\data", "C:/data", ":x", "@h:x"] {
            assert!(Location::scp(bad).is_err(), "{bad}");
        }
    }
}
