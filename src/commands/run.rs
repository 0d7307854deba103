//! `git mlv run [<stage>…]`: run the stale stages of `mlv.toml` in dependency order.

use crate::cache::Access;
use crate::error::failed;
use crate::lock::LockFile;
use crate::paths::RepoPath;
use crate::pipeline::{self, Graph, Inputs, Reason};
use crate::project::{Project, Stage};
use crate::repo::Repo;
use crate::ui::Ui;
use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitStatus;
use std::sync::mpsc;

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
struct Outcome {
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
    let created = if args.dry_run {
        Vec::new()
    } else {
        crate::ops::init::ensure(&repo)?
    };
    let mut runner = Runner {
        repo: &repo,
        project: &project,
        graph: &graph,
        cache,
        stat: repo.stat_cache(),
        lock: LockFile::load(repo.root())?,
        ui,
        force: args.force,
        outcomes: Vec::new(),
        to_stage: created,
    };
    let result = if args.dry_run {
        runner.dry_run(&selected)
    } else {
        runner.run(&selected, args.jobs as usize)
    };
    runner.stat.save()?;
    if ui.json {
        ui.print_json(&serde_json::json!({ "stages": runner.outcomes }))?;
    }
    result
}

struct Runner<'a> {
    repo: &'a Repo,
    project: &'a Project,
    graph: &'a Graph,
    cache: crate::cache::Cache,
    stat: crate::stat_cache::StatCache,
    lock: LockFile,
    ui: &'a Ui,
    force: bool,
    outcomes: Vec<Outcome>,
    /// Committed files this run changed, for the closing `git add` hint.
    to_stage: Vec<RepoPath>,
}

/// What to do with a stage whose turn has come.
enum Decision {
    Skip,
    Restore(Inputs, crate::lock::StageLock, Vec<Reason>),
    Run(Inputs, Vec<Reason>),
}

impl Runner<'_> {
    fn decide(&mut self, stage: &Stage) -> anyhow::Result<Decision> {
        let now = pipeline::inputs(self.repo, &mut self.stat, stage)?;
        self.warn_unrecorded_deps(stage, &now);
        let mut reasons = pipeline::stale_reasons(
            self.repo,
            &mut self.stat,
            stage,
            self.lock.stages.get(&stage.name),
            &now,
        )?;
        if self.force {
            reasons.insert(0, Reason::Forced);
            return Ok(Decision::Run(now, reasons));
        }
        if reasons.is_empty() {
            return Ok(Decision::Skip);
        }
        let key = pipeline::run_key(stage, &now);
        Ok(match pipeline::cached_run(&self.cache, &key) {
            Some(run) => Decision::Restore(now, run, reasons),
            None => Decision::Run(now, reasons),
        })
    }

    /// A tracked dep whose data differs from its pointer: the stage uses the work tree's
    /// bytes, which no commit records until `git mlv add`.
    fn warn_unrecorded_deps(&self, stage: &Stage, now: &Inputs) {
        for dep in &stage.deps {
            let Ok(pointer) = self.repo.load_pointer(dep) else {
                continue;
            };
            if let Some(Some(hash)) = now.deps.get(dep.as_str())
                && *hash != pointer.hash
            {
                let shown = self.repo.display(dep);
                self.ui.warn(&format!(
                    "dep `{shown}` differs from `{shown}.mlv`; stage `{}` uses the work tree's data, which no commit records until you run `git mlv add {shown}`",
                    stage.name
                ));
            }
        }
    }

    fn outcome(&mut self, stage: &str, action: &'static str, reasons: &[Reason]) {
        self.outcomes.push(Outcome {
            stage: stage.to_string(),
            action,
            reasons: reasons.iter().map(Reason::to_string).collect(),
        });
    }

    fn dry_run(&mut self, selected: &[String]) -> anyhow::Result<()> {
        let mut running: BTreeSet<&str> = BTreeSet::new();
        for name in selected {
            let stage = &self.project.stages[name];
            let upstream: Vec<Reason> = self.graph.upstream[name]
                .iter()
                .filter(|u| running.contains(u.as_str()))
                .map(|u| Reason::Upstream(u.clone()))
                .collect();
            let mut reasons = match self.decide(stage)? {
                Decision::Skip => vec![],
                Decision::Run(_, r) => r,
                // Inputs about to change upstream make the cached run irrelevant.
                Decision::Restore(_, _, r) if upstream.is_empty() => {
                    self.ui.info(&format!(
                        "would restore stage `{name}` from the run cache ({})",
                        join(&r)
                    ));
                    self.outcome(name, "would-restore", &r);
                    running.insert(name);
                    continue;
                }
                Decision::Restore(_, _, r) => r,
            };
            reasons.extend(upstream);
            if reasons.is_empty() {
                self.ui.info(&format!("stage `{name}` is up to date"));
                self.outcome(name, "skipped", &[]);
            } else {
                self.ui.info(&format!(
                    "would run stage `{name}`: {} ({})",
                    stage.cmd,
                    join(&reasons)
                ));
                self.outcome(name, "would-run", &reasons);
                running.insert(name);
            }
        }
        Ok(())
    }

    fn run(&mut self, selected: &[String], jobs: usize) -> anyhow::Result<()> {
        let mut pending: Vec<&String> = selected.iter().collect();
        let mut done: BTreeSet<String> = BTreeSet::new();
        let mut failures: Vec<String> = Vec::new();
        let mut started: BTreeMap<String, (Inputs, Vec<Reason>)> = BTreeMap::new();
        let (tx, rx) = mpsc::channel::<(String, std::io::Result<ExitStatus>)>();
        std::thread::scope(|scope| -> anyhow::Result<()> {
            loop {
                // Start every stage whose upstream is done, up to `jobs` commands at once.
                let mut i = 0;
                while failures.is_empty() && i < pending.len() && started.len() < jobs {
                    let name = pending[i];
                    if !self.graph.upstream[name].iter().all(|u| done.contains(u)) {
                        i += 1;
                        continue;
                    }
                    pending.remove(i);
                    i = 0;
                    let stage = &self.project.stages[name];
                    let decision = self.decide(stage)?;
                    if let Decision::Restore(_, _, reasons) | Decision::Run(_, reasons) = &decision
                    {
                        self.save_changed_outs(stage, reasons)?;
                    }
                    let to_run = match decision {
                        Decision::Skip => {
                            self.ui.info(&format!("stage `{name}` is up to date"));
                            self.outcome(name, "skipped", &[]);
                            None
                        }
                        Decision::Restore(now, run, reasons) => {
                            if pipeline::restore_run(self.repo, &self.cache, &mut self.stat, &run)?
                            {
                                self.finish(stage, run)?;
                                self.ui.info(&format!(
                                    "restored stage `{name}` from the run cache ({})",
                                    join(&reasons)
                                ));
                                self.outcome(name, "restored", &reasons);
                                None
                            } else {
                                self.ui.warn(&format!(
                                    "stage `{name}` ran before with these inputs, but an out in the work tree holds data the cache lacks; running the command instead of restoring over it"
                                ));
                                Some((now, reasons))
                            }
                        }
                        Decision::Run(now, reasons) => Some((now, reasons)),
                    };
                    let Some((now, reasons)) = to_run else {
                        done.insert(name.clone());
                        continue;
                    };
                    self.ui.info(&format!(
                        "running stage `{name}` ({}): {}",
                        join(&reasons),
                        stage.cmd
                    ));
                    pipeline::unlink_cached_outs(self.repo, stage)?;
                    let mut cmd = command(self.repo, stage);
                    if self.ui.json {
                        cmd.stdout(std::io::stderr());
                    }
                    let tx = tx.clone();
                    let name = name.clone();
                    started.insert(name.clone(), (now, reasons));
                    scope.spawn(move || {
                        let status = cmd.status();
                        let _ = tx.send((name, status));
                    });
                }
                if started.is_empty() {
                    break;
                }
                let (name, status) = rx.recv().expect("a running stage reports back");
                let (now, reasons) = started.remove(&name).expect("started");
                let stage = &self.project.stages[&name];
                let recorded = match status {
                    Ok(s) if s.success() => self.record(stage, &now),
                    Ok(s) => Err(failed(format!(
                        "stage `{name}` failed: `{}` {}",
                        stage.cmd,
                        describe(s)
                    ))),
                    Err(e) => Err(failed(format!(
                        "stage `{name}` could not start `sh -c {}`: {e}",
                        stage.cmd
                    ))),
                };
                // A stage that cannot be recorded fails like its command did; stages still
                // running finish and are recorded.
                match recorded {
                    Ok(()) => {
                        self.outcome(&name, "ran", &reasons);
                        done.insert(name);
                    }
                    Err(e) => {
                        failures.push(format!("{e:#}"));
                        self.outcome(&name, "failed", &reasons);
                    }
                }
            }
            Ok(())
        })?;
        for name in pending {
            self.outcome(name, "not-run", &[]);
        }
        if !failures.is_empty() {
            return Err(failed(format!(
                "{}\nnothing was recorded for {} as before; stages that finished are recorded\nhint: fix the command and run `git mlv run` again",
                failures.join("\n"),
                if failures.len() == 1 {
                    "the failed stage: its outs and mlv.lock entry are"
                } else {
                    "the failed stages: their outs and mlv.lock entries are"
                }
            )));
        }
        let changed: Vec<&Outcome> = self
            .outcomes
            .iter()
            .filter(|o| o.action != "skipped")
            .collect();
        if changed.is_empty() {
            self.ui.info("every stage is up to date");
        } else {
            self.to_stage.push(RepoPath::new(crate::lock::FILE));
            for o in &changed {
                let stage = &self.project.stages[&o.stage];
                for out in &stage.outs {
                    self.to_stage.push(out.pointer());
                    self.to_stage.push(crate::gitignore::file_for(out));
                }
                // A stage may leave a declared metrics file unwritten; `git add` would
                // refuse the whole line for it.
                self.to_stage.extend(
                    stage
                        .metrics
                        .iter()
                        .filter(|m| m.to_abs(self.repo.root()).exists())
                        .cloned(),
                );
            }
        }
        super::common::hint_git_add(self.repo, self.ui, &self.to_stage);
        Ok(())
    }

    /// Keeps the bytes of outs changed by hand (not what mlv.lock records) in the cache
    /// before the stage overwrites them, and says where.
    fn save_changed_outs(&mut self, stage: &Stage, reasons: &[Reason]) -> anyhow::Result<()> {
        for r in reasons {
            let Reason::OutChanged(out) = r else {
                continue;
            };
            let path = RepoPath::new(out.as_str());
            if !stage.outs.contains(&path) {
                continue; // metrics files are in git
            }
            if let Some(hash) =
                pipeline::save_changed_out(self.repo, &self.cache, &mut self.stat, &path)?
            {
                self.ui.warn(&format!(
                    "out `{}` held changes that mlv.lock does not record; they are kept in the cache as {hash} before stage `{}` replaces them",
                    self.repo.display(&path),
                    stage.name
                ));
            }
        }
        Ok(())
    }

    /// Tracks a finished stage's outs and writes its lock entry and run-cache record.
    fn record(&mut self, stage: &Stage, now: &Inputs) -> anyhow::Result<()> {
        let run =
            pipeline::record(self.repo, &self.cache, &mut self.stat, stage, now).map_err(|e| {
                match crate::error::exit_code(&e) {
                    1 => e,
                    _ => failed(format!("stage `{}`: {e:#}", stage.name)),
                }
            })?;
        let key = pipeline::run_key(stage, now);
        if let Err(e) = pipeline::remember_run(&self.cache, &key, &run) {
            self.ui
                .detail(&format!("could not save the run cache record: {e}"));
        }
        self.finish(stage, run)
    }

    /// Writes the stage's new lock entry at once, so a later stage's failure keeps it.
    fn finish(&mut self, stage: &Stage, run: crate::lock::StageLock) -> anyhow::Result<()> {
        self.lock.stages.insert(stage.name.clone(), run);
        self.lock.save(self.repo.root())?;
        self.stat.save()?;
        Ok(())
    }
}

/// `sh -c <cmd>` in the stage's folder, with its environment; output goes to the terminal.
fn command(repo: &Repo, stage: &Stage) -> std::process::Command {
    let dir = match &stage.wdir {
        Some(w) => w.to_abs(repo.root()),
        None => repo.root().to_path_buf(),
    };
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg(&stage.cmd)
        .current_dir(dir)
        .envs(&stage.env);
    cmd
}

fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(sig)) => format!("was killed by signal {sig}"),
        _ => "failed".to_string(),
    }
}

fn join(reasons: &[Reason]) -> String {
    reasons
        .iter()
        .map(Reason::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
