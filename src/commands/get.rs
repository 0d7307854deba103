//! `git mlv get <repo> <path> [--rev R] [-o OUT]`: copy data tracked in another repository
//! (a git URL read without cloning, or a local path) here, untracked.

use crate::ops::import::{self, Done, Request};
use crate::repo::Repo;
use crate::ui::{self, Ui};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The repository: a git URL (`file://`, `https://`, ssh) or a local path
    pub repo: String,
    /// The tracked path there, or a file or folder inside tracked data
    pub path: String,
    /// The branch, tag or commit to read (default: its default branch)
    #[arg(long, value_name = "REV")]
    pub rev: Option<String>,
    /// Where to write it (default: the path's last segment, in the current folder)
    #[arg(short = 'o', long = "out", value_name = "OUT")]
    pub out: Option<PathBuf>,
}

impl Args {
    /// What `get` and `import` ask of the source.
    pub fn request(&self) -> Request<'_> {
        Request {
            repo: &self.repo,
            path: &self.path,
            rev: self.rev.as_deref(),
            out: self.out.as_deref(),
        }
    }
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    let done = import::get(&repo, &args.request(), false, ui)?;
    report(&repo, ui, "copied", &done)
}

/// The result of `get`, `import`, `update` and `import-url`: JSON, or one line.
pub fn report(repo: &Repo, ui: &Ui, verb: &str, done: &Done) -> anyhow::Result<()> {
    if ui.json {
        return Ok(ui.print_json(done)?);
    }
    let from = match &done.commit {
        Some(c) => format!(
            "`{}` of {} at {}",
            done.source_path,
            done.url,
            &c[..c.len().min(12)]
        ),
        None => done.url.clone(),
    };
    let path = repo.display(&crate::paths::RepoPath::new(done.path.as_str()));
    ui.info(&format!(
        "{verb} {path} ({}, {}) from {from}",
        ui::count(done.files, "file"),
        ui::size(done.size)
    ));
    Ok(())
}
