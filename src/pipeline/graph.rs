//! The stage graph of `mlv.toml`: which stage produces which out, the order that runs every
//! producer before its consumers, and the deps a run needs to exist.

use crate::paths::RepoPath;
use crate::problem::{Hinted, Kind, usage_with_hint};
use crate::project::{Project, Stage};
use crate::repo::Repo;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("the stages of mlv.toml form a cycle: {}", .0.join(" → "))]
    Cycle(Vec<String>),
    #[error("`{path}` is claimed by two stages, `{first}` and `{second}`, in mlv.toml")]
    ClaimedTwice {
        path: String,
        first: String,
        second: String,
    },
    #[error("stage `{stage}` depends on `{dep}`, which does not exist and no stage produces")]
    MissingDep { stage: String, dep: String },
    #[error("mlv.toml has no stage `{name}`{}", if known.is_empty() { String::new() } else { format!("; its stages: {}", known.join(", ")) })]
    UnknownStage { name: String, known: Vec<String> },
}

/// A pipeline that cannot run as written is the request's fault.
impl Hinted for PipelineError {
    fn kind(&self) -> Kind {
        Kind::Usage
    }

    fn hint(&self) -> Option<String> {
        Some(
            match self {
                PipelineError::Cycle(_) => {
                    "a stage cannot depend, even indirectly, on its own outs"
                }
                PipelineError::ClaimedTwice { .. } => "give each out one producing stage",
                PipelineError::MissingDep { .. } => {
                    "create it, `git mlv pull` it, or add a stage with it in `outs`"
                }
                PipelineError::UnknownStage { .. } => return None,
            }
            .into(),
        )
    }
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

/// Checks that `project`'s stages are all known and their deps exist or are produced.
pub fn check_deps(repo: &Repo, project: &Project, stages: &[String]) -> anyhow::Result<()> {
    let produced: Vec<&RepoPath> = project.stages.values().flat_map(Stage::products).collect();
    for name in stages {
        let s = &project.stages[name];
        for dep in &s.deps {
            let made = produced.iter().any(|o| overlaps(dep, o));
            if !made && std::fs::symlink_metadata(dep.to_abs(repo.root())).is_err() {
                if std::fs::symlink_metadata(dep.pointer().to_abs(repo.root())).is_ok() {
                    return Err(usage_with_hint(
                        format!(
                            "stage `{name}` depends on `{dep}`, which git-mlv tracks but is not in the work tree"
                        ),
                        format!("run `git mlv pull {dep}` (or `git mlv checkout {dep}`) first"),
                    ));
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
