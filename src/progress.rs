//! How the domain reports progress without knowing how (or whether) it is drawn.

use std::sync::atomic::{AtomicU64, Ordering};

/// Receives progress events from long operations; `ui` draws them on a terminal.
pub trait Progress: Sync {
    /// The totals of the phase that starts now (a fetch's manifests, then its files):
    /// what `inc` reports after this counts against them.
    fn start(&self, _files: u64, _bytes: u64) {}
    fn inc(&self, files: u64, bytes: u64);
}

/// For callers that draw nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn inc(&self, _files: u64, _bytes: u64) {}
}

/// Files done in the current phase, and the label a bar shows for them: `(3/303 files)`
/// once the phase's total is known, `(3 files)` before, nothing before the first file.
#[derive(Default)]
pub struct FileCount {
    done: AtomicU64,
    /// The phase's total plus one; 0 while no phase has started.
    total: AtomicU64,
}

impl FileCount {
    /// Starts a phase of `files` files; returns the label.
    pub fn start(&self, files: u64) -> String {
        self.done.store(0, Ordering::Relaxed);
        self.total.store(files + 1, Ordering::Relaxed);
        self.label(0)
    }

    /// Counts `files` more; returns the label.
    pub fn inc(&self, files: u64) -> String {
        self.label(self.done.fetch_add(files, Ordering::Relaxed) + files)
    }

    fn label(&self, done: u64) -> String {
        match self.total.load(Ordering::Relaxed) {
            0 if done == 0 => String::new(),
            0 => format!("({})", crate::units::count(done, "file")),
            t => format!("({done}/{})", crate::units::count(t - 1, "file")),
        }
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Records every label a bar would show, and fails on a count past its total.
    #[derive(Default)]
    pub struct Recorder {
        count: FileCount,
        pub labels: Mutex<Vec<String>>,
        done_total: Mutex<(u64, Option<u64>)>,
    }

    impl Progress for Recorder {
        fn start(&self, files: u64, _bytes: u64) {
            *self.done_total.lock().unwrap() = (0, Some(files));
            self.labels.lock().unwrap().push(self.count.start(files));
        }
        fn inc(&self, files: u64, _bytes: u64) {
            let mut dt = self.done_total.lock().unwrap();
            dt.0 += files;
            if let (done, Some(total)) = *dt {
                assert!(done <= total, "{done} of {total} files");
            }
            self.labels.lock().unwrap().push(self.count.inc(files));
        }
    }

    #[test]
    fn each_phase_counts_from_zero_against_its_own_total() {
        let c = FileCount::default();
        assert_eq!(c.inc(0), "");
        assert_eq!(c.inc(2), "(2 files)");
        assert_eq!(c.start(1), "(0/1 file)");
        assert_eq!(c.inc(1), "(1/1 file)");
        assert_eq!(c.start(303), "(0/303 files)");
        assert_eq!(c.inc(303), "(303/303 files)");
    }
}
