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
    /// Move tracked data with its pointer and `.gitignore` entry (stages nothing)
    Mv(commands::mv::Args),
    /// Stop tracking data: remove its pointer, `.gitignore` entry and (safe) data
    Rm(commands::rm::Args),
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

/// Words DVC and git-lfs users type (with the command above them) and the git-mlv command
/// that does that job, with what it does. Only commands that exist are named: a word with
/// no git-mlv command yet (`exp`, `import-url`) keeps clap's own message.
const FOREIGN_WORDS: &[(&str, &str, &str)] = &[
    ("repro", "run", "runs the stale stages of `mlv.toml`"),
    (
        "dag",
        "lineage --dot",
        "draws what produced an artifact as a graphviz graph",
    ),
    (
        "commit",
        "add",
        "stores changed data and rewrites its pointer",
    ),
    ("track", "add", "tracks files or directories"),
    ("ls-files", "ls", "lists tracked data"),
    ("install", "install-hooks", "installs the git hooks"),
    (
        "remote modify",
        "remote set",
        "changes one setting of a remote",
    ),
    ("version", "--version", "prints the version"),
];

/// The usage error for a command line clap refused because of a DVC or git-lfs word that
/// git-mlv spells differently (`git mlv repro`, `git mlv remote modify`); `None` for any
/// other error, which clap reports itself. `args` is the whole command line.
pub fn foreign_word(
    err: &clap::Error,
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Option<anyhow::Error> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if err.kind() != ErrorKind::InvalidSubcommand {
        return None;
    }
    let Some(ContextValue::String(word)) = err.get(ContextKind::InvalidSubcommand) else {
        return None;
    };
    // The global options are flags without values: the other words are the commands.
    let words: Vec<String> = args
        .into_iter()
        .skip(1)
        .filter_map(|a| a.into_string().ok())
        .filter(|a| !a.starts_with('-'))
        .collect();
    let typed = words[..=words.iter().position(|w| w == word)?].join(" ");
    let (_, ours, what) = FOREIGN_WORDS.iter().find(|(theirs, ..)| *theirs == typed)?;
    Some(crate::error::usage(format!(
        "`git mlv {typed}` is not a git-mlv command; `git mlv {ours}` {what}\nhint: use `git mlv {ours}`; `git mlv --help` lists every command"
    )))
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
