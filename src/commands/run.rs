//! `git mlv run [<stage>…]`: run the stale stages of `mlv.toml` in dependency order.

use crate::cache::Access;
use crate::pipeline::{self, Graph, Notice, Outcome, Reason, RunReport, Scheduler};
use crate::project::{Project, Stage};
use crate::repo::Repo;
use crate::ui::Ui;

#[derive(clap::Args)]
pub struct Args {
    /// Stages to bring up to date, with their upstream stages (all when none)
    pub stages: Vec<String>,
    /// Run the stages even when mlv.lock says they are up to date (and skip the run cache)
    #[arg(short, long)]
    pub force: bool,
    /// Say which stages would run and why, without running anything
    #[arg(long)]
    pub dry_run: bool,
    /// Stages whose commands may run at the same time (when they do not depend on each other)
    #[arg(short, long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: u32,
}

#[derive(serde::Serialize)]
struct StageOutcome {
    stage: String,
    /// `ran`, `skipped`, `restored` (from the run cache), `failed`, `would-run`, `not-run`.
    action: &'static str,
    reasons: Vec<String>,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    let cache = repo.cache()?;
    let _cache_lock = crate::commands::common::lock_cache(&cache, Access::Shared, ui)?;
    let _lock = crate::commands::common::lock_repo(&repo, ui)?;
    let project = Project::load(repo.root())?;
    if project.stages.is_empty() {
        return Err(crate::error::usage(
            "mlv.toml defines no stages\nhint: add a `[stages.<name>]` table with `cmd`, `deps` and `outs`; see docs/pipeline.md",
        ));
    }
    let graph = Graph::new(&project)?;
    let selected = graph.with_upstream(&project, &args.stages)?;
    pipeline::check_deps(&repo, &project, &selected)?;
    // Committed files this run changed, for the closing `git add` hint.
    let mut to_stage = if args.dry_run {
        Vec::new()
    } else {
        crate::ops::init::ensure(&repo)?
    };
    let mut report = Report {
        repo: &repo,
        ui,
        outcomes: Vec::new(),
    };
    let mut scheduler = Scheduler::new(
        &repo,
        &project,
        &graph,
        cache,
        args.force,
        &mut report,
        crate::error::READER,
    )?;
    let result = if args.dry_run {
        scheduler.dry_run(&selected).map(|()| None)
    } else {
        scheduler.run(&selected, args.jobs as usize).map(Some)
    };
    scheduler.save()?;
    if ui.json {
        ui.print_json(&serde_json::json!({ "stages": report.outcomes }))?;
    }
    if let Some(changed) = result? {
        if changed.is_empty() {
            ui.info("every stage is up to date");
        }
        to_stage.extend(changed);
        super::common::hint_git_add(&repo, ui, &to_stage);
    }
    Ok(())
}

/// Prints what the scheduler reports and keeps each stage's outcome for `--json`.
struct Report<'a> {
    repo: &'a Repo,
    ui: &'a Ui,
    outcomes: Vec<StageOutcome>,
}

impl RunReport for Report<'_> {
    fn stage_started(&mut self, stage: &Stage, reasons: &[Reason]) {
        self.ui.info(&format!(
            "running stage `{}` ({}): {}",
            stage.name,
            join(reasons),
            stage.cmd
        ));
    }

    fn stage_finished(&mut self, stage: &Stage, outcome: Outcome, reasons: &[Reason]) {
        let name = &stage.name;
        match outcome {
            Outcome::Skipped => self.ui.info(&format!("stage `{name}` is up to date")),
            Outcome::Restored => self.ui.info(&format!(
                "restored stage `{name}` from the run cache ({})",
                join(reasons)
            )),
            Outcome::WouldRestore => self.ui.info(&format!(
                "would restore stage `{name}` from the run cache ({})",
                join(reasons)
            )),
            Outcome::WouldRun => self.ui.info(&format!(
                "would run stage `{name}`: {} ({})",
                stage.cmd,
                join(reasons)
            )),
            // A failure is in the error `run` returns; a stage's command printed its own output.
            Outcome::Ran | Outcome::Failed | Outcome::NotRun => {}
        }
        self.outcomes.push(StageOutcome {
            stage: name.clone(),
            action: outcome.as_str(),
            reasons: reasons.iter().map(Reason::to_string).collect(),
        });
    }

    fn notice(&mut self, notice: Notice<'_>) {
        match notice {
            Notice::UnrecordedDep { stage, dep } => {
                let shown = self.repo.display(dep);
                self.ui.warn(&format!(
                    "dep `{shown}` differs from `{shown}.mlv`; stage `{stage}` uses the work tree's data, which no commit records until you run `git mlv add {shown}`"
                ));
            }
            Notice::ChangedOutKept { stage, out, hash } => self.ui.warn(&format!(
                "out `{}` held changes that mlv.lock does not record; they are kept in the cache as {hash} before stage `{stage}` replaces them",
                self.repo.display(out)
            )),
            Notice::RestoreRefused { stage } => self.ui.warn(&format!(
                "stage `{stage}` ran before with these inputs, but an out in the work tree holds data the cache lacks; running the command instead of restoring over it"
            )),
            Notice::RunCacheNotSaved(e) => self
                .ui
                .detail(&format!("could not save the run cache record: {e}")),
        }
    }

    /// Under `--json` stdout carries only the JSON report, so commands write to stderr.
    fn output(&self) -> std::process::Stdio {
        if self.ui.json {
            std::io::stderr().into()
        } else {
            std::process::Stdio::inherit()
        }
    }
}

fn join(reasons: &[Reason]) -> String {
    reasons
        .iter()
        .map(Reason::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
