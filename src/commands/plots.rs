//! `git mlv plots [--rev R…] [--versions ARTIFACT] [-o PATH] [--format html|svg] [--open]`:
//! metrics and `[[plots]]` series across revisions, written as one self-contained HTML page
//! (or one SVG file per chart). Default, as `dvc plots diff`: HEAD against the work tree.

use crate::plots::{self, Format, Side};
use crate::registry::Registry;
use crate::repo::Repo;
use crate::ui::Ui;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    /// A revision to plot, in order (repeat it; registry references like `model#prod` too).
    /// Default: HEAD and the work tree
    #[arg(long = "rev", value_name = "REV")]
    pub revs: Vec<String>,
    /// Plot an artifact's registered versions instead, oldest first, marking the versions a
    /// stage holds
    #[arg(long, value_name = "ARTIFACT", conflicts_with = "revs")]
    pub versions: Option<String>,
    /// Where to write: the page (default `plots.html`), or with `--format svg` a folder
    /// (default `plots`)
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// `html`: one page with every chart; `svg`: one `.svg` file per chart
    #[arg(long, value_enum, default_value = "html")]
    pub format: FormatArg,
    /// Open the page with the desktop's opener (`xdg-open`; `open` on macOS) when there is one
    #[arg(long)]
    pub open: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum FormatArg {
    Html,
    Svg,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let repo = Repo::discover()?;
    let format = match args.format {
        FormatArg::Html => Format::Html,
        FormatArg::Svg => Format::Svg,
    };
    let sides = match &args.versions {
        Some(artifact) => versions(&repo, artifact)?,
        None => revisions(&repo, &args.revs)?,
    };
    let out = std::env::current_dir()?.join(
        args.output
            .unwrap_or_else(|| PathBuf::from(format.default_output())),
    );
    let plots = plots::collect(&repo.git, repo.root(), sides)?;
    let git_dirs = [
        repo.layout.git_dir.as_path(),
        repo.layout.common_dir.as_path(),
    ];
    let written = plots::write(&plots, format, &out, &git_dirs)?;
    for note in &plots.notes {
        ui.info(note);
    }
    if ui.json {
        let charts: Vec<_> = plots
            .charts
            .iter()
            .map(|c| serde_json::json!({ "id": c.id, "title": c.title, "kind": c.kind, "file": c.file }))
            .collect();
        ui.print_json(&serde_json::json!({
            "format": format,
            "output": out,
            "files": written,
            "plots": charts,
            "revisions": plots.sides,
            "notes": plots.notes,
        }))?;
    } else {
        // The files on stdout, so `xdg-open "$(git mlv plots -q)"` works; the summary beside.
        for file in &written {
            ui.out(&file.display().to_string())?;
        }
        ui.info(&format!(
            "wrote {} across {} to `{}`",
            crate::units::count(plots.charts.len() as u64, "plot"),
            crate::units::count(plots.sides.len() as u64, "revision"),
            out.display()
        ));
    }
    if args.open {
        open(&out, ui);
    }
    Ok(())
}

/// The revisions as given (each resolved to its commit), or HEAD and the work tree.
fn revisions(repo: &Repo, revs: &[String]) -> anyhow::Result<Vec<Side>> {
    let side = |label: &str, commit| Side {
        label: label.to_string(),
        commit,
        stages: Vec::new(),
    };
    if revs.is_empty() {
        // A repository without a commit yet has only its work tree to show.
        let head = repo.git.resolve_commit("HEAD").ok();
        let mut out: Vec<Side> = head.map(|c| side("HEAD", Some(c))).into_iter().collect();
        out.push(side("workspace", None));
        return Ok(out);
    }
    revs.iter()
        .map(|r| Ok(side(r, Some(repo.git.resolve_commit(&repo.rev(r)?)?))))
        .collect()
}

/// The artifact's registered versions, oldest first, each with the stages it holds.
fn versions(repo: &Repo, artifact: &str) -> anyhow::Result<Vec<Side>> {
    let reg = Registry::load(&repo.git)?;
    let held: Vec<(String, String)> = reg
        .stages(artifact)
        .into_iter()
        .filter_map(|s| reg.holder(artifact, &s).map(|h| (s, h.version)))
        .collect();
    let versions: Vec<Side> = reg
        .versions(artifact)
        .into_iter()
        .rev()
        .filter(|v| v.active)
        .map(|v| Side {
            stages: held
                .iter()
                .filter(|(_, h)| *h == v.version)
                .map(|(s, _)| s.clone())
                .collect(),
            label: format!("v{}", v.version.trim_start_matches('v')),
            commit: Some(v.commit),
        })
        .collect();
    if versions.is_empty() {
        return Err(crate::problem::usage_with_hint(
            format!("`{artifact}` has no registered version"),
            format!(
                "register one: `git mlv register {artifact}`; `git mlv models` lists the artifacts"
            ),
        ));
    }
    Ok(versions)
}

/// Opens `path` with the desktop's opener; without one, says where the file is instead.
fn open(path: &Path, ui: &Ui) {
    // Linux's `open` is kbd's `openvt`, so only macOS gets `open`.
    let name = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let opener = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
        .then_some(name);
    let started = opener.is_some_and(|o| {
        std::process::Command::new(o)
            .arg(path)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .is_ok()
    });
    if started {
        ui.info(&format!("opened `{}`", path.display()));
    } else {
        ui.info(&format!(
            "no desktop opener (`{name}`) here: open `{}` in a browser",
            path.display()
        ));
    }
}
