//! The params files of a project, read whole (every key, not only the ones a stage
//! selects) from the work tree or a revision, and compared key by key: `params diff`.

use crate::gitx::Source;
use crate::lockfile::ParamValues;
use crate::paths::RepoPath;
use crate::pipeline::param_values;
use crate::project::{ParamRef, Project};
use anyhow::Context;
use std::collections::BTreeMap;

/// Every params file a project's stages name, sorted, without repeats.
pub fn files(project: &Project) -> Vec<RepoPath> {
    let mut out: Vec<RepoPath> = project
        .stages
        .values()
        .flat_map(|s| s.params.iter().map(|p| p.file.clone()))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Every key of each of `files` that exists at `src`, by dotted key (lists are values).
/// A file that is not valid TOML, YAML or JSON is an error (exit 2) naming it and `at`
/// (where it was read, as the user named it: ``at `model#prod` ``).
pub fn read_all(
    src: Source,
    files: &[RepoPath],
    at: &str,
) -> anyhow::Result<BTreeMap<RepoPath, ParamValues>> {
    let mut out = BTreeMap::new();
    for file in files {
        let Some(bytes) = src.read(file.as_str()).map_err(|e| e.into_anyhow())? else {
            continue;
        };
        let whole = ParamRef {
            file: file.clone(),
            key: None,
        };
        let values = param_values(&String::from_utf8_lossy(&bytes), &whole, "")
            .with_context(|| format!("reading the params files {at}"))?;
        out.insert(file.clone(), values);
    }
    Ok(out)
}

/// One key compared: `None` on the side where the file or key is absent.
#[derive(Debug, Clone, PartialEq)]
pub struct Change<V = toml::Value> {
    pub file: RepoPath,
    pub key: String,
    pub old: Option<V>,
    pub new: Option<V>,
}

/// Every key of either side, by file then key; only those that differ unless `all`. Any
/// values keyed by file and dotted key compare so: params here, metrics in `metrics diff`.
pub fn diff<V: Clone + PartialEq>(
    old: &BTreeMap<RepoPath, BTreeMap<String, V>>,
    new: &BTreeMap<RepoPath, BTreeMap<String, V>>,
    all: bool,
) -> Vec<Change<V>> {
    let mut keys: Vec<(&RepoPath, &String)> = old
        .iter()
        .chain(new)
        .flat_map(|(f, values)| values.keys().map(move |k| (f, k)))
        .collect();
    keys.sort();
    keys.dedup();
    let get = |side: &BTreeMap<RepoPath, BTreeMap<String, V>>, f: &RepoPath, k: &str| {
        side.get(f).and_then(|v| v.get(k)).cloned()
    };
    keys.into_iter()
        .map(|(f, k)| Change {
            file: f.clone(),
            key: k.clone(),
            old: get(old, f, k),
            new: get(new, f, k),
        })
        .filter(|c| all || c.old != c.new)
        .collect()
}

/// A value as JSON: a TOML date-time as its text, everything else as itself.
pub fn to_json(value: &toml::Value) -> serde_json::Value {
    match value {
        toml::Value::String(s) => s.clone().into(),
        toml::Value::Integer(i) => (*i).into(),
        toml::Value::Float(f) => (*f).into(),
        toml::Value::Boolean(b) => (*b).into(),
        toml::Value::Datetime(d) => d.to_string().into(),
        toml::Value::Array(items) => items.iter().map(to_json).collect(),
        toml::Value::Table(t) => t.iter().map(|(k, v)| (k.clone(), to_json(v))).collect(),
    }
}

/// A value as a table shows it: a string bare (as DVC shows it), others as TOML writes them.
pub fn to_text(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_lists_changed_added_and_removed_keys() {
        let side = |pairs: &[(&str, toml::Value)]| {
            let values: ParamValues = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect();
            BTreeMap::from([(RepoPath::new("p.toml"), values)])
        };
        let old = side(&[("a", 1.into()), ("b", "x".into()), ("c", true.into())]);
        let new = side(&[("a", 2.into()), ("b", "x".into()), ("d", 0.5.into())]);
        let keys =
            |all| -> Vec<String> { diff(&old, &new, all).into_iter().map(|c| c.key).collect() };
        assert_eq!(keys(false), ["a", "c", "d"]);
        assert_eq!(keys(true), ["a", "b", "c", "d"]);
        let c = &diff(&old, &new, false)[1];
        assert_eq!((&c.old, &c.new), (&Some(true.into()), &None));
        let list = toml::Value::Array(vec![1.into(), "two".into()]);
        assert_eq!(to_text(&list), r#"[1, "two"]"#);
        assert_eq!(to_json(&list), serde_json::json!([1, "two"]));
        assert_eq!(to_text(&"adam".into()), "adam");
    }
}
