//! `git mlv diff [<rev-a> [<rev-b>]] [-- <path>…]`: files added, removed and modified inside
//! tracked data between two revisions, or a revision (default `HEAD`) and the workspace.

use crate::diff::{self, Change};
use crate::repo::{Repo, Tracked};
use crate::ui::{self, Ui};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The older revision (default `HEAD`)
    pub rev_a: Option<String>,
    /// The newer revision (default: the workspace)
    pub rev_b: Option<String>,
    /// Limit to these paths
    #[arg(last = true)]
    pub paths: Vec<PathBuf>,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    let cache = repo.cache()?;
    let rev_a = args.rev_a.as_deref().unwrap_or("HEAD");
    let mut unknown = Vec::new();
    let old_tracked = repo.tracked_at(Some(rev_a))?;
    let old = diff::committed(&cache, &old_tracked, &mut unknown)?;
    let new = match &args.rev_b {
        Some(rev_b) => diff::committed(&cache, &repo.tracked_at(Some(rev_b))?, &mut unknown)?,
        None => {
            let current = repo.tracked()?;
            let mut paths: Vec<&Tracked> = current.iter().collect();
            paths.extend(
                old_tracked
                    .iter()
                    .filter(|t| !current.iter().any(|c| c.path == t.path)),
            );
            let mut stat = repo.stat_cache();
            let listing = diff::workspace(&repo, &cache, &mut stat, &paths)?;
            let _ = stat.save();
            listing
        }
    };
    let filters: Vec<crate::paths::RepoPath> = args
        .paths
        .iter()
        .map(|p| repo.resolve(p))
        .collect::<Result<_, _>>()?;
    let keep = |p: &str| {
        let p = crate::paths::RepoPath::new(p);
        filters.is_empty() || filters.iter().any(|f| p.starts_with(f))
    };
    let mut d = diff::compare(&old, &new, keep);
    unknown.sort();
    unknown.dedup();
    d.unknown = unknown;
    if ui.json {
        ui.print_json(&d)?;
    } else {
        let line = |label: &str, c: &Change| {
            let size = match (c.old_size, c.new_size) {
                (Some(a), Some(b)) => format!("{} -> {}", ui::size(a), ui::size(b)),
                (Some(a), None) | (None, Some(a)) => ui::size(a),
                (None, None) => String::new(),
            };
            format!(
                "{label:<9} {} ({size})",
                repo.display(&crate::paths::RepoPath::new(&c.path))
            )
        };
        for c in &d.added {
            ui.out(&line("added", c))?;
        }
        for c in &d.removed {
            ui.out(&line("removed", c))?;
        }
        for c in &d.modified {
            ui.out(&line("modified", c))?;
        }
        for u in &d.unknown {
            ui.warn(&format!("the manifest of `{u}` is not in the cache, so its files are not compared; run `git mlv fetch --rev <rev> {u}`"));
        }
    }
    Ok(())
}
