//! Reading another repository without cloning it: a bare repository on this machine that
//! caches the trees of its commits, filled one commit at a time by a shallow fetch through
//! the git binary.

use super::{GitError, GitRepo};

/// How a shallow fetch of another repository ended, when it did not bring the commit.
#[derive(Debug)]
pub enum FetchFailure {
    /// The repository has no such branch, tag or commit.
    NoRevision(String),
    /// The URL names no repository that git could read.
    NoRepository(String),
    /// Anything else git said (network, permissions): the operation failed.
    Other(GitError),
}

impl GitRepo {
    /// Opens (creating it when missing) the bare repository at `dir` that caches the trees
    /// of another repository's commits.
    pub fn open_bare(dir: &std::path::Path) -> Result<GitRepo, GitError> {
        if !dir.join("HEAD").exists() {
            fs_err::create_dir_all(dir).map_err(|e| GitError::Command {
                command: "init --bare".into(),
                reason: e.to_string(),
                started: false,
            })?;
            let out = std::process::Command::new("git")
                .args(["init", "-q", "--bare"])
                .arg(dir)
                .output()
                .map_err(|e| GitError::Command {
                    command: "init --bare".into(),
                    reason: e.to_string(),
                    started: false,
                })?;
            if !out.status.success() {
                return Err(GitError::Command {
                    command: format!("init --bare {}", dir.display()),
                    reason: String::from_utf8_lossy(&out.stderr).trim().to_string(),
                    started: true,
                });
            }
        }
        let repo = gix::open(dir).map_err(|_| GitError::NotARepo(dir.to_path_buf()))?;
        Ok(GitRepo { repo })
    }

    /// Fetches only the commit `rev` names in the repository at `url` (`--depth 1`, no tags,
    /// no history) and returns its full id. `url` and `rev` were checked not to start with
    /// `-`, so git reads neither as an option.
    pub fn fetch_shallow(&self, url: &str, rev: &str) -> Result<String, FetchFailure> {
        let args = [
            "-c",
            "protocol.version=2",
            "fetch",
            "-q",
            "--depth",
            "1",
            "--no-tags",
            "--no-write-fetch-head",
            url,
            &format!("+{rev}:refs/mlv/fetched"),
        ];
        let out = self.git_output(&args, &[]).map_err(FetchFailure::Other)?;
        if !out.status.success() {
            let said = String::from_utf8_lossy(&out.stderr).trim().to_string();
            let lower = said.to_lowercase();
            return Err(
                if lower.contains("couldn't find remote ref")
                    || lower.contains("not our ref")
                    || lower.contains("invalid refspec")
                    || lower.contains("is not a valid")
                {
                    FetchFailure::NoRevision(said)
                } else if lower.contains("does not appear to be a git repository")
                    || lower.contains("not found")
                    || lower.contains("no such file")
                {
                    FetchFailure::NoRepository(said)
                } else {
                    FetchFailure::Other(GitError::Command {
                        command: format!("fetch --depth 1 {url} {rev}"),
                        reason: said,
                        started: true,
                    })
                },
            );
        }
        self.resolve_commit("refs/mlv/fetched")
            .map_err(FetchFailure::Other)
    }
}
