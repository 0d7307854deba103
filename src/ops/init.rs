//! Initializing git-mlv in a repository: the `.mlv/` folder with the team config and its
//! ignore entry; `init` asks for it, and `add`, `remote` and `run` do it when it is missing.

use crate::config;
use crate::paths::RepoPath;
use crate::repo::Repo;

const CONFIG_TEMPLATE: &str = r#"# git-mlv settings shared by the team (committed). A machine's own overrides go in
# .mlv/config.local.toml, which git ignores. Every key is described in docs/config.md.

[cache]
# dir = "/mnt/fast/mlv-cache"   # default: $(git rev-parse --git-common-dir)/mlv/cache
# fsync = false                 # fsync each object before it is renamed into place
# How files get from the cache into the work tree, in order of preference; also
# "hardlink" and "symlink" (no copy, but work tree files become read-only).
link = ["reflink", "copy"]
"#;

/// Creates what is missing of `.mlv/`; returns the files it created (to be committed).
pub fn ensure(repo: &Repo) -> anyhow::Result<Vec<RepoPath>> {
    let dir = repo.root().join(config::DIR);
    fs_err::create_dir_all(&dir)?;
    let mut created = Vec::new();
    let config_file = dir.join(config::FILE);
    if !config_file.exists() {
        crate::fsutil::write_atomic(&config_file, CONFIG_TEMPLATE.as_bytes())?;
        created.push(RepoPath::new(format!("{}/{}", config::DIR, config::FILE)));
    }
    let ignore = dir.join(".gitignore");
    if !ignore.exists() {
        crate::fsutil::write_atomic(&ignore, format!("/{}\n", config::LOCAL_FILE).as_bytes())?;
        created.push(RepoPath::new(format!("{}/.gitignore", config::DIR)));
    }
    repo.cache()?;
    Ok(created)
}
