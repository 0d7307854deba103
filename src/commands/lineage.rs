//! `git mlv lineage <artifact>`: what produced an artifact, back to the raw data.

use crate::lineage::{self, Node};
use crate::ops;
use crate::repo::Repo;
use crate::ui::Ui;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// An out of a stage (`model.pkl`) or an artifact name from mlv.toml
    pub artifact: PathBuf,
    /// Read mlv.lock and the pointers committed at this git revision (default: the work tree)
    #[arg(long, value_name = "REV")]
    pub rev: Option<String>,
    /// Print the graph in Graphviz dot format
    #[arg(long, conflicts_with = "json")]
    pub dot: bool,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    let node = ops::lineage::trace(&repo, &args.artifact, args.rev.as_deref())?;
    if args.dot {
        ui.out(lineage::to_dot(&node).trim_end())?;
    } else if ui.json {
        ui.print_json(&ops::lineage::document(args.rev.as_deref(), &node))?;
    } else {
        let mut lines = Vec::new();
        render(&node, 0, &mut lines);
        for l in lines {
            ui.out(&l)?;
        }
    }
    let broken = lineage::broken(&node);
    if !broken.is_empty() && !ui.json && !args.dot {
        ui.warn(&format!(
            "lineage is broken: {}; the recorded run no longer matches what {} holds",
            broken.join(", "),
            args.rev.as_deref().unwrap_or("the work tree")
        ));
        ui.hint("run `git mlv run` to bring the stages and mlv.lock up to date");
    }
    Ok(())
}

/// One node per line with a short hash, and the commit where it last changed on the line
/// below, so a typical tree fits in ~100 columns; `--json` keeps the full hashes.
fn render(n: &Node, depth: usize, lines: &mut Vec<String>) {
    let pad = "  ".repeat(depth);
    let mut line = format!(
        "{pad}{}  {}",
        n.path,
        n.hash.map(|h| h.short()).unwrap_or_else(|| "-".into())
    );
    match n.source {
        "stage" => {}
        "data" => line.push_str("  [data pointer]"),
        "git" => line.push_str("  [file in git]"),
        _ => line.push_str("  [untracked: not in git or git-mlv]"),
    }
    if n.intact == Some(false) {
        line.push_str(&match n.current {
            Some(c) => format!(" — CHANGED since the run: now {}", c.short()),
            None => " — MISSING".to_string(),
        });
    }
    lines.push(line);
    if let Some(source) = &n.imported {
        lines.push(format!("{pad}  {}", crate::lineage::imported_from(source)));
    }
    if let Some(c) = &n.commit {
        lines.push(format!(
            "{pad}  last changed in {}, {}: {}",
            &c.id[..c.id.len().min(10)],
            c.date,
            c.summary
        ));
    }
    if let Some(s) = &n.stage {
        lines.push(format!("{pad}  stage {}: {}", s.name, s.cmd));
        for (file, values) in &s.params {
            let shown: Vec<String> = values.iter().map(|(k, v)| format!("{k} = {v}")).collect();
            lines.push(format!("{pad}    params {file}: {}", shown.join(", ")));
        }
        for i in &s.inputs {
            render(i, depth + 2, lines);
        }
    }
}
