//! Listing another repository's tracked data: files and folders at or below a path,
//! reading tracked folders' manifests.

use super::{Entry, External};
use crate::cache::Cache;
use crate::hash::Hash;
use crate::paths::RepoPath;
use crate::problem::usage_with_hint;
use crate::progress::Progress;
use crate::repo::Tracked;

impl External {
    /// The files and folders at or below `path` (`""` or `.`: everything), recursing into
    /// tracked folders' manifests (fetched when missing); `recursive` lists files at any
    /// depth, else the direct children of `path` (or `path` itself when it is a file).
    pub fn ls(
        &self,
        cache: &Cache,
        path: &str,
        recursive: bool,
        remote: Option<&str>,
        progress: &dyn Progress,
    ) -> anyhow::Result<Vec<Entry>> {
        let base = path.trim_start_matches("./").trim_end_matches('/');
        let base = if base == "." { "" } else { base };
        let mut files: Vec<Entry> = Vec::new();
        for t in &self.tracked {
            let inside = base.is_empty() || t.path.starts_with(&RepoPath::new(base));
            let holds = !base.is_empty() && RepoPath::new(base).starts_with(&t.path);
            if !(inside || holds) {
                continue;
            }
            if !t.pointer.is_dir() {
                files.push(file_entry(
                    t.path.to_string(),
                    t.pointer.size,
                    t.pointer.hash,
                ));
                continue;
            }
            let manifest = self.manifest(cache, t, remote, progress)?;
            for e in manifest.entries() {
                files.push(file_entry(format!("{}/{}", t.path, e.path), e.size, e.hash));
            }
        }
        let under = |p: &str| base.is_empty() || p == base || p.starts_with(&format!("{base}/"));
        files.retain(|e| under(&e.path));
        if files.is_empty() {
            return Err(usage_with_hint(
                format!("`{base}` is not tracked in `{}`{}", self.url, self.at()),
                "list the root (`.`) to see what it tracks",
            ));
        }
        if recursive || files.iter().any(|e| e.path == base) {
            return Ok(files);
        }
        Ok(children(&self.tracked, base, files))
    }
}

fn file_entry(path: String, size: u64, hash: Hash) -> Entry {
    Entry {
        path,
        size,
        hash: Some(hash),
        kind: "file",
    }
}

/// The direct children of `base` among `files` (all below it): files as they are, folders
/// once each with the total size below them (a tracked folder with its manifest's hash).
fn children(tracked: &[Tracked], base: &str, files: Vec<Entry>) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    for f in files {
        let rel = if base.is_empty() {
            f.path.as_str()
        } else {
            &f.path[base.len() + 1..]
        };
        let Some((first, _)) = rel.split_once('/') else {
            out.push(f);
            continue;
        };
        let dir = if base.is_empty() {
            first.to_string()
        } else {
            format!("{base}/{first}")
        };
        match out.iter_mut().find(|e| e.path == dir) {
            Some(e) => e.size += f.size,
            None => out.push(Entry {
                hash: tracked
                    .iter()
                    .find(|t| t.path.as_str() == dir)
                    .map(|t| t.pointer.hash),
                path: dir,
                size: f.size,
                kind: "directory",
            }),
        }
    }
    out
}
