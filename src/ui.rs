//! Everything the user sees: messages on stderr, data on stdout, progress bars drawn with
//! indicatif only on a terminal (never with `-q`, `--json` or `MLV_NO_PROGRESS=1`).

use crate::cli::GlobalArgs;
use crate::progress::{FileCount, Progress};
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
    pub fn new(global: &GlobalArgs) -> Self {
        let tty = std::io::stderr().is_terminal();
        let no_progress = std::env::var_os("MLV_NO_PROGRESS").is_some_and(|v| v == "1");
        Ui {
            quiet: global.quiet,
            verbose: global.verbose,
            json: global.json,
            progress: tty && !global.quiet && !global.json && !no_progress,
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

    /// Prints an error with its causes joined by `: `; every `hint:` line any of them
    /// carries goes last, on its own line.
    pub fn error(&self, err: &anyhow::Error) {
        let mut msgs = Vec::new();
        let mut hints = Vec::new();
        for cause in err.chain() {
            let text = cause.to_string();
            let (msg, hint) = match text.split_once("\nhint: ") {
                Some((m, h)) => (m.to_string(), Some(h.to_string())),
                None => (text, None),
            };
            // anyhow repeats a source's text when a context wraps it verbatim.
            if msgs.last() != Some(&msg) {
                msgs.push(msg);
            }
            hints.extend(hint);
        }
        eprintln!("{} {}", self.paint("31", "error:"), msgs.join(": "));
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

/// A byte count for people: `1.5 MiB`. Data sizes are binary (what `du -h` and file
/// managers on Linux show); a limit the user configures in bytes is shown with `limit`.
pub fn size(bytes: u64) -> String {
    indicatif::BinaryBytes(bytes).to_string()
}

/// A configured byte limit and a size compared with it, both in decimal units, the unit
/// such limits are written in (`10000000` is "10 MB", not "9.54 MiB").
pub fn limit(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    // At most two decimals, without trailing zeros: `10 MB`, `12.5 MB`, `1.05 GB`.
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text} {}", UNITS[unit])
}

/// `n` and the noun, plural unless `n` is one: `1 file`, `3 files`, `0 objects`.
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `word` as a POSIX shell reads it back unchanged: bare when it holds only safe
/// characters, else in single quotes.
pub fn shell_quote(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./+,:@".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_read_in_decimal_units() {
        assert_eq!(limit(10_000_000), "10 MB");
        assert_eq!(limit(12_500_000), "12.5 MB");
        assert_eq!(limit(999), "999 B");
        assert_eq!(limit(1_048_576), "1.05 MB");
    }

    #[test]
    fn counts_are_plural_unless_one() {
        assert_eq!(count(1, "file"), "1 file");
        assert_eq!(count(0, "file"), "0 files");
        assert_eq!(count(2, "object"), "2 objects");
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_quote("data.mlv"), "data.mlv");
        assert_eq!(shell_quote("../.mlv/config.toml"), "../.mlv/config.toml");
        assert_eq!(shell_quote("my data.mlv"), "'my data.mlv'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }
}
