//! `git mlv exp branch <name> <branch>`: a branch at the experiment's commit.

use crate::repo::Repo;
use crate::ui::Ui;

#[derive(clap::Args)]
pub struct Args {
    /// The experiment (its name, or `refs/mlv/exps/<name>`)
    pub name: String,
    /// The new branch
    pub branch: String,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    let commit = crate::ops::exp::find(&repo, &args.name)?;
    let branch = &args.branch;
    if !repo.git.is_branch_name(branch) {
        return Err(crate::error::usage_with_hint(
            format!("`{branch}` is not a valid branch name"),
            "see `git check-ref-format --help` for what git accepts",
        ));
    }
    if repo
        .git
        .resolve_commit(&format!("refs/heads/{branch}"))
        .is_ok()
    {
        return Err(crate::error::usage_with_hint(
            format!("branch `{branch}` exists already"),
            format!("choose another name, or delete it with `git branch -D {branch}`"),
        ));
    }
    repo.git.create_branch(branch, &commit)?;
    if ui.json {
        ui.print_json(
            &serde_json::json!({ "experiment": args.name, "branch": branch, "rev": commit }),
        )?;
    } else {
        ui.info(&format!(
            "branch `{branch}` made at experiment `{}` ({})",
            args.name,
            &commit[..10]
        ));
    }
    Ok(())
}
