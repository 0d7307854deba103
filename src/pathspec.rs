//! What the path arguments of `pull`, `fetch`, `checkout`, `push` and `status` select: the
//! one place that decides. An argument is a path or a glob, resolved against the current
//! folder; it selects a repository path when it names that path or a folder holding it
//! (gitignore's rule: a pattern that matches a folder covers everything in it). Globs follow
//! gitignore too: `*`, `?` and `[…]` stay within one path segment, `**` crosses folders.
//! `--exclude` patterns take away what they match, by the same rule. Each argument and each
//! exclude must select something, or the command refuses (exit 2), as git does for a
//! pathspec that matches nothing.

use crate::paths::RepoPath;
use globset::{GlobBuilder, GlobMatcher};
use std::sync::Arc;

/// One resolved argument.
#[derive(Debug)]
struct Pattern {
    /// As the user typed it, for messages.
    arg: String,
    /// Resolved against the current folder, relative to the work tree root.
    path: String,
    /// The compiled glob, when the argument holds a glob character.
    glob: Option<GlobMatcher>,
    /// The leading segments without a glob character: the pattern matches nothing outside.
    base: String,
}

impl Pattern {
    /// True when the pattern matches `p` or a folder that holds it.
    fn covers(&self, p: &str) -> bool {
        ancestors(p).any(|a| a == self.path || self.glob.as_ref().is_some_and(|g| g.is_match(a)))
    }

    /// True when the pattern covers `dir` or may match something below it (for a directory
    /// whose files are not known yet).
    fn may_reach_into(&self, dir: &str) -> bool {
        self.covers(dir) || is_under(&self.base, dir) || is_under(dir, &self.base)
    }
}

/// The path arguments and `--exclude` patterns of one command line, resolved.
#[derive(Debug, Default)]
pub struct Pathspec {
    include: Vec<Pattern>,
    exclude: Vec<Pattern>,
}

/// Which patterns of a [`Pathspec`] selected something, over one or more sets of pointers.
#[derive(Debug, Clone, Default)]
pub struct Hits {
    include: Vec<bool>,
    exclude: Vec<bool>,
}

/// What a pathspec selects of one tracked path.
#[derive(Debug, PartialEq, Eq)]
pub enum Pick {
    Nothing,
    /// The whole tracked path.
    Whole,
    /// Some files of a tracked directory: those [`Pathspec::selects`].
    Part,
}

/// Which files of a selected tracked path a command works on: all, or those the pathspec
/// selects (for a directory that the arguments select only part of).
#[derive(Debug, Clone, Default)]
pub struct Scope(Option<Arc<Pathspec>>);

impl Scope {
    pub fn part(spec: Arc<Pathspec>) -> Scope {
        Scope(Some(spec))
    }

    pub fn is_whole(&self) -> bool {
        self.0.is_none()
    }

    /// True when `rel`, a path inside the tracked directory `dir`, is selected.
    pub fn covers(&self, dir: &RepoPath, rel: &str) -> bool {
        self.0
            .as_ref()
            .is_none_or(|s| s.selects(&format!("{dir}/{rel}")))
    }
}

impl Pathspec {
    /// Builds the pathspec from arguments already resolved against the current folder:
    /// each is (as typed, relative to the root).
    pub fn new(
        include: Vec<(String, RepoPath)>,
        exclude: Vec<(String, RepoPath)>,
    ) -> anyhow::Result<Pathspec> {
        let build = |v: Vec<(String, RepoPath)>| -> anyhow::Result<Vec<Pattern>> {
            v.into_iter().map(|(arg, p)| pattern(arg, p)).collect()
        };
        Ok(Pathspec {
            include: build(include)?,
            exclude: build(exclude)?,
        })
    }

    /// True when there is nothing to narrow: every tracked path is selected whole.
    pub fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }

    /// An empty record of which patterns matched.
    pub fn hits(&self) -> Hits {
        Hits {
            include: vec![false; self.include.len()],
            exclude: vec![false; self.exclude.len()],
        }
    }

    /// True when the repository path `p` (a tracked path, or a file in a tracked
    /// directory) is selected: some argument covers it (or there are none) and no
    /// exclude does.
    pub fn selects(&self, p: &str) -> bool {
        self.included(p) && !self.exclude.iter().any(|e| e.covers(p))
    }

    fn included(&self, p: &str) -> bool {
        self.include.is_empty() || self.include.iter().any(|i| i.covers(p))
    }

    /// Judges the tracked path `path`, whose files (repository paths) are `files` when
    /// known: a file pointer's is itself, a directory's are its manifest's entries when the
    /// cache holds it. Without them, a pattern that may reach into the directory selects
    /// part of it and counts as matched (the caller judges again once it has the manifest).
    pub fn judge(&self, path: &RepoPath, files: Option<&[String]>, hits: &mut Hits) -> Pick {
        let path = path.as_str();
        if self.included(path) && !self.exclude.iter().any(|e| e.may_reach_into(path)) {
            self.mark_includes(path, hits);
            return Pick::Whole;
        }
        let Some(files) = files else {
            if self.exclude.iter().any(|e| e.covers(path)) {
                for (e, hit) in self.exclude.iter().zip(&mut hits.exclude) {
                    *hit |= e.covers(path);
                }
                return Pick::Nothing;
            }
            let reached = |p: &Pattern| p.may_reach_into(path);
            if !self.include.is_empty() && !self.include.iter().any(reached) {
                return Pick::Nothing;
            }
            for (p, hit) in self.include.iter().zip(&mut hits.include) {
                *hit |= reached(p);
            }
            for (p, hit) in self.exclude.iter().zip(&mut hits.exclude) {
                *hit |= reached(p);
            }
            return Pick::Part;
        };
        let mut any = false;
        for f in files.iter().filter(|f| self.included(f)) {
            let mut excluded = false;
            for (e, hit) in self.exclude.iter().zip(&mut hits.exclude) {
                if e.covers(f) {
                    *hit = true;
                    excluded = true;
                }
            }
            if !excluded {
                any = true;
                self.mark_includes(f, hits);
            }
        }
        if any { Pick::Part } else { Pick::Nothing }
    }

    fn mark_includes(&self, p: &str, hits: &mut Hits) {
        for (i, hit) in self.include.iter().zip(&mut hits.include) {
            *hit |= i.covers(p);
        }
    }

    /// Refuses (exit 2) when an argument or exclude selected nothing; `rev` names the
    /// commit whose pointers were searched.
    pub fn check(&self, hits: &Hits, rev: Option<&str>) -> anyhow::Result<()> {
        let at = rev.map(|r| format!(" at `{r}`")).unwrap_or_default();
        if let Some(p) = self.include.iter().zip(&hits.include).find(|(_, h)| !**h) {
            let excluded = if self.exclude.is_empty() {
                ""
            } else {
                " (that `--exclude` leaves)"
            };
            return Err(crate::problem::usage_with_hint(
                format!(
                    "pathspec `{}` did not match any tracked data{excluded}{at}",
                    p.0.arg
                ),
                "`git mlv ls` lists what is tracked; inside a tracked directory name its files or folders; in a glob `*` stays within a folder and `**` crosses folders",
            ));
        }
        if let Some(p) = self.exclude.iter().zip(&hits.exclude).find(|(_, h)| !**h) {
            return Err(crate::problem::usage_with_hint(
                format!(
                    "`--exclude {}` did not match any tracked data{at} that the paths select, so it leaves nothing out",
                    p.0.arg
                ),
                "check the pattern; in a glob `*` stays within a folder and `**` crosses folders",
            ));
        }
        Ok(())
    }
}

impl Hits {
    /// Adds what `other` matched (over another set of pointers).
    pub fn merge(&mut self, other: &Hits) {
        for (a, b) in self.include.iter_mut().zip(&other.include) {
            *a |= b;
        }
        for (a, b) in self.exclude.iter_mut().zip(&other.exclude) {
            *a |= b;
        }
    }
}

fn pattern(arg: String, path: RepoPath) -> anyhow::Result<Pattern> {
    let path = path.as_str().to_string();
    let is_glob = |s: &str| s.contains(['*', '?', '[', '{']);
    let glob = if is_glob(&path) {
        let g = GlobBuilder::new(&path)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map_err(|e| {
                crate::problem::usage_with_hint(
                    format!("`{arg}` is not a valid glob: {}", e.kind()),
                    "quote the pattern so the shell leaves it alone, and escape a literal `*`, `?`, `[` or `{` with `\\`",
                )
            })?;
        Some(g.compile_matcher())
    } else {
        None
    };
    let base = path
        .split('/')
        .take_while(|seg| !is_glob(seg))
        .collect::<Vec<_>>()
        .join("/");
    Ok(Pattern {
        arg,
        path,
        glob,
        base,
    })
}

/// `p` and every folder above it, up to its first segment.
fn ancestors(p: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(Some(p), |a| a.rsplit_once('/').map(|(parent, _)| parent))
}

/// True when `p` is `dir` or lies below it; everything lies below the root (`""`).
fn is_under(p: &str, dir: &str) -> bool {
    dir.is_empty() || p == dir || p.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(include: &[&str], exclude: &[&str]) -> Pathspec {
        let v = |a: &[&str]| {
            a.iter()
                .map(|s| (s.to_string(), RepoPath::new(*s)))
                .collect()
        };
        Pathspec::new(v(include), v(exclude)).unwrap()
    }

    #[test]
    fn star_stays_in_a_segment_and_double_star_crosses() {
        let s = spec(&["data/*.png"], &[]);
        assert!(s.selects("data/a.png") && !s.selects("data/train/a.png"));
        let s = spec(&["data/**/*.png"], &[]);
        assert!(s.selects("data/a.png") && s.selects("data/train/deep/a.png"));
        // A pattern that matches a folder covers what is in it.
        let s = spec(&["data/tr*"], &["data/train/b*"]);
        assert!(s.selects("data/train/a.png") && !s.selects("data/train/b.png"));
    }

    #[test]
    fn judging_records_what_matched() {
        let s = spec(&["data/f1*", "data/nope"], &["**/*.txt"]);
        let mut hits = s.hits();
        let files = ["data/f1.csv".to_string(), "data/f2.csv".to_string()];
        let pick = s.judge(&RepoPath::new("data"), Some(&files), &mut hits);
        assert_eq!(pick, Pick::Part);
        assert_eq!(hits.include, [true, false]);
        assert_eq!(hits.exclude, [false]);
        assert!(s.check(&hits, None).is_err());
        // Unknown files: a pattern that may reach in counts as matched, for now.
        let mut hits = s.hits();
        let pick = s.judge(&RepoPath::new("data"), None, &mut hits);
        assert_eq!((pick, hits.include), (Pick::Part, vec![true, true]));
        // No arguments: everything, whole.
        let s = spec(&[], &[]);
        let pick = s.judge(&RepoPath::new("x"), None, &mut s.hits());
        assert_eq!(pick, Pick::Whole);
    }
}
