//! Writing registry tags: register, assign and rollback each create annotated tags whose
//! names and tagger times come from the registry just read, so GTO orders them after
//! every earlier tag of the artifact.

use super::tag::{check_name, stage_tag, version_tag};
use super::{Holder, Registry, RegistryError, Version, VersionInfo};
use crate::gitx::GitRepo;

impl Registry {
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
        return Err(crate::problem::failed_with_hint(
            format!(
                "another promote, register or rollback took the tag `{tag}` while this one ran"
            ),
            "run the command again; it reads the registry afresh",
        ));
    }
    Err(e.into())
}

/// Seconds since the epoch, now.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Registers `version` (the next patch after the highest when `None`) of `name` at
/// `commit`. The tag's message is `message` when it holds more than blanks, else GTO's
/// default; returns the version and the message written.
pub fn register(
    git: &GitRepo,
    reg: &Registry,
    name: &str,
    version: Option<Version>,
    commit: &str,
    message: Option<&str>,
) -> anyhow::Result<(VersionInfo, String)> {
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
    let message = match message.map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => m.to_string(),
        None => format!("Registering artifact {name} version {version}"),
    };
    create_tag(git, &tag, commit, &message, time)?;
    let info = VersionInfo {
        version: version.to_string(),
        commit: commit.to_string(),
        tag,
        registered_at: time,
        active: true,
    };
    Ok((info, message))
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

#[cfg(test)]
mod tests {
    use crate::registry::Registry;
    use crate::registry::read::tests::promoted_three_times;

    #[test]
    fn counter_and_time_follow_gto() {
        let reg = Registry::from_tags(promoted_three_times());
        assert_eq!(reg.next_counter("m"), 5);
        assert_eq!(reg.next_time("m", 5), 17);
        assert_eq!(reg.next_time("m", 100), 100);
    }
}
