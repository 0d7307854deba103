//! `git mlv run [<stage>…]`: run the stale stages of `mlv.toml` in dependency order.

use crate::error::failed;
use crate::lock::LockFile;
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
    let _lock = repo.lock(ui)?;
    let project = Project::load(repo.root())?;
    if project.stages.is_empty() {
        return Err(crate::error::usage(
            "mlv.toml defines no stages\nhint: add a `[stages.<name>]` table with `cmd`, `deps` and `outs`; see docs/pipeline.md",
        ));
    }
    let graph = Graph::new(&project)?;
    let selected = graph.with_upstream(&project, &args.stages)?;
    pipeline::check_deps(&repo, &project, &selected)?;
    if !args.dry_run {
        crate::commands::init::ensure(&repo)?;
    }
    let mut runner = Runner {
        repo: &repo,
        project: &project,
        graph: &graph,
        cache: repo.cache()?,
        stat: repo.stat_cache(),
        lock: LockFile::load(repo.root())?,
        ui,
        force: args.force,
        outcomes: Vec::new(),
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
}

/// What to do with a stage whose turn has come.
enum Decision {
    Skip,
    Restore(crate::lock::StageLock, Vec<Reason>),
    Run(Inputs, Vec<Reason>),
}

impl Runner<'_> {
    fn decide(&mut self, stage: &Stage) -> anyhow::Result<Decision> {
        let now = pipeline::inputs(self.repo, &mut self.stat, stage)?;
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
            Some(run) => Decision::Restore(run, reasons),
            None => Decision::Run(now, reasons),
        })
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
            let upstream: Vec<&String> = self.graph.upstream[name]
                .iter()
                .filter(|u| running.contains(u.as_str()))
                .collect();
            let mut reasons = match self.decide(stage)? {
                Decision::Skip => vec![],
                Decision::Run(_, r) => r,
                Decision::Restore(_, r) => {
                    self.ui.info(&format!(
                        "would restore stage `{name}` from the run cache ({})",
                        join(&r)
                    ));
                    self.outcome(name, "would-restore", &r);
                    running.insert(name);
                    continue;
                }
            };
            reasons.extend(upstream.iter().map(|u| Reason::Upstream(u.to_string())));
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
                    let stage = &self.project.stages[name];
                    match self.decide(stage)? {
                        Decision::Skip => {
                            self.ui.info(&format!("stage `{name}` is up to date"));
                            self.outcome(name, "skipped", &[]);
                            done.insert(name.clone());
                        }
                        Decision::Restore(run, reasons) => {
                            pipeline::restore_run(self.repo, &self.cache, &mut self.stat, &run)?;
                            self.finish(stage, run)?;
                            self.ui.info(&format!(
                                "restored stage `{name}` from the run cache ({})",
                                join(&reasons)
                            ));
                            self.outcome(name, "restored", &reasons);
                            done.insert(name.clone());
                        }
                        Decision::Run(now, reasons) => {
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
                    }
                    i = 0;
                }
                if started.is_empty() {
                    break;
                }
                let (name, status) = rx.recv().expect("a running stage reports back");
                let (now, reasons) = started.remove(&name).expect("started");
                let stage = &self.project.stages[&name];
                let ok = match status {
                    Ok(s) if s.success() => true,
                    Ok(s) => {
                        failures.push(format!(
                            "stage `{name}` failed: `{}` {}",
                            stage.cmd,
                            describe(s)
                        ));
                        false
                    }
                    Err(e) => {
                        failures.push(format!(
                            "stage `{name}` could not start `sh -c {}`: {e}",
                            stage.cmd
                        ));
                        false
                    }
                };
                if !ok {
                    self.outcome(&name, "failed", &reasons);
                    continue;
                }
                let run = pipeline::record(self.repo, &self.cache, &mut self.stat, stage, &now)?;
                let key = pipeline::run_key(stage, &now);
                if let Err(e) = pipeline::remember_run(&self.cache, &key, &run) {
                    self.ui
                        .detail(&format!("could not save the run cache record: {e}"));
                }
                self.finish(stage, run)?;
                self.outcome(&name, "ran", &reasons);
                done.insert(name);
            }
            Ok(())
        })?;
        for name in pending {
            self.outcome(name, "not-run", &[]);
        }
        if !failures.is_empty() {
            return Err(failed(format!(
                "{}\nnothing was recorded for the failed stage(s): their outs and mlv.lock entries are as before; stages that finished earlier are recorded\nhint: fix the command and run `git mlv run` again",
                failures.join("\n")
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
            let mut files = vec![crate::lock::FILE.to_string()];
            for o in &changed {
                let stage = &self.project.stages[&o.stage];
                files.extend(stage.outs.iter().map(|p| self.repo.display(&p.pointer())));
                files.extend(stage.metrics.iter().map(|p| self.repo.display(p)));
                files.extend(stage.outs.iter().map(|p| {
                    let g = crate::paths::RepoPath::new(match p.parent() {
                        "" => ".gitignore".to_string(),
                        dir => format!("{dir}/.gitignore"),
                    });
                    self.repo.display(&g)
                }));
            }
            files.sort();
            files.dedup();
            self.ui.hint(&format!(
                "record the results in git: `git add {}`, then commit",
                files.join(" ")
            ));
        }
        Ok(())
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
