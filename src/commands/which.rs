//! `git mlv which <name> <stage>`: the version a stage holds, its commit and the
//! artifact's hash at that commit.

use crate::error::failed;
use crate::registry::{self, Holder, Registry};
use crate::repo::Repo;
use crate::ui::Ui;

#[derive(clap::Args)]
pub struct Args {
    /// The artifact, as named in `mlv.toml`
    pub name: String,
    /// The stage, e.g. `prod`
    pub stage: String,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    registry::check_name(&args.name)?;
    let reg = Registry::load(&repo.git)?;
    let holder = holder(&reg, &args.name, &args.stage)?;
    let artifact = registry::artifact_at(&repo.git, repo.root(), &args.name, &holder.commit)?;
    let hash = repo
        .tracked_at(Some(&holder.commit))?
        .into_iter()
        .find(|t| t.path == artifact.path)
        .map(|t| t.pointer.hash.to_string());
    if ui.json {
        ui.print_json(&serde_json::json!({
            "name": args.name, "stage": args.stage, "version": holder.version,
            "commit": holder.commit, "tag": holder.tag, "path": artifact.path.as_str(), "hash": hash,
        }))?;
    } else {
        ui.out(&format!(
            "{}  {}  {}",
            holder.version,
            holder.commit,
            hash.as_deref().unwrap_or("-")
        ))?;
    }
    Ok(())
}

/// The stage's current version, or an error that says how to assign one.
pub fn holder(reg: &Registry, name: &str, stage: &str) -> anyhow::Result<Holder> {
    if !reg.names().contains(&name) {
        return Err(crate::error::usage(format!(
            "no artifact `{name}` is registered\nhint: `git mlv models` lists the registered ones; `git mlv register {name}` registers a version"
        )));
    }
    reg.holder(name, stage).ok_or_else(|| {
        failed(format!(
            "stage `{stage}` of `{name}` holds no version\nhint: assign one with `git mlv promote {name}@<version> {stage}`"
        ))
    })
}
