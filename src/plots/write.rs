//! Where the charts go: one HTML page, or one SVG file per chart in a folder; never inside
//! the git dir.

use super::{Plots, html, svg};
use crate::fsutil::write_atomic;
use crate::paths::normalize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Html,
    Svg,
}

impl Format {
    /// The default output, in the current folder: a page, or a folder of SVG files.
    pub fn default_output(self) -> &'static str {
        match self {
            Format::Html => "plots.html",
            Format::Svg => "plots",
        }
    }
}

/// Writes `plots` to `out` (an absolute path) and returns the files written. `git_dirs`
/// are refused as places to write, with everything under them.
pub fn write(
    plots: &Plots,
    format: Format,
    out: &Path,
    git_dirs: &[&Path],
) -> anyhow::Result<Vec<PathBuf>> {
    let real = real_path(out);
    for dir in git_dirs {
        let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        if real.starts_with(&dir) {
            return Err(crate::problem::usage_with_hint(
                format!(
                    "`{}` is inside the git dir `{}`",
                    out.display(),
                    dir.display()
                ),
                format!(
                    "write the plots elsewhere, e.g. `-o {}`",
                    format.default_output()
                ),
            ));
        }
    }
    let io = |e: std::io::Error, p: &Path| {
        anyhow::anyhow!(e).context(format!("writing `{}`", p.display()))
    };
    match format {
        Format::Html => {
            if let Some(dir) = out.parent() {
                fs_err::create_dir_all(dir)?;
            }
            write_atomic(out, html::page(plots).as_bytes()).map_err(|e| io(e, out))?;
            Ok(vec![out.to_path_buf()])
        }
        Format::Svg => {
            fs_err::create_dir_all(out)?;
            let mut written = Vec::new();
            for chart in &plots.charts {
                let path = out.join(format!("{}.svg", chart.id));
                write_atomic(&path, svg::chart(chart).as_bytes()).map_err(|e| io(e, &path))?;
                written.push(path);
            }
            Ok(written)
        }
    }
}

/// `path` with its longest existing ancestor resolved (symlinks followed), so a link into
/// `.git` is seen for what it is; the rest is taken lexically.
fn real_path(path: &Path) -> PathBuf {
    let path = normalize(path);
    let mut base = path.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = base.canonicalize() {
            return rest.iter().rev().fold(real, |p: PathBuf, seg| p.join(seg));
        }
        match (base.parent(), base.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                base = parent;
            }
            _ => return path,
        }
    }
}
