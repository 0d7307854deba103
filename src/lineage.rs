//! Lineage: from an artifact back through the stages of `mlv.lock` to the raw data pointers
//! and git files, with the exact hashes recorded and whether they still match what the
//! revision holds.

use crate::gitx::{CommitInfo, ReadError, Source};
use crate::hash::Hash;
use crate::lockfile::{LockFile, ParamValues, StageLock};
use crate::paths::RepoPath;
use crate::pointer::{self, Pointer};
use crate::repo::Repo;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// One artifact or input and where it came from.
#[derive(Debug, Serialize)]
pub struct Node {
    pub path: String,
    /// The hash mlv.lock records for it (for the root: its pointer's hash).
    pub hash: Option<Hash>,
    /// `stage` (an out of a stage), `data` (a git-mlv pointer), `git` (a file in git) or
    /// `untracked` (neither: not reproducible from the repository).
    pub source: &'static str,
    /// The pointer's (or git file's) hash at the revision, when it differs from `hash`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<Hash>,
    /// False when what the revision holds no longer matches what the stage used or made;
    /// `None` when it cannot be told (a git folder at an older revision).
    pub intact: Option<bool>,
    /// The commit where the pointer (or git file) last changed, up to the revision.
    pub commit: Option<CommitInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<StageNode>,
    /// For data imported from elsewhere (`import`, `import-url`): its pointer's `[source]`
    /// table (`url`, `rev`, `commit`, `path`; or `url` and what tells a change).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imported: Option<toml::Table>,
}

#[derive(Debug, Serialize)]
pub struct StageNode {
    pub name: String,
    pub cmd: String,
    pub params: BTreeMap<String, ParamValues>,
    pub inputs: Vec<Node>,
}

/// A trace over one source: the work tree or a git revision.
struct Tracer<'a> {
    repo: &'a Repo,
    files: Source<'a>,
    /// Revision for `git log`: the given one, or HEAD for the work tree.
    log_rev: &'a str,
    lock: LockFile,
}

impl Tracer<'_> {
    fn read(&self, path: &str) -> anyhow::Result<Option<Vec<u8>>> {
        match self.files.read(path) {
            Ok(b) => Ok(b),
            Err(ReadError::Git(e)) => Err(e.into()),
            Err(ReadError::Io { source, .. }) if source.raw_os_error() == Some(21) => Ok(None), // a directory
            Err(ReadError::Io { source, .. }) => {
                Err(anyhow::Error::new(source).context(format!("reading `{path}`")))
            }
        }
    }

    fn pointer(&self, path: &str) -> anyhow::Result<Option<Pointer>> {
        let ptr = format!("{path}{}", pointer::EXT);
        let Some(bytes) = self.read(&ptr)? else {
            return Ok(None);
        };
        let text = String::from_utf8_lossy(&bytes);
        Ok(Some(match self.files.rev() {
            Some(rev) => Pointer::parse_at(&text, rev, &ptr)?,
            None => Pointer::parse(&text, Path::new(&ptr))?,
        }))
    }

    fn last_change(&self, path: &str) -> anyhow::Result<Option<CommitInfo>> {
        // A repository without commits has no history to name.
        if self.repo.git.resolve_commit(self.log_rev).is_err() {
            return Ok(None);
        }
        Ok(self.repo.git.last_change(self.log_rev, path)?)
    }

    fn producer(&self, path: &str) -> Option<(&String, &StageLock)> {
        let p = RepoPath::new(path);
        self.lock.stages.iter().find(|(_, s)| {
            s.outs
                .keys()
                .chain(s.metrics.keys())
                .any(|o| p.starts_with(&RepoPath::new(o.as_str())))
        })
    }

    fn trace(&self, path: &str, recorded: Option<Hash>, depth: usize) -> anyhow::Result<Node> {
        if let Some((name, stage)) = self.producer(path).filter(|_| depth < 64) {
            let is_metric = stage.metrics.contains_key(path);
            let is_out = stage.outs.contains_key(path);
            // What the revision holds for it: a metrics file's bytes, an out's pointer, or
            // for a file inside a folder out, its entry in the folder's manifest.
            let (current, shown, known) = if is_metric {
                (
                    self.read(path)?.map(|b| Hash::of(&b)),
                    path.to_string(),
                    true,
                )
            } else if is_out {
                let shown = format!("{path}{}", pointer::EXT);
                (self.pointer(path)?.map(|p| p.hash), shown, true)
            } else {
                match self.in_tracked_dir(path)? {
                    Some((dir, entry)) => (
                        entry.flatten(),
                        format!("{dir}{}", pointer::EXT),
                        entry.is_some(),
                    ),
                    None => (None, path.to_string(), true),
                }
            };
            let locked = stage.product(path);
            let hash = recorded.or(locked);
            let inputs = stage
                .deps
                .iter()
                .map(|(dep, h)| self.trace(dep, Some(*h), depth + 1))
                .collect::<anyhow::Result<Vec<_>>>()?;
            return Ok(Node {
                path: path.to_string(),
                hash,
                source: "stage",
                intact: known.then_some(current.is_some() && current == hash),
                current: current.filter(|c| Some(*c) != hash),
                commit: self.last_change(&shown)?,
                stage: Some(StageNode {
                    name: name.clone(),
                    cmd: stage.cmd.clone(),
                    params: stage.params.clone(),
                    inputs,
                }),
                imported: None,
            });
        }
        if let Some(p) = self.pointer(path)? {
            let hash = recorded.unwrap_or(p.hash);
            return Ok(Node {
                path: path.to_string(),
                hash: Some(hash),
                source: "data",
                intact: Some(p.hash == hash),
                current: Some(p.hash).filter(|c| *c != hash),
                commit: self.last_change(&format!("{path}{}", pointer::EXT))?,
                stage: None,
                imported: p.source().cloned(),
            });
        }
        if let Some(node) = self.inside_tracked_dir(path, recorded)? {
            return Ok(node);
        }
        let commit = self.last_change(path)?;
        let current = match self.files.rev() {
            Some(_) => self.read(path)?.map(|b| Hash::of(&b)),
            None => {
                let mut stat = self.repo.stat_cache();
                crate::pipeline::content(self.repo, &mut stat, &RepoPath::new(path))?
                    .map(|c| c.hash)
            }
        };
        let in_git = commit.is_some();
        Ok(Node {
            path: path.to_string(),
            hash: recorded.or(current),
            source: if in_git { "git" } else { "untracked" },
            intact: match (current, recorded) {
                (Some(c), Some(r)) => Some(c == r),
                (None, Some(_)) if self.files.rev().is_some() && in_git => None,
                _ => Some(false),
            },
            current: current.filter(|c| Some(*c) != recorded),
            commit,
            stage: None,
            imported: None,
        })
    }
}

impl Tracer<'_> {
    /// For a path inside a tracked directory (`raw/digits.csv` of `raw.mlv`): that directory,
    /// and the path's hash in its manifest — `None` when the manifest is not in the cache,
    /// `Some(None)` when the manifest has no such file.
    fn in_tracked_dir(&self, path: &str) -> anyhow::Result<Option<(String, Option<Option<Hash>>)>> {
        let mut dir = path;
        while let Some((parent, _)) = dir.rsplit_once('/') {
            dir = parent;
            let Some(p) = self.pointer(dir)? else {
                continue;
            };
            let sub = &path[dir.len() + 1..];
            let entry = self
                .repo
                .cache()
                .ok()
                .and_then(|c| c.read_verified(&p.hash).ok())
                .and_then(|b| crate::manifest::Manifest::from_bytes(&b, &p.hash).ok())
                .map(|m| m.get(sub).map(|e| e.hash));
            return Ok(Some((dir.to_string(), entry)));
        }
        Ok(None)
    }

    /// A dep inside a tracked directory: a data node named after the directory's pointer.
    fn inside_tracked_dir(
        &self,
        path: &str,
        recorded: Option<Hash>,
    ) -> anyhow::Result<Option<Node>> {
        let Some((dir, entry)) = self.in_tracked_dir(path)? else {
            return Ok(None);
        };
        let current = entry.flatten();
        Ok(Some(Node {
            path: path.to_string(),
            hash: recorded.or(current),
            source: "data",
            intact: entry.map(|c| c.is_some() && c == recorded),
            current: current.filter(|c| Some(*c) != recorded),
            commit: self.last_change(&format!("{dir}{}", pointer::EXT))?,
            stage: None,
            imported: self.pointer(&dir)?.and_then(|p| p.source().cloned()),
        }))
    }
}

/// The lineage of `artifact` (a repository path) at `rev`, or in the work tree.
pub fn trace(repo: &Repo, artifact: &RepoPath, rev: Option<&str>) -> anyhow::Result<Node> {
    let files = match rev {
        Some(r) => Source::Rev(&repo.git, r),
        None => Source::WorkTree(repo.root()),
    };
    let src = Tracer {
        repo,
        files,
        log_rev: rev.unwrap_or("HEAD"),
        lock: LockFile::read(files)?,
    };
    let node = src.trace(artifact.as_str(), None, 0)?;
    if node.source != "stage" && node.source != "data" {
        return Err(crate::problem::usage_with_hint(
            format!(
                "`{artifact}` is neither an out of a stage in mlv.lock nor tracked by git-mlv{}",
                rev.map(|r| format!(" at `{r}`")).unwrap_or_default()
            ),
            "run `git mlv run` to produce it, or check the path",
        ));
    }
    Ok(node)
}

/// Every node whose recorded hash no longer matches, as `path (what)` lines.
pub fn broken(node: &Node) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(n: &Node, out: &mut Vec<String>) {
        if n.intact == Some(false) {
            let why = match (n.source, n.current) {
                ("untracked", _) => "not in git or git-mlv".to_string(),
                (_, None) => "missing".to_string(),
                (_, Some(c)) => format!(
                    "now {}, mlv.lock records {}",
                    c.short(),
                    n.hash.map(|h| h.short()).unwrap_or_default()
                ),
            };
            out.push(format!("{} ({why})", n.path));
        }
        if let Some(s) = &n.stage {
            for i in &s.inputs {
                walk(i, out);
            }
        }
    }
    walk(node, &mut out);
    out
}

/// Where imported data came from, in words: `imported from <url>` and, for a repository
/// import, `: <path> at <rev> (<commit>)`.
pub fn imported_from(source: &toml::Table) -> String {
    let field = |k: &str| source.get(k).and_then(|v| v.as_str()).unwrap_or_default();
    let mut out = format!("imported from {}", field("url"));
    let commit = field("commit");
    if !commit.is_empty() {
        out.push_str(&format!(
            ": {} at {} ({})",
            field("path"),
            field("rev"),
            &commit[..commit.len().min(10)]
        ));
    }
    out
}

/// Graphviz: inputs → stage → out.
pub fn to_dot(root: &Node) -> String {
    fn q(s: &str) -> String {
        format!(
            "\"{}\"",
            s.replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n")
        )
    }
    fn walk(n: &Node, lines: &mut Vec<String>) {
        let hash = n.hash.map(|h| h.short()).unwrap_or_default();
        let mut label = format!("{}\n{} ({})", n.path, hash, n.source);
        if let Some(source) = &n.imported {
            label.push_str(&format!("\n{}", imported_from(source)));
        }
        let style = if n.intact == Some(false) {
            ", color=red"
        } else {
            ""
        };
        lines.push(format!(
            "  {} [shape=box, label={}{style}];",
            q(&n.path),
            q(&label)
        ));
        if let Some(s) = &n.stage {
            let id = format!("stage:{}", s.name);
            lines.push(format!(
                "  {} [shape=ellipse, label={}];",
                q(&id),
                q(&format!("{}\n{}", s.name, s.cmd))
            ));
            lines.push(format!("  {} -> {};", q(&id), q(&n.path)));
            for i in &s.inputs {
                lines.push(format!("  {} -> {};", q(&i.path), q(&id)));
                walk(i, lines);
            }
        }
    }
    let mut lines = Vec::new();
    walk(root, &mut lines);
    let mut seen = std::collections::HashSet::new();
    lines.retain(|l| seen.insert(l.clone()));
    format!(
        "digraph lineage {{\n  rankdir=LR;\n{}\n}}\n",
        lines.join("\n")
    )
}
