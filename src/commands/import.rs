//! `git mlv import <repo> <path> [--rev R] [-o OUT]`: as `get`, and track the result with a
//! pointer whose `[source]` table records where it came from, for `update`.

use super::get::{Args, report};
use crate::ops::import;
use crate::paths::RepoPath;
use crate::repo::Repo;
use crate::ui::Ui;

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    let done = import::get(&repo, &args.request(), true, ui)?;
    report(&repo, ui, "imported", &done)?;
    let p = RepoPath::new(done.path.as_str());
    super::common::hint_git_add(&repo, ui, &[p.pointer(), crate::gitignore::file_for(&p)]);
    Ok(())
}
