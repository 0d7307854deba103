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
    // Directories whose manifest the cache lacks, with the revision that needs it.
    let mut unknown_a = Vec::new();
    let mut unknown_b = Vec::new();
    let old_tracked = repo.tracked_at(Some(rev_a))?;
    // Both sides' files, or (against a work tree that tracks the same paths) the changes,
    // found one tracked path at a time without listing every file by its path.
    let mut walked = None;
    let (old, new) = match &args.rev_b {
        Some(rev_b) => (
            diff::committed(&cache, &old_tracked, &mut unknown_a)?,
            diff::committed(&cache, &repo.tracked_at(Some(rev_b))?, &mut unknown_b)?,
        ),
        None => {
            let current = repo.tracked()?;
            let mut stat = repo.stat_cache();
            let same_paths = current.len() == old_tracked.len()
                && current
                    .iter()
                    .all(|c| old_tracked.iter().any(|o| o.path == c.path));
            let sides = if same_paths {
                walked = Some(diff::against_workspace(
                    &repo,
                    &cache,
                    &mut stat,
                    &old_tracked,
                    &current,
                    &mut unknown_a,
                )?);
                Default::default()
            } else {
                let mut paths: Vec<&Tracked> = current.iter().collect();
                paths.extend(
                    old_tracked
                        .iter()
                        .filter(|t| !current.iter().any(|c| c.path == t.path)),
                );
                let old = diff::committed(&cache, &old_tracked, &mut unknown_a)?;
                (old, diff::workspace(&repo, &cache, &mut stat, &paths)?)
            };
            let _ = stat.save();
            sides
        }
    };
    let filters: Vec<crate::paths::RepoPath> = args
        .paths
        .iter()
        .map(|p| repo.resolve(p))
        .collect::<Result<_, _>>()?;
    let selected = |p: &crate::paths::RepoPath| {
        filters.is_empty() || filters.iter().any(|f| p.starts_with(f) || f.starts_with(p))
    };
    let mut unknown: Vec<(String, &str)> = unknown_a
        .into_iter()
        .map(|u| (u, rev_a))
        .chain(
            unknown_b
                .into_iter()
                .map(|u| (u, args.rev_b.as_deref().unwrap_or(""))),
        )
        .filter(|(u, _)| selected(&crate::paths::RepoPath::new(u.as_str())))
        .collect();
    unknown.sort();
    unknown.dedup();
    // A directory one side cannot list is only `unknown`: comparing its files with the
    // other side's would call every one of them added or removed.
    let unknown_dirs: Vec<crate::paths::RepoPath> = unknown
        .iter()
        .map(|(u, _)| crate::paths::RepoPath::new(u.as_str()))
        .collect();
    let keep = |p: &str| {
        let p = crate::paths::RepoPath::new(p);
        (filters.is_empty() || filters.iter().any(|f| p.starts_with(f)))
            && !unknown_dirs.iter().any(|u| p.starts_with(u))
    };
    let mut d = match walked {
        Some(mut d) => {
            d.retain(keep);
            d
        }
        None => diff::compare(&old, &new, keep),
    };
    d.unknown = unknown_dirs.iter().map(|u| u.to_string()).collect();
    d.unknown.dedup();
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
            let revs: Vec<String> = unknown
                .iter()
                .filter(|(p, _)| p == u)
                .map(|(_, rev)| format!("--rev {rev}"))
                .collect();
            ui.warn(&format!("the manifest of `{u}` is not in the cache, so its files are not compared; run `git mlv fetch {} {u}`", revs.join(" ")));
        }
    }
    Ok(())
}
