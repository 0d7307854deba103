//! `git mlv update <path> [--rev R]`: move imported data to its source's new revision (or
//! download an `import-url` file again when it changed).

use super::get::report;
use crate::ops::import;
use crate::paths::RepoPath;
use crate::repo::Repo;
use crate::ui::Ui;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The imported data here
    pub path: PathBuf,
    /// The source's branch, tag or commit (default: the revision it was imported at)
    #[arg(long, value_name = "REV")]
    pub rev: Option<String>,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    let done = import::update(&repo, &args.path, args.rev.as_deref(), ui)?;
    if done.restored {
        return report(&repo, ui, "restored", &done);
    }
    if !done.updated {
        if ui.json {
            return Ok(ui.print_json(&done)?);
        }
        ui.info(&format!("{} is up to date with {}", done.path, done.url));
        return Ok(());
    }
    report(&repo, ui, "updated", &done)?;
    super::common::hint_git_add(&repo, ui, &[RepoPath::new(done.path.as_str()).pointer()]);
    Ok(())
}
