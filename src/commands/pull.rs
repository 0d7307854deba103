//! `git mlv pull`: fetch, then checkout the same paths.

use super::common::TransferArgs;
use crate::cache::Access;
use crate::ops;
use crate::repo::Repo;
use crate::ui::Ui;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub transfer: TransferArgs,
    /// Overwrite or remove workspace files even when their content is not in the cache
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<()> {
    let t = &args.transfer;
    if t.revs.len() > 1 || t.all_branches || t.all_tags || t.all_commits {
        return Err(crate::error::usage(
            "`pull` checks out one revision: give `--rev` once (use `fetch` for several, or --all-branches/--all-tags/--all-commits)",
        ));
    }
    let repo = Repo::discover()?;
    let cache = repo.cache()?;
    let _cache_lock = super::common::lock_cache(&cache, Access::Shared, ui)?;
    // A big file is written twice on the way in, into the cache and into the work tree:
    // writing the second copy while the first arrives, from the same bytes, saves reading
    // the first back (docs/remotes.md, "How pull writes big files").
    let ready =
        crate::link::ready_copies_pay(&cache.tmp_dir(), repo.root(), &repo.config.cache.link);
    let select = args.transfer.selector();
    let request = args.transfer.fetch_request(&select, ready);
    let done = ops::fetch::fetch(&repo, &request, &ui.bar("fetching"));
    let done = done.inspect_err(|e| super::common::json_error(ui, e))?;
    let (name, fetched, seconds) = (&done.remote, &done.summary, done.seconds);
    // Check out whatever arrived even when some objects failed; the failures are reported after.
    let request = ops::checkout::Request {
        paths: &args.transfer.paths.paths,
        exclude: &args.transfer.paths.exclude,
        rev: args.transfer.revs.first().map(String::as_str),
        to: None,
        force: args.force,
        ready_copies: &fetched.ready_copies,
    };
    let checked = ops::checkout::checkout(&repo, &request, ui);
    cache.discard_ready_copies(&fetched.ready_copies);
    let (checked, missing) = match checked {
        Ok(done) => done,
        Err(e) => {
            // A failed checkout (a full disk) still reports what the fetch could not bring.
            if ui.json {
                ui.print_json(&serde_json::json!({
                    "fetch": super::common::summary_json(name, fetched, seconds)?,
                    "imports_failed": done.imports_failed,
                    "checkout": null,
                    "missing_from_cache": [],
                    "error": crate::error::text(&e),
                }))?;
            } else {
                super::common::summary_line(ui, "fetched", fetched, seconds);
                if let Err(failed) = done.failures() {
                    ui.error(&failed, crate::error::outcome(&failed).1.as_deref());
                }
            }
            return Err(e);
        }
    };
    if ui.json {
        ui.print_json(&serde_json::json!({
            "fetch": super::common::summary_json(name, fetched, seconds)?,
            "imports_failed": done.imports_failed,
            "checkout": checked,
            "missing_from_cache": missing,
        }))?;
    } else {
        super::common::summary_line(ui, "fetched", fetched, seconds);
        super::checkout::summary_line(ui, &checked, &missing);
    }
    done.failures()?;
    ops::checkout::missing_error(&repo, &missing)
}
