//! `[[plots]]` in `mlv.toml`: the per-step series and confusion matrices `git mlv plots`
//! draws, each read from a CSV, TSV or JSON file at every chosen revision.

use super::repo_path;
use crate::paths::RepoPath;
use serde::Deserialize;

/// How a plots file is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// `y` against `x`, one line per revision (loss per epoch).
    Linear,
    /// Counts of (`x` = actual, `y` = predicted) pairs, one matrix per revision.
    Confusion,
}

/// A `[[plots]]` entry: `file`'s column `y` against column `x`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plot {
    pub file: RepoPath,
    pub x: String,
    pub y: String,
    pub title: Option<String>,
    pub template: Template,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPlot {
    file: String,
    x: String,
    y: String,
    title: Option<String>,
    template: Option<String>,
}

/// The checked `[[plots]]` entries, or the reason the first bad one is refused.
pub(super) fn check(raw: Vec<RawPlot>) -> Result<Vec<Plot>, String> {
    raw.into_iter()
        .map(|p| {
            let file = repo_path(&p.file, &format!("plot file `{}`", p.file))?;
            let template = match p.template.as_deref() {
                None | Some("linear") => Template::Linear,
                Some("confusion") => Template::Confusion,
                Some(t) => {
                    return Err(format!(
                        "plot `{}` has template `{t}`; use `linear` (the default) or `confusion`",
                        p.file
                    ));
                }
            };
            if p.x.is_empty() || p.y.is_empty() {
                return Err(format!(
                    "plot `{}` needs non-empty `x` and `y` columns",
                    p.file
                ));
            }
            Ok(Plot {
                file,
                x: p.x,
                y: p.y,
                title: p.title,
                template,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::project::plot::Template;
    use crate::project::{FILE, Project};
    use std::path::Path;

    #[test]
    fn plots_parse_with_template_and_refuse_bad_ones() {
        let p = Project::parse(
            "[[plots]]\nfile = \"./loss.csv\"\nx = \"epoch\"\ny = \"loss\"\n\n[[plots]]\nfile = \"cm.csv\"\nx = \"actual\"\ny = \"predicted\"\ntemplate = \"confusion\"\ntitle = \"Confusion\"\n",
            Path::new(FILE),
        )
        .unwrap();
        assert_eq!(p.plots[0].file.as_str(), "loss.csv");
        assert_eq!(p.plots[0].template, Template::Linear);
        assert_eq!(p.plots[1].template, Template::Confusion);
        assert_eq!(p.plots[1].title.as_deref(), Some("Confusion"));
        for text in [
            "[[plots]]\nfile = \"../x.csv\"\nx = \"a\"\ny = \"b\"\n",
            "[[plots]]\nfile = \"x.csv\"\nx = \"a\"\ny = \"b\"\ntemplate = \"pie\"\n",
            "[[plots]]\nfile = \"x.csv\"\nx = \"\"\ny = \"b\"\n",
            "[[plots]]\nfile = \"x.csv\"\nx = \"a\"\n",
        ] {
            assert!(Project::parse(text, Path::new(FILE)).is_err(), "{text}");
        }
    }
}
