//! The pipeline's staleness over git's index, for the pre-commit hook: a staged out of a
//! stage must come with a staged mlv.lock entry that still matches the stage's inputs as
//! the commit will hold them.

use crate::gitx::Source;
use crate::pointer::{self, Pointer};
use crate::repo::Repo;

/// Staged outs of a stage whose mlv.lock entry (as staged) no longer matches what the
/// commit holds: the pointer is not the out the lock recorded, or the stage's (or an
/// upstream stage's) command, deps or params as staged differ from its lock entry.
pub fn staged_out_problems(
    repo: &Repo,
    staged: &[(String, Pointer)],
) -> anyhow::Result<Vec<String>> {
    let index = Source::Index(&repo.git);
    let project = match crate::project::Project::read_present(index)? {
        Some(project) => project,
        None => crate::project::Project::load(repo.root())?,
    };
    let outs: Vec<(
        &String,
        crate::paths::RepoPath,
        &Pointer,
        &crate::project::Stage,
    )> = staged
        .iter()
        .filter_map(|(ptr, p)| {
            let path = crate::paths::RepoPath::new(&ptr[..ptr.len() - pointer::EXT.len()]);
            let stage = project.stages.values().find(|s| s.outs.contains(&path))?;
            Some((ptr, path, p, stage))
        })
        .collect();
    if outs.is_empty() {
        return Ok(Vec::new());
    }
    let lock = crate::lockfile::LockFile::read(index)?;
    let graph = crate::pipeline::Graph::new(&project)?;
    let mut stat = repo.stat_cache();
    let mut problems = Vec::new();
    // Stages shared upstream of several staged outs are hashed once.
    let mut reasons_of: std::collections::BTreeMap<String, Vec<crate::pipeline::Reason>> =
        std::collections::BTreeMap::new();
    for (ptr, out, p, stage) in outs {
        let mut why = Vec::new();
        // The out is tied to its data only if every stage upstream of it is too.
        for name in graph.with_upstream(&project, std::slice::from_ref(&stage.name))? {
            if !reasons_of.contains_key(&name) {
                let s = &project.stages[&name];
                let now = staged_inputs(repo, &mut stat, s)?;
                let reasons = crate::pipeline::input_reasons(s, lock.stages.get(&name), &now);
                reasons_of.insert(name.clone(), reasons);
            }
            for r in &reasons_of[&name] {
                why.push(if name == stage.name {
                    r.to_string()
                } else {
                    format!("upstream stage `{name}`: {r}")
                });
            }
        }
        if let Some(l) = lock.stages.get(&stage.name)
            && l.product(out.as_str()) != Some(p.hash)
        {
            why.push(format!(
                "the staged `{ptr}` is not the out mlv.lock records"
            ));
        }
        if !why.is_empty() {
            problems.push(format!(
                "`{ptr}` is an out of stage `{}`, whose mlv.lock entry no longer matches what the commit holds ({}); run `git mlv run {}` and stage mlv.lock with it",
                stage.name,
                why.join(", "),
                stage.name
            ));
        }
    }
    // An unsaved stat cache only costs hashing again next time.
    let _ = stat.save();
    Ok(problems)
}

/// A stage's inputs as the commit will hold them: a tracked dep by its staged pointer, a
/// file in git by its staged bytes, params from the staged params file. Anything else (a
/// folder kept in git, an untracked file) is read from the work tree.
fn staged_inputs(
    repo: &Repo,
    stat: &mut crate::stat_cache::StatCache,
    stage: &crate::project::Stage,
) -> anyhow::Result<crate::pipeline::Inputs> {
    let index = Source::Index(&repo.git);
    let staged = |path: &str| index.read(path).map_err(|e| e.into_anyhow());
    let mut deps = std::collections::BTreeMap::new();
    for dep in &stage.deps {
        let ptr = dep.pointer();
        let hash = if let Some(b) = staged(ptr.as_str())? {
            let text = String::from_utf8_lossy(&b);
            Some(Pointer::parse(&text, std::path::Path::new(ptr.as_str()))?.hash)
        } else if let Some(b) = staged(dep.as_str())? {
            Some(crate::hash::Hash::of(&b))
        } else {
            crate::pipeline::content(repo, stat, dep)?.map(|c| c.hash)
        };
        deps.insert(dep.to_string(), hash);
    }
    let mut params: std::collections::BTreeMap<String, crate::lockfile::ParamValues> =
        std::collections::BTreeMap::new();
    for p in &stage.params {
        let text = match staged(p.file.as_str())? {
            Some(b) => String::from_utf8_lossy(&b).into_owned(),
            None => fs_err::read_to_string(p.file.to_abs(repo.root()))?,
        };
        let values = crate::pipeline::param_values(&text, p, &stage.name)?;
        params.entry(p.file.to_string()).or_default().extend(values);
    }
    Ok(crate::pipeline::Inputs { deps, params })
}
