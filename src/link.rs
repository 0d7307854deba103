//! Putting cache objects into the work tree: reflink, copy, hardlink or symlink, in the
//! configured order of preference, always through a temporary name in the destination
//! folder and a rename, so a reader never sees half a file.

use crate::config::LinkType;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

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
    fs_err::create_dir_all(dir)?;
    let mut last_err = None;
    for &link in links {
        let made = tempfile::Builder::new()
            .prefix(".mlv-tmp")
            .make_in(dir, |tmp| {
                match link {
                    LinkType::Reflink => reflink_copy::reflink(object, tmp)?,
                    LinkType::Copy => {
                        std::fs::copy(object, tmp)?;
                    }
                    LinkType::Hardlink => std::fs::hard_link(object, tmp)?,
                    LinkType::Symlink => std::os::unix::fs::symlink(object, tmp)?,
                }
                if matches!(link, LinkType::Reflink | LinkType::Copy) {
                    let mode = if exec { 0o755 } else { 0o644 };
                    std::fs::set_permissions(tmp, std::fs::Permissions::from_mode(mode))?;
                }
                Ok(())
            });
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
