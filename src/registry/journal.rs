//! The registry's journal: every event of an artifact (each registry tag, with its tagger
//! and message), newest first, in `gto history`'s order and words.

use super::{Action, Registry};
use crate::gitx::{GitError, GitRepo};

/// One registry event, with `gto history --json`'s fields (its `ref` is `tag` here).
#[derive(Debug, Clone, serde::Serialize)]
pub struct JournalEvent {
    /// Tagger time in UTC, as GTO prints it: `2026-01-31T09:05:00+00:00`.
    pub timestamp: String,
    /// The same, seconds since the epoch.
    pub time: i64,
    pub artifact: String,
    /// GTO's name: `registration`, `deregistration`, `assignment`, `unassignment`,
    /// `deprecation` or `creation`.
    pub event: &'static str,
    /// The version the tag names; for a stage tag the one registered at its commit (the
    /// commit itself when none is, as GTO reads it); none for a deprecation.
    pub version: Option<String>,
    pub stage: Option<String>,
    pub commit: String,
    pub author: String,
    pub author_email: String,
    pub message: String,
    pub tag: String,
}

impl Action {
    /// GTO's event name and its rank among events of the same second.
    fn journal(&self) -> (&'static str, u8) {
        match self {
            Action::Create => ("creation", 1),
            Action::Deprecate => ("deprecation", 2),
            Action::Register(_) => ("registration", 3),
            Action::Deregister(_) => ("deregistration", 4),
            Action::Assign(_) => ("assignment", 5),
            Action::Unassign(_) => ("unassignment", 6),
        }
    }
}

impl Registry {
    /// Every event of `name`, newest first: by tagger time, then GTO's rank of events of
    /// the same second (an unassignment after an assignment, both after a registration).
    pub fn journal(&self, git: &GitRepo, name: &str) -> Result<Vec<JournalEvent>, GitError> {
        let mut out = Vec::new();
        for e in self.events(name) {
            let (event, rank) = e.action.journal();
            let (version, stage) = match &e.action {
                Action::Register(v) | Action::Deregister(v) => (Some(v.to_string()), None),
                Action::Assign(s) | Action::Unassign(s) => {
                    (Some(self.version_at(name, &e.commit)), Some(s.clone()))
                }
                Action::Deprecate | Action::Create => (None, None),
            };
            let note = git.tag_note(&e.tag)?.unwrap_or_default();
            out.push((
                rank,
                JournalEvent {
                    timestamp: crate::gitx::utc_time(e.time),
                    time: e.time,
                    artifact: name.to_string(),
                    event,
                    version,
                    stage,
                    commit: e.commit.clone(),
                    author: note.author,
                    author_email: note.author_email,
                    message: note.message,
                    tag: e.tag.clone(),
                },
            ));
        }
        // Stable: events of the same second and rank keep the counter order.
        out.sort_by_key(|(rank, e)| (e.time, *rank));
        Ok(out.into_iter().rev().map(|(_, e)| e).collect())
    }
}
