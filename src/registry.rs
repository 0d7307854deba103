//! The model registry: versions and stage assignments are annotated git tags in GTO's
//! grammar, so `gto show` reads the same registry. `<name>@v<semver>` registers a version,
//! `<name>#<stage>#<n>` assigns a stage, `<name>#<stage>!#<n>` unassigns one (written by
//! rollback for the version rolled back from). Who holds a stage follows GTO's rule: among
//! the versions whose latest event on that stage is an assignment, the most recent one.
//! GTO orders by tagger time at one-second resolution, so every new tag gets a tagger time
//! later than the artifact's previous tag.

use crate::gitx::{AnnotatedTag, GitRepo};
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(
        "{}\nhint: choose another name (and rename it in `mlv.toml` if it is declared there)",
        bad_name(.0)
    )]
    BadName(String),
    #[error("`{0}` is not a semantic version like `1.2.0` or `v1.2.0`")]
    BadVersion(String),
    #[error(
        "`{0}` is not a version reference\nhint: write `<name>@<version>`, e.g. `model@v1.2.0`"
    )]
    BadReference(String),
    #[error(
        "`{name}@{version}` is not registered\nhint: `git mlv models` lists the versions; `git mlv register {name}` registers one"
    )]
    UnknownVersion { name: String, version: String },
    #[error(
        "`{name}@{version}` is already registered (tag `{name}@{version}`)\nhint: give another version, or none for the next patch version"
    )]
    VersionExists { name: String, version: String },
    #[error(
        "commit {commit} already holds `{name}@{version}`; GTO reads one version per commit\nhint: promote `{name}@{version}` instead of registering the commit again"
    )]
    CommitTaken {
        name: String,
        version: String,
        commit: String,
    },
    #[error(
        "`{0}` is not a registry tag\nhint: registry tags are `<name>@v<semver>` (register), `<name>#<stage>#<n>` (promote, rollback) and `<name>#<stage>!#<n>` (rollback); `git mlv models` lists the registry"
    )]
    NotATag(String),
    #[error(
        "tag `{0}` is not in this repository\nhint: fetch the registry's tags with `git fetch --tags origin`; in CI, give actions/checkout `fetch-depth: 0` (GitHub) or set `GIT_DEPTH: \"0\"` (GitLab)"
    )]
    TagMissing(String),
    #[error(
        "tag `{0}` is a lightweight tag here, and the registry reads annotated tags only (actions/checkout replaces the tag that triggered a run by a lightweight one)\nhint: fetch the annotated tag from the server: `git fetch --force --tags origin`"
    )]
    LightweightTag(String),
    #[error(
        "stage `{stage}` of `{name}` is assigned in the registry, so a version tag does not deploy to it\nhint: promote the version (`git mlv promote {name}@<version> {stage}`); the stage tag that writes deploys it"
    )]
    StageManaged { name: String, stage: String },
    #[error(
        "tag `{tag}` is about stage `{stage}`, not `{given}`\nhint: leave `--stage` out: a stage tag names its stage"
    )]
    OtherStage {
        tag: String,
        stage: String,
        given: String,
    },
}

/// A semantic version, as GTO accepts them (`v` prefix optional when typed), ordered by
/// SemVer precedence as GTO orders them: numeric pre-release parts compare as numbers
/// (`rc.2` < `rc.10`), and a pre-release sorts before its release.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(semver::Version);

impl Version {
    pub fn parse(s: &str) -> Result<Version, RegistryError> {
        let t = s.strip_prefix('v').unwrap_or(s);
        semver::Version::parse(t)
            .map(Version)
            .map_err(|_| RegistryError::BadVersion(s.to_string()))
    }

    /// The next patch version, as `gto register` bumps it: `v1.2.3` → `v1.2.4`, and
    /// `v1.3.0-rc.1` → `v1.3.1` (the pre-release and build are dropped, the patch still
    /// goes up).
    pub fn next_patch(&self) -> Version {
        Version(semver::Version::new(
            self.0.major,
            self.0.minor,
            self.0.patch + 1,
        ))
    }

    /// `v0.0.1`, the first version `gto register` gives an artifact.
    pub fn first() -> Version {
        Version(semver::Version::new(0, 0, 1))
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "v{}", self.0)
    }
}

/// What a tag says, in GTO's grammar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Register(Version),
    Deregister(Version),
    Assign(String),
    Unassign(String),
    Deprecate,
    Create,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedTag {
    pub artifact: String,
    pub action: Action,
    pub counter: Option<u64>,
}

/// The one rule for artifact and stage names, in `mlv.toml` and every registry command:
/// GTO's `[a-zA-Z0-9]([a-zA-Z0-9-/_]*[a-zA-Z0-9])?` (gto 1.10 `constants.name`), less
/// `//`, which GTO's pattern allows but git refuses in a tag name.
pub fn is_name(s: &str) -> bool {
    let ends_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    ends_ok(s.chars().next())
        && ends_ok(s.chars().last())
        && !s.contains("//")
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '/' | '_'))
}

/// Why `s` is not a name by [`is_name`]: the same words wherever a name is refused.
pub fn bad_name(s: &str) -> String {
    format!(
        "`{s}` is not a valid registry name: GTO allows letters, digits, `-`, `_` and `/` (not two `/` in a row), starting and ending with a letter or digit"
    )
}

pub fn check_name(s: &str) -> Result<(), RegistryError> {
    if is_name(s) {
        Ok(())
    } else {
        Err(RegistryError::BadName(s.to_string()))
    }
}

/// Parses a tag name; `None` when it is not a registry tag.
pub fn parse_tag(tag: &str) -> Option<ParsedTag> {
    let at = tag.find(['#', '@'])?;
    let artifact = &tag[..at];
    // GTO writes `dir:name` artifacts as `dir=name` in tags.
    if !artifact.split('=').all(|p| !p.is_empty()) || !is_name(artifact.rsplit('=').next()?) {
        return None;
    }
    let rest = &tag[at + 1..];
    let (body, counter) = match rest.rsplit_once('#') {
        Some((b, n)) => {
            if n.is_empty() || !n.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            (b, Some(n.parse().ok()?))
        }
        None => (rest, None),
    };
    let (body, cancel) = match body.strip_suffix('!') {
        Some(b) => (b, true),
        None => (body, false),
    };
    let action = if tag.as_bytes()[at] == b'@' {
        match body {
            "deprecated" if !cancel => Action::Deprecate,
            "created" if !cancel => Action::Create,
            v if v.starts_with('v') => {
                let v = Version::parse(v).ok()?;
                if cancel {
                    Action::Deregister(v)
                } else {
                    Action::Register(v)
                }
            }
            _ => return None,
        }
    } else {
        if !is_name(body) {
            return None;
        }
        if cancel {
            Action::Unassign(body.to_string())
        } else {
            Action::Assign(body.to_string())
        }
    };
    Some(ParsedTag {
        artifact: artifact.to_string(),
        action,
        counter,
    })
}

impl Action {
    /// The event's name, as `which --tag` reports it.
    pub fn event(&self) -> &'static str {
        match self {
            Action::Register(_) => "register",
            Action::Deregister(_) => "deregister",
            Action::Assign(_) => "assign",
            Action::Unassign(_) => "unassign",
            Action::Deprecate => "deprecate",
            Action::Create => "create",
        }
    }
}

/// `<name>@v<semver>`.
pub fn version_tag(name: &str, v: &Version) -> String {
    format!("{name}@{v}")
}

/// `<name>#<stage>#<n>`, or `<name>#<stage>!#<n>` to unassign.
pub fn stage_tag(name: &str, stage: &str, counter: u64, unassign: bool) -> String {
    let bang = if unassign { "!" } else { "" };
    format!("{name}#{stage}{bang}#{counter}")
}

/// One registry tag as read from git.
#[derive(Debug, Clone)]
pub struct Event {
    pub tag: String,
    pub commit: String,
    pub time: i64,
    pub action: Action,
    pub counter: Option<u64>,
}

/// A registered version.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VersionInfo {
    pub version: String,
    pub commit: String,
    pub tag: String,
    /// Tagger time of the registration, seconds since the epoch.
    pub registered_at: i64,
    /// False once deregistered (`<name>@v…!`).
    pub active: bool,
}

/// The version a stage holds, and the assignment that put it there.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Holder {
    pub version: String,
    pub commit: String,
    pub tag: String,
    pub assigned_at: i64,
}

/// What one registry tag says, read against the whole registry: a stage tag names a
/// commit, and later tags may have changed what the stage holds since.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TagInfo {
    pub tag: String,
    pub name: String,
    /// `register`, `deregister`, `assign`, `unassign`, `deprecate` or `create`.
    pub event: &'static str,
    pub stage: Option<String>,
    /// The version the tag is about: the one it names, or for a stage tag the one
    /// registered at its commit (the commit itself when none is, as GTO reads it).
    pub version: Option<String>,
    pub commit: String,
    pub counter: Option<u64>,
    /// Tagger time, seconds since the epoch.
    pub time: i64,
    /// For a stage tag: the version the stage holds now (`None` when it holds none).
    pub stage_holds: Option<Holder>,
    /// For a stage tag: true when no later tag assigned or unassigned the stage.
    pub latest: Option<bool>,
}

/// What deploying a tag comes to (see [`Registry::deploy_plan`]).
#[derive(Debug)]
pub enum DeployPlan {
    /// Deploy this version to the stage's target.
    Deploy { stage: String, version: Holder },
    /// The tag changes no stage (a version or deprecation tag without `--stage`).
    Nothing,
    /// The stage holds no version after the tag (everything in it was unassigned).
    Empty { stage: String },
}

/// Every artifact's tags, oldest first (by tagger time, then counter).
#[derive(Debug, Default)]
pub struct Registry {
    artifacts: BTreeMap<String, Vec<Event>>,
}

impl Registry {
    pub fn load(git: &GitRepo) -> anyhow::Result<Registry> {
        Ok(Registry::from_tags(git.annotated_tags()?))
    }

    pub fn from_tags(tags: Vec<AnnotatedTag>) -> Registry {
        let mut artifacts: BTreeMap<String, Vec<Event>> = BTreeMap::new();
        for t in tags {
            if let Some(p) = parse_tag(&t.name) {
                artifacts.entry(p.artifact).or_default().push(Event {
                    tag: t.name,
                    commit: t.commit,
                    time: t.time,
                    action: p.action,
                    counter: p.counter,
                });
            }
        }
        for events in artifacts.values_mut() {
            events.sort_by_key(|e| (e.time, e.counter.unwrap_or(0)));
        }
        Registry { artifacts }
    }

    /// Artifacts with any registry tag, deprecated ones included.
    pub fn all_names(&self) -> Vec<&str> {
        self.artifacts.keys().map(String::as_str).collect()
    }

    /// Artifacts with any registry tag that are not deprecated (as `gto show` lists them).
    pub fn names(&self) -> Vec<&str> {
        self.all_names()
            .into_iter()
            .filter(|n| self.deprecation(n).is_none())
            .collect()
    }

    /// True when the artifact has any registry tag (GTO's "registered").
    pub fn is_registered(&self, name: &str) -> bool {
        self.artifacts.contains_key(name)
    }

    /// The deprecation in force, if any. GTO reads an artifact as deprecated while its
    /// newest tag is a deprecation (`<name>@deprecated`): any later registry tag, a
    /// registration or an assignment, makes it active again. At equal tagger time GTO's
    /// order puts version and stage tags after deprecations, and those after creations.
    pub fn deprecation(&self, name: &str) -> Option<&Event> {
        let rank = |a: &Action| match a {
            Action::Create => 0,
            Action::Deprecate => 1,
            _ => 2,
        };
        self.events(name)
            .iter()
            .max_by_key(|e| (e.time, rank(&e.action)))
            .filter(|e| e.action == Action::Deprecate)
    }

    /// The version `stage` holds, for the commands that act on it (`which`, `deploy`,
    /// `rollback`): an artifact with no registry tag is a bad request; a deprecated
    /// artifact, or a stage that holds nothing, is said as such, with what to do.
    pub fn current(&self, name: &str, stage: &str) -> anyhow::Result<Holder> {
        if !self.is_registered(name) {
            return Err(crate::error::usage(format!(
                "no artifact `{name}` is registered\nhint: `git mlv models` lists the registered ones; `git mlv register {name}` registers a version"
            )));
        }
        if let Some(d) = self.deprecation(name) {
            return Err(crate::error::failed(format!(
                "`{name}` is deprecated (tag `{}`), so neither git-mlv nor GTO lists it\nhint: registering or promoting a version makes it active again (`git mlv register {name}`); or remove the deprecation: `git tag -d {}`",
                d.tag, d.tag
            )));
        }
        self.holder(name, stage).ok_or_else(|| {
            crate::error::failed(format!(
                "stage `{stage}` of `{name}` holds no version\nhint: assign one with `git mlv promote {name}@<version> {stage}`"
            ))
        })
    }

    fn events(&self, name: &str) -> &[Event] {
        self.artifacts.get(name).map_or(&[], Vec::as_slice)
    }

    /// Registered versions, highest first.
    pub fn versions(&self, name: &str) -> Vec<VersionInfo> {
        let mut out: BTreeMap<Version, VersionInfo> = BTreeMap::new();
        for e in self.events(name) {
            match &e.action {
                Action::Register(v) => {
                    out.entry(v.clone()).or_insert(VersionInfo {
                        version: v.to_string(),
                        commit: e.commit.clone(),
                        tag: e.tag.clone(),
                        registered_at: e.time,
                        active: true,
                    });
                    if let Some(i) = out.get_mut(v) {
                        i.active = true;
                    }
                }
                Action::Deregister(v) => {
                    if let Some(i) = out.get_mut(v) {
                        i.active = false;
                    }
                }
                _ => {}
            }
        }
        out.into_values().rev().collect()
    }

    pub fn version(&self, name: &str, v: &Version) -> Option<VersionInfo> {
        let label = v.to_string();
        self.versions(name).into_iter().find(|i| i.version == label)
    }

    /// The version GTO sees at a commit: the one registered there, else the commit itself
    /// (GTO's "discovered" version).
    fn version_at(&self, name: &str, commit: &str) -> String {
        self.versions(name)
            .into_iter()
            .find(|v| v.commit == commit)
            .map_or_else(|| commit.to_string(), |v| v.version)
    }

    /// The stages ever assigned, sorted.
    pub fn stages(&self, name: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .events(name)
            .iter()
            .filter_map(|e| match &e.action {
                Action::Assign(s) | Action::Unassign(s) => Some(s.clone()),
                _ => None,
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Assignments and unassignments of `stage`, oldest first, with the version each names.
    pub fn history(&self, name: &str, stage: &str) -> Vec<(String, &Event)> {
        self.events(name)
            .iter()
            .filter(|e| matches!(&e.action, Action::Assign(s) | Action::Unassign(s) if s == stage))
            .map(|e| (self.version_at(name, &e.commit), e))
            .collect()
    }

    /// The version `stage` holds now, by GTO's rule: among versions still registered whose
    /// latest event on the stage is an assignment, the most recently assigned.
    pub fn holder(&self, name: &str, stage: &str) -> Option<Holder> {
        let inactive: Vec<String> = self
            .versions(name)
            .into_iter()
            .filter(|v| !v.active)
            .map(|v| v.version)
            .collect();
        let mut latest: BTreeMap<String, &Event> = BTreeMap::new();
        for (version, e) in self.history(name, stage) {
            latest.insert(version, e);
        }
        latest
            .into_iter()
            .filter(|(v, e)| matches!(e.action, Action::Assign(_)) && !inactive.contains(v))
            .max_by_key(|(_, e)| (e.time, e.counter.unwrap_or(0)))
            .map(|(version, e)| Holder {
                version,
                commit: e.commit.clone(),
                tag: e.tag.clone(),
                assigned_at: e.time,
            })
    }

    /// The version to roll `stage` back to: walking the stage's assignments from the newest,
    /// the first version that is not the current one, was not rolled back from (its latest
    /// event on the stage is not an unassignment) and is still registered.
    pub fn rollback_target(&self, name: &str, stage: &str) -> Option<String> {
        let current = self.holder(name, stage)?.version;
        let history = self.history(name, stage);
        let rolled_back_from = |v: &str| {
            history
                .iter()
                .rev()
                .find(|(hv, _)| hv == v)
                .is_some_and(|(_, e)| matches!(e.action, Action::Unassign(_)))
        };
        let registered: Vec<String> = self
            .versions(name)
            .into_iter()
            .filter(|v| v.active)
            .map(|v| v.version)
            .collect();
        history
            .iter()
            .rev()
            .filter(|(_, e)| matches!(e.action, Action::Assign(_)))
            .map(|(v, _)| v)
            .find(|v| **v != current && !rolled_back_from(v) && registered.contains(v))
            .cloned()
    }

    /// What `tag` says, when it is an annotated registry tag of this registry.
    pub fn tag_info(&self, tag: &str) -> Option<TagInfo> {
        let (name, e) = self
            .artifacts
            .iter()
            .find_map(|(n, ev)| ev.iter().find(|e| e.tag == tag).map(|e| (n, e)))?;
        let (stage, version) = match &e.action {
            Action::Register(v) | Action::Deregister(v) => (None, Some(v.to_string())),
            Action::Assign(s) | Action::Unassign(s) => {
                (Some(s.clone()), Some(self.version_at(name, &e.commit)))
            }
            Action::Deprecate | Action::Create => (None, None),
        };
        let (stage_holds, latest) = match &stage {
            Some(s) => (
                self.holder(name, s),
                Some(
                    self.history(name, s)
                        .last()
                        .is_some_and(|(_, l)| l.tag == tag),
                ),
            ),
            None => (None, None),
        };
        Some(TagInfo {
            tag: tag.to_string(),
            name: name.clone(),
            event: e.action.event(),
            stage,
            version,
            commit: e.commit.clone(),
            counter: e.counter,
            time: e.time,
            stage_holds,
            latest,
        })
    }

    /// What a deploy triggered by `info`'s tag deploys. A stage tag deploys what the stage
    /// holds now, not what the tag assigned: a job for an older tag that runs after a newer
    /// one's (CI jobs finishing out of order) deploys the same, so the last job to finish
    /// never rolls the target back. A version tag deploys nothing, unless `for_stage`
    /// names a stage the registry does not assign (a `dev` target that follows every
    /// registration): then the newest registration, by the same rule.
    pub fn deploy_plan(
        &self,
        info: &TagInfo,
        for_stage: Option<&str>,
    ) -> Result<DeployPlan, RegistryError> {
        if let Some(stage) = &info.stage {
            if let Some(given) = for_stage.filter(|g| g != stage) {
                return Err(RegistryError::OtherStage {
                    tag: info.tag.clone(),
                    stage: stage.clone(),
                    given: given.to_string(),
                });
            }
            return Ok(match &info.stage_holds {
                Some(h) => DeployPlan::Deploy {
                    stage: stage.clone(),
                    version: h.clone(),
                },
                None => DeployPlan::Empty {
                    stage: stage.clone(),
                },
            });
        }
        let Some(stage) = for_stage.filter(|_| info.version.is_some()) else {
            return Ok(DeployPlan::Nothing);
        };
        check_name(stage)?;
        if self.stages(&info.name).iter().any(|s| s == stage) {
            return Err(RegistryError::StageManaged {
                name: info.name.clone(),
                stage: stage.to_string(),
            });
        }
        Ok(self
            .versions(&info.name)
            .into_iter()
            .filter(|v| v.active)
            .max_by_key(|v| v.registered_at)
            .map_or(DeployPlan::Nothing, |v| DeployPlan::Deploy {
                stage: stage.to_string(),
                version: Holder {
                    version: v.version,
                    commit: v.commit,
                    tag: v.tag,
                    assigned_at: v.registered_at,
                },
            }))
    }

    /// The counter for the next stage tag: one more than the highest on any of the
    /// artifact's tags (GTO's rule).
    pub fn next_counter(&self, name: &str) -> u64 {
        self.events(name)
            .iter()
            .filter_map(|e| e.counter)
            .max()
            .unwrap_or(0)
            + 1
    }

    /// A tagger time later than every tag of the artifact, and not before `now`: GTO
    /// orders by tagger time at one-second resolution, and this needs no sleeping.
    pub fn next_time(&self, name: &str, now: i64) -> i64 {
        self.events(name)
            .iter()
            .map(|e| e.time + 1)
            .max()
            .map_or(now, |t| t.max(now))
    }
}

/// A reference resolved to a commit: `<name>#<stage>` (the version the stage holds now;
/// `None` when it holds none), `<name>@v<semver>` (a registered version), or any git revision.
pub fn resolve(git: &GitRepo, reg: &Registry, reference: &str) -> anyhow::Result<Option<String>> {
    if let Some((name, stage)) = reference.split_once('#') {
        check_name(name)?;
        return Ok(reg.holder(name, stage).map(|h| h.commit));
    }
    if let Some((name, v)) = reference.split_once('@')
        && is_name(name)
        && let Ok(v) = Version::parse(v)
    {
        return match reg.version(name, &v) {
            Some(info) => Ok(Some(info.commit)),
            None => Err(RegistryError::UnknownVersion {
                name: name.to_string(),
                version: v.to_string(),
            }
            .into()),
        };
    }
    Ok(Some(git.resolve_commit(reference)?))
}

/// Reads the registry tag `tag` (as CI hands it over: `$GITHUB_REF_NAME`, `$CI_COMMIT_TAG`).
/// A name outside the grammar, a tag this clone lacks, and a lightweight tag under the
/// name (which the registry does not read) are each refused with what to do.
pub fn read_tag(git: &GitRepo, reg: &Registry, tag: &str) -> Result<TagInfo, RegistryError> {
    if parse_tag(tag).is_none() {
        return Err(RegistryError::NotATag(tag.to_string()));
    }
    if let Some(info) = reg.tag_info(tag) {
        return Ok(info);
    }
    Err(if git.resolve_commit(&format!("refs/tags/{tag}")).is_ok() {
        RegistryError::LightweightTag(tag.to_string())
    } else {
        RegistryError::TagMissing(tag.to_string())
    })
}

/// Creates a registry tag. Tag names come from counters and versions read from the
/// registry a moment before, so a concurrent promote, register or rollback may take the
/// same name first: that is said as such (exit 1, run again), not as git's refusal.
fn create_tag(
    git: &GitRepo,
    tag: &str,
    commit: &str,
    message: &str,
    time: i64,
) -> anyhow::Result<()> {
    let Err(e) = git.create_tag(tag, commit, message, time) else {
        return Ok(());
    };
    if git.annotated_tags()?.iter().any(|t| t.name == tag) {
        return Err(crate::error::failed(format!(
            "another promote, register or rollback took the tag `{tag}` while this one ran\nhint: run the command again; it reads the registry afresh"
        )));
    }
    Err(e.into())
}

/// Seconds since the epoch, now.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Registers `version` (the next patch after the highest when `None`) of `name` at `commit`.
pub fn register(
    git: &GitRepo,
    reg: &Registry,
    name: &str,
    version: Option<Version>,
    commit: &str,
) -> anyhow::Result<VersionInfo> {
    check_name(name)?;
    let versions = reg.versions(name);
    if let Some(taken) = versions.iter().find(|v| v.commit == commit && v.active) {
        return Err(RegistryError::CommitTaken {
            name: name.to_string(),
            version: taken.version.clone(),
            commit: commit.to_string(),
        }
        .into());
    }
    let version = match version {
        Some(v) => v,
        None => versions
            .iter()
            .filter_map(|v| Version::parse(&v.version).ok())
            .max()
            .map_or_else(Version::first, |v| v.next_patch()),
    };
    if versions.iter().any(|v| v.version == version.to_string()) {
        return Err(RegistryError::VersionExists {
            name: name.to_string(),
            version: version.to_string(),
        }
        .into());
    }
    let tag = version_tag(name, &version);
    let time = reg.next_time(name, now());
    create_tag(
        git,
        &tag,
        commit,
        &format!("Registering artifact {name} version {version}"),
        time,
    )?;
    Ok(VersionInfo {
        version: version.to_string(),
        commit: commit.to_string(),
        tag,
        registered_at: time,
        active: true,
    })
}

/// Assigns `stage` to a registered version with a new tag; returns the tag's name.
pub fn assign(
    git: &GitRepo,
    reg: &Registry,
    name: &str,
    version: &VersionInfo,
    stage: &str,
) -> anyhow::Result<String> {
    check_name(stage)?;
    let tag = stage_tag(name, stage, reg.next_counter(name), false);
    create_tag(
        git,
        &tag,
        &version.commit,
        &format!(
            "Assigning stage {stage} to artifact {name} version {}",
            version.version
        ),
        reg.next_time(name, now()),
    )?;
    Ok(tag)
}

/// Rolls `stage` back to `target`: unassigns the current version (so later rollbacks skip
/// it), then assigns the target, each with its own later tagger time. Returns both tags.
pub fn rollback(
    git: &GitRepo,
    reg: &Registry,
    name: &str,
    stage: &str,
    current: &Holder,
    target: &VersionInfo,
) -> anyhow::Result<(String, String)> {
    let n = reg.next_counter(name);
    let time = reg.next_time(name, now());
    let off = stage_tag(name, stage, n, true);
    create_tag(
        git,
        &off,
        &current.commit,
        &format!(
            "Unassigning stage {stage} from artifact {name} version {} (rolled back to {})",
            current.version, target.version
        ),
        time,
    )?;
    let on = stage_tag(name, stage, n + 1, false);
    create_tag(
        git,
        &on,
        &target.commit,
        &format!(
            "Assigning stage {stage} to artifact {name} version {} (rollback from {})",
            target.version, current.version
        ),
        time + 1,
    )?;
    Ok((off, on))
}

/// The artifact `name` as `mlv.toml` declares it at `commit` (else as the work tree's does).
pub fn artifact_at(
    git: &GitRepo,
    root: &std::path::Path,
    name: &str,
    commit: &str,
) -> anyhow::Result<crate::project::Artifact> {
    if let Some(a) = crate::project::Project::load_at(git, commit)?
        .artifacts
        .remove(name)
    {
        return Ok(a);
    }
    crate::project::Project::load(root)?
        .artifacts
        .remove(name)
        .ok_or_else(|| {
            crate::error::usage(format!(
                "`{name}` is not an artifact in `mlv.toml`\nhint: declare it:\n  [artifacts.{name}]\n  path = \"model.pkl\""
            ))
        })
}

/// A typed `<name>@<version>`.
pub fn parse_version_ref(s: &str) -> Result<(String, Version), RegistryError> {
    let (name, v) = s
        .split_once('@')
        .ok_or_else(|| RegistryError::BadReference(s.to_string()))?;
    check_name(name)?;
    Ok((name.to_string(), Version::parse(v)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(name: &str, commit: &str, time: i64) -> AnnotatedTag {
        AnnotatedTag {
            name: name.into(),
            commit: commit.into(),
            time,
        }
    }

    #[test]
    fn tag_grammar_round_trips() {
        let v = Version::parse("1.2.0").unwrap();
        assert_eq!(v, Version::parse("v1.2.0").unwrap());
        assert_eq!(version_tag("model", &v), "model@v1.2.0");
        assert_eq!(stage_tag("model", "prod", 3, false), "model#prod#3");
        assert_eq!(
            parse_tag("model#prod!#4").unwrap().action,
            Action::Unassign("prod".into())
        );
        assert_eq!(parse_tag("model#prod#4").unwrap().counter, Some(4));
        assert_eq!(
            parse_tag("model@v1.2.0-rc.1+b5").unwrap().action,
            Action::Register(Version::parse("1.2.0-rc.1+b5").unwrap())
        );
        assert_eq!(parse_tag("model@v1.2.0!").unwrap().counter, None);
        assert_eq!(
            parse_tag("model@deprecated").unwrap().action,
            Action::Deprecate
        );
        for bad in [
            "v1.0",
            "model@1.2.0",
            "model#",
            "model#prod#x",
            "#prod#1",
            "model@v01.0.0",
        ] {
            assert_eq!(parse_tag(bad), None, "{bad}");
        }
        assert!(!is_name("my.model") && !is_name("-m") && is_name("nlp/model_2"));
        assert!(!is_name("nlp//model") && !is_name("model/") && is_name("m"));
        assert_eq!(
            Version::parse("1.2.3").unwrap().next_patch().to_string(),
            "v1.2.4"
        );
        assert!(Version::parse("1.0.0-rc1").unwrap() < Version::parse("1.0.0").unwrap());
        // SemVer precedence: numeric pre-release parts compare as numbers.
        assert!(Version::parse("1.0.0-rc.2").unwrap() < Version::parse("1.0.0-rc.10").unwrap());
        assert!(Version::parse("1.0.0-alpha").unwrap() < Version::parse("1.0.0-alpha.1").unwrap());
        // As `gto register` bumps: the patch goes up even from a pre-release.
        assert_eq!(
            Version::parse("1.3.0-rc.1")
                .unwrap()
                .next_patch()
                .to_string(),
            "v1.3.1"
        );
        assert_eq!(
            Version::parse("v1.2.0-rc.1+b5").unwrap().to_string(),
            "v1.2.0-rc.1+b5"
        );
        assert!(Version::parse("1.10.0").unwrap() > Version::parse("1.9.0").unwrap());
    }

    #[test]
    fn holder_counter_and_rollback_follow_gto() {
        let mut tags = vec![
            tag("m@v1.0.0", "c1", 10),
            tag("m@v1.0.1", "c2", 11),
            tag("m@v1.0.2", "c3", 12),
            tag("m#prod#1", "c1", 13),
            tag("m#prod#2", "c2", 14),
            tag("m#prod#3", "c3", 15),
            tag("m#staging#4", "c1", 16),
        ];
        let reg = Registry::from_tags(tags.clone());
        assert_eq!(reg.holder("m", "prod").unwrap().version, "v1.0.2");
        assert_eq!(reg.next_counter("m"), 5);
        assert_eq!(reg.next_time("m", 5), 17);
        assert_eq!(reg.next_time("m", 100), 100);
        assert_eq!(reg.rollback_target("m", "prod").as_deref(), Some("v1.0.1"));
        // After a rollback from v1.0.2 to v1.0.1, the next one walks on to v1.0.0.
        tags.extend([tag("m#prod!#5", "c3", 17), tag("m#prod#6", "c2", 18)]);
        let reg = Registry::from_tags(tags);
        assert_eq!(reg.holder("m", "prod").unwrap().version, "v1.0.1");
        assert_eq!(reg.rollback_target("m", "prod").as_deref(), Some("v1.0.0"));
        assert_eq!(reg.holder("m", "staging").unwrap().version, "v1.0.0");
        assert!(reg.holder("m", "dev").is_none());
    }

    #[test]
    fn deprecation_holds_until_a_later_tag_as_gto_reads_it() {
        let mut tags = vec![tag("m@v1.0.0", "c1", 10), tag("m@deprecated", "c1", 11)];
        let reg = Registry::from_tags(tags.clone());
        assert_eq!(reg.deprecation("m").unwrap().tag, "m@deprecated");
        assert!(reg.names().is_empty() && reg.is_registered("m"));
        // A version or stage tag in the same second wins, as in GTO's order.
        tags.push(tag("m#prod#1", "c1", 11));
        assert!(Registry::from_tags(tags.clone()).deprecation("m").is_none());
        tags.pop();
        tags.push(tag("m@v1.0.1", "c2", 12));
        let reg = Registry::from_tags(tags);
        assert!(reg.deprecation("m").is_none());
        assert_eq!(reg.names(), ["m"]);
    }

    #[test]
    fn a_stage_tag_deploys_what_the_stage_holds_now() {
        let reg = Registry::from_tags(vec![
            tag("m@v1.0.0", "c1", 10),
            tag("m@v1.0.1", "c2", 11),
            tag("m#prod#1", "c1", 12),
            tag("m#prod#2", "c2", 13),
            tag("m#prod!#3", "c2", 14),
            tag("m#prod#4", "c1", 15),
        ]);
        let old = reg.tag_info("m#prod#2").unwrap();
        assert_eq!(
            (old.event, old.version.as_deref(), old.latest),
            ("assign", Some("v1.0.1"), Some(false))
        );
        assert_eq!(old.stage_holds.as_ref().unwrap().version, "v1.0.0");
        let off = reg.tag_info("m#prod!#3").unwrap();
        assert_eq!(off.event, "unassign");
        for info in [old, off] {
            match reg.deploy_plan(&info, None).unwrap() {
                DeployPlan::Deploy { stage, version } => {
                    assert_eq!(
                        (stage.as_str(), version.version.as_str()),
                        ("prod", "v1.0.0")
                    )
                }
                other => panic!("{other:?}"),
            }
        }
        let v = reg.tag_info("m@v1.0.0").unwrap();
        assert!(matches!(reg.deploy_plan(&v, None), Ok(DeployPlan::Nothing)));
        assert!(matches!(
            reg.deploy_plan(&v, Some("prod")),
            Err(RegistryError::StageManaged { .. })
        ));
        // A stage the registry does not assign follows the newest registration.
        match reg.deploy_plan(&v, Some("dev")).unwrap() {
            DeployPlan::Deploy { version, .. } => assert_eq!(version.version, "v1.0.1"),
            other => panic!("{other:?}"),
        }
        assert!(reg.tag_info("m#prod#9").is_none());
    }
}
