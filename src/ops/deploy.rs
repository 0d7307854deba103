//! Deploying: put the version a stage holds at `<target>/<name>/v<semver>/…` (a folder, or
//! an object store / HTTP URL) and switch `current` to it, fetching and checking the
//! artifact out on the way. `deploy` runs it, and `rollback` for a remembered target.

use super::checkout::{self, Request};
use super::engine::{self, DEFAULT_JOBS};
use super::fetch;
use super::report::{self, Reporter};
use super::select::Selector;
use crate::cache::Access;
use crate::deploy::{self, CurrentJson, Folder, Target};
use crate::problem::{failed_with_hint, usage_with_hint};
use crate::repo::Repo;

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
    report: &dyn Reporter,
) -> anyhow::Result<Deployed> {
    if let Target::Url(url) = target {
        crate::remote::check_url(url).map_err(|why| {
            usage_with_hint(
                format!("deploy target `{}` {why}", crate::remote::redact(url)),
                format!(
                    "deploy to {} with `git mlv deploy {name} <stage> --to <dir|url>`",
                    crate::remote::URL_FORMS
                ),
            )
        })?;
    }
    // Fetching and checking out write into the cache: gc must not run meanwhile.
    let _cache_lock = report::lock_cache(&repo.cache()?, Access::Shared, report)?;
    let artifact = crate::project::artifact_at(&repo.git, repo.root(), name, commit)?;
    let tracked = repo
        .tracked_at(Some(commit))?
        .into_iter()
        .find(|t| t.path == artifact.path)
        .ok_or_else(|| {
            failed_with_hint(
                format!(
                    "`{}` is not tracked at commit {commit} ({name} {version}), so there is nothing to deploy",
                    artifact.path
                ),
                format!("register a commit whose `{}` is committed", artifact.path.pointer()),
            )
        })?;
    let file_name = artifact.path.file_name().to_string();
    match target {
        Target::Dir(dir) => {
            let folder = Folder::new(dir, name);
            if let Some(path) = folder.foreign_current() {
                let shown = path.display();
                return Err(usage_with_hint(
                    format!(
                        "`{shown}` is not a symlink: deploy switches `current` by renaming a new symlink over it, and does not delete what is there"
                    ),
                    format!("move it aside (`mv {shown} {shown}.old`), then deploy again"),
                ));
            }
            folder.sweep()?;
            let vdir = folder.version_dir(version);
            let there = vdir.symlink_metadata().is_ok();
            if there && tracked.pointer.is_dir() && !repo.cache()?.contains(&tracked.pointer.hash) {
                ensure_cached(repo, &tracked, commit, report)?;
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
                    report.warn(&format!(
                        "`{}` does not hold `{name}` {version} as registered (commit {commit}); replacing it",
                        vdir.display()
                    ));
                }
                ensure_cached(repo, &tracked, commit, report)?;
                let scratch = folder.scratch(version)?;
                let built =
                    check_out(repo, &scratch, &artifact.path, commit, report).and_then(|data| {
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
            let runtime = engine::runtime()?;
            // A folder artifact's file list is its manifest, which the check needs.
            if tracked.pointer.is_dir() && !cache.contains(&tracked.pointer.hash) {
                ensure_cached(repo, &tracked, commit, report)?;
            }
            let expected = deploy::Expected::of(&cache, &tracked)?;
            let serves = deploy::serves(backend.as_ref(), name, &current, &expected, DEFAULT_JOBS);
            if runtime.block_on(serves)? {
                return Ok(Deployed {
                    path,
                    changed: false,
                });
            }
            ensure_cached(repo, &tracked, commit, report)?;
            runtime
                .block_on(deploy::upload(
                    backend.as_ref(),
                    &cache,
                    name,
                    &tracked,
                    &current,
                    DEFAULT_JOBS,
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
    report: &dyn Reporter,
) -> anyhow::Result<std::path::PathBuf> {
    let checkout_dir = scratch.join("checkout");
    let paths = [path.to_abs(repo.root())];
    let request = Request {
        paths: &paths,
        exclude: &[],
        rev: Some(commit),
        to: Some(&checkout_dir),
        force: false,
        ready_copies: &[],
    };
    let (_, missing) = checkout::checkout(repo, &request, report)?;
    checkout::missing_error(repo, &missing)?;
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
    report: &dyn Reporter,
) -> anyhow::Result<()> {
    if deploy::cached(&repo.cache()?, tracked)? {
        return Ok(());
    }
    if repo.config.remotes.is_empty() {
        return Err(failed_with_hint(
            format!(
                "the data of `{}` at {commit} is not in the cache and no remote is configured to fetch it from",
                tracked.path
            ),
            "deploy from the machine that trained it, or `git mlv remote add` the team's storage",
        ));
    }
    let select = Selector {
        paths: vec![tracked.path.to_abs(repo.root())],
        revs: vec![commit.to_string()],
        ..Selector::default()
    };
    let request = fetch::Request {
        select: &select,
        remote: None,
        jobs: None,
        ready_copies: false,
    };
    let fetched = fetch::fetch(repo, &request, &*report.progress("fetching"))?;
    engine::failures(&fetched.remote, &fetched.summary)
}
