//! A directory's manifest: the canonical listing of its files (path, hash, size, executable
//! bit), stored as an object in the cache like any file. Canonical so equal directories get
//! equal hashes; JSON because a 20,000-entry listing then parses in milliseconds.

use crate::cache::{Cache, CacheError};
use crate::hash::Hash;
use crate::problem::{Hinted, Kind};
use serde::{Deserialize, Serialize};

/// The manifest format this build reads and writes.
pub const VERSION: u32 = 1;
const FORMAT: &str = "git-mlv-manifest";

mod stream;
pub use stream::Totals;

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("manifest {hash} is not valid: {reason}")]
    Invalid { hash: String, reason: String },
    #[error(
        "manifest {hash} has format version {version}, newer than this git-mlv understands ({VERSION})"
    )]
    Newer { hash: String, version: u32 },
    #[error("manifest {hash} lists `{path}`, inside a `.git` folder; git-mlv never writes there")]
    Reserved { hash: String, path: String },
}

/// A manifest git-mlv cannot use is the request's fault: a pointer names bad data.
impl Hinted for ManifestError {
    fn kind(&self) -> Kind {
        Kind::Usage
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            ManifestError::Invalid { .. } => {
                "the cache object may be damaged; run `git mlv fsck`"
            }
            ManifestError::Newer { .. } => "upgrade git-mlv",
            ManifestError::Reserved { .. } => {
                "the directory's pointer was made by hand or by a hostile commit: remove it from git with `git rm --cached <directory>.mlv` and commit"
            }
        }
        .into())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Relative, `/`-separated, never absolute, never with `.` or `..` segments.
    pub path: String,
    pub hash: Hash,
    pub size: u64,
    pub exec: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Manifest {
    entries: Vec<Entry>,
}

impl Manifest {
    /// Builds a manifest, sorting entries by the bytes of their path.
    pub fn new(mut entries: Vec<Entry>) -> Self {
        entries.sort_unstable_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
        Manifest { entries }
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn total_size(&self) -> u64 {
        self.entries.iter().map(|e| e.size).sum()
    }

    /// The entry for a relative path, by binary search over the sorted entries.
    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.entries
            .binary_search_by(|e| e.path.as_bytes().cmp(path.as_bytes()))
            .ok()
            .map(|i| &self.entries[i])
    }

    /// The canonical bytes: compact JSON, fields in fixed order, one trailing newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        bytes_of_sorted(self.entries.iter().map(|e| EntryRef {
            path: &e.path,
            hash: &e.hash,
            size: e.size,
            exec: e.exec,
        }))
    }

    /// Parses and validates a manifest object; `hash` names it in errors.
    pub fn from_bytes(bytes: &[u8], hash: &Hash) -> Result<Self, ManifestError> {
        let mut entries = Vec::new();
        let de = &mut serde_json::Deserializer::from_slice(bytes);
        stream::parse(de, hash, |e| entries.push(e))?;
        Ok(Manifest { entries })
    }

    /// Reads the manifest object `hash` from the cache, parsing it as it streams (its
    /// bytes, 130 MB at a million files, are never held whole) and checking every byte
    /// against the hash. The outer error is the cache's (missing, damaged: then whatever
    /// the parse said does not count), the inner one the manifest's.
    pub fn read_cached(
        cache: &Cache,
        hash: &Hash,
    ) -> Result<Result<Self, ManifestError>, CacheError> {
        let mut entries = Vec::new();
        let parsed = Self::stream_cached(cache, hash, |e| entries.push(e))?;
        Ok(parsed.map(|_| Manifest { entries }))
    }
}

/// One entry as `Entry` serializes it, borrowing its path (any value that serializes as
/// the path's string) and hash.
#[derive(Serialize)]
pub struct EntryRef<'a, P: Serialize = &'a str> {
    pub path: P,
    pub hash: &'a Hash,
    pub size: u64,
    pub exec: bool,
}

/// The canonical bytes of the manifest of `entries`, which come sorted by the bytes of
/// their path, without building it: a million owned entries were 90 MB next to the bytes.
pub fn bytes_of_sorted<'a, P: Serialize>(
    entries: impl Iterator<Item = EntryRef<'a, P>>,
) -> Vec<u8> {
    let mut out = Vec::new();
    write_sorted(&mut out, entries).expect("a Vec takes every write");
    out
}

/// The hash of `bytes_of_sorted(entries)`, streamed: no copy of the bytes is held.
pub fn hash_of_sorted<'a, P: Serialize>(entries: impl Iterator<Item = EntryRef<'a, P>>) -> Hash {
    let mut h = blake3::Hasher::new();
    let mut w = std::io::BufWriter::with_capacity(1 << 16, &mut h);
    write_sorted(&mut w, entries).expect("a hasher takes every write");
    drop(w);
    Hash::from_bytes(*h.finalize().as_bytes())
}

/// Writes `bytes_of_sorted(entries)` to `w` as it goes: `add` streams a million-entry
/// manifest (about 130 MB of JSON) into the cache instead of holding it.
pub fn write_sorted<'a, P: Serialize>(
    w: &mut (impl std::io::Write + ?Sized),
    entries: impl Iterator<Item = EntryRef<'a, P>>,
) -> std::io::Result<()> {
    #[derive(Serialize)]
    struct Doc<'a, S: Serialize> {
        format: &'a str,
        version: u32,
        entries: S,
    }
    struct Seq<I>(std::cell::Cell<Option<I>>);
    impl<'a, P: Serialize, I: Iterator<Item = EntryRef<'a, P>>> Serialize for Seq<I> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(self.0.take().into_iter().flatten())
        }
    }
    let doc = Doc {
        format: FORMAT,
        version: VERSION,
        entries: Seq(std::cell::Cell::new(Some(entries))),
    };
    serde_json::to_writer(&mut *w, &doc).map_err(std::io::Error::other)?;
    w.write_all(b"\n")?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_streamed_manifest_is_checked_against_its_hash() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = Cache::open(&tmp.path().join("cache"), false).unwrap();
        let manifest = Manifest::new(vec![entry("b"), entry("a")]);
        let hash = cache.insert_bytes(&manifest.to_bytes()).unwrap();
        assert_eq!(
            Manifest::read_cached(&cache, &hash).unwrap().unwrap(),
            manifest
        );
        // Damaged: still valid JSON, one byte of a path changed.
        let path = cache.object_path(&hash);
        let mut perms = std::fs::metadata(&path).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perms.set_readonly(false);
        std::fs::set_permissions(&path, perms).unwrap();
        let damaged = String::from_utf8(manifest.to_bytes())
            .unwrap()
            .replace("\"a\"", "\"c\"");
        std::fs::write(&path, damaged).unwrap();
        assert!(matches!(
            Manifest::read_cached(&cache, &hash),
            Err(CacheError::Corrupt { .. })
        ));
        // Damaged so that it no longer parses: the damage is what is reported.
        std::fs::write(&path, b"{\"format\":").unwrap();
        assert!(matches!(
            Manifest::read_cached(&cache, &hash),
            Err(CacheError::Corrupt { .. })
        ));
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(
            Manifest::read_cached(&cache, &hash),
            Err(CacheError::Missing { .. })
        ));
    }

    fn entry(path: &str) -> Entry {
        Entry {
            path: path.into(),
            hash: Hash::of(path.as_bytes()),
            size: 1,
            exec: false,
        }
    }

    #[test]
    fn canonical_regardless_of_input_order() {
        let a = Manifest::new(vec![entry("b"), entry("a/z"), entry("a")]);
        let b = Manifest::new(vec![entry("a"), entry("b"), entry("a/z")]);
        assert_eq!(a.to_bytes(), b.to_bytes());
        let paths: Vec<_> = a.entries().iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["a", "a/z", "b"]);
        let h = Hash::of(&a.to_bytes());
        assert_eq!(Manifest::from_bytes(&a.to_bytes(), &h).unwrap(), a);
        assert!(a.get("a/z").is_some() && a.get("c").is_none());
    }

    #[test]
    fn refuses_unsafe_or_unsorted_entries() {
        let h = Hash::of(b"");
        for bad in ["../etc/passwd", "/abs", "a/./b"] {
            let m = Manifest {
                entries: vec![entry(bad)],
            };
            assert!(Manifest::from_bytes(&m.to_bytes(), &h).is_err(), "{bad}");
        }
        for bad in [".git/HEAD", "sub/.GIT/config", "a/.Git"] {
            let m = Manifest {
                entries: vec![entry(bad)],
            };
            assert!(
                matches!(
                    Manifest::from_bytes(&m.to_bytes(), &h),
                    Err(ManifestError::Reserved { .. })
                ),
                "{bad}"
            );
        }
        let unsorted = Manifest {
            entries: vec![entry("b"), entry("a")],
        };
        assert!(Manifest::from_bytes(&unsorted.to_bytes(), &h).is_err());
        let sorted = Manifest::new(vec![entry("b"), entry("a/c"), entry("a")]);
        let borrowed = bytes_of_sorted(sorted.entries().iter().map(|e| EntryRef {
            path: &e.path,
            hash: &e.hash,
            size: e.size,
            exec: e.exec,
        }));
        assert_eq!(borrowed, sorted.to_bytes());
        let newer = br#"{"format":"git-mlv-manifest","version":9,"entries":[]}"#;
        assert!(matches!(
            Manifest::from_bytes(newer, &h),
            Err(ManifestError::Newer { .. })
        ));
    }
}
