//! Building a pack from cache objects: appended one after another to a temporary file,
//! each checked against its hash first, the pack hashed as it grows (never held whole in
//! memory: one object at a time).

use super::{Entry, Index, PACK_MAGIC};
use crate::hash::Hash;
use std::io::{self, Write};
use std::path::Path;

pub struct PackWriter {
    file: tempfile::NamedTempFile,
    hasher: blake3::Hasher,
    len: u64,
    entries: Vec<Entry>,
}

/// A finished pack on a temporary file (removed when dropped), with its index.
pub struct Built {
    pub file: tempfile::NamedTempFile,
    pub size: u64,
    pub index: Index,
}

impl PackWriter {
    /// Starts a pack on a temporary file in `dir`.
    pub fn create(dir: &Path) -> io::Result<Self> {
        let mut file = crate::fsutil::temp_file_in(dir, "pack", 0o600)?;
        file.write_all(PACK_MAGIC)?;
        let mut hasher = blake3::Hasher::new();
        hasher.update(PACK_MAGIC);
        Ok(PackWriter {
            file,
            hasher,
            len: PACK_MAGIC.len() as u64,
            entries: Vec::new(),
        })
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Appends object `hash` from the file at `path`, once its bytes hash right: a damaged
    /// cache object never goes into a pack (the error names it, and the pack goes on).
    pub fn add(&mut self, hash: &Hash, path: &Path) -> io::Result<()> {
        let bytes = fs_err::read(path)?;
        let actual = Hash::of(&bytes);
        if actual != *hash {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "the cache object `{}` hashes to {actual}, not {hash}: it is damaged; run `git mlv fsck`",
                    path.display()
                ),
            ));
        }
        self.add_verified(hash, &bytes)
    }

    /// Appends object `hash` whose `bytes` the caller has checked against it.
    pub fn add_verified(&mut self, hash: &Hash, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all(bytes)?;
        self.hasher.update(bytes);
        self.entries.push(Entry {
            hash: *hash,
            offset: self.len,
            length: bytes.len() as u64,
        });
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Closes the pack: its name is the hash of its bytes.
    pub fn finish(mut self) -> io::Result<Built> {
        self.file.flush()?;
        let pack = Hash::from_bytes(*self.hasher.finalize().as_bytes());
        Ok(Built {
            file: self.file,
            size: self.len,
            index: Index::new(pack, self.entries),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pack_holds_its_objects_where_its_index_says() {
        let tmp = tempfile::tempdir().unwrap();
        let mut writer = PackWriter::create(tmp.path()).unwrap();
        let mut hashes = Vec::new();
        for (i, body) in [&b"alpha"[..], b"", b"gamma gamma"].iter().enumerate() {
            let path = tmp.path().join(format!("o{i}"));
            std::fs::write(&path, body).unwrap();
            let h = Hash::of(body);
            writer.add(&h, &path).unwrap();
            hashes.push((h, body.to_vec()));
        }
        let bad = tmp.path().join("bad");
        std::fs::write(&bad, b"not what it says").unwrap();
        assert!(writer.add(&Hash::of(b"other"), &bad).is_err());
        let built = writer.finish().unwrap();
        let bytes = std::fs::read(built.file.path()).unwrap();
        assert_eq!(bytes.len() as u64, built.size);
        assert_eq!(Hash::of(&bytes), built.index.pack);
        assert!(bytes.starts_with(PACK_MAGIC));
        assert_eq!(built.index.entries().len(), 3);
        for (h, body) in hashes {
            let e = built.index.find(&h).unwrap();
            assert_eq!(
                &bytes[e.offset as usize..(e.offset + e.length) as usize],
                body
            );
        }
    }
}
