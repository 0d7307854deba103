//! HTTP(S) remotes served WebDAV-style (nginx's dav module, rclone, any server that takes
//! GET, HEAD and PUT). reqwest does the protocol; uploads stream from the file, so memory
//! stays bounded; downloads resume with `Range`. Listing is not offered (many servers
//! refuse `PROPFIND Depth: infinity`), so existence is checked per object.

use super::{Backend, ErrorKind, Held, RemoteError};
use crate::config::RemoteConfig;
use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use reqwest::StatusCode;
use std::path::Path;
use std::time::Duration;

/// The slowest upload rate a big PUT is given time for: the response to a PUT comes only
/// after the whole body, so its deadline grows with the file.
const MIN_UPLOAD_RATE: u64 = 256 << 10;

pub struct Http {
    /// Every request but a big upload: a server silent for `SILENCE_TIMEOUT` (no answer,
    /// or no bytes of a download) times out.
    client: reqwest::Client,
    /// Big uploads: reqwest's silence timer would also run while the body is sent, so they
    /// get a deadline scaled to their size instead (`MIN_UPLOAD_RATE`).
    uploads: reqwest::Client,
    base: url::Url,
    /// The URL for messages: user info removed.
    shown: String,
    auth: Option<(String, Option<String>)>,
    /// The remote's `timeout` (default `SILENCE_TIMEOUT`): a big upload's deadline starts
    /// from it.
    silence: Duration,
}

impl Http {
    pub fn open(
        url: &url::Url,
        remote: &RemoteConfig,
        connect: &super::connect::Connect,
    ) -> anyhow::Result<Self> {
        let mut base = url.clone();
        let mut auth = None;
        if !url.username().is_empty() {
            auth = Some((
                url.username().to_string(),
                url.password().map(str::to_owned),
            ));
        }
        if let Some(user) = &remote.user {
            auth = Some((user.clone(), remote.password.clone()));
        }
        let _ = base.set_username("");
        let _ = base.set_password(None);
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let client = connect.reqwest(true)?.build()?;
        let uploads = connect.reqwest(false)?.build()?;
        let shown = super::redact(url.as_str());
        Ok(Http {
            client,
            uploads,
            base,
            shown,
            auth,
            silence: connect.silence(),
        })
    }

    fn request(
        &self,
        method: reqwest::Method,
        key: &str,
    ) -> Result<reqwest::RequestBuilder, RemoteError> {
        self.request_on(&self.client, method, key)
    }

    fn request_on(
        &self,
        client: &reqwest::Client,
        method: reqwest::Method,
        key: &str,
    ) -> Result<reqwest::RequestBuilder, RemoteError> {
        let url = self.base.join(key).map_err(|e| {
            RemoteError::new(
                ErrorKind::Fatal,
                format!("`{key}` on remote `{}`: {e}", self.shown),
            )
        })?;
        let req = client.request(method, url);
        Ok(match &self.auth {
            Some((user, pass)) => req.basic_auth(user, pass.as_ref()),
            None => req,
        })
    }

    fn send_error(&self, key: &str, e: reqwest::Error) -> RemoteError {
        // reqwest's message carries the URL; ours was built without credentials.
        let chain = error_chain(&e);
        let tls = super::connect::certificate_hint(&chain);
        // Retrying cannot make a certificate trusted.
        let kind = if e.is_builder() || tls.is_some() {
            ErrorKind::Fatal
        } else {
            ErrorKind::Transient
        };
        RemoteError {
            hint: tls.map(str::to_string),
            ..RemoteError::new(kind, format!("`{key}` on remote `{}`: {chain}", self.shown))
        }
    }

    fn status_error(&self, key: &str, op: &str, status: StatusCode) -> RemoteError {
        let (kind, hint) = match status {
            StatusCode::NOT_FOUND => (ErrorKind::NotFound, None),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => (
                ErrorKind::Auth,
                Some("set `user` and `password` for this remote in `.mlv/config.local.toml`"),
            ),
            s if s.is_server_error()
                || s == StatusCode::TOO_MANY_REQUESTS
                || s == StatusCode::REQUEST_TIMEOUT =>
            {
                (ErrorKind::Transient, None)
            }
            _ => (ErrorKind::Fatal, None),
        };
        RemoteError {
            hint: hint.map(str::to_string),
            ..RemoteError::new(
                kind,
                format!(
                    "{op} `{key}` on remote `{}`: server answered {status}",
                    self.shown
                ),
            )
        }
    }
}

impl Http {
    fn uploaded(&self, key: &str, status: StatusCode) -> Result<(), RemoteError> {
        if status.is_success() {
            Ok(())
        } else {
            Err(self.status_error(key, "uploading", status))
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = String::new();
    let mut cur: Option<&dyn std::error::Error> = e.source();
    while let Some(c) = cur {
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&c.to_string());
        cur = c.source();
    }
    if out.is_empty() {
        "request failed".to_string()
    } else {
        out
    }
}

#[async_trait]
impl Backend for Http {
    fn url(&self) -> &str {
        &self.shown
    }

    async fn head(&self, key: &str) -> Result<Held, RemoteError> {
        Ok(match self.stamp(key).await? {
            Some(stamp) => Held::Object(stamp.size),
            None => Held::Absent,
        })
    }

    async fn stamp(&self, key: &str) -> Result<Option<super::Stamp>, RemoteError> {
        let resp = self
            .request(reqwest::Method::HEAD, key)?
            .send()
            .await
            .map_err(|e| self.send_error(key, e))?;
        let header = |name| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        match resp.status() {
            // The header itself: a HEAD response has no body whose length reqwest could tell.
            s if s.is_success() => Ok(Some(super::Stamp {
                size: header(reqwest::header::CONTENT_LENGTH).and_then(|v| v.parse().ok()),
                etag: header(reqwest::header::ETAG),
                last_modified: header(reqwest::header::LAST_MODIFIED),
            })),
            StatusCode::NOT_FOUND => Ok(None),
            s => Err(self.status_error(key, "checking", s)),
        }
    }

    async fn list(
        &self,
        _prefix: &str,
        _limit: usize,
    ) -> Result<Option<Vec<super::Listed>>, RemoteError> {
        Ok(None)
    }

    async fn delete(&self, key: &str) -> Result<(), RemoteError> {
        let resp = self
            .request(reqwest::Method::DELETE, key)?
            .send()
            .await
            .map_err(|e| self.send_error(key, e))?;
        match resp.status() {
            s if s.is_success() || s == StatusCode::NOT_FOUND => Ok(()),
            s => Err(self.status_error(key, "deleting", s)),
        }
    }

    async fn get(
        &self,
        key: &str,
        from: u64,
        to: Option<u64>,
    ) -> Result<BoxStream<'static, Result<Bytes, RemoteError>>, RemoteError> {
        let mut req = self.request(reqwest::Method::GET, key)?;
        let ranged = from > 0 || to.is_some();
        if ranged {
            let last = to.map(|t| (t - 1).to_string()).unwrap_or_default();
            req = req.header(reqwest::header::RANGE, format!("bytes={from}-{last}"));
        }
        let resp = req.send().await.map_err(|e| self.send_error(key, e))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(self.status_error(key, "downloading", status));
        }
        if ranged && status != StatusCode::PARTIAL_CONTENT {
            return Err(RemoteError::new(
                ErrorKind::Fatal,
                format!(
                    "remote `{}` ignored the range request for `{key}`",
                    self.shown
                ),
            ));
        }
        let (shown, key) = (self.shown.clone(), key.to_string());
        Ok(resp
            .bytes_stream()
            .map(move |r| {
                r.map_err(|e| {
                    RemoteError::new(
                        ErrorKind::Transient,
                        format!(
                            "downloading `{key}` from remote `{shown}`: {}",
                            error_chain(&e)
                        ),
                    )
                })
            })
            .boxed())
    }

    async fn put_file(&self, key: &str, path: &Path, size: u64) -> Result<(), RemoteError> {
        let io_err = |e: std::io::Error| {
            RemoteError::new(
                ErrorKind::Fatal,
                format!("reading `{}` to upload it: {e}", path.display()),
            )
        };
        if size <= crate::hash::SMALL_FILE {
            let bytes = super::read_whole(path, size).await.map_err(io_err)?;
            return self.put_bytes(key, Bytes::from(bytes)).await;
        }
        let file = tokio::fs::File::open(path).await.map_err(io_err)?;
        let body =
            reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(file, 1 << 20));
        let deadline = self.silence + Duration::from_secs(size / MIN_UPLOAD_RATE);
        let resp = self
            .request_on(&self.uploads, reqwest::Method::PUT, key)?
            .timeout(deadline)
            .header(reqwest::header::CONTENT_LENGTH, size)
            .body(body)
            .send()
            .await
            .map_err(|e| self.send_error(key, e))?;
        self.uploaded(key, resp.status())
    }

    async fn put_bytes(&self, key: &str, bytes: Bytes) -> Result<(), RemoteError> {
        let resp = self
            .request(reqwest::Method::PUT, key)?
            .body(bytes)
            .send()
            .await
            .map_err(|e| self.send_error(key, e))?;
        self.uploaded(key, resp.status())
    }

    async fn replace(&self, key: &str, bytes: Bytes) -> Result<(), RemoteError> {
        // A PUT replaces the resource whole.
        self.put_bytes(key, bytes).await
    }
}
