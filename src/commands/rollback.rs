//! `git mlv rollback <name> <stage> [--to <version>]`: give the stage back to the version
//! that held it before (new tags, so history is kept) and switch a remembered deploy.

use crate::error::failed;
use crate::registry::{self, Registry, Version};
use crate::repo::Repo;
use crate::ui::Ui;

#[derive(clap::Args)]
pub struct Args {
    /// The artifact, as named in `mlv.toml`
    pub name: String,
    /// The stage, e.g. `prod`
    pub stage: String,
    /// Roll back to this version instead of the one that held the stage before
    #[arg(long, value_name = "VERSION")]
    pub to: Option<String>,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let mut repo = Repo::discover()?;
    crate::ops::deploy::copies_only(&mut repo);
    registry::check_name(&args.name)?;
    let reg = Registry::load(&repo.git)?;
    let current = reg.current(&args.name, &args.stage)?;
    let target = match &args.to {
        Some(v) => {
            let v = Version::parse(v)?;
            reg.version(&args.name, &v)
                .filter(|i| i.active)
                .ok_or_else(|| registry::RegistryError::UnknownVersion {
                    name: args.name.clone(),
                    version: v.to_string(),
                })?
        }
        None => {
            let v = reg.rollback_target(&args.name, &args.stage).ok_or_else(|| {
                failed(format!(
                    "`{}#{}` holds {} and no earlier version is left to roll back to (versions rolled back from are skipped)\nhint: name one with `--to <version>`; `git mlv models -v` lists them",
                    args.name, args.stage, current.version
                ))
            })?;
            reg.version(&args.name, &Version::parse(&v)?)
                .expect("rollback targets are registered versions")
        }
    };
    if target.version == current.version {
        ui.info(&format!(
            "`{}#{}` already holds {}; nothing to do",
            args.name, args.stage, target.version
        ));
        return Ok(());
    }
    let (off, on) =
        registry::rollback(&repo.git, &reg, &args.name, &args.stage, &current, &target)?;
    let deployed = match crate::ops::deploy::remembered(&repo, &args.name, &args.stage)? {
        Some(t) => Some(
            crate::ops::deploy::deploy(&repo, &args.name, &target.version, &target.commit, &t, ui)
                .map_err(|e| {
                    e.context(format!(
                        "`{}#{}` was rolled back to {} (tags {off}, {on}), but switching the deploy at `{}` failed\nhint: fix that, then run `git mlv deploy {} {}`",
                        args.name,
                        args.stage,
                        target.version,
                        t.shown(),
                        args.name,
                        args.stage
                    ))
                })?
                .path,
        ),
        None => None,
    };
    if ui.json {
        ui.print_json(&serde_json::json!({
            "name": args.name, "stage": args.stage, "from": current.version, "to": target.version,
            "commit": target.commit, "tags": [off, on], "deployed": deployed,
            "seconds": started.elapsed().as_secs_f64(),
        }))?;
    } else {
        ui.out(&on)?;
        ui.info(&format!(
            "rolled `{}#{}` back from {} to {} (tags {off}, {on})",
            args.name, args.stage, current.version, target.version
        ));
        if let Some(d) = &deployed {
            ui.info(&format!("`current` now serves `{d}`"));
        }
        ui.hint(&format!("share it with `git push origin {off} {on}`"));
    }
    Ok(())
}
