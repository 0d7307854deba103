//! `git mlv exp run|show|apply|branch|remove|push|pull`: experiments, each a pipeline run
//! with params overrides in a worktree of its own, kept as a commit under
//! `refs/mlv/exps/<name>` (see `ops::exp`). One file per subcommand; this one dispatches.

mod apply;
mod branch;
mod remove;
mod run;
mod show;
mod sync;

use crate::ui::Ui;
use clap::Subcommand;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Subcommand)]
pub enum Action {
    /// Run the pipeline with params overrides in a worktree of its own (a sweep: one experiment per value)
    Run(run::Args),
    /// List experiments with their changed params, metrics and status
    Show(show::Args),
    /// Put an experiment's params, pointers and mlv.lock into the work tree and check out its data
    Apply(apply::Args),
    /// Make a branch at an experiment's commit
    Branch(branch::Args),
    /// Forget experiments: their refs, records and worktrees
    Remove(remove::Args),
    /// Send experiments' refs to a git remote and their data to the git-mlv remote
    Push(sync::Args),
    /// Get experiments' refs from a git remote and their data from the git-mlv remote
    Pull(sync::Args),
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    match args.action {
        Action::Run(a) => run::run(a, ui),
        Action::Show(a) => show::run(a, ui),
        Action::Apply(a) => apply::run(a, ui),
        Action::Branch(a) => branch::run(a, ui),
        Action::Remove(a) => remove::run(a, ui),
        Action::Push(a) => sync::push(a, ui),
        Action::Pull(a) => sync::pull(a, ui),
    }
}
