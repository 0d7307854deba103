//! What an annotated tag says besides its name and target: its tagger and message, read
//! through gix (the registry's history shows them, as `gto history` does).

use super::{GitError, GitRepo};

/// Seconds since the epoch (a tagger's time) as `YYYY-MM-DDTHH:MM:SS+00:00`, in UTC as GTO
/// prints it.
pub fn utc_time(secs: i64) -> String {
    gix::date::Time::new(secs, 0).format_or_unix(gix::date::time::format::ISO8601_STRICT)
}

/// The tagger and message of an annotated tag.
#[derive(Debug, Clone, Default)]
pub struct TagNote {
    pub author: String,
    pub author_email: String,
    /// Without surrounding whitespace, as GTO reads it.
    pub message: String,
}

impl GitRepo {
    /// The tagger and message of the annotated tag `name`; `None` when no annotated tag has
    /// that name.
    pub fn tag_note(&self, name: &str) -> Result<Option<TagNote>, GitError> {
        let refname = format!("refs/tags/{name}");
        let bad = |reason: String| GitError::Objects {
            rev: refname.clone(),
            reason,
        };
        let Some(reference) = self
            .repo
            .try_find_reference(refname.as_str())
            .map_err(|e| bad(e.to_string()))?
        else {
            return Ok(None);
        };
        let Some(id) = reference.target().try_id().map(|id| id.to_owned()) else {
            return Ok(None);
        };
        let object = self.repo.find_object(id).map_err(|e| bad(e.to_string()))?;
        let Ok(tag) = object.try_into_tag() else {
            return Ok(None);
        };
        let decoded = tag.decode().map_err(|e| bad(e.to_string()))?;
        let tagger = decoded.tagger().map_err(|e| bad(e.to_string()))?;
        Ok(Some(TagNote {
            author: tagger.map(|s| s.name.to_string()).unwrap_or_default(),
            author_email: tagger.map(|s| s.email.to_string()).unwrap_or_default(),
            message: decoded.message.to_string().trim().to_string(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::utc_time;

    #[test]
    fn utc_times_print_as_gto_prints_them() {
        assert_eq!(utc_time(0), "1970-01-01T00:00:00+00:00");
        assert_eq!(utc_time(1_767_225_600), "2026-01-01T00:00:00+00:00");
        assert_eq!(utc_time(951_827_696), "2000-02-29T12:34:56+00:00");
        assert_eq!(utc_time(-1), "1969-12-31T23:59:59+00:00");
    }
}
