//! `git mlv deploy <name> <stage> [--to <dir|url>]`: put the version a stage holds at
//! `<target>/<name>/v<semver>/…` and switch `<target>/<name>/current` to it.
//! `git mlv deploy --tag <tag>` does the same for the stage a registry tag is about, as a CI
//! job triggered by that tag's push runs it.

use super::common::{self, TransferArgs};
use crate::cache::Access;
use crate::deploy::{self, CurrentJson, Folder, Target};
use crate::error::{failed, usage};
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
            let (name, stage) = args
                .name
                .zip(args.stage)
                .expect("clap requires both without --tag");
            registry::check_name(&name)?;
            let holder = reg.current(&name, &stage)?;
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
    let deployed = deploy(&repo, &name, &holder.version, &holder.commit, &target, ui)?;
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

/// Deployed files are copies (reflinks where the file system can), never hard or symbolic
/// links into the cache: a serving folder must not change when the cache is collected, and
/// a server writing through a link would damage a cache object.
pub fn copies_only(repo: &mut Repo) {
    use crate::config::LinkType;
    repo.config.cache.link = vec![LinkType::Reflink, LinkType::Copy];
}

/// The target remembered for an artifact's stage (`deploy::remember` keeps one per stage).
pub fn remembered(repo: &Repo, name: &str, stage: &str) -> anyhow::Result<Option<Target>> {
    Ok(repo
        .config
        .deploy
        .get(name)
        .and_then(|stages| stages.get(stage))
        .map(|t| Target::parse(t, repo.root())))
}

/// Where a deploy left the data, and whether it changed anything.
pub struct Deployed {
    pub path: String,
    /// False when `current` already served the version, verified: nothing was written.
    pub changed: bool,
}

/// Deploys `version` (registered at `commit`) of `name` and switches `current`, unless it
/// already serves that version, checked. Shared with `rollback`.
pub fn deploy(
    repo: &Repo,
    name: &str,
    version: &str,
    commit: &str,
    target: &Target,
    ui: &Ui,
) -> anyhow::Result<Deployed> {
    if let Target::Url(url) = target {
        crate::remote::check_url(url).map_err(|why| {
            usage(format!(
                "deploy target `{}` {why}\nhint: deploy to {} with `git mlv deploy {name} <stage> --to <dir|url>`",
                crate::remote::redact(url),
                crate::remote::URL_FORMS
            ))
        })?;
    }
    // Fetching and checking out write into the cache: gc must not run meanwhile.
    let _cache_lock = common::lock_cache(&repo.cache()?, Access::Shared, ui)?;
    let artifact = registry::artifact_at(&repo.git, repo.root(), name, commit)?;
    let tracked = repo
        .tracked_at(Some(commit))?
        .into_iter()
        .find(|t| t.path == artifact.path)
        .ok_or_else(|| {
            failed(format!(
                "`{}` is not tracked at commit {commit} ({name} {version}), so there is nothing to deploy\nhint: register a commit whose `{}` is committed",
                artifact.path,
                artifact.path.pointer()
            ))
        })?;
    let file_name = artifact.path.file_name().to_string();
    match target {
        Target::Dir(dir) => {
            let folder = Folder::new(dir, name);
            if let Some(path) = folder.foreign_current() {
                return Err(usage(format!(
                    "`{}` is not a symlink: deploy switches `current` by renaming a new symlink over it, and does not delete what is there\nhint: move it aside (`mv {0} {0}.old`), then deploy again",
                    path.display()
                )));
            }
            folder.sweep()?;
            let vdir = folder.version_dir(version);
            let there = vdir.symlink_metadata().is_ok();
            if there && tracked.pointer.is_dir() && !repo.cache()?.contains(&tracked.pointer.hash) {
                ensure_cached(repo, &tracked, commit, ui)?;
            }
            let holds = there && {
                let expected = deploy::Expected::of(&repo.cache()?, &tracked)?;
                folder.holds(version, &file_name, &expected)?
            };
            let path = vdir.join(&file_name).display().to_string();
            if holds && folder.current().as_deref() == Some(version) {
                return Ok(Deployed {
                    path,
                    changed: false,
                });
            }
            if !holds {
                if there {
                    ui.warn(&format!(
                        "`{}` does not hold `{name}` {version} as registered (commit {commit}); replacing it",
                        vdir.display()
                    ));
                }
                ensure_cached(repo, &tracked, commit, ui)?;
                let scratch = folder.scratch(version)?;
                let built =
                    check_out(repo, &scratch, &artifact.path, commit, ui).and_then(|data| {
                        Ok(folder.install(
                            &scratch,
                            &data,
                            version,
                            &file_name,
                            tracked.pointer.hash,
                            commit,
                        )?)
                    });
                if built.is_err() {
                    // Nothing of a failed deploy stays at the target.
                    let _ = std::fs::remove_dir_all(&scratch);
                }
                built?;
            }
            folder.switch(version)?;
            Ok(Deployed {
                path,
                changed: true,
            })
        }
        Target::Url(url) => {
            let backend =
                crate::remote::open("deploy target", &url_settings(repo, url), repo.root())?;
            let current = CurrentJson {
                version: version.to_string(),
                path: format!("{version}/{file_name}"),
                commit: commit.to_string(),
                hash: tracked.pointer.hash.to_string(),
            };
            let path = format!(
                "{}/{name}/{}",
                crate::remote::redact(url).trim_end_matches('/'),
                current.path
            );
            let cache = repo.cache()?;
            let runtime = common::runtime()?;
            // A folder artifact's file list is its manifest, which the check needs.
            if tracked.pointer.is_dir() && !cache.contains(&tracked.pointer.hash) {
                ensure_cached(repo, &tracked, commit, ui)?;
            }
            let expected = deploy::Expected::of(&cache, &tracked)?;
            let serves = deploy::serves(
                backend.as_ref(),
                name,
                &current,
                &expected,
                common::DEFAULT_JOBS,
            );
            if runtime.block_on(serves)? {
                return Ok(Deployed {
                    path,
                    changed: false,
                });
            }
            ensure_cached(repo, &tracked, commit, ui)?;
            runtime
                .block_on(deploy::upload(
                    backend.as_ref(),
                    &cache,
                    name,
                    &tracked,
                    &current,
                    common::DEFAULT_JOBS,
                ))
                .map_err(|e| {
                    e.context(format!(
                        "deploying to `{}`; `{name}/current.json` was not changed",
                        crate::remote::redact(url)
                    ))
                })?;
            Ok(Deployed {
                path,
                changed: true,
            })
        }
    }
}

/// Checks the artifact at `path` out as of `commit` into `scratch`; returns where its data is.
fn check_out(
    repo: &Repo,
    scratch: &std::path::Path,
    path: &crate::paths::RepoPath,
    commit: &str,
    ui: &Ui,
) -> anyhow::Result<std::path::PathBuf> {
    let checkout_dir = scratch.join("checkout");
    let paths = [path.to_abs(repo.root())];
    let request = super::checkout::Request {
        paths: &paths,
        exclude: &[],
        rev: Some(commit),
        to: Some(&checkout_dir),
        force: false,
        ready_copies: &[],
    };
    let (_, missing) = super::checkout::checkout(repo, &request, ui)?;
    super::checkout::missing_error(repo, &missing)?;
    Ok(path.to_abs(&checkout_dir))
}

/// Settings for a deploy URL: those of a configured remote on the same bucket or host (its
/// endpoint, region and credentials) with the deploy URL, else the ecosystem's defaults.
fn url_settings(repo: &Repo, url: &str) -> crate::config::RemoteConfig {
    let place = |u: &str| {
        url::Url::parse(u)
            .ok()
            .map(|u| (u.scheme().to_string(), u.host_str().map(str::to_owned)))
    };
    let here = place(url);
    let mut settings = repo
        .config
        .remotes
        .values()
        .find(|r| here.is_some() && place(&r.url) == here)
        .cloned()
        .unwrap_or_default();
    settings.url = url.to_string();
    settings
}

/// Fetches the artifact's objects from the default remote when the cache lacks them.
fn ensure_cached(
    repo: &Repo,
    tracked: &crate::repo::Tracked,
    commit: &str,
    ui: &Ui,
) -> anyhow::Result<()> {
    if deploy::cached(&repo.cache()?, tracked)? {
        return Ok(());
    }
    if repo.config.remotes.is_empty() {
        return Err(failed(format!(
            "the data of `{}` at {commit} is not in the cache and no remote is configured to fetch it from\nhint: deploy from the machine that trained it, or `git mlv remote add` the team's storage",
            tracked.path
        )));
    }
    let args = TransferArgs {
        paths: common::PathArgs {
            paths: vec![tracked.path.to_abs(repo.root())],
            exclude: Vec::new(),
        },
        remote: None,
        jobs: None,
        revs: vec![commit.to_string()],
        all_branches: false,
        all_tags: false,
        all_commits: false,
    };
    let (remote, summary, _) = super::fetch::fetch(repo, &args, false, ui)?;
    common::failures(&remote, &summary)
}
