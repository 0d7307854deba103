//! What git-mlv keeps about experiments that have no ref yet (queued, running, failed or
//! interrupted), beside the worktrees they run in: `<git common dir>/mlv/exps/`, with
//! `wt/<name>` the worktree and `state/<name>.json`, `.log` and `.lock` its record, the
//! output of its run, and the lock its runner holds (released by the kernel when the runner
//! dies, so a record that says `running` with a free lock was interrupted).

use super::Assignment;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Recorded, not started (`--queue`, or waiting for a free job).
    Queued,
    Running,
    /// Its run stopped with an error; the log says why.
    Failed,
    /// Marked running, but no process runs it (killed, or the machine stopped).
    Interrupted,
    /// Finished: a commit under `refs/mlv/exps/<name>` (no record is kept then).
    Done,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Running => "running",
            Status::Failed => "failed",
            Status::Interrupted => "interrupted",
            Status::Done => "done",
        }
    }
}

/// An experiment not finished: the commit it starts from and the params it sets.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Record {
    pub name: String,
    pub base: String,
    pub params: Vec<Assignment>,
    pub status: Status,
    /// Why a failed experiment failed, in one line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The folder of experiment state shared by every worktree of a clone.
pub struct Store {
    dir: PathBuf,
}

/// Held while an experiment runs; dropping it (or the process dying) frees it.
pub struct RunLock(#[allow(dead_code)] std::fs::File);

impl Store {
    /// The store of the clone whose shared git dir is `common_dir`.
    pub fn new(common_dir: &Path) -> Store {
        Store {
            dir: common_dir.join("mlv").join("exps"),
        }
    }

    /// Where the worktree of `name` is made.
    pub fn worktree(&self, name: &str) -> PathBuf {
        self.dir.join("wt").join(name)
    }

    /// The output of the run of `name` (kept when it fails).
    pub fn log(&self, name: &str) -> PathBuf {
        self.state(name, "log")
    }

    fn state(&self, name: &str, ext: &str) -> PathBuf {
        self.dir.join("state").join(format!("{name}.{ext}"))
    }

    pub fn save(&self, record: &Record) -> anyhow::Result<()> {
        let path = self.state(&record.name, "json");
        fs_err::create_dir_all(self.dir.join("state"))?;
        let text = serde_json::to_vec_pretty(record)?;
        crate::fsutil::write_atomic(&path, &text)
            .map_err(|e| anyhow::anyhow!("writing `{}`: {e}", path.display()))
    }

    /// Saves a new record, claiming its name: when another `exp run` took the name since
    /// it was checked, this one is refused rather than written over.
    pub fn create(&self, record: &Record) -> anyhow::Result<()> {
        let dir = self.dir.join("state");
        let mut tmp = crate::fsutil::temp_file_in(&dir, crate::fsutil::TEMP_PREFIX, 0o644)?;
        std::io::Write::write_all(&mut tmp, &serde_json::to_vec_pretty(record)?)?;
        match tmp.persist_noclobber(self.state(&record.name, "json")) {
            Ok(_) => Ok(()),
            Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(super::ExperimentError::Exists(record.name.clone()).into())
            }
            Err(e) => Err(e.error.into()),
        }
    }

    /// The record of `name`, if one is kept, with `running` turned into `interrupted`
    /// when no process holds its lock.
    pub fn load(&self, name: &str) -> anyhow::Result<Option<Record>> {
        let path = self.state(name, "json");
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(anyhow::anyhow!("reading `{}`: {e}", path.display())),
        };
        let mut record: Record = serde_json::from_slice(&bytes).map_err(|e| {
            anyhow::anyhow!("experiment record `{}` is damaged: {e}", path.display())
        })?;
        if record.status == Status::Running && self.try_lock(name)?.is_some() {
            record.status = Status::Interrupted;
        }
        Ok(Some(record))
    }

    /// Every record kept, sorted by name.
    pub fn list(&self) -> anyhow::Result<Vec<Record>> {
        let mut out = Vec::new();
        let entries = match fs_err::read_dir(self.dir.join("state")) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e.into()),
        };
        for entry in entries {
            let file = entry?.file_name();
            let Some(name) = file.to_str().and_then(|f| f.strip_suffix(".json")) else {
                continue;
            };
            if super::check_name(name).is_ok()
                && let Some(r) = self.load(name)?
            {
                out.push(r);
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// The run lock of `name`, or `None` when another process holds it.
    pub fn try_lock(&self, name: &str) -> anyhow::Result<Option<RunLock>> {
        fs_err::create_dir_all(self.dir.join("state"))?;
        let file = fs_err::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.state(name, "lock"))?
            .into_parts()
            .0;
        match file.try_lock() {
            Ok(()) => Ok(Some(RunLock(file))),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
        }
    }

    /// Held while a worktree is added or removed, waiting for another holder: the `git
    /// worktree prune` after a removal must not see a worktree another runner is adding.
    pub fn lock_worktrees(&self) -> anyhow::Result<RunLock> {
        fs_err::create_dir_all(&self.dir)?;
        let file = fs_err::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join("worktrees.lock"))?
            .into_parts()
            .0;
        file.lock()?;
        Ok(RunLock(file))
    }

    /// Forgets the record, log and lock of `name` (its worktree is git's to remove).
    pub fn forget(&self, name: &str) -> anyhow::Result<()> {
        for ext in ["json", "log", "lock"] {
            match fs_err::remove_file(self.state(name, ext)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                _ => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_claimed_once_and_a_free_lock_reads_interrupted() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let mut r = Record {
            name: "a".into(),
            base: "0".repeat(40),
            params: Vec::new(),
            status: Status::Queued,
            error: None,
        };
        store.create(&r).unwrap();
        assert!(store.create(&r).is_err(), "a second claim of `a`");
        r.status = Status::Running;
        store.save(&r).unwrap();
        let held = store.try_lock("a").unwrap().unwrap();
        assert_eq!(store.load("a").unwrap().unwrap().status, Status::Running);
        drop(held);
        assert_eq!(store.list().unwrap()[0].status, Status::Interrupted);
        store.forget("a").unwrap();
        assert!(store.list().unwrap().is_empty());
    }
}
