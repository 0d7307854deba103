//! Each remote asked, all at once and each within `REMOTE_TIMEOUT`, through the `Backend`
//! trait only (so every backend is checked the same way): reading its format marker tells
//! whether it answers, whether it takes the credentials, and which format it holds.

use super::{Problem, REMOTE_TIMEOUT, Severity};
use crate::config::RemoteConfig;
use crate::problem::Reader;
use crate::remote::{Backend, ErrorKind, RemoteError};
use crate::repo::Repo;
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Credentials {
    /// The remote answered a request made with them.
    Ok,
    /// The remote (or the folder's permissions) refused them.
    Refused,
}

#[derive(Debug, Serialize)]
pub struct RemoteInfo {
    pub name: String,
    /// Without user name or password.
    pub url: Option<String>,
    pub default: bool,
    /// `None` where it was not asked (it does not open).
    pub reachable: Option<bool>,
    /// `None` where it did not tell (not reached, or another error).
    pub credentials: Option<Credentials>,
    /// Its object store format (`0`: nothing pushed yet).
    pub format: Option<u32>,
    pub seconds: f64,
    pub error: Option<String>,
}

impl RemoteInfo {
    fn new(name: &str, url: Option<String>, default: bool) -> RemoteInfo {
        RemoteInfo {
            name: name.to_string(),
            url,
            default,
            reachable: None,
            credentials: None,
            format: None,
            seconds: 0.0,
            error: None,
        }
    }
}

/// A remote problem, with any secret of its config taken out of the text.
fn problem(name: &str, secrets: &[String], message: &str, hint: &str) -> Problem {
    let scrub = |text: &str| {
        // A secret of a few characters would match inside ordinary words and garble the
        // message; backends never print secrets, so masking is a second line of defence.
        secrets
            .iter()
            .filter(|s| s.len() >= 6)
            .fold(text.to_string(), |t, s| t.replace(s.as_str(), "***"))
    };
    Problem {
        remote: Some(name.to_string()),
        ..Problem::new("remote", Severity::Broken, scrub(message), scrub(hint))
    }
}

/// The secrets a remote's config holds, longest first so none is left half replaced.
fn secrets(remote: &RemoteConfig) -> Vec<String> {
    let in_url = url::Url::parse(&remote.url)
        .ok()
        .and_then(|u| u.password().map(str::to_string));
    let mut all: Vec<String> = [
        remote.secret_access_key.clone(),
        remote.session_token.clone(),
        remote.password.clone(),
        in_url,
    ]
    .into_iter()
    .flatten()
    .filter(|s| !s.is_empty())
    .collect();
    all.sort_by_key(|s| std::cmp::Reverse(s.len()));
    all
}

pub(super) fn check(repo: &Repo, problems: &mut Vec<Problem>, reader: &Reader) -> Vec<RemoteInfo> {
    let config = &repo.config;
    let default = config.core.remote.as_deref();
    let mut infos = Vec::new();
    let mut asked: Vec<(usize, Arc<dyn Backend>, Vec<String>)> = Vec::new();
    for (name, remote) in &config.remotes {
        let url = crate::remote::redact(&remote.url);
        let mut info = RemoteInfo::new(name, Some(url), default == Some(name.as_str()));
        let secrets = secrets(remote);
        match crate::remote::open(name, remote, repo.root()) {
            Ok(backend) => asked.push((infos.len(), backend, secrets)),
            Err(e) => {
                let text = (reader.text)(&e);
                let (message, hint) = super::split_hint(
                    &text,
                    &format!(
                        "check it with `git mlv remote list`; fix it with `git mlv remote set {name} <key> <value>`"
                    ),
                );
                let p = problem(name, &secrets, &message, &hint);
                info.error = Some(p.message.clone());
                problems.push(p);
            }
        }
        infos.push(info);
    }
    for (name, why) in &config.incomplete {
        let mut info = RemoteInfo::new(name, None, default == Some(name.as_str()));
        info.error = Some(why.why.clone());
        problems.push(problem(name, &[], &why.why, &why.hint));
        infos.push(info);
    }
    if let Some(name) = default.filter(|d| !infos.iter().any(|i| i.name == *d)) {
        problems.push(problem(
            name,
            &[],
            &format!("the default remote `{name}` is not configured"),
            "name one that is with `git mlv remote default <name>`, or add it with `git mlv remote add`",
        ));
    }
    if infos.is_empty() {
        problems.push(Problem::new(
            "remote",
            Severity::Warning,
            "no remote is configured: the data lives only in this machine's cache",
            "add one with `git mlv remote add <name> <url> --default`",
        ));
    }
    if asked.is_empty() {
        return infos;
    }
    let answers = match crate::ops::engine::runtime() {
        Ok(rt) => rt.block_on(futures::future::join_all(
            asked.iter().map(|(_, backend, _)| ask(backend.as_ref())),
        )),
        Err(e) => {
            problems.push(Problem::from_error("remote", &e, reader));
            return infos;
        }
    };
    for ((at, _, secrets), (answer, seconds)) in asked.iter().zip(answers) {
        let info = &mut infos[*at];
        info.seconds = seconds;
        if let Some(p) = judge(info, answer, secrets) {
            info.error = Some(p.message.clone());
            problems.push(p);
        }
    }
    infos
}

/// What a remote said when its format marker was read: its version, its error, or `None`
/// when it said nothing in time; and how long that took.
async fn ask(backend: &dyn Backend) -> (Option<Result<u32, RemoteError>>, f64) {
    let start = Instant::now();
    let answer = tokio::time::timeout(REMOTE_TIMEOUT, crate::remote::format::check(backend, false))
        .await
        .ok();
    (answer, start.elapsed().as_secs_f64())
}

/// Fills in what the answer tells; the problem it shows, if any.
fn judge(
    info: &mut RemoteInfo,
    answer: Option<Result<u32, RemoteError>>,
    secrets: &[String],
) -> Option<Problem> {
    let name = info.name.clone();
    let unreachable = format!(
        "check that the server is up and that the URL and endpoint are right (`git mlv remote list`); fix them with `git mlv remote set {name} url <url>` or `git mlv remote set {name} endpoint <url>`"
    );
    let e = match answer {
        Some(Ok(format)) => {
            info.reachable = Some(true);
            info.credentials = Some(Credentials::Ok);
            info.format = Some(format);
            return None;
        }
        None => {
            info.reachable = Some(false);
            let message = format!(
                "remote `{name}` did not answer within {} s",
                REMOTE_TIMEOUT.as_secs()
            );
            return Some(problem(&name, secrets, &message, &unreachable));
        }
        Some(Err(e)) => e,
    };
    let (message, hint) = match e.kind {
        ErrorKind::Transient => {
            info.reachable = Some(false);
            (
                format!("remote `{name}` does not answer: {}", e.detail),
                unreachable,
            )
        }
        ErrorKind::Auth => {
            info.reachable = Some(true);
            info.credentials = Some(Credentials::Refused);
            let set = format!(
                "`git mlv remote set {name} <key> <value>` sets this remote's (kept in `.mlv/config.local.toml`)"
            );
            let hint = match &e.hint {
                Some(h) => format!("{h}; {set}"),
                None => format!("check the credentials, or the folder's permissions; {set}"),
            };
            (
                format!("remote `{name}` refused access: {}", e.detail),
                hint,
            )
        }
        ErrorKind::NotFound | ErrorKind::Corrupt | ErrorKind::Fatal => {
            info.reachable = Some(true);
            let hint = e.hint.clone().unwrap_or_else(|| {
                format!("check its URL, endpoint and region with `git mlv remote list`; fix them with `git mlv remote set {name} <key> <value>`")
            });
            (format!("remote `{name}`: {}", e.detail), hint)
        }
    };
    Some(problem(&name, secrets, &message, &hint))
}
