//! What `gc -r` does with a remote's packs, decided from one listing of `packs/` and the
//! indexes in it (pure: the engine carries it out). A pack whose live bytes are under half
//! its object bytes is repacked, one with none loses its index; a pack without an index
//! goes once past the grace period, counted from its tombstone (written when gc removed
//! its index) or, for one a killed push left, from its own upload.

use super::{Entry, Index};
use crate::hash::{Hash, SortedHashes};
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

/// A pack's files on the remote, as one listing of `packs/` shows them.
#[derive(Debug, Default)]
pub struct Listing {
    /// Every listed index, sound or not (a damaged one still claims its pack), with when
    /// it was written: from then on readers see the pack's objects.
    pub indexes: HashMap<Hash, SystemTime>,
    /// Packs with when they were written and their size.
    pub packs: HashMap<Hash, (SystemTime, u64)>,
    /// Tombstones: when gc removed the pack's index.
    pub tombstones: HashMap<Hash, SystemTime>,
}

/// One pack to rebuild from its live objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repack {
    pub pack: Hash,
    pub live: Vec<Entry>,
    pub live_bytes: u64,
    pub bytes: u64,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub repack: Vec<Repack>,
    /// Packs with no live object: their index goes.
    pub drop: Vec<Hash>,
    /// Packs without an index past the grace period: removed now, with their size.
    pub orphans: Vec<(Hash, u64)>,
    /// Packs without an index inside the grace period.
    pub orphans_kept: usize,
    /// Tombstones whose pack is gone.
    pub stale_tombstones: Vec<Hash>,
    /// Indexed packs younger than the grace period: never touched.
    pub kept_young: usize,
}

/// Plans the sweep. `indexes` are the sound indexes listed, `live` what the refs need. Each live object counts in one pack only: young packs first,
/// then the livest, so a copy in a second pack (a repack or a push killed and done again)
/// is dead there; a pack is repacked only into objects no kept pack holds.
pub fn plan(
    listing: &Listing,
    indexes: &[Index],
    live: &SortedHashes,
    now: SystemTime,
    grace: Duration,
) -> Plan {
    let old = |t: SystemTime| now.duration_since(t).is_ok_and(|age| age >= grace);
    let mut out = Plan::default();
    let mut order: Vec<(bool, u64, u64, &Index)> = indexes
        .iter()
        .filter_map(|index| Some((index, *listing.indexes.get(&index.pack)?)))
        .map(|(index, written)| {
            let bytes = index.entries().iter().map(|e| e.length).sum();
            let live_bytes = index
                .entries()
                .iter()
                .filter(|e| live.contains(&e.hash))
                .map(|e| e.length)
                .sum();
            (old(written), live_bytes, bytes, index)
        })
        .collect();
    let fraction = |live: u64, all: u64| (u128::from(live) << 64) / u128::from(all.max(1));
    order.sort_by(|a, b| {
        (a.0, std::cmp::Reverse(fraction(a.1, a.2)), a.3.pack).cmp(&(
            b.0,
            std::cmp::Reverse(fraction(b.1, b.2)),
            b.3.pack,
        ))
    });
    // Which live objects a pack already holds, by their place in `live` (only live ones
    // matter): a byte each instead of a set of hashes.
    let mut placed = vec![false; live.len()];
    for (is_old, _, bytes, index) in order {
        let mine: Vec<Entry> = index
            .entries()
            .iter()
            .filter(|e| live.position(&e.hash).is_some_and(|i| !placed[i]))
            .copied()
            .collect();
        if !is_old {
            out.kept_young += 1;
            for i in index
                .entries()
                .iter()
                .filter_map(|e| live.position(&e.hash))
            {
                placed[i] = true;
            }
            continue;
        }
        let live_bytes: u64 = mine.iter().map(|e| e.length).sum();
        for i in mine.iter().filter_map(|e| live.position(&e.hash)) {
            placed[i] = true;
        }
        if mine.is_empty() {
            out.drop.push(index.pack);
        } else if live_bytes * 2 < bytes {
            out.repack.push(Repack {
                pack: index.pack,
                live: mine,
                live_bytes,
                bytes,
            });
        }
    }
    for (pack, &(written, size)) in &listing.packs {
        if listing.indexes.contains_key(pack) {
            continue;
        }
        if old(listing.tombstones.get(pack).copied().unwrap_or(written)) {
            out.orphans.push((*pack, size));
        } else {
            out.orphans_kept += 1;
        }
    }
    out.orphans.sort();
    out.stale_tombstones = listing
        .tombstones
        .keys()
        .filter(|p| !listing.packs.contains_key(p) && !listing.indexes.contains_key(p))
        .copied()
        .collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u8, length: u64) -> Entry {
        Entry {
            hash: Hash::of(&[n]),
            offset: 8 + u64::from(n) * 100,
            length,
        }
    }

    fn index(name: &[u8], entries: Vec<Entry>) -> Index {
        Index::new(Hash::of(name), entries)
    }

    #[test]
    fn mostly_dead_packs_are_repacked_dead_ones_dropped_and_copies_count_once() {
        let now = SystemTime::now();
        let day = Duration::from_secs(86_400);
        let long_ago = now - 3 * day;
        let live: SortedHashes = [1u8, 2, 5, 7].iter().map(|n| Hash::of(&[*n])).collect();
        // 10 live bytes of 30: repacked; exactly half live: kept.
        let mixed = index(b"mixed", vec![entry(1, 10), entry(3, 20)]);
        let whole = index(b"whole", vec![entry(2, 10), entry(4, 10)]);
        let dead = index(b"dead", vec![entry(6, 10)]);
        // A repack's output beside its source: the copy in the source is dead.
        let copy = index(b"copy", vec![entry(5, 10)]);
        let source = index(b"source", vec![entry(5, 10), entry(8, 50)]);
        let young = index(b"young", vec![entry(7, 10), entry(9, 90)]);
        let indexes: Vec<Index> = [&mixed, &whole, &dead, &copy, &source, &young]
            .into_iter()
            .cloned()
            .collect();
        let orphan = Hash::of(b"orphan");
        let waiting = Hash::of(b"waiting");
        let mut listing = Listing {
            indexes: indexes.iter().map(|i| (i.pack, long_ago)).collect(),
            ..Listing::default()
        };
        listing.indexes.insert(young.pack, now);
        listing.packs.insert(orphan, (long_ago, 100));
        listing.packs.insert(waiting, (long_ago, 100));
        listing.tombstones.insert(waiting, now);
        listing.tombstones.insert(Hash::of(b"gone"), long_ago);
        let plan = plan(&listing, &indexes, &live, now, day);
        assert_eq!(
            plan.repack,
            vec![Repack {
                pack: mixed.pack,
                live: vec![entry(1, 10)],
                live_bytes: 10,
                bytes: 30,
            }]
        );
        let mut dropped = plan.drop.clone();
        dropped.sort();
        let mut expected = vec![dead.pack, source.pack];
        expected.sort();
        assert_eq!(dropped, expected);
        assert_eq!(plan.kept_young, 1);
        assert_eq!(plan.orphans, vec![(orphan, 100)]);
        assert_eq!(plan.orphans_kept, 1);
        assert_eq!(plan.stale_tombstones, vec![Hash::of(b"gone")]);
    }
}
