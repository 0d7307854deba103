//! How the domain reports progress without knowing how (or whether) it is drawn.

/// Receives progress events from long operations; `ui` draws them on a terminal.
pub trait Progress: Sync {
    /// The totals, once known.
    fn start(&self, _files: u64, _bytes: u64) {}
    fn inc(&self, files: u64, bytes: u64);
}

/// For callers that draw nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn inc(&self, _files: u64, _bytes: u64) {}
}
