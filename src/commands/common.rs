//! What push, fetch, pull and fsck share: the remote and job flags, the async runtime,
//! and how a transfer summary is reported; and the `git add` hint of every command that
//! changes committed files.

use crate::cache::{Access, Cache, CacheLock};
use crate::ops::fetch;
use crate::ops::report::{self, Reporter};
use crate::ops::select::Selector;
use crate::paths::RepoPath;
use crate::pathspec::Pathspec;
use crate::progress::Progress;
use crate::repo::{Repo, Selection, WorktreeLock};
use crate::transfer::Summary;
use crate::ui::{self, Ui};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use crate::ops::engine::{DEFAULT_JOBS, check_writable, engine, failures, runtime};

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
    /// The selection these flags ask for.
    pub fn selector(&self) -> Selector {
        Selector {
            paths: self.paths.paths.clone(),
            exclude: self.paths.exclude.clone(),
            revs: self.revs.clone(),
            all_branches: self.all_branches,
            all_tags: self.all_tags,
            all_commits: self.all_commits,
        }
    }

    /// The selected tracked paths (see `Selector::select`).
    pub fn select(&self, repo: &Repo) -> anyhow::Result<Selection> {
        self.selector().select(repo)
    }

    /// A fetch of `select` (from `selector`) from the remote and with the jobs these flags name.
    pub fn fetch_request<'a>(
        &'a self,
        select: &'a Selector,
        ready_copies: bool,
    ) -> fetch::Request<'a> {
        fetch::Request {
            select,
            remote: self.remote.as_deref(),
            jobs: self.jobs,
            ready_copies,
        }
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

/// Takes the cache-wide lock for the rest of the command, saying on stderr when it has
/// to wait (see `ops::report::lock_cache`).
pub fn lock_cache(cache: &Cache, access: Access, ui: &Ui) -> anyhow::Result<CacheLock> {
    report::lock_cache(cache, access, ui)
}

/// Takes the worktree lock for the rest of the command, saying on stderr when it has to
/// wait.
pub fn lock_repo(repo: &Repo, ui: &Ui) -> anyhow::Result<WorktreeLock> {
    report::lock_worktree(repo, ui)
}

/// Operations report through the command's `Ui`: waits and warnings on stderr, progress
/// as a bar (nothing when stderr is not a terminal, or with `-q`/`--json`).
impl Reporter for Ui {
    fn waiting_for_cache(&self, access: Access, lock: &Path) {
        self.info(&match access {
            Access::Shared => format!(
                "waiting for `git mlv gc` to finish with the cache (lock `{}`)",
                lock.display()
            ),
            Access::Exclusive => format!(
                "waiting for git-mlv commands that write into the cache to finish (lock `{}`)",
                lock.display()
            ),
        });
    }

    fn waiting_for_worktree(&self, lock: &Path) {
        self.info(&format!(
            "waiting for another git-mlv process in this worktree (lock `{}`)",
            lock.display()
        ));
    }

    fn progress(&self, verb: &str) -> Box<dyn Progress> {
        Box::new(self.bar(verb))
    }

    fn warn(&self, msg: &str) {
        Ui::warn(self, msg);
    }
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
            "error": crate::error::text(err),
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
