//! `git mlv ls`: the tracked artifacts with hash, size and file count.

use crate::repo::Repo;
use crate::ui::{self, Ui};

#[derive(clap::Args)]
pub struct Args {
    /// List what was tracked at this git revision
    #[arg(long, value_name = "REV")]
    pub rev: Option<String>,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    let tracked = repo.tracked_at(args.rev.as_deref())?;
    if ui.json {
        let list: Vec<_> = tracked
            .iter()
            .map(|t| {
                serde_json::json!({
                    "path": t.path.as_str(),
                    "kind": if t.pointer.is_dir() { "dir" } else { "file" },
                    "hash": t.pointer.hash,
                    "size": t.pointer.size,
                    "files": t.pointer.files.unwrap_or(1),
                })
            })
            .collect();
        return Ok(ui.print_json(&serde_json::json!({ "artifacts": list }))?);
    }
    for t in &tracked {
        let files = t.pointer.files.unwrap_or(1);
        ui.out(&format!(
            "{}  {:>10}  {:>7} {}  {}",
            t.pointer.hash,
            ui::size(t.pointer.size),
            files,
            if files == 1 { "file " } else { "files" },
            repo.display(&t.path)
        ))?;
    }
    if tracked.is_empty() {
        ui.info("nothing is tracked yet; run `git mlv add <path>` to track data");
    }
    Ok(())
}
