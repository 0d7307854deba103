//! Experiments: a pipeline run with params overrides in a worktree of its own, kept as a
//! commit under `refs/mlv/exps/<name>`. This module holds the concepts (names and their
//! refs, `-S` overrides and how they edit a params file, the records of experiments not
//! finished yet, params read at a revision); `ops::exp` does the work.

pub mod overrides;
pub mod params;
pub mod record;

pub use overrides::{Assignment, Override};
pub use record::{Record, Status, Store};

/// The ref namespace that holds finished experiments, one commit each.
pub const REF_PREFIX: &str = crate::gitx::EXPERIMENT_REFS;

/// The ref of the experiment `name`.
pub fn ref_name(name: &str) -> String {
    format!("{REF_PREFIX}{name}")
}

/// The name an argument means: an experiment's name, or its full ref.
pub fn name_of(arg: &str) -> &str {
    arg.strip_prefix(REF_PREFIX).unwrap_or(arg)
}

#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    #[error("`{name}` is not a valid experiment name: {reason}")]
    BadName { name: String, reason: &'static str },
    #[error("no experiment `{0}`")]
    Unknown(String),
    #[error("an experiment named `{0}` exists already")]
    Exists(String),
}

impl crate::problem::Hinted for ExperimentError {
    fn kind(&self) -> crate::problem::Kind {
        crate::problem::Kind::Usage
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            ExperimentError::BadName { .. } => {
                "use letters, digits, `-`, `_` and `.`, as in `lr-0.3`".into()
            }
            ExperimentError::Unknown(_) => "`git mlv exp show` lists the experiments".into(),
            ExperimentError::Exists(name) => format!(
                "choose another `--name`, or drop the old one with `git mlv exp remove {name}`; `git mlv exp run --run-all` runs the queued and interrupted ones"
            ),
        })
    }
}

/// Refuses a name that is not one valid ref component (git's `check-ref-format` rules,
/// narrowed to a portable alphabet): a name is a folder and a ref, so `../x` or `a/b`
/// must never reach either.
pub fn check_name(name: &str) -> Result<(), ExperimentError> {
    let bad = |reason| {
        Err(ExperimentError::BadName {
            name: name.to_string(),
            reason,
        })
    };
    if name.is_empty() {
        return bad("it is empty");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return bad("only letters, digits, `-`, `_` and `.` may appear in it");
    }
    if name.starts_with('.') || name.starts_with('-') || name.ends_with('.') {
        return bad("it may not start with `.` or `-` nor end with `.`");
    }
    if name.contains("..") || name.ends_with(".lock") {
        return bad("git refuses `..` and a `.lock` ending in a ref");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_single_portable_ref_components() {
        for ok in ["exp-1", "lr_0.3", "A.b-c"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "../x", "a/b", ".x", "x.", "a..b", "x.lock", "-x", "a b", "a:b", "é",
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        assert_eq!(name_of("refs/mlv/exps/a"), "a");
        assert_eq!(ref_name("a"), "refs/mlv/exps/a");
    }
}
