//! `git mlv metrics show|diff`: the pipeline's metrics files, flattened to dotted keys,
//! at one revision or compared between two (DVC's defaults: HEAD against the work tree).
//! One file per subcommand; this one only dispatches.

mod diff;
mod show;
mod table;

pub use table::{print_table, table_lines};

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
    /// Print every metric of the pipeline's metrics files (and the files gates read)
    Show {
        /// Read the metrics committed at this revision (or registry reference: `model#prod`) instead of the work tree's
        #[arg(long, value_name = "REV")]
        rev: Option<String>,
    },
    /// Compare metrics between two revisions (default: HEAD against the work tree)
    Diff {
        /// The old side (default HEAD)
        rev_a: Option<String>,
        /// The new side (default: the work tree)
        rev_b: Option<String>,
    },
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    match args.action {
        Action::Show { rev } => show::run(&repo, rev.as_deref(), ui),
        Action::Diff { rev_a, rev_b } => diff::run(
            &repo,
            rev_a.as_deref().unwrap_or("HEAD"),
            rev_b.as_deref(),
            ui,
        ),
    }
}
