//! A stamp of the cache's object folders, so `status` can skip listing the cache for a
//! directory whose objects were all there when the stamp was taken.

use super::Stat;
use crate::cache::Cache;
use crate::hash::Hash;
use std::io;

/// A digest of the object folders' names and timestamps, or None while any of them
/// changed in the last two seconds. Storing or removing an object changes its folder's
/// mtime, so an equal stamp means the same objects as when it was taken; the two seconds
/// cover file systems whose timestamps lag the clock by a tick (the racy case).
pub fn cache_stamp(cache: &Cache) -> io::Result<Option<Hash>> {
    let Ok(dirs) = fs_err::read_dir(cache.root().join("b3")) else {
        return Ok(None);
    };
    let now = std::time::SystemTime::now();
    let mut seen = Vec::new();
    for dir in dirs {
        let dir = dir?;
        let meta = dir.metadata()?;
        let modified = meta.modified()?;
        if now.duration_since(modified).unwrap_or_default() < std::time::Duration::from_secs(2) {
            return Ok(None);
        }
        seen.push((dir.file_name(), Stat::from(&meta)));
    }
    seen.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut h = blake3::Hasher::new();
    for (name, stat) in &seen {
        h.update(name.as_encoded_bytes());
        h.update(&[0]);
        h.update(&stat.to_bytes());
    }
    Ok(Some(Hash::from_bytes(*h.finalize().as_bytes())))
}
