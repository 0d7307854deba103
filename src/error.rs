//! How an error becomes an exit code: 2 when the request itself is wrong, 1 when the
//! operation ran and something failed (the table in SPEC.md).

use std::io;

// Domain code builds its usage errors and failures as `problem::Problem`s; the command
// layer uses the same shorthands.
use crate::problem::{Kind, Problem};
pub use crate::problem::{failed, failed_with_hint, usage, usage_with_hint};

/// Errors raised by the command layer itself, with the exit code they stand for.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The command already told the user what happened (e.g. `status --check`); just exit.
    #[error("exit status {0}")]
    Silent(u8),
}

/// The exit code for an error: the first error in the chain that knows its kind decides.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if let Some(CliError::Silent(code)) = cause.downcast_ref::<CliError>() {
            return *code;
        }
        if let Some(p) = cause.downcast_ref::<Problem>() {
            return match p.kind {
                Kind::Usage => 2,
                Kind::Failed => 1,
            };
        }
        if cause
            .downcast_ref::<crate::pointer::PointerError>()
            .is_some()
            || cause
                .downcast_ref::<crate::manifest::ManifestError>()
                .is_some()
            || cause.downcast_ref::<crate::config::ConfigError>().is_some()
            || cause.downcast_ref::<crate::paths::PathError>().is_some()
            || cause
                .downcast_ref::<crate::pipeline::PipelineError>()
                .is_some()
            || matches!(
                cause.downcast_ref::<crate::lockfile::LockError>(),
                Some(
                    crate::lockfile::LockError::Invalid { .. }
                        | crate::lockfile::LockError::Newer { .. }
                )
            )
            || cause
                .downcast_ref::<crate::registry::RegistryError>()
                .is_some()
            || cause.downcast_ref::<crate::gate::GateError>().is_some()
            || matches!(
                cause.downcast_ref::<crate::metrics::MetricsError>(),
                Some(
                    crate::metrics::MetricsError::Invalid { .. }
                        | crate::metrics::MetricsError::Format { .. }
                )
            )
            || matches!(
                cause.downcast_ref::<crate::project::ProjectError>(),
                Some(crate::project::ProjectError::Invalid { .. })
            )
        {
            return 2;
        }
        if let Some(e) = cause.downcast_ref::<crate::gitx::GitError>() {
            return e.exit_code();
        }
    }
    1
}

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
