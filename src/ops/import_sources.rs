//! `pull` and `fetch` of imported data this repository's remote lacks: each path from its
//! source, a repository's remote at the recorded commit or a URL whose stamp still matches.

use super::external::External;
use super::read::Reader;
use crate::pointer::Pointer;
use crate::problem::failed_with_hint;

/// An imported path whose data could not be fetched from its source, and why.
#[derive(serde::Serialize)]
pub struct SourceFailure {
    pub path: String,
    pub url: String,
    pub error: String,
}

/// Fetches into `cache` what the imported paths of `imports` still lack after this
/// repository's remote was asked, each from its source: a repository's remote at the
/// recorded commit (never a branch that moved since), or a URL whose stamp still matches.
/// Objects enter the cache verified; the ones that could not be fetched are returned.
pub fn from_sources(
    cache: &crate::cache::Cache,
    imports: &crate::repo::Selection,
    progress: &dyn crate::progress::Progress,
) -> anyhow::Result<Vec<SourceFailure>> {
    let mut failed = Vec::new();
    for (t, scope) in imports {
        if crate::sync::in_cache(cache, t, scope)? {
            continue;
        }
        let Some(source) = t.pointer.source() else {
            continue;
        };
        let field = |k: &str| t.pointer.source_field(k).unwrap_or_default();
        let url = field("url");
        let got = match source.get("commit").is_some() {
            true => from_repository(
                cache,
                url,
                field("commit"),
                field("path"),
                &t.pointer,
                progress,
            ),
            false => super::import_url::restore(cache, url, &t.path, &t.pointer, source, progress),
        };
        if let Err(e) = got {
            let what = match source.get("commit").is_some() {
                true => format!(" (`{}` at commit `{}`)", field("path"), field("commit")),
                false => String::new(),
            };
            failed.push(SourceFailure {
                path: t.path.to_string(),
                url: url.to_string(),
                error: format!("from its source `{url}`{what}: {e:#}"),
            });
        }
    }
    Ok(failed)
}

/// Fetches the data of `pointer`, imported from `path` of the repository at `url`, from
/// that repository's remote at `commit`.
fn from_repository(
    cache: &crate::cache::Cache,
    url: &str,
    commit: &str,
    path: &str,
    pointer: &Pointer,
    progress: &dyn crate::progress::Progress,
) -> anyhow::Result<()> {
    let reader = Reader::new(External::open(url, Some(commit))?, cache.clone(), None);
    // A folder inside the source's tracked data: its manifest is made here again.
    let there = reader.pointer(path, progress)?;
    if there.hash != pointer.hash {
        return Err(failed_with_hint(
            format!(
                "it names other data there ({}) than the pointer here ({})",
                there.hash, pointer.hash
            ),
            "the pointer was edited by hand: `git mlv update` imports it again",
        ));
    }
    reader.fetch(pointer, progress)
}

/// An error listing every imported path that could not be fetched, when any.
pub fn sources_failed(failed: &[SourceFailure]) -> anyhow::Result<()> {
    if failed.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = failed
        .iter()
        .map(|f| format!("  `{}` {}", f.path, f.error.replace('\n', "\n    ")))
        .collect();
    Err(failed_with_hint(
        format!(
            "the data of {} is on neither this repository's remote nor its source:\n{}",
            crate::units::count(failed.len() as u64, "imported path"),
            shown.join("\n")
        ),
        "make the source's remote reachable (its credentials come from the environment), or push the data here from a clone that has it with `git mlv push --include-imports`; a file `import-url` read that changed since: `git mlv update <path>`",
    ))
}
