//! Plain text for numbers and words in messages (`3 files`, `1.5 MiB`, `10 MB`, a shell
//! word): pure functions that domain and command code share, so domain code never needs `ui`.

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

/// A shortened list, one item a line, ending with `  … and 3 more` when `more` items were
/// left out.
pub fn listing(shown: &[String], more: usize) -> String {
    let mut text = shown.join("\n");
    if more > 0 {
        text.push_str(&format!("\n  … and {more} more"));
    }
    text
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
    fn a_shortened_list_says_how_many_were_left_out() {
        let shown = ["  a".to_string(), "  b".to_string()];
        assert_eq!(listing(&shown, 0), "  a\n  b");
        assert_eq!(listing(&shown, 3), "  a\n  b\n  … and 3 more");
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_quote("data.mlv"), "data.mlv");
        assert_eq!(shell_quote("../.mlv/config.toml"), "../.mlv/config.toml");
        assert_eq!(shell_quote("my data.mlv"), "'my data.mlv'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }
}
