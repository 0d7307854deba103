//! The params a pipeline reads, at a revision or in a work tree: every stage's `params`
//! entries, by file and dotted key, as `mlv.lock` records them.

use crate::gitx::Source;
use crate::lockfile::ParamValues;
use crate::pipeline::{flatten_params, param_values};
use crate::project::Project;
use std::collections::BTreeMap;

/// Params by file, then dotted key.
pub type ByFile = BTreeMap<String, ParamValues>;

/// The values each stage's params entries select at `src`, by dotted key down to the
/// leaves; a file absent there is left out.
pub fn read(src: Source, project: &Project) -> anyhow::Result<ByFile> {
    read_with(project, |file| {
        src.read(file)
            .map_err(|e| e.into_anyhow())
            .map(|b| b.map(|b| String::from_utf8_lossy(&b).into_owned()))
    })
}

/// `read`, with each file's text from `text_of` (`None`: absent).
pub fn read_with(
    project: &Project,
    mut text_of: impl FnMut(&str) -> anyhow::Result<Option<String>>,
) -> anyhow::Result<ByFile> {
    let mut out = ByFile::new();
    for stage in project.stages.values() {
        for p in &stage.params {
            if let Some(text) = text_of(p.file.as_str())? {
                let values = param_values(&text, p, &stage.name)?;
                let file = out.entry(p.file.to_string()).or_default();
                for (key, value) in values {
                    flatten_params(&key, &value, file);
                }
            }
        }
    }
    Ok(out)
}

/// As JSON: `{file: {dotted.key: value}}`, as `metrics show --json` prints metrics.
pub fn to_json(params: &ByFile) -> serde_json::Value {
    serde_json::to_value(params).unwrap_or_default()
}
