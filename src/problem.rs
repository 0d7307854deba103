//! What a domain error says besides its message, kept as data: whose fault it is (`Kind`)
//! and what to do next (the hint). Every typed domain error implements [`Hinted`]; a
//! `Problem` is the one for cases no typed error fits. Domain code never decides exit codes
//! or prints; the command layer (`error`) finds these in an error chain, in one place, and
//! `Ui::error` shows the hint on the last line.

use std::fmt;

/// Whose fault an error is; `error::exit_code` turns it into 2 or 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The request is wrong: bad arguments, a path outside the repository or not found.
    Usage,
    /// The operation ran and something failed.
    Failed,
}

/// A typed domain error's kind and hint. Its `Display` is the message alone: the hint is
/// shown once, on the last line, however deep the error sits in a chain.
pub trait Hinted: std::error::Error {
    fn kind(&self) -> Kind;

    /// What to do next, shown on its own `hint:` line.
    fn hint(&self) -> Option<String> {
        None
    }
}

/// A message followed by its hint line: the text a hinted error stood for when it is
/// folded into a longer message (a listing of failed objects, a JSON `error` field).
pub fn with_hint(message: impl fmt::Display, hint: Option<&str>) -> String {
    match hint {
        Some(hint) => format!("{message}\nhint: {hint}"),
        None => message.to_string(),
    }
}

/// The command layer's reading of an error chain, handed to domain code that folds an
/// error into a longer message (the scheduler's failed stages): the chain walk and its list
/// of typed errors live in `error`, which the domain does not import.
#[derive(Clone, Copy)]
pub struct Reader {
    /// The kind of the first typed error in the chain; `Failed` when there is none.
    pub kind: fn(&anyhow::Error) -> Kind,
    /// The chain as `{:#}` shows it, each typed error followed by its hint line.
    pub text: fn(&anyhow::Error) -> String,
}

#[derive(Debug)]
pub struct Problem {
    pub kind: Kind,
    pub message: String,
    /// What to do next, shown on its own `hint:` line.
    pub hint: Option<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Problem {}

impl Hinted for Problem {
    fn kind(&self) -> Kind {
        self.kind
    }

    fn hint(&self) -> Option<String> {
        self.hint.clone()
    }
}

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
