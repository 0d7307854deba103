//! `doctor`: what git-mlv sees on this machine, each part checked for real (links tried,
//! remotes asked), with every broken item and the hint that fixes it. The report is data:
//! the command prints it as text or JSON and turns it into the exit code.

mod local;
mod remotes;

use crate::problem::{Kind, Reader};
use crate::repo::Repo;
use serde::Serialize;
use std::path::{Path, PathBuf};

pub use local::{CacheInfo, HookState, HooksInfo, LinksInfo, StatCacheInfo};
pub use remotes::{Credentials, RemoteInfo};

/// How long one remote may take to answer before it counts as unreachable.
pub const REMOTE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The hooks `install-hooks` writes and the mark its scripts carry (the command layer owns
/// them and hands them in).
pub struct HookSet<'a> {
    pub names: Vec<&'a str>,
    pub mark: &'a str,
}

/// In order of weight: the heaviest found decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Not a place doctor can check (not a git repository, git-mlv not set up, a config
    /// that does not parse): exit 2, as every command there.
    Setup,
    /// Something it checks does not work: exit 1.
    Broken,
    /// Worth knowing, works for now: exit 0.
    Warning,
}

/// One thing found wrong, with what fixes it.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// `git`, `repository`, `cache`, `links`, `remote`, `hooks` or `stat_cache`.
    pub check: &'static str,
    /// The remote's name, for a `remote` problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote: Option<String>,
    pub severity: Severity,
    pub message: String,
    pub hint: String,
}

impl Problem {
    fn new(
        check: &'static str,
        severity: Severity,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Problem {
        Problem {
            check,
            remote: None,
            severity,
            message: message.into(),
            hint: hint.into(),
        }
    }

    /// From an error: its text and hint as the command layer reads them, its kind deciding
    /// whether the place is wrong (setup) or the check failed (broken).
    fn from_error(check: &'static str, err: &anyhow::Error, reader: &Reader) -> Problem {
        let severity = match (reader.kind)(err) {
            Kind::Usage => Severity::Setup,
            Kind::Failed => Severity::Broken,
        };
        let text = (reader.text)(err);
        let (message, hint) = split_hint(&text, "run `git mlv doctor -v` and read the message");
        Problem::new(check, severity, message, hint)
    }
}

/// A message and its `hint:` lines apart; `fallback` when it has none.
fn split_hint(text: &str, fallback: &str) -> (String, String) {
    let mut parts = text.split("\nhint: ");
    let message = parts.next().unwrap_or_default().to_string();
    let hints: Vec<&str> = parts.collect();
    let hint = match hints.is_empty() {
        true => fallback.to_string(),
        false => hints.join("; "),
    };
    (message, hint)
}

#[derive(Debug, Serialize)]
pub struct Versions {
    pub git_mlv: &'static str,
    pub git: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct RepoInfo {
    pub root: PathBuf,
    /// Whether `.mlv/config.toml` is there (`git mlv init` ran).
    pub initialized: bool,
}

/// Everything doctor found; a section is `None` where it could not be looked at.
#[derive(Debug, Serialize)]
pub struct Report {
    pub ok: bool,
    pub exit_code: u8,
    pub versions: Versions,
    pub repository: Option<RepoInfo>,
    pub cache: Option<CacheInfo>,
    pub links: Option<LinksInfo>,
    pub remotes: Vec<RemoteInfo>,
    pub hooks: Option<HooksInfo>,
    pub stat_cache: Option<StatCacheInfo>,
    pub problems: Vec<Problem>,
}

/// Checks everything for the repository that holds `dir` (or only the versions, and what
/// is missing, outside one).
pub fn diagnose(dir: &Path, hooks: &HookSet, reader: &Reader) -> Report {
    let mut problems = Vec::new();
    let git = match crate::gitx::version() {
        Ok(v) => Some(v),
        Err(e) => {
            problems.push(Problem::new(
                "git",
                Severity::Broken,
                e.to_string(),
                "install git and put it on PATH; git-mlv runs the `git` found there",
            ));
            None
        }
    };
    let mut report = Report {
        ok: true,
        exit_code: 0,
        versions: Versions {
            git_mlv: env!("CARGO_PKG_VERSION"),
            git,
        },
        repository: None,
        cache: None,
        links: None,
        remotes: Vec::new(),
        hooks: None,
        stat_cache: None,
        problems: Vec::new(),
    };
    if let Some(repo) = open_repo(dir, &mut report, &mut problems, reader) {
        let cache = local::cache(&repo, &mut problems);
        report.links = cache
            .as_ref()
            .and_then(|c| local::links(&repo, c, &mut problems));
        report.cache = cache.map(|c| c.info);
        report.remotes = remotes::check(&repo, &mut problems, reader);
        report.hooks = local::hooks(&repo, hooks, &mut problems);
        report.stat_cache = Some(local::stat_cache(&repo));
    }
    report.exit_code = match problems.iter().map(|p| p.severity).min() {
        Some(Severity::Setup) => 2,
        Some(Severity::Broken) => 1,
        Some(Severity::Warning) | None => 0,
    };
    report.ok = report.exit_code == 0;
    report.problems = problems;
    report
}

/// The repository, when `dir` is in one where git-mlv is set up and its config reads.
fn open_repo(
    dir: &Path,
    report: &mut Report,
    problems: &mut Vec<Problem>,
    reader: &Reader,
) -> Option<Repo> {
    let repo = match Repo::open(dir) {
        Ok(repo) => repo,
        Err(e) => {
            // Where the work tree is found, say so even when its config does not read.
            if let Ok((layout, _)) = crate::gitx::discover(dir) {
                report.repository = Some(RepoInfo {
                    initialized: config_file(&layout.workdir).is_file(),
                    root: layout.workdir,
                });
            }
            problems.push(Problem::from_error("repository", &e, reader));
            return None;
        }
    };
    let initialized = config_file(repo.root()).is_file();
    report.repository = Some(RepoInfo {
        root: repo.root().to_path_buf(),
        initialized,
    });
    if !initialized {
        problems.push(Problem::new(
            "repository",
            Severity::Setup,
            format!(
                "git-mlv is not set up in `{}`: it has no `.mlv/{}`",
                repo.root().display(),
                crate::config::FILE
            ),
            "run `git mlv init`",
        ));
        return None;
    }
    Some(repo)
}

fn config_file(root: &Path) -> PathBuf {
    root.join(crate::config::DIR).join(crate::config::FILE)
}

#[cfg(test)]
mod tests {
    use super::split_hint;

    #[test]
    fn hints_are_split_from_their_message() {
        assert_eq!(
            split_hint("bad\nhint: do this", "x"),
            ("bad".to_string(), "do this".to_string())
        );
        assert_eq!(
            split_hint("a: b\nhint: one\nhint: two", "x"),
            ("a: b".to_string(), "one; two".to_string())
        );
        assert_eq!(split_hint("bad", "x"), ("bad".to_string(), "x".to_string()));
    }
}
