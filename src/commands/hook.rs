//! `git mlv hook <name>`: what the installed git hooks run.

use super::common;
use crate::cache::Access;
use crate::gitx::Source;
use crate::pointer::{self, Pointer};
use crate::repo::Repo;
use crate::ui::Ui;
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub hook: Hook,
}

#[derive(clap::Subcommand)]
pub enum Hook {
    /// Refuse big files staged in git, and pointers whose data is nowhere to be fetched
    PreCommit,
    /// Push the data the pushed commits reference (git's ref lines on stdin, or the
    /// pre-commit framework's PRE_COMMIT_* variables)
    PrePush {
        remote: Option<String>,
        url: Option<String>,
    },
    /// Bring workspace data in line with pointers a branch switch changed
    PostCheckout {
        prev: String,
        new: String,
        flag: String,
    },
    /// Bring workspace data in line with pointers a merge changed
    PostMerge { squash: Option<String> },
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    match args.hook {
        Hook::PreCommit => pre_commit(&repo, ui),
        Hook::PrePush { remote, .. } => pre_push(&repo, remote, ui),
        Hook::PostCheckout { prev, new, flag } => {
            if flag != "1" {
                return Ok(()); // a file checkout: git-mlv pointers are the user's to act on
            }
            sync_changed(&repo, &prev, &new, ui)
        }
        Hook::PostMerge { .. } => sync_changed(&repo, "ORIG_HEAD", "HEAD", ui),
    }
}

fn skip_sync() -> bool {
    std::env::var_os("MLV_SKIP_SYNC").is_some_and(|v| v == "1")
}

/// Checks out the tracked paths whose pointers differ between two revisions.
fn sync_changed(repo: &Repo, old: &str, new: &str, ui: &Ui) -> anyhow::Result<()> {
    if skip_sync() {
        return Ok(());
    }
    let pointers = |rev: &str| -> BTreeMap<String, Vec<u8>> {
        repo.git
            .files_at(rev, pointer::EXT)
            .map(|f| f.into_iter().map(|f| (f.path, f.data)).collect())
            .unwrap_or_default()
    };
    let (before, after) = (pointers(old), pointers(new));
    let changed: Vec<PathBuf> = after
        .iter()
        .filter(|(p, data)| before.get(*p) != Some(data))
        .map(|(p, _)| PathBuf::from(repo.root()).join(&p[..p.len() - pointer::EXT.len()]))
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    let request = crate::ops::checkout::Request {
        paths: &changed,
        exclude: &[],
        rev: None,
        to: None,
        force: false,
        ready_copies: &[],
    };
    let _cache_lock = common::lock_cache(&repo.cache()?, Access::Shared, ui)?;
    let (summary, missing) = crate::ops::checkout::checkout(repo, &request, ui)?;
    super::checkout::summary_line(ui, &summary, &missing);
    crate::ops::checkout::missing_error(repo, &missing)
}

/// One ref a push sends: the commit it sends and, when the remote already has the ref,
/// the commit the remote had (the push then sends only what lies between).
struct PushedRef {
    local: String,
    remote_had: Option<String>,
}

/// The git remote a push goes to and the refs it sends, as the caller hands them: git's
/// hook protocol (remote and URL as arguments, one ref line per ref on stdin), or the
/// pre-commit framework's (no arguments, nothing on stdin, `PRE_COMMIT_*` variables).
fn pushed_refs(git_remote: Option<String>) -> anyhow::Result<(String, Vec<PushedRef>)> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let framework_remote = var("PRE_COMMIT_REMOTE_NAME");
    let framework_to = var("PRE_COMMIT_TO_REF");
    if git_remote.is_none() && (framework_remote.is_some() || framework_to.is_some()) {
        let remote = framework_remote.unwrap_or_else(|| "origin".into());
        // FROM/TO: an update of a branch the remote has, or a new branch whose history the
        // remote partly has (FROM is then the last commit it has). Without them, the push
        // includes the root commit: the local branch's commits the remote lacks.
        let pushed = match framework_to {
            Some(to) => PushedRef {
                local: to,
                remote_had: var("PRE_COMMIT_FROM_REF"),
            },
            None => PushedRef {
                local: var("PRE_COMMIT_LOCAL_BRANCH").unwrap_or_else(|| "HEAD".into()),
                remote_had: None,
            },
        };
        return Ok((remote, vec![pushed]));
    }
    let mut refs = Vec::new();
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [_, local_sha, _, remote_sha] = parts[..] else {
            continue;
        };
        if local_sha.bytes().all(|b| b == b'0') {
            continue; // a branch deletion sends no commits
        }
        refs.push(PushedRef {
            local: local_sha.to_string(),
            remote_had: Some(remote_sha)
                .filter(|r| !r.bytes().all(|b| b == b'0'))
                .map(str::to_owned),
        });
    }
    Ok((git_remote.unwrap_or_else(|| "origin".into()), refs))
}

fn pre_push(repo: &Repo, git_remote: Option<String>, ui: &Ui) -> anyhow::Result<()> {
    let called_by_git = git_remote.is_some();
    let (git_remote, refs) = pushed_refs(git_remote)?;
    if refs.is_empty() && !called_by_git {
        // Git hands an up-to-date push no ref lines; anything else handing over nothing
        // (`pre-commit run` by hand, another hook manager) must not look like a checked push.
        ui.warn("git-mlv hook pre-push was given no pushed refs (neither git's arguments and ref lines on stdin nor the pre-commit framework's PRE_COMMIT_* variables), so it uploaded nothing");
    }
    let mut revs = Vec::new();
    for pushed in &refs {
        let local = repo.git.resolve_commit(&pushed.local)?;
        revs.extend(
            repo.git
                .commits_to_push(&local, pushed.remote_had.as_deref(), &git_remote)?,
        );
        revs.push(local);
    }
    revs.sort();
    revs.dedup();
    let mut selected: crate::repo::Selection = Vec::new();
    for rev in &revs {
        for t in repo.tracked_at(Some(rev))? {
            if !selected.iter().any(|(o, _)| o.pointer == t.pointer) {
                selected.push((t, Default::default()));
            }
        }
    }
    // As `git mlv push`: imported data is its source's to keep.
    let (selected, _) = crate::ops::import::without_imports(selected);
    if selected.is_empty() {
        return Ok(());
    }
    let (name, engine) = match common::engine(repo, None, None) {
        Ok(found) => found,
        Err(e) => {
            // The push is right; what is missing is somewhere to put its data: a failure (1).
            if let Some(crate::config::ConfigError::NoRemote { message, hint }) = e.downcast_ref() {
                return Err(crate::error::failed_with_hint(
                    format!(
                        "the pushed commits reference git-mlv data, but git-mlv has nowhere to upload it: {message}; the git push is stopped so no commit reaches the server without its data"
                    ),
                    format!(
                        "{hint}\nhint: commit `.mlv/config.toml` so teammates and CI push there too, then push again (`git push --no-verify` skips the upload)"
                    ),
                ));
            }
            return Err(e.context("finding the git-mlv remote to push the data of the pushed commits to; the git push is stopped"));
        }
    };
    common::check_writable(repo, &name, "the pre-push hook's upload")?;
    let cache = repo.cache()?;
    let started = std::time::Instant::now();
    let report = common::runtime()?
        .block_on(crate::sync::push(&cache, &engine, &selected, &crate::progress::NoProgress))
        .map_err(|e| e.context(format!("pushing the data of the pushed commits to git-mlv remote `{name}` ({}); the git push is stopped", engine.url())))?;
    if !report.not_in_cache.is_empty() {
        ui.detail(&format!(
            "not in this cache, so not pushed from here: {}",
            report.not_in_cache.join(", ")
        ));
    }
    common::summary_line(
        ui,
        &format!("git-mlv: pushed to `{name}`"),
        &report.summary,
        started.elapsed().as_secs_f64(),
    );
    common::failures(&name, &report.summary)
}

fn pre_commit(repo: &Repo, ui: &Ui) -> anyhow::Result<()> {
    let staged = repo.git.staged()?;
    let max = repo.config.hooks.max_file_size;
    let mut problems = Vec::new();
    let mut pointers = Vec::new();
    for (path, size) in &staged {
        if path.ends_with(pointer::EXT) {
            // Git listed it as staged a moment ago; gone since, there is nothing to check.
            let Some(bytes) = Source::Index(&repo.git)
                .read(path)
                .map_err(|e| e.into_anyhow())?
            else {
                continue;
            };
            let text = String::from_utf8_lossy(&bytes);
            let p = Pointer::parse(&text, std::path::Path::new(path))?;
            pointers.push((path.clone(), p));
        } else if *size > max {
            problems.push(format!(
                "`{path}` ({}) is staged in git, over hooks.max_file_size ({}); big files belong in git-mlv: `git rm --cached {path} && git mlv add {path}`",
                crate::ui::limit(*size),
                crate::ui::limit(max)
            ));
        }
    }
    if !pointers.is_empty() {
        let cache = repo.cache()?;
        let absent: Vec<&(String, Pointer)> = pointers
            .iter()
            .filter(|(_, p)| !cache.contains(&p.hash))
            .collect();
        if !absent.is_empty() {
            let on_remote = match common::engine(repo, None, None) {
                Ok((_, engine)) => {
                    // A directory pointer's size is its files' total, not its manifest's.
                    let hashes: Vec<_> = absent
                        .iter()
                        .map(|(_, p)| (p.hash, (!p.is_dir()).then_some(p.size)))
                        .collect();
                    let missing = common::runtime()?
                        .block_on(engine.missing(&hashes))
                        .map_err(anyhow::Error::from)?;
                    absent
                        .iter()
                        .filter(|(_, p)| !missing.contains(&p.hash))
                        .map(|(path, _)| path.clone())
                        .collect()
                }
                Err(_) => Vec::new(),
            };
            for (path, _) in absent
                .into_iter()
                .filter(|(path, _)| !on_remote.contains(path))
            {
                let data = &path[..path.len() - pointer::EXT.len()];
                problems.push(format!(
                    "`{path}` points at data that is neither in the cache nor on the default remote; run `git mlv add {data}` (or `git mlv fetch {data}`)"
                ));
            }
        }
    }
    problems.extend(crate::ops::staleness::staged_out_problems(repo, &pointers)?);
    if problems.is_empty() {
        return Ok(());
    }
    for p in &problems {
        ui.out(p)?;
    }
    Err(crate::error::failed(format!(
        "git-mlv refused the commit: {} above\nhint: fix them, or commit with `--no-verify` to skip the check",
        crate::ui::count(problems.len() as u64, "problem")
    )))
}
