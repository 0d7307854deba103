//! `.gitignore` entries for tracked data: one anchored line per tracked path, in the
//! `.gitignore` of the folder that holds it, added once and never duplicated.

use crate::paths::RepoPath;
use std::io;
use std::path::Path;

/// The `.gitignore` that holds `path`'s entry: the one in the folder holding it.
pub fn file_for(path: &RepoPath) -> RepoPath {
    RepoPath::new(match path.parent() {
        "" => ".gitignore".to_string(),
        parent => format!("{parent}/.gitignore"),
    })
}

/// Ensures `path` is ignored by git; returns the `.gitignore` it changed, if any.
pub fn ensure(root: &Path, path: &RepoPath) -> io::Result<Option<RepoPath>> {
    let file_rel = file_for(path);
    let file = file_rel.to_abs(root);
    let line = format!("/{}", escape(path.file_name()));
    let mut text = match fs_err::read_to_string(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    if text.lines().any(|l| l == line) {
        return Ok(None);
    }
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&line);
    text.push('\n');
    crate::fsutil::write_atomic(&file, text.as_bytes())?;
    Ok(Some(file_rel))
}

/// Removes `path`'s entry (as `ensure` wrote it); returns the `.gitignore` it changed, if
/// any. A `.gitignore` left with nothing but blank lines is deleted.
pub fn remove(root: &Path, path: &RepoPath) -> io::Result<Option<RepoPath>> {
    let file_rel = file_for(path);
    let file = file_rel.to_abs(root);
    let line = format!("/{}", escape(path.file_name()));
    let text = match fs_err::read_to_string(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if !text.lines().any(|l| l == line) {
        return Ok(None);
    }
    let kept: Vec<&str> = text.lines().filter(|l| *l != line).collect();
    if kept.iter().all(|l| l.trim().is_empty()) {
        fs_err::remove_file(&file)?;
    } else {
        crate::fsutil::write_atomic(&file, format!("{}\n", kept.join("\n")).as_bytes())?;
    }
    Ok(Some(file_rel))
}

/// Escapes a file name as a literal gitignore pattern. A newline cannot appear in a
/// pattern, so it becomes `?` (any one character), which still matches the name.
fn escape(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (i, c) in name.chars().enumerate() {
        match c {
            '\n' | '\r' => out.push('?'),
            '*' | '?' | '[' | ']' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '#' | '!' if i == 0 => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    // Trailing spaces are dropped by git unless escaped.
    let trimmed = out.trim_end_matches(' ').len();
    let spaces = out.len() - trimmed;
    out.truncate(trimmed);
    out.push_str(&"\\ ".repeat(spaces));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_gitignore_syntax() {
        assert_eq!(escape("data"), "data");
        assert_eq!(escape("a*b?"), "a\\*b\\?");
        assert_eq!(escape("#x"), "\\#x");
        assert_eq!(escape("x "), "x\\ ");
        assert_eq!(escape("a\nb"), "a?b");
    }

    #[test]
    fn adds_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".gitignore"), "target").unwrap();
        let p = RepoPath::new("data");
        assert!(ensure(dir.path(), &p).unwrap().is_some());
        assert!(ensure(dir.path(), &p).unwrap().is_none());
        assert_eq!(
            std::fs::read_to_string(dir.path().join(".gitignore")).unwrap(),
            "target\n/data\n"
        );
        assert_eq!(
            remove(dir.path(), &p).unwrap(),
            Some(RepoPath::new(".gitignore"))
        );
        assert!(remove(dir.path(), &p).unwrap().is_none());
        assert_eq!(
            std::fs::read_to_string(dir.path().join(".gitignore")).unwrap(),
            "target\n"
        );
        let q = RepoPath::new("sub/x");
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        ensure(dir.path(), &q).unwrap();
        remove(dir.path(), &q).unwrap();
        assert!(
            !dir.path().join("sub/.gitignore").exists(),
            "an emptied file goes"
        );
    }
}
