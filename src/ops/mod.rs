//! Operations that several commands share; they call the domain and never parse arguments.

pub mod checkout;
pub mod deploy;
pub mod doctor;
pub mod engine;
pub mod exp;
pub mod external;
pub mod fetch;
pub mod import;
mod import_get;
mod import_sources;
pub mod import_url;
pub mod init;
pub mod lineage;
pub mod read;
pub mod report;
pub mod select;
pub mod staleness;
