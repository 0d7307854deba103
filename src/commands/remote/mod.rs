//! `git mlv remote add|set|list|show|remove|default`: where data is shared. One file per
//! subcommand; this one only dispatches and ends with the `git add` hint.

mod add;
mod default;
mod list;
mod remove;
mod set;
mod shared;
mod show;

use crate::repo::Repo;
use crate::ui::Ui;
use clap::Subcommand;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Subcommand)]
pub enum Action {
    /// Add a remote: a folder path, file://, s3://bucket/prefix, gs://, az://, http(s)://,
    /// ssh://[user@]host/path or [user@]host:path
    Add(add::Args),
    /// Set one setting of a remote (url, endpoint, region, path_style, jobs, pack_threshold,
    /// profile, instance_credentials, user, ssl_verify, timeout, read_only, and — always in
    /// the local file — ca_bundle, credentials_file, access_key_id, secret_access_key,
    /// session_token, account_key, password, ssh_config, identity_file, known_hosts)
    Set(set::Args),
    /// List the remotes
    List,
    /// Show every setting of a remote (URL redacted, secrets masked)
    Show(show::Args),
    /// Remove a remote
    Remove(remove::Args),
    /// Make a remote the default
    Default(default::Args),
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    // Committed files changed (the team config, what an implicit init created), for the
    // closing `git add` hint: a remote reaches teammates and CI only once committed.
    let to_stage = match args.action {
        Action::Add(args) => add::run(args, &repo, ui)?,
        Action::Set(args) => set::run(args, &repo, ui)?,
        Action::List => list::run(&repo, ui)?,
        Action::Show(args) => show::run(args, &repo, ui)?,
        Action::Remove(args) => remove::run(args, &repo, ui)?,
        Action::Default(args) => default::run(args, &repo, ui)?,
    };
    super::common::hint_git_add(&repo, ui, &to_stage);
    Ok(())
}
