//! The pipeline of `mlv.toml`: the stage graph (outs → deps), what a stage's inputs are now,
//! why a stage is stale against `mlv.lock`, the run cache, and recording a finished stage.
//! Each concept is a file; this module is their public surface.

mod graph;
mod inputs;
mod record;
mod run_cache;
mod staleness;

pub use graph::{Graph, PipelineError, check_deps};
pub use inputs::{Content, Inputs, content, inputs, param_values, save_changed_out};
pub use record::{record, unlink_cached_outs};
pub use run_cache::{cached_run, remember_run, restore_run, run_key};
pub use staleness::{Reason, StageCheck, input_reasons, stale_reasons, stale_stages};
