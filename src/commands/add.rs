//! `git mlv add <path>…`: track files and directories.

use super::common;
use crate::cache::Access;
use crate::repo::Repo;
use crate::ui::{self, Ui};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Files or directories to track (a directory becomes one pointer)
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    let cache = repo.cache()?;
    let _cache_lock = common::lock_cache(&cache, Access::Shared, ui)?;
    let _lock = common::lock_repo(&repo, ui)?;
    let mut to_stage = crate::ops::init::ensure(&repo)?;
    if !to_stage.is_empty() {
        ui.info("initialized git-mlv in `.mlv/`");
    }
    let mut stat = repo.stat_cache();
    let tracked = repo.tracked_paths()?;
    let mut targets = Vec::new();
    for arg in &args.paths {
        let path = repo.resolve(arg)?;
        let meta = crate::track::check_addable(&repo, &tracked, &path)?;
        targets.push((path, meta));
    }
    if repo.config.links_read_only() {
        ui.warn("cache.link allows hardlink/symlink: workspace files become read-only links into the cache; root can still write through them, which damages the cache (`git mlv status` reports it)");
    }
    let mut added = Vec::new();
    for (path, meta) in &targets {
        let bar = ui.bar("adding");
        let result = crate::track::add(&repo, &cache, &mut stat, path, meta, &bar);
        drop(bar);
        // Keep what earlier paths recorded even if this one failed.
        stat.save()?;
        let a = result?;
        let what = match a.pointer.files {
            Some(n) => format!("{}, {}", ui::count(n, "file"), ui::size(a.pointer.size)),
            None => ui::size(a.pointer.size),
        };
        if let Some(reason) = &a.replaced_damaged {
            ui.warn(&format!(
                "replaced the damaged pointer `{}` ({reason}) with one for the data in the workspace",
                repo.display(&a.path.pointer())
            ));
        }
        let verb = if a.changed { "added" } else { "unchanged" };
        ui.info(&format!(
            "{verb} {} ({what}) {}",
            repo.display(&a.path),
            a.pointer.hash.short()
        ));
        if a.changed {
            to_stage.push(a.path.pointer());
        }
        to_stage.extend(a.gitignore.clone());
        added.push(a);
    }
    stat.save()?;
    if ui.json {
        let list: Vec<_> = added
            .iter()
            .map(|a| {
                serde_json::json!({
                    "path": a.path.as_str(),
                    "pointer": a.path.pointer().as_str(),
                    "hash": a.pointer.hash,
                    "size": a.pointer.size,
                    "files": a.pointer.files,
                    "changed": a.changed,
                    "replaced_damaged_pointer": a.replaced_damaged.is_some(),
                    "files_read": a.files_read,
                })
            })
            .collect();
        ui.print_json(&serde_json::json!({ "added": list }))?;
    } else {
        super::common::hint_git_add(&repo, ui, &to_stage);
    }
    Ok(())
}
