//! The pipeline of `mlv.toml`: the stage graph (outs → deps), what a stage's inputs are now,
//! why a stage is stale against `mlv.lock`, the run cache, recording a finished stage, and
//! the scheduler that runs stages. Each concept is a file; this module is their public surface.

mod graph;
mod inputs;
mod record;
mod report;
mod run_cache;
mod scheduler;
mod staleness;

pub use graph::{Graph, PipelineError, check_deps};
pub use inputs::{Content, Inputs, content, flatten_params, param_values};
pub use report::{Notice, Outcome, RunReport};
pub use scheduler::Scheduler;
pub use staleness::{Reason, StageCheck, input_reasons, stale_stages};
