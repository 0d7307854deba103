//! This machine's side: the cache's file system and free space, the link types that work
//! from it into the work tree (tried with a small file), the hooks and the stat cache.

use super::{HookSet, Problem, Severity};
use crate::cache::Cache;
use crate::config::LinkType;
use crate::repo::Repo;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Below this much free space next to the cache, doctor warns.
const LOW_SPACE: u64 = 1 << 30;
/// Below this much, adding or pulling anything is about to fail: broken.
const NO_SPACE: u64 = 100 << 20;

#[derive(Debug, Serialize)]
pub struct CacheInfo {
    pub path: PathBuf,
    /// The file system's name from statfs (`ext4`, `xfs`, `nfs`, …), `unknown (0x…)` for a
    /// type not in the table.
    pub filesystem: Option<String>,
    pub free_bytes: Option<u64>,
}

/// The cache, opened, with what doctor reports about it.
pub(super) struct OpenCache {
    pub info: CacheInfo,
    cache: Cache,
}

pub(super) fn cache(repo: &Repo, problems: &mut Vec<Problem>) -> Option<OpenCache> {
    let path = repo.cache_dir();
    // A cache not made yet lives on its nearest existing folder's file system.
    let on = path.ancestors().find(|p| p.exists()).unwrap_or(&path);
    let filesystem = rustix::fs::statfs(on)
        .ok()
        .map(|s| fs_name(s.f_type as u64 as u32));
    let free_bytes = rustix::fs::statvfs(on)
        .ok()
        .map(|s| s.f_bavail.saturating_mul(s.f_frsize));
    if let Some(free) = free_bytes.filter(|f| *f < LOW_SPACE) {
        problems.push(Problem::new(
            "cache",
            if free < NO_SPACE { Severity::Broken } else { Severity::Warning },
            format!(
                "only {} free on the file system of the cache `{}`",
                crate::units::size(free),
                path.display()
            ),
            "free space there (`git mlv gc` removes cache objects nothing needs), or move the cache elsewhere with `cache.dir` in `.mlv/config.local.toml`",
        ));
    }
    let info = CacheInfo {
        path,
        filesystem,
        free_bytes,
    };
    match repo.cache() {
        Ok(cache) => Some(OpenCache { info, cache }),
        Err(e) => {
            let hint = crate::problem::Hinted::hint(&e).unwrap_or_else(|| {
                format!(
                    "check that `{}` is a folder you can write to, or set `cache.dir` in `.mlv/config.local.toml`",
                    info.path.display()
                )
            });
            problems.push(Problem::new(
                "cache",
                Severity::Broken,
                format!(
                    "the cache at `{}` cannot be opened: {e}",
                    info.path.display()
                ),
                hint,
            ));
            None
        }
    }
}

/// The name of a file system from its statfs magic number (`linux/magic.h`).
fn fs_name(magic: u32) -> String {
    let name = match magic {
        0xEF53 => "ext4",
        0x5846_5342 => "xfs",
        0x9123_683E => "btrfs",
        0x2FC1_2FC1 => "zfs",
        0xCA45_1A4E => "bcachefs",
        0xF2F5_2010 => "f2fs",
        0x0102_1994 => "tmpfs",
        0x8584_58F6 => "ramfs",
        0x794C_7630 => "overlayfs",
        0x6969 => "nfs",
        0xFF53_4D42 => "cifs",
        0xFE53_4D42 => "smb2",
        0x0102_1997 => "9p",
        0x00C3_6400 => "ceph",
        0x6573_5546 => "fuse",
        0x4D44 => "vfat",
        0x2011_BAB0 => "exfat",
        0x5346_544E => "ntfs",
        0x7371_7368 => "squashfs",
        0x0BD0_0BD0 => "lustre",
        0x4750_4653 => "gpfs",
        _ => return format!("unknown (0x{magic:x})"),
    };
    name.to_string()
}

#[derive(Debug, Serialize)]
pub struct LinksInfo {
    pub reflink: bool,
    pub hardlink: bool,
    pub symlink: bool,
    pub copy: bool,
    /// `cache.link`, in its order of preference.
    pub configured: Vec<&'static str>,
    /// The first configured type that works: what checkout uses.
    pub used: Option<&'static str>,
}

pub fn link_name(link: LinkType) -> &'static str {
    match link {
        LinkType::Reflink => "reflink",
        LinkType::Hardlink => "hardlink",
        LinkType::Symlink => "symlink",
        LinkType::Copy => "copy",
    }
}

/// Tries each link type from a small file in the cache's temporary folder into the work
/// tree's root, as checkout writes (`link::materialize`), and removes what it made.
pub(super) fn links(
    repo: &Repo,
    cache: &OpenCache,
    problems: &mut Vec<Problem>,
) -> Option<LinksInfo> {
    let probe = tempfile::Builder::new()
        .prefix("doctor")
        .tempfile_in(cache.cache.tmp_dir())
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"git-mlv doctor\n").map(|()| f));
    let probe = match probe {
        Ok(probe) => probe,
        Err(e) => {
            problems.push(Problem::new(
                "links",
                Severity::Broken,
                format!(
                    "cannot write a file in the cache's temporary folder `{}`: {e}",
                    cache.cache.tmp_dir().display()
                ),
                format!(
                    "check that you can write to `{}`",
                    cache.info.path.display()
                ),
            ));
            return None;
        }
    };
    let works = |link: LinkType| try_link(probe.path(), repo.root(), link);
    let configured = &repo.config.cache.link;
    let info = LinksInfo {
        reflink: works(LinkType::Reflink),
        hardlink: works(LinkType::Hardlink),
        symlink: works(LinkType::Symlink),
        copy: works(LinkType::Copy),
        configured: configured.iter().map(|l| link_name(*l)).collect(),
        used: None,
    };
    let ok = |link: LinkType| match link {
        LinkType::Reflink => info.reflink,
        LinkType::Hardlink => info.hardlink,
        LinkType::Symlink => info.symlink,
        LinkType::Copy => info.copy,
    };
    let used = configured.iter().find(|l| ok(**l)).map(|l| link_name(*l));
    if used.is_none() {
        let hint = match info.copy {
            true => "add \"copy\" to `link` under `[cache]` in `.mlv/config.toml` (the default is `link = [\"reflink\", \"copy\"]`)".to_string(),
            false => format!("check that you can write to `{}`", repo.root().display()),
        };
        problems.push(Problem::new(
            "links",
            Severity::Broken,
            format!(
                "no configured link type ({}) works from the cache `{}` into the work tree `{}`: checkout cannot write data",
                info.configured.join(", "),
                cache.info.path.display(),
                repo.root().display()
            ),
            hint,
        ));
    }
    Some(LinksInfo { used, ..info })
}

fn try_link(object: &Path, root: &Path, link: LinkType) -> bool {
    // A name git-mlv's own listings skip, unique to this process.
    let dest = root.join(format!(
        "{}-doctor-{}-{}",
        crate::fsutil::TEMP_PREFIX,
        std::process::id(),
        link_name(link)
    ));
    let _ = std::fs::remove_file(&dest);
    let made = crate::link::materialize(object, &dest, false, &[link]).is_ok();
    let _ = std::fs::remove_file(&dest);
    made
}

/// Where a hook stands: git-mlv's script, another one, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HookState {
    Installed,
    /// git-mlv's script, but git would not run it.
    NotExecutable,
    /// A hook that is not git-mlv's (`install-hooks` keeps it and chains it).
    Other,
    Missing,
}

#[derive(Debug, Serialize)]
pub struct HooksInfo {
    pub dir: PathBuf,
    pub state: BTreeMap<String, HookState>,
}

pub(super) fn hooks(repo: &Repo, set: &HookSet, problems: &mut Vec<Problem>) -> Option<HooksInfo> {
    use std::os::unix::fs::PermissionsExt;
    let dir = match repo.git.hooks_dir() {
        Ok(dir) => dir,
        Err(e) => {
            problems.push(Problem::new(
                "hooks",
                Severity::Broken,
                e.to_string(),
                crate::problem::Hinted::hint(&e)
                    .unwrap_or_else(|| "check the repository with `git status`".into()),
            ));
            return None;
        }
    };
    let state: BTreeMap<String, HookState> = set
        .names
        .iter()
        .map(|name| {
            let path = dir.join(name);
            let state = match std::fs::read_to_string(&path) {
                Err(_) if !path.exists() => HookState::Missing,
                Ok(text) if text.contains(set.mark) => {
                    match std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o111) {
                        Ok(0) | Err(_) => HookState::NotExecutable,
                        Ok(_) => HookState::Installed,
                    }
                }
                _ => HookState::Other,
            };
            (name.to_string(), state)
        })
        .collect();
    let lacking: Vec<&str> = state
        .iter()
        .filter(|(_, s)| **s != HookState::Installed)
        .map(|(n, _)| n.as_str())
        .collect();
    let none = state
        .values()
        .all(|s| matches!(s, HookState::Missing | HookState::Other));
    if !lacking.is_empty() {
        // Hooks are opt-in: none installed is a choice; some of them is a broken install.
        let (severity, what) = match none {
            true => (Severity::Warning, "are not installed"),
            false => (Severity::Broken, "are not all installed"),
        };
        problems.push(Problem::new(
            "hooks",
            severity,
            format!(
                "git-mlv's hooks {what} in `{}` (lacking: {})",
                dir.display(),
                lacking.join(", ")
            ),
            "run `git mlv install-hooks` (a hook of your own there is kept and runs first)",
        ));
    }
    Some(HooksInfo { dir, state })
}

#[derive(Debug, Serialize)]
pub struct StatCacheInfo {
    pub entries: usize,
    pub bytes: u64,
}

pub(super) fn stat_cache(repo: &Repo) -> StatCacheInfo {
    let (entries, bytes) = repo.stat_cache().saved_size();
    StatCacheInfo { entries, bytes }
}
