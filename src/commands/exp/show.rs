//! `git mlv exp show [--sort-by METRIC] [--sort-order asc|desc]`: one row per experiment
//! with its status, the params it changed and its metrics.

use crate::ops::exp::show::{self, Row};
use crate::repo::Repo;
use crate::ui::Ui;
use std::collections::BTreeSet;

#[derive(clap::Args)]
pub struct Args {
    /// Sort by this metric (`file:key`, or a key of any metrics file); rows without it last
    #[arg(long, value_name = "METRIC")]
    pub sort_by: Option<String>,
    /// Smallest first (`asc`, the default) or largest first (`desc`)
    #[arg(long, value_name = "ORDER", default_value = "asc", value_parser = ["asc", "desc"], requires = "sort_by")]
    pub sort_order: String,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    let mut rows = show::list(&repo)?;
    if let Some(metric) = &args.sort_by {
        show::sort_by(&mut rows, metric, args.sort_order == "desc")?;
    }
    if ui.json {
        return Ok(ui.print_json(&serde_json::json!({ "experiments": rows }))?);
    }
    if rows.is_empty() {
        ui.info("no experiments yet: `git mlv exp run -S key=value` runs one");
        return Ok(());
    }
    for line in aligned(&table(&rows)) {
        ui.out(&line)?;
    }
    Ok(())
}

/// Header and rows: name, status, each changed param (`file:key`), each metric.
fn table(rows: &[Row]) -> Vec<Vec<String>> {
    let params: BTreeSet<&(String, String)> = rows.iter().flat_map(|r| &r.changed).collect();
    let metrics: BTreeSet<(&String, &String)> = rows
        .iter()
        .flat_map(|r| {
            r.metrics
                .iter()
                .flat_map(|(f, m)| m.keys().map(move |k| (f, k)))
        })
        .collect();
    let mut out = vec![
        ["experiment", "status"]
            .iter()
            .map(|s| s.to_string())
            .chain(params.iter().map(|(f, k)| format!("{f}:{k}")))
            .chain(metrics.iter().map(|(f, k)| format!("{f}:{k}")))
            .collect(),
    ];
    for r in rows {
        let param = |(f, k): &&(String, String)| {
            r.params
                .get(f)
                .and_then(|p| p.get(k))
                .map_or("-".to_string(), ToString::to_string)
        };
        let metric = |(f, k): &(&String, &String)| {
            r.metrics
                .get(*f)
                .and_then(|m| m.get(*k))
                .map_or("-".to_string(), ToString::to_string)
        };
        out.push(
            [r.name.clone(), r.status.to_string()]
                .into_iter()
                .chain(params.iter().map(param))
                .chain(metrics.iter().map(metric))
                .collect(),
        );
    }
    out
}

/// Left-aligned columns separated by two spaces.
fn aligned(rows: &[Vec<String>]) -> Vec<String> {
    let mut widths = Vec::new();
    for r in rows {
        widths.resize(widths.len().max(r.len()), 0);
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    rows.iter()
        .map(|r| {
            let cells: Vec<String> = r
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            cells.join("  ").trim_end().to_string()
        })
        .collect()
}
