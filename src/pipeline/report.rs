//! How a run reports: each stage's [`Outcome`], the [`Notice`]s that do not stop it, and the
//! [`RunReport`] trait the `run` command implements to print them, so the scheduler never prints.

use super::staleness::Reason;
use crate::hash::Hash;
use crate::paths::RepoPath;
use crate::project::Stage;

/// What became of a stage in one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Up to date: nothing to do.
    Skipped,
    /// Its outs and lock entry came from the run cache instead of running its command.
    Restored,
    /// Its command ran and its outs and lock entry were recorded.
    Ran,
    /// Its command failed or could not start, or its outs could not be recorded.
    Failed,
    /// Not started, because another stage failed.
    NotRun,
    /// A dry run: it would be restored from the run cache.
    WouldRestore,
    /// A dry run: its command would run.
    WouldRun,
}

impl Outcome {
    /// The name `run --json` gives it.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Skipped => "skipped",
            Outcome::Restored => "restored",
            Outcome::Ran => "ran",
            Outcome::Failed => "failed",
            Outcome::NotRun => "not-run",
            Outcome::WouldRestore => "would-restore",
            Outcome::WouldRun => "would-run",
        }
    }
}

/// Something the user should know that does not stop the run.
#[derive(Debug)]
pub enum Notice<'a> {
    /// A tracked dep's data differs from its pointer: the stage uses the work tree's bytes,
    /// which no commit records until `git mlv add`.
    UnrecordedDep { stage: &'a str, dep: &'a RepoPath },
    /// An out held changes mlv.lock does not record; they are kept in the cache as `hash`
    /// before the stage replaces them.
    ChangedOutKept {
        stage: &'a str,
        out: &'a RepoPath,
        hash: Hash,
    },
    /// A cached run would overwrite work-tree data the cache lacks: the command runs instead.
    RestoreRefused { stage: &'a str },
    /// The run cache record could not be written; that only costs a re-run later.
    RunCacheNotSaved(std::io::Error),
}

/// How the scheduler tells its caller what happens; the `run` command prints it.
pub trait RunReport {
    /// A stage's command is about to start, for these reasons.
    fn stage_started(&mut self, stage: &Stage, reasons: &[Reason]);
    /// A stage reached its outcome; `reasons` say why it ran or would run.
    fn stage_finished(&mut self, stage: &Stage, outcome: Outcome, reasons: &[Reason]);
    fn notice(&mut self, notice: Notice<'_>);
    /// Where stage commands write their standard output: the terminal unless overridden.
    fn output(&self) -> std::process::Stdio {
        std::process::Stdio::inherit()
    }
}
