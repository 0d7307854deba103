//! One module per command: its clap arguments and a `run` that calls the domain.

pub mod add;
pub mod checkout;
pub mod common;
pub mod deploy;
pub mod diff;
pub mod fetch;
pub mod fsck;
pub mod gate;
pub mod gc;
pub mod hook;
pub mod init;
pub mod install_hooks;
pub mod lineage;
pub mod ls;
pub mod metrics;
pub mod models;
pub mod mv;
pub mod promote;
pub mod pull;
pub mod push;
pub mod register;
pub mod remote;
pub mod rm;
pub mod rollback;
pub mod run;
pub mod status;
pub mod which;

use crate::cli::Command;
use crate::ui::Ui;

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
        Command::Gate(args) => gate::run(args, ui),
        Command::Register(args) => register::run(args, ui),
        Command::Promote(args) => promote::run(args, ui),
        Command::Models(args) => models::run(args, ui),
        Command::Which(args) => which::run(args, ui),
        Command::Deploy(args) => deploy::run(args, ui),
        Command::Rollback(args) => rollback::run(args, ui),
    }
}
