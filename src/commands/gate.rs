//! `git mlv gate [--baseline REF]`: every quality gate of `mlv.toml` against the work
//! tree's metrics; exit 1 when one fails, so it can be the CI step that blocks a merge.

use crate::error::CliError;
use crate::gate::{self, Outcome, Report};
use crate::gitx::Source;
use crate::project::Project;
use crate::registry::Registry;
use crate::repo::Repo;
use crate::ui::Ui;

#[derive(clap::Args)]
pub struct Args {
    /// Compare `max_drop`/`max_rise` against this instead of each gate's `baseline`: a
    /// registry stage (`model#prod`), a version (`model@v1.2.0`) or any git revision
    #[arg(long, value_name = "REF")]
    pub baseline: Option<String>,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    let project = Project::load(repo.root())?;
    let reg = Registry::load(&repo.git)?;
    let report = gate::evaluate(
        &project.gates,
        Source::WorkTree(repo.root()),
        &repo.git,
        &reg,
        args.baseline.as_deref(),
    )?;
    if ui.json {
        ui.print_json(&serde_json::json!({ "passed": report.passed(), "checks": report.checks, "notes": report.notes }))?;
    } else {
        print(ui, &report, Table::Stdout)?;
    }
    if report.passed() {
        Ok(())
    } else {
        ui.info("a quality gate failed");
        Err(CliError::Silent(1).into())
    }
}

/// Where `print` puts the table: stdout when it is the command's report, stderr when it is
/// a message beside another report (a successful `promote` prints only the tag on stdout).
#[derive(Clone, Copy, PartialEq)]
pub enum Table {
    Stdout,
    Stderr,
}

/// The table (on stdout or stderr) and the notes on stderr; shared with `promote`.
pub fn print(ui: &Ui, report: &Report, to: Table) -> anyhow::Result<()> {
    if !report.checks.is_empty() {
        let num = |x: Option<f64>| x.map_or("-".to_string(), |v| v.to_string());
        let mut rows = vec![[
            "metric".to_string(),
            "value".to_string(),
            "baseline".to_string(),
            "bound".to_string(),
            "result".to_string(),
        ]];
        rows.extend(report.checks.iter().map(|c| {
            let baseline = match (&c.baseline_ref, c.baseline) {
                (Some(r), Some(b)) => format!("{b} ({r})"),
                // Only a registry stage resolves to nothing (a skipped check).
                (Some(r), None) => format!("none yet ({r} holds no version)"),
                _ => "-".to_string(),
            };
            [
                c.metric.clone(),
                num(Some(c.value)),
                baseline,
                format!("{} {}", c.bound, c.limit),
                match c.outcome {
                    Outcome::Pass => "pass",
                    Outcome::Fail => "FAIL",
                    Outcome::Skipped => "skipped",
                }
                .to_string(),
            ]
        }));
        match to {
            Table::Stdout => super::metrics::print_table(ui, &rows)?,
            Table::Stderr => {
                for line in super::metrics::table_lines(&rows) {
                    ui.info(&line);
                }
            }
        }
    }
    for n in &report.notes {
        ui.info(&format!("note: {n}"));
    }
    Ok(())
}
