//! What one registry tag says, read against the whole registry, and what a deploy
//! triggered by it comes to: CI hands over a tag, and the stage's holder now decides.

use super::tag::{check_name, parse_tag};
use super::{Action, Holder, Registry, RegistryError};
use crate::gitx::GitRepo;

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

impl Registry {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::read::tests::tag;

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
