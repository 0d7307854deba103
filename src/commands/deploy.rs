//! `git mlv deploy <name> <stage> [--to <dir|url>]`: put the version a stage holds at
//! `<target>/<name>/v<semver>/…` and switch `<target>/<name>/current` to it.
//! `git mlv deploy --tag <tag>` does the same for the stage a registry tag is about, as a CI
//! job triggered by that tag's push runs it.

use crate::deploy::{self, Target};
use crate::error::{failed, usage};
use crate::ops::deploy::{Deployed, copies_only, remembered};
use crate::registry::{self, DeployPlan, Holder, Registry, TagInfo};
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
    /// A folder, or an object store / HTTP URL (default: the target remembered for this
    /// artifact and stage)
    #[arg(long, value_name = "DIR|URL")]
    pub to: Option<String>,
    /// Deploy for a registry tag as CI receives it (`$GITHUB_REF_NAME`, `$CI_COMMIT_TAG`):
    /// a stage tag deploys what its stage holds now; a version tag deploys nothing
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,
    /// With a version tag: deploy the newest registration to this stage's target (a stage
    /// the registry does not assign)
    #[arg(long = "stage", value_name = "STAGE", requires = "tag")]
    pub for_stage: Option<String>,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let mut repo = Repo::discover()?;
    copies_only(&mut repo);
    let reg = Registry::load(&repo.git)?;
    let (name, stage, holder, tag) = match &args.tag {
        None => {
            let (name, stage, holder) = super::which::named_holder(&reg, args.name, args.stage)?;
            (name, stage, holder, None)
        }
        Some(tag) => {
            let info = registry::read_tag(&repo.git, &reg, tag)?;
            match reg.deploy_plan(&info, args.for_stage.as_deref())? {
                DeployPlan::Deploy { stage, version } => {
                    (info.name.clone(), stage, version, Some(info))
                }
                DeployPlan::Nothing => return nothing_to_deploy(&info, ui),
                DeployPlan::Empty { stage } => {
                    return Err(failed(format!(
                        "`{}#{stage}` holds no version after tag `{tag}`, so there is nothing to deploy; `current` at the target is left as it was\nhint: promote a version (`git mlv promote {}@<version> {stage}`), whose tag deploys it, or take the target down by hand",
                        info.name, info.name
                    )));
                }
            }
        }
    };
    if let Some(info) = &tag
        && info.stage.is_some()
        && info.version.as_deref() != Some(holder.version.as_str())
    {
        ui.info(&format!(
            "tag `{}` is about {}, but `{name}#{stage}` holds {} now (tag `{}`): deploying that",
            info.tag,
            info.version.as_deref().unwrap_or("-"),
            holder.version,
            holder.tag
        ));
    }
    let target = target(&repo, &name, &stage, args.to.as_deref())?;
    let deployed =
        crate::ops::deploy::deploy(&repo, &name, &holder.version, &holder.commit, &target, ui)?;
    if args.to.is_some()
        && let Some(file) = deploy::remember(repo.root(), &name, &stage, &target)?
    {
        let shown = format!("{}/{file}", crate::config::DIR);
        ui.info(&format!(
            "remembered the target of `{name}#{stage}` in `{shown}`"
        ));
        if file == crate::config::FILE {
            super::common::hint_git_add(&repo, ui, &[crate::paths::RepoPath::new(shown)]);
        }
    }
    report(
        ui,
        &name,
        &stage,
        &holder,
        tag.as_ref(),
        &target,
        &deployed,
        started,
    )
}

/// The target given with `--to` (a folder is created and remembered absolute), else the
/// one remembered for the artifact's stage.
fn target(repo: &Repo, name: &str, stage: &str, to: Option<&str>) -> anyhow::Result<Target> {
    let Some(t) = to else {
        return remembered(repo, name, stage)?.ok_or_else(|| {
            usage(format!(
                "no deploy target is remembered for `{name}#{stage}`\nhint: give one with `--to <dir|url>`; it is remembered for later deploys and rollbacks"
            ))
        });
    };
    Ok(match Target::parse(t, &std::env::current_dir()?) {
        // Remembered absolute and without `..`, so it means the same from any folder.
        Target::Dir(d) => {
            if let Some(file) = d
                .ancestors()
                .find(|a| a.symlink_metadata().is_ok())
                .filter(|a| !a.is_dir())
            {
                return Err(usage(format!(
                    "deploy target `{}` is not a folder\nhint: `--to` names a folder (versions go to `<dir>/{name}/v<semver>/`) or a URL",
                    file.display(),
                )));
            }
            fs_err::create_dir_all(&d)?;
            Target::Dir(fs_err::canonicalize(&d)?)
        }
        url => url,
    })
}

/// A version or deprecation tag: said, and exit 0 (the CI job that got it did its work).
fn nothing_to_deploy(info: &TagInfo, ui: &Ui) -> anyhow::Result<()> {
    if ui.json {
        ui.print_json(&serde_json::json!({
            "tag": info.tag, "event": info.event, "name": info.name, "stage": null,
            "tag_version": info.version, "version": null, "commit": null, "target": null,
            "path": null, "result": "nothing",
        }))?;
        return Ok(());
    }
    let what = match info.event {
        "register" => "registers a version and assigns no stage",
        "deregister" => "withdraws a version and assigns no stage",
        "deprecate" => "deprecates the artifact; a deploy never removes what a target serves",
        _ => "assigns no stage",
    };
    ui.info(&format!("tag `{}` {what}: nothing to deploy", info.tag));
    if info.version.is_some() {
        ui.hint(&format!(
            "promoting it deploys it (`git mlv promote {}@<version> <stage>` writes a stage tag); `--stage <stage>` deploys registrations to a stage the registry does not assign",
            info.name
        ));
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn report(
    ui: &Ui,
    name: &str,
    stage: &str,
    holder: &Holder,
    tag: Option<&TagInfo>,
    target: &Target,
    deployed: &Deployed,
    started: std::time::Instant,
) -> anyhow::Result<()> {
    if ui.json {
        let mut json = serde_json::json!({
            "name": name, "stage": stage, "version": holder.version,
            "commit": holder.commit, "target": target.shown(), "path": deployed.path,
            "changed": deployed.changed, "seconds": started.elapsed().as_secs_f64(),
        });
        if let Some(info) = tag {
            json["tag"] = info.tag.clone().into();
            json["event"] = info.event.into();
            json["tag_version"] = info.version.clone().into();
            json["result"] = if deployed.changed {
                "deployed"
            } else {
                "unchanged"
            }
            .into();
        }
        ui.print_json(&json)?;
        return Ok(());
    }
    ui.out(&deployed.path)?;
    if deployed.changed {
        ui.info(&format!(
            "deployed `{name}` {} ({stage}) to `{}`",
            holder.version,
            target.shown()
        ));
    } else {
        ui.info(&format!(
            "`current` at `{}` already serves `{name}` {} ({stage}); nothing to do",
            target.shown(),
            holder.version
        ));
    }
    Ok(())
}
