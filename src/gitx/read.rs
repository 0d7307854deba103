//! What git-mlv reads through gix: the index's paths, and files, trees and commits of a
//! revision, straight from git's object database.

use super::{CommittedFile, GitError, GitRepo};

impl GitRepo {
    /// The paths in this worktree's index, read once for many questions.
    pub fn index(&self) -> Result<IndexedPaths, GitError> {
        let index = self.repo.index_or_empty().map_err(|e| GitError::Index {
            path: self.repo.git_dir().to_path_buf(),
            reason: e.to_string(),
        })?;
        let mut paths: Vec<String> = index
            .entries()
            .iter()
            .map(|e| e.path(&index).to_string())
            .collect();
        paths.sort();
        Ok(IndexedPaths(paths))
    }
}

/// The paths git tracks (its index), sorted: data that git already tracks is never handed
/// to git-mlv, and git-tracked code is never overwritten by data.
#[derive(Debug, Default)]
pub struct IndexedPaths(Vec<String>);

impl IndexedPaths {
    /// The first indexed path at or below `path` (`/`-separated, relative to the root).
    pub fn first_under(&self, path: &str) -> Option<&str> {
        if let Ok(i) = self.0.binary_search_by(|p| p.as_str().cmp(path)) {
            return Some(&self.0[i]);
        }
        // Everything below `path/` forms one run in sorted order.
        let dir_prefix = format!("{path}/");
        let i = self.0.partition_point(|p| p.as_str() < dir_prefix.as_str());
        self.0
            .get(i)
            .filter(|p| p.starts_with(&dir_prefix))
            .map(String::as_str)
    }
}

impl GitRepo {
    /// Every file whose name ends with `suffix` in the tree of `rev`, read straight from
    /// git's object database (the work tree is not touched).
    pub fn files_at(&self, rev: &str, suffix: &str) -> Result<Vec<CommittedFile>, GitError> {
        let objects = objects(rev);
        let tree = self.tree(rev)?;
        let mut recorder = gix::traverse::tree::Recorder::default();
        tree.traverse()
            .breadthfirst(&mut recorder)
            .map_err(|e| objects(e.to_string()))?;
        let mut out = Vec::new();
        for entry in recorder.records {
            if !entry.mode.is_blob() {
                continue;
            }
            let path = entry.filepath.to_string();
            let name = path.rsplit('/').next().unwrap_or(&path);
            if name.len() <= suffix.len() || !name.ends_with(suffix) {
                continue;
            }
            let object = self
                .repo
                .find_object(entry.oid)
                .map_err(|e| objects(e.to_string()))?;
            out.push(CommittedFile {
                path,
                data: object.detach().data,
            });
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }
}

impl GitRepo {
    /// The bytes of the file at `path` in the tree of `rev`, or `None` when that commit has
    /// no such file (`mlv.toml`, `mlv.lock` and metrics files at an older revision).
    pub fn file_at(&self, rev: &str, path: &str) -> Result<Option<Vec<u8>>, GitError> {
        let objects = objects(rev);
        let tree = self.tree(rev)?;
        let Some(entry) = tree
            .lookup_entry_by_path(path)
            .map_err(|e| objects(e.to_string()))?
        else {
            return Ok(None);
        };
        if !entry.mode().is_blob() {
            return Ok(None);
        }
        let object = entry.object().map_err(|e| objects(e.to_string()))?;
        Ok(Some(object.detach().data))
    }

    /// The tree of the commit `rev` names.
    fn tree(&self, rev: &str) -> Result<gix::Tree<'_>, GitError> {
        self.commit(rev)?
            .tree()
            .map_err(|e| objects(rev)(e.to_string()))
    }

    /// The full commit id `rev` names.
    pub fn resolve_commit(&self, rev: &str) -> Result<String, GitError> {
        Ok(self.commit(rev)?.id.to_string())
    }

    /// The commit `rev` names (a tag or branch peeled to its commit). An experiment's name
    /// that names nothing else means its ref, `refs/mlv/exps/<name>`: every command that
    /// takes a revision reads it through here.
    pub(super) fn commit(&self, rev: &str) -> Result<gix::Commit<'_>, GitError> {
        let bad = |reason: String| GitError::BadRevision {
            rev: rev.to_string(),
            reason,
        };
        let experiment = || {
            let name = format!("{}{rev}", super::EXPERIMENT_REFS);
            self.repo.rev_parse_single(name.as_str()).ok()
        };
        self.repo
            .rev_parse_single(rev)
            .or_else(|e| experiment().ok_or(e))
            .map_err(|e| bad(e.to_string()))?
            .object()
            .map_err(|e| bad(e.to_string()))?
            .peel_to_commit()
            .map_err(|e| bad(e.to_string()))
    }
}

/// A failure reading the objects of `rev`, from what gix said.
fn objects(rev: &str) -> impl Fn(String) -> GitError + '_ {
    move |reason| GitError::Objects {
        rev: rev.to_string(),
        reason,
    }
}
