//! The transfer engine for a configured remote, the runtime it runs on, and the error a
//! transfer with failed objects ends in; shared by every command that moves data.

use crate::repo::Repo;
use crate::transfer::{Engine, Summary};

/// Default transfers in flight: the link, not the cores, is what they wait on.
pub const DEFAULT_JOBS: usize = 32;

/// The engine for the chosen remote, with its name.
pub fn engine(
    repo: &Repo,
    remote: Option<&str>,
    jobs: Option<usize>,
) -> anyhow::Result<(String, Engine)> {
    let (name, config) = repo.config.remote(remote)?;
    repo.check_remote_folder(&name, &config.url)?;
    let engine = engine_for(
        &name,
        config,
        repo.root(),
        &repo.remote_state_dir(&name),
        jobs,
    )?;
    Ok((name, engine))
}

/// The engine for the remote `name` configured as `config`: a relative folder URL is
/// taken from `root`; this machine's copies of its pack indexes live in `state`.
pub fn engine_for(
    name: &str,
    config: &crate::config::RemoteConfig,
    root: &std::path::Path,
    state: &std::path::Path,
    jobs: Option<usize>,
) -> anyhow::Result<Engine> {
    let backend = crate::remote::open(name, config, root)?;
    let jobs = jobs.or(config.jobs).unwrap_or(DEFAULT_JOBS);
    let threshold = config
        .pack_threshold
        .unwrap_or(crate::pack::DEFAULT_THRESHOLD);
    let local = crate::pack::LocalIndexes::new(&state.join("packs"));
    let mut engine = Engine::new(backend, jobs).with_packs(threshold, local);
    if let Some(seconds) = config.timeout {
        engine = engine.with_retry_budget(std::time::Duration::from_secs(2 * seconds));
    }
    Ok(engine)
}

/// Refuses to write to a remote set `read_only` (push, `gc -r`'s deletions): exit 2
/// naming the remote and the setting. `doing` is what was asked, for the message.
pub fn check_writable(repo: &Repo, name: &str, doing: &str) -> anyhow::Result<()> {
    if repo.config.remotes.get(name).and_then(|r| r.read_only) == Some(true) {
        return Err(crate::problem::usage_with_hint(
            format!("remote `{name}` is read-only (`read_only = true`): {doing} would write to it"),
            format!(
                "use another remote with `-r`, or, if this machine may write to it, run `git mlv remote set --local {name} read_only false`"
            ),
        ));
    }
    Ok(())
}

pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
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
    Err(crate::problem::failed_with_hint(
        format!(
            "{} failed with remote `{remote}`:\n{}",
            crate::units::count(summary.failed.len() as u64, "object"),
            crate::units::listing(&shown, more)
        ),
        "run the same command again: only what is missing is transferred",
    ))
}
