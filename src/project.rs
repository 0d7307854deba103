//! `mlv.toml` at the repository root: pipeline stages, metric gates and registered
//! artifacts. Parsed into checked, normalized values; every path is a `RepoPath`.

use crate::gitx::{GitRepo, Source};
use crate::paths::{RepoPath, is_safe_relative};
use crate::problem::{Hinted, Kind};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
pub mod plot;

pub const FILE: &str = "mlv.toml";

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("`{path}` is not valid: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("reading `{path}`")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// An `mlv.toml` git-mlv cannot use is the request's fault; failing to read it is not.
impl Hinted for ProjectError {
    fn kind(&self) -> Kind {
        match self {
            ProjectError::Invalid { .. } => Kind::Usage,
            ProjectError::Io { .. } => Kind::Failed,
        }
    }

    fn hint(&self) -> Option<String> {
        matches!(self, ProjectError::Invalid { .. })
            .then(|| "fix the file; `docs/pipeline.md` describes every key".into())
    }
}

/// A stage of the pipeline. Paths in `deps`, `params`, `outs` and `metrics` are relative to
/// `wdir` in the file (as in DVC) and stored here relative to the repository root.
#[derive(Debug, Clone)]
pub struct Stage {
    pub name: String,
    pub cmd: String,
    pub wdir: Option<RepoPath>,
    pub deps: Vec<RepoPath>,
    pub params: Vec<ParamRef>,
    pub outs: Vec<RepoPath>,
    pub metrics: Vec<RepoPath>,
    pub env: BTreeMap<String, String>,
}

impl Stage {
    /// Files the stage writes: its outs, then its metrics files.
    pub fn products(&self) -> impl Iterator<Item = &RepoPath> {
        self.outs.iter().chain(&self.metrics)
    }
}

/// A params entry: a whole file (`params.toml`) or one dotted key in it
/// (`params.toml:train.max_depth`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamRef {
    pub file: RepoPath,
    pub key: Option<String>,
}

/// A value in a metrics file: `metrics.json:eval.accuracy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricRef {
    pub file: RepoPath,
    pub key: String,
}

impl std::fmt::Display for MetricRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.key)
    }
}

/// A quality gate on one metric.
#[derive(Debug, Clone)]
pub struct Gate {
    pub metric: MetricRef,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub max_drop: Option<f64>,
    pub max_rise: Option<f64>,
    /// A registry stage (`model#prod`) or a git revision; needed by `max_drop`/`max_rise`.
    pub baseline: Option<String>,
}

/// A registered artifact (`[artifacts.<name>]`).
#[derive(Debug, Clone)]
pub struct Artifact {
    pub name: String,
    pub path: RepoPath,
    pub kind: Option<String>,
    pub description: Option<String>,
    /// Free-form labels (GTO's `labels` in `artifacts.yaml`).
    pub labels: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Project {
    pub stages: BTreeMap<String, Stage>,
    pub gates: Vec<Gate>,
    pub artifacts: BTreeMap<String, Artifact>,
    pub plots: Vec<plot::Plot>,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct RawProject {
    stages: BTreeMap<String, RawStage>,
    gates: Vec<RawGate>,
    artifacts: BTreeMap<String, RawArtifact>,
    plots: Vec<plot::RawPlot>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStage {
    cmd: String,
    #[serde(default)]
    wdir: Option<String>,
    #[serde(default)]
    deps: Vec<String>,
    #[serde(default)]
    params: Vec<String>,
    #[serde(default)]
    outs: Vec<String>,
    #[serde(default)]
    metrics: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGate {
    metric: String,
    min: Option<f64>,
    max: Option<f64>,
    max_drop: Option<f64>,
    max_rise: Option<f64>,
    baseline: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArtifact {
    path: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    description: Option<String>,
    #[serde(default)]
    labels: Vec<String>,
}

impl Project {
    /// Reads `mlv.toml` from the work tree at `root`; an absent file is an empty project.
    pub fn load(root: &Path) -> anyhow::Result<Project> {
        Project::read(Source::WorkTree(root))
    }

    /// Reads `mlv.toml` as committed at `rev`; a commit without one is an empty project.
    pub fn load_at(git: &GitRepo, rev: &str) -> anyhow::Result<Project> {
        Project::read(Source::Rev(git, rev))
    }

    /// Reads `mlv.toml` from `src`; where there is none, the project is empty.
    pub fn read(src: Source) -> anyhow::Result<Project> {
        Ok(Project::read_present(src)?.unwrap_or_default())
    }

    /// Reads `mlv.toml` from `src`, or `None` when there is none.
    pub fn read_present(src: Source) -> anyhow::Result<Option<Project>> {
        let bytes = src
            .read(FILE)
            .map_err(|e| e.or_io(|path, source| ProjectError::Io { path, source }))?;
        Ok(match bytes {
            Some(b) => Some(Project::parse(
                &String::from_utf8_lossy(&b),
                &src.shown(FILE),
            )?),
            None => None,
        })
    }

    /// Parses the text of `mlv.toml`; `shown` names it in errors (e.g. `HEAD~1:mlv.toml`).
    pub fn parse(text: &str, shown: &Path) -> Result<Project, ProjectError> {
        let invalid = |reason: String| ProjectError::Invalid {
            path: shown.to_path_buf(),
            reason,
        };
        let raw: RawProject = toml::from_str(text).map_err(|e| invalid(e.message().to_string()))?;
        let mut project = Project::default();
        for (name, s) in raw.stages {
            if !is_name(&name) {
                return Err(invalid(format!(
                    "stage name `{name}` may hold only letters, digits, `-`, `_` and `.`"
                )));
            }
            if s.cmd.trim().is_empty() {
                return Err(invalid(format!("stage `{name}` has an empty `cmd`")));
            }
            let wdir = match s.wdir.as_deref().map(|w| w.trim_end_matches('/')) {
                None | Some("" | ".") => None,
                Some(w) => Some(repo_path(w, &format!("stage `{name}` wdir")).map_err(invalid)?),
            };
            let under = |field: &str, p: &str| -> Result<RepoPath, ProjectError> {
                let joined = match &wdir {
                    Some(w) => format!("{w}/{p}"),
                    None => p.to_string(),
                };
                repo_path(&joined, &format!("stage `{name}` {field} `{p}`")).map_err(invalid)
            };
            let paths = |field: &str, list: &[String]| -> Result<Vec<RepoPath>, ProjectError> {
                list.iter().map(|p| under(field, p)).collect()
            };
            let params = s
                .params
                .iter()
                .map(|p| {
                    let (file, key) = match p.split_once(':') {
                        Some((f, k)) if !k.is_empty() => (f, Some(k.to_string())),
                        _ => (p.as_str(), None),
                    };
                    Ok(ParamRef {
                        file: under("params", file)?,
                        key,
                    })
                })
                .collect::<Result<Vec<_>, ProjectError>>()?;
            let stage = Stage {
                cmd: s.cmd,
                deps: paths("deps", &s.deps)?,
                outs: paths("outs", &s.outs)?,
                metrics: paths("metrics", &s.metrics)?,
                params,
                env: s.env,
                wdir,
                name: name.clone(),
            };
            project.stages.insert(name, stage);
        }
        for g in raw.gates {
            let metric = parse_metric(&g.metric).map_err(invalid)?;
            if g.min.is_none() && g.max.is_none() && g.max_drop.is_none() && g.max_rise.is_none() {
                return Err(invalid(format!(
                    "gate on `{}` sets no bound; give `min`, `max`, `max_drop` or `max_rise`",
                    g.metric
                )));
            }
            project.gates.push(Gate {
                metric,
                min: g.min,
                max: g.max,
                max_drop: g.max_drop,
                max_rise: g.max_rise,
                baseline: g.baseline,
            });
        }
        for (name, a) in raw.artifacts {
            if !crate::registry::is_name(&name) {
                return Err(invalid(crate::registry::bad_name(&name)));
            }
            let path = repo_path(&a.path, &format!("artifact `{name}` path")).map_err(invalid)?;
            project.artifacts.insert(
                name.clone(),
                Artifact {
                    name,
                    path,
                    kind: a.kind,
                    description: a.description,
                    labels: a.labels,
                },
            );
        }
        project.plots = plot::check(raw.plots).map_err(invalid)?;
        Ok(project)
    }

    /// The stage that lists `path` among its outs or metrics.
    pub fn producer_of(&self, path: &RepoPath) -> Option<&Stage> {
        self.stages
            .values()
            .find(|s| s.products().any(|o| path.starts_with(o)))
    }
}

/// `file:dotted.key`, the way gates name a metric.
pub fn parse_metric(s: &str) -> Result<MetricRef, String> {
    match s.rsplit_once(':') {
        Some((file, key)) if !file.is_empty() && !key.is_empty() => Ok(MetricRef {
            file: repo_path(file, &format!("metric `{s}`"))?,
            key: key.to_string(),
        }),
        _ => Err(format!(
            "metric `{s}` must be `file:dotted.key`, e.g. `metrics.json:eval.accuracy`"
        )),
    }
}

/// Names of pipeline stages: safe in file paths. (Artifact names follow the registry's
/// rule, `registry::is_name`, since they become tag names.)
fn is_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(['.', '-'])
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn repo_path(p: &str, what: &str) -> Result<RepoPath, String> {
    let p: Vec<&str> = p
        .trim_end_matches('/')
        .split('/')
        .filter(|seg| *seg != ".")
        .collect();
    let p = p.join("/");
    if !is_safe_relative(&p) {
        return Err(format!(
            "{what} must be a relative path inside the repository, without `..`"
        ));
    }
    if crate::paths::is_reserved(&p) {
        return Err(format!("{what} is inside `.git` or `.mlv`"));
    }
    Ok(RepoPath::new(p))
}

/// The artifact `name` as `mlv.toml` declares it at `commit` (else as the work tree's does).
pub fn artifact_at(
    git: &GitRepo,
    root: &std::path::Path,
    name: &str,
    commit: &str,
) -> anyhow::Result<Artifact> {
    if let Some(a) = Project::load_at(git, commit)?.artifacts.remove(name) {
        return Ok(a);
    }
    Project::load(root)?.artifacts.remove(name).ok_or_else(|| {
        crate::problem::usage_with_hint(
            format!("`{name}` is not an artifact in `mlv.toml`"),
            format!("declare it:\n  [artifacts.{name}]\n  path = \"model.pkl\""),
        )
    })
}

#[cfg(test)]
mod tests;
