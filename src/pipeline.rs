//! The pipeline of `mlv.toml`: the stage graph (outs → deps), what a stage's inputs are now,
//! why a stage is stale against `mlv.lock`, the run cache, and recording a finished stage.

use crate::cache::Cache;
use crate::error::usage;
use crate::hash::Hash;
use crate::lock::{OutEntry, ParamValues, StageLock};
use crate::paths::RepoPath;
use crate::pointer::Pointer;
use crate::project::{ParamRef, Project, Stage};
use crate::repo::{Repo, Tracked};
use crate::stat_cache::StatCache;
use crate::workspace;
use anyhow::Context;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(
        "the stages of mlv.toml form a cycle: {}\nhint: a stage cannot depend, even indirectly, on its own outs",
        .0.join(" → ")
    )]
    Cycle(Vec<String>),
    #[error(
        "`{path}` is claimed by two stages, `{first}` and `{second}`, in mlv.toml\nhint: give each out one producing stage"
    )]
    ClaimedTwice {
        path: String,
        first: String,
        second: String,
    },
    #[error(
        "stage `{stage}` depends on `{dep}`, which does not exist and no stage produces\nhint: create it, `git mlv pull` it, or add a stage with it in `outs`"
    )]
    MissingDep { stage: String, dep: String },
    #[error("mlv.toml has no stage `{name}`{}", if known.is_empty() { String::new() } else { format!("; its stages: {}", known.join(", ")) })]
    UnknownStage { name: String, known: Vec<String> },
}

/// The stages in an order that runs every producer before its consumers.
pub struct Graph {
    pub order: Vec<String>,
    /// Stage → the stages producing its deps.
    pub upstream: BTreeMap<String, BTreeSet<String>>,
}

/// True when a dep and an out overlap: the same path, or one inside the other.
fn overlaps(a: &RepoPath, b: &RepoPath) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

impl Graph {
    pub fn new(project: &Project) -> Result<Graph, PipelineError> {
        let mut claimed: Vec<(&RepoPath, &str)> = Vec::new();
        for s in project.stages.values() {
            for out in s.products() {
                if let Some((_, first)) = claimed.iter().find(|(p, _)| overlaps(p, out)) {
                    return Err(PipelineError::ClaimedTwice {
                        path: out.to_string(),
                        first: first.to_string(),
                        second: s.name.clone(),
                    });
                }
                claimed.push((out, &s.name));
            }
        }
        let mut upstream: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for s in project.stages.values() {
            let ups = upstream.entry(s.name.clone()).or_default();
            for dep in s.deps.iter().chain(s.params.iter().map(|p| &p.file)) {
                for (out, producer) in &claimed {
                    if overlaps(dep, out) {
                        ups.insert(producer.to_string());
                    }
                }
            }
        }
        // Depth-first topological order; a grey node met again closes a cycle.
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            Open,
            Done,
        }
        fn visit(
            n: &str,
            up: &BTreeMap<String, BTreeSet<String>>,
            marks: &mut BTreeMap<String, Mark>,
            path: &mut Vec<String>,
            order: &mut Vec<String>,
        ) -> Result<(), PipelineError> {
            match marks[n] {
                Mark::Done => return Ok(()),
                Mark::Open => {
                    let start = path.iter().position(|p| p == n).unwrap_or(0);
                    let mut cycle = path[start..].to_vec();
                    cycle.push(n.to_string());
                    return Err(PipelineError::Cycle(cycle));
                }
                Mark::New => {}
            }
            marks.insert(n.to_string(), Mark::Open);
            path.push(n.to_string());
            for u in &up[n] {
                visit(u, up, marks, path, order)?;
            }
            path.pop();
            marks.insert(n.to_string(), Mark::Done);
            order.push(n.to_string());
            Ok(())
        }
        let mut marks: BTreeMap<String, Mark> =
            upstream.keys().map(|k| (k.clone(), Mark::New)).collect();
        let mut order = Vec::new();
        for name in upstream.keys() {
            visit(name, &upstream, &mut marks, &mut Vec::new(), &mut order)?;
        }
        Ok(Graph { order, upstream })
    }

    /// `targets` and every stage upstream of them, in run order; all stages when empty.
    pub fn with_upstream(
        &self,
        project: &Project,
        targets: &[String],
    ) -> Result<Vec<String>, PipelineError> {
        if targets.is_empty() {
            return Ok(self.order.clone());
        }
        let mut wanted = BTreeSet::new();
        let mut todo: Vec<String> = Vec::new();
        for t in targets {
            if !project.stages.contains_key(t) {
                return Err(PipelineError::UnknownStage {
                    name: t.clone(),
                    known: project.stages.keys().cloned().collect(),
                });
            }
            todo.push(t.clone());
        }
        while let Some(n) = todo.pop() {
            if wanted.insert(n.clone()) {
                todo.extend(self.upstream[&n].iter().cloned());
            }
        }
        Ok(self
            .order
            .iter()
            .filter(|n| wanted.contains(*n))
            .cloned()
            .collect())
    }
}

/// What a path holds in the work tree now: a file's hash, or a directory's manifest hash.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Content {
    pub hash: Hash,
    pub size: u64,
    pub files: Option<u64>,
}

/// Hashes a file or directory in the work tree (the stat cache spares unchanged files);
/// `None` when nothing is there.
pub fn content(
    repo: &Repo,
    stat: &mut StatCache,
    path: &RepoPath,
) -> anyhow::Result<Option<Content>> {
    content_in(repo, stat, path, None)
}

/// Before a stage overwrites an out that holds changes no lock or pointer records, its
/// bytes go to the cache, so running a stage never destroys the only copy of anything.
pub fn save_changed_out(
    repo: &Repo,
    cache: &Cache,
    stat: &mut StatCache,
    path: &RepoPath,
) -> anyhow::Result<Option<Hash>> {
    let Some(c) = content_in(repo, stat, path, Some(cache))? else {
        return Ok(None);
    };
    Ok(Some(c.hash))
}

fn content_in(
    repo: &Repo,
    stat: &mut StatCache,
    path: &RepoPath,
    store: Option<&Cache>,
) -> anyhow::Result<Option<Content>> {
    let abs = path.to_abs(repo.root());
    let meta = match std::fs::metadata(&abs) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading `{path}`")),
    };
    if meta.is_file() {
        let (hash, fresh) = workspace::hash_one(path.as_str(), &abs, &meta, stat, store)?;
        if fresh {
            stat.record(path.to_string(), &meta, hash);
        }
        return Ok(Some(Content {
            hash,
            size: meta.len(),
            files: None,
        }));
    }
    let files = workspace::list_dir(repo.root(), &abs, &repo.cache_dir())
        .with_context(|| format!("listing `{path}`"))?;
    let key = |f: &workspace::FileEntry| format!("{path}/{}", f.rel);
    let (hashes, _) = workspace::hash_all(&files, key, stat, store, &crate::progress::NoProgress)?;
    let manifest = workspace::manifest_of(&files, &hashes);
    let bytes = manifest.to_bytes();
    let hash = match store {
        Some(cache) => cache.insert_bytes(&bytes)?,
        None => Hash::of(&bytes),
    };
    Ok(Some(Content {
        hash,
        size: manifest.total_size(),
        files: Some(files.len() as u64),
    }))
}

/// A stage's inputs as they are now.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    /// Dep → hash, `None` when the dep does not exist.
    pub deps: BTreeMap<String, Option<Hash>>,
    pub params: BTreeMap<String, ParamValues>,
}

pub fn inputs(repo: &Repo, stat: &mut StatCache, stage: &Stage) -> anyhow::Result<Inputs> {
    let params = stage_params(repo, stage)?;
    Ok(Inputs {
        deps: stage_deps(repo, stat, stage)?,
        params,
    })
}

fn stage_deps(
    repo: &Repo,
    stat: &mut StatCache,
    stage: &Stage,
) -> anyhow::Result<BTreeMap<String, Option<Hash>>> {
    let mut deps = BTreeMap::new();
    for d in &stage.deps {
        deps.insert(d.to_string(), content(repo, stat, d)?.map(|c| c.hash));
    }
    Ok(deps)
}

/// The values a stage's params entries select now, by file; an error (exit 2) when a
/// params file is missing, unreadable or lacks a key.
fn stage_params(repo: &Repo, stage: &Stage) -> anyhow::Result<BTreeMap<String, ParamValues>> {
    let mut params: BTreeMap<String, ParamValues> = BTreeMap::new();
    for p in &stage.params {
        let values = read_params(repo, p, &stage.name)?;
        params.entry(p.file.to_string()).or_default().extend(values);
    }
    Ok(params)
}

/// The values a params entry selects: every leaf of the file by dotted key, or one key.
fn read_params(repo: &Repo, p: &ParamRef, stage: &str) -> anyhow::Result<ParamValues> {
    let abs = p.file.to_abs(repo.root());
    let text = fs_err::read_to_string(&abs).map_err(|e| {
        usage(format!(
            "stage `{stage}` reads params from `{}`: {e}\nhint: create the file or fix `params` in mlv.toml",
            p.file
        ))
    })?;
    param_values(&text, p, stage)
}

/// The values a params entry selects from the text of its file: JSON for `.json`, YAML
/// for `.yaml`/`.yml` (DVC's `params.yaml`), TOML otherwise.
pub fn param_values(text: &str, p: &ParamRef, stage: &str) -> anyhow::Result<ParamValues> {
    let bad = |reason: String| usage(format!("params file `{}` is not valid: {reason}", p.file));
    // JSON and YAML trees are kept as TOML values, the form `mlv.lock` records.
    let from_tree = |tree: serde_json::Value| {
        match tree {
        // An empty YAML document sets no params.
        serde_json::Value::Null => Ok(toml::Value::Table(toml::Table::new())),
        tree => toml::Value::try_from(tree).map_err(|e| {
            bad(format!(
                "{e}\nhint: mlv.lock cannot record a null value: give the key a value or leave it out"
            ))
        }),
    }
    };
    let ext = std::path::Path::new(p.file.as_str())
        .extension()
        .and_then(|e| e.to_str());
    let root: toml::Value = match ext {
        Some("json") => from_tree(serde_json::from_str(text).map_err(|e| bad(e.to_string()))?)?,
        Some("yaml" | "yml") => {
            from_tree(serde_norway::from_str(text).map_err(|e| bad(e.to_string()))?)?
        }
        _ => toml::Value::Table(toml::from_str(text).map_err(|e| bad(e.message().to_string()))?),
    };
    let mut out = ParamValues::new();
    match &p.key {
        Some(key) => {
            let value = key
                .split('.')
                .try_fold(&root, |v, k| v.get(k))
                .ok_or_else(|| {
                    usage(format!(
                        "stage `{stage}` uses param `{key}`, which `{}` does not have\nhint: add it to the file or fix `params` in mlv.toml",
                        p.file
                    ))
                })?;
            out.insert(key.clone(), value.clone());
        }
        None => flatten("", &root, &mut out),
    }
    Ok(out)
}

fn flatten(prefix: &str, v: &toml::Value, out: &mut ParamValues) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        leaf => {
            out.insert(prefix.to_string(), leaf.clone());
        }
    }
}

/// Why a stage must run.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    NeverRan,
    Forced,
    CommandChanged,
    DepChanged(String),
    DepMissing(String),
    ParamsChanged(String),
    OutMissing(String),
    OutChanged(String),
    Upstream(String),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NeverRan => write!(f, "not in mlv.lock yet"),
            Reason::Forced => write!(f, "--force"),
            Reason::CommandChanged => write!(f, "command changed"),
            Reason::DepChanged(p) => write!(f, "dep `{p}` changed"),
            Reason::DepMissing(p) => write!(f, "dep `{p}` is missing"),
            Reason::ParamsChanged(p) => write!(f, "params in `{p}` changed"),
            Reason::OutMissing(p) => write!(f, "out `{p}` is missing"),
            Reason::OutChanged(p) => write!(f, "out `{p}` differs from mlv.lock"),
            Reason::Upstream(s) => write!(f, "upstream stage `{s}` runs first"),
        }
    }
}

/// Compares a stage's current inputs and outs with its lock entry.
pub fn stale_reasons(
    repo: &Repo,
    stat: &mut StatCache,
    stage: &Stage,
    locked: Option<&StageLock>,
    now: &Inputs,
) -> anyhow::Result<Vec<Reason>> {
    let mut reasons = input_reasons(stage, locked, now);
    let Some(locked) = locked else {
        return Ok(reasons);
    };
    for out in stage.products() {
        let recorded = locked.product(out.as_str());
        match content(repo, stat, out)? {
            None => reasons.push(Reason::OutMissing(out.to_string())),
            Some(c) if Some(c.hash) != recorded => {
                reasons.push(Reason::OutChanged(out.to_string()))
            }
            Some(_) => {}
        }
    }
    Ok(reasons)
}

/// Why the lock entry no longer follows from the stage's command, deps and params: the
/// recorded outs are then not tied to the inputs that exist now.
pub fn input_reasons(stage: &Stage, locked: Option<&StageLock>, now: &Inputs) -> Vec<Reason> {
    let Some(locked) = locked else {
        return vec![Reason::NeverRan];
    };
    let mut reasons = Vec::new();
    if locked.cmd != stage.cmd {
        reasons.push(Reason::CommandChanged);
    }
    for (dep, hash) in &now.deps {
        match hash {
            None => reasons.push(Reason::DepMissing(dep.clone())),
            Some(h) if locked.deps.get(dep) != Some(h) => {
                reasons.push(Reason::DepChanged(dep.clone()))
            }
            Some(_) => {}
        }
    }
    for (file, values) in &now.params {
        if locked.params.get(file) != Some(values) {
            reasons.push(Reason::ParamsChanged(file.clone()));
        }
    }
    reasons
}

/// What `status` learns about the stages.
#[derive(Debug, Default)]
pub struct StageCheck {
    /// Stages whose lock entry is stale, with why.
    pub stale: Vec<(String, Vec<Reason>)>,
    /// Stages that could not be checked, with why: a params file is missing, unreadable or
    /// lacks a key. `status` still reports the data; `run` refuses such a stage.
    pub unchecked: Vec<(String, anyhow::Error)>,
}

/// Every stage whose lock entry is stale, with why, for `status`. One bad params file
/// leaves its stages unchecked instead of stopping the report.
pub fn stale_stages(
    repo: &Repo,
    stat: &mut StatCache,
    project: &Project,
    lock: &crate::lock::LockFile,
) -> anyhow::Result<StageCheck> {
    let graph = Graph::new(project)?;
    let mut out = StageCheck::default();
    for name in &graph.order {
        let stage = &project.stages[name];
        let params = match stage_params(repo, stage) {
            Ok(p) => p,
            Err(e) => {
                out.unchecked.push((name.clone(), e));
                continue;
            }
        };
        let now = Inputs {
            deps: stage_deps(repo, stat, stage)?,
            params,
        };
        let reasons = stale_reasons(repo, stat, stage, lock.stages.get(name), &now)?;
        if !reasons.is_empty() {
            out.stale.push((name.clone(), reasons));
        }
    }
    Ok(out)
}

/// The run cache key: the exact command, where and how it runs, and its inputs.
pub fn run_key(stage: &Stage, now: &Inputs) -> Hash {
    let key = serde_json::json!({
        "cmd": stage.cmd,
        "wdir": stage.wdir.as_ref().map(RepoPath::as_str),
        "env": stage.env,
        "deps": now.deps,
        "params": now.params,
        "outs": stage.outs.iter().map(RepoPath::as_str).collect::<Vec<_>>(),
        "metrics": stage.metrics.iter().map(RepoPath::as_str).collect::<Vec<_>>(),
    });
    Hash::of(key.to_string().as_bytes())
}

fn run_record_path(cache: &Cache, key: &Hash) -> std::path::PathBuf {
    cache.root().join("runs").join(key.hex())
}

/// A previous run with the same key whose outs and metrics are all still in the cache.
pub fn cached_run(cache: &Cache, key: &Hash) -> Option<StageLock> {
    let text = std::fs::read_to_string(run_record_path(cache, key)).ok()?;
    let run: StageLock = toml::from_str(&text).ok()?;
    let file_there = |o: &OutEntry| match o.files {
        None => cache.contains(&o.hash),
        Some(_) => cache
            .read_verified(&o.hash)
            .ok()
            .and_then(|b| crate::manifest::Manifest::from_bytes(&b, &o.hash).ok())
            .is_some_and(|m| {
                let hashes: Vec<Hash> = m.entries().iter().map(|e| e.hash).collect();
                cache.missing(&hashes).is_ok_and(|m| m.is_empty())
            }),
    };
    let all_there =
        run.outs.values().all(file_there) && run.metrics.values().all(|h| cache.contains(h));
    all_there.then_some(run)
}

/// Remembers a finished run for the run cache; losing the record only costs a re-run.
pub fn remember_run(cache: &Cache, key: &Hash, run: &StageLock) -> std::io::Result<()> {
    let path = run_record_path(cache, key);
    fs_err::create_dir_all(path.parent().expect("runs/ folder"))?;
    let text = toml::to_string(run).expect("lock values are plain TOML");
    crate::fsutil::write_atomic(&path, text.as_bytes())
}

/// Before a stage's command runs: removes outs that are read-only links into the cache
/// (hardlink/symlink link types), so the command writes new files instead of through them.
/// Only links go: a file with another hard link, or a symlink into the cache, loses no bytes.
pub fn unlink_cached_outs(repo: &Repo, stage: &Stage) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt;
    if !repo.config.links_read_only() {
        return Ok(());
    }
    let cache_root = repo.cache_dir();
    for out in &stage.outs {
        let abs = out.to_abs(repo.root());
        let Ok(meta) = std::fs::symlink_metadata(&abs) else {
            continue;
        };
        let files: Vec<(std::path::PathBuf, workspace::Kind, u64)> = if meta.is_dir() {
            workspace::list_dir(repo.root(), &abs, &cache_root)?
                .into_iter()
                .map(|f| {
                    let nlink = std::fs::symlink_metadata(&f.abs).map_or(1, |m| m.nlink());
                    (f.abs, f.kind, nlink)
                })
                .collect()
        } else {
            let nlink = meta.nlink();
            let (_, kind) = workspace::classify(&abs, meta, &cache_root)?;
            vec![(abs, kind, nlink)]
        };
        for (abs, kind, nlink) in files {
            let linked = match kind {
                workspace::Kind::CacheLink(_) => true,
                workspace::Kind::Regular => nlink > 1,
                workspace::Kind::Other(_) => false,
            };
            if linked {
                fs_err::remove_file(&abs)?;
            }
        }
    }
    Ok(())
}

/// After a stage's command succeeded: tracks its outs like `add`, keeps its metrics'
/// bytes in the cache, and returns its new lock entry.
pub fn record(
    repo: &Repo,
    cache: &Cache,
    stat: &mut StatCache,
    stage: &Stage,
    now: &Inputs,
) -> anyhow::Result<StageLock> {
    // Every product must be there before any is tracked, so a failure records nothing.
    if let Some(absent) = stage
        .products()
        .find(|p| std::fs::symlink_metadata(p.to_abs(repo.root())).is_err())
    {
        return Err(crate::error::failed(format!(
            "stage `{}` finished but did not write `{absent}`; nothing was recorded for it\nhint: fix the command or `outs`/`metrics` in mlv.toml",
            stage.name
        )));
    }
    let mut outs = BTreeMap::new();
    // One walk of the work tree; each out tracked here joins the list for the next check.
    let mut tracked = repo.tracked_paths()?;
    for out in &stage.outs {
        let meta = crate::track::check_addable(repo, &tracked, out)?;
        let added = crate::track::add(repo, cache, stat, out, &meta, &crate::progress::NoProgress)?;
        outs.insert(
            out.to_string(),
            OutEntry {
                hash: added.pointer.hash,
                size: added.pointer.size,
                files: added.pointer.files,
            },
        );
        tracked.push(added.path);
    }
    let mut metrics = BTreeMap::new();
    for m in &stage.metrics {
        let bytes = fs_err::read(m.to_abs(repo.root()))?;
        metrics.insert(m.to_string(), cache.insert_bytes(&bytes)?);
    }
    let deps = now
        .deps
        .iter()
        .filter_map(|(d, h)| h.map(|h| (d.clone(), h)))
        .collect();
    Ok(StageLock {
        cmd: stage.cmd.clone(),
        deps,
        params: now.params.clone(),
        outs,
        metrics,
    })
}

/// Puts a cached run's outs (pointers, `.gitignore`, data) and metrics files in place.
/// Returns false, changing nothing, when that would overwrite workspace content the cache
/// does not hold (a hand-edited out): the stage then runs as if nothing were cached.
pub fn restore_run(
    repo: &Repo,
    cache: &Cache,
    stat: &mut StatCache,
    run: &StageLock,
) -> anyhow::Result<bool> {
    let mut plan = crate::restore::Plan::default();
    let target = crate::restore::Target {
        dest_root: repo.root(),
        force: false,
    };
    let mut pointers = Vec::new();
    for (path, o) in &run.outs {
        let path = RepoPath::new(path.as_str());
        let pointer = match o.files {
            Some(n) => Pointer::dir(o.hash, o.size, n),
            None => Pointer::file(o.hash, o.size),
        };
        let pointer = match repo.load_pointer(&path) {
            Ok(old) => pointer.keeping_extra_of(&old),
            Err(_) => pointer,
        };
        let tracked = Tracked { path, pointer };
        crate::restore::plan(
            repo,
            cache,
            stat,
            &tracked,
            &Default::default(),
            &target,
            &mut plan,
        )?;
        pointers.push(tracked);
    }
    if !plan.conflicts.is_empty() || !plan.missing.is_empty() {
        return Ok(false);
    }
    for t in &pointers {
        let abs = t.path.pointer().to_abs(repo.root());
        crate::fsutil::write_atomic(&abs, t.pointer.render().as_bytes())?;
        crate::gitignore::ensure(repo.root(), &t.path)?;
    }
    crate::restore::apply(repo, cache, stat, plan, &[], &crate::progress::NoProgress)?;
    for (path, hash) in &run.metrics {
        let bytes = cache.read_verified(hash)?;
        crate::fsutil::write_atomic(&RepoPath::new(path.as_str()).to_abs(repo.root()), &bytes)?;
    }
    Ok(true)
}

/// Checks that `project`'s stages are all known and their deps exist or are produced.
pub fn check_deps(repo: &Repo, project: &Project, stages: &[String]) -> anyhow::Result<()> {
    let produced: Vec<&RepoPath> = project.stages.values().flat_map(Stage::products).collect();
    for name in stages {
        let s = &project.stages[name];
        for dep in &s.deps {
            let made = produced.iter().any(|o| overlaps(dep, o));
            if !made && std::fs::symlink_metadata(dep.to_abs(repo.root())).is_err() {
                if std::fs::symlink_metadata(dep.pointer().to_abs(repo.root())).is_ok() {
                    return Err(usage(format!(
                        "stage `{name}` depends on `{dep}`, which git-mlv tracks but is not in the work tree\nhint: run `git mlv pull {dep}` (or `git mlv checkout {dep}`) first"
                    )));
                }
                return Err(PipelineError::MissingDep {
                    stage: name.clone(),
                    dep: dep.to_string(),
                }
                .into());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn project(text: &str) -> Project {
        Project::parse(text, Path::new("mlv.toml")).unwrap()
    }

    #[test]
    fn params_files_are_read_by_extension() {
        let entry = |file: &str, key: Option<&str>| ParamRef {
            file: RepoPath::new(file),
            key: key.map(str::to_owned),
        };
        let yml = "train:\n  lr: 0.5\n  on: yes\nseed: 7\n";
        let all = param_values(yml, &entry("p.yml", None), "s").unwrap();
        assert_eq!(all["train.lr"], toml::Value::Float(0.5));
        assert_eq!(all["seed"], toml::Value::Integer(7));
        // YAML 1.2, as DVC reads it: `yes` is a string, not a boolean.
        assert_eq!(all["train.on"], toml::Value::String("yes".into()));
        let one = param_values(yml, &entry("p.yaml", Some("train.lr")), "s").unwrap();
        assert_eq!(one.len(), 1);
        assert!(
            param_values("", &entry("p.yaml", None), "s")
                .unwrap()
                .is_empty()
        );
        assert!(param_values("a: ~\n", &entry("p.yaml", None), "s").is_err());
        assert!(param_values("a: [1\n", &entry("p.yaml", None), "s").is_err());
        // Not YAML by content alone: a `.toml` file is TOML.
        assert!(param_values("a: 1\n", &entry("p.toml", None), "s").is_err());
    }

    #[test]
    fn orders_producers_first_and_finds_cycles() {
        let p = project(
            "[stages.train]\ncmd='t'\ndeps=['data/prepared']\nouts=['model.pkl']\n\
             [stages.prepare]\ncmd='p'\ndeps=['data/raw']\nouts=['data/prepared']\n\
             [stages.eval]\ncmd='e'\ndeps=['model.pkl', 'data/prepared/test.csv']\nmetrics=['m.json']\n",
        );
        let g = Graph::new(&p).unwrap();
        assert_eq!(g.order, ["prepare", "train", "eval"]);
        assert_eq!(
            g.with_upstream(&p, &["train".into()]).unwrap(),
            ["prepare", "train"]
        );
        let cyclic = project(
            "[stages.a]\ncmd='a'\ndeps=['y']\nouts=['x']\n[stages.b]\ncmd='b'\ndeps=['x']\nouts=['y']\n",
        );
        let err = Graph::new(&cyclic).err().unwrap().to_string();
        assert!(err.contains("a → b → a"), "{err}");
        let twice = project("[stages.a]\ncmd='a'\nouts=['x']\n[stages.b]\ncmd='b'\nouts=['x/y']\n");
        assert!(matches!(
            Graph::new(&twice),
            Err(PipelineError::ClaimedTwice { .. })
        ));
    }
}
