//! Putting cache objects into the work tree: reflink, copy, hardlink or symlink, in the
//! configured order of preference, always through a temporary name in the destination
//! folder and a rename, so a reader never sees half a file.

use crate::config::LinkType;
use std::io;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once a reflink failed because the file systems cannot share blocks (ext4, or cache
/// and destination on different devices): the rest of the run copies without trying, instead
/// of paying a failed clone for every file.
static NO_REFLINK: AtomicBool = AtomicBool::new(false);

fn unsupported(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::Unsupported | io::ErrorKind::CrossesDevices | io::ErrorKind::InvalidInput
    )
}

/// A plain copy into a new file made with its final permissions; `io::copy` between two
/// files is `copy_file_range`, so the bytes stay in the kernel.
fn copy(object: &Path, dest: &Path, mode: u32) -> io::Result<()> {
    // The object first: when it is missing, no empty destination is left behind.
    let mut from = std::fs::File::open(object)?;
    let mut to = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(dest)?;
    io::copy(&mut from, &mut to)?;
    // The mode given at creation is narrowed by the umask; checkouts have always been
    // 0644/0755 whatever it is.
    to.set_permissions(std::fs::Permissions::from_mode(mode))
}

/// Makes `dest` hold the object at `object`, using the first link type that works here.
/// Copies get ordinary permissions (0755 when `exec`); links stay read-only, because
/// writing through them would damage the cache.
pub fn materialize(
    object: &Path,
    dest: &Path,
    exec: bool,
    links: &[LinkType],
) -> io::Result<LinkType> {
    let dir = dest.parent().expect("workspace paths have a parent");
    let mut last_err = None;
    let mode = if exec { 0o755 } else { 0o644 };
    let make = |link: LinkType| {
        tempfile::Builder::new()
            .prefix(crate::fsutil::TEMP_PREFIX)
            .make_in(dir, |tmp| match link {
                LinkType::Reflink => {
                    reflink_copy::reflink(object, tmp).inspect_err(|e| {
                        if unsupported(e) {
                            NO_REFLINK.store(true, Ordering::Relaxed);
                        }
                    })?;
                    std::fs::set_permissions(tmp, std::fs::Permissions::from_mode(mode))
                }
                LinkType::Copy => copy(object, tmp, mode),
                LinkType::Hardlink => std::fs::hard_link(object, tmp),
                LinkType::Symlink => std::os::unix::fs::symlink(object, tmp),
            })
    };
    for (i, &link) in links.iter().enumerate() {
        let fallback_left = i + 1 < links.len();
        if link == LinkType::Reflink && fallback_left && NO_REFLINK.load(Ordering::Relaxed) {
            continue;
        }
        // The folder exists for all but the first file in it: create it only when missing.
        // Another thread may be creating it at this moment, so try again in any case.
        let made = match make(link) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs_err::create_dir_all(dir)?;
                make(link)
            }
            other => other,
        };
        match made {
            Ok(tmp) => {
                tmp.persist(dest).map_err(|e| {
                    io::Error::new(
                        e.error.kind(),
                        format!("replacing `{}`: {}", dest.display(), e.error),
                    )
                })?;
                return Ok(link);
            }
            Err(e) => last_err = Some(e),
        }
    }
    let e = last_err.unwrap_or_else(|| io::Error::other("no link type configured"));
    Err(io::Error::new(
        e.kind(),
        format!("writing `{}` from the cache: {e}", dest.display()),
    ))
}

/// Moves `ready`, a verified copy of the object that a download wrote beside the cache,
/// into place as `dest`, instead of copying the object again. False when it is gone (another
/// file with the same content took it) or cannot be renamed there (another file system):
/// then the caller materializes from the cache as usual.
pub fn place(ready: &Path, dest: &Path, exec: bool) -> io::Result<bool> {
    let renamed = match std::fs::rename(ready, dest) {
        Err(e) if e.kind() == io::ErrorKind::NotFound && ready.exists() => {
            fs_err::create_dir_all(dest.parent().expect("workspace paths have a parent"))?;
            std::fs::rename(ready, dest)
        }
        other => other,
    };
    // The mode is set once the file is ours: files with the same content (and one ready
    // copy) may want different modes.
    let mode = if exec { 0o755 } else { 0o644 };
    match renamed
        .and_then(|()| std::fs::set_permissions(dest, std::fs::Permissions::from_mode(mode)))
    {
        Ok(()) => Ok(true),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::CrossesDevices
            ) =>
        {
            Ok(false)
        }
        Err(e) => Err(io::Error::new(
            e.kind(),
            format!("replacing `{}`: {e}", dest.display()),
        )),
    }
}

/// Whether a download should write ready copies for a checkout into `work_tree` that
/// follows: only when that checkout would copy bytes (the configured order reaches `copy`
/// before any link, and the file system cannot share blocks) and a ready copy written in
/// `tmp` can be renamed there (same file system).
pub fn ready_copies_pay(tmp: &Path, work_tree: &Path, links: &[LinkType]) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Some(first) = links.iter().find(|l| **l != LinkType::Reflink) else {
        return false;
    };
    let same_fs = fs_err::create_dir_all(tmp).is_ok()
        && matches!((std::fs::metadata(tmp), std::fs::metadata(work_tree)),
            (Ok(a), Ok(b)) if a.dev() == b.dev());
    if *first != LinkType::Copy || !same_fs {
        return false;
    }
    if links[0] != LinkType::Reflink || NO_REFLINK.load(Ordering::Relaxed) {
        return true;
    }
    // A clone costs nothing where the file system shares blocks: try one.
    let Ok(probe) = tempfile::Builder::new().prefix("probe").tempfile_in(tmp) else {
        return false;
    };
    let clone = probe.path().with_extension("clone");
    let cloned = reflink_copy::reflink(probe.path(), &clone);
    let _ = std::fs::remove_file(&clone);
    match cloned {
        Ok(_) => false,
        Err(e) => {
            if unsupported(&e) {
                NO_REFLINK.store(true, Ordering::Relaxed);
            }
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_written_at_once_into_a_new_folder_all_succeed() {
        // Each writer finds the folder missing; one creates it while the others retry.
        let root = tempfile::tempdir().unwrap();
        let object = root.path().join("object");
        std::fs::write(&object, b"bytes").unwrap();
        let start = std::sync::Barrier::new(8);
        for round in 0..100 {
            let dir = root.path().join(format!("round{round}/sub"));
            std::thread::scope(|s| {
                for i in 0..8 {
                    let (object, dest, start) = (&object, dir.join(format!("f{i}")), &start);
                    s.spawn(move || {
                        start.wait();
                        materialize(object, &dest, false, &[LinkType::Copy]).unwrap()
                    });
                }
            });
            assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 8);
        }
    }
}
