//! One module per command: its clap arguments and a `run` that calls the domain.

pub mod add;
pub mod checkout;
pub mod common;
pub mod deploy;
pub mod diff;
pub mod doctor;
pub mod exp;
pub mod fetch;
pub mod fsck;
pub mod gate;
pub mod gc;
pub mod get;
pub mod hook;
pub mod import;
pub mod import_url;
pub mod init;
pub mod install_hooks;
pub mod lineage;
pub mod ls;
pub mod metrics;
pub mod models;
pub mod mv;
pub mod params;
pub mod plots;
pub mod promote;
pub mod pull;
pub mod push;
pub mod register;
pub mod remote;
pub mod rm;
pub mod rollback;
pub mod run;
pub mod status;
pub mod update;
pub mod which;

use crate::ui::Ui;
use clap::Subcommand;

// The subcommands: `cli` parses into this enum, and nothing under `commands` imports `cli`.
#[derive(Subcommand)]
pub enum Command {
    /// Set up git-mlv in this repository (idempotent)
    Init(init::Args),
    /// Track files or directories: store them in the cache and write pointers
    Add(add::Args),
    /// Show tracked data that differs from its pointer, is missing, or is not cached
    Status(status::Args),
    /// Make workspace data match its pointer files
    Checkout(checkout::Args),
    /// List tracked artifacts with hash, size and file count
    Ls(ls::Args),
    /// Move tracked data with its pointer and `.gitignore` entry (stages nothing)
    Mv(mv::Args),
    /// Stop tracking data: remove its pointer, `.gitignore` entry and (safe) data
    Rm(rm::Args),
    /// Manage remotes: add, set, list, show, remove, default
    Remote(remote::Args),
    /// Upload tracked data the remote lacks
    Push(push::Args),
    /// Download tracked data into the cache (the work tree is not touched)
    Fetch(fetch::Args),
    /// Fetch, then check out
    Pull(pull::Args),
    /// Files added, removed and modified inside tracked data between revisions
    Diff(diff::Args),
    /// Install git hooks that keep data in step with git (pre-commit, pre-push, post-checkout, post-merge)
    InstallHooks(install_hooks::Args),
    /// Run one git hook (called by the installed hook scripts)
    Hook(hook::Args),
    /// Remove cache objects nothing needs (keeping the last copy of unpushed data)
    Gc(gc::Args),
    /// Run the stale stages of mlv.toml in dependency order and record them in mlv.lock
    Run(run::Args),
    /// Show the stage, command, params and exact input hashes that produced an artifact
    Lineage(lineage::Args),
    /// Re-hash the cache's objects (or a remote's, with -r) and name every bad one
    Fsck(fsck::Args),
    /// Show the pipeline's metrics, or compare them between revisions
    Metrics(metrics::Args),
    /// Compare the params of the pipeline's params files between revisions
    Params(params::Args),
    /// Draw metrics and `[[plots]]` series across revisions (or an artifact's versions) as one HTML page
    Plots(plots::Args),
    /// Check every quality gate in `mlv.toml`; exit 1 when one fails
    Gate(gate::Args),
    /// Register a commit as a version of an artifact (tag `<name>@v<semver>`)
    Register(register::Args),
    /// Assign a stage to a version once its gates pass (tag `<name>#<stage>#<n>`)
    Promote(promote::Args),
    /// List artifacts with their versions, stages and commits
    Models(models::Args),
    /// The version a stage holds: version, commit and hash
    Which(which::Args),
    /// Put the version a stage holds in a folder or object store and switch `current` to it
    Deploy(deploy::Args),
    /// Give a stage back to the version that held it before, and switch a remembered deploy
    Rollback(rollback::Args),
    /// Copy data tracked in another repository here (no pointer, no git changes)
    Get(get::Args),
    /// Copy data tracked in another repository here and track it, recording its source
    Import(get::Args),
    /// Move imported data to its source's new revision (or re-download a changed URL); restore it when missing
    Update(update::Args),
    /// Download a file (https://, http://, s3://, file://), track it, and record the URL and its ETag, size and Last-Modified for `update`
    ImportUrl(import_url::Args),
    /// Check what git-mlv sees here: versions, cache, link types, remotes, hooks; exit 1 when something is broken
    Doctor(doctor::Args),
    /// Experiments: run the pipeline with params overrides in worktrees of their own, show, apply, share them
    Exp(exp::Args),
}

pub fn run(command: Command, ui: &Ui) -> anyhow::Result<()> {
    match command {
        Command::Init(args) => init::run(args, ui),
        Command::Add(args) => add::run(args, ui),
        Command::Status(args) => status::run(args, ui),
        Command::Checkout(args) => checkout::run(args, ui),
        Command::Ls(args) => ls::run(args, ui),
        Command::Mv(args) => mv::run(args, ui),
        Command::Rm(args) => rm::run(args, ui),
        Command::Remote(args) => remote::run(args, ui),
        Command::Push(args) => push::run(args, ui),
        Command::Fetch(args) => fetch::run(args, ui),
        Command::Pull(args) => pull::run(args, ui),
        Command::Fsck(args) => fsck::run(args, ui),
        Command::Diff(args) => diff::run(args, ui),
        Command::InstallHooks(args) => install_hooks::run(args, ui),
        Command::Hook(args) => hook::run(args, ui),
        Command::Gc(args) => gc::run(args, ui),
        Command::Run(args) => run::run(args, ui),
        Command::Lineage(args) => lineage::run(args, ui),
        Command::Metrics(args) => metrics::run(args, ui),
        Command::Params(args) => params::run(args, ui),
        Command::Plots(args) => plots::run(args, ui),
        Command::Gate(args) => gate::run(args, ui),
        Command::Register(args) => register::run(args, ui),
        Command::Promote(args) => promote::run(args, ui),
        Command::Models(args) => models::run(args, ui),
        Command::Which(args) => which::run(args, ui),
        Command::Deploy(args) => deploy::run(args, ui),
        Command::Rollback(args) => rollback::run(args, ui),
        Command::Get(args) => get::run(args, ui),
        Command::Import(args) => import::run(args, ui),
        Command::Update(args) => update::run(args, ui),
        Command::ImportUrl(args) => import_url::run(args, ui),
        Command::Doctor(args) => doctor::run(args, ui),
        Command::Exp(args) => exp::run(args, ui),
    }
}
