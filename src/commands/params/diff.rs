//! `git mlv params diff [<rev_a> [<rev_b>]] [--all]`: every key of every params file the
//! stages name at either side, listed where it differs (all of them with `--all`).

use crate::commands::metrics::print_table;
use crate::gitx::Source;
use crate::params;
use crate::paths::RepoPath;
use crate::project::Project;
use crate::repo::Repo;
use crate::ui::Ui;

pub fn run(repo: &Repo, a: &str, b: Option<&str>, all: bool, ui: &Ui) -> anyhow::Result<()> {
    // Each side's `mlv.toml` names its params files; both sides read the union, so a file
    // one side no longer names still shows what it held.
    let commit =
        |rev: &str| -> anyhow::Result<String> { Ok(repo.git.resolve_commit(&repo.rev(rev)?)?) };
    let a_commit = commit(a)?;
    let b_commit = b.map(commit).transpose()?;
    let a_src = Source::Rev(&repo.git, &a_commit);
    let b_src = match &b_commit {
        Some(c) => Source::Rev(&repo.git, c),
        None => Source::WorkTree(repo.root()),
    };
    let mut files = params::files(&Project::read(a_src)?);
    files.extend(params::files(&Project::read(b_src)?));
    files.sort();
    files.dedup();
    // Errors name the revision as typed, not its commit id.
    let at =
        |rev: Option<&str>| rev.map_or("in the work tree".to_string(), |r| format!("at `{r}`"));
    let old = params::read_all(a_src, &files, &at(Some(a)))?;
    let new = params::read_all(b_src, &files, &at(b))?;
    let changes = params::diff(&old, &new, all);
    if ui.json {
        let changes: Vec<serde_json::Value> = changes
            .iter()
            .map(|c| {
                serde_json::json!({
                    "file": c.file.as_str(),
                    "key": c.key,
                    "old": c.old.as_ref().map(params::to_json),
                    "new": c.new.as_ref().map(params::to_json),
                })
            })
            .collect();
        return Ok(ui.print_json(&serde_json::json!({ "a": a, "b": b, "changes": changes }))?);
    }
    if changes.is_empty() {
        ui.info("no param changed");
        return Ok(());
    }
    let text = |v: &Option<toml::Value>| v.as_ref().map_or("-".to_string(), params::to_text);
    let mut rows = vec![[
        "file".to_string(),
        "param".to_string(),
        a.to_string(),
        b.unwrap_or("workspace").to_string(),
    ]];
    rows.extend(changes.iter().map(|c| {
        [
            repo.display(&RepoPath::new(c.file.as_str())),
            c.key.clone(),
            text(&c.old),
            text(&c.new),
        ]
    }));
    print_table(ui, &rows)
}
