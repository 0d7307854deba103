//! `git mlv which <name> <stage>`: the version a stage holds, its commit and the
//! artifact's hash at that commit. `git mlv which --tag <tag>`: what a registry tag says,
//! so a CI script can branch on it without parsing the tag grammar.

use crate::registry::{self, Holder, Registry, TagInfo};
use crate::repo::Repo;
use crate::ui::Ui;

#[derive(clap::Args)]
pub struct Args {
    /// The artifact, as named in `mlv.toml`
    #[arg(required_unless_present = "tag", conflicts_with = "tag")]
    pub name: Option<String>,
    /// The stage, e.g. `prod`
    #[arg(required_unless_present = "tag", conflicts_with = "tag")]
    pub stage: Option<String>,
    /// Say what a registry tag means: artifact, event, stage, version, commit
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    let reg = Registry::load(&repo.git)?;
    if let Some(tag) = &args.tag {
        return tag_meaning(&registry::read_tag(&repo.git, &reg, tag)?, ui);
    }
    let (name, stage, holder) = named_holder(&reg, args.name, args.stage)?;
    let artifact = crate::project::artifact_at(&repo.git, repo.root(), &name, &holder.commit)?;
    let hash = repo
        .tracked_at(Some(&holder.commit))?
        .into_iter()
        .find(|t| t.path == artifact.path)
        .map(|t| t.pointer.hash.to_string());
    if ui.json {
        ui.print_json(&serde_json::json!({
            "name": name, "stage": stage, "version": holder.version,
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

/// `<event>  <name>  <stage>  <version>  <commit>` (`-` for what the tag has not), so
/// `read event name stage version commit` takes it apart; what the stage holds now, when a
/// later tag changed it, on stderr.
fn tag_meaning(info: &TagInfo, ui: &Ui) -> anyhow::Result<()> {
    if ui.json {
        ui.print_json(info)?;
        return Ok(());
    }
    ui.out(&format!(
        "{}  {}  {}  {}  {}",
        info.event,
        info.name,
        info.stage.as_deref().unwrap_or("-"),
        info.version.as_deref().unwrap_or("-"),
        info.commit
    ))?;
    if let Some(stage) = &info.stage
        && info.latest == Some(false)
    {
        ui.info(&format!(
            "a later tag changed `{}#{stage}`: it holds {} now",
            info.name,
            info.stage_holds
                .as_ref()
                .map_or("no version".to_string(), |h| format!(
                    "{} (tag `{}`)",
                    h.version, h.tag
                ))
        ));
    }
    Ok(())
}

/// The version `<name>#<stage>` holds now, for commands that take a name and a stage unless
/// `--tag` is given (clap requires both then).
pub fn named_holder(
    reg: &Registry,
    name: Option<String>,
    stage: Option<String>,
) -> anyhow::Result<(String, String, Holder)> {
    let (name, stage) = name.zip(stage).expect("clap requires both without --tag");
    registry::check_name(&name)?;
    let holder = reg.current(&name, &stage)?;
    Ok((name, stage, holder))
}
