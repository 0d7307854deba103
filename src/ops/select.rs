//! Which tracked paths a transfer covers: a pathspec over the work tree's pointers, those
//! of each `--rev`, and those of every commit the `--all-*` selectors name.

use crate::repo::{Repo, Selection};
use std::path::PathBuf;

/// The selection a transfer command asked for, free of how it was parsed.
#[derive(Clone, Default)]
pub struct Selector {
    pub paths: Vec<PathBuf>,
    pub exclude: Vec<PathBuf>,
    pub revs: Vec<String>,
    pub all_branches: bool,
    pub all_tags: bool,
    pub all_commits: bool,
}

impl Selector {
    /// The selected tracked paths, over every `--rev` given and every commit the
    /// `--all-*` selectors name (the work tree's pointers when no `--rev` is given).
    pub fn select(&self, repo: &Repo) -> anyhow::Result<Selection> {
        let spec = repo.pathspec(&self.paths, &self.exclude)?;
        let selectors = self.all_branches || self.all_tags || self.all_commits;
        if self.revs.is_empty() && !selectors {
            return repo.select(&spec);
        }
        // Each source with whether every pattern must match there: a `--rev` names one
        // commit, so yes; a pattern need not match at every commit a selector names, only
        // at some. Like DVC's `--all-branches`, the selectors add to the work tree.
        let mut sources: Vec<(Option<String>, bool)> =
            self.revs.iter().map(|r| (Some(r.clone()), true)).collect();
        if self.revs.is_empty() {
            sources.push((None, false));
        }
        if selectors {
            sources.extend(
                repo.git
                    .selector_commits(self.all_branches, self.all_tags, self.all_commits)?
                    .into_iter()
                    .map(|c| (Some(c), false)),
            );
        }
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut all_hits = spec.hits();
        for (source, strict) in &sources {
            let (picked, hits) = repo.pick(repo.tracked_at(source.as_deref())?, &spec)?;
            if *strict {
                spec.check(&hits, source.as_deref())?;
            }
            all_hits.merge(&hits);
            for (t, scope) in picked {
                if seen.insert((t.path.clone(), t.pointer.hash)) {
                    out.push((t, scope));
                }
            }
        }
        spec.check(&all_hits, None)?;
        Ok(out)
    }
}
