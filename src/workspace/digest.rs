//! What a listing records: its manifest, built or streamed, and the digests that tell
//! whether it would be the same manifest without building one (one per folder, then one for
//! the tree).

use super::FileEntry;
use crate::hash::Hash;
use std::io;

/// The manifest of listed files with their hashes: what the directory is as a version.
pub fn manifest_of(files: &[FileEntry], hashes: &[Hash]) -> crate::manifest::Manifest {
    let entries = files
        .iter()
        .zip(hashes)
        .map(|(f, h)| crate::manifest::Entry {
            path: f.rel.clone(),
            hash: *h,
            size: f.meta.len(),
            exec: f.exec(),
        })
        .collect();
    crate::manifest::Manifest::new(entries)
}

/// The hash of `manifest_of(files, hashes)` for files as `list_dir` sorts them, streamed:
/// its bytes are never held.
pub fn manifest_hash<'h>(
    files: &'h [FileEntry],
    hashes: impl IntoIterator<Item = &'h Hash>,
) -> Hash {
    crate::manifest::hash_of_sorted(manifest_refs(files, hashes))
}

/// Writes the bytes of `manifest_of(files, hashes)` to `out` as it goes.
pub fn write_manifest<'h>(
    out: &mut dyn io::Write,
    files: &'h [FileEntry],
    hashes: impl IntoIterator<Item = &'h Hash>,
) -> io::Result<()> {
    crate::manifest::write_sorted(out, manifest_refs(files, hashes))
}

fn manifest_refs<'a>(
    files: &'a [FileEntry],
    hashes: impl IntoIterator<Item = &'a Hash>,
) -> impl Iterator<Item = crate::manifest::EntryRef<'a>> {
    files
        .iter()
        .zip(hashes)
        .map(|(f, h)| crate::manifest::EntryRef {
            path: f.rel.as_str(),
            hash: h,
            size: f.meta.len(),
            exec: f.exec(),
        })
}

/// A digest of what `manifest_of` would record for these files (path, hash, size, exec):
/// equal digests mean equal manifests, without building or reading one. It is made of one
/// digest per folder (`folder_digest`), so `status` can tell which folders moved.
pub fn listing_digest<'h>(files: &[FileEntry], hashes: impl IntoIterator<Item = &'h Hash>) -> Hash {
    // Sorted by path, each folder's own files come in name order.
    let mut folders: std::collections::BTreeMap<&str, blake3::Hasher> = Default::default();
    for (f, hash) in files.iter().zip(hashes) {
        let (folder, name) = f.rel.rsplit_once('/').unwrap_or(("", &f.rel));
        let h = folders.entry(folder).or_default();
        digest_file(h, name, hash, f.meta.len(), f.exec());
    }
    tree_digest(
        folders
            .iter()
            .map(|(folder, h)| (*folder, Hash::from_bytes(*h.finalize().as_bytes()))),
    )
}

/// The digest of one folder's own files (name, hash, size, exec), in name order.
pub fn folder_digest<'a>(files: impl Iterator<Item = (&'a str, &'a Hash, u64, bool)>) -> Hash {
    let mut h = blake3::Hasher::new();
    for (name, hash, size, exec) in files {
        digest_file(&mut h, name, hash, size, exec);
    }
    Hash::from_bytes(*h.finalize().as_bytes())
}

fn digest_file(h: &mut blake3::Hasher, name: &str, hash: &Hash, size: u64, exec: bool) {
    h.update(name.as_bytes());
    h.update(&[0]);
    h.update(hash.as_bytes());
    h.update(&size.to_le_bytes());
    h.update(&[u8::from(exec)]);
}

/// The digest of a listing from its folders' digests, folders in path order ("" first).
pub fn tree_digest<'a>(folders: impl Iterator<Item = (&'a str, Hash)>) -> Hash {
    let mut h = blake3::Hasher::new();
    for (folder, digest) in folders {
        h.update(folder.as_bytes());
        h.update(&[0]);
        h.update(digest.as_bytes());
    }
    Hash::from_bytes(*h.finalize().as_bytes())
}
