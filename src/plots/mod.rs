//! `git mlv plots`: scalar metrics across revisions (or an artifact's registry versions),
//! the per-step series and confusion matrices `[[plots]]` in `mlv.toml` names, drawn as
//! SVG charts and one self-contained HTML page. `data` reads the files, `svg` draws a
//! chart, `html` lays out the page, `write` puts them on disk.

mod data;
mod html;
mod svg;
mod write;

pub use data::PlotsError;
pub use write::{Format, write};

use crate::gitx::{GitRepo, Source};
use crate::metrics;
use crate::project::Project;
use crate::project::plot::{Plot, Template};
use std::collections::BTreeMap;
use std::path::Path;

/// One revision plotted: what it is called on the charts, its commit (`None` for the work
/// tree) and the registry stages it holds (with `--versions`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Side {
    pub label: String,
    pub commit: Option<String>,
    pub stages: Vec<String>,
}

impl Side {
    fn source<'a>(&'a self, git: &'a GitRepo, root: &'a Path) -> Source<'a> {
        match &self.commit {
            Some(c) => Source::Rev(git, c),
            None => Source::WorkTree(root),
        }
    }

    /// Where a file was read, for notes and errors: `at `HEAD~1``, `work tree`.
    fn at(&self) -> String {
        match self.commit {
            Some(_) => format!("at `{}`", self.label),
            None => "work tree".into(),
        }
    }

    /// The label with the stages it holds: `v1.2.0 (prod)`.
    fn name(&self) -> String {
        if self.stages.is_empty() {
            self.label.clone()
        } else {
            format!("{} ({})", self.label, self.stages.join(", "))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChartKind {
    Metric,
    Series,
    Confusion,
}

/// One chart: a line chart or a row of confusion matrices.
pub struct Chart {
    /// File-name-safe and unique on the page: `--format svg` writes `<id>.svg`.
    pub id: String,
    pub title: String,
    pub kind: ChartKind,
    pub file: String,
    pub body: Body,
}

pub enum Body {
    Lines {
        x_label: String,
        y_label: String,
        /// Named x positions 0, 1, …: the revisions of a metric chart.
        categories: Option<Vec<String>>,
        series: Vec<Series>,
    },
    Matrices(Vec<Matrix>),
}

pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    /// Points to mark, by index, with the stages they hold.
    pub marks: Vec<(usize, String)>,
}

/// Counts of (actual, predicted) pairs: `counts[actual][predicted]` over `labels`.
pub struct Matrix {
    pub name: String,
    pub labels: Vec<String>,
    pub counts: Vec<Vec<u64>>,
}

/// Everything `plots` draws, with notes on what it skipped.
pub struct Plots {
    pub sides: Vec<Side>,
    pub charts: Vec<Chart>,
    pub notes: Vec<String>,
}

/// Reads every side's metrics and `[[plots]]` files into charts. The `[[plots]]` entries
/// are those of every side's `mlv.toml`, in order of first appearance; a plots file missing
/// at some sides is a note, missing at all of them an error.
pub fn collect(git: &GitRepo, root: &Path, sides: Vec<Side>) -> anyhow::Result<Plots> {
    let mut notes = Vec::new();
    let mut defs: Vec<Plot> = Vec::new();
    let mut values: BTreeMap<(String, String), Vec<Option<f64>>> = BTreeMap::new();
    for (i, side) in sides.iter().enumerate() {
        let src = side.source(git, root);
        let project = Project::read(src)?;
        for (file, flat) in metrics::read_all(src, &project)? {
            for (key, v) in flat {
                values
                    .entry((file.to_string(), key))
                    .or_insert_with(|| vec![None; sides.len()])[i] = Some(v);
            }
        }
        // One chart per file and columns, titled as the first revision that names it.
        for p in project.plots {
            let same =
                |d: &Plot| (&d.file, &d.x, &d.y, d.template) == (&p.file, &p.x, &p.y, p.template);
            if !defs.iter().any(same) {
                defs.push(p);
            }
        }
    }
    let mut ids = Vec::new();
    let mut charts: Vec<Chart> = values
        .into_iter()
        .map(|((file, key), vals)| metric_chart(&sides, file, key, vals, &mut ids))
        .collect();
    for def in &defs {
        charts.push(plot_chart(git, root, &sides, def, &mut ids, &mut notes)?);
    }
    if charts.is_empty() {
        notes.push("nothing to plot: no metrics files and no `[[plots]]` in `mlv.toml`".into());
    }
    Ok(Plots {
        sides,
        charts,
        notes,
    })
}

fn metric_chart(
    sides: &[Side],
    file: String,
    key: String,
    vals: Vec<Option<f64>>,
    ids: &mut Vec<String>,
) -> Chart {
    let mut series = Series {
        name: key.clone(),
        points: Vec::new(),
        marks: Vec::new(),
    };
    for (i, v) in vals.into_iter().enumerate() {
        // TOML's `nan` and `inf` have no place on an axis.
        let Some(v) = v.filter(|v| v.is_finite()) else {
            continue;
        };
        if !sides[i].stages.is_empty() {
            series
                .marks
                .push((series.points.len(), sides[i].stages.join(", ")));
        }
        series.points.push((i as f64, v));
    }
    Chart {
        id: unique_id(ids, &format!("{file}-{key}")),
        title: format!("{file}: {key}"),
        kind: ChartKind::Metric,
        body: Body::Lines {
            x_label: "revision".into(),
            y_label: key,
            categories: Some(sides.iter().map(|s| s.label.clone()).collect()),
            series: vec![series],
        },
        file,
    }
}

fn plot_chart(
    git: &GitRepo,
    root: &Path,
    sides: &[Side],
    def: &Plot,
    ids: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> anyhow::Result<Chart> {
    let file = def.file.as_str();
    let mut tables = Vec::new();
    for side in sides {
        let src = side.source(git, root);
        let bytes = src.read(file).map_err(|e| {
            e.or_io(|_, source| PlotsError::Io {
                file: file.to_string(),
                source,
            })
        })?;
        match bytes {
            Some(b) => tables.push((side, data::parse(&b, file, &side.at())?)),
            None if side.commit.is_none() => notes.push(format!(
                "`{file}` does not exist in the work tree: skipped there"
            )),
            None => notes.push(format!(
                "`{file}` does not exist {}: skipped there",
                side.at()
            )),
        }
    }
    if tables.is_empty() {
        let at: Vec<String> = sides.iter().map(|s| format!("`{}`", s.label)).collect();
        return Err(PlotsError::Missing {
            file: file.to_string(),
            at: at.join(", "),
        }
        .into());
    }
    let invalid = |side: &Side, reason: String| PlotsError::Invalid {
        file: file.to_string(),
        at: side.at(),
        format: "input for this plot",
        reason,
    };
    let (kind, body, title) = match def.template {
        Template::Linear => {
            let mut series = Vec::new();
            for (side, t) in &tables {
                series.push(Series {
                    name: side.name(),
                    points: t.points(&def.x, &def.y).map_err(|r| invalid(side, r))?,
                    marks: Vec::new(),
                });
            }
            let body = Body::Lines {
                x_label: def.x.clone(),
                y_label: def.y.clone(),
                categories: None,
                series,
            };
            (
                ChartKind::Series,
                body,
                format!("{file}: {} by {}", def.y, def.x),
            )
        }
        Template::Confusion => {
            let mut matrices = Vec::new();
            for (side, t) in &tables {
                let pairs = t.pairs(&def.x, &def.y).map_err(|r| invalid(side, r))?;
                matrices.push(matrix(side.name(), pairs));
            }
            let title = format!("{file}: confusion matrix ({} × {})", def.x, def.y);
            (ChartKind::Confusion, Body::Matrices(matrices), title)
        }
    };
    let suffix = match def.template {
        Template::Linear => def.y.as_str(),
        Template::Confusion => "confusion",
    };
    Ok(Chart {
        id: unique_id(ids, &format!("{file}-{suffix}")),
        title: def.title.clone().unwrap_or(title),
        kind,
        file: file.to_string(),
        body,
    })
}

/// Labels in numeric order when all are numbers (class 10 after class 9), else by text.
fn matrix(name: String, pairs: BTreeMap<(String, String), u64>) -> Matrix {
    let mut labels: Vec<String> = pairs
        .keys()
        .flat_map(|(a, p)| [a.clone(), p.clone()])
        .collect();
    labels.sort();
    labels.dedup();
    if labels.iter().all(|l| l.parse::<f64>().is_ok()) {
        labels.sort_by(|a, b| {
            a.parse::<f64>()
                .unwrap_or(0.0)
                .total_cmp(&b.parse().unwrap_or(0.0))
        });
    }
    let at = |l: &String| labels.iter().position(|x| x == l).unwrap_or(0);
    let mut counts = vec![vec![0; labels.len()]; labels.len()];
    for ((a, p), n) in &pairs {
        counts[at(a)][at(p)] += n;
    }
    Matrix {
        name,
        labels,
        counts,
    }
}

/// A file-name-safe id (letters, digits, `.`, `_`, `-`; never starting with `.`), made
/// unique among `ids` with a `-2`, `-3`… suffix.
fn unique_id(ids: &mut Vec<String>, want: &str) -> String {
    let mut base: String = want
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    if base.starts_with('.') {
        base.insert(0, '_');
    }
    let mut id = base.clone();
    let mut n = 1;
    while ids.contains(&id) {
        n += 1;
        id = format!("{base}-{n}");
    }
    ids.push(id.clone());
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_safe_and_unique_and_matrices_sort_numbers() {
        let mut ids = Vec::new();
        assert_eq!(unique_id(&mut ids, "m/x.json-a b"), "m_x.json-a_b");
        assert_eq!(unique_id(&mut ids, "m/x.json-a<b"), "m_x.json-a_b-2");
        assert_eq!(unique_id(&mut ids, "../x"), "_.._x");
        let pairs = BTreeMap::from([
            (("10".into(), "9".into()), 2),
            (("9".into(), "9".into()), 1),
        ]);
        let m = matrix("HEAD".into(), pairs);
        assert_eq!(m.labels, ["9", "10"]);
        assert_eq!(m.counts, [[1, 0], [2, 0]]);
    }

    #[test]
    fn a_metric_chart_leaves_out_nan_and_marks_held_versions() {
        let side = |label: &str, stages: &[&str]| Side {
            label: label.into(),
            commit: Some("c".into()),
            stages: stages.iter().map(|s| s.to_string()).collect(),
        };
        let sides = [side("v1", &[]), side("v2", &["prod"]), side("v3", &[])];
        let vals = vec![Some(f64::NAN), Some(0.9), Some(f64::INFINITY)];
        let c = metric_chart(&sides, "m.toml".into(), "acc".into(), vals, &mut Vec::new());
        let Body::Lines { series, .. } = c.body else {
            panic!("a metric is a line chart")
        };
        assert_eq!(series[0].points, [(1.0, 0.9)]);
        assert_eq!(series[0].marks, [(0, "prod".to_string())]);
    }
}
