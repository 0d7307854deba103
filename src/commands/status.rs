//! `git mlv status`: what differs between tracked data and its pointers.

use crate::repo::Repo;
use crate::status::{self, ArtifactStatus, State};
use crate::ui::{self, Ui};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub paths: super::common::PathArgs,
    /// Exit 1 when anything is not clean (for scripts and CI)
    #[arg(long)]
    pub check: bool,
    /// Also report what this remote lacks
    #[arg(short = 'r', long = "remote")]
    pub remote: Option<String>,
    /// Also list imported data and whether its source moved on (asks each source)
    #[arg(long)]
    pub imports: bool,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    let cache = repo.cache()?;
    let mut stat = repo.stat_cache();
    let spec = args.paths.spec(&repo)?;
    let selected = repo.select(&spec)?;
    let bar = ui.bar("checking");
    let mut report = Vec::new();
    for (t, scope) in &selected {
        report.push(status::status(&repo, &cache, &mut stat, t, scope, &bar)?);
    }
    drop(bar);
    // Stages only for the whole repository: a path filter asks about data.
    let stages = if spec.is_empty() {
        let project = crate::project::Project::load(repo.root())?;
        let lock = crate::lockfile::LockFile::load(repo.root())?;
        crate::pipeline::stale_stages(&repo, &mut stat, &project, &lock)?
    } else {
        crate::pipeline::StageCheck::default()
    };
    // A stage that could not be checked: what is wrong, and the hint apart.
    let unchecked: Vec<(&str, String, Option<String>)> = stages
        .unchecked
        .iter()
        .map(|(name, e)| {
            let msg = crate::error::text(e);
            match msg.split_once("\nhint: ") {
                Some((m, h)) => (name.as_str(), m.to_string(), Some(h.to_string())),
                None => (name.as_str(), msg, None),
            }
        })
        .collect();
    let stages_fresh = stages.stale.is_empty() && unchecked.is_empty();
    // Hashes learnt here make the next status free, when they are worth rewriting the stat
    // cache for (`worth_saving`); failing to save them loses nothing.
    if stat.worth_saving()
        && let Err(e) = stat.save()
    {
        ui.detail(&format!("could not save the stat cache: {e}"));
    }
    // The stat cache (its map, about 100 MB at a million files) is done with before the
    // remote part reads every manifest's hashes.
    drop(stat);
    let mut remote_name = None;
    if args.remote.is_some() {
        let (name, engine) = super::common::engine(&repo, args.remote.as_deref(), None)?;
        let missing = super::common::runtime()?
            .block_on(crate::sync::missing_on_remote(&cache, &engine, &selected))?;
        for (s, (_, n)) in report.iter_mut().zip(missing) {
            s.not_on_remote = Some(n);
        }
        remote_name = Some(name);
    }
    let clean = report.iter().all(ArtifactStatus::is_clean) && stages_fresh;
    let imports = match args.imports {
        true => {
            let tracked: Vec<_> = selected.iter().map(|(t, _)| t.clone()).collect();
            crate::ops::import::imported(&tracked)
        }
        false => Vec::new(),
    };
    if ui.json {
        let stale: Vec<_> = stages
            .stale
            .iter()
            .map(|(name, reasons)| {
                let reasons: Vec<String> = reasons.iter().map(ToString::to_string).collect();
                serde_json::json!({ "stage": name, "reasons": reasons })
            })
            .collect();
        ui.print_json(&serde_json::json!({
            "clean": clean, "artifacts": report, "stale_stages": stale, "imports": imports,
            "unchecked_stages": unchecked.iter().map(|(stage, error, _)| {
                serde_json::json!({ "stage": stage, "error": error })
            }).collect::<Vec<_>>(),
        }))?;
    } else {
        print_human(&repo, ui, &report, remote_name.as_deref(), stages_fresh)?;
        for (name, reasons) in &stages.stale {
            let why: Vec<String> = reasons.iter().map(ToString::to_string).collect();
            ui.out(&format!("stage {name}: stale ({})", why.join(", ")))?;
        }
        if !stages.stale.is_empty() {
            ui.hint("`git mlv run` brings the stale stages and mlv.lock up to date");
        }
        print_imports(repo_display(&repo), ui, &imports)?;
    }
    // Said in JSON mode too: stderr is the user's either way.
    for (name, error, hint) in &unchecked {
        ui.warn(&format!("stage `{name}` was not checked: {error}"));
        if let Some(h) = hint {
            ui.hint(h);
        }
    }
    if args.check && !clean {
        return Err(crate::error::CliError::Silent(1).into());
    }
    Ok(())
}

fn repo_display(repo: &Repo) -> impl Fn(&str) -> String + '_ {
    |p| repo.display(&crate::paths::RepoPath::new(p))
}

/// One line per imported path: its source, and whether that moved on.
fn print_imports(
    shown: impl Fn(&str) -> String,
    ui: &Ui,
    imports: &[crate::ops::import::Imported],
) -> anyhow::Result<()> {
    for i in imports {
        let at = i
            .rev
            .as_deref()
            .map_or(String::new(), |r| format!(" at {r}"));
        let state = match (i.moved, &i.error) {
            (Some(true), _) => format!(
                "source moved on: `git mlv update {}` follows it",
                shown(&i.path)
            ),
            (Some(false), _) => "up to date".to_string(),
            (None, e) => format!("source not reachable: {}", e.as_deref().unwrap_or("")),
        };
        ui.out(&format!(
            "{}: imported from {}{at} ({state})",
            shown(&i.path),
            i.url
        ))?;
    }
    Ok(())
}

fn print_human(
    repo: &Repo,
    ui: &Ui,
    report: &[ArtifactStatus],
    remote: Option<&str>,
    stages_fresh: bool,
) -> anyhow::Result<()> {
    let mut hints = Vec::new();
    for s in report.iter().filter(|s| !s.is_clean()) {
        let shown = repo.display(&crate::paths::RepoPath::new(&s.path));
        let mut what = Vec::new();
        match s.state {
            State::Unchanged => {}
            State::Modified if !s.not_pulled.is_empty() => {
                what.push("modified".to_string());
                // `add` now would record a manifest without the files never pulled.
                hints.push(format!("`git mlv pull <file>` brings each file not pulled; only then does `git mlv add {shown}` record the new data without dropping them; `git mlv checkout --force {shown}` discards the changes"));
            }
            State::Modified if !s.not_regular.is_empty() => {
                what.push("modified".to_string());
                // `add` refuses these: say what makes it work.
                for n in &s.not_regular {
                    let path = repo.display(&crate::paths::RepoPath::new(&n.path));
                    hints.push(format!("`{path}` is {}, which git-mlv cannot record: replace it with a regular file (or move it out), then `git mlv add {shown}`; `git mlv checkout --force {shown}` discards the changes", n.is));
                }
            }
            State::Modified => {
                what.push("modified".to_string());
                hints.push(format!("`git mlv add {shown}` records the new data; `git mlv checkout --force {shown}` discards it"));
            }
            State::OutOfStep => {
                what.push(
                    "out of step with its pointer (the workspace holds another cached version)"
                        .to_string(),
                );
                hints.push(format!(
                    "`git mlv checkout {shown}` brings the data in line with `{shown}.mlv`"
                ));
            }
            State::Missing => {
                what.push(if s.not_pulled.is_empty() {
                    "missing from workspace".to_string()
                } else {
                    format!(
                        "{} not pulled",
                        ui::count(s.not_pulled.len() as u64, "file")
                    )
                });
                // Checkout cannot restore what the cache lacks: pull fetches it first.
                hints.push(if s.in_cache {
                    format!("`git mlv checkout {shown}` restores it")
                } else {
                    format!("`git mlv pull {shown}` fetches it and checks it out")
                });
            }
            State::DamagedCache => {
                what.push(
                    "damaged: a read-only link into the cache was written through".to_string(),
                );
                hints.push(format!(
                    "run `git mlv fsck`, then restore `{shown}` from a remote"
                ));
            }
            State::Unknown => {
                what.push("not comparable".to_string());
                hints.push(format!(
                    "`git mlv fetch {shown}` brings its manifest, so its files can be compared"
                ));
            }
        }
        if !s.in_cache {
            // Without the manifest, which (and how many) objects are missing is unknown:
            // say so, with the file count the pointer records.
            what.push(match s.pointer_files {
                Some(n) if !s.manifest_in_cache => format!(
                    "missing from cache (manifest not fetched; {})",
                    ui::count(n, "file")
                ),
                _ if s.kind == "dir" && s.missing_objects > 0 => format!(
                    "{} missing from cache",
                    ui::count(s.missing_objects as u64, "object")
                ),
                _ => "missing from cache".to_string(),
            });
            if s.state == State::Unchanged {
                hints.push(format!(
                    "`git mlv add {shown}` stores the workspace copy in the cache again"
                ));
            }
        }
        if let (Some(n), Some(remote)) = (s.not_on_remote.filter(|n| *n > 0), remote) {
            what.push(format!(
                "{} not on remote `{remote}`",
                ui::count(n as u64, "object")
            ));
            hints.push(format!("`git mlv push -r {remote} {shown}` uploads them"));
        }
        ui.out(&format!("{shown}: {}", what.join(", ")))?;
        for (label, files) in [
            ("modified", &s.changes.modified),
            ("added", &s.changes.added),
            ("removed", &s.changes.removed),
            ("not pulled", &s.not_pulled),
        ] {
            for f in files {
                ui.out(&format!(
                    "    {label}: {}",
                    repo.display(&crate::paths::RepoPath::new(f))
                ))?;
            }
        }
    }
    // `-r R` says what it found on `R` even when that is nothing missing.
    if let Some(remote) = remote {
        let lacking: usize = report.iter().filter_map(|s| s.not_on_remote).sum();
        ui.info(&if lacking == 0 {
            format!("remote `{remote}` holds everything the data needs")
        } else {
            format!(
                "remote `{remote}` lacks {}",
                ui::count(lacking as u64, "object")
            )
        });
    }
    if report.iter().all(ArtifactStatus::is_clean) && stages_fresh {
        ui.info(if report.is_empty() {
            "nothing is tracked yet"
        } else {
            "data and pointers are up to date"
        });
    }
    for h in hints {
        ui.hint(&h);
    }
    Ok(())
}
