//! The one way small files in the work tree are written: to a temporary file in the same
//! folder, then renamed over the target, so a crash never leaves half a file.

use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// The name of every temporary file git-mlv writes into the work tree starts with this:
/// listing, status, add and checkout skip such files (`is_temp_name`), and gc removes stale
/// ones, so a killed write never turns into data.
pub const TEMP_PREFIX: &str = ".mlv-tmp";

/// True for a file named like git-mlv's temporary files in the work tree.
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with(TEMP_PREFIX)
}

/// Writes `bytes` to `path` atomically, with ordinary (0644) permissions.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Writes what `write` produces to `path` atomically (buffered), with 0644 permissions.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .permissions(std::fs::Permissions::from_mode(0o644))
        .tempfile_in(dir)
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("creating a temporary file in `{}`: {e}", dir.display()),
            )
        })?;
    let mut out = io::BufWriter::with_capacity(1 << 16, tmp.as_file_mut());
    write(&mut out)
        .and_then(|()| out.flush())
        .map_err(|e| io::Error::new(e.kind(), format!("writing `{}`: {e}", path.display())))?;
    drop(out);
    tmp.persist(path).map_err(|e| {
        io::Error::new(
            e.error.kind(),
            format!("replacing `{}`: {}", path.display(), e.error),
        )
    })?;
    Ok(())
}

/// A temporary file in `dir` (created when missing) with permissions `mode`, to be renamed
/// into place in the same folder once written.
pub fn temp_file_in(dir: &Path, prefix: &str, mode: u32) -> io::Result<tempfile::NamedTempFile> {
    let make = || {
        tempfile::Builder::new()
            .prefix(prefix)
            .permissions(std::fs::Permissions::from_mode(mode))
            .tempfile_in(dir)
    };
    // Folders exist for all but the first object in each: try first, create on demand.
    let made = match make() {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs_err::create_dir_all(dir)?;
            make()
        }
        other => other,
    };
    made.map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("creating a temporary file in `{}`: {e}", dir.display()),
        )
    })
}

/// Files named `prefix…` in the folders of `fanout` (a store's `b3/`) untouched since
/// `cutoff`, with their sizes: what interrupted writes left beside the objects. A live
/// writer keeps its file fresh.
pub fn stale_temp_files(
    fanout: &Path,
    prefix: &str,
    cutoff: std::time::SystemTime,
) -> io::Result<Vec<(std::path::PathBuf, u64)>> {
    let mut out = Vec::new();
    if let Ok(dirs) = fs_err::read_dir(fanout) {
        for dir in dirs {
            for entry in fs_err::read_dir(dir?.path())? {
                let entry = entry?;
                if entry.file_name().to_string_lossy().starts_with(prefix) {
                    out.extend(if_stale(entry.path(), cutoff));
                }
            }
        }
    }
    Ok(out)
}

/// `path` with its size, when it is a file untouched since `cutoff`.
pub fn if_stale(
    path: std::path::PathBuf,
    cutoff: std::time::SystemTime,
) -> Option<(std::path::PathBuf, u64)> {
    let meta = std::fs::symlink_metadata(&path).ok()?;
    (meta.is_file() && meta.modified().is_ok_and(|m| m < cutoff)).then_some((path, meta.len()))
}

/// Nanoseconds since the epoch, as the file system records them.
pub fn mtime_ns(meta: &std::fs::Metadata) -> i64 {
    use std::os::unix::fs::MetadataExt;
    meta.mtime() * 1_000_000_000 + meta.mtime_nsec()
}
