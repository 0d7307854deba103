//! A domain failure with its hint kept as data: the request was wrong (`Usage`) or the
//! operation ran and failed (`Failed`). Domain code builds these and never decides exit
//! codes or prints; the command layer (`error`) maps them, with every other typed error,
//! to a message and an exit code in one place.

use std::fmt;
use std::io;

/// What kind of failure a `Problem` is; `error::exit_code` turns it into 2 or 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The request is wrong: bad arguments, a path outside the repository or not found.
    Usage,
    /// The operation ran and something failed.
    Failed,
}

#[derive(Debug)]
pub struct Problem {
    pub kind: Kind,
    pub message: String,
    /// What to do next, shown on its own `hint:` line.
    pub hint: Option<String>,
}

/// The message, then the hint on its own `hint:` line: the form `Ui::error` shows, where
/// the hint goes last even when the problem is wrapped in context.
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\nhint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problem {}

fn problem(kind: Kind, message: String, hint: Option<String>) -> anyhow::Error {
    Problem {
        kind,
        message,
        hint,
    }
    .into()
}

/// A usage error (exit 2) with a message.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    problem(Kind::Usage, message.into(), None)
}

/// A usage error (exit 2) with a message and what to do next.
pub fn usage_with_hint(message: impl Into<String>, hint: impl Into<String>) -> anyhow::Error {
    problem(Kind::Usage, message.into(), Some(hint.into()))
}

/// A failure (exit 1) with a message.
pub fn failed(message: impl Into<String>) -> anyhow::Error {
    problem(Kind::Failed, message.into(), None)
}

/// A failure (exit 1) with a message and what to do next.
pub fn failed_with_hint(message: impl Into<String>, hint: impl Into<String>) -> anyhow::Error {
    problem(Kind::Failed, message.into(), Some(hint.into()))
}

/// True when an error was caused by a full disk, so the message can say so.
pub fn is_disk_full(err: &anyhow::Error) -> bool {
    let full =
        |e: &io::Error| e.raw_os_error() == Some(28) || e.kind() == io::ErrorKind::StorageFull;
    err.chain().any(|c| {
        c.downcast_ref::<io::Error>().is_some_and(full)
            || matches!(c.downcast_ref::<crate::cache::CacheError>(), Some(crate::cache::CacheError::Io(e)) if full(e))
    })
}
