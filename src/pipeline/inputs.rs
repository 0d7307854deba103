//! A stage's inputs as they are now: the hashes of its deps (files or folders, through the
//! stat cache) and the values its params entries select from TOML, JSON or YAML files.

use crate::cache::Cache;
use crate::hash::Hash;
use crate::lockfile::ParamValues;
use crate::paths::RepoPath;
use crate::problem::{usage, usage_with_hint};
use crate::project::{ParamRef, Stage};
use crate::repo::Repo;
use crate::stat_cache::StatCache;
use crate::workspace;
use anyhow::Context;
use std::collections::BTreeMap;

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
    let (hashes, _) = workspace::hash_all(
        &files,
        path.as_str(),
        &abs,
        stat,
        store,
        &crate::progress::NoProgress,
    )?;
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

pub(super) fn stage_deps(
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
pub(super) fn stage_params(
    repo: &Repo,
    stage: &Stage,
) -> anyhow::Result<BTreeMap<String, ParamValues>> {
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
        usage_with_hint(
            format!("stage `{stage}` reads params from `{}`: {e}", p.file),
            "create the file or fix `params` in mlv.toml",
        )
    })?;
    param_values(&text, p, stage)
}

/// The values a params entry selects from the text of its file: JSON for `.json`, YAML
/// for `.yaml`/`.yml` (DVC's `params.yaml`), TOML otherwise.
pub fn param_values(text: &str, p: &ParamRef, stage: &str) -> anyhow::Result<ParamValues> {
    let message = |reason: String| format!("params file `{}` is not valid: {reason}", p.file);
    let bad = |reason: String| usage(message(reason));
    // JSON and YAML trees are kept as TOML values, the form `mlv.lock` records.
    let from_tree = |tree: serde_json::Value| {
        match tree {
            // An empty YAML document sets no params.
            serde_json::Value::Null => Ok(toml::Value::Table(toml::Table::new())),
            tree => toml::Value::try_from(tree).map_err(|e| {
                usage_with_hint(
                    message(e.to_string()),
                    "mlv.lock cannot record a null value: give the key a value or leave it out",
                )
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
                    usage_with_hint(
                        format!(
                            "stage `{stage}` uses param `{key}`, which `{}` does not have",
                            p.file
                        ),
                        "add it to the file or fix `params` in mlv.toml",
                    )
                })?;
            out.insert(key.clone(), value.clone());
        }
        None => flatten_params("", &root, &mut out),
    }
    Ok(out)
}

/// `v` by dotted key below `prefix` (`train.lr`), down to the leaves; a table's own key is
/// not kept.
pub fn flatten_params(prefix: &str, v: &toml::Value, out: &mut ParamValues) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten_params(&key, v, out);
            }
        }
        leaf => {
            out.insert(prefix.to_string(), leaf.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
