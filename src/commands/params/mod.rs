//! `git mlv params diff`: the params files the stages name, compared key by key between
//! two revisions (DVC's defaults: HEAD against the work tree). One file per subcommand;
//! this one only dispatches.

mod diff;

use crate::repo::Repo;
use crate::ui::Ui;
use clap::Subcommand;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Subcommand)]
pub enum Action {
    /// Compare params between two revisions (default: HEAD against the work tree)
    Diff {
        /// The old side (default HEAD; a registry reference like `model#prod` works too)
        rev_a: Option<String>,
        /// The new side (default: the work tree)
        rev_b: Option<String>,
        /// List unchanged params too
        #[arg(long)]
        all: bool,
    },
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    match args.action {
        Action::Diff { rev_a, rev_b, all } => diff::run(
            &repo,
            rev_a.as_deref().unwrap_or("HEAD"),
            rev_b.as_deref(),
            all,
            ui,
        ),
    }
}
