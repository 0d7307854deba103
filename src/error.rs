//! How an error becomes what the user sees: the exit code (2 when the request itself is
//! wrong, 1 when the operation ran and something failed, the table in SPEC.md) and the hint
//! shown on the last line. Domain errors carry both as data (`problem::Hinted`); this is the
//! one place that finds them in an error chain.

use std::error::Error;
use std::io;

// Domain code builds its usage errors and failures as `problem::Problem`s; the command
// layer uses the same shorthands.
use crate::problem::{Hinted, Kind, Problem, Reader};
pub use crate::problem::{failed, failed_with_hint, usage, usage_with_hint};

/// Errors raised by the command layer itself, with the exit code they stand for.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The command already told the user what happened (e.g. `status --check`); just exit.
    #[error("exit status {0}")]
    Silent(u8),
}

/// The typed domain error a cause of a chain is, if it is one: the one list of them.
fn typed<'a>(cause: &'a (dyn Error + 'static)) -> Option<&'a dyn Hinted> {
    macro_rules! first_of {
        ($($t:ty),+ $(,)?) => {
            $(if let Some(e) = cause.downcast_ref::<$t>() {
                return Some(e);
            })+
        };
    }
    first_of!(
        Problem,
        crate::pointer::PointerError,
        crate::manifest::ManifestError,
        crate::config::ConfigError,
        crate::paths::PathError,
        crate::pipeline::PipelineError,
        crate::lockfile::LockError,
        crate::registry::RegistryError,
        crate::gate::GateError,
        crate::metrics::MetricsError,
        crate::plots::PlotsError,
        crate::project::ProjectError,
        crate::gitx::GitError,
        crate::cache::CacheError,
        crate::remote::RemoteError,
        crate::ops::read::ReadError,
        crate::experiment::ExperimentError,
    );
    None
}

fn code(kind: Kind) -> u8 {
    match kind {
        Kind::Usage => 2,
        Kind::Failed => 1,
    }
}

/// What an error comes to: its exit code and the hint to show after its message, both
/// from the first error in the chain that knows its kind.
pub fn outcome(err: &anyhow::Error) -> (u8, Option<String>) {
    for cause in err.chain() {
        if let Some(CliError::Silent(code)) = cause.downcast_ref::<CliError>() {
            return (*code, None);
        }
        if let Some(e) = typed(cause) {
            return (code(e.kind()), e.hint());
        }
    }
    (1, None)
}

/// What `Ui::error` shows for an error: the chain's messages joined by `: `, and the hint
/// lines to print after it (hints pasted into a message moved to the end, then `hint`).
/// The library's other callers (the Python package) raise the same text.
pub fn message(err: &anyhow::Error, hint: Option<&str>) -> (String, Vec<String>) {
    let mut msgs = Vec::new();
    let mut hints = Vec::new();
    for cause in err.chain() {
        let text = cause.to_string();
        let (msg, hint) = match text.split_once("\nhint: ") {
            Some((m, h)) => (m.to_string(), Some(h.to_string())),
            None => (text, None),
        };
        // anyhow repeats a source's text when a context wraps it verbatim.
        if msgs.last() != Some(&msg) {
            msgs.push(msg);
        }
        hints.extend(hint);
    }
    hints.extend(hint.map(str::to_string));
    (msgs.join(": "), hints)
}

/// The exit code for an error.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    outcome(err).0
}

/// The chain as `{:#}` shows it, each typed error followed by its hint line: the text for a
/// JSON `error` field or a longer message that holds the error.
pub fn text(err: &anyhow::Error) -> String {
    err.chain()
        .map(|cause| match typed(cause) {
            Some(e) => crate::problem::with_hint(cause, e.hint().as_deref()),
            None => cause.to_string(),
        })
        .collect::<Vec<_>>()
        .join(": ")
}

/// How the domain code that folds errors into its own messages reads a chain.
pub const READER: Reader = Reader {
    kind: |err| {
        err.chain()
            .find_map(typed)
            .map_or(Kind::Failed, |e| e.kind())
    },
    text,
};

/// True when the message was already shown and only the exit code remains.
pub fn is_silent(err: &anyhow::Error) -> bool {
    matches!(err.downcast_ref::<CliError>(), Some(CliError::Silent(_)))
}

/// A closed stdout (`git mlv ls | head`) is not an error worth a message.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}
