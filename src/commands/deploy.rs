//! `git mlv deploy <name> <stage> [--to <dir|url>]`: put the version a stage holds at
//! `<target>/<name>/v<semver>/…` and switch `<target>/<name>/current` to it.

use super::common::{self, TransferArgs};
use crate::cache::Access;
use crate::deploy::{self, CurrentJson, Folder, Target};
use crate::error::{failed, usage};
use crate::registry::{self, Registry};
use crate::repo::Repo;
use crate::ui::Ui;

#[derive(clap::Args)]
pub struct Args {
    /// The artifact, as named in `mlv.toml`
    pub name: String,
    /// The stage, e.g. `prod`
    pub stage: String,
    /// A folder, or an object store / HTTP URL (default: the target remembered for this
    /// artifact and stage)
    #[arg(long, value_name = "DIR|URL")]
    pub to: Option<String>,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let mut repo = Repo::discover()?;
    copies_only(&mut repo);
    registry::check_name(&args.name)?;
    let reg = Registry::load(&repo.git)?;
    let holder = reg.current(&args.name, &args.stage)?;
    let target = match &args.to {
        Some(t) => match Target::parse(t, &std::env::current_dir()?) {
            // Remembered absolute and without `..`, so it means the same from any folder.
            Target::Dir(d) => {
                if let Some(file) = d
                    .ancestors()
                    .find(|a| a.symlink_metadata().is_ok())
                    .filter(|a| !a.is_dir())
                {
                    return Err(usage(format!(
                        "deploy target `{}` is not a folder\nhint: `--to` names a folder (versions go to `<dir>/{}/v<semver>/`) or a URL",
                        file.display(),
                        args.name
                    )));
                }
                fs_err::create_dir_all(&d)?;
                Target::Dir(fs_err::canonicalize(&d)?)
            }
            url => url,
        },
        None => remembered(&repo, &args.name, &args.stage)?.ok_or_else(|| {
            usage(format!(
                "no deploy target is remembered for `{}#{}`\nhint: give one with `--to <dir|url>`; it is remembered for later deploys and rollbacks",
                args.name, args.stage
            ))
        })?,
    };
    let started = std::time::Instant::now();
    let deployed = deploy(
        &repo,
        &args.name,
        &holder.version,
        &holder.commit,
        &target,
        ui,
    )?;
    if args.to.is_some()
        && let Some(file) = deploy::remember(repo.root(), &args.name, &args.stage, &target)?
    {
        let shown = format!("{}/{file}", crate::config::DIR);
        ui.info(&format!(
            "remembered the target of `{}#{}` in `{shown}`",
            args.name, args.stage
        ));
        if file == crate::config::FILE {
            super::common::hint_git_add(&repo, ui, &[crate::paths::RepoPath::new(shown)]);
        }
    }
    if ui.json {
        ui.print_json(&serde_json::json!({
            "name": args.name, "stage": args.stage, "version": holder.version,
            "commit": holder.commit, "target": target.shown(), "path": deployed,
            "seconds": started.elapsed().as_secs_f64(),
        }))?;
    } else {
        ui.out(&deployed)?;
        ui.info(&format!(
            "deployed `{}` {} ({}) to `{}`",
            args.name,
            holder.version,
            args.stage,
            target.shown()
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

/// Deploys `version` (registered at `commit`) of `name` and switches `current`; returns
/// where the data now is. Shared with `rollback`.
pub fn deploy(
    repo: &Repo,
    name: &str,
    version: &str,
    commit: &str,
    target: &Target,
    ui: &Ui,
) -> anyhow::Result<String> {
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
            Ok(vdir.join(&file_name).display().to_string())
        }
        Target::Url(url) => {
            ensure_cached(repo, &tracked, commit, ui)?;
            let backend =
                crate::remote::open("deploy target", &url_settings(repo, url), repo.root())?;
            let current = CurrentJson {
                version: version.to_string(),
                path: format!("{version}/{file_name}"),
                commit: commit.to_string(),
                hash: tracked.pointer.hash.to_string(),
            };
            let cache = repo.cache()?;
            common::runtime()?
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
            Ok(format!(
                "{}/{name}/{}",
                crate::remote::redact(url).trim_end_matches('/'),
                current.path
            ))
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
