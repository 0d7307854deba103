//! `git mlv promote <name>@<version> <stage> [--force]`: assign a stage with a new tag, once
//! the version's metrics pass every gate against the stage's current version.

use crate::error::failed;
use crate::gate;
use crate::gitx::Source;
use crate::project::Project;
use crate::registry::{self, Registry};
use crate::repo::Repo;
use crate::ui::Ui;

#[derive(clap::Args)]
pub struct Args {
    /// The version to promote: `<name>@<version>`, e.g. `model@v1.2.0`
    #[arg(value_name = "NAME@VERSION")]
    pub reference: String,
    /// The stage to assign, e.g. `prod`
    pub stage: String,
    /// Skip the quality gates and the lineage check (and say so)
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    let (name, version) = registry::parse_version_ref(&args.reference)?;
    registry::check_name(&args.stage)?;
    let reg = Registry::load(&repo.git)?;
    let info = reg
        .version(&name, &version)
        .filter(|v| v.active)
        .ok_or_else(|| registry::RegistryError::UnknownVersion {
            name: name.clone(),
            version: version.to_string(),
        })?;
    let current = reg.holder(&name, &args.stage);
    if current.as_ref().is_some_and(|h| h.version == info.version) {
        ui.info(&format!(
            "`{name}#{}` already holds {}; nothing to do",
            args.stage, info.version
        ));
        return Ok(());
    }
    let mut report = None;
    if args.force {
        ui.warn("--force: the quality gates and the lineage check were skipped");
    } else {
        check_lineage(&repo, &name, &info, ui)?;
        let project = Project::load(repo.root())?;
        let baseline = format!("{name}#{}", args.stage);
        let r = gate::evaluate(
            &project.gates,
            Source::Rev(&repo.git, &info.commit),
            &repo.git,
            &reg,
            Some(&baseline),
        )?;
        if !r.passed() {
            // Refused: the table is the command's report, on stdout.
            if !ui.json {
                super::gate::print(ui, &r, super::gate::Table::Stdout)?;
            } else {
                ui.print_json(&serde_json::json!({ "promoted": false, "gates": r }))?;
            }
            return Err(failed(format!(
                "promotion of `{name}@{}` to `{}` refused: a quality gate failed against {}\nhint: improve the model, or run `git mlv promote {} {} --force` to override the gates",
                info.version,
                args.stage,
                current.map_or("no baseline".to_string(), |h| format!(
                    "`{baseline}` ({})",
                    h.version
                )),
                args.reference,
                args.stage
            )));
        }
        // Passed: stdout is for the tag alone (`tag=$(git mlv promote …)`).
        if !ui.json {
            super::gate::print(ui, &r, super::gate::Table::Stderr)?;
        }
        report = Some(r);
    }
    let tag = registry::assign(&repo.git, &reg, &name, &info, &args.stage)?;
    if let Some(d) = reg.deprecation(&name) {
        ui.info(&format!(
            "`{name}` was deprecated (tag `{}`); this assignment makes it active again, as GTO reads it",
            d.tag
        ));
    }
    if ui.json {
        ui.print_json(&serde_json::json!({
            "promoted": true, "name": name, "stage": args.stage, "version": info.version,
            "commit": info.commit, "tag": tag, "previous": current.map(|h| h.version),
            "forced": args.force, "gates": report,
        }))?;
    } else {
        ui.out(&tag)?;
        ui.info(&format!(
            "`{name}#{}` now holds {}{}",
            args.stage,
            info.version,
            current.map_or(String::new(), |h| format!(" (was {})", h.version))
        ));
        // Without a remembered target, `deploy` needs `--to`; a config it cannot read
        // fails `deploy` itself with the reason, so the hint need not.
        let to = match crate::ops::deploy::remembered(&repo, &name, &args.stage) {
            Ok(Some(_)) => "",
            _ => " --to <dir|url>",
        };
        ui.hint(&format!(
            "share it with `git push origin {tag}`; deploy it with `git mlv deploy {name} {}{to}`",
            args.stage
        ));
    }
    Ok(())
}

/// Refuses a version whose `mlv.lock` (at its commit) no longer ties the artifact to the
/// data, params and code that produced it. An artifact no stage produces has no lineage
/// to check; that is said, not refused.
fn check_lineage(
    repo: &Repo,
    name: &str,
    info: &registry::VersionInfo,
    ui: &Ui,
) -> anyhow::Result<()> {
    let path = crate::project::artifact_at(&repo.git, repo.root(), name, &info.commit)?.path;
    let node = crate::lineage::trace(repo, &path, Some(&info.commit))?;
    if node.stage.is_none() {
        ui.info(&format!(
            "`{path}` is not produced by a stage of mlv.lock at {}: no lineage to check",
            info.version
        ));
        return Ok(());
    }
    let broken = crate::lineage::broken(&node);
    if broken.is_empty() {
        return Ok(());
    }
    Err(failed(format!(
        "promotion of `{name}@{}` refused: at its commit, mlv.lock no longer ties `{path}` to what produced it: {}\nhint: run `git mlv run`, commit, and register the new commit; or `--force` to skip the check",
        info.version,
        broken.join(", ")
    )))
}
