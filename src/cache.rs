//! The content-addressed object store on local disk (the cache): immutable, read-only
//! objects under `b3/<2 hex>/<62 hex>`, each written to a temporary file in the same file
//! system and renamed into place only after its bytes were hashed and matched.

use crate::hash::{self, Hash};
use crate::problem::{Hinted, Kind};
use rayon::prelude::*;
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The object store format this build reads and writes, recorded at the store's root.
pub const FORMAT_VERSION: u32 = 1;
pub const FORMAT_FILE: &str = "format.toml";
const TMP_DIR: &str = "tmp";
const LOCK_FILE: &str = "lock";

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error(
        "the cache at `{path}` has format version {found}, newer than this git-mlv understands ({FORMAT_VERSION})"
    )]
    Newer { path: PathBuf, found: u32 },
    #[error("the cache at `{path}` has a damaged format file")]
    BadFormat { path: PathBuf },
    #[error("object {hash} is not in the cache at `{path}`")]
    Missing { hash: Hash, path: PathBuf },
    #[error("object {hash} in the cache is damaged: its content hashes to {actual}")]
    Corrupt {
        hash: Hash,
        actual: Hash,
        path: PathBuf,
    },
    #[error(transparent)]
    Io(#[from] io::Error),
}

impl Hinted for CacheError {
    fn kind(&self) -> Kind {
        Kind::Failed
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            CacheError::Newer { .. } => "upgrade git-mlv".into(),
            CacheError::BadFormat { path } => {
                format!("check `{}/{FORMAT_FILE}`", path.display())
            }
            CacheError::Missing { .. } => "fetch it from a remote, or re-add the data".into(),
            CacheError::Corrupt { path, .. } => format!(
                "remove `{}` and fetch it again from a remote",
                path.display()
            ),
            CacheError::Io(_) => return None,
        })
    }
}

#[derive(Clone)]
pub struct Cache {
    root: PathBuf,
    fsync: bool,
}

impl Cache {
    /// Opens (creating when needed) the store at `root`, checking its format version.
    pub fn open(root: &Path, fsync: bool) -> Result<Self, CacheError> {
        let format = root.join(FORMAT_FILE);
        match fs_err::read_to_string(&format) {
            Ok(text) => {
                let found = text
                    .parse::<toml::Table>()
                    .ok()
                    .and_then(|t| t.get("version").and_then(|v| v.as_integer()))
                    .ok_or_else(|| CacheError::BadFormat {
                        path: root.to_path_buf(),
                    })?;
                if found > FORMAT_VERSION as i64 {
                    return Err(CacheError::Newer {
                        path: root.to_path_buf(),
                        found: found as u32,
                    });
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs_err::create_dir_all(root.join(TMP_DIR))?;
                crate::fsutil::write_atomic(&format, format_file_text().as_bytes())?;
            }
            Err(e) => return Err(e.into()),
        }
        fs_err::create_dir_all(root.join(TMP_DIR))?;
        Ok(Cache {
            root: root.to_path_buf(),
            fsync,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn object_path(&self, hash: &Hash) -> PathBuf {
        self.root.join(hash.key())
    }

    pub fn contains(&self, hash: &Hash) -> bool {
        self.object_path(hash).is_file()
    }

    /// Stores the file at `src`, reading it once: its bytes are hashed as they are copied
    /// into a temporary file, which is renamed into place under the hash it was given.
    pub fn insert_file(&self, src: &Path, size_hint: u64) -> Result<(Hash, u64), CacheError> {
        if size_hint <= hash::SMALL_FILE {
            let bytes = read_small(src, size_hint)?;
            let hash = Hash::of(&bytes);
            if !self.contains(&hash) {
                self.write_object(&hash, |f| f.write_all(&bytes))?;
            }
            return Ok((hash, bytes.len() as u64));
        }
        // The plain std file reads into spare capacity without zeroing it first.
        let reader = fs_err::File::open(src)?.into_parts().0;
        let mut tmp = self.temp_file()?;
        let (hash, size) = hash::hash_copy(reader, tmp.as_file_mut()).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("storing `{}` in the cache: {e}", src.display()),
            )
        })?;
        self.persist(tmp, &hash)?;
        Ok((hash, size))
    }

    /// Stores what `reader` gives (a download), hashed as it is copied into a temporary
    /// file that enters the store only whole, under the hash of what came.
    pub fn insert_reader<R: Read + Send>(&self, reader: R) -> Result<(Hash, u64), CacheError> {
        let mut tmp = self.temp_file()?;
        let (hash, size) = hash::hash_copy(reader, tmp.as_file_mut())?;
        self.persist(tmp, &hash)?;
        Ok((hash, size))
    }

    /// Stores bytes already in memory (a manifest, a metrics file).
    pub fn insert_bytes(&self, bytes: &[u8]) -> Result<Hash, CacheError> {
        let hash = Hash::of(bytes);
        self.insert_verified(&hash, bytes)?;
        Ok(hash)
    }

    /// Stores what `write` produces (a big manifest), hashed as it is written to a
    /// temporary file that enters the store only whole: the bytes are never all in memory.
    pub fn insert_streamed(
        &self,
        write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> Result<Hash, CacheError> {
        let mut tmp = self.temp_file()?;
        // The buffer sits outside the hasher, so the hasher sees 64 KiB chunks, not the
        // serializer's few bytes at a time.
        let mut out = io::BufWriter::with_capacity(1 << 16, Hashing::new(tmp.as_file_mut()));
        write(&mut out)?;
        let hashed = out.into_inner().map_err(io::IntoInnerError::into_error)?;
        let hash = hashed.finish();
        self.persist(tmp, &hash)?;
        Ok(hash)
    }

    /// Stores bytes the caller has already hashed to `hash` (a verified download).
    pub fn insert_verified(&self, hash: &Hash, bytes: &[u8]) -> Result<(), CacheError> {
        if !self.contains(hash) {
            self.write_object(hash, |f| f.write_all(bytes))?;
        }
        Ok(())
    }

    /// Reads a small object (a manifest) whole, checking its hash.
    pub fn read_verified(&self, hash: &Hash) -> Result<Vec<u8>, CacheError> {
        let path = self.object_path(hash);
        let bytes = match fs_err::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(CacheError::Missing {
                    hash: *hash,
                    path: self.root.clone(),
                });
            }
            Err(e) => return Err(e.into()),
        };
        let actual = Hash::of(&bytes);
        if actual != *hash {
            return Err(CacheError::Corrupt {
                hash: *hash,
                actual,
                path,
            });
        }
        Ok(bytes)
    }

    /// The object `hash` as a reader that hashes what it reads; `Verifying::finish` reads
    /// what is left and says whether it was the object named. For big objects that are
    /// parsed as they stream (a million-file manifest is 130 MB), never held whole.
    pub fn open_verifying(&self, hash: &Hash) -> Result<Verifying, CacheError> {
        let path = self.object_path(hash);
        match std::fs::File::open(&path) {
            // The buffer sits outside the hasher: a JSON reader asks for one byte at a time.
            Ok(file) => Ok(Verifying {
                reader: io::BufReader::with_capacity(1 << 20, Hashing::new(file)),
                hash: *hash,
                path,
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(CacheError::Missing {
                hash: *hash,
                path: self.root.clone(),
            }),
            Err(e) => {
                Err(io::Error::new(e.kind(), format!("reading `{}`: {e}", path.display())).into())
            }
        }
    }

    /// The bytes of the object `hash`, of `size` bytes, for a caller that copies them out
    /// once (into a Python `bytes`): read whole when small, mapped when big. Not hashed
    /// again, as checkout and `mlv.open` read objects: every object enters the cache
    /// verified and is never written in place (`fsck` re-hashes). One of another length is
    /// damaged: it is hashed to say so.
    pub fn object_bytes(&self, hash: &Hash, size: u64) -> Result<ObjectBytes, CacheError> {
        let path = self.object_path(hash);
        let mut file = match fs_err::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(CacheError::Missing {
                    hash: *hash,
                    path: self.root.clone(),
                });
            }
            Err(e) => return Err(e.into()),
        };
        let len = file.metadata()?.len();
        if len != size {
            let actual = self.rehash(hash)?;
            if actual != *hash {
                return Err(CacheError::Corrupt {
                    hash: *hash,
                    actual,
                    path,
                });
            }
        }
        if len <= hash::SMALL_FILE {
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes)?;
            return Ok(ObjectBytes::Read(bytes));
        }
        // SAFETY: objects are renamed into the cache read-only and never written in
        // place, so the mapped bytes cannot change under the mapping.
        let map = unsafe { memmap2::MmapOptions::new().populate().map(file.file()) }?;
        Ok(ObjectBytes::Mapped(map))
    }

    /// Re-hashes an object from disk; returns the hash its bytes have now.
    pub fn rehash(&self, hash: &Hash) -> Result<Hash, CacheError> {
        let path = self.object_path(hash);
        let file = fs_err::File::open(&path)?.into_parts().0;
        Ok(hash_reader(file)?)
    }

    fn temp_file(&self) -> io::Result<tempfile::NamedTempFile> {
        tempfile::Builder::new()
            .prefix("obj")
            .permissions(std::fs::Permissions::from_mode(0o444))
            .tempfile_in(self.root.join(TMP_DIR))
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!(
                        "creating a temporary file in `{}`: {e}",
                        self.root.join(TMP_DIR).display()
                    ),
                )
            })
    }

    fn write_object(
        &self,
        hash: &Hash,
        write: impl FnOnce(&mut std::fs::File) -> io::Result<()>,
    ) -> Result<(), CacheError> {
        // The temporary file goes in the object's own folder: the rename stays within one
        // folder, and many writers spread over 256 folders instead of sharing `tmp/`.
        let dir = self.object_path(hash);
        let dir = dir.parent().expect("object paths have a parent");
        let mut tmp = crate::fsutil::temp_file_in(dir, ".obj", 0o444)?;
        write(tmp.as_file_mut()).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "writing object {hash} to the cache at `{}`: {e}",
                    self.root.display()
                ),
            )
        })?;
        self.rename_into(tmp, hash)
    }

    /// Renames a fully written temporary file into place as object `hash`. A concurrent
    /// writer of the same object is harmless: both hold the same bytes.
    fn persist(&self, tmp: tempfile::NamedTempFile, hash: &Hash) -> Result<(), CacheError> {
        let dest = self.object_path(hash);
        if dest.is_file() {
            return Ok(()); // dropping `tmp` removes it
        }
        let parent = dest.parent().expect("object paths have a parent");
        fs_err::create_dir_all(parent)?;
        self.rename_into(tmp, hash)
    }

    /// The last step of every object write: the rename that makes it visible.
    fn rename_into(&self, tmp: tempfile::NamedTempFile, hash: &Hash) -> Result<(), CacheError> {
        if self.fsync {
            tmp.as_file().sync_all()?;
        }
        let dest = self.object_path(hash);
        tmp.persist(&dest).map_err(|e| {
            io::Error::new(
                e.error.kind(),
                format!(
                    "moving object {hash} into `{}`: {}",
                    dest.display(),
                    e.error
                ),
            )
        })?;
        Ok(())
    }

    /// Where temporary files of this store live (same file system as the objects).
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join(TMP_DIR)
    }

    /// Where the ready copy of `hash` is kept once its bytes were verified: a second copy
    /// of a big download that a checkout can move into the work tree.
    pub fn ready_copy_path(&self, hash: &Hash) -> PathBuf {
        self.tmp_dir().join(format!("ready-{}", hash.hex()))
    }

    /// Removes ready copies that no checkout took (the file was unchanged, or refused).
    pub fn discard_ready_copies(&self, hashes: &[Hash]) {
        for h in hashes {
            let _ = std::fs::remove_file(self.ready_copy_path(h));
        }
    }

    /// Moves a fully written and verified temporary file into place as object `hash`.
    pub fn admit(&self, tmp: &Path, hash: &Hash) -> Result<(), CacheError> {
        if self.fsync {
            fs_err::File::open(tmp)?.sync_all()?;
        }
        fs_err::set_permissions(tmp, std::fs::Permissions::from_mode(0o444))?;
        let dest = self.object_path(hash);
        fs_err::create_dir_all(dest.parent().expect("object paths have a parent"))?;
        fs_err::rename(tmp, &dest)?;
        Ok(())
    }

    /// Which of `hashes` the store lacks. Thousands of objects are checked by reading
    /// the store's 256 folders (a few hundred `getdents` calls) instead of one `stat` each:
    /// for 20,000 objects that is most of an unchanged `status`'s system calls.
    pub fn missing(&self, hashes: &[Hash]) -> io::Result<std::collections::HashSet<Hash>> {
        if hashes.len() < 2_000 {
            return Ok(hashes
                .par_iter()
                .filter(|h| !self.contains(h))
                .copied()
                .collect());
        }
        let present: std::collections::HashSet<Hash> = self.list()?.into_iter().collect();
        Ok(hashes
            .iter()
            .filter(|h| !present.contains(h))
            .copied()
            .collect())
    }

    /// Temporary files that interrupted writes and downloads left behind (`.obj*` beside
    /// the objects, anything in `tmp/`), with their sizes, when untouched for `age`: a live
    /// writer keeps its file fresh, and a partial download older than that is not worth
    /// resuming.
    pub fn stale_temp_files(&self, age: std::time::Duration) -> io::Result<Vec<(PathBuf, u64)>> {
        let cutoff = std::time::SystemTime::now() - age;
        let mut out = crate::fsutil::stale_temp_files(&self.root.join("b3"), ".obj", cutoff)?;
        if let Ok(entries) = fs_err::read_dir(self.tmp_dir()) {
            for entry in entries {
                out.extend(crate::fsutil::if_stale(entry?.path(), cutoff));
            }
        }
        Ok(out)
    }

    /// Every object in the store, by walking its `b3/` folders in parallel.
    pub fn list(&self) -> io::Result<Vec<Hash>> {
        let dirs: io::Result<Vec<fs_err::DirEntry>> =
            fs_err::read_dir(self.root.join("b3")).map_or(Ok(Vec::new()), Iterator::collect);
        dirs?
            .par_iter()
            .map(|dir| {
                let mut key = format!("b3/{}/", dir.file_name().to_string_lossy());
                let at = key.len();
                let mut out = Vec::new();
                for obj in fs_err::read_dir(dir.path())? {
                    key.truncate(at);
                    key.push_str(&obj?.file_name().to_string_lossy());
                    out.extend(Hash::from_key(&key));
                }
                Ok(out)
            })
            .collect::<io::Result<Vec<Vec<Hash>>>>()
            .map(|found| found.concat())
    }
}

/// How a command holds the cache-wide lock: commands that write objects and then record
/// them in a pointer or `mlv.lock` share it; gc holds it alone, so it never frees an object
/// a writer in any worktree has stored but not recorded yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Shared,
    Exclusive,
}

/// The cache-wide lock, held until dropped.
pub struct CacheLock(#[allow(dead_code)] Option<std::fs::File>);

impl Cache {
    /// The lock file: in the cache itself, so every worktree and every repository that uses
    /// this cache (wherever `cache.dir` puts it) meets the same one.
    pub fn lock_path(&self) -> PathBuf {
        self.root.join(LOCK_FILE)
    }

    /// Takes the cache-wide lock, calling `on_wait` once first when another process holds
    /// it the other way. A cache this user may not write holds no lock: such a user cannot
    /// store objects in it (or remove them), so there is nothing to keep apart. An existing
    /// lock file this user may not write is locked through a read-only handle.
    pub fn lock(&self, access: Access, on_wait: impl FnOnce(&Path)) -> io::Result<CacheLock> {
        let path = self.lock_path();
        let opened = fs_err::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .or_else(|e| match e.kind() {
                io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
                    fs_err::File::open(&path)
                }
                _ => Err(e),
            });
        let file = match opened {
            Ok(f) => f.into_parts().0,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound
                        | io::ErrorKind::PermissionDenied
                        | io::ErrorKind::ReadOnlyFilesystem
                ) =>
            {
                return Ok(CacheLock(None));
            }
            Err(e) => return Err(e),
        };
        let tried = match access {
            Access::Shared => file.try_lock_shared(),
            Access::Exclusive => file.try_lock(),
        };
        match tried {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                on_wait(&path);
                match access {
                    Access::Shared => file.lock_shared()?,
                    Access::Exclusive => file.lock()?,
                }
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("locking `{}`: {e}", path.display()),
                ));
            }
        }
        Ok(CacheLock(Some(file)))
    }
}

/// An object's bytes from [`Cache::object_bytes`].
pub enum ObjectBytes {
    Read(Vec<u8>),
    Mapped(memmap2::Mmap),
}

impl std::ops::Deref for ObjectBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            ObjectBytes::Read(v) => v,
            ObjectBytes::Mapped(m) => m,
        }
    }
}

/// A cache object read through its hash (see `Cache::open_verifying`).
pub struct Verifying {
    reader: io::BufReader<Hashing<std::fs::File>>,
    hash: Hash,
    path: PathBuf,
}

impl Read for Verifying {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reader.read(buf)
    }
}

impl Verifying {
    /// Reads the rest, then checks the hash of every byte against the object's name.
    pub fn finish(mut self) -> Result<(), CacheError> {
        io::copy(&mut self.reader, &mut io::sink())?;
        // At the end of the file the buffer is empty: every byte went through the hasher.
        let actual = self.reader.into_inner().finish();
        match actual == self.hash {
            true => Ok(()),
            false => Err(CacheError::Corrupt {
                hash: self.hash,
                actual,
                path: self.path,
            }),
        }
    }
}

/// Reads a small file whole, sized by the listing's `size`: `fs::read` asks the file
/// for its size again (an `fstat` and an `lseek`), two of a small file's dozen system
/// calls in `add`.
fn read_small(src: &Path, size: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(size as usize + 1);
    // Through `take`, the generic `read_to_end`: the file's own asks for the size first.
    fs_err::File::open(src)?
        .take(u64::MAX)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Hashes what passes through it, read from or written to `inner`.
struct Hashing<T> {
    hasher: blake3::Hasher,
    inner: T,
}

impl<T> Hashing<T> {
    fn new(inner: T) -> Self {
        Hashing {
            hasher: blake3::Hasher::new(),
            inner,
        }
    }

    fn finish(&self) -> Hash {
        Hash::from_bytes(*self.hasher.finalize().as_bytes())
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Hashes everything `reader` yields with bounded memory.
pub fn hash_reader<R: Read + Send>(reader: R) -> io::Result<Hash> {
    hash::hash_copy(reader, &mut io::sink()).map(|(h, _)| h)
}

fn format_file_text() -> String {
    format!(
        "# git-mlv object store: objects under b3/<2 hex>/<62 hex>\nversion = {FORMAT_VERSION}\n"
    )
}
