//! The few things git-mlv asks the git binary rather than gix: what git hands a hook as it
//! sees it (`GIT_INDEX_FILE`, `core.hooksPath`), rev-list ranges and logs, the worktree and
//! stash lists, for-each-ref listings, and creating tags.

use super::{CommittedFile, GitError, GitRepo};
use std::path::PathBuf;

impl GitRepo {
    /// Runs the git binary in this repository (for what hooks hand over as git sees it:
    /// `GIT_INDEX_FILE`, `core.hooksPath`, rev-list ranges) and returns its stdout.
    pub(super) fn git(&self, args: &[&str]) -> Result<String, GitError> {
        let out = self.git_output(args, &[])?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
            return Err(GitError::Command {
                command: args.join(" "),
                reason: match stderr.is_empty() {
                    true => out.status.to_string(),
                    false => stderr,
                },
                started: true,
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Runs the git binary with `env` added and returns what it did, whatever its exit
    /// status: the one place git-mlv starts git.
    pub(super) fn git_output(
        &self,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Result<std::process::Output, GitError> {
        let dir = self.repo.workdir().unwrap_or(self.repo.git_dir());
        std::process::Command::new("git")
            .args(args)
            .envs(env.iter().copied())
            .current_dir(dir)
            .output()
            .map_err(|e| GitError::Command {
                command: args.join(" "),
                reason: e.to_string(),
                started: false,
            })
    }

    /// Where git runs hooks from (`git rev-parse --git-path hooks`, so `core.hooksPath` counts).
    pub fn hooks_dir(&self) -> Result<PathBuf, GitError> {
        let p = PathBuf::from(self.git(&["rev-parse", "--git-path", "hooks"])?.trim());
        let dir = self.repo.workdir().unwrap_or(self.repo.git_dir());
        Ok(if p.is_absolute() { p } else { dir.join(p) })
    }

    /// The commits a push of `local` sends that the remote does not have: reachable from
    /// `local` but not from `remote_sha` (when known) nor from the remote's tracking refs.
    pub fn commits_to_push(
        &self,
        local: &str,
        remote_sha: Option<&str>,
        remote: &str,
    ) -> Result<Vec<String>, GitError> {
        let mut args = vec![
            "rev-list".to_string(),
            local.to_string(),
            "--not".to_string(),
            format!("--remotes={remote}"),
        ];
        if let Some(r) = remote_sha.filter(|r| self.repo.rev_parse_single(*r).is_ok()) {
            args.push(r.to_string());
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        Ok(self.git(&refs)?.lines().map(str::to_owned).collect())
    }

    /// Staged paths (added or modified) in the index git hands a hook, with their blob sizes.
    pub fn staged(&self) -> Result<Vec<(String, u64)>, GitError> {
        let names = self.git(&["diff", "--cached", "--name-only", "--diff-filter=AM", "-z"])?;
        let mut out = Vec::new();
        for name in names.split('\0').filter(|n| !n.is_empty()) {
            let size = self
                .git(&["cat-file", "-s", &format!(":{name}")])?
                .trim()
                .parse()
                .unwrap_or(0);
            out.push((name.to_string(), size));
        }
        Ok(out)
    }

    /// The last commit reachable from `rev` that changed `path`, or `None` when none did.
    pub fn last_change(&self, rev: &str, path: &str) -> Result<Option<CommitInfo>, GitError> {
        let out = self.git(&["log", "-1", "--format=%H%x00%cs%x00%s", rev, "--", path])?;
        let mut parts = out.trim_end_matches('\n').splitn(3, '\0');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(id), Some(date), Some(summary)) if !id.is_empty() => Ok(Some(CommitInfo {
                id: id.to_string(),
                date: date.to_string(),
                summary: summary.to_string(),
            })),
            _ => Ok(None),
        }
    }

    /// The staged bytes of a path, or `None` when the index has no such file.
    pub(super) fn staged_bytes(&self, path: &str) -> Result<Option<Vec<u8>>, GitError> {
        let out = self.git_output(&["cat-file", "blob", &format!(":{path}")], &[])?;
        Ok(out.status.success().then_some(out.stdout))
    }
}

/// A commit as lineage shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CommitInfo {
    pub id: String,
    /// Committer date, `YYYY-MM-DD`.
    pub date: String,
    pub summary: String,
}

/// What garbage collection must keep: the commits whose pointers are roots, and the
/// worktrees whose work trees and indexes are.
pub struct GcRoots {
    pub commits: Vec<String>,
    pub worktrees: Vec<PathBuf>,
    /// Worktrees git still lists whose folder is gone (deleted without `git worktree
    /// prune`): their HEAD is among `commits`, their work tree and index cannot be read.
    pub missing_worktrees: Vec<PathBuf>,
}

impl GitRepo {
    /// The roots: the commit of every ref under `refs/` (branches, remote-tracking branches,
    /// tags, and any other ref a tool keeps, such as `refs/notes` or experiments), every
    /// worktree's HEAD and every stash entry (with `all_commits`, every commit reachable
    /// from them). Refs at trees or blobs hold no pointers and are passed over. Reflogs
    /// are not roots.
    pub fn gc_roots(&self, all_commits: bool) -> Result<GcRoots, GitError> {
        let mut worktrees = Vec::new();
        let mut missing_worktrees = Vec::new();
        let mut commits = Vec::new();
        // One stanza per worktree, separated by blank lines; `prunable` marks one whose
        // folder git can no longer find.
        for stanza in self
            .git(&["worktree", "list", "--porcelain"])?
            .split("\n\n")
        {
            let mut path = None;
            let mut prunable = false;
            for line in stanza.lines() {
                if let Some(p) = line.strip_prefix("worktree ") {
                    path = Some(PathBuf::from(p));
                } else if let Some(h) = line.strip_prefix("HEAD ") {
                    commits.push(h.to_string());
                } else if line == "prunable" || line.starts_with("prunable ") {
                    prunable = true;
                }
            }
            match path {
                Some(p) if prunable || !p.is_dir() => missing_worktrees.push(p),
                Some(p) => worktrees.push(p),
                None => {}
            }
        }
        commits.extend(
            self.git(&["stash", "list", "--format=%H"])?
                .lines()
                .map(str::to_owned),
        );
        let refs = self.git(&[
            "for-each-ref",
            "--format=%(objecttype) %(objectname)",
            "refs/",
        ])?;
        for line in refs.lines() {
            match line.split_once(' ') {
                Some(("commit", id)) => commits.push(id.to_string()),
                // A tag, peeled (through tags of tags) to the commit it names, if any.
                Some(("tag", id)) => {
                    if let Ok(c) = self.commit(id) {
                        commits.push(c.id.to_string());
                    }
                }
                _ => {}
            }
        }
        if all_commits {
            let mut args = vec!["rev-list".to_string()];
            args.extend(commits.iter().cloned());
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            if refs.len() > 1 {
                commits.extend(self.git(&refs)?.lines().map(str::to_owned));
            }
        }
        commits.sort();
        commits.dedup();
        Ok(GcRoots {
            commits,
            worktrees,
            missing_worktrees,
        })
    }

    /// The pointer files staged in the index of the worktree at `worktree`.
    pub fn indexed_pointers(
        &self,
        worktree: &std::path::Path,
        suffix: &str,
    ) -> Result<Vec<CommittedFile>, GitError> {
        let wt = worktree.display().to_string();
        let listing = self.git(&["-C", &wt, "ls-files", "-s", "-z"])?;
        let mut out = Vec::new();
        for entry in listing.split('\0').filter(|e| !e.is_empty()) {
            let Some((meta, path)) = entry.split_once('\t') else {
                continue;
            };
            if !path.ends_with(suffix) {
                continue;
            }
            let Some(sha) = meta.split_whitespace().nth(1) else {
                continue;
            };
            out.push(CommittedFile {
                path: path.to_string(),
                data: self.git(&["cat-file", "blob", sha])?.into_bytes(),
            });
        }
        Ok(out)
    }
}

impl GitRepo {
    /// The commits `push`/`fetch` selectors name: tips of local branches, tips of tags, or
    /// every commit reachable from any ref.
    pub fn selector_commits(
        &self,
        branches: bool,
        tags: bool,
        all_commits: bool,
    ) -> Result<Vec<String>, GitError> {
        let mut out = Vec::new();
        if branches {
            out.extend(
                self.git(&["for-each-ref", "--format=%(objectname)", "refs/heads"])?
                    .lines()
                    .map(str::to_owned),
            );
        }
        if tags {
            out.extend(
                self.git(&["for-each-ref", "--format=%(objectname)", "refs/tags"])?
                    .lines()
                    .map(str::to_owned),
            );
        }
        if all_commits {
            out.extend(self.git(&["rev-list", "--all"])?.lines().map(str::to_owned));
        }
        out.sort();
        out.dedup();
        Ok(out)
    }
}

/// An annotated tag: its name, the commit it points at and its tagger time. Lightweight
/// tags are left out, as GTO leaves them out of the registry.
#[derive(Debug, Clone)]
pub struct AnnotatedTag {
    pub name: String,
    pub commit: String,
    /// Tagger time, seconds since the epoch.
    pub time: i64,
}

impl GitRepo {
    /// Every annotated tag that points (directly) at a commit.
    pub fn annotated_tags(&self) -> Result<Vec<AnnotatedTag>, GitError> {
        let listing = self.git(&[
            "for-each-ref",
            "--format=%(objecttype)%00%(*objecttype)%00%(*objectname)%00%(taggerdate:unix)%00%(refname:strip=2)",
            "refs/tags",
        ])?;
        Ok(listing
            .lines()
            .filter_map(|line| {
                let mut f = line.splitn(5, '\0');
                let (kind, peeled_kind, commit, time, name) =
                    (f.next()?, f.next()?, f.next()?, f.next()?, f.next()?);
                (kind == "tag" && peeled_kind == "commit").then(|| AnnotatedTag {
                    name: name.to_string(),
                    commit: commit.to_string(),
                    time: time.parse().unwrap_or(0),
                })
            })
            .collect())
    }

    /// Creates the annotated tag `name` on `commit` with tagger time `time` (seconds since
    /// the epoch, UTC) and `message` stored as given (a line starting with `#` is not a
    /// comment to strip); refuses to replace an existing tag.
    pub fn create_tag(
        &self,
        name: &str,
        commit: &str,
        message: &str,
        time: i64,
    ) -> Result<(), GitError> {
        let date = format!("@{time} +0000");
        let message = format!("{}\n", message.trim_end());
        let out = self
            .git_output(
                // The option last keeps `tag -a -m <message> <name> <commit>` where
                // wrappers of git (and a test's racing one) look for them.
                &[
                    "tag",
                    "-a",
                    "-m",
                    &message,
                    name,
                    commit,
                    "--cleanup=verbatim",
                ],
                &[("GIT_COMMITTER_DATE", &date)],
            )
            // The message can be long: the error names the tag and commit only.
            .map_err(|e| match e {
                GitError::Command {
                    reason, started, ..
                } => GitError::Command {
                    command: format!("tag -a {name} {commit}"),
                    reason,
                    started,
                },
                other => other,
            })?;
        if !out.status.success() {
            return Err(GitError::Tag {
                name: name.to_string(),
                reason: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        Ok(())
    }
}

/// The version of the git on `PATH` (`git --version` without its `git version ` prefix);
/// needs no repository, so `doctor` reports it anywhere.
pub fn version() -> Result<String, GitError> {
    let failed = |reason: String, started| GitError::Command {
        command: "--version".into(),
        reason,
        started,
    };
    let out = std::process::Command::new("git")
        .arg("--version")
        .output()
        .map_err(|e| failed(e.to_string(), false))?;
    if !out.status.success() {
        return Err(failed(out.status.to_string(), true));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let text = text.trim();
    Ok(text
        .strip_prefix("git version ")
        .unwrap_or(text)
        .to_string())
}
