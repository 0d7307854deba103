//! Packs on remotes: many small objects in one `packs/<hash>.pack` with an index
//! `packs/<hash>.idx` that says where each object lies (see `docs/formats.md`). This module
//! is the format: the index's bytes, where an object lies, and which ranges to read for a
//! set of objects; `writer` builds a pack from cache objects, `local` keeps a remote's
//! indexes on this machine.

mod local;
mod sweep;
mod writer;

pub use local::{Inventory, LocalIndexes, Location};
pub use sweep::{Listing, Plan, Repack, plan};
pub use writer::{Built, PackWriter};

use crate::hash::Hash;
use crate::le::{u32_at, u64_at};

/// The first bytes of every pack: the format and its version.
pub const PACK_MAGIC: &[u8; 8] = b"MLVPACK1";
/// The first bytes of every index, then a u32 version and a u64 count (little-endian).
const INDEX_MAGIC: &[u8; 8] = b"MLVINDEX";
const INDEX_VERSION: u32 = 1;
const HEADER: usize = 8 + 4 + 8;
const ENTRY: usize = 32 + 8 + 8;
const TRAILER: usize = 32 + 32;
/// Where packs and their indexes live on a remote.
pub const DIR: &str = "packs/";
/// Packs close once they hold about this many bytes.
pub const PACK_SIZE: u64 = 64 << 20;
/// Objects up to this size travel in packs unless the remote says otherwise.
pub const DEFAULT_THRESHOLD: u64 = 1 << 20;
/// What a remote's `pack_threshold` may be at most: a packed object is read whole into
/// memory when it is fetched, and a pack holds about `PACK_SIZE` bytes.
pub const MAX_THRESHOLD: u64 = PACK_SIZE;
/// The inventory object a remote that cannot list (plain HTTP) keeps: one index name a line.
pub const INVENTORY_KEY: &str = "packs/inventory";
/// Objects at most this far apart in a pack are read with one request, gap included.
pub const COALESCE_GAP: u64 = 64 << 10;

/// The key of pack `pack` on a remote.
pub fn pack_key(pack: &Hash) -> String {
    format!("{DIR}{}.pack", pack.hex())
}

/// The key of the index of pack `pack` on a remote.
pub fn index_key(pack: &Hash) -> String {
    format!("{DIR}{}.idx", pack.hex())
}

/// The tombstone of pack `pack`: written when gc removes the pack's index, so the pack
/// itself stays for the grace period from then (a reader may still be reading it).
pub fn tombstone_key(pack: &Hash) -> String {
    format!("{DIR}{}.gone", pack.hex())
}

/// What a key under `packs/` is: its pack and its extension (`pack`, `idx`, `gone`).
pub fn parse_key(key: &str) -> Option<(Hash, &str)> {
    let (hex, ext) = key.strip_prefix(DIR)?.split_once('.')?;
    Some((format!("b3:{hex}").parse().ok()?, ext))
}

/// The pack an index key names (`packs/<64 hex>.idx`), or `None` for any other key.
pub fn pack_of_index_key(key: &str) -> Option<Hash> {
    let hex = key.strip_prefix(DIR)?.strip_suffix(".idx")?;
    format!("b3:{hex}").parse().ok()
}

/// Where one object lies in its pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub hash: Hash,
    pub offset: u64,
    pub length: u64,
}

/// A pack's index: its objects sorted by hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    pub pack: Hash,
    entries: Vec<Entry>,
}

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("pack index `{key}` is damaged ({why}); it was not used")]
    Damaged { key: String, why: &'static str },
}

impl Index {
    /// An index of `pack` holding `entries` (in any order).
    pub fn new(pack: Hash, mut entries: Vec<Entry>) -> Self {
        entries.sort_by_key(|e| e.hash);
        entries.dedup_by_key(|e| e.hash);
        Index { pack, entries }
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Where `hash` lies in the pack.
    pub fn find(&self, hash: &Hash) -> Option<Entry> {
        self.entries
            .binary_search_by_key(hash, |e| e.hash)
            .ok()
            .map(|i| self.entries[i])
    }

    /// The index's bytes: header, sorted entries, the pack's hash, a hash of all before it.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + self.entries.len() * ENTRY + TRAILER);
        out.extend_from_slice(INDEX_MAGIC);
        out.extend_from_slice(&INDEX_VERSION.to_le_bytes());
        out.extend_from_slice(&(self.entries.len() as u64).to_le_bytes());
        for e in &self.entries {
            out.extend_from_slice(e.hash.as_bytes());
            out.extend_from_slice(&e.offset.to_le_bytes());
            out.extend_from_slice(&e.length.to_le_bytes());
        }
        out.extend_from_slice(self.pack.as_bytes());
        let sum = Hash::of(&out);
        out.extend_from_slice(sum.as_bytes());
        out
    }

    /// Reads an index stored under `key`, refusing a damaged one: a wrong magic, version,
    /// length or checksum, entries out of order or outside the pack's object bytes, or a
    /// pack hash other than the one its key names.
    pub fn decode(key: &str, bytes: &[u8]) -> Result<Index, IndexError> {
        let damaged = |why| IndexError::Damaged {
            key: key.to_string(),
            why,
        };
        if bytes.len() < HEADER + TRAILER || &bytes[..8] != INDEX_MAGIC {
            return Err(damaged("not a git-mlv pack index"));
        }
        if u32_at(bytes, 8) != INDEX_VERSION {
            return Err(damaged("unknown version"));
        }
        let count = u64_at(bytes, 12);
        let body = bytes.len() - HEADER - TRAILER;
        if !body.is_multiple_of(ENTRY) || (body / ENTRY) as u64 != count {
            return Err(damaged("wrong length"));
        }
        let sum_at = bytes.len() - 32;
        if Hash::of(&bytes[..sum_at]).as_bytes()[..] != bytes[sum_at..] {
            return Err(damaged("checksum mismatch"));
        }
        let pack = Hash::from_bytes(bytes[sum_at - 32..sum_at].try_into().expect("32 bytes"));
        if pack_of_index_key(key).is_some_and(|named| named != pack) {
            return Err(damaged("it names another pack"));
        }
        let entries: Vec<Entry> = bytes[HEADER..HEADER + body]
            .chunks_exact(ENTRY)
            .map(|c| Entry {
                hash: Hash::from_bytes(c[..32].try_into().expect("32 bytes")),
                offset: u64_at(c, 32),
                length: u64_at(c, 40),
            })
            .collect();
        if entries.windows(2).any(|w| w[0].hash >= w[1].hash) {
            return Err(damaged("entries out of order"));
        }
        if entries
            .iter()
            .any(|e| e.offset < PACK_MAGIC.len() as u64 || e.offset.checked_add(e.length).is_none())
        {
            return Err(damaged("an entry lies outside the pack"));
        }
        Ok(Index { pack, entries })
    }
}

/// One request's worth of a pack: the byte range and the objects inside it, by offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub from: u64,
    pub to: u64,
    pub objects: Vec<Entry>,
}

/// Groups the objects wanted from one pack into ranges to read: objects at most `gap`
/// bytes apart share a range (the gap is read and dropped), and a range stops growing past
/// `max` bytes so that several requests run at once.
pub fn runs(mut wanted: Vec<Entry>, gap: u64, max: u64) -> Vec<Run> {
    wanted.sort_by_key(|e| e.offset);
    let mut out: Vec<Run> = Vec::new();
    for e in wanted {
        let end = e.offset + e.length;
        match out.last_mut() {
            Some(r)
                if e.offset <= r.to.saturating_add(gap) && end - r.from <= max.max(e.length) =>
            {
                r.to = r.to.max(end);
                r.objects.push(e);
            }
            _ => out.push(Run {
                from: e.offset,
                to: end,
                objects: vec![e],
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u8, offset: u64, length: u64) -> Entry {
        Entry {
            hash: Hash::of(&[n]),
            offset,
            length,
        }
    }

    fn sample() -> Index {
        Index::new(
            Hash::of(b"pack"),
            vec![entry(1, 8, 10), entry(2, 18, 5), entry(3, 23, 0)],
        )
    }

    #[test]
    fn an_index_round_trips_and_finds_its_objects() {
        let index = sample();
        let key = index_key(&index.pack);
        let back = Index::decode(&key, &index.encode()).unwrap();
        assert_eq!(back, index);
        assert_eq!(back.find(&Hash::of(&[2])), Some(entry(2, 18, 5)));
        assert_eq!(back.find(&Hash::of(&[9])), None);
        assert_eq!(pack_of_index_key(&key), Some(index.pack));
        assert_eq!(pack_of_index_key("packs/xyz.idx"), None);
        assert_eq!(pack_of_index_key(&pack_key(&index.pack)), None);
        assert_eq!(
            parse_key(&tombstone_key(&index.pack)),
            Some((index.pack, "gone"))
        );
        assert_eq!(parse_key("packs/inventory"), None);
    }

    #[test]
    fn a_damaged_or_truncated_index_is_refused() {
        let index = sample();
        let key = index_key(&index.pack);
        let bytes = index.encode();
        for at in [
            0,
            9,
            13,
            HEADER + 3,
            HEADER + 40,
            bytes.len() - 40,
            bytes.len() - 1,
        ] {
            let mut bad = bytes.clone();
            bad[at] ^= 1;
            assert!(Index::decode(&key, &bad).is_err(), "byte {at}");
        }
        for len in [0, HEADER, bytes.len() - 1, bytes.len() - ENTRY] {
            assert!(Index::decode(&key, &bytes[..len]).is_err(), "length {len}");
        }
        let other = index_key(&Hash::of(b"another pack"));
        let err = Index::decode(&other, &bytes).unwrap_err().to_string();
        assert!(err.contains("names another pack"), "{err}");
    }

    #[test]
    fn near_objects_share_a_range_and_ranges_stay_bounded() {
        let wanted = vec![entry(3, 100, 10), entry(1, 8, 10), entry(2, 20, 10)];
        let got = runs(wanted, 5, 1 << 20);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!((got[0].from, got[0].to), (8, 30));
        assert_eq!(got[0].objects.len(), 2);
        assert_eq!((got[1].from, got[1].to), (100, 110));
        let capped = runs(vec![entry(1, 8, 10), entry(2, 18, 10)], 64, 15);
        assert_eq!(capped.len(), 2, "{capped:?}");
        let big = runs(vec![entry(1, 8, 100)], 64, 15);
        assert_eq!((big[0].from, big[0].to), (8, 108));
    }
}
