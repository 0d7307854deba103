//! The registry's errors. Each is a bad request (exit 2): it names the name, version or tag
//! at fault, and its hint says what to do next.

use super::tag::bad_name;
use crate::problem::{Hinted, Kind};

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{}", bad_name(.0))]
    BadName(String),
    #[error("`{0}` is not a semantic version like `1.2.0` or `v1.2.0`")]
    BadVersion(String),
    #[error("`{0}` is not a version reference")]
    BadReference(String),
    #[error("`{name}@{version}` is not registered")]
    UnknownVersion { name: String, version: String },
    #[error("`{name}@{version}` is already registered (tag `{name}@{version}`)")]
    VersionExists { name: String, version: String },
    #[error("commit {commit} already holds `{name}@{version}`; GTO reads one version per commit")]
    CommitTaken {
        name: String,
        version: String,
        commit: String,
    },
    #[error("`{0}` is not a registry tag")]
    NotATag(String),
    #[error("tag `{0}` is not in this repository")]
    TagMissing(String),
    #[error(
        "tag `{0}` is a lightweight tag here, and the registry reads annotated tags only (actions/checkout replaces the tag that triggered a run by a lightweight one)"
    )]
    LightweightTag(String),
    #[error(
        "stage `{stage}` of `{name}` is assigned in the registry, so a version tag does not deploy to it"
    )]
    StageManaged { name: String, stage: String },
    #[error("tag `{tag}` is about stage `{stage}`, not `{given}`")]
    OtherStage {
        tag: String,
        stage: String,
        given: String,
    },
}

impl Hinted for RegistryError {
    fn kind(&self) -> Kind {
        Kind::Usage
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            RegistryError::BadName(_) => {
                "choose another name (and rename it in `mlv.toml` if it is declared there)".into()
            }
            RegistryError::BadVersion(_) => return None,
            RegistryError::BadReference(_) => "write `<name>@<version>`, e.g. `model@v1.2.0`".into(),
            RegistryError::UnknownVersion { name, .. } => format!(
                "`git mlv models` lists the versions; `git mlv register {name}` registers one"
            ),
            RegistryError::VersionExists { .. } => {
                "give another version, or none for the next patch version".into()
            }
            RegistryError::CommitTaken { name, version, .. } => format!(
                "promote `{name}@{version}` instead of registering the commit again"
            ),
            RegistryError::NotATag(_) => "registry tags are `<name>@v<semver>` (register), `<name>#<stage>#<n>` (promote, rollback) and `<name>#<stage>!#<n>` (rollback); `git mlv models` lists the registry".into(),
            RegistryError::TagMissing(_) => "fetch the registry's tags with `git fetch --tags origin`; in CI, give actions/checkout `fetch-depth: 0` (GitHub) or set `GIT_DEPTH: \"0\"` (GitLab)".into(),
            RegistryError::LightweightTag(_) => {
                "fetch the annotated tag from the server: `git fetch --force --tags origin`".into()
            }
            RegistryError::StageManaged { name, stage } => format!(
                "promote the version (`git mlv promote {name}@<version> {stage}`); the stage tag that writes deploys it"
            ),
            RegistryError::OtherStage { .. } => {
                "leave `--stage` out: a stage tag names its stage".into()
            }
        })
    }
}
