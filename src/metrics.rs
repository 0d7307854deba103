//! Metrics files (JSON or TOML, chosen by extension) read from the work tree or from a git
//! revision (a `gitx::Source`), flattened to dotted keys so gates and diffs name a value as
//! `file:a.b.c`.

use crate::gitx::Source;
use crate::paths::RepoPath;
use crate::problem::{Hinted, Kind};
use crate::project::Project;
use std::collections::BTreeMap;
use std::path::Path;

/// A metrics file's numeric values by dotted key (`eval.accuracy`; list items by index).
pub type Flat = BTreeMap<String, f64>;

#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("metrics file `{file}` ({at}) is not valid {format}: {reason}")]
    Invalid {
        file: String,
        at: String,
        format: &'static str,
        reason: String,
    },
    #[error("metrics file `{file}` ends in neither `.json` nor `.toml`, so its format is unknown")]
    Format { file: String },
    #[error("reading metrics file `{file}`")]
    Io {
        file: String,
        source: std::io::Error,
    },
}

/// A metrics file git-mlv cannot read is the request's fault; failing to read it is not.
impl Hinted for MetricsError {
    fn kind(&self) -> Kind {
        match self {
            MetricsError::Invalid { .. } | MetricsError::Format { .. } => Kind::Usage,
            MetricsError::Io { .. } => Kind::Failed,
        }
    }

    fn hint(&self) -> Option<String> {
        Some(
            match self {
                MetricsError::Invalid { .. } => "fix the file, or the stage that writes it",
                MetricsError::Format { .. } => "name metrics files `*.json` or `*.toml`",
                MetricsError::Io { .. } => return None,
            }
            .into(),
        )
    }
}

/// Reads and flattens one metrics file; `None` when the file does not exist there.
pub fn read(src: Source, file: &RepoPath) -> anyhow::Result<Option<Flat>> {
    let read = src.read(file.as_str()).map_err(|e| {
        e.or_io(|_, source| MetricsError::Io {
            file: file.to_string(),
            source,
        })
    })?;
    let Some(bytes) = read else {
        return Ok(None);
    };
    Ok(Some(parse(&bytes, file, &src.to_string())?))
}

/// Parses a metrics file's bytes; `at` says where they came from, for errors.
pub fn parse(bytes: &[u8], file: &RepoPath, at: &str) -> Result<Flat, MetricsError> {
    let invalid = |format, reason: String| MetricsError::Invalid {
        file: file.to_string(),
        at: at.to_string(),
        format,
        reason,
    };
    let text = String::from_utf8_lossy(bytes);
    let value: serde_json::Value = match Path::new(file.as_str())
        .extension()
        .and_then(|e| e.to_str())
    {
        Some("json") => serde_json::from_str(&text).map_err(|e| invalid("JSON", e.to_string()))?,
        Some("toml") => {
            let table: toml::Table = text
                .parse()
                .map_err(|e: toml::de::Error| invalid("TOML", e.message().to_string()))?;
            serde_json::to_value(table).map_err(|e| invalid("TOML", e.to_string()))?
        }
        _ => {
            return Err(MetricsError::Format {
                file: file.to_string(),
            });
        }
    };
    let mut flat = Flat::new();
    flatten(&value, String::new(), &mut flat);
    Ok(flat)
}

/// Numbers (and booleans, as 0/1) under their dotted paths; strings and nulls carry no
/// value a gate could compare, so they are left out.
fn flatten(value: &serde_json::Value, prefix: String, out: &mut Flat) {
    let join = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                flatten(v, join(k), out);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten(v, join(&i.to_string()), out);
            }
        }
        serde_json::Value::Number(n) => {
            if let Some(f) = n.as_f64() {
                out.insert(prefix, f);
            }
        }
        serde_json::Value::Bool(b) => {
            out.insert(prefix, f64::from(u8::from(*b)));
        }
        serde_json::Value::String(_) | serde_json::Value::Null => {}
    }
}

/// The metrics files a project names: every stage's `metrics`, then any file a gate
/// reads; sorted, without repeats.
pub fn files(project: &Project) -> Vec<RepoPath> {
    let mut out: Vec<RepoPath> = project
        .stages
        .values()
        .flat_map(|s| s.metrics.iter().cloned())
        .chain(project.gates.iter().map(|g| g.metric.file.clone()))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Every metrics file of `project` that exists at `src`, flattened.
pub fn read_all(src: Source, project: &Project) -> anyhow::Result<BTreeMap<RepoPath, Flat>> {
    let mut out = BTreeMap::new();
    for file in files(project) {
        if let Some(flat) = read(src, &file)? {
            out.insert(file, flat);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_json_and_toml_flatten_to_dotted_keys() {
        let j = parse(
            br#"{"eval": {"accuracy": 0.93, "loss": 1, "name": "x", "ok": true}, "per_class": [0.5, 0.7]}"#,
            &RepoPath::new("m.json"),
            "work tree",
        )
        .unwrap();
        assert_eq!(j["eval.accuracy"], 0.93);
        assert_eq!(j["eval.loss"], 1.0);
        assert_eq!(j["eval.ok"], 1.0);
        assert_eq!(j["per_class.1"], 0.7);
        assert!(!j.contains_key("eval.name"));
        let t = parse(
            b"[eval]\naccuracy = 0.9\n",
            &RepoPath::new("m.toml"),
            "work tree",
        )
        .unwrap();
        assert_eq!(t["eval.accuracy"], 0.9);
        assert!(parse(b"{", &RepoPath::new("m.json"), "work tree").is_err());
        assert!(parse(b"a: 1", &RepoPath::new("m.yaml"), "work tree").is_err());
    }
}
