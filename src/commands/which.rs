//! `git mlv which <name> <stage>`: the version a stage holds, its commit and the
//! artifact's hash at that commit.

use crate::registry::{self, Registry};
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
    let holder = reg.current(&args.name, &args.stage)?;
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
