//! `git mlv metrics show|diff`: the pipeline's metrics files, flattened to dotted keys,
//! at one revision or compared between two (DVC's defaults: HEAD against the work tree).

use crate::gitx::Source;
use crate::metrics::{self, Flat};
use crate::paths::RepoPath;
use crate::project::Project;
use crate::repo::Repo;
use crate::ui::Ui;
use clap::Subcommand;
use std::collections::BTreeMap;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Subcommand)]
pub enum Action {
    /// Print every metric of the pipeline's metrics files (and the files gates read)
    Show {
        /// Read the metrics committed at this revision (or registry reference: `model#prod`) instead of the work tree's
        #[arg(long, value_name = "REV")]
        rev: Option<String>,
    },
    /// Compare metrics between two revisions (default: HEAD against the work tree)
    Diff {
        /// The old side (default HEAD)
        rev_a: Option<String>,
        /// The new side (default: the work tree)
        rev_b: Option<String>,
    },
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    match args.action {
        Action::Show { rev } => show(&repo, rev.as_deref(), ui),
        Action::Diff { rev_a, rev_b } => diff(
            &repo,
            rev_a.as_deref().unwrap_or("HEAD"),
            rev_b.as_deref(),
            ui,
        ),
    }
}

/// The metrics at `rev` (the work tree when `None`), with the project of that revision. A
/// registry reference works as a revision: `model#prod`, `model@v1.2.0`.
fn read_at(repo: &Repo, rev: Option<&str>) -> anyhow::Result<(Project, BTreeMap<RepoPath, Flat>)> {
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

fn show(repo: &Repo, rev: Option<&str>, ui: &Ui) -> anyhow::Result<()> {
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

#[derive(serde::Serialize)]
struct Change {
    file: String,
    key: String,
    old: Option<f64>,
    new: Option<f64>,
    change: Option<f64>,
}

fn diff(repo: &Repo, a: &str, b: Option<&str>, ui: &Ui) -> anyhow::Result<()> {
    let (_, old) = read_at(repo, Some(a))?;
    let (_, new) = read_at(repo, b)?;
    let mut keys: Vec<(&RepoPath, &String)> = old
        .iter()
        .chain(&new)
        .flat_map(|(f, flat)| flat.keys().map(move |k| (f, k)))
        .collect();
    keys.sort();
    keys.dedup();
    let get = |side: &BTreeMap<RepoPath, Flat>, f: &RepoPath, k: &str| {
        side.get(f).and_then(|flat| flat.get(k)).copied()
    };
    let changes: Vec<Change> = keys
        .into_iter()
        .map(|(f, k)| {
            let (o, n) = (get(&old, f, k), get(&new, f, k));
            Change {
                file: f.to_string(),
                key: k.clone(),
                old: o,
                new: n,
                change: o.zip(n).map(|(o, n)| n - o),
            }
        })
        .filter(|c| c.old != c.new)
        .collect();
    if ui.json {
        return Ok(ui.print_json(&serde_json::json!({ "a": a, "b": b, "changes": changes }))?);
    }
    let opt = |x: Option<f64>| x.map_or("-".to_string(), |v| v.to_string());
    let mut rows = vec![[
        "file".to_string(),
        "metric".to_string(),
        a.to_string(),
        b.unwrap_or("workspace").to_string(),
        "change".to_string(),
    ]];
    rows.extend(changes.iter().map(|c| {
        [
            repo.display(&RepoPath::new(c.file.clone())),
            c.key.clone(),
            opt(c.old),
            opt(c.new),
            // Rounded for reading: 0.85 − 0.93 shows as -0.08, not -0.08000000000000007.
            c.change.map_or("-".to_string(), |d| {
                format!("{:+}", (d * 1e9).round() / 1e9)
            }),
        ]
    }));
    if changes.is_empty() {
        ui.info("no metric changed");
        return Ok(());
    }
    print_table(ui, &rows)
}

/// Rows as left-aligned columns separated by two spaces.
pub fn print_table<const N: usize>(ui: &Ui, rows: &[[String; N]]) -> anyhow::Result<()> {
    for line in table_lines(rows) {
        ui.out(&line)?;
    }
    Ok(())
}

/// The lines of a table with aligned columns.
pub fn table_lines<const N: usize>(rows: &[[String; N]]) -> Vec<String> {
    let mut widths = [0usize; N];
    for r in rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    rows.iter()
        .map(|r| {
            let line: Vec<String> = r
                .iter()
                .zip(widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            line.join("  ").trim_end().to_string()
        })
        .collect()
}
