//! Reading the registry from annotated tags: each artifact's events in GTO's order, its
//! versions, deprecation and stage holders, and references resolved to commits.

use super::tag::{check_name, is_name, parse_tag};
use super::{Action, Registry, RegistryError, Version};
use crate::gitx::{AnnotatedTag, GitRepo};
use std::collections::BTreeMap;

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
            return Err(crate::problem::usage_with_hint(
                format!("no artifact `{name}` is registered"),
                format!(
                    "`git mlv models` lists the registered ones; `git mlv register {name}` registers a version"
                ),
            ));
        }
        if let Some(d) = self.deprecation(name) {
            return Err(crate::problem::failed_with_hint(
                format!(
                    "`{name}` is deprecated (tag `{}`), so neither git-mlv nor GTO lists it",
                    d.tag
                ),
                format!(
                    "registering or promoting a version makes it active again (`git mlv register {name}`); or remove the deprecation: `git tag -d {}`",
                    d.tag
                ),
            ));
        }
        self.holder(name, stage).ok_or_else(|| {
            crate::problem::failed_with_hint(
                format!("stage `{stage}` of `{name}` holds no version"),
                format!("assign one with `git mlv promote {name}@<version> {stage}`"),
            )
        })
    }

    pub(super) fn events(&self, name: &str) -> &[Event] {
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
    pub(super) fn version_at(&self, name: &str, commit: &str) -> String {
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::registry) fn tag(name: &str, commit: &str, time: i64) -> AnnotatedTag {
        AnnotatedTag {
            name: name.into(),
            commit: commit.into(),
            time,
        }
    }

    /// Three versions assigned to `prod` in turn, the first also to `staging`.
    pub(in crate::registry) fn promoted_three_times() -> Vec<AnnotatedTag> {
        vec![
            tag("m@v1.0.0", "c1", 10),
            tag("m@v1.0.1", "c2", 11),
            tag("m@v1.0.2", "c3", 12),
            tag("m#prod#1", "c1", 13),
            tag("m#prod#2", "c2", 14),
            tag("m#prod#3", "c3", 15),
            tag("m#staging#4", "c1", 16),
        ]
    }

    #[test]
    fn holder_and_rollback_follow_gto() {
        let mut tags = promoted_three_times();
        let reg = Registry::from_tags(tags.clone());
        assert_eq!(reg.holder("m", "prod").unwrap().version, "v1.0.2");
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
}
