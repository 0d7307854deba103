//! `mlv.lock` at the repository root: what each stage last ran with. TOML with sorted maps,
//! so the same run always writes the same bytes and diffs in git stay small.

use crate::gitx::Source;
use crate::hash::Hash;
use crate::problem::{Hinted, Kind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const FILE: &str = "mlv.lock";
const VERSION: u32 = 1;
const HEADER: &str = "# git-mlv lock file: what each stage of mlv.toml last ran with.\n# Written by `git mlv run`; commit it, do not edit it.\n";

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("`{path}` is not a valid lock file: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error(
        "`{path}` was written by a newer git-mlv (lock version {version}); this one reads version {VERSION}"
    )]
    Newer { path: PathBuf, version: u32 },
    #[error("reading `{path}`")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A lock file git-mlv cannot read is the request's fault; failing to read it is not.
impl Hinted for LockError {
    fn kind(&self) -> Kind {
        match self {
            LockError::Invalid { .. } | LockError::Newer { .. } => Kind::Usage,
            LockError::Io { .. } => Kind::Failed,
        }
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            LockError::Invalid { .. } => "restore it with `git checkout -- mlv.lock`, or delete it and run `git mlv run` to write it again",
            LockError::Newer { .. } => "upgrade git-mlv",
            LockError::Io { .. } => return None,
        }.into())
    }
}

/// Parameter values of one params file, by dotted key.
pub type ParamValues = BTreeMap<String, toml::Value>;

/// An out as recorded: what its pointer says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutEntry {
    pub hash: Hash,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<u64>,
}

/// One stage's last run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageLock {
    pub cmd: String,
    /// Dep path → content hash (a directory by its manifest's hash).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub deps: BTreeMap<String, Hash>,
    /// Params file → dotted key → value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, ParamValues>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub outs: BTreeMap<String, OutEntry>,
    /// Metrics file → hash of its bytes (the bytes are in the cache too).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, Hash>,
}

impl StageLock {
    /// The recorded hash of an out or metrics file at `path`.
    pub fn product(&self, path: &str) -> Option<Hash> {
        self.outs
            .get(path)
            .map(|o| o.hash)
            .or_else(|| self.metrics.get(path).copied())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockFile {
    pub version: u32,
    #[serde(default)]
    pub stages: BTreeMap<String, StageLock>,
}

impl LockFile {
    /// Reads `mlv.lock` from the work tree at `root`; absent means no stage ran yet.
    pub fn load(root: &Path) -> anyhow::Result<LockFile> {
        LockFile::read(Source::WorkTree(root))
    }

    /// Reads `mlv.lock` as committed at `rev`; a commit without one ran no stage.
    pub fn load_at(git: &crate::gitx::GitRepo, rev: &str) -> anyhow::Result<LockFile> {
        LockFile::read(Source::Rev(git, rev))
    }

    /// Reads `mlv.lock` from `src`; where there is none, no stage ran.
    pub fn read(src: Source) -> anyhow::Result<LockFile> {
        let bytes = src
            .read(FILE)
            .map_err(|e| e.or_io(|path, source| LockError::Io { path, source }))?;
        Ok(match bytes {
            Some(b) => LockFile::parse(&String::from_utf8_lossy(&b), &src.shown(FILE))?,
            None => LockFile::default(),
        })
    }

    pub fn parse(text: &str, shown: &Path) -> Result<LockFile, LockError> {
        let lock: LockFile = toml::from_str(text).map_err(|e| LockError::Invalid {
            path: shown.to_path_buf(),
            reason: e.message().to_string(),
        })?;
        if lock.version > VERSION {
            return Err(LockError::Newer {
                path: shown.to_path_buf(),
                version: lock.version,
            });
        }
        Ok(lock)
    }

    pub fn render(&self) -> String {
        let lock = LockFile {
            version: VERSION,
            stages: self.stages.clone(),
        };
        let body = toml::to_string(&lock).expect("lock values are plain TOML");
        format!("{HEADER}{body}")
    }

    /// Writes the lock atomically: a crash leaves the old file or the new one, never half.
    pub fn save(&self, root: &Path) -> std::io::Result<()> {
        crate::fsutil::write_atomic(&root.join(FILE), self.render().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_sorted_and_reads_back() {
        let mut lock = LockFile::default();
        let h = Hash::of(b"x");
        let mut params = BTreeMap::new();
        params.insert(
            "params.toml".to_string(),
            BTreeMap::from([
                ("train.seed".to_string(), toml::Value::Integer(1)),
                ("train.c".to_string(), toml::Value::Float(0.5)),
            ]),
        );
        lock.stages.insert(
            "train".into(),
            StageLock {
                cmd: "python train.py".into(),
                deps: BTreeMap::from([("z".into(), h), ("a".into(), h)]),
                params,
                outs: BTreeMap::from([(
                    "model.pkl".into(),
                    OutEntry {
                        hash: h,
                        size: 1,
                        files: None,
                    },
                )]),
                metrics: BTreeMap::from([("metrics.json".into(), h)]),
            },
        );
        let text = lock.render();
        assert!(text.find("\"train.c\"").unwrap() < text.find("\"train.seed\"").unwrap());
        assert!(text.find("a = ").unwrap() < text.find("z = ").unwrap());
        let back = LockFile::parse(&text, Path::new(FILE)).unwrap();
        assert_eq!(back.stages, lock.stages);
        assert_eq!(back.render(), text);
        assert!(matches!(
            LockFile::parse("version = 9\n", Path::new(FILE)),
            Err(LockError::Newer { .. })
        ));
    }
}
