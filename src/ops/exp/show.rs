//! `exp show`: every experiment with its params, metrics and status. A finished one is
//! read from its commit; one without a commit (queued, running, failed, interrupted) has
//! the params of the commit it starts from with its overrides applied, and no metrics.

use crate::experiment::{self, Status, params::ByFile};
use crate::gitx::Source;
use crate::metrics::{self, Flat};
use crate::problem::usage_with_hint;
use crate::project::Project;
use crate::repo::Repo;
use std::collections::BTreeMap;

/// One experiment as `exp show` reports it.
#[derive(Debug, serde::Serialize)]
pub struct Row {
    pub name: String,
    /// Its commit, when finished.
    pub rev: Option<String>,
    pub params: ByFile,
    pub metrics: BTreeMap<String, Flat>,
    pub status: &'static str,
    /// The params (file, key) whose value differs from the commit it started from.
    #[serde(skip)]
    pub changed: Vec<(String, String)>,
}

/// Every experiment, finished ones and recorded ones, sorted by name.
pub fn list(repo: &Repo) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();
    let refs = repo.git.refs_under(experiment::REF_PREFIX)?;
    for (name, commit) in &refs {
        let src = Source::Rev(&repo.git, commit);
        let project = Project::load_at(&repo.git, commit)?;
        let params = experiment::params::read(src, &project)?;
        let before = match repo.git.parent_of(commit)? {
            Some(parent) => {
                let project = Project::read_present(Source::Rev(&repo.git, &parent))?;
                match project {
                    Some(p) => experiment::params::read(Source::Rev(&repo.git, &parent), &p)?,
                    None => ByFile::new(),
                }
            }
            None => ByFile::new(),
        };
        let metrics = metrics::read_all(src, &project)?
            .into_iter()
            .map(|(f, v)| (f.to_string(), v))
            .collect();
        rows.push(Row {
            name: name.clone(),
            rev: Some(commit.clone()),
            changed: changed(&before, &params),
            params,
            metrics,
            status: Status::Done.as_str(),
        });
    }
    for record in super::store(repo).list()? {
        if refs.iter().any(|(n, _)| *n == record.name) {
            continue;
        }
        let src = Source::Rev(&repo.git, &record.base);
        let project = Project::load_at(&repo.git, &record.base)?;
        let params = experiment::params::read_with(&project, |file| {
            let edited = super::run::edited(&src, &record.params, Some(file))?;
            match edited.into_iter().next() {
                Some((_, text)) => Ok(Some(text)),
                None => Ok(src
                    .read(file)
                    .map_err(|e| e.into_anyhow())?
                    .map(|b| String::from_utf8_lossy(&b).into_owned())),
            }
        })?;
        rows.push(Row {
            name: record.name.clone(),
            rev: None,
            params,
            metrics: BTreeMap::new(),
            status: record.status.as_str(),
            changed: record
                .params
                .iter()
                .map(|a| (a.file.clone(), a.key.clone()))
                .collect(),
        });
    }
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(rows)
}

/// The (file, key) pairs whose value in `after` is not the one in `before`.
fn changed(before: &ByFile, after: &ByFile) -> Vec<(String, String)> {
    after
        .iter()
        .flat_map(|(file, keys)| {
            keys.iter()
                .filter(move |(k, v)| before.get(file).and_then(|b| b.get(*k)) != Some(*v))
                .map(move |(k, _)| (file.clone(), k.clone()))
        })
        .collect()
}

/// Sorts `rows` by the metric `metric` (`file:key`, or a key found in any metrics file),
/// rows without it last; exit 2 when no row has it.
pub fn sort_by(rows: &mut [Row], metric: &str, descending: bool) -> anyhow::Result<()> {
    let value = |row: &Row| -> Option<f64> {
        match metric.rsplit_once(':') {
            Some((file, key)) => row.metrics.get(file)?.get(key).copied(),
            None => row.metrics.values().find_map(|m| m.get(metric).copied()),
        }
    };
    if !rows.is_empty() && rows.iter().all(|r| value(r).is_none()) {
        return Err(usage_with_hint(
            format!("no experiment has the metric `{metric}`"),
            "name it as `file:key` or `key`, as `git mlv exp show --json` lists the metrics",
        ));
    }
    rows.sort_by(|a, b| match (value(a), value(b)) {
        (Some(x), Some(y)) if descending => y.total_cmp(&x),
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    Ok(())
}
