//! Content hashes: BLAKE3 digests written `b3:<64 hex>`, so `b3sum` checks a file by hand,
//! and the hashing of files with bounded memory however big they are.

use std::fmt;
use std::io::{self, Read, Write};
use std::str::FromStr;
use std::sync::mpsc;

/// Files at or below this size are read whole and hashed on one thread; the parallelism
/// for many small files comes from hashing many files at once.
pub const SMALL_FILE: u64 = 4 << 20;
/// Chunk size for big files: large enough for blake3's multithreaded hashing to pay off,
/// small enough that a few chunks in flight bound memory (~32 MiB whatever the file size).
const CHUNK: usize = 8 << 20;
/// Size of each `write()` of a chunk to its destination.
const WRITE: usize = 1 << 20;
const PREFIX: &str = "b3:";

/// A BLAKE3 digest of some bytes: a file, or a directory's manifest.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hash([u8; 32]);

#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a git-mlv hash: expected `b3:` followed by 64 lowercase hex digits")]
pub struct ParseHashError(pub String);

impl Hash {
    pub fn of(bytes: &[u8]) -> Self {
        Hash(*blake3::hash(bytes).as_bytes())
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Hash(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex digest without the `b3:` prefix.
    pub fn hex(&self) -> String {
        blake3::Hash::from_bytes(self.0).to_hex().to_string()
    }

    /// The object key shared by the cache and every remote: `b3/<2 hex>/<62 hex>`.
    pub fn key(&self) -> String {
        let hex = self.hex();
        format!("b3/{}/{}", &hex[..2], &hex[2..])
    }

    /// A short form for messages.
    pub fn short(&self) -> String {
        format!("{PREFIX}{}", &self.hex()[..12])
    }

    /// The hash an object key names, for keys of the form `b3/xx/<62 hex>`.
    pub fn from_key(key: &str) -> Option<Self> {
        let rest = key.strip_prefix("b3/")?.as_bytes();
        if rest.len() != 65 || rest[2] != b'/' {
            return None;
        }
        let mut hex = [0u8; 64];
        hex[..2].copy_from_slice(&rest[..2]);
        hex[2..].copy_from_slice(&rest[3..]);
        decode_hex(&hex).map(Hash)
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX}{}", self.hex())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Hash {
    type Err = ParseHashError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.strip_prefix(PREFIX)
            .and_then(|hex| decode_hex(hex.as_bytes()))
            .map(Hash)
            .ok_or_else(|| ParseHashError(s.to_string()))
    }
}

/// 64 lowercase hex digits as 32 bytes; anything else (upper case too) is `None`. Status
/// parses one per manifest entry and cache object, so this is one pass without allocation.
fn decode_hex(hex: &[u8]) -> Option<[u8; 32]> {
    fn nibble(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            _ => None,
        }
    }
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        *byte = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

impl serde::Serialize for Hash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Hash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Reads `reader` to the end and returns the hash of its bytes, copying them to `sink` on
/// the way. Reading runs on its own thread so disk reads overlap hashing and writing: a big
/// file is read exactly once, whether it is only hashed or also stored.
pub fn hash_copy<R: Read + Send, W: Write + Send>(
    reader: R,
    sink: &mut W,
) -> io::Result<(Hash, u64)> {
    let (full_tx, full_rx) = mpsc::sync_channel::<io::Result<Vec<u8>>>(2);
    let (empty_tx, empty_rx) = mpsc::sync_channel::<Vec<u8>>(3);
    std::thread::scope(|scope| {
        scope.spawn(move || read_chunks(reader, full_tx, empty_rx));
        let mut hasher = blake3::Hasher::new();
        let mut total = 0u64;
        for chunk in full_rx {
            let chunk = chunk?;
            total += chunk.len() as u64;
            // 1 MiB writes: on this kind of VM, 8 MiB `write()` calls measured 5-10x slower.
            let (_, written) = rayon::join(
                || hasher.update_rayon(&chunk),
                || {
                    chunk
                        .chunks(WRITE)
                        .try_for_each(|part| sink.write_all(part))
                },
            );
            written?;
            // The reader may have stopped already; a lost buffer is then just freed.
            let _ = empty_tx.send(chunk);
        }
        Ok((Hash(*hasher.finalize().as_bytes()), total))
    })
}

/// The hash of an object assembled from consecutive pieces hashed independently (a
/// download written in several ranges at once): each piece is a BLAKE3 subtree, so its
/// bytes are hashed as they arrive and the pieces are joined at the end, instead of the
/// whole object being read back. Every piece but the last is `piece` bytes, a power of two
/// of at least one BLAKE3 chunk, so the pieces line up with BLAKE3's own tree.
pub struct PieceHasher {
    piece: u64,
    size: u64,
    hashers: Vec<blake3::Hasher>,
}

impl PieceHasher {
    pub fn new(piece: u64, size: u64) -> Self {
        assert!(piece.is_power_of_two() && piece >= blake3::CHUNK_LEN as u64);
        use blake3::hazmat::HasherExt;
        let hashers = (0..size.div_ceil(piece).max(1))
            .map(|i| {
                let mut h = blake3::Hasher::new();
                h.set_input_offset(i * piece);
                h
            })
            .collect();
        PieceHasher {
            piece,
            size,
            hashers,
        }
    }

    /// One hasher per piece, each fed that piece's bytes in order.
    pub fn pieces(&mut self) -> &mut [blake3::Hasher] {
        &mut self.hashers
    }

    pub fn finalize(&self) -> Hash {
        use blake3::hazmat::{HasherExt, Mode, merge_subtrees_non_root, merge_subtrees_root};
        if self.hashers.len() == 1 {
            return Hash(*self.hashers[0].finalize().as_bytes());
        }
        // BLAKE3's tree: the left subtree holds the largest power-of-two number of chunks
        // short of the whole, which with power-of-two pieces is a whole number of pieces.
        fn subtree(
            hashers: &[blake3::Hasher],
            piece: u64,
            len: u64,
        ) -> blake3::hazmat::ChainingValue {
            if hashers.len() == 1 {
                return hashers[0].finalize_non_root();
            }
            let left = blake3::hazmat::left_subtree_len(len);
            let split = (left / piece) as usize;
            merge_subtrees_non_root(
                &subtree(&hashers[..split], piece, left),
                &subtree(&hashers[split..], piece, len - left),
                Mode::Hash,
            )
        }
        let left = blake3::hazmat::left_subtree_len(self.size);
        let split = (left / self.piece) as usize;
        let root = merge_subtrees_root(
            &subtree(&self.hashers[..split], self.piece, left),
            &subtree(&self.hashers[split..], self.piece, self.size - left),
            Mode::Hash,
        );
        Hash(*root.as_bytes())
    }
}

fn read_chunks<R: Read>(
    mut reader: R,
    full: mpsc::SyncSender<io::Result<Vec<u8>>>,
    empty: mpsc::Receiver<Vec<u8>>,
) {
    let mut spare = 3;
    loop {
        let mut buf = match empty.try_recv() {
            Ok(buf) => buf,
            Err(_) if spare > 0 => {
                spare -= 1;
                Vec::with_capacity(CHUNK)
            }
            Err(_) => match empty.recv() {
                Ok(buf) => buf,
                Err(_) => return,
            },
        };
        buf.clear();
        match (&mut reader).take(CHUNK as u64).read_to_end(&mut buf) {
            Ok(0) => return,
            Ok(_) => {
                if full.send(Ok(buf)).is_err() {
                    return;
                }
            }
            Err(e) => {
                let _ = full.send(Err(e));
                return;
            }
        }
    }
}

/// A set of hashes as one sorted array: 32 bytes a hash where a hash table takes about
/// twice that, which counts at a million objects.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SortedHashes(Vec<Hash>);

impl SortedHashes {
    pub fn contains(&self, hash: &Hash) -> bool {
        self.0.binary_search(hash).is_ok()
    }

    /// Where `hash` sits in the set (0..len), when present.
    pub fn position(&self, hash: &Hash) -> Option<usize> {
        self.0.binary_search(hash).ok()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Hash> {
        self.0.iter()
    }
}

impl FromIterator<Hash> for SortedHashes {
    fn from_iter<I: IntoIterator<Item = Hash>>(iter: I) -> Self {
        let mut v: Vec<Hash> = iter.into_iter().collect();
        v.sort_unstable();
        v.dedup();
        SortedHashes(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse_round_trip() {
        let h = Hash::of(b"hello");
        let s = h.to_string();
        assert!(s.starts_with("b3:"));
        assert_eq!(s.len(), 67);
        assert_eq!(s.parse::<Hash>().unwrap(), h);
        assert_eq!(Hash::from_key(&h.key()), Some(h));
    }

    #[test]
    fn pieces_hashed_apart_join_to_the_whole_hash() {
        let bytes: Vec<u8> = (0..40_000u32).map(|i| (i * 7 % 251) as u8).collect();
        for piece in [1024u64, 2048, 8192] {
            for size in [1, 1024, 1025, 2048, 5000, 8192, 8193, 24_576, 40_000] {
                let data = &bytes[..size as usize];
                let mut h = PieceHasher::new(piece, size);
                // Fed out of order, as ranges finish in any order.
                for (i, hasher) in h.pieces().iter_mut().enumerate().rev() {
                    let start = i * piece as usize;
                    let end = (start + piece as usize).min(data.len());
                    for part in data[start..end].chunks(300) {
                        hasher.update(part);
                    }
                }
                assert_eq!(h.finalize(), Hash::of(data), "piece {piece}, size {size}");
            }
        }
    }

    #[test]
    fn sorted_hashes_hold_each_hash_once() {
        let set: SortedHashes = [b"b", b"a", b"b"].iter().map(|b| Hash::of(*b)).collect();
        assert_eq!(set.len(), 2);
        assert!(set.contains(&Hash::of(b"a")) && set.contains(&Hash::of(b"b")));
        assert!(!set.contains(&Hash::of(b"c")));
        let (a, b) = (set.position(&Hash::of(b"a")), set.position(&Hash::of(b"b")));
        assert!(a.is_some() && b.is_some() && a != b);
        assert!(set.iter().is_sorted());
    }

    #[test]
    fn matches_b3sum_of_known_input() {
        // b3sum of the empty input
        assert_eq!(
            Hash::of(b"").to_string(),
            "b3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
    }

    #[test]
    fn rejects_malformed_hashes() {
        for bad in [
            "",
            "b3:",
            "sha256:00",
            "b3:ABCDEF",
            &format!("b3:{}", "g".repeat(64)),
            &format!("b3:{}", "A".repeat(64)),
            &format!("b3:{}", "a".repeat(63)),
            &format!("b3:{}", "a".repeat(65)),
        ] {
            assert!(bad.parse::<Hash>().is_err(), "{bad}");
        }
        let key = Hash::of(b"x").key();
        assert_eq!(Hash::from_key(&key), Some(Hash::of(b"x")));
        for bad in [
            key.replacen('/', "_", 2),
            key.to_uppercase(),
            format!("{key}0"),
            key[..key.len() - 1].to_string(),
            format!("b3/{}", &key[6..]),
            format!("{}.objAbC", &key[..6]),
        ] {
            assert_eq!(Hash::from_key(&bad), None, "{bad}");
        }
    }

    #[test]
    fn hash_copy_matches_one_shot_hash_across_chunks() {
        let data: Vec<u8> = (0..(CHUNK * 2 + 12345)).map(|i| (i % 251) as u8).collect();
        let mut out = Vec::new();
        let (h, n) = hash_copy(&data[..], &mut out).unwrap();
        assert_eq!(n as usize, data.len());
        assert_eq!(out, data);
        assert_eq!(h, Hash::of(&data));
    }
}
