//! How a network backend connects, from the remote's settings: which TLS certificates it
//! trusts (`ca_bundle`, `ssl_verify`, `AWS_CA_BUNDLE` for S3) and how long it waits
//! (`timeout`). The object-store and HTTP backends build their clients from one `Connect`.

use crate::config::RemoteConfig;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The overall limit of an object-store request when `timeout` is not set:
/// `object_store`'s silence timer would also run while a 16 MiB part uploads.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Clone)]
pub struct Connect {
    /// `false` (`ssl_verify = false`): any certificate is accepted.
    verify: bool,
    /// CA certificates trusted besides the system's, as PEM.
    ca_pem: Option<Vec<u8>>,
    /// The remote's `timeout`, when set.
    timeout: Option<Duration>,
}

impl Connect {
    /// The settings of remote `name`; with `read_files`, its CA bundle is read (a missing or
    /// unreadable file is a usage error naming it). `aws`: an S3 remote, which also takes
    /// `AWS_CA_BUNDLE` when it has no `ca_bundle`, as the AWS CLI does.
    pub fn read(
        name: &str,
        remote: &RemoteConfig,
        root: &Path,
        aws: bool,
        read_files: bool,
    ) -> anyhow::Result<Self> {
        let from_env = || {
            std::env::var_os("AWS_CA_BUNDLE")
                .filter(|v| aws && !v.is_empty())
                .map(|v| (PathBuf::from(v), "AWS_CA_BUNDLE".to_string()))
        };
        let bundle = match &remote.ca_bundle {
            Some(path) => Some((
                root.join(path),
                format!("the `ca_bundle` of remote `{name}`"),
            )),
            None => from_env(),
        };
        let ca_pem = match bundle.filter(|_| read_files) {
            Some((path, what)) => Some(read_bundle(name, &path, &what)?),
            None => None,
        };
        Ok(Connect {
            verify: remote.ssl_verify != Some(false),
            ca_pem,
            timeout: remote.timeout.map(Duration::from_secs),
        })
    }

    /// Options for an `object_store` client: without `timeout`, connect in 5 s and a
    /// request within 120 s; with it, connect within it and a request silent no longer
    /// (a part upload must then finish within it too).
    pub fn object_store(&self) -> anyhow::Result<object_store::ClientOptions> {
        let mut options = object_store::ClientOptions::new()
            .with_connect_timeout(self.connect_timeout())
            .with_timeout(
                self.timeout
                    .map_or(REQUEST_TIMEOUT, |t| t.max(REQUEST_TIMEOUT)),
            )
            .with_allow_http(true)
            .with_allow_invalid_certificates(!self.verify);
        if let Some(t) = self.timeout {
            options = options.with_read_timeout(t);
        }
        if let Some(pem) = &self.ca_pem {
            for cert in object_store::Certificate::from_pem_bundle(pem)? {
                options = options.with_root_certificate(cert);
            }
        }
        Ok(options)
    }

    /// A reqwest client builder; with `silence`, a request that gets no answer or no bytes
    /// for the timeout (default 10 s) fails.
    pub fn reqwest(&self, silence: bool) -> anyhow::Result<reqwest::ClientBuilder> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout())
            .tls_danger_accept_invalid_certs(!self.verify);
        if silence {
            builder = builder.read_timeout(self.silence());
        }
        if let Some(pem) = &self.ca_pem {
            builder = builder.tls_certs_merge(reqwest::Certificate::from_pem_bundle(pem)?);
        }
        Ok(builder)
    }

    /// How long opening a connection may take: the remote's `timeout`, else 5 s.
    pub fn connect_timeout(&self) -> Duration {
        self.timeout.unwrap_or(super::CONNECT_TIMEOUT)
    }

    /// How long a request may stay silent: the remote's `timeout`, else 10 s.
    pub fn silence(&self) -> Duration {
        self.timeout.unwrap_or(super::SILENCE_TIMEOUT)
    }
}

/// A CA bundle's PEM text, checked to hold at least one certificate.
fn read_bundle(name: &str, path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    let hint = format!(
        "point it at a PEM file of the CA that signed the server's certificate: `git mlv remote set {name} ca_bundle <file>`"
    );
    // std's error: the message names the path itself.
    let pem = std::fs::read(path).map_err(|e| {
        crate::problem::usage_with_hint(
            format!("{what}, `{}`, cannot be read: {e}", path.display()),
            hint.clone(),
        )
    })?;
    match reqwest::Certificate::from_pem_bundle(&pem) {
        Ok(certs) if !certs.is_empty() => Ok(pem),
        _ => Err(crate::problem::usage_with_hint(
            format!("{what}, `{}`, holds no PEM certificate", path.display()),
            hint,
        )),
    }
}

/// The hint for an error whose text says the server's certificate was refused.
pub fn certificate_hint(text: &str) -> Option<&'static str> {
    let text = text.to_ascii_lowercase();
    (text.contains("certificate") || text.contains("unknownissuer")).then_some(
        "the server's TLS certificate is not trusted: if your own CA signed it, run `git mlv remote set <remote> ca_bundle <ca.pem>`; for a test server only, `git mlv remote set <remote> ssl_verify false` skips the check",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_errors_get_the_tls_hint() {
        assert!(certificate_hint("invalid peer certificate: UnknownIssuer").is_some());
        assert!(certificate_hint("connection refused").is_none());
    }
}
