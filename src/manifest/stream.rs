//! Parsing a manifest entry by entry: each entry is checked (order, safe path, no `.git`
//! segment) and handed over as it is parsed, so a caller that keeps less than the entry
//! (a plan, a hash) never holds the million parsed entries (about 100 MB) at once.

use super::{Entry, FORMAT, Manifest, ManifestError, VERSION};
use crate::cache::{Cache, CacheError};
use crate::hash::Hash;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// What a manifest held: its number of files and their total size.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub files: u64,
    pub size: u64,
}

impl Manifest {
    /// Calls `each` with every entry of the manifest object `hash`, in order, as it
    /// streams from the cache, every byte checked against the hash (see `read_cached`,
    /// whose errors these are). After an entry that fails a check none is handed over;
    /// a caller acts on what it was handed only once this returned its totals.
    pub fn stream_cached(
        cache: &Cache,
        hash: &Hash,
        each: impl FnMut(Entry),
    ) -> Result<Result<Totals, ManifestError>, CacheError> {
        let mut reader = cache.open_verifying(hash)?;
        let parsed = parse(
            &mut serde_json::Deserializer::from_reader(&mut reader),
            hash,
            each,
        );
        reader.finish()?;
        Ok(parsed)
    }
}

/// Parses a manifest document, handing each checked entry to `each`.
pub(super) fn parse<'de, D>(
    de: D,
    hash: &Hash,
    mut each: impl FnMut(Entry),
) -> Result<Totals, ManifestError>
where
    D: Deserializer<'de, Error = serde_json::Error>,
{
    let invalid = |reason: String| ManifestError::Invalid {
        hash: hash.to_string(),
        reason,
    };
    let mut check = Check {
        each: &mut each,
        prev: String::new(),
        unsorted: None,
        unsafe_path: None,
        reserved: None,
        totals: Totals::default(),
    };
    let (format, version) = de
        .deserialize_struct("Document", &["format", "version", "entries"], &mut check)
        .map_err(|e| invalid(e.to_string()))?;
    if format != FORMAT {
        return Err(invalid(format!("unknown format `{format}`")));
    }
    if version > VERSION {
        return Err(ManifestError::Newer {
            hash: hash.to_string(),
            version,
        });
    }
    if let Some(path) = check.unsorted {
        return Err(invalid(format!(
            "entries not sorted or repeated at `{path}`"
        )));
    }
    if let Some(path) = check.unsafe_path {
        return Err(invalid(format!(
            "unsafe path `{path}` (absolute, or with `.`/`..` segments)"
        )));
    }
    // A `.git` folder inside a tracked directory would be a nested repository whose
    // config git runs commands from (`core.fsmonitor`): never materialized.
    if let Some(path) = check.reserved {
        return Err(ManifestError::Reserved {
            hash: hash.to_string(),
            path,
        });
    }
    Ok(check.totals)
}

/// The checks on entries, the first failure of each kind kept (they are reported in a
/// fixed order once the whole document is read).
struct Check<'f> {
    each: &'f mut dyn FnMut(Entry),
    prev: String,
    unsorted: Option<String>,
    unsafe_path: Option<String>,
    reserved: Option<String>,
    totals: Totals,
}

impl Check<'_> {
    fn see(&mut self, e: Entry) {
        let first = self.totals.files == 0;
        if self.unsorted.is_none() && !first && self.prev.as_bytes() >= e.path.as_bytes() {
            self.unsorted = Some(e.path.clone());
        }
        if self.unsafe_path.is_none() && !crate::paths::is_safe_relative(&e.path) {
            self.unsafe_path = Some(e.path.clone());
        }
        if self.reserved.is_none() && crate::paths::has_git_segment(&e.path) {
            self.reserved = Some(e.path.clone());
        }
        self.totals.files += 1;
        self.totals.size = self.totals.size.saturating_add(e.size);
        self.prev.clear();
        self.prev.push_str(&e.path);
        if self.unsorted.is_none() && self.unsafe_path.is_none() && self.reserved.is_none() {
            (self.each)(e);
        }
    }
}

impl<'de> Visitor<'de> for &mut Check<'_> {
    type Value = (String, u32);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("struct Document")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut format, mut version, mut entries) = (None, None, false);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "format" if format.is_some() => return Err(de::Error::duplicate_field("format")),
                "format" => format = Some(map.next_value::<String>()?),
                "version" if version.is_some() => {
                    return Err(de::Error::duplicate_field("version"));
                }
                "version" => version = Some(map.next_value::<u32>()?),
                "entries" if entries => return Err(de::Error::duplicate_field("entries")),
                "entries" => {
                    map.next_value_seed(Entries(&mut *self))?;
                    entries = true;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let format = format.ok_or_else(|| de::Error::missing_field("format"))?;
        let version = version.ok_or_else(|| de::Error::missing_field("version"))?;
        match entries {
            true => Ok((format, version)),
            false => Err(de::Error::missing_field("entries")),
        }
    }
}

/// The `entries` array, each element handed to the checks as it is parsed.
struct Entries<'c, 'f>(&'c mut Check<'f>);

impl<'de> DeserializeSeed<'de> for Entries<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Entries<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(e) = seq.next_element::<Entry>()? {
            self.0.see(e);
        }
        Ok(())
    }
}
