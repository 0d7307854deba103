//! `.mlvignore` files: rules in gitignore syntax that keep files (`.DS_Store`, notebook
//! checkpoints, scratch files) out of tracked directories, as `.dvcignore` does. A file's
//! rules apply to its own folder and everything below it; a deeper file's rules win, as
//! with `.gitignore`. The files themselves are never data: they belong in git.

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The name of a rules file.
pub const FILE: &str = ".mlvignore";

/// The rules in force in one folder: the nearest `.mlvignore` over the ones above it.
/// `None` when there are none, so a tree without `.mlvignore` files pays no matching.
pub type Rules = Option<Arc<Level>>;

pub struct Level {
    matcher: Gitignore,
    parent: Rules,
}

/// The rule that ignores a path: the file it is in and the pattern as written.
#[derive(Debug)]
pub struct Rule {
    pub file: PathBuf,
    pub pattern: String,
}

/// `parent` with the `.mlvignore` of `folder` on top, when `folder` has one.
pub fn enter(parent: &Rules, folder: &Path) -> io::Result<Rules> {
    let file = folder.join(FILE);
    let text = match fs_err::read_to_string(&file) {
        Ok(t) => t,
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(parent.clone());
        }
        Err(e) => return Err(e),
    };
    let mut builder = GitignoreBuilder::new(folder);
    for (n, line) in text.lines().enumerate() {
        builder.add_line(Some(file.clone()), line).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "`{}` line {}: {e}\nhint: fix the pattern (gitignore syntax)",
                    file.display(),
                    n + 1
                ),
            )
        })?;
    }
    let matcher = builder.build().map_err(io::Error::other)?;
    Ok(Some(Arc::new(Level {
        matcher,
        parent: parent.clone(),
    })))
}

/// The rules in force inside `dir` (below `root`), from the `.mlvignore` files of `root`
/// and every folder down to `dir`'s parent; `dir`'s own file is read by whoever lists it.
pub fn above(root: &Path, dir: &Path) -> io::Result<Rules> {
    let mut rules = None;
    let Ok(rel) = dir.strip_prefix(root) else {
        return Ok(rules);
    };
    let mut folder = root.to_path_buf();
    rules = enter(&rules, &folder)?;
    let mut parts: Vec<_> = rel.components().collect();
    parts.pop();
    for part in parts {
        folder.push(part);
        rules = enter(&rules, &folder)?;
    }
    Ok(rules)
}

/// The rule that ignores `abs` (a file, or a folder with `is_dir`), if any: the deepest
/// `.mlvignore` with a matching pattern decides, and a `!pattern` there keeps the path.
pub fn matched(rules: &Rules, abs: &Path, is_dir: bool) -> Option<Rule> {
    let mut level = rules.as_deref();
    while let Some(l) = level {
        let m = l.matcher.matched(abs, is_dir);
        if m.is_whitelist() {
            return None;
        }
        if let Some(glob) = m.inner().filter(|_| m.is_ignore()) {
            return Some(Rule {
                file: glob.from().map(Path::to_path_buf).unwrap_or_default(),
                pattern: glob.original().to_string(),
            });
        }
        level = l.parent.as_deref();
    }
    None
}

/// The rule that ignores `rel` (relative to `root`) or one of its parent folders, if any:
/// what `add` of that one path would refuse.
pub fn ignoring(root: &Path, rel: &str, is_dir: bool) -> io::Result<Option<Rule>> {
    let mut rules = enter(&None, root)?;
    let mut abs = root.to_path_buf();
    let parts: Vec<&str> = rel.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        abs.push(part);
        let last = i + 1 == parts.len();
        if let Some(rule) = matched(&rules, &abs, !last || is_dir) {
            return Ok(Some(rule));
        }
        if !last {
            rules = enter(&rules, &abs)?;
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deeper_files_win_and_folders_hide_their_contents() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("data/sub")).unwrap();
        std::fs::write(root.join(FILE), "*.tmp\n/data/cache/\n").unwrap();
        std::fs::write(root.join("data/sub").join(FILE), "!keep.tmp\n").unwrap();
        let ignored = |rel: &str| ignoring(root, rel, false).unwrap().is_some();
        assert!(ignored("data/x.tmp"));
        assert!(ignored("data/sub/x.tmp"));
        assert!(!ignored("data/sub/keep.tmp"));
        assert!(ignored("data/cache/a.csv"));
        assert!(!ignored("data/sub/cache/a.csv"), "anchored to its folder");
        assert!(!ignored("data/a.csv"));
        let rule = ignoring(root, "a.tmp", false).unwrap().unwrap();
        assert_eq!(
            (rule.file, rule.pattern.as_str()),
            (root.join(FILE), "*.tmp")
        );
        let rules = above(root, &root.join("data/sub")).unwrap();
        assert!(matched(&rules, &root.join("data/sub/y.tmp"), false).is_some());
        assert!(above(root, &root.join("nothing")).unwrap().is_some());
        let empty = tempfile::tempdir().unwrap();
        assert!(
            above(empty.path(), &empty.path().join("a/b"))
                .unwrap()
                .is_none()
        );
    }
}
