//! What `git mlv lineage` reports, for the command and for the library's callers (the
//! Python package's `mlv.lineage`): the artifact named by path or by its `mlv.toml` name,
//! traced at a revision or in the work tree.

use crate::lineage::{self, Node};
use crate::paths::RepoPath;
use crate::project::Project;
use crate::repo::Repo;
use std::path::Path;

/// The lineage of `artifact` at `rev` (the work tree's when `None`).
pub fn trace(repo: &Repo, artifact: &Path, rev: Option<&str>) -> anyhow::Result<Node> {
    let rev = rev.map(|r| repo.rev(r)).transpose()?;
    let path = artifact_path(repo, artifact, rev.as_deref())?;
    lineage::trace(repo, &path, rev.as_deref())
}

/// The document `git mlv lineage --json` prints: the revision as given and the graph.
pub fn document(rev: Option<&str>, node: &Node) -> serde_json::Value {
    serde_json::json!({ "rev": rev, "lineage": node })
}

/// An artifact name from mlv.toml's `[artifacts]` means its path; anything else is a path.
pub fn artifact_path(repo: &Repo, arg: &Path, rev: Option<&str>) -> anyhow::Result<RepoPath> {
    if let Some(name) = arg.to_str() {
        let project = match rev {
            Some(r) => Project::load_at(&repo.git, r)?,
            None => Project::load(repo.root())?,
        };
        if let Some(a) = project.artifacts.get(name) {
            return Ok(a.path.clone());
        }
    }
    Ok(repo.resolve(arg)?)
}
