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
    Ok(Engine::new(backend, jobs).with_packs(threshold, local))
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
