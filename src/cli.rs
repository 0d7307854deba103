//! The command line: clap derive structs only; the subcommand enum and each command's
//! arguments live with the commands.

pub use crate::commands::Command;
use clap::{Args, Parser};

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

/// Words DVC and git-lfs users type (with the command above them) and the git-mlv command
/// that does that job, with what it does. Only commands that exist are named: a word with
/// no git-mlv command keeps clap's own message.
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
    Some(crate::error::usage_with_hint(
        format!("`git mlv {typed}` is not a git-mlv command; `git mlv {ours}` {what}"),
        format!("use `git mlv {ours}`; `git mlv --help` lists every command"),
    ))
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
