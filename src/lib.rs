//! git-mlv: version data and models next to code. A library with a thin binary, so every
//! behaviour is reachable from tests. Layers: `cli` parses, `commands` run one command
//! each, and the domain modules below them never print.

pub mod cli;
pub mod commands;
pub mod error;
pub mod ui;

pub mod ops;

pub mod cache;
pub mod config;
pub mod credentials;
pub mod deploy;
pub mod diff;
pub mod experiment;
pub mod fsutil;
pub mod gate;
pub mod gc;
pub mod gitignore;
pub mod gitx;
pub mod hash;
pub mod le;
pub mod lineage;
pub mod link;
pub mod lockfile;
pub mod manifest;
pub mod metrics;
pub mod mlvignore;
pub mod pack;
pub mod params;
pub mod paths;
pub mod pathspec;
pub mod pipeline;
pub mod plots;
pub mod pointer;
pub mod problem;
pub mod progress;
pub mod project;
pub mod registry;
pub mod relocate;
pub mod remote;
pub mod repo;
pub mod restore;
pub mod stat_cache;
pub mod status;
pub mod sync;
pub mod track;
pub mod transfer;
pub mod units;
pub mod workspace;

/// Runs one parsed command line.
pub fn run(cli: cli::Cli, ui: &ui::Ui) -> anyhow::Result<()> {
    commands::run(cli.command, ui)
}
