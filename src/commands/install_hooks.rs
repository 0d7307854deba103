//! `git mlv install-hooks [--uninstall]`: the scripts in this project's `hooks/` folder
//! (embedded in the binary), installed where git runs hooks; a hook already there is kept
//! as `<name>.pre-mlv` and run first.

use crate::repo::Repo;
use crate::ui::Ui;
use std::os::unix::fs::PermissionsExt;

#[derive(clap::Args)]
pub struct Args {
    /// Remove git-mlv's hooks and put back the ones they chained
    #[arg(long)]
    pub uninstall: bool,
}

pub(crate) const HOOKS: [(&str, &str); 4] = [
    ("pre-commit", include_str!("../../hooks/pre-commit")),
    ("pre-push", include_str!("../../hooks/pre-push")),
    ("post-checkout", include_str!("../../hooks/post-checkout")),
    ("post-merge", include_str!("../../hooks/post-merge")),
];
pub(crate) const MARK: &str = "installed by `git mlv install-hooks`";
const CHAINED: &str = ".pre-mlv";

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    let dir = repo.git.hooks_dir()?;
    fs_err::create_dir_all(&dir)?;
    // For `--json`: the hooks written or removed, and the user's own hooks chained first.
    let mut changed = Vec::new();
    let mut chained_hooks = Vec::new();
    for (name, script) in HOOKS {
        let path = dir.join(name);
        let chained = dir.join(format!("{name}{CHAINED}"));
        let ours = fs_err::read_to_string(&path).is_ok_and(|t| t.contains(MARK));
        if args.uninstall {
            if ours {
                fs_err::remove_file(&path)?;
                changed.push(name);
                if chained.exists() {
                    fs_err::rename(&chained, &path)?;
                    chained_hooks.push(name);
                }
            }
            continue;
        }
        if path.exists() && !ours {
            if chained.exists() {
                return Err(crate::error::failed(format!(
                    "both `{}` and `{}` exist; git-mlv will not overwrite either\nhint: merge them by hand, then run `git mlv install-hooks` again",
                    path.display(),
                    chained.display()
                )));
            }
            fs_err::rename(&path, &chained)?;
            ui.info(&format!(
                "kept the existing {name} hook; it runs before git-mlv's"
            ));
        }
        crate::fsutil::write_atomic(&path, script.as_bytes())?;
        fs_err::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
        changed.push(name);
        if chained.exists() {
            chained_hooks.push(name);
        }
    }
    if args.uninstall {
        ui.info(&format!("removed git-mlv's hooks from `{}`", dir.display()));
    } else {
        ui.info(&format!(
            "installed git-mlv's pre-commit, pre-push, post-checkout and post-merge hooks in `{}`",
            dir.display()
        ));
    }
    if ui.json {
        let (key, chained_key) = match args.uninstall {
            true => ("removed", "restored"),
            false => ("installed", "chained"),
        };
        ui.print_json(&serde_json::json!({
            key: changed, chained_key: chained_hooks, "hooks_dir": dir,
        }))?;
    }
    Ok(())
}
