//! `git mlv import-url <url> [-o OUT]`: download a plain file, track it, and record its URL
//! with what tells `update` whether it changed (ETag, size, Last-Modified; mtime for a file).

use super::get::report;
use crate::ops::import_url;
use crate::paths::RepoPath;
use crate::repo::Repo;
use crate::ui::Ui;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The file: an `https://`, `http://` or `s3://` (`gs://`, `az://`) URL, a `file://` URL or a path
    pub url: String,
    /// Where to track it (default: the URL's file name, in the current folder)
    #[arg(short = 'o', long = "out", value_name = "OUT")]
    pub out: Option<PathBuf>,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    let done = import_url::import_url(&repo, &args.url, args.out.as_deref(), ui)?;
    report(&repo, ui, "imported", &done)?;
    let p = RepoPath::new(done.path.as_str());
    super::common::hint_git_add(&repo, ui, &[p.pointer(), crate::gitignore::file_for(&p)]);
    Ok(())
}
