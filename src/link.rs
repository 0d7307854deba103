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
            .prefix(".mlv-tmp")
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
