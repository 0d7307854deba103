//! One integration test binary: every test runs the real `git-mlv` binary with real git in
//! a temporary repository (see `support::TestEnv`).

mod servers;
mod support;

mod add;
mod checkout;
mod ci_recipes;
mod deploy;
mod doctor;
mod errors;
mod experiments;
mod gates;
mod gc;
mod hooks;
mod imports;
mod mv_rm;
mod paths;
mod pathspecs;
mod pipeline;
mod plots;
mod quickstart;
mod registry;
#[macro_use]
mod remotes;
mod packs;
mod params;
mod remote_settings;
mod repack;
mod revisions;
mod robustness;
mod ssh;
mod status;
