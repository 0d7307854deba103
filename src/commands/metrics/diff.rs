//! `git mlv metrics diff [<rev_a> [<rev_b>]]`: the metrics that changed between two
//! revisions (default: HEAD against the work tree).

use super::show::read_at;
use super::table::print_table;
use crate::paths::RepoPath;
use crate::repo::Repo;
use crate::ui::Ui;

#[derive(serde::Serialize)]
struct Change {
    file: String,
    key: String,
    old: Option<f64>,
    new: Option<f64>,
    change: Option<f64>,
}

pub fn run(repo: &Repo, a: &str, b: Option<&str>, ui: &Ui) -> anyhow::Result<()> {
    let (_, old) = read_at(repo, Some(a))?;
    let (_, new) = read_at(repo, b)?;
    let changes: Vec<Change> = crate::params::diff(&old, &new, false)
        .into_iter()
        .map(|c| Change {
            file: c.file.to_string(),
            key: c.key,
            old: c.old,
            new: c.new,
            change: c.old.zip(c.new).map(|(o, n)| n - o),
        })
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
