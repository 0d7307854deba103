//! The command line: clap derive structs only; each command's arguments live with it.

use crate::commands;
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "git-mlv",
    bin_name = "git mlv",
    version,
    about = "Version data and models next to your code"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone, Default)]
pub struct GlobalArgs {
    /// Print only errors
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Print more detail
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Print a JSON report on stdout instead of text
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum Command {
    /// Set up git-mlv in this repository (idempotent)
    Init(commands::init::Args),
    /// Track files or directories: store them in the cache and write pointers
    Add(commands::add::Args),
    /// Show tracked data that differs from its pointer, is missing, or is not cached
    Status(commands::status::Args),
    /// Make workspace data match its pointer files
    Checkout(commands::checkout::Args),
    /// List tracked artifacts with hash, size and file count
    Ls(commands::ls::Args),
    /// Manage remotes: add, set, list, remove, default
    Remote(commands::remote::Args),
    /// Upload tracked data the remote lacks
    Push(commands::push::Args),
    /// Download tracked data into the cache (the work tree is not touched)
    Fetch(commands::fetch::Args),
    /// Fetch, then check out
    Pull(commands::pull::Args),
    /// Files added, removed and modified inside tracked data between revisions
    Diff(commands::diff::Args),
    /// Install git hooks that keep data in step with git (pre-commit, pre-push, post-checkout, post-merge)
    InstallHooks(commands::install_hooks::Args),
    /// Run one git hook (called by the installed hook scripts)
    Hook(commands::hook::Args),
    /// Remove cache objects nothing needs (keeping the last copy of unpushed data)
    Gc(commands::gc::Args),
    /// Run the stale stages of mlv.toml in dependency order and record them in mlv.lock
    Run(commands::run::Args),
    /// Show the stage, command, params and exact input hashes that produced an artifact
    Lineage(commands::lineage::Args),
    /// Re-hash the cache's objects (or a remote's, with -r) and name every bad one
    Fsck(commands::fsck::Args),
    /// Show the pipeline's metrics, or compare them between revisions
    Metrics(commands::metrics::Args),
    /// Check every quality gate in `mlv.toml`; exit 1 when one fails
    Gate(commands::gate::Args),
    /// Register a commit as a version of an artifact (tag `<name>@v<semver>`)
    Register(commands::register::Args),
    /// Assign a stage to a version once its gates pass (tag `<name>#<stage>#<n>`)
    Promote(commands::promote::Args),
    /// List artifacts with their versions, stages and commits
    Models(commands::models::Args),
    /// The version a stage holds: version, commit and hash
    Which(commands::which::Args),
    /// Put the version a stage holds in a folder or object store and switch `current` to it
    Deploy(commands::deploy::Args),
    /// Give a stage back to the version that held it before, and switch a remembered deploy
    Rollback(commands::rollback::Args),
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    /// The hand-written man page (`git mlv --help` shows it) lists every command with its
    /// one-line help, as `git mlv -h` does.
    #[test]
    fn the_man_page_lists_every_command() {
        let page = include_str!("../docs/git-mlv.1");
        // roff: `-` is written `\-`, and `code` spans become bold.
        let roff = |s: &str| s.replace('-', "\\-");
        for cmd in Cli::command().get_subcommands() {
            let name = cmd.get_name();
            let about = cmd.get_about().map(|a| a.to_string()).unwrap_or_default();
            let entry = format!(".TP\n.B {}\n", roff(name));
            let at = page
                .find(&entry)
                .unwrap_or_else(|| panic!("docs/git-mlv.1 lacks the command `{name}`"));
            let line = page[at + entry.len()..].lines().next().unwrap();
            let plain = line.replace("\\fB", "`").replace("\\fR", "`");
            assert_eq!(plain, roff(&about), "docs/git-mlv.1: `{name}`");
        }
    }
}
