//! `git mlv rm [--keep-data] <path>`: stop tracking data; its objects stay in the cache
//! until `gc`.

use crate::repo::Repo;
use crate::ui::Ui;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The tracked file or directory to stop tracking (or its pointer)
    pub path: PathBuf,
    /// Keep the data in the workspace (only the pointer and `.gitignore` entry go)
    #[arg(long)]
    pub keep_data: bool,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    let _lock = super::common::lock_repo(&repo, ui)?;
    let path = repo.resolve(&args.path)?;
    let tracked = repo.tracked_paths()?;
    crate::relocate::check_tracked(&tracked, &path, &args.path.display().to_string())?;
    let hash = repo.load_pointer(&path).ok().map(|p| p.hash);
    let cache = repo.cache()?;
    let mut stat = repo.stat_cache();
    let result = crate::relocate::remove_tracked(&repo, &cache, &mut stat, &path, args.keep_data);
    // Hashes learnt while checking are kept even when `rm` refused.
    stat.save()?;
    let removed = result?;
    let stage: Vec<String> = removed.to_stage.iter().map(|p| repo.display(p)).collect();
    if ui.json {
        ui.print_json(&serde_json::json!({ "removed": {
            "path": removed.path.as_str(),
            "pointer": removed.path.pointer().as_str(),
            "hash": hash,
            "data_deleted": removed.data_deleted,
            "files_deleted": removed.files_deleted,
            "to_stage": removed.to_stage.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        }}))?;
        return Ok(());
    }
    let data = if removed.data_deleted {
        "deleted its data"
    } else {
        "its data stays in the workspace"
    };
    ui.info(&format!(
        "stopped tracking `{}`; {data} (the cache keeps its objects until `git mlv gc`)",
        repo.display(&removed.path)
    ));
    if !stage.is_empty() {
        ui.hint(&format!(
            "record it in git with `git add -A {}`",
            stage.join(" ")
        ));
    }
    Ok(())
}
