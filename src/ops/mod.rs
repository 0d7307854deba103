//! Operations that several commands share, between the command layer and the domain modules.

pub mod staleness;
