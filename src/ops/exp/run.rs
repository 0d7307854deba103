//! `exp run`: an experiment is recorded (queued) first, then run in a worktree of its own
//! under the git dir, on a detached HEAD at the commit it starts from: its params edited
//! there, its data checked out from the shared cache, `git mlv run` run there as a child
//! process (its output in the experiment's log), and the result committed under
//! `refs/mlv/exps/<name>`. The user's branch, index and work tree are never touched.

use crate::experiment::{self, Assignment, ExperimentError, Override, Record, Status, Store};
use crate::gitx::Source;
use crate::paths::RepoPath;
use crate::problem::{failed_with_hint, usage_with_hint};
use crate::project::Project;
use crate::repo::Repo;
use std::collections::VecDeque;
use std::path::Path;
use std::sync::Mutex;

/// What a runner tells the person running it; called from several threads.
pub trait RunReport: Sync {
    fn started(&self, record: &Record);
    /// `commit` of a finished experiment, or why it failed.
    fn finished(&self, name: &str, result: &Result<String, String>);
}

/// Records one experiment for each combination of the `-S` overrides, queued, starting
/// from HEAD's commit. Everything is checked first (exit 2, nothing written): the names,
/// each file (inside the work tree, never under `.git`, present at HEAD) and each edit.
pub fn queue(repo: &Repo, overrides: &[String], name: Option<&str>) -> anyhow::Result<Vec<Record>> {
    let base = repo.git.resolve_commit("HEAD")?;
    let src = Source::Rev(&repo.git, &base);
    let project = Project::load_at(&repo.git, &base)?;
    if project.stages.is_empty() {
        return Err(usage_with_hint(
            "HEAD's mlv.toml defines no stages, so an experiment has nothing to run",
            "add `[stages.<name>]` tables to mlv.toml and commit it; see docs/pipeline.md",
        ));
    }
    let mut resolved = Vec::new();
    let mut keys = None;
    for arg in overrides {
        let ov = Override::parse(arg)?;
        let file = match &ov.file {
            Some(f) => {
                let path = repo.resolve(Path::new(f))?;
                if src
                    .read(path.as_str())
                    .map_err(|e| e.into_anyhow())?
                    .is_none()
                {
                    return Err(usage_with_hint(
                        format!("`-S {arg}` names `{path}`, which HEAD's commit does not have"),
                        "an experiment starts from HEAD's commit: commit the params file first",
                    ));
                }
                path.to_string()
            }
            None => {
                if keys.is_none() {
                    keys = Some(crate::params::read_all(
                        src,
                        &crate::params::files(&project),
                        "at HEAD",
                    )?);
                }
                let all = keys.as_ref().expect("filled just above");
                experiment::overrides::file_with_key(&ov.key, all)?.to_string()
            }
        };
        resolved.push((file, ov));
    }
    let combos = experiment::overrides::expand(&resolved);
    for set in &combos {
        edited(&src, set, None)?;
    }
    let names = names(repo, name, combos.len())?;
    let store = super::store(repo);
    let records: Vec<Record> = names
        .into_iter()
        .zip(combos)
        .map(|(name, params)| Record {
            name,
            base: base.clone(),
            params,
            status: Status::Queued,
            error: None,
        })
        .collect();
    for r in &records {
        store.create(r)?;
    }
    Ok(records)
}

/// The pipeline's files (`mlv.toml` and its params files) whose work tree copy differs
/// from HEAD's: an experiment starts from HEAD's commit, so these changes are not in it.
pub fn uncommitted(repo: &Repo) -> anyhow::Result<Vec<String>> {
    let head = Source::Rev(&repo.git, "HEAD");
    let work = Source::WorkTree(repo.root());
    let Some(project) = Project::read_present(head)? else {
        return Ok(Vec::new());
    };
    let mut files: Vec<String> = project
        .stages
        .values()
        .flat_map(|s| s.params.iter().map(|p| p.file.to_string()))
        .collect();
    files.push(crate::project::FILE.to_string());
    files.sort();
    files.dedup();
    let mut out = Vec::new();
    for f in files {
        let read = |src: Source| src.read(&f).map_err(|e| e.into_anyhow());
        if read(head)? != read(work)? {
            out.push(f);
        }
    }
    Ok(out)
}

/// The text of each params file `set` edits, as read from `src` and edited; with `only`,
/// that one file. Files absent at `src` are left out.
pub fn edited(
    src: &Source,
    set: &[Assignment],
    only: Option<&str>,
) -> anyhow::Result<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    for a in set.iter().filter(|a| only.is_none_or(|f| f == a.file)) {
        let text = match out.iter().position(|(f, _)| *f == a.file) {
            Some(i) => out.remove(i).1,
            None => match src.read(&a.file).map_err(|e| e.into_anyhow())? {
                Some(b) => String::from_utf8_lossy(&b).into_owned(),
                None => continue,
            },
        };
        out.push((a.file.clone(), experiment::overrides::apply(&text, a)?));
    }
    Ok(out)
}

/// The names of `n` new experiments: `name` (`name-1`, `name-2`… for a sweep), or the next
/// free `exp-<n>`; a name in use is refused.
fn names(repo: &Repo, name: Option<&str>, n: usize) -> anyhow::Result<Vec<String>> {
    let mut taken: Vec<String> = repo
        .git
        .refs_under(experiment::REF_PREFIX)?
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    taken.extend(super::store(repo).list()?.into_iter().map(|r| r.name));
    let wanted: Vec<String> = match name {
        Some(name) => {
            experiment::check_name(name)?;
            match n {
                1 => vec![name.to_string()],
                _ => (1..=n).map(|i| format!("{name}-{i}")).collect(),
            }
        }
        None => {
            let mut out = Vec::new();
            let mut i = 1;
            while out.len() < n {
                let candidate = format!("exp-{i}");
                if !taken.contains(&candidate) {
                    out.push(candidate);
                }
                i += 1;
            }
            out
        }
    };
    if let Some(used) = wanted.iter().find(|w| taken.contains(w)) {
        return Err(ExperimentError::Exists(used.clone()).into());
    }
    Ok(wanted)
}

/// The experiments `--run-all` runs: the queued and the interrupted ones. One killed
/// after its ref was written is finished: its leftover record is dropped instead.
pub fn pending(repo: &Repo) -> anyhow::Result<Vec<Record>> {
    let store = super::store(repo);
    let done = repo.git.refs_under(experiment::REF_PREFIX)?;
    let mut out = Vec::new();
    for r in store.list()? {
        if done.iter().any(|(name, _)| *name == r.name) {
            if r.status != Status::Running {
                super::remove_worktree(repo, &store, &r.name)?;
                store.forget(&r.name)?;
            }
        } else if matches!(r.status, Status::Queued | Status::Interrupted) {
            out.push(r);
        }
    }
    Ok(out)
}

/// Runs `records`, `jobs` at a time; `exe` is the git-mlv binary each experiment's `run`
/// is started with. An experiment another process runs already is passed over. Every one
/// is tried; the error names those that failed.
pub fn run(
    repo: &Repo,
    records: Vec<Record>,
    jobs: usize,
    exe: &Path,
    report: &dyn RunReport,
) -> anyhow::Result<()> {
    let total = records.len();
    let queue = Mutex::new(VecDeque::from(records));
    let failed = Mutex::new(Vec::new());
    let root = repo.root().to_path_buf();
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, total.max(1)) {
            scope.spawn(|| {
                while let Some(record) = queue.lock().ok().and_then(|mut q| q.pop_front()) {
                    let name = record.name.clone();
                    if let Err(e) = run_one(&root, record, exe, report)
                        && let Ok(mut f) = failed.lock()
                    {
                        report.finished(&name, &Err(format!("{e:#}")));
                        f.push(name);
                    }
                }
            });
        }
    });
    let failed = failed.into_inner().unwrap_or_default();
    if failed.is_empty() {
        return Ok(());
    }
    Err(failed_with_hint(
        format!(
            "{} of {total} failed: {}",
            crate::units::count(failed.len() as u64, "experiment"),
            failed.join(", ")
        ),
        "`git mlv exp show` lists them; each one's output is in its log under `.git/mlv/exps/state/`",
    ))
}

/// Runs one experiment to its commit, or records why it failed.
fn run_one(
    root: &Path,
    mut record: Record,
    exe: &Path,
    report: &dyn RunReport,
) -> anyhow::Result<()> {
    let repo = Repo::open(root)?;
    let store = super::store(&repo);
    let Some(_lock) = store.try_lock(&record.name)? else {
        return Ok(());
    };
    record.status = Status::Running;
    store.save(&record)?;
    report.started(&record);
    let wt = store.worktree(&record.name);
    let result = in_worktree(&repo, &store, &record, &wt, exe);
    let cleaned = super::remove_worktree(&repo, &store, &record.name);
    match result.and_then(|commit| cleaned.map(|()| commit)) {
        Ok(commit) => {
            store.forget(&record.name)?;
            report.finished(&record.name, &Ok(commit));
            Ok(())
        }
        Err(e) => {
            record.status = Status::Failed;
            record.error = Some(format!("{e:#}"));
            store.save(&record)?;
            Err(e)
        }
    }
}

fn in_worktree(
    repo: &Repo,
    store: &Store,
    record: &Record,
    wt: &Path,
    exe: &Path,
) -> anyhow::Result<String> {
    // A worktree left by a run that was killed goes first.
    super::remove_worktree(repo, store, &record.name)?;
    if let Some(parent) = wt.parent() {
        fs_err::create_dir_all(parent)?;
    }
    {
        let _lock = store.lock_worktrees()?;
        repo.git.worktree_add(wt, &record.base)?;
    }
    local_settings(repo, wt)?;
    for (file, text) in edited(&Source::WorkTree(wt), &record.params, None)? {
        fs_err::write(RepoPath::new(file).to_abs(wt), text)?;
    }
    let log_path = store.log(&record.name);
    let log = fs_err::File::create(&log_path)?.into_parts().0;
    for step in [&["checkout"][..], &["run"][..]] {
        let status = std::process::Command::new(exe)
            .args(step)
            .current_dir(wt)
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log.try_clone()?)
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE")
            .status()?;
        if !status.success() {
            return Err(failed_with_hint(
                format!(
                    "`git mlv {}` failed in experiment `{}` ({status})",
                    step.join(" "),
                    record.name
                ),
                format!("its output is in `{}`", log_path.display()),
            ));
        }
    }
    let message = format!("experiment {}\n\n{}", record.name, describe(&record.params));
    let commit = repo.git.commit_worktree(wt, &message)?;
    repo.git
        .update_ref(&experiment::ref_name(&record.name), &commit)?;
    Ok(commit)
}

/// The user's machine-local settings go with the experiment (cache, link types, remote
/// credentials), its cache folder made absolute: a relative `cache.dir` would otherwise
/// name a folder inside the experiment's worktree, not the cache it shares.
fn local_settings(repo: &Repo, wt: &Path) -> anyhow::Result<()> {
    let name = Path::new(crate::config::DIR).join(crate::config::LOCAL_FILE);
    let text = match fs_err::read_to_string(repo.root().join(&name)) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e.into()),
    };
    if text.is_empty() && repo.config.cache.dir.is_none() {
        return Ok(());
    }
    let mut doc: toml_edit::DocumentMut = text.parse()?;
    if repo.config.cache.dir.is_some() {
        doc["cache"]["dir"] = toml_edit::value(repo.cache_dir().display().to_string());
    }
    let dest = wt.join(&name);
    if let Some(dir) = dest.parent() {
        fs_err::create_dir_all(dir)?;
    }
    Ok(fs_err::write(dest, doc.to_string())?)
}

/// `file:key=value` for each assignment, one a line.
pub fn describe(params: &[Assignment]) -> String {
    params
        .iter()
        .map(|a| format!("{}:{}={}", a.file, a.key, a.value))
        .collect::<Vec<_>>()
        .join("\n")
}
