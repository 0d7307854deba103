//! What the `remote` subcommands share: which config file a change goes to, the edits of
//! its `[remotes.<name>]` and `[core]` tables, and the checks of a remote's name and URL.

use crate::config;
use crate::error::usage;
use crate::paths::RepoPath;
use crate::repo::Repo;
use std::path::PathBuf;
use toml_edit::{DocumentMut, Item, Table, value};

/// The config file written: the team's, or this machine's with `local`.
pub fn file(repo: &Repo, local: bool) -> PathBuf {
    repo.root().join(config::DIR).join(if local {
        config::LOCAL_FILE
    } else {
        config::FILE
    })
}

/// That file as the JSON output names it.
pub fn shown(local: bool) -> String {
    format!(
        "{}/{}",
        config::DIR,
        if local {
            config::LOCAL_FILE
        } else {
            config::FILE
        }
    )
}

/// The team config, when a change to it is to be committed.
pub fn team(changed: bool, local: bool) -> Option<RepoPath> {
    (changed && !local).then(|| RepoPath::new(format!("{}/{}", config::DIR, config::FILE)))
}

/// Whether the remote is configured; one left without a `url` can still be fixed or removed.
pub fn known(repo: &Repo, name: &str) -> bool {
    repo.config.remotes.contains_key(name) || repo.config.incomplete.contains_key(name)
}

/// A URL `remote add` or `remote set … url` can write: a form git-mlv can open, and no
/// password bound for the committed config. `again` is the command to run with a fixed URL.
pub fn check_url(name: &str, url: &str, local: bool, again: &str) -> anyhow::Result<()> {
    if let Err(why) = crate::remote::check_url(url) {
        return Err(usage(format!(
            "the URL `{}` given for remote `{name}` {why}\nhint: a remote is {}; run `{again}` with one of those",
            crate::remote::redact(url),
            crate::remote::URL_FORMS
        )));
    }
    if !local && url::Url::parse(url).is_ok_and(|u| u.password().is_some()) {
        return Err(usage(format!(
            "the URL of `{name}` holds a password, which must not reach the committed config\nhint: use `--local`, or set `user`/`password` with `git mlv remote set --local {name}`"
        )));
    }
    Ok(())
}

/// The name `remote add` gives: the config's rule (a name is also a folder name).
pub fn check_name(name: &str) -> anyhow::Result<()> {
    if !config::is_remote_name(name) {
        return Err(usage(format!(
            "`{name}` is not a valid remote name: {}",
            config::REMOTE_NAME_RULE
        )));
    }
    Ok(())
}

pub fn remote_table<'a>(doc: &'a mut DocumentMut, name: &str) -> &'a mut Table {
    let remotes = doc.entry("remotes").or_insert_with(|| {
        let mut t = Table::new();
        t.set_implicit(true);
        Item::Table(t)
    });
    remotes
        .as_table_mut()
        .expect("`remotes` is a table")
        .entry(name)
        .or_insert_with(|| Item::Table(Table::new()))
        .as_table_mut()
        .expect("a remote is a table")
}

pub fn set_default(doc: &mut DocumentMut, name: &str) {
    let core = doc
        .entry("core")
        .or_insert_with(|| Item::Table(Table::new()));
    if let Some(t) = core.as_table_mut() {
        t.insert("remote", value(name));
    }
}
