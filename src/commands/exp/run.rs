//! `git mlv exp run [-S [file:]key=value[,value…]]… [--name N] [-j N] [--queue | --run-all]`.

use crate::cache::Access;
use crate::experiment::Record;
use crate::ops::exp::run::{self, RunReport};
use crate::repo::Repo;
use crate::ui::Ui;

#[derive(clap::Args)]
pub struct Args {
    /// Set a param: `key=value` (the pipeline's params file that has the key) or `file:key=value`; `key=a,b,c` sweeps, several -S run every combination
    #[arg(short = 'S', long = "set-param", value_name = "[FILE:]KEY=VALUE")]
    pub set: Vec<String>,
    /// The experiment's name (a sweep's are NAME-1, NAME-2, …); default exp-<n>
    #[arg(short, long, value_name = "NAME")]
    pub name: Option<String>,
    /// Experiments run at the same time
    #[arg(short, long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: u32,
    /// Record the experiments without running them (`--run-all` runs them)
    #[arg(long, conflicts_with = "run_all")]
    pub queue: bool,
    /// Run every queued experiment, and every one a killed run left interrupted
    #[arg(long, conflicts_with_all = ["set", "name"])]
    pub run_all: bool,
}

#[derive(serde::Serialize)]
struct Ended {
    name: String,
    status: &'static str,
    rev: Option<String>,
    error: Option<String>,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    let _cache_lock = crate::commands::common::lock_cache(&repo.cache()?, Access::Shared, ui)?;
    let records = match args.run_all {
        true => run::pending(&repo)?,
        false => run::queue(&repo, &args.set, args.name.as_deref())?,
    };
    let uncommitted = run::uncommitted(&repo)?;
    if !args.run_all && !uncommitted.is_empty() {
        ui.warn(&format!(
            "experiments start from HEAD's commit; the uncommitted changes to {} are not part of them",
            uncommitted
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if args.queue {
        if ui.json {
            let queued: Vec<_> = records.iter().map(|r| ended(r, "queued")).collect();
            ui.print_json(&serde_json::json!({ "experiments": queued }))?;
        }
        for r in &records {
            ui.info(&format!("queued experiment `{}` ({})", r.name, shown(r)));
        }
        ui.hint("`git mlv exp run --run-all` runs them");
        return Ok(());
    }
    if records.is_empty() {
        ui.info("no queued or interrupted experiment to run");
    }
    let exe = std::env::current_exe()?;
    let report = Report {
        ui,
        ended: std::sync::Mutex::new(Vec::new()),
    };
    let result = run::run(&repo, records, args.jobs as usize, &exe, &report);
    if ui.json {
        let mut ended = report.ended.into_inner().unwrap_or_default();
        ended.sort_by(|a, b| a.name.cmp(&b.name));
        ui.print_json(&serde_json::json!({ "experiments": ended }))?;
    }
    result
}

fn ended(r: &Record, status: &'static str) -> Ended {
    Ended {
        name: r.name.clone(),
        status,
        rev: None,
        error: None,
    }
}

fn shown(r: &Record) -> String {
    match r.params.is_empty() {
        true => "no params changed".into(),
        false => run::describe(&r.params).replace('\n', ", "),
    }
}

/// Says on stderr when each experiment starts and ends, and keeps how for `--json`.
struct Report<'a> {
    ui: &'a Ui,
    ended: std::sync::Mutex<Vec<Ended>>,
}

impl RunReport for Report<'_> {
    fn started(&self, record: &Record) {
        self.ui.info(&format!(
            "running experiment `{}` ({})",
            record.name,
            shown(record)
        ));
    }

    fn finished(&self, name: &str, result: &Result<String, String>) {
        let (status, rev, error) = match result {
            Ok(commit) => {
                self.ui.info(&format!(
                    "experiment `{name}` done: {}",
                    &commit[..commit.len().min(10)]
                ));
                ("done", Some(commit.clone()), None)
            }
            Err(e) => {
                self.ui.warn(&format!("experiment `{name}` failed: {e}"));
                ("failed", None, Some(e.clone()))
            }
        };
        if let Ok(mut v) = self.ended.lock() {
            v.push(Ended {
                name: name.to_string(),
                status,
                rev,
                error,
            });
        }
    }
}
