//! The model registry: versions and stage assignments are annotated git tags in GTO's
//! grammar, so `gto show` reads the same registry. `<name>@v<semver>` registers a version,
//! `<name>#<stage>#<n>` assigns a stage, `<name>#<stage>!#<n>` unassigns one (written by
//! rollback for the version rolled back from). Who holds a stage follows GTO's rule: among
//! the versions whose latest event on that stage is an assignment, the most recent one.
//! GTO orders by tagger time at one-second resolution, so every new tag gets a tagger time
//! later than the artifact's previous tag.

mod error;
mod journal;
mod plan;
mod read;
mod tag;
mod version;
mod write;

pub use error::RegistryError;
pub use journal::JournalEvent;
pub use plan::{DeployPlan, TagInfo, read_tag};
pub use read::{Event, Holder, VersionInfo, resolve};
pub use tag::{
    Action, ParsedTag, bad_name, check_name, is_name, parse_tag, parse_version_ref, stage_tag,
    version_tag,
};
pub use version::Version;
pub use write::{assign, now, register, rollback};

use std::collections::BTreeMap;

/// Every artifact's tags, oldest first (by tagger time, then counter).
#[derive(Debug, Default)]
pub struct Registry {
    artifacts: BTreeMap<String, Vec<Event>>,
}
