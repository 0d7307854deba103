//! `git mlv mv <src> <dst>`: move tracked data with its pointer and `.gitignore` entry.

use crate::repo::Repo;
use crate::ui::Ui;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The tracked file or directory to move (or its pointer)
    pub src: PathBuf,
    /// Where it goes; must not exist yet (parent folders are created)
    pub dst: PathBuf,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    let _lock = super::common::lock_repo(&repo, ui)?;
    let from = repo.resolve(&args.src)?;
    let to = repo.resolve(&args.dst)?;
    let tracked = repo.tracked_paths()?;
    crate::relocate::check_tracked(&tracked, &from, &args.src.display().to_string())?;
    let mut stat = repo.stat_cache();
    let moved = crate::relocate::move_tracked(&repo, &mut stat, &tracked, &from, &to)?;
    stat.save()?;
    let stage: Vec<String> = moved.to_stage.iter().map(|p| repo.display(p)).collect();
    if ui.json {
        let hash = repo.load_pointer(&moved.to).ok().map(|p| p.hash);
        ui.print_json(&serde_json::json!({ "moved": {
            "from": moved.from.as_str(),
            "to": moved.to.as_str(),
            "pointer_from": moved.from.pointer().as_str(),
            "pointer_to": moved.to.pointer().as_str(),
            "hash": hash,
            "data_moved": moved.data_moved,
            "to_stage": moved.to_stage.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        }}))?;
        return Ok(());
    }
    let what = if moved.data_moved {
        ""
    } else {
        " (pointer only: its data is not in the workspace)"
    };
    ui.info(&format!(
        "moved `{}` to `{}`{what}",
        repo.display(&moved.from),
        repo.display(&moved.to)
    ));
    ui.hint(&format!(
        "record it in git with `git add -A {}`",
        stage.join(" ")
    ));
    Ok(())
}
