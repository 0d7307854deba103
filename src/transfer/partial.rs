//! Partial downloads of big objects in the cache's `tmp/`: one file per object, kept when a
//! download breaks so the next run fetches only the bytes it lacks. A download written in
//! several ranges at once leaves holes, so a small record beside it says which bytes of
//! each range are in place; a download written front to back needs none (its length says).

use crate::cache::Cache;
use crate::hash::Hash;
use std::io;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Bytes per range record: its start and how many bytes from there are written.
const RECORD: usize = 16;

pub struct Partial {
    pub path: PathBuf,
    pub file: std::fs::File,
    /// The record of written ranges, when the download is (or was) written in ranges.
    ranges: Option<std::fs::File>,
    /// The ready copy written beside it from the same bytes (see `start_ready_copy`).
    ready: Option<std::fs::File>,
}

impl Partial {
    /// Opens the partial download of `hash`: one well-known name per object so an
    /// interrupted download resumes, locked so two processes never write the same one
    /// (the second gets a fresh temporary file instead).
    pub fn open(cache: &Cache, hash: &Hash) -> io::Result<Self> {
        let dir = cache.tmp_dir();
        fs_err::create_dir_all(&dir)?;
        let path = dir.join(format!("partial-{}", hash.hex()));
        // Another process may admit (rename away) the file between our open and our lock:
        // the lock only counts while the path still names the file we locked.
        for _ in 0..3 {
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)?;
            if file.try_lock().is_err() {
                break;
            }
            if same_file(&file, &path) {
                return Ok(Partial {
                    path,
                    file,
                    ranges: None,
                    ready: None,
                });
            }
        }
        let (file, path) = tempfile::Builder::new()
            .prefix("partial")
            .tempfile_in(&dir)?
            .keep()
            .map_err(|e| e.error)?;
        Ok(Partial {
            path,
            file,
            ranges: None,
            ready: None,
        })
    }

    /// From now on, every byte written or digested also goes into a ready copy beside
    /// this file (see `Cache::ready_copy_path`), emptied first: every byte is written again
    /// from this file or from the remote. Without one (it cannot be created) the download
    /// goes on as before, and a checkout copies from the cache.
    pub fn start_ready_copy(&mut self) {
        self.ready = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(self.ready_path())
            .ok();
    }

    /// Keeps the ready copy under `to`, once the object's bytes were verified; false when
    /// there is none.
    pub fn keep_ready_copy(&self, to: &Path) -> bool {
        self.ready.is_some() && std::fs::rename(self.ready_path(), to).is_ok()
    }

    /// Writes downloaded `bytes` at `pos`, into the ready copy too when there is one.
    pub fn write_at(&self, bytes: &[u8], pos: u64) -> io::Result<()> {
        self.file.write_all_at(bytes, pos)?;
        match &self.ready {
            Some(ready) => ready.write_all_at(bytes, pos),
            None => Ok(()),
        }
    }

    fn ready_path(&self) -> PathBuf {
        let mut p = self.path.clone().into_os_string();
        p.push(".ready");
        p.into()
    }

    fn ranges_path(&self) -> PathBuf {
        let mut p = self.path.clone().into_os_string();
        p.push(".ranges");
        p.into()
    }

    /// Plans the download of `plan`'s ranges: returns where each range resumes, from the
    /// bytes an earlier run left. A record of ranges is kept whenever the file may have
    /// holes: when `plan`'s ranges are written at once (not `in_order`), or an earlier run
    /// wrote some. Written in order, the file's length says what is in place.
    pub fn resume(&mut self, plan: &[Range<u64>], in_order: bool) -> io::Result<Vec<u64>> {
        // Bytes beyond the object's end (an over-long earlier answer) would be admitted
        // with it: they are never part of the object.
        let size = plan.iter().map(|r| r.end).max().unwrap_or(0);
        if self.file.metadata()?.len() > size {
            self.file.set_len(size)?;
        }
        let len = self.file.metadata()?.len();
        let ranges_path = self.ranges_path();
        let (written, had_record): (Vec<Range<u64>>, bool) = match std::fs::read(&ranges_path) {
            Ok(bytes) => (
                bytes
                    .chunks_exact(RECORD)
                    .map(|r| {
                        let start = u64::from_le_bytes(r[..8].try_into().expect("8 bytes"));
                        let done = u64::from_le_bytes(r[8..].try_into().expect("8 bytes"));
                        // Never trust the record beyond the file's end.
                        start.min(len)..start.saturating_add(done).min(len)
                    })
                    .collect(),
                true,
            ),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                (std::iter::once(0..len).collect(), false)
            }
            Err(e) => return Err(e),
        };
        let starts: Vec<u64> = plan
            .iter()
            .map(|r| (r.start + covered_from(r.start, &written)).min(r.end))
            .collect();
        if (plan.len() > 1 && !in_order) || had_record {
            let mut bytes = Vec::with_capacity(plan.len() * RECORD);
            for (r, s) in plan.iter().zip(&starts) {
                bytes.extend_from_slice(&r.start.to_le_bytes());
                bytes.extend_from_slice(&(s - r.start).to_le_bytes());
            }
            fs_err::write(&ranges_path, bytes)?;
            self.ranges = Some(std::fs::OpenOptions::new().write(true).open(&ranges_path)?);
        }
        Ok(starts)
    }

    /// Records that range `index`, which starts at `start`, is written up to `pos`.
    pub fn record(&self, index: usize, start: u64, pos: u64) -> io::Result<()> {
        match &self.ranges {
            Some(f) => f.write_all_at(&(pos - start).to_le_bytes(), (index * RECORD + 8) as u64),
            None => Ok(()),
        }
    }

    /// Feeds bytes `range` of the file into `hasher` and copies them to the same place in
    /// the ready copy, when there is one. Both read the same bytes of this file, so the
    /// copy holds exactly what was hashed.
    pub fn digest_range(&self, range: Range<u64>, hasher: &mut blake3::Hasher) -> io::Result<()> {
        if range.is_empty() {
            return Ok(());
        }
        if self.file.metadata()?.len() < range.end {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("`{}` is shorter than its record says", self.path.display()),
            ));
        }
        // SAFETY: the file is ours (locked, in the cache's tmp/) and only grows while we
        // hold it, so the mapped bytes stay in place; mapping a window at a time keeps
        // the resident set small where one mapping of the whole file would not.
        let map = unsafe {
            memmap2::MmapOptions::new()
                .offset(range.start)
                .len((range.end - range.start) as usize)
                .map(&self.file)?
        };
        hasher.update(&map);
        drop(map);
        if let Some(ready) = &self.ready {
            let (mut from, mut to) = (range.start, range.start);
            while from < range.end {
                let want = (range.end - from).min(1 << 30) as usize;
                let n = rustix::fs::copy_file_range(
                    &self.file,
                    Some(&mut from),
                    ready,
                    Some(&mut to),
                    want,
                )?;
                if n == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
            }
        }
        Ok(())
    }

    /// Removes the file and what is beside it (found corrupt).
    pub fn remove(&self) {
        let _ = std::fs::remove_file(&self.path);
        self.clean_up();
    }

    /// Removes what is beside the file once it was moved into the cache: its record of
    /// written ranges, and a ready copy that was not kept (or an earlier run's, when this
    /// one wrote none).
    pub fn clean_up(&self) {
        let _ = std::fs::remove_file(self.ranges_path());
        let _ = std::fs::remove_file(self.ready_path());
    }
}

/// How many bytes from `start` on the `written` ranges cover without a gap.
fn covered_from(start: u64, written: &[Range<u64>]) -> u64 {
    let mut pos = start;
    while let Some(r) = written.iter().find(|r| r.start <= pos && pos < r.end) {
        pos = r.end;
    }
    pos - start
}

/// True when `path` still names the open `file` (same device and inode).
fn same_file(file: &std::fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covered_bytes_follow_adjacent_ranges_and_stop_at_a_gap() {
        let written = [0..10, 10..25, 40..50];
        assert_eq!(covered_from(0, &written), 25);
        assert_eq!(covered_from(5, &written), 20);
        assert_eq!(covered_from(25, &written), 0);
        assert_eq!(covered_from(40, &written), 10);
        assert_eq!(covered_from(0, &[]), 0);
    }
}
