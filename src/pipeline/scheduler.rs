//! Running the selected stages in dependency order: deciding per stage whether it is up to
//! date, restorable from the run cache or must run, running up to `jobs` commands at once,
//! and recording each as it finishes. It reports through [`RunReport`] and never prints.

use super::graph::Graph;
use super::inputs::{self, Inputs};
use super::record;
use super::report::{Notice, Outcome, RunReport};
use super::run_cache;
use super::staleness::{self, Reason};
use crate::cache::Cache;
use crate::lockfile::{LockFile, StageLock};
use crate::paths::RepoPath;
use crate::problem::{Kind, Reader, failed, failed_with_hint};
use crate::project::{Project, Stage};
use crate::repo::Repo;
use crate::stat_cache::StatCache;
use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitStatus;
use std::sync::mpsc;

/// One run over the stages of a project: holds the caches and `mlv.lock` it updates.
pub struct Scheduler<'a> {
    repo: &'a Repo,
    project: &'a Project,
    graph: &'a Graph,
    cache: Cache,
    stat: StatCache,
    lock: LockFile,
    force: bool,
    report: &'a mut dyn RunReport,
    /// Whether an error is a bad request (exit 2) rather than a failure, and its text with
    /// its hints: the command layer reads error chains, so it hands the scheduler its reading.
    errors: Reader,
    /// Stages that ran or were restored, whose committed files changed.
    changed: Vec<String>,
}

/// What to do with a stage whose turn has come.
enum Decision {
    Skip,
    Restore(Inputs, StageLock, Vec<Reason>),
    Run(Inputs, Vec<Reason>),
}

impl<'a> Scheduler<'a> {
    /// `force` runs every selected stage, even up-to-date ones, and skips the run cache.
    pub fn new(
        repo: &'a Repo,
        project: &'a Project,
        graph: &'a Graph,
        cache: Cache,
        force: bool,
        report: &'a mut dyn RunReport,
        errors: Reader,
    ) -> anyhow::Result<Self> {
        Ok(Scheduler {
            repo,
            project,
            graph,
            cache,
            stat: repo.stat_cache(),
            lock: LockFile::load(repo.root())?,
            force,
            report,
            errors,
            changed: Vec::new(),
        })
    }

    /// Saves the stat cache the stages' hashing filled.
    pub fn save(mut self) -> std::io::Result<()> {
        self.stat.save()
    }

    fn decide(&mut self, stage: &Stage) -> anyhow::Result<Decision> {
        let now = inputs::inputs(self.repo, &mut self.stat, stage)?;
        self.warn_unrecorded_deps(stage, &now);
        let mut reasons = staleness::stale_reasons(
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
        let key = run_cache::run_key(stage, &now);
        Ok(match run_cache::cached_run(&self.cache, &key) {
            Some(run) => Decision::Restore(now, run, reasons),
            None => Decision::Run(now, reasons),
        })
    }

    /// A tracked dep whose data differs from its pointer: the stage uses the work tree's
    /// bytes, which no commit records until `git mlv add`.
    fn warn_unrecorded_deps(&mut self, stage: &Stage, now: &Inputs) {
        for dep in &stage.deps {
            let Ok(pointer) = self.repo.load_pointer(dep) else {
                continue;
            };
            if let Some(Some(hash)) = now.deps.get(dep.as_str())
                && *hash != pointer.hash
            {
                self.report.notice(Notice::UnrecordedDep {
                    stage: &stage.name,
                    dep,
                });
            }
        }
    }

    /// Says which of `selected` would run and why, changing nothing.
    pub fn dry_run(&mut self, selected: &[String]) -> anyhow::Result<()> {
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
                    self.report.stage_finished(stage, Outcome::WouldRestore, &r);
                    running.insert(name);
                    continue;
                }
                Decision::Restore(_, _, r) => r,
            };
            reasons.extend(upstream);
            if reasons.is_empty() {
                self.report.stage_finished(stage, Outcome::Skipped, &[]);
            } else {
                self.report
                    .stage_finished(stage, Outcome::WouldRun, &reasons);
                running.insert(name);
            }
        }
        Ok(())
    }

    /// Brings `selected` up to date, up to `jobs` commands at once. Returns the committed
    /// files the run changed (none when every stage was up to date); an error when a stage
    /// failed, after the stages still running finished and were recorded.
    pub fn run(&mut self, selected: &[String], jobs: usize) -> anyhow::Result<Vec<RepoPath>> {
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
                            self.report.stage_finished(stage, Outcome::Skipped, &[]);
                            None
                        }
                        Decision::Restore(now, run, reasons) => {
                            if run_cache::restore_run(self.repo, &self.cache, &mut self.stat, &run)?
                            {
                                record::write_entry(
                                    self.repo,
                                    &mut self.lock,
                                    &mut self.stat,
                                    stage,
                                    run,
                                )?;
                                self.report
                                    .stage_finished(stage, Outcome::Restored, &reasons);
                                self.changed.push(name.clone());
                                None
                            } else {
                                self.report.notice(Notice::RestoreRefused { stage: name });
                                Some((now, reasons))
                            }
                        }
                        Decision::Run(now, reasons) => Some((now, reasons)),
                    };
                    let Some((now, reasons)) = to_run else {
                        done.insert(name.clone());
                        continue;
                    };
                    self.report.stage_started(stage, &reasons);
                    record::unlink_cached_outs(self.repo, stage)?;
                    let mut cmd = command(self.repo, stage);
                    cmd.stdout(self.report.output());
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
                        self.report.stage_finished(stage, Outcome::Ran, &reasons);
                        self.changed.push(name.clone());
                        done.insert(name);
                    }
                    Err(e) => {
                        failures.push((self.errors.text)(&e));
                        self.report.stage_finished(stage, Outcome::Failed, &reasons);
                    }
                }
            }
            Ok(())
        })?;
        for name in pending {
            self.report
                .stage_finished(&self.project.stages[name], Outcome::NotRun, &[]);
        }
        if !failures.is_empty() {
            return Err(failed_with_hint(
                format!(
                    "{}\nnothing was recorded for {} as before; stages that finished are recorded",
                    failures.join("\n"),
                    if failures.len() == 1 {
                        "the failed stage: its outs and mlv.lock entry are"
                    } else {
                        "the failed stages: their outs and mlv.lock entries are"
                    }
                ),
                "fix the command and run `git mlv run` again",
            ));
        }
        let mut to_stage = Vec::new();
        if !self.changed.is_empty() {
            to_stage.push(RepoPath::new(crate::lockfile::FILE));
            for name in &self.changed {
                to_stage.extend(record::committed_files(
                    self.repo,
                    &self.project.stages[name],
                ));
            }
        }
        Ok(to_stage)
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
                inputs::save_changed_out(self.repo, &self.cache, &mut self.stat, &path)?
            {
                self.report.notice(Notice::ChangedOutKept {
                    stage: &stage.name,
                    out: &path,
                    hash,
                });
            }
        }
        Ok(())
    }

    /// Tracks a finished stage's outs and writes its lock entry and run-cache record.
    fn record(&mut self, stage: &Stage, now: &Inputs) -> anyhow::Result<()> {
        let run =
            record::record(self.repo, &self.cache, &mut self.stat, stage, now).map_err(|e| {
                if (self.errors.kind)(&e) == Kind::Usage {
                    failed(format!(
                        "stage `{}`: {}",
                        stage.name,
                        (self.errors.text)(&e)
                    ))
                } else {
                    e
                }
            })?;
        let key = run_cache::run_key(stage, now);
        if let Err(e) = run_cache::remember_run(&self.cache, &key, &run) {
            self.report.notice(Notice::RunCacheNotSaved(e));
        }
        record::write_entry(self.repo, &mut self.lock, &mut self.stat, stage, run)
    }
}

/// `sh -c <cmd>` in the stage's folder, with its environment.
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
