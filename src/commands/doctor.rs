//! `git mlv doctor [--json]`: what git-mlv sees here (versions, cache, link types, remotes,
//! hooks, stat cache), each checked for real; exit 1 when something is broken, each broken
//! item with its hint, and 2 where there is nothing to check (not a git-mlv repository).

use super::install_hooks::{HOOKS, MARK};
use crate::ops::doctor::{self, HookSet, Report, Severity};
use crate::ui::{self, Ui};

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args, ui: &Ui) -> anyhow::Result<()> {
    let hooks = HookSet {
        names: HOOKS.iter().map(|(name, _)| *name).collect(),
        mark: MARK,
    };
    let report = doctor::diagnose(&std::env::current_dir()?, &hooks, &crate::error::READER);
    if ui.json {
        ui.print_json(&report)?;
    } else {
        print(&report, ui)?;
    }
    match report.exit_code {
        0 => Ok(()),
        code => Err(crate::error::CliError::Silent(code).into()),
    }
}

fn yes(works: bool) -> &'static str {
    if works { "yes" } else { "no" }
}

fn print(r: &Report, ui: &Ui) -> std::io::Result<()> {
    let line = |label: &str, text: &str| ui.out(&format!("{label:<12}{text}"));
    line("git-mlv", r.versions.git_mlv)?;
    line("git", r.versions.git.as_deref().unwrap_or("not found"))?;
    if let Some(repo) = &r.repository {
        line("repository", &repo.root.display().to_string())?;
    }
    if let Some(c) = &r.cache {
        let mut about = Vec::new();
        about.extend(c.filesystem.clone());
        about.extend(c.free_bytes.map(|f| format!("{} free", ui::size(f))));
        line(
            "cache",
            &format!("{} ({})", c.path.display(), about.join(", ")),
        )?;
    }
    if let Some(l) = &r.links {
        line(
            "links",
            &format!(
                "reflink {}, hardlink {}, symlink {}, copy {}; configured {}: checkout uses {}",
                yes(l.reflink),
                yes(l.hardlink),
                yes(l.symlink),
                yes(l.copy),
                l.configured.join(", "),
                l.used.unwrap_or("none")
            ),
        )?;
    }
    for remote in &r.remotes {
        let mut what = Vec::new();
        match remote.reachable {
            Some(true) => what.push("answers".to_string()),
            Some(false) => what.push("does not answer".to_string()),
            None => what.push("not asked".to_string()),
        }
        if let Some(c) = remote.credentials {
            what.push(format!("credentials {}", serde_name(&c)));
        }
        match remote.format {
            Some(0) => what.push("empty (nothing pushed yet)".to_string()),
            Some(v) => what.push(format!("format {v}")),
            None => {}
        }
        line(
            "remote",
            &format!(
                "{}{}  {}: {} ({:.1} s)",
                remote.name,
                if remote.default { " (default)" } else { "" },
                remote.url.as_deref().unwrap_or("no URL"),
                what.join(", "),
                remote.seconds
            ),
        )?;
    }
    if let Some(h) = &r.hooks {
        let states: Vec<String> = h
            .state
            .iter()
            .map(|(name, s)| format!("{name} {}", serde_name(s).replace('_', " ")))
            .collect();
        line(
            "hooks",
            &format!("{} in `{}`", states.join(", "), h.dir.display()),
        )?;
    }
    if let Some(s) = &r.stat_cache {
        line(
            "stat cache",
            &format!(
                "{}, {}",
                ui::count(s.entries as u64, "file"),
                ui::size(s.bytes)
            ),
        )?;
    }
    for p in &r.problems {
        match p.severity {
            Severity::Warning => {
                ui.warn(&p.message);
                ui.hint(&p.hint);
            }
            Severity::Setup | Severity::Broken => {
                ui.error(&anyhow::anyhow!("{}", p.message), Some(p.hint.as_str()));
            }
        }
    }
    if r.ok {
        ui.info("everything git-mlv checks works here");
    }
    Ok(())
}

/// A value's name as `--json` spells it.
fn serde_name(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
