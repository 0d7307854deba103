//! Little-endian integers read from the binary formats git-mlv writes (pack indexes, the
//! stat cache); callers have checked the length, so a short slice is a bug.

pub fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

pub fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}
