//! What push, fetch, pull and fsck share: the remote and job flags, the async runtime,
//! and how a transfer summary is reported; and the `git add` hint of every command that
//! changes committed files.

use crate::cache::{Access, Cache, CacheLock};
use crate::paths::RepoPath;
use crate::pathspec::Pathspec;
use crate::repo::{Lock, Repo, Selection};
use crate::transfer::{Engine, Summary};
use crate::ui::{self, Ui};
use std::path::PathBuf;
use std::sync::Arc;

/// Default transfers in flight: the link, not the cores, is what they wait on.
pub const DEFAULT_JOBS: usize = 32;

/// The path arguments of `pull`, `fetch`, `checkout`, `push` and `status` (see `pathspec`).
#[derive(clap::Args, Clone)]
pub struct PathArgs {
    /// Tracked paths or globs, relative to the current folder (all when none); inside a tracked directory they select its files (`data/train`, 'data/**/*.png')
    pub paths: Vec<PathBuf>,
    /// Leave out what this path or glob matches (repeatable)
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<PathBuf>,
}

impl PathArgs {
    pub fn spec(&self, repo: &Repo) -> anyhow::Result<Arc<Pathspec>> {
        repo.pathspec(&self.paths, &self.exclude)
    }
}

#[derive(clap::Args, Clone)]
pub struct TransferArgs {
    #[command(flatten)]
    pub paths: PathArgs,
    /// The remote to use (default: the configured default remote)
    #[arg(short = 'r', long = "remote")]
    pub remote: Option<String>,
    /// Transfers in flight at once
    #[arg(short = 'j', long = "jobs", value_parser = parse_jobs)]
    pub jobs: Option<usize>,
    /// Use the pointers committed at this git revision instead of the work tree's (repeatable)
    #[arg(long = "rev", value_name = "REV")]
    pub revs: Vec<String>,
    /// Use the pointers at the tip of every local branch
    #[arg(long)]
    pub all_branches: bool,
    /// Use the pointers at every tag
    #[arg(long)]
    pub all_tags: bool,
    /// Use the pointers of every commit reachable from any ref
    #[arg(long)]
    pub all_commits: bool,
}

impl TransferArgs {
    /// The selected tracked paths, over every `--rev` given and every commit the
    /// `--all-*` selectors name (the work tree's pointers when no `--rev` is given).
    pub fn select(&self, repo: &Repo) -> anyhow::Result<Selection> {
        let spec = self.paths.spec(repo)?;
        let selectors = self.all_branches || self.all_tags || self.all_commits;
        if self.revs.is_empty() && !selectors {
            return repo.select(&spec);
        }
        // Each source with whether every pattern must match there: a `--rev` names one
        // commit, so yes; a pattern need not match at every commit a selector names, only
        // at some. Like DVC's `--all-branches`, the selectors add to the work tree.
        let mut sources: Vec<(Option<String>, bool)> =
            self.revs.iter().map(|r| (Some(r.clone()), true)).collect();
        if self.revs.is_empty() {
            sources.push((None, false));
        }
        if selectors {
            sources.extend(
                repo.git
                    .selector_commits(self.all_branches, self.all_tags, self.all_commits)?
                    .into_iter()
                    .map(|c| (Some(c), false)),
            );
        }
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut all_hits = spec.hits();
        for (source, strict) in &sources {
            let (picked, hits) = repo.pick(repo.tracked_at(source.as_deref())?, &spec)?;
            if *strict {
                spec.check(&hits, source.as_deref())?;
            }
            all_hits.merge(&hits);
            for (t, scope) in picked {
                if seen.insert((t.path.clone(), t.pointer.hash)) {
                    out.push((t, scope));
                }
            }
        }
        spec.check(&all_hits, None)?;
        Ok(out)
    }
}

/// `-j N`: at least one transfer, or nothing would ever move (clap exits 2 otherwise).
pub fn parse_jobs(arg: &str) -> Result<usize, String> {
    match arg.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// The engine for the chosen remote, with its name.
pub fn engine(
    repo: &Repo,
    remote: Option<&str>,
    jobs: Option<usize>,
) -> anyhow::Result<(String, Engine)> {
    let (name, config) = repo.config.remote(remote)?;
    repo.check_remote_folder(&name, &config.url)?;
    let backend = crate::remote::open(&name, config, repo.root())?;
    let jobs = jobs.or(config.jobs).unwrap_or(DEFAULT_JOBS);
    Ok((name, Engine::new(backend, jobs)))
}

/// Takes the cache-wide lock (see `Cache::lock`) for the rest of the command, saying on
/// stderr when it has to wait. Taken before the worktree lock, in every command, so two
/// commands never wait on each other in opposite orders.
pub fn lock_cache(cache: &Cache, access: Access, ui: &Ui) -> anyhow::Result<CacheLock> {
    Ok(cache.lock(access, |path| {
        ui.info(&match access {
            Access::Shared => format!(
                "waiting for `git mlv gc` to finish with the cache (lock `{}`)",
                path.display()
            ),
            Access::Exclusive => format!(
                "waiting for git-mlv commands that write into the cache to finish (lock `{}`)",
                path.display()
            ),
        });
    })?)
}

/// Takes the worktree lock (see `Repo::lock`) for the rest of the command, saying on
/// stderr when it has to wait.
pub fn lock_repo(repo: &Repo, ui: &Ui) -> anyhow::Result<Lock> {
    repo.lock(|path| {
        ui.info(&format!(
            "waiting for another git-mlv process in this worktree (lock `{}`)",
            path.display()
        ))
    })
}

pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// The summary as JSON, with the remote's name and the time taken.
pub fn summary_json(
    remote: &str,
    summary: &Summary,
    seconds: f64,
) -> anyhow::Result<serde_json::Value> {
    let mut v = serde_json::to_value(summary)?;
    if let Some(obj) = v.as_object_mut() {
        obj.insert("remote".into(), remote.into());
        obj.insert("seconds".into(), seconds.into());
    }
    Ok(v)
}

/// With `--json`, a transfer that stopped before it could report its objects (the remote
/// unreachable, a damaged pointer) still prints a document: nothing transferred, and the
/// reason in `error`. The error itself is reported on stderr as usual.
pub fn json_error(ui: &Ui, err: &anyhow::Error) {
    if ui.json {
        let doc = serde_json::json!({
            "transferred": 0,
            "bytes": 0,
            "present": 0,
            "resumed_bytes": 0,
            "failed": [],
            "error": format!("{err:#}"),
        });
        // A closed stdout loses only this document; the error still reaches stderr.
        let _ = ui.print_json(&doc);
    }
}

/// The one-line summary for people.
pub fn summary_line(ui: &Ui, verb: &str, summary: &Summary, seconds: f64) {
    let mut line = format!(
        "{verb} {} ({}) in {seconds:.1}s; {} already there",
        ui::count(summary.transferred, "object"),
        ui::size(summary.bytes),
        summary.present
    );
    if summary.resumed_bytes > 0 {
        line.push_str(&format!(
            "; resumed {} from an interrupted run",
            ui::size(summary.resumed_bytes)
        ));
    }
    ui.info(&line);
}

/// An error naming every failed object, when any failed.
pub fn failures(remote: &str, summary: &Summary) -> anyhow::Result<()> {
    if summary.failed.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = summary
        .failed
        .iter()
        .take(10)
        .map(|f| format!("  {}: {}", f.object, f.error.replace('\n', "\n    ")))
        .collect();
    let more = summary.failed.len().saturating_sub(10);
    Err(crate::error::failed(format!(
        "{} failed with remote `{remote}`:\n{}{}\nhint: run the same command again: only what is missing is transferred",
        ui::count(summary.failed.len() as u64, "object"),
        shown.join("\n"),
        if more > 0 {
            format!("\n  … and {more} more")
        } else {
            String::new()
        }
    )))
}

/// Ends a command that changed committed files (pointers, `.gitignore`, `mlv.lock`,
/// `.mlv/config.toml`, …) with the one `git add` that stages them all, paths relative to
/// the current folder and quoted for the shell; nothing when `changed` is empty. Every
/// such command says it through here, so the wording and the quoting are the same.
pub fn hint_git_add(repo: &Repo, ui: &Ui, changed: &[RepoPath]) {
    let mut changed = changed.to_vec();
    changed.sort();
    changed.dedup();
    if changed.is_empty() {
        return;
    }
    let words: Vec<String> = changed
        .iter()
        .map(|p| ui::shell_quote(&repo.display(p)))
        .collect();
    // A path that starts with `-` would be read as an option.
    let dashes = if words.iter().any(|w| w.starts_with('-')) {
        "-- "
    } else {
        ""
    };
    ui.hint(&format!(
        "run `git add {dashes}{}` and commit, so teammates and CI see the change",
        words.join(" ")
    ));
}
