//! The pointer file `<path>.mlv`: the small TOML text committed to git in place of the data.

use crate::hash::Hash;
use crate::problem::{Hinted, Kind};
use std::path::{Path, PathBuf};

/// The suffix of pointer files.
pub const EXT: &str = ".mlv";
/// The pointer format this build reads and writes.
pub const VERSION: i64 = 1;
const HEADER: &str = "# git-mlv pointer: the bytes live in the git-mlv cache and remotes\n";
/// The table that says where imported data came from.
const SOURCE: &str = "source";
const KNOWN: [&str; 5] = ["version", "hash", "size", "kind", "files"];

#[derive(Debug, thiserror::Error)]
pub enum PointerError {
    #[error("pointer `{path}` is not valid: {reason}")]
    Invalid { path: PathBuf, reason: String },
    /// A pointer committed at a revision: history is not rewritten, so the hint says how to
    /// look at it and fix it in a new commit.
    #[error("pointer `{path}` committed at `{rev}` is not valid: {reason}")]
    InvalidAt {
        rev: String,
        path: String,
        reason: String,
    },
    #[error(
        "pointer `{path}` has format version {version}, newer than this git-mlv understands ({VERSION})"
    )]
    Newer { path: PathBuf, version: i64 },
    #[error("reading pointer `{path}`")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A pointer git-mlv cannot use is the request's fault: it names bad data.
impl Hinted for PointerError {
    fn kind(&self) -> Kind {
        Kind::Usage
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            PointerError::Invalid { path, .. } => format!(
                "restore the committed one with `git checkout -- {}`, or re-add the data with `git mlv add {}` (it replaces the damaged pointer)",
                path.display(),
                data_path(path)
            ),
            PointerError::InvalidAt { rev, path, .. } => format!(
                "look at it with `git show {rev}:{path}`; commit a good one (e.g. `git checkout <good-commit> -- {path}`, or `git mlv add` the data), or use another revision"
            ),
            PointerError::Newer { .. } => "upgrade git-mlv".into(),
            PointerError::Io { .. } => return None,
        })
    }
}

/// The data path a pointer file stands for (`a.txt.mlv` -> `a.txt`), for hints.
fn data_path(pointer: &Path) -> String {
    let shown = pointer.display().to_string();
    shown.strip_suffix(EXT).unwrap_or(&shown).to_string()
}

/// What a pointer says: the hash and size of a file, or of a directory's manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Pointer {
    pub hash: Hash,
    pub size: u64,
    /// `Some(file count)` for a directory.
    pub files: Option<u64>,
    /// Fields this version does not know, kept on rewrite.
    extra: toml::Table,
}

impl Pointer {
    pub fn file(hash: Hash, size: u64) -> Self {
        Pointer {
            hash,
            size,
            files: None,
            extra: toml::Table::new(),
        }
    }

    pub fn dir(hash: Hash, size: u64, files: u64) -> Self {
        Pointer {
            hash,
            size,
            files: Some(files),
            extra: toml::Table::new(),
        }
    }

    pub fn is_dir(&self) -> bool {
        self.files.is_some()
    }

    /// Keeps the unknown fields of the pointer this one replaces.
    pub fn keeping_extra_of(mut self, old: &Pointer) -> Self {
        self.extra = old.extra.clone();
        self
    }

    /// The `[source]` table of imported data (see `ops::external::Origin`), if any.
    pub fn source(&self) -> Option<&toml::Table> {
        self.extra.get(SOURCE).and_then(toml::Value::as_table)
    }

    /// A string field of the `[source]` table (`url`, `rev`, `commit`, `path`).
    pub fn source_field(&self, key: &str) -> Option<&str> {
        self.source()?.get(key)?.as_str()
    }

    /// Forgets where the data came from: data changed here is no import any more.
    pub fn without_source(mut self) -> Self {
        self.extra.remove(SOURCE);
        self
    }

    /// Records where imported data came from, as the `[source]` table.
    pub fn with_source(mut self, source: toml::Table) -> Self {
        self.extra.insert(SOURCE.into(), toml::Value::Table(source));
        self
    }

    pub fn parse(text: &str, path: &Path) -> Result<Self, PointerError> {
        let invalid = |reason: String| PointerError::Invalid {
            path: path.to_path_buf(),
            reason,
        };
        let mut table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| invalid(e.message().to_string()))?;
        let version = match table.get("version") {
            Some(toml::Value::Integer(v)) => *v,
            Some(_) => return Err(invalid("`version` is not an integer".into())),
            None => return Err(invalid("`version` is missing".into())),
        };
        if version > VERSION {
            return Err(PointerError::Newer {
                path: path.to_path_buf(),
                version,
            });
        }
        if version < 1 {
            return Err(invalid(format!("unknown version {version}")));
        }
        let hash = match table.get("hash") {
            Some(toml::Value::String(s)) => {
                s.parse::<Hash>().map_err(|e| invalid(e.to_string()))?
            }
            _ => return Err(invalid("`hash` is missing or not a string".into())),
        };
        let size = match table.get("size") {
            Some(toml::Value::Integer(n)) if *n >= 0 => *n as u64,
            _ => {
                return Err(invalid(
                    "`size` is missing or not a non-negative integer".into(),
                ));
            }
        };
        let files = match (table.get("kind"), table.get("files")) {
            (None, None) => None,
            (Some(toml::Value::String(k)), Some(toml::Value::Integer(n)))
                if k == "dir" && *n >= 0 =>
            {
                Some(*n as u64)
            }
            (Some(toml::Value::String(k)), None) if k == "file" => None,
            _ => return Err(invalid("`kind = \"dir\"` needs `files = <count>`".into())),
        };
        for k in KNOWN {
            table.remove(k);
        }
        Ok(Pointer {
            hash,
            size,
            files,
            extra: table,
        })
    }

    /// Parses the pointer `path` as committed at `rev` (read from git's object database).
    pub fn parse_at(text: &str, rev: &str, path: &str) -> Result<Self, PointerError> {
        Self::parse(text, Path::new(&format!("{rev}:{path}"))).map_err(|e| match e {
            PointerError::Invalid { reason, .. } => PointerError::InvalidAt {
                rev: rev.to_string(),
                path: path.to_string(),
                reason,
            },
            e => e,
        })
    }

    pub fn load(path: &Path) -> Result<Self, PointerError> {
        let text = std::fs::read_to_string(path).map_err(|source| match source.kind() {
            std::io::ErrorKind::InvalidData => PointerError::Invalid {
                path: path.to_path_buf(),
                reason: "not UTF-8 text".into(),
            },
            _ => PointerError::Io {
                path: path.to_path_buf(),
                source,
            },
        })?;
        Self::parse(&text, path)
    }

    /// The exact bytes of the pointer: stable field order, unknown fields last.
    pub fn render(&self) -> String {
        let mut out = format!(
            "{HEADER}version = {VERSION}\nhash = \"{}\"\nsize = {}\n",
            self.hash, self.size
        );
        if let Some(files) = self.files {
            out.push_str(&format!("kind = \"dir\"\nfiles = {files}\n"));
        }
        if !self.extra.is_empty() {
            out.push_str(&toml::to_string(&self.extra).expect("a parsed TOML table serializes"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_unknown_fields_in_order() {
        let h = Hash::of(b"x");
        let text = format!("version = 1\nhash = \"{h}\"\nsize = 1\nowner = \"ml-team\"\n");
        let p = Pointer::parse(&text, Path::new("a.mlv")).unwrap();
        let out = p.render();
        assert!(out.starts_with(HEADER));
        assert!(out.ends_with("size = 1\nowner = \"ml-team\"\n"), "{out}");
        assert_eq!(Pointer::parse(&out, Path::new("a.mlv")).unwrap(), p);
    }

    #[test]
    fn dir_pointer_has_kind_and_files() {
        let p = Pointer::dir(Hash::of(b"m"), 10, 3);
        let out = p.render();
        assert!(out.contains("kind = \"dir\"\nfiles = 3\n"));
        assert_eq!(
            Pointer::parse(&out, Path::new("d.mlv")).unwrap().files,
            Some(3)
        );
    }

    #[test]
    fn newer_and_corrupt_pointers_are_refused() {
        let h = Hash::of(b"x");
        let newer = format!("version = 2\nhash = \"{h}\"\nsize = 1\n");
        assert!(matches!(
            Pointer::parse(&newer, Path::new("a")),
            Err(PointerError::Newer { .. })
        ));
        for bad in [
            "",
            "version = 1\nhash = \"b3:00\"\nsize = 1\n",
            "version = 1\nhash = \"",
            "garbage",
        ] {
            assert!(
                matches!(
                    Pointer::parse(bad, Path::new("a")),
                    Err(PointerError::Invalid { .. })
                ),
                "{bad}"
            );
        }
    }
}
