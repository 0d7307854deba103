//! Quality gates (`[[gates]]` in `mlv.toml`): each bound of each gate checked against the
//! current metrics and, for `max_drop`/`max_rise`, a baseline that is a registry stage
//! (`model#prod`), a registered version (`model@v1.2.0`) or any git revision.

use crate::gitx::{GitRepo, Source};
use crate::metrics;
use crate::problem::{Hinted, Kind};
use crate::project::{Gate, MetricRef};
use crate::registry::{self, Registry};

#[derive(Debug, thiserror::Error)]
pub enum GateError {
    #[error("{}", .0.join("\n"))]
    Missing(Vec<String>),
    #[error("gate on `{metric}` has `{bound}` but no baseline")]
    NoBaseline { metric: String, bound: &'static str },
}

/// A gate that cannot be checked is the request's fault: the metric or the gate is wrong.
impl Hinted for GateError {
    fn kind(&self) -> Kind {
        Kind::Usage
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            GateError::Missing(_) => "write the metric (run the stage that produces it), or fix `metric` in `mlv.toml`",
            GateError::NoBaseline { .. } => "set `baseline = \"model#prod\"` (or a git revision) on the gate, or pass `--baseline REF`",
        }.into())
    }
}

/// Bounds are inclusive up to this relative tolerance, so a drop of exactly 0.02 computed
/// as 0.93 − 0.91 (= 0.020000000000000018) passes `max_drop = 0.02`.
const TOLERANCE: f64 = 1e-9;

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    Min(f64),
    Max(f64),
    MaxDrop(f64),
    MaxRise(f64),
}

impl Bound {
    pub fn name(&self) -> &'static str {
        match self {
            Bound::Min(_) => "min",
            Bound::Max(_) => "max",
            Bound::MaxDrop(_) => "max_drop",
            Bound::MaxRise(_) => "max_rise",
        }
    }

    pub fn limit(&self) -> f64 {
        match *self {
            Bound::Min(x) | Bound::Max(x) | Bound::MaxDrop(x) | Bound::MaxRise(x) => x,
        }
    }

    pub fn relative(&self) -> bool {
        matches!(self, Bound::MaxDrop(_) | Bound::MaxRise(_))
    }

    /// True when `value` (against `baseline`, for the relative bounds) is within the bound.
    pub fn holds(&self, value: f64, baseline: f64) -> bool {
        // Scaled by the numbers compared, so big metrics (a loss of 1e6) get the same
        // relative slack as accuracies.
        let scale = [value, baseline, self.limit()]
            .into_iter()
            .filter(|x| x.is_finite())
            .fold(1.0, |m: f64, x| m.max(x.abs()));
        let close = |a: f64, b: f64| a <= b + TOLERANCE * scale;
        match *self {
            Bound::Min(min) => close(min, value),
            Bound::Max(max) => close(value, max),
            Bound::MaxDrop(d) => close(baseline - value, d),
            Bound::MaxRise(r) => close(value - baseline, r),
        }
    }
}

fn bounds(g: &Gate) -> Vec<Bound> {
    [
        g.min.map(Bound::Min),
        g.max.map(Bound::Max),
        g.max_drop.map(Bound::MaxDrop),
        g.max_rise.map(Bound::MaxRise),
    ]
    .into_iter()
    .flatten()
    .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Pass,
    Fail,
    /// A relative bound whose baseline stage holds no version yet (the first model).
    Skipped,
}

/// One bound of one gate, checked.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Check {
    pub metric: String,
    pub value: f64,
    pub bound: &'static str,
    pub limit: f64,
    /// The baseline as written (`model#prod`, `main`), for relative bounds.
    pub baseline_ref: Option<String>,
    /// The commit the baseline resolved to.
    pub baseline_commit: Option<String>,
    pub baseline: Option<f64>,
    pub outcome: Outcome,
}

#[derive(Debug, Default, serde::Serialize)]
pub struct Report {
    pub checks: Vec<Check>,
    pub notes: Vec<String>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.outcome != Outcome::Fail)
    }
}

/// Evaluates every gate against the metrics at `current`. `baseline` overrides the gates'
/// own baselines (`--baseline`, or the stage a promotion targets).
pub fn evaluate(
    gates: &[Gate],
    current: Source,
    git: &GitRepo,
    reg: &Registry,
    baseline: Option<&str>,
) -> anyhow::Result<Report> {
    let mut report = Report::default();
    if gates.is_empty() {
        // Passing with nothing checked must not read as a model that met the bar.
        report.notes.push(
            "no gates are configured (`mlv.toml` has no `[[gates]]`), so nothing was checked"
                .to_string(),
        );
    }
    let mut missing = Vec::new();
    // Each baseline is resolved once, whatever number of gates share it.
    let mut resolved: Vec<(String, Option<String>)> = Vec::new();
    for g in gates {
        let value = match value_at(current, &g.metric, &current.to_string())? {
            Ok(v) => Some(v),
            Err(line) => {
                missing.push(line);
                None
            }
        };
        for bound in bounds(g) {
            let mut check = Check {
                metric: g.metric.to_string(),
                value: value.unwrap_or(f64::NAN),
                bound: bound.name(),
                limit: bound.limit(),
                baseline_ref: None,
                baseline_commit: None,
                baseline: None,
                outcome: Outcome::Pass,
            };
            let mut base = f64::NAN;
            if bound.relative() {
                let reference =
                    baseline
                        .or(g.baseline.as_deref())
                        .ok_or_else(|| GateError::NoBaseline {
                            metric: g.metric.to_string(),
                            bound: bound.name(),
                        })?;
                let commit = match resolved.iter().find(|(r, _)| r == reference) {
                    Some((_, c)) => c.clone(),
                    None => {
                        let c = registry::resolve(git, reg, reference)?;
                        resolved.push((reference.to_string(), c.clone()));
                        c
                    }
                };
                check.baseline_ref = Some(reference.to_string());
                let Some(commit) = commit else {
                    check.outcome = Outcome::Skipped;
                    let note = format!(
                        "`{reference}` holds no version yet, so `{}` on `{}` was skipped (the first model has nothing to compare with)",
                        bound.name(),
                        g.metric
                    );
                    report.notes.push(note);
                    report.checks.push(check);
                    continue;
                };
                let at = format!(
                    "at baseline `{reference}` ({})",
                    &commit[..12.min(commit.len())]
                );
                match value_at(Source::Rev(git, &commit), &g.metric, &at)? {
                    Ok(b) => base = b,
                    Err(line) => missing.push(line),
                }
                check.baseline = Some(base);
                check.baseline_commit = Some(commit);
            }
            if let Some(v) = value {
                check.outcome = if bound.holds(v, base) {
                    Outcome::Pass
                } else {
                    Outcome::Fail
                };
            }
            report.checks.push(check);
        }
    }
    if !missing.is_empty() {
        missing.dedup();
        return Err(GateError::Missing(missing).into());
    }
    Ok(report)
}

/// The metric's value at `src`, or the line that says what is missing there (`at`).
fn value_at(src: Source, metric: &MetricRef, at: &str) -> anyhow::Result<Result<f64, String>> {
    let missing = |what: String| Err(format!("metric `{metric}` is missing: {what} ({at})"));
    Ok(match metrics::read(src, &metric.file)? {
        None => missing(format!("`{}` does not exist", metric.file)),
        Some(flat) => match flat.get(&metric.key) {
            Some(v) => Ok(*v),
            None => missing(format!("`{}` has no key `{}`", metric.file, metric.key)),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bound_is_inclusive_with_a_small_tolerance() {
        assert!(Bound::MaxDrop(0.02).holds(0.91, 0.93));
        assert!(!Bound::MaxDrop(0.02).holds(0.909, 0.93));
        assert!(Bound::MaxRise(0.1).holds(0.3, 0.2));
        assert!(!Bound::MaxRise(0.1).holds(0.31, 0.2));
        assert!(Bound::Min(0.9).holds(0.9, f64::NAN));
        assert!(Bound::Min(0.3).holds(0.1 + 0.2 - 1e-17, f64::NAN));
        assert!(!Bound::Min(0.9).holds(0.8999, f64::NAN));
        assert!(Bound::Max(0.3).holds(0.1 + 0.2, f64::NAN));
        assert!(!Bound::Max(0.3).holds(0.3001, f64::NAN));
        assert!(Bound::MaxDrop(0.0).holds(1e6, 1e6 + 1e-4));
        assert!(!Bound::MaxDrop(0.0).holds(1e6, 1e6 + 1.0));
    }
}
