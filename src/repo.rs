//! The repository as git-mlv sees it: the work tree, its git dirs, config, cache, stat
//! cache and lock, and the pointer files found in the work tree.

use crate::cache::{Cache, CacheError};
use crate::config::Config;
use crate::gitx::{self, GitRepo, Layout};
use crate::manifest::Manifest;
use crate::paths::{self, PathError, RepoPath};
use crate::pathspec::{Hits, Pathspec, Pick, Scope};
use crate::pointer::{self, Pointer, PointerError};
use crate::stat_cache::StatCache;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct Repo {
    pub layout: Layout,
    pub config: Config,
    pub git: GitRepo,
    cwd: PathBuf,
}

/// A tracked path and what its pointer says.
#[derive(Debug, Clone)]
pub struct Tracked {
    pub path: RepoPath,
    pub pointer: Pointer,
}

impl Tracked {
    /// Checks the pointer's `size` (and a directory's `files`) against the object its hash
    /// names. When they disagree and the object verifies against that hash, the pointer is
    /// the damaged side (a hand edit, a bad merge). A file is checked when the cache
    /// holds its object; a directory against its `manifest`, read by the caller.
    pub fn check_sizes(
        &self,
        cache: &Cache,
        manifest: Option<&crate::manifest::Manifest>,
    ) -> Result<(), PointerError> {
        let (size, files) = match manifest {
            Some(m) => {
                return self.check_totals(crate::manifest::Totals {
                    files: m.entries().len() as u64,
                    size: m.total_size(),
                });
            }
            None if self.pointer.is_dir() => return Ok(()),
            None => match std::fs::metadata(cache.object_path(&self.pointer.hash)) {
                // Only when the sizes differ is the object hashed (rarely, so cheaply): a
                // damaged cache object is the cache's fault, which fsck and push name.
                Ok(meta)
                    if meta.len() != self.pointer.size
                        && cache.rehash(&self.pointer.hash).ok() == Some(self.pointer.hash) =>
                {
                    (meta.len(), None)
                }
                _ => return Ok(()),
            },
        };
        self.check_against(size, files)
    }

    /// `check_sizes` of a directory against the totals of its manifest, read by the caller.
    pub fn check_totals(&self, totals: crate::manifest::Totals) -> Result<(), PointerError> {
        self.check_against(totals.size, Some(totals.files))
    }

    fn check_against(&self, size: u64, files: Option<u64>) -> Result<(), PointerError> {
        let reason = if size != self.pointer.size {
            format!(
                "its `size` is {} but the data its hash names is {size} bytes",
                self.pointer.size
            )
        } else if files.is_some() && files != self.pointer.files {
            format!(
                "its `files` is {} but the directory its hash names holds {}",
                self.pointer.files.unwrap_or(0),
                crate::units::count(files.unwrap_or(0), "file")
            )
        } else {
            return Ok(());
        };
        Err(PointerError::Invalid {
            path: PathBuf::from(self.path.pointer().as_str()),
            reason,
        })
    }
}

/// Held while a command changes the work tree, so two git-mlv processes in the same
/// worktree never interleave their pointer, `.gitignore` and stat cache writes.
pub struct WorktreeLock(#[allow(dead_code)] std::fs::File);

impl Repo {
    pub fn discover() -> anyhow::Result<Repo> {
        Repo::open(&std::env::current_dir()?)
    }

    /// The repository that holds `dir`, with paths resolved and shown relative to `dir`
    /// (the library's callers name a repository without changing the process's folder).
    pub fn open(dir: &Path) -> anyhow::Result<Repo> {
        let cwd = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        let (layout, git) = gitx::discover(&cwd)?;
        let config = Config::load(&layout.workdir)?;
        Ok(Repo {
            layout,
            config,
            git,
            cwd,
        })
    }

    pub fn root(&self) -> &Path {
        &self.layout.workdir
    }

    /// Per-worktree state: stat cache and lock.
    pub fn state_dir(&self) -> PathBuf {
        self.layout.git_dir.join("mlv")
    }

    /// What this clone keeps about remote `name` (its pack indexes), shared by worktrees;
    /// always one folder inside `remotes`, whatever `name` holds.
    pub fn remote_state_dir(&self, name: &str) -> PathBuf {
        self.layout
            .common_dir
            .join("mlv")
            .join("remotes")
            .join(crate::config::remote_state_folder(name))
    }

    pub fn cache_dir(&self) -> PathBuf {
        match &self.config.cache.dir {
            Some(dir) => self.root().join(dir),
            None => self.layout.common_dir.join("mlv").join("cache"),
        }
    }

    pub fn cache(&self) -> Result<Cache, CacheError> {
        Cache::open(&self.cache_dir(), self.config.cache.fsync)
    }

    pub fn stat_cache(&self) -> StatCache {
        StatCache::load(&self.state_dir().join("stat-cache"))
    }

    /// Takes the worktree lock, waiting while another git-mlv holds it; `on_wait` is told
    /// the lock file's path before the wait, so the caller can say why nothing happens.
    pub fn lock(&self, on_wait: impl FnOnce(&Path)) -> anyhow::Result<WorktreeLock> {
        let dir = self.state_dir();
        fs_err::create_dir_all(&dir)?;
        let path = dir.join("lock");
        let file = fs_err::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?
            .into_parts()
            .0;
        if let Err(std::fs::TryLockError::WouldBlock) = file.try_lock() {
            on_wait(&path);
            file.lock()?;
        }
        Ok(WorktreeLock(file))
    }

    /// Refuses a folder remote that would hold no second copy of the data: the cache itself
    /// or a folder inside it (gc would count the cache's objects as pushed and free the only
    /// copy), or a folder inside git's own folder (it goes with the clone, and the default
    /// cache lives there). Also refuses one inside the work tree, git-ignored or not: `git
    /// add -A` or `git mlv add` would pick the pushed objects up as files, and a `.gitignore`
    /// line is one edit from being gone. A folder that only contains the cache or the work
    /// tree is a store of its own: a remote's objects are under its own `b3/`. Other
    /// remotes pass.
    pub fn check_remote_folder(&self, name: &str, url: &str) -> anyhow::Result<()> {
        let Some(folder) = crate::remote::folder(url, self.root()) else {
            return Ok(());
        };
        let folder = resolve_existing(&folder);
        let cache = resolve_existing(&self.cache_dir());
        let no_copy = (
            "it would hold no second copy of the data, and gc would free the only one",
            "use a folder outside the repository's `.git` and the cache (another disk, a NAS)",
        );
        let inside = if folder == cache {
            Some(("the cache", cache, no_copy))
        } else if folder.starts_with(&cache) {
            Some(("inside the cache", cache, no_copy))
        } else if let Some(g) = [&self.layout.git_dir, &self.layout.common_dir]
            .into_iter()
            .find(|g| folder.starts_with(g))
        {
            Some(("inside git's own folder", g.clone(), no_copy))
        } else if folder.starts_with(self.root()) {
            Some((
                "inside the work tree",
                self.root().to_path_buf(),
                (
                    "git or `git mlv add` would take the pushed objects for files to version",
                    "use a folder outside the repository (another disk, a NAS, `../store`)",
                ),
            ))
        } else {
            None
        };
        match inside {
            None => Ok(()),
            Some((what, place, (why, hint))) => Err(crate::problem::usage_with_hint(
                format!(
                    "remote `{name}` is the folder `{}`, {what} `{}`: {why}",
                    folder.display(),
                    place.display()
                ),
                format!(
                    "{hint}; `git mlv remote set {name} url <url>` changes it, `git mlv remote remove {name}` drops it"
                ),
            )),
        }
    }

    /// Resolves a path the user typed, relative to the current folder. `x.mlv` means `x`.
    pub fn resolve(&self, arg: &Path) -> Result<RepoPath, PathError> {
        let p = paths::resolve(self.root(), &self.cwd, arg)?;
        Ok(match p.as_str().strip_suffix(pointer::EXT) {
            Some(stripped) if !stripped.is_empty() && !stripped.ends_with('/') => {
                RepoPath::new(stripped)
            }
            _ => p,
        })
    }

    /// A repository path as the user should see it, relative to the current folder.
    pub fn display(&self, p: &RepoPath) -> String {
        let abs = p.to_abs(self.root());
        match abs.strip_prefix(&self.cwd) {
            Ok(rel) if !rel.as_os_str().is_empty() => rel.display().to_string(),
            _ if self.cwd == *self.root() => p.to_string(),
            _ => pathdiff(&abs, &self.cwd),
        }
    }

    /// Every pointer file in the work tree, sorted by path. Git-ignored folders (the data
    /// itself) are not entered, so this stays fast however much data there is.
    pub fn tracked(&self) -> anyhow::Result<Vec<Tracked>> {
        tracked_in(self.root())
    }

    /// The paths that have a pointer file in the work tree, without reading the pointers
    /// (so a damaged one does not stop `add` from replacing it).
    pub fn tracked_paths(&self) -> anyhow::Result<Vec<RepoPath>> {
        tracked_paths_in(self.root())
    }

    /// The pointers committed at `rev`, read from git's object database; with `None`, the
    /// pointer files in the work tree.
    pub fn tracked_at(&self, rev: Option<&str>) -> anyhow::Result<Vec<Tracked>> {
        let Some(rev) = rev else {
            return self.tracked();
        };
        tracked_committed(&self.git, &self.rev(rev)?)
    }

    /// A revision as the user gave it, with registry references (`model#prod`: the commit of
    /// the version that stage holds now) turned into commits; git resolves the rest (a
    /// version tag such as `model@v1.2.0` is a git tag already).
    pub fn rev(&self, rev: &str) -> anyhow::Result<String> {
        if !rev.contains('#') {
            return Ok(rev.to_string());
        }
        let reg = crate::registry::Registry::load(&self.git)?;
        crate::registry::resolve(&self.git, &reg, rev)?.ok_or_else(|| {
            crate::problem::usage_with_hint(
                format!("`{rev}` holds no version yet"),
                "`git mlv models` lists the stages and what they hold",
            )
        })
    }

    pub fn load_pointer(&self, path: &RepoPath) -> Result<Pointer, PointerError> {
        Pointer::load(&path.pointer().to_abs(self.root()))
    }

    /// The path arguments and `--exclude` patterns as typed, resolved against the current
    /// folder (see `pathspec` for what they select).
    pub fn pathspec(&self, args: &[PathBuf], exclude: &[PathBuf]) -> anyhow::Result<Arc<Pathspec>> {
        let resolve = |v: &[PathBuf]| -> Result<Vec<(String, RepoPath)>, PathError> {
            v.iter()
                .map(|a| Ok((a.display().to_string(), self.resolve(a)?)))
                .collect()
        };
        Ok(Arc::new(Pathspec::new(resolve(args)?, resolve(exclude)?)?))
    }

    /// The tracked paths `spec` selects among the work tree's pointers; an argument or
    /// exclude that selects nothing is an error (exit 2).
    pub fn select(&self, spec: &Arc<Pathspec>) -> anyhow::Result<Selection> {
        self.select_at(spec, None)
    }

    /// `select` over the pointers committed at `rev` (the work tree's when `None`).
    pub fn select_at(&self, spec: &Arc<Pathspec>, rev: Option<&str>) -> anyhow::Result<Selection> {
        let (out, hits) = self.pick(self.tracked_at(rev)?, spec)?;
        spec.check(&hits, rev)?;
        Ok(out)
    }

    /// The tracked paths among `all` that `spec` selects (all of them, whole, when it is
    /// empty), each with the part of it selected, and which patterns matched. A directory
    /// the arguments reach into is judged against its manifest when the cache holds it.
    pub fn pick(
        &self,
        all: Vec<Tracked>,
        spec: &Arc<Pathspec>,
    ) -> anyhow::Result<(Selection, Hits)> {
        let mut hits = spec.hits();
        if spec.is_empty() {
            return Ok((
                all.into_iter().map(|t| (t, Scope::default())).collect(),
                hits,
            ));
        }
        let cache = self.cache()?;
        let mut out = Vec::new();
        for t in all {
            let files = if t.pointer.is_dir() {
                // Unreadable here is unknown here: the command itself reports the manifest.
                cache
                    .read_verified(&t.pointer.hash)
                    .ok()
                    .and_then(|b| Manifest::from_bytes(&b, &t.pointer.hash).ok())
                    .map(|m| {
                        m.entries()
                            .iter()
                            .map(|e| format!("{}/{}", t.path, e.path))
                            .collect()
                    })
            } else {
                Some(vec![t.path.to_string()])
            };
            let scope = match spec.judge(&t.path, files.as_deref(), &mut hits) {
                Pick::Nothing => continue,
                Pick::Whole => Scope::default(),
                Pick::Part => Scope::part(spec.clone()),
            };
            out.push((t, scope));
        }
        Ok((out, hits))
    }
}

/// The pointers committed at `rev` (a commit id or a name `git` resolves) in `git`, read
/// from its object database; a pointer whose data path git-mlv must never write is refused.
pub fn tracked_committed(git: &GitRepo, rev: &str) -> anyhow::Result<Vec<Tracked>> {
    let rev = &rev.to_string();
    git.files_at(rev, pointer::EXT)?
        .into_iter()
        .map(|f| {
            let text = String::from_utf8(f.data).map_err(|_| PointerError::InvalidAt {
                rev: rev.clone(),
                path: f.path.clone(),
                reason: "not UTF-8 text".into(),
            })?;
            let path = data_path(&f.path, Some(rev))?;
            let pointer = Pointer::parse_at(&text, rev, &f.path)?;
            Ok(Tracked { path, pointer })
        })
        .collect()
}

/// Tracked paths, each with the part of it selected (`data/train` in `data`).
pub type Selection = Vec<(Tracked, Scope)>;

/// Every pointer file in the work tree at `root`, sorted by path. Git-ignored folders (the
/// data itself) are not entered, so this stays fast however much data there is.
pub fn tracked_in(root: &Path) -> anyhow::Result<Vec<Tracked>> {
    tracked_paths_in(root)?
        .into_iter()
        .map(|path| {
            let pointer = Pointer::load(&path.pointer().to_abs(root))?;
            Ok(Tracked { path, pointer })
        })
        .collect()
}

/// The tracked paths of [`tracked_in`], sorted, without reading their pointers.
pub fn tracked_paths_in(root: &Path) -> anyhow::Result<Vec<RepoPath>> {
    let mut found = Vec::new();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .git_global(false)
        .git_exclude(true)
        .parents(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build();
    for entry in walker {
        let entry = entry?;
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Some(name) = entry.file_name().to_str() else {
            continue;
        };
        if name.len() <= pointer::EXT.len() || !name.ends_with(pointer::EXT) {
            continue;
        }
        let Some(rel) = entry
            .path()
            .strip_prefix(root)
            .ok()
            .and_then(|r| r.to_str())
        else {
            continue;
        };
        found.push(data_path(rel, None)?);
    }
    found.sort();
    Ok(found)
}

/// The data path of the pointer file `pointer` (found in the work tree, or committed at
/// `rev`), refused when git-mlv must never write there (`.git.mlv`, `sub/.GIT.mlv`,
/// `.mlv/x.mlv`): every command gets its pointers from here or from `tracked_at`.
fn data_path(pointer: &str, rev: Option<&str>) -> Result<RepoPath, PathError> {
    let path = &pointer[..pointer.len() - pointer::EXT.len()];
    if paths::is_reserved(path) {
        return Err(PathError::ReservedPointer {
            pointer: pointer.to_string(),
            path: path.to_string(),
            rev: rev.map(str::to_owned),
        });
    }
    Ok(RepoPath::new(path))
}

/// The absolute `path` with symlinks resolved as far as it exists and `.`/`..` applied, so
/// a folder that is not created yet compares like one that is.
fn resolve_existing(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for comp in path.components() {
        match comp {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            c => {
                out.push(c);
                if let Ok(real) = out.canonicalize() {
                    out = real;
                }
            }
        }
    }
    out
}

/// `abs` relative to `base` with `..` segments, for display from a sub-folder.
fn pathdiff(abs: &Path, base: &Path) -> String {
    let a: Vec<_> = abs.components().collect();
    let b: Vec<_> = base.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &a[common..] {
        out.push(c);
    }
    // The folder one is in is `.`, as git prints it.
    match out.as_os_str().is_empty() {
        true => ".".to_string(),
        false => out.display().to_string(),
    }
}
