//! `git mlv exp push|pull <git-remote> [name…]`: experiments' refs through git, their data
//! through the git-mlv remote (default: the configured one), as `git mlv push --rev` and
//! `git mlv fetch --rev` of their commits. A push sends the data before the refs, so no
//! one fetches a ref whose data the remote lacks.

use crate::cache::Access;
use crate::commands::common;
use crate::experiment;
use crate::ops::{self, select::Selector};
use crate::repo::Repo;
use crate::ui::Ui;

#[derive(clap::Args)]
pub struct Args {
    /// The git remote that holds the refs (`origin`)
    pub git_remote: String,
    /// The experiments (all when none)
    pub names: Vec<String>,
    /// The git-mlv remote for the data (default: the configured default remote)
    #[arg(short = 'r', long = "remote")]
    pub remote: Option<String>,
    /// Transfers in flight at once
    #[arg(short = 'j', long = "jobs", value_parser = common::parse_jobs)]
    pub jobs: Option<usize>,
}

/// The refspecs for `names` (every experiment's when empty).
fn refspecs(names: &[String]) -> anyhow::Result<Vec<String>> {
    if names.is_empty() {
        let all = format!("{}*", experiment::REF_PREFIX);
        return Ok(vec![format!("{all}:{all}")]);
    }
    names
        .iter()
        .map(|n| {
            let name = experiment::name_of(n);
            experiment::check_name(name)?;
            let r = experiment::ref_name(name);
            Ok(format!("{r}:{r}"))
        })
        .collect()
}

/// The commits of `names` (every experiment's when empty), from this clone's refs.
fn commits(repo: &Repo, names: &[String]) -> anyhow::Result<Vec<String>> {
    match names.is_empty() {
        true => Ok(repo
            .git
            .refs_under(experiment::REF_PREFIX)?
            .into_iter()
            .map(|(_, c)| c)
            .collect()),
        false => names.iter().map(|n| ops::exp::find(repo, n)).collect(),
    }
}

pub fn push(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    let revs = commits(&repo, &args.names)?;
    if revs.is_empty() {
        return nothing(ui);
    }
    let cache = repo.cache()?;
    let (name, engine) = common::engine(&repo, args.remote.as_deref(), args.jobs)?;
    common::check_writable(&repo, &name, "a push")?;
    let selected = Selector {
        revs: revs.clone(),
        ..Selector::default()
    }
    .select(&repo)?;
    let started = std::time::Instant::now();
    let bar = ui.bar("pushing");
    let report = common::runtime()?.block_on(crate::sync::push(&cache, &engine, &selected, &bar));
    drop(bar);
    let report =
        report.map_err(|e| e.context(format!("pushing to remote `{name}` ({})", engine.url())))?;
    common::failures(&name, &report.summary)?;
    if !report.not_in_cache.is_empty() {
        return Err(crate::error::failed_with_hint(
            format!(
                "the cache lacks data the experiments need, so no ref was pushed: {}",
                report.not_in_cache.join(", ")
            ),
            "`git mlv exp pull` or `git mlv fetch --rev <experiment>` gets it first",
        ));
    }
    repo.git
        .push_refs(&args.git_remote, &refspecs(&args.names)?)?;
    report_done(
        ui,
        "pushed",
        &args.git_remote,
        revs.len(),
        &name,
        &report.summary,
        started,
    )
}

pub fn pull(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    repo.git
        .fetch_refs(&args.git_remote, &refspecs(&args.names)?)?;
    let revs = commits(&repo, &args.names)?;
    if revs.is_empty() {
        return nothing(ui);
    }
    let _cache_lock = common::lock_cache(&repo.cache()?, Access::Shared, ui)?;
    let select = Selector {
        revs: revs.clone(),
        ..Selector::default()
    };
    let request = ops::fetch::Request {
        select: &select,
        remote: args.remote.as_deref(),
        jobs: args.jobs,
        ready_copies: false,
    };
    let started = std::time::Instant::now();
    let fetched = ops::fetch::fetch(&repo, &request, &ui.bar("fetching"))?;
    fetched.failures()?;
    report_done(
        ui,
        "pulled",
        &args.git_remote,
        revs.len(),
        &fetched.remote,
        &fetched.summary,
        started,
    )
}

/// No experiment to move: a selector without revisions would mean the work tree's data.
fn nothing(ui: &Ui) -> anyhow::Result<()> {
    if ui.json {
        ui.print_json(&serde_json::json!({ "experiments": 0 }))?;
    }
    ui.info("no experiments");
    Ok(())
}

fn report_done(
    ui: &Ui,
    verb: &str,
    git_remote: &str,
    count: usize,
    remote: &str,
    summary: &crate::transfer::Summary,
    started: std::time::Instant,
) -> anyhow::Result<()> {
    let seconds = started.elapsed().as_secs_f64();
    if ui.json {
        let mut v = common::summary_json(remote, summary, seconds)?;
        v["experiments"] = serde_json::json!(count);
        v["git_remote"] = serde_json::json!(git_remote);
        return Ok(ui.print_json(&v)?);
    }
    ui.info(&format!(
        "{verb} {} through `{git_remote}`",
        crate::ui::count(count as u64, "experiment")
    ));
    common::summary_line(ui, verb, summary, seconds);
    Ok(())
}
