//! `git mlv register <name> [<version>] [--rev R]`: tag a commit as a version of an artifact.

use crate::registry::{self, Registry, Version};
use crate::repo::Repo;
use crate::ui::Ui;

#[derive(clap::Args)]
pub struct Args {
    /// The artifact, as named in `mlv.toml` (`[artifacts.<name>]`)
    pub name: String,
    /// The version, `1.2.0` or `v1.2.0` (default: the next patch after the highest)
    #[arg(value_name = "VERSION")]
    pub semver: Option<String>,
    /// The commit to register (default HEAD)
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub rev: String,
    /// The registration's message, kept in the tag as `gto register --message` keeps it
    /// (default: `Registering artifact <name> version <version>`)
    #[arg(long, short = 'm', value_name = "TEXT")]
    pub message: Option<String>,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    registry::check_name(&args.name)?;
    let version = args.semver.as_deref().map(Version::parse).transpose()?;
    let commit = repo.git.resolve_commit(&args.rev)?;
    let artifact = crate::project::artifact_at(&repo.git, repo.root(), &args.name, &commit)?;
    if repo
        .git
        .file_at(&commit, artifact.path.pointer().as_str())?
        .is_none()
    {
        return Err(crate::error::usage(format!(
            "`{}` (artifact `{}`) is not tracked at `{}`: that commit has no `{}`\nhint: `git mlv add {}` and commit the pointer, then register that commit",
            artifact.path,
            args.name,
            args.rev,
            artifact.path.pointer(),
            artifact.path
        )));
    }
    let reg = Registry::load(&repo.git)?;
    let (info, message) = registry::register(
        &repo.git,
        &reg,
        &args.name,
        version,
        &commit,
        args.message.as_deref(),
    )?;
    if let Some(d) = reg.deprecation(&args.name) {
        ui.info(&format!(
            "`{}` was deprecated (tag `{}`); this registration makes it active again, as GTO reads it",
            args.name, d.tag
        ));
    }
    if ui.json {
        ui.print_json(&serde_json::json!({ "name": args.name, "version": info.version, "commit": info.commit, "tag": info.tag, "message": message }))?;
    } else {
        ui.out(&info.tag)?;
        ui.info(&format!(
            "registered `{}` {} at {}",
            args.name,
            info.version,
            &commit[..12]
        ));
        ui.hint(&format!(
            "share it with `git push origin {}`; promote it with `git mlv promote {} <stage>`",
            info.tag, info.tag
        ));
    }
    Ok(())
}
