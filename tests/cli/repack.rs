//! `gc -r R --force` on packs: packs mostly dead are repacked, dead ones lose their index,
//! and packs without an index go once past the grace period; a repack killed at any step
//! loses nothing a ref needs.

use crate::gc::age_past_grace;
use crate::packs::{
    assert_every_index_has_its_pack, assert_same_files, committed, files_under, packs, write_files,
};
use crate::remotes::{Kind, Remote};
use crate::support::TestEnv;
use predicates::prelude::*;
use predicates::str::contains;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The names (`b3:<hex>`) of the files in `paths`.
fn names(paths: &[PathBuf]) -> BTreeSet<String> {
    paths
        .iter()
        .map(|p| format!("b3:{}", p.file_stem().unwrap().to_str().unwrap()))
        .collect()
}

fn pack_bytes(remote: &Remote) -> u64 {
    packs(remote)
        .0
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum()
}

/// The packs a command added to the remote.
fn new_packs(remote: &Remote, before: &BTreeSet<String>) -> BTreeSet<String> {
    names(&packs(remote).0)
        .difference(before)
        .cloned()
        .collect()
}

fn strings(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

fn commit(env: &TestEnv, paths: &[&str], message: &str) {
    let mut args = vec!["add"];
    args.extend(paths);
    env.mlv(&args).assert().success();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", message]);
}

/// A clone that pulls every file of main and checks them against `env`.
fn assert_a_clone_pulls(env: &TestEnv, remote: &Remote, dirs: &[&str]) {
    let mate = env.clone_repo("mate");
    remote.credentials(&mate);
    mate.mlv(&["pull"]).assert().success();
    for d in dirs {
        assert_same_files(env, &mate, d);
    }
}

#[test]
fn gc_repacks_mostly_dead_packs_and_drops_dead_ones() {
    for kind in [Kind::Folder, Kind::S3] {
        repacks_and_drops(kind);
    }
}

/// A remote with pack a of `keep` (on main), the repository pushing to it, and pack a.
fn kept_pack(kind: Kind) -> (Remote, TestEnv, BTreeSet<String>) {
    let remote = Remote::start(kind);
    let env = TestEnv::new();
    write_files(&env, "keep", 1, 10, 3000, "keep");
    committed(&env, &["keep"], &remote);
    env.mlv(&["push"]).assert().success();
    let a = names(&packs(&remote).0);
    (remote, env, a)
}

/// Pushes a pack of `dir` from a new branch off main; returns the packs the push added.
fn pushed_branch(env: &TestEnv, remote: &Remote, branch: &str, dir: &str) -> BTreeSet<String> {
    let before = names(&packs(remote).0);
    env.git(&["checkout", "-q", "-b", branch, "main"]);
    write_files(env, dir, 1, 10, 3000, dir);
    commit(env, &[dir], dir);
    env.mlv(&["push"]).assert().success();
    new_packs(remote, &before)
}

/// Pack c on branch `mix`: `more` (kept by main) and `tmp` (twice its size, on no ref in
/// the end).
fn mixed_pack(env: &TestEnv, remote: &Remote, before: &BTreeSet<String>) -> BTreeSet<String> {
    env.git(&["checkout", "-q", "-b", "mix"]);
    write_files(env, "more", 1, 10, 3000, "more");
    commit(env, &["more"], "more");
    write_files(env, "tmp", 2, 10, 3000, "tmp");
    commit(env, &["tmp"], "tmp");
    env.mlv(&["push"]).assert().success();
    new_packs(remote, before)
}

fn repacks_and_drops(kind: Kind) {
    let (remote, env, a) = kept_pack(kind);
    let c = mixed_pack(&env, &remote, &a);
    // Pack b: only objects of a branch that goes.
    let b = pushed_branch(&env, &remote, "exp", "exp");
    assert_eq!((a.len(), b.len(), c.len()), (1, 1, 1));
    env.git(&["checkout", "-q", "main"]);
    env.git(&["merge", "-q", "--ff-only", "mix~1"]);
    env.git(&["branch", "-q", "-D", "mix", "exp"]);
    let bytes_before = pack_bytes(&remote);

    // A clone with an empty cache: the live objects are read from the old pack.
    let janitor = env.clone_repo("janitor");
    remote.credentials(&janitor);
    let young = janitor.json(&["gc", "-r", "store", "--dry-run"]);
    assert_eq!(young["packs"]["repacked"], serde_json::json!([]), "{young}");
    assert_eq!(young["packs"]["kept_young"], 3, "{young}");

    age_past_grace(&remote.root());
    let plan = janitor.json(&["gc", "-r", "store", "--dry-run"]);
    let repacked = &plan["packs"]["repacked"];
    assert_eq!(repacked.as_array().unwrap().len(), 1, "{plan}");
    assert_eq!(
        BTreeSet::from([repacked[0]["pack"].as_str().unwrap().to_string()]),
        c
    );
    assert_eq!(repacked[0]["live_bytes"], 30_000, "{plan}");
    assert_eq!(strings(&plan["packs"]["dropped"]), b, "{plan}");
    assert_eq!(
        pack_bytes(&remote),
        bytes_before,
        "a dry run changes nothing"
    );
    assert_eq!(packs(&remote).1.len(), 3);

    let done = janitor.json(&["gc", "-r", "store", "--force"]);
    assert_eq!(
        done["packs"]["repacked"][0]["pack"],
        plan["packs"]["repacked"][0]["pack"]
    );
    let new = done["packs"]["repacked"][0]["into"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(strings(&done["packs"]["dropped"]), b, "{done}");
    let (pack_files, indexes) = packs(&remote);
    let mut live: BTreeSet<String> = a.clone();
    live.insert(new.clone());
    assert_eq!(
        names(&indexes),
        live,
        "the old indexes are gone, the new one is up"
    );
    assert_eq!(
        pack_files.len(),
        4,
        "the old packs wait out the grace period"
    );
    assert_every_index_has_its_pack(&remote);
    env.mlv(&["fsck", "-r", "store"]).assert().success();
    assert_a_clone_pulls(&env, &remote, &["keep", "more"]);

    // Their grace starts when their index went, whatever the packs' own age.
    let again = janitor.json(&["gc", "-r", "store", "--force"]);
    assert_eq!(
        again["packs"]["orphans_removed"],
        serde_json::json!([]),
        "{again}"
    );
    assert_eq!(again["packs"]["orphans_kept"], 2, "{again}");
    assert_eq!(packs(&remote).0.len(), 4);

    age_past_grace(&remote.root());
    let last = janitor.json(&["gc", "-r", "store", "--force"]);
    assert_eq!(
        strings(&last["packs"]["orphans_removed"]),
        b.union(&c).cloned().collect(),
        "{last}"
    );
    assert!(
        last["packs"]["freed_bytes"].as_u64().unwrap() > 90_000,
        "{last}"
    );
    assert_eq!(names(&packs(&remote).0), live);
    assert_eq!(
        files_under(&remote.root().join("packs")).len(),
        4,
        "no leftovers"
    );
    assert!(pack_bytes(&remote) < bytes_before / 2);
    env.mlv(&["fsck", "-r", "store"])
        .assert()
        .success()
        .stderr(contains("0 bad"));
    assert_a_clone_pulls(&env, &remote, &["keep", "more"]);
}

#[test]
fn an_orphan_pack_goes_only_once_past_the_grace_period() {
    for kind in [Kind::Folder, Kind::S3] {
        orphan(kind);
    }
}

fn orphan(kind: Kind) {
    let (remote, env, a) = kept_pack(kind);
    let b = pushed_branch(&env, &remote, "exp", "exp");
    env.git(&["checkout", "-q", "main"]);
    env.git(&["branch", "-q", "-D", "exp"]);
    // As a push killed between the pack and its index leaves it.
    let orphan_index = packs(&remote)
        .1
        .into_iter()
        .find(|p| names(std::slice::from_ref(p)) == b)
        .unwrap();
    std::fs::remove_file(&orphan_index).unwrap();
    let orphan_name = b.iter().next().unwrap().clone();

    env.mlv(&["fsck", "-r", "store"])
        .assert()
        .success()
        .stderr(contains("without an index"))
        .stderr(contains(orphan_name.trim_start_matches("b3:")));
    let young = env.json(&["gc", "-r", "store", "--force"]);
    assert_eq!(
        young["packs"]["orphans_removed"],
        serde_json::json!([]),
        "{young}"
    );
    assert_eq!(young["packs"]["orphans_kept"], 1, "{young}");
    assert_eq!(names(&packs(&remote).0).len(), 2);

    age_past_grace(&remote.root().join("packs"));
    let plan = env.json(&["gc", "-r", "store", "--dry-run"]);
    assert_eq!(strings(&plan["packs"]["orphans_removed"]), b, "{plan}");
    assert_eq!(
        names(&packs(&remote).0).len(),
        2,
        "a dry run changes nothing"
    );
    let old = env.json(&["gc", "-r", "store", "--force"]);
    assert_eq!(strings(&old["packs"]["orphans_removed"]), b, "{old}");
    assert_eq!(old["packs"]["repacked"], serde_json::json!([]), "{old}");
    assert_eq!(names(&packs(&remote).0), a, "the live pack stays whole");
    assert_eq!(names(&packs(&remote).1), a);
    env.mlv(&["fsck", "-r", "store"])
        .assert()
        .success()
        .stderr(contains("without an index").not());
    assert_a_clone_pulls(&env, &remote, &["keep"]);
}

/// Where a repack is killed: once a new pack is up, once a new index is up, once an old
/// index is gone.
#[derive(Debug, Clone, Copy)]
enum Step {
    NewPack,
    NewIndex,
    OldIndexGone,
}

/// Kills `gc -r store --force` once the remote reaches `step`.
fn kill_gc_at(env: &TestEnv, remote: &Remote, step: Step) {
    let (packs_before, indexes_before) = packs(remote);
    let (packs_before, indexes_before) = (names(&packs_before), names(&indexes_before));
    let mut child = env
        .mlv_process(&["gc", "-r", "store", "--force"])
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        let (p, i) = packs(remote);
        let (p, i) = (names(&p), names(&i));
        let reached = match step {
            Step::NewPack => !p.is_subset(&packs_before),
            Step::NewIndex => !i.is_subset(&indexes_before),
            Step::OldIndexGone => !indexes_before.is_subset(&i),
        };
        if reached {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "gc ended before {step:?}"
        );
        assert!(start.elapsed() < Duration::from_secs(60), "no {step:?}");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_repack_killed_at_any_step_loses_nothing() {
    for kind in [Kind::Folder, Kind::S3] {
        killed_repack(kind);
    }
}

fn killed_repack(kind: Kind) {
    let remote = Remote::start(kind);
    let env = TestEnv::new();
    write_files(&env, "base", 1, 2, 1000, "base");
    committed(&env, &["base"], &remote);
    // Eight packs, each a third live: main keeps `live<i>`, a deleted branch held `dead<i>`.
    let mut live = vec!["base".to_string()];
    for i in 0..8 {
        let (l, d) = (format!("live{i}"), format!("dead{i}"));
        write_files(&env, &l, 1, 10, 64 << 10, &l);
        commit(&env, &[&l], &l);
        env.git(&["checkout", "-q", "-b", "side"]);
        write_files(&env, &d, 1, 20, 64 << 10, &d);
        commit(&env, &[&d], &d);
        env.mlv(&["push"]).assert().success();
        env.git(&["checkout", "-q", "main"]);
        env.git(&["branch", "-q", "-D", "side"]);
        live.push(l);
    }
    let live: Vec<&str> = live.iter().map(String::as_str).collect();
    assert_eq!(packs(&remote).1.len(), 8);
    let bytes_before = pack_bytes(&remote);
    age_past_grace(&remote.root());
    for step in [Step::NewPack, Step::NewIndex, Step::OldIndexGone] {
        kill_gc_at(&env, &remote, step);
        assert_every_index_has_its_pack(&remote);
        env.mlv(&["fsck", "-r", "store"]).assert().success();
        assert_a_clone_pulls(&env, &remote, &live);
    }
    let finished = env.json(&["gc", "-r", "store", "--force"]);
    assert_every_index_has_its_pack(&remote);
    age_past_grace(&remote.root());
    let cleaned = env.json(&["gc", "-r", "store", "--force"]);
    assert_eq!(
        cleaned["packs"]["repacked"],
        serde_json::json!([]),
        "{finished} {cleaned}"
    );
    assert_every_index_has_its_pack(&remote);
    let (pack_files, indexes) = packs(&remote);
    assert_eq!(
        names(&pack_files),
        names(&indexes),
        "no pack without its index"
    );
    assert!(
        pack_bytes(&remote) < bytes_before / 2,
        "{} of {bytes_before}",
        pack_bytes(&remote)
    );
    env.mlv(&["fsck", "-r", "store"])
        .assert()
        .success()
        .stderr(contains("0 bad"));
    assert_a_clone_pulls(&env, &remote, &live);
}

#[test]
fn a_gc_rerun_after_a_repack_killed_before_its_new_index_keeps_the_new_pack() {
    for kind in [Kind::Folder, Kind::S3] {
        rerun_after_new_pack(kind);
    }
}

fn rerun_after_new_pack(kind: Kind) {
    let (remote, env, a) = kept_pack(kind);
    let c = mixed_pack(&env, &remote, &a);
    env.git(&["checkout", "-q", "main"]);
    env.git(&["merge", "-q", "--ff-only", "mix~1"]);
    env.git(&["branch", "-q", "-D", "mix"]);
    let indexes_before: Vec<(PathBuf, Vec<u8>)> = packs(&remote)
        .1
        .into_iter()
        .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
        .collect();
    age_past_grace(&remote.root());
    let done = env.json(&["gc", "-r", "store", "--force"]);
    let new = new_packs(&remote, &a.union(&c).cloned().collect());
    assert_eq!(new.len(), 1, "{done}");
    // Back to where a repack killed after the new pack, before its index, leaves the
    // remote: the new pack without its index, the old index in place, no tombstone.
    for idx in packs(&remote).1 {
        if new.contains(
            &names(std::slice::from_ref(&idx))
                .into_iter()
                .next()
                .unwrap(),
        ) {
            std::fs::remove_file(&idx).unwrap();
        }
    }
    for f in files_under(&remote.root().join("packs")) {
        if f.extension().is_some_and(|e| e == "gone") {
            std::fs::remove_file(&f).unwrap();
        }
    }
    for (p, bytes) in &indexes_before {
        std::fs::write(p, bytes).unwrap();
    }
    // More than a day later the next gc repacks the same pack into the same new one.
    age_past_grace(&remote.root());
    let rerun = env.json(&["gc", "-r", "store", "--force"]);
    assert_eq!(
        rerun["packs"]["repacked"][0]["into"]
            .as_str()
            .map(str::to_string),
        new.iter().next().cloned(),
        "{rerun}"
    );
    assert_every_index_has_its_pack(&remote);
    env.mlv(&["fsck", "-r", "store"])
        .assert()
        .success()
        .stderr(contains("0 bad"));
    assert_a_clone_pulls(&env, &remote, &["keep", "more"]);
    age_past_grace(&remote.root());
    env.mlv(&["gc", "-r", "store", "--force"])
        .assert()
        .success();
    assert_every_index_has_its_pack(&remote);
    env.mlv(&["fsck", "-r", "store"])
        .assert()
        .success()
        .stderr(contains("0 bad"));
    assert_a_clone_pulls(&env, &remote, &["keep", "more"]);
}
