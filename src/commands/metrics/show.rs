//! `git mlv metrics show [--rev <rev>]`: every metric at one revision, or the work tree.

use super::table::print_table;
use crate::gitx::Source;
use crate::metrics::{self, Flat};
use crate::paths::RepoPath;
use crate::project::Project;
use crate::repo::Repo;
use crate::ui::Ui;
use std::collections::BTreeMap;

/// The metrics at `rev` (the work tree when `None`), with the project of that revision. A
/// registry reference works as a revision: `model#prod`, `model@v1.2.0`.
pub(super) fn read_at(
    repo: &Repo,
    rev: Option<&str>,
) -> anyhow::Result<(Project, BTreeMap<RepoPath, Flat>)> {
    let Some(rev) = rev else {
        let project = Project::load(repo.root())?;
        let values = metrics::read_all(Source::WorkTree(repo.root()), &project)?;
        return Ok((project, values));
    };
    let commit = repo.rev(rev)?;
    let project = Project::load_at(&repo.git, &commit)?;
    let values = metrics::read_all(Source::Rev(&repo.git, &commit), &project)?;
    Ok((project, values))
}

pub fn run(repo: &Repo, rev: Option<&str>, ui: &Ui) -> anyhow::Result<()> {
    let (project, values) = read_at(repo, rev)?;
    if ui.json {
        let by_file: BTreeMap<&str, &Flat> = values.iter().map(|(f, v)| (f.as_str(), v)).collect();
        return Ok(ui.print_json(&serde_json::json!({ "rev": rev, "metrics": by_file }))?);
    }
    let mut rows = vec![[
        "file".to_string(),
        "metric".to_string(),
        "value".to_string(),
    ]];
    rows.extend(values.iter().flat_map(|(file, flat)| {
        flat.iter()
            .map(move |(k, v)| [repo.display(file), k.clone(), v.to_string()])
    }));
    if rows.len() > 1 {
        print_table(ui, &rows)?;
    }
    for file in metrics::files(&project) {
        if !values.contains_key(&file) {
            ui.info(&format!(
                "`{}` does not exist {}",
                repo.display(&file),
                rev.map_or("in the work tree".to_string(), |r| format!("at `{r}`"))
            ));
        }
    }
    if metrics::files(&project).is_empty() {
        ui.info("no metrics files: no stage in `mlv.toml` lists `metrics` and no gate names one");
    }
    Ok(())
}
