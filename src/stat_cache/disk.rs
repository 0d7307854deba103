//! The stat cache's version-2 file, read in place from a memory map (layout in `mod.rs`).

use super::{DirSummary, Stat};
use crate::hash::Hash;
use crate::le::{u32_at, u64_at};
use std::path::Path;

pub(super) const MAGIC: &[u8; 8] = b"MLVSTATC";
pub(super) const VERSION: u32 = 3;
pub(super) const HEADER: usize = 32;
pub(super) const RECORD: usize = 72;
/// Maps smaller than this (about 100,000 records) stay resident: see `Base::release`.
const RELEASE_ABOVE: usize = 8 << 20;

/// The version-2 file, checked for a consistent layout when it is opened.
pub(super) struct Base {
    map: memmap2::Mmap,
    pub(super) count: usize,
    blob_len: usize,
}

impl Base {
    pub(super) fn open(path: &Path) -> Option<(Base, Vec<DirSummary>)> {
        let (base, dirs_at, version) = Base::map(path)?;
        let table = &base.map[dirs_at..];
        let dirs = match version {
            2 => postcard::from_bytes::<Vec<(String, [u8; 32], [u8; 32], Option<[u8; 32]>)>>(table)
                .ok()?
                .into_iter()
                .map(|(d, g, m, c)| (d, g, m, c, Vec::new()))
                .collect(),
            _ => postcard::from_bytes(table).ok()?,
        };
        // Every record must name a path inside the blob.
        let sound = (0..base.count).all(|i| base.try_path(i).is_some());
        base.release(0..base.count);
        sound.then_some((base, dirs))
    }

    /// Opens a file this process has just written, without checking every record (which
    /// would read all of a million-entry file into memory).
    pub(super) fn open_written(path: &Path) -> Option<Base> {
        Base::map(path).map(|(base, _, _)| base)
    }

    /// Maps the file and checks its header and layout; returns where the folder table is
    /// and the file's version.
    fn map(path: &Path) -> Option<(Base, usize, u32)> {
        let file = std::fs::File::open(path).ok()?;
        // SAFETY: the file is only ever replaced by rename, never written in place.
        let map = unsafe { memmap2::Mmap::map(&file) }.ok()?;
        let header = map.get(..HEADER)?;
        let version = u32_at(header, 8);
        if &header[..8] != MAGIC || !(2..=VERSION).contains(&version) {
            return None;
        }
        let count = u32_at(header, 12) as usize;
        let blob_len = usize::try_from(u64_at(header, 16)).ok()?;
        let dirs_len = usize::try_from(u64_at(header, 24)).ok()?;
        let dirs_at = HEADER
            .checked_add(count.checked_mul(RECORD)?)?
            .checked_add(blob_len)?;
        if dirs_at.checked_add(dirs_len)? != map.len() {
            return None;
        }
        let base = Base {
            map,
            count,
            blob_len,
        };
        Some((base, dirs_at, version))
    }

    /// Drops the pages of records `range` and of their paths from this process's memory
    /// (not from the page cache: the next access reads them back from there). A walk over
    /// a million records otherwise kept the whole map (95 MB) resident to the end.
    pub(super) fn release(&self, range: std::ops::Range<usize>) {
        // A small file's pages cost less held than dropped: each drop is a system call and
        // every later lookup faults its page back in (a tenth of an unchanged status at
        // 20,000 files, where the whole map is 2 MB).
        if self.map.len() < RELEASE_ABOVE {
            return;
        }
        let Some(last) = range.end.checked_sub(1).filter(|l| *l >= range.start) else {
            return;
        };
        let off = |i: usize| u32_at(self.record(i), 0) as usize;
        let blob = HEADER + self.count * RECORD;
        let paths = (
            off(range.start),
            off(last) + u32_at(self.record(last), 4) as usize,
        );
        let spans = [
            (HEADER + range.start * RECORD, HEADER + range.end * RECORD),
            (blob + paths.0, blob + paths.1.min(self.blob_len)),
        ];
        for (start, end) in spans {
            if start < end {
                // SAFETY: a private read-only map of a file that is only ever replaced by
                // rename, never written in place: pages dropped read back the same bytes.
                let _ = unsafe {
                    self.map.unchecked_advise_range(
                        memmap2::UncheckedAdvice::DontNeed,
                        start,
                        end - start,
                    )
                };
            }
        }
    }

    pub(super) fn len(&self) -> usize {
        self.map.len()
    }

    fn record(&self, i: usize) -> &[u8] {
        &self.map[HEADER + i * RECORD..HEADER + (i + 1) * RECORD]
    }

    fn try_path(&self, i: usize) -> Option<&[u8]> {
        let r = self.record(i);
        let (off, len) = (u32_at(r, 0) as usize, u32_at(r, 4) as usize);
        let end = off.checked_add(len).filter(|e| *e <= self.blob_len)?;
        let blob = HEADER + self.count * RECORD;
        Some(&self.map[blob + off..blob + end])
    }

    pub(super) fn path(&self, i: usize) -> &[u8] {
        self.try_path(i).unwrap_or_default()
    }

    pub(super) fn entry(&self, i: usize) -> (Stat, Hash) {
        let r = self.record(i);
        let stat = Stat::new(
            u64_at(r, 8),
            u64_at(r, 16) as i64,
            u64_at(r, 24) as i64,
            u64_at(r, 32),
        );
        let hash: [u8; 32] = r[40..72].try_into().expect("32 bytes");
        (stat, Hash::from_bytes(hash))
    }

    /// The first record whose path is not less than `path`.
    pub(super) fn lower_bound(&self, path: &[u8]) -> usize {
        self.lower_bound_of(&[path])
    }

    /// The first record whose path is not less than the concatenation of `parts`.
    pub(super) fn lower_bound_of(&self, parts: &[&[u8]]) -> usize {
        let (mut lo, mut hi) = (0, self.count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if cmp_parts(self.path(mid), parts).is_lt() {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// The record whose path is the concatenation of `parts`.
    pub(super) fn find_parts(&self, parts: &[&[u8]]) -> Option<usize> {
        let i = self.lower_bound_of(parts);
        (i < self.count && cmp_parts(self.path(i), parts).is_eq()).then_some(i)
    }

    pub(super) fn find(&self, path: &str) -> Option<usize> {
        self.find_parts(&[path.as_bytes()])
    }
}

/// Compares `stored` with the concatenation of `parts`, without building it.
pub(super) fn cmp_parts(mut stored: &[u8], parts: &[&[u8]]) -> std::cmp::Ordering {
    for part in parts {
        let n = part.len().min(stored.len());
        let ord = stored[..n].cmp(&part[..n]);
        if ord.is_ne() || n < part.len() {
            return ord.then(std::cmp::Ordering::Less);
        }
        stored = &stored[n..];
    }
    if stored.is_empty() {
        std::cmp::Ordering::Equal
    } else {
        std::cmp::Ordering::Greater
    }
}
