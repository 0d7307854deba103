//! Why a stage is stale against its `mlv.lock` entry, and the check `status` makes over
//! every stage.

use super::graph::Graph;
use super::inputs::{Inputs, content, stage_deps, stage_params};
use crate::lockfile::{LockFile, StageLock};
use crate::project::{Project, Stage};
use crate::repo::Repo;
use crate::stat_cache::StatCache;
use std::fmt;

/// Why a stage must run.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    NeverRan,
    Forced,
    CommandChanged,
    DepChanged(String),
    DepMissing(String),
    ParamsChanged(String),
    OutMissing(String),
    OutChanged(String),
    Upstream(String),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NeverRan => write!(f, "not in mlv.lock yet"),
            Reason::Forced => write!(f, "--force"),
            Reason::CommandChanged => write!(f, "command changed"),
            Reason::DepChanged(p) => write!(f, "dep `{p}` changed"),
            Reason::DepMissing(p) => write!(f, "dep `{p}` is missing"),
            Reason::ParamsChanged(p) => write!(f, "params in `{p}` changed"),
            Reason::OutMissing(p) => write!(f, "out `{p}` is missing"),
            Reason::OutChanged(p) => write!(f, "out `{p}` differs from mlv.lock"),
            Reason::Upstream(s) => write!(f, "upstream stage `{s}` runs first"),
        }
    }
}

/// Compares a stage's current inputs and outs with its lock entry.
pub fn stale_reasons(
    repo: &Repo,
    stat: &mut StatCache,
    stage: &Stage,
    locked: Option<&StageLock>,
    now: &Inputs,
) -> anyhow::Result<Vec<Reason>> {
    let mut reasons = input_reasons(stage, locked, now);
    let Some(locked) = locked else {
        return Ok(reasons);
    };
    for out in stage.products() {
        let recorded = locked.product(out.as_str());
        match content(repo, stat, out)? {
            None => reasons.push(Reason::OutMissing(out.to_string())),
            Some(c) if Some(c.hash) != recorded => {
                reasons.push(Reason::OutChanged(out.to_string()))
            }
            Some(_) => {}
        }
    }
    Ok(reasons)
}

/// Why the lock entry no longer follows from the stage's command, deps and params: the
/// recorded outs are then not tied to the inputs that exist now.
pub fn input_reasons(stage: &Stage, locked: Option<&StageLock>, now: &Inputs) -> Vec<Reason> {
    let Some(locked) = locked else {
        return vec![Reason::NeverRan];
    };
    let mut reasons = Vec::new();
    if locked.cmd != stage.cmd {
        reasons.push(Reason::CommandChanged);
    }
    for (dep, hash) in &now.deps {
        match hash {
            None => reasons.push(Reason::DepMissing(dep.clone())),
            Some(h) if locked.deps.get(dep) != Some(h) => {
                reasons.push(Reason::DepChanged(dep.clone()))
            }
            Some(_) => {}
        }
    }
    for (file, values) in &now.params {
        if locked.params.get(file) != Some(values) {
            reasons.push(Reason::ParamsChanged(file.clone()));
        }
    }
    reasons
}

/// What `status` learns about the stages.
#[derive(Debug, Default)]
pub struct StageCheck {
    /// Stages whose lock entry is stale, with why.
    pub stale: Vec<(String, Vec<Reason>)>,
    /// Stages that could not be checked, with why: a params file is missing, unreadable or
    /// lacks a key. `status` still reports the data; `run` refuses such a stage.
    pub unchecked: Vec<(String, anyhow::Error)>,
}

/// Every stage whose lock entry is stale, with why, for `status`. One bad params file
/// leaves its stages unchecked instead of stopping the report.
pub fn stale_stages(
    repo: &Repo,
    stat: &mut StatCache,
    project: &Project,
    lock: &LockFile,
) -> anyhow::Result<StageCheck> {
    let graph = Graph::new(project)?;
    let mut out = StageCheck::default();
    for name in &graph.order {
        let stage = &project.stages[name];
        let params = match stage_params(repo, stage) {
            Ok(p) => p,
            Err(e) => {
                out.unchecked.push((name.clone(), e));
                continue;
            }
        };
        let now = Inputs {
            deps: stage_deps(repo, stat, stage)?,
            params,
        };
        let reasons = stale_reasons(repo, stat, stage, lock.stages.get(name), &now)?;
        if !reasons.is_empty() {
            out.stale.push((name.clone(), reasons));
        }
    }
    Ok(out)
}
