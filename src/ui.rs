//! Everything the user sees: messages on stderr, data on stdout, progress bars drawn with
//! indicatif only on a terminal (never with `-q`, `--json` or `MLV_NO_PROGRESS=1`).

use crate::progress::{FileCount, Progress};
// The plain formatting helpers live in the domain-neutral `units`; commands reach them here.
pub use crate::units::{count, limit, shell_quote, size};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};

pub struct Ui {
    pub quiet: bool,
    pub verbose: bool,
    pub json: bool,
    progress: bool,
    color: bool,
}

impl Ui {
    /// Built from the global flags as plain values, so the UI does not depend on clap.
    pub fn new(quiet: bool, verbose: bool, json: bool) -> Self {
        let tty = std::io::stderr().is_terminal();
        let no_progress = std::env::var_os("MLV_NO_PROGRESS").is_some_and(|v| v == "1");
        Ui {
            quiet,
            verbose,
            json,
            progress: tty && !quiet && !json && !no_progress,
            color: tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// A message about what happened; silent with `-q`.
    pub fn info(&self, msg: &str) {
        if !self.quiet {
            eprintln!("{msg}");
        }
    }

    /// Detail shown with `-v` only.
    pub fn detail(&self, msg: &str) {
        if self.verbose && !self.quiet {
            eprintln!("{msg}");
        }
    }

    pub fn warn(&self, msg: &str) {
        eprintln!("{} {msg}", self.paint("33", "warning:"));
    }

    pub fn hint(&self, msg: &str) {
        if !self.quiet {
            eprintln!("{} {msg}", self.paint("36", "hint:"));
        }
    }

    /// Prints an error with its causes joined by `: `, then `hint` (the typed error's, from
    /// `error::outcome`) on the last line. A `hint:` line that the command layer wrote into
    /// a message of its own also goes to the end, before that one.
    pub fn error(&self, err: &anyhow::Error, hint: Option<&str>) {
        let (message, hints) = crate::error::message(err, hint);
        eprintln!("{} {message}", self.paint("31", "error:"));
        for h in hints {
            eprintln!("{} {h}", self.paint("36", "hint:"));
        }
    }

    /// A line of data on stdout.
    pub fn out(&self, line: &str) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")
    }

    /// A JSON document on stdout.
    pub fn print_json(&self, value: &impl serde::Serialize) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        // `io::Error::from` hands back serde_json's underlying I/O error as it was, so a
        // closed stdout stays a `BrokenPipe` that `main` ends quietly.
        serde_json::to_writer_pretty(&mut out, value).map_err(std::io::Error::from)?;
        writeln!(out)
    }

    /// A progress bar, drawn once the operation reports its totals; nothing when progress is off.
    pub fn bar(&self, verb: &str) -> Bar {
        if !self.progress {
            return Bar(None);
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{msg:>10} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta} {prefix}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_message(verb.to_string());
        Bar(Some(BarState {
            bar,
            files: FileCount::default(),
        }))
    }
}

struct BarState {
    bar: ProgressBar,
    files: FileCount,
}

pub struct Bar(Option<BarState>);

impl Progress for Bar {
    fn start(&self, files: u64, bytes: u64) {
        if let Some(s) = &self.0 {
            // A new phase (a fetch's manifests, then its files) counts from zero.
            s.bar.set_position(0);
            s.bar.set_length(bytes);
            s.bar.set_prefix(s.files.start(files));
        }
    }

    fn inc(&self, files: u64, bytes: u64) {
        if let Some(s) = &self.0 {
            s.bar.set_prefix(s.files.inc(files));
            s.bar.inc(bytes);
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        if let Some(s) = &self.0 {
            s.bar.finish_and_clear();
        }
    }
}
