//! `status`: every state a tracked path can be in, and `--check` for scripts.

use crate::support::TestEnv;
use predicates::prelude::*;
use predicates::str::contains;

fn tracked_dataset() -> TestEnv {
    let env = TestEnv::new();
    env.make_dataset("data", 9, "v1");
    env.write("model.pkl", "model v1");
    env.mlv(&["add", "data", "model.pkl"]).assert().success();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "v1"]);
    env
}

#[test]
fn clean_data_reports_nothing_and_check_passes() {
    let env = tracked_dataset();
    env.mlv(&["status"])
        .assert()
        .success()
        .stdout("")
        .stderr(contains("up to date"));
    env.mlv(&["status", "--check"]).assert().success();
    let s = env.json(&["status"]);
    assert_eq!(s["clean"], true);
    let read: u64 = s["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["files_read"].as_u64().unwrap())
        .sum();
    assert_eq!(read, 0, "status after add reads no file content");
}

#[test]
fn modified_directory_names_each_changed_file() {
    let env = tracked_dataset();
    env.write("data/part0/f0.csv", "edited\n");
    std::fs::remove_file(env.path("data/part1/f1.csv")).unwrap();
    env.write("data/extra.csv", "new\n");
    env.mlv(&["status"])
        .assert()
        .success()
        .stdout(contains("data: modified"))
        .stdout(contains("modified: data/part0/f0.csv"))
        .stdout(contains("removed: data/part1/f1.csv"))
        .stdout(contains("added: data/extra.csv"))
        .stderr(contains("git mlv add data"));
    env.mlv(&["status", "--check"]).assert().code(1);
    let s = env.json(&["status", "data"]);
    assert_eq!(s["artifacts"][0]["state"], "modified");
    assert_eq!(s["artifacts"][0]["changes"]["added"][0], "data/extra.csv");
}

#[test]
fn missing_from_workspace_and_from_cache() {
    let env = tracked_dataset();
    std::fs::remove_file(env.path("model.pkl")).unwrap();
    env.mlv(&["status", "model.pkl"])
        .assert()
        .success()
        .stdout(contains("model.pkl: missing from workspace"))
        .stderr(contains("git mlv checkout model.pkl"));
    env.mlv(&["checkout", "model.pkl"]).assert().success();
    std::fs::remove_file(env.object(&env.pointer_hash("model.pkl"))).unwrap();
    env.mlv(&["status", "model.pkl"])
        .assert()
        .success()
        .stdout(contains("model.pkl: missing from cache"));
    env.mlv(&["status", "--check", "model.pkl"])
        .assert()
        .code(1);
}

#[test]
fn data_out_of_step_after_git_reset_hard_says_how_to_fix() {
    let env = tracked_dataset();
    env.write("model.pkl", "model v2");
    env.make_dataset("data", 12, "v2");
    env.mlv(&["add", "data", "model.pkl"]).assert().success();
    env.git(&["commit", "-qam", "v2"]);
    // reset --hard moves the pointers back and fires no hook: data is now out of step.
    env.git(&["reset", "-q", "--hard", "HEAD~1"]);
    env.mlv(&["status"])
        .assert()
        .success()
        .stdout(contains("model.pkl: out of step"))
        .stdout(contains("data: out of step"))
        .stderr(contains("git mlv checkout"));
    env.mlv(&["checkout"]).assert().success();
    assert_eq!(env.read_str("model.pkl"), "model v1");
    env.mlv(&["status", "--check"]).assert().success();
}

#[test]
fn status_from_a_sub_folder_shows_paths_relative_to_it() {
    let env = TestEnv::new();
    env.make_dataset("proj/data", 3, "a");
    env.mlv(&["add", "proj/data"]).assert().success();
    env.write("proj/data/part0/f0.csv", "changed");
    env.mlv_in("proj", &["status", "data"])
        .assert()
        .success()
        .stdout(contains("data: modified"))
        .stdout(contains("modified: data/part0/f0.csv"));
}

#[test]
fn status_of_an_untracked_path_is_a_usage_error() {
    let env = tracked_dataset();
    env.mlv(&["status", "nope"])
        .assert()
        .code(2)
        .stderr(contains("pathspec `nope` did not match any tracked data"));
}

#[test]
fn objects_missing_from_cache_are_counted_in_a_big_directory() {
    // Past 2,000 files the cache is checked by listing its folders, not per object.
    let env = TestEnv::new();
    env.make_dataset("data", 2100, "big");
    env.mlv(&["add", "data"]).assert().success();
    std::fs::remove_file(env.object(&crate::support::b3(b"big,7\n"))).unwrap();
    let s = env.json(&["status", "data"]);
    assert_eq!(s["artifacts"][0]["missing_objects"], 1, "{s}");
    assert_eq!(s["artifacts"][0]["state"], "unchanged");
    env.mlv(&["status", "data"])
        .assert()
        .success()
        .stdout(contains("1 object missing from cache"));
}

/// `data/` (README.txt, test.csv, train.csv) pushed to a folder remote, and a fresh clone.
fn pushed_and_cloned() -> (crate::remotes::Remote, TestEnv, TestEnv) {
    use crate::remotes::{Kind, Remote};
    let remote = Remote::start(Kind::Folder);
    let env = TestEnv::new();
    remote.add_to(&env);
    env.write("data/README.txt", "about the data\n");
    env.write("data/test.csv", "x,y\n1,2\n");
    env.write("data/train.csv", "x,y\n3,4\n");
    env.mlv(&["add", "data"]).assert().success();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "data"]);
    env.mlv(&["push"]).assert().success();
    let mate = env.clone_repo("mate");
    remote.credentials(&mate);
    (remote, env, mate)
}

#[test]
fn fresh_clone_hints_pull_not_checkout() {
    let (_remote, _env, mate) = pushed_and_cloned();
    mate.mlv(&["status"])
        .assert()
        .success()
        .stdout(contains("data: missing from workspace"))
        .stderr(contains("`git mlv pull data`"))
        .stderr(contains("git mlv checkout").not());
    let s = mate.json(&["status"]);
    assert_eq!(s["artifacts"][0]["state"], "missing", "{s}");
    assert_eq!(s["artifacts"][0]["in_cache"], false);
    // The hint works.
    mate.mlv(&["pull", "data"]).assert().success();
    mate.mlv(&["status", "--check"]).assert().success();
}

#[test]
fn partial_pull_lists_files_not_pulled_instead_of_removed() {
    let (_remote, _env, mate) = pushed_and_cloned();
    mate.mlv(&["pull", "data/train.csv"]).assert().success();
    mate.mlv(&["status"])
        .assert()
        .success()
        .stdout(contains(
            "data: 2 files not pulled, 2 objects missing from cache",
        ))
        .stdout(contains("not pulled: data/README.txt"))
        .stdout(contains("not pulled: data/test.csv"))
        .stdout(contains("modified").not())
        .stdout(contains("removed").not())
        .stderr(contains("`git mlv pull data`"))
        .stderr(contains("git mlv add").not());
    let s = mate.json(&["status"]);
    let a = &s["artifacts"][0];
    assert_eq!(s["clean"], false);
    assert_eq!(a["state"], "missing", "{s}");
    assert_eq!(a["missing_objects"], 2);
    assert_eq!(a["changes"]["removed"].as_array().unwrap().len(), 0, "{s}");
    assert_eq!(
        a["not_pulled"],
        serde_json::json!(["data/README.txt", "data/test.csv"])
    );
    mate.mlv(&["status", "--check", "data"]).assert().code(1);
    // Asked about what was pulled, status judges only that: a CI step that pulls and checks
    // the same path passes.
    mate.mlv(&["status", "--check", "data/train.csv"])
        .assert()
        .success();
    let s = mate.json(&["status", "data/train.csv"]);
    assert_eq!(s["artifacts"][0]["state"], "unchanged", "{s}");
    assert_eq!(s["artifacts"][0]["missing_objects"], 0, "{s}");
    mate.write("data/test.csv", "made up here");
    mate.mlv(&["status", "--check", "data/train.csv"])
        .assert()
        .success();
    mate.mlv(&["status", "--check", "data/test.csv"])
        .assert()
        .code(1)
        .stdout(contains("modified: data/test.csv"));
    std::fs::remove_file(mate.path("data/test.csv")).unwrap();

    // Deleting a pulled file (its object is in the cache) is still a removal, but `add`
    // would drop the files never pulled too, so the hint does not offer it bare.
    std::fs::remove_file(mate.path("data/train.csv")).unwrap();
    mate.mlv(&["status"])
        .assert()
        .success()
        .stdout(contains("data: modified"))
        .stdout(contains("removed: data/train.csv"))
        .stdout(contains("not pulled: data/test.csv"))
        .stderr(contains("only then does `git mlv add data`"))
        .stderr(contains("records the new data;").not());
    let s = mate.json(&["status"]);
    assert_eq!(s["artifacts"][0]["state"], "modified");
    assert_eq!(
        s["artifacts"][0]["changes"]["removed"],
        serde_json::json!(["data/train.csv"])
    );
    assert_eq!(s["artifacts"][0]["not_pulled"].as_array().unwrap().len(), 2);

    mate.mlv(&["pull", "data"]).assert().success();
    mate.mlv(&["status", "--check"]).assert().success();
}

#[test]
fn directory_without_its_manifest_is_unknown_when_present_and_missing_when_absent() {
    let env = tracked_dataset();
    std::fs::remove_file(env.object(&env.pointer_hash("data"))).unwrap();
    let s = env.json(&["status", "data"]);
    assert_eq!(s["artifacts"][0]["state"], "unknown", "{s}");
    env.mlv(&["status", "data"])
        .assert()
        .success()
        .stdout(contains(
            "data: not comparable, missing from cache (manifest not fetched; 9 files)",
        ))
        .stderr(contains("`git mlv fetch data`"));
    std::fs::remove_dir_all(env.path("data")).unwrap();
    let s = env.json(&["status", "data"]);
    assert_eq!(s["artifacts"][0]["state"], "missing", "{s}");
    env.mlv(&["status", "data"])
        .assert()
        .success()
        .stdout(contains(
            "data: missing from workspace, missing from cache (manifest not fetched; 9 files)",
        ))
        .stderr(contains("`git mlv pull data`"));
}

#[test]
fn symlinks_and_fifos_get_a_hint_that_works_not_add() {
    let env = tracked_dataset();
    std::os::unix::fs::symlink("/etc/hostname", env.path("data/link")).unwrap();
    std::fs::remove_file(env.path("model.pkl")).unwrap();
    let ok = std::process::Command::new("mkfifo")
        .arg(env.path("model.pkl"))
        .status()
        .unwrap();
    assert!(ok.success());
    let assert = env.mlv(&["status"]).assert().success();
    let err = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    // What the hint used to say is refused by add.
    assert!(!err.contains("`git mlv add data` records"), "{err}");
    assert!(!err.contains("`git mlv add model.pkl` records"), "{err}");
    assert!(
        err.contains("`data/link` is a symbolic link")
            && err.contains("`model.pkl` is a special file")
            && err.contains("replace it with a regular file"),
        "{err}"
    );
    let s = env.json(&["status"]);
    let not_regular: Vec<String> = s["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["not_regular"].as_array().unwrap().clone())
        .map(|n| n["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(not_regular, ["data/link", "model.pkl"], "{s}");
    // Doing what the hint says works.
    std::fs::remove_file(env.path("data/link")).unwrap();
    std::fs::write(env.path("data/link"), "now a file").unwrap();
    env.mlv(&["add", "data"]).assert().success();
    env.mlv(&["checkout", "--force", "model.pkl"])
        .assert()
        .success();
    env.mlv(&["status", "--check"]).assert().success();
}

/// Issue 13: in a fresh clone the cache lacks the manifest, so the number of objects the
/// directory needs is unknown: say so, with the file count the pointer records, instead
/// of "1 objects".
#[test]
fn a_fresh_clone_says_the_manifest_is_not_fetched_instead_of_counting_one_object() {
    let (_remote, _env, mate) = pushed_and_cloned();
    mate.mlv(&["status"])
        .assert()
        .success()
        .stdout(contains(
            "data: missing from workspace, missing from cache (manifest not fetched; 3 files)",
        ))
        .stdout(contains("1 objects").not());
    let s = mate.json(&["status"]);
    assert_eq!(s["artifacts"][0]["manifest_in_cache"], false, "{s}");
}

#[test]
fn an_object_removed_after_a_clean_status_is_still_counted() {
    // A clean status remembers a stamp of the cache's folders and skips listing the cache
    // while it holds; removing an object changes its folder, even one aged back afterwards.
    let env = TestEnv::new();
    env.make_dataset("data", 30, "stamp");
    env.mlv(&["add", "data"]).assert().success();
    let age_folders = || age_cache_folders(&env);
    age_folders();
    env.mlv(&["status"]).assert().success();
    env.mlv(&["status"]).assert().success();
    std::fs::remove_file(env.object(&crate::support::b3(b"stamp,7\n"))).unwrap();
    age_folders();
    let s = env.json(&["status"]);
    assert_eq!(s["artifacts"][0]["missing_objects"], 1, "{s}");
    env.mlv(&["status", "--check"]).assert().code(1);
}

/// Sets the cache's object folders an hour back, so its stamp holds (a folder changed in
/// the last two seconds makes none) and status may skip listing the cache.
fn age_cache_folders(env: &TestEnv) {
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for d in std::fs::read_dir(env.cache_dir().join("b3")).unwrap() {
        let d = std::fs::File::open(d.unwrap().path()).unwrap();
        d.set_modified(old).unwrap();
    }
}

/// A tracked `data` (30 files in 3 folders) after two clean statuses: the stat cache holds
/// each folder's digest and the cache's stamp, so a later status compares only the folders
/// whose digest moved, against the stat cache's saved records instead of the manifest.
fn folders_recorded() -> TestEnv {
    let env = TestEnv::new();
    env.make_dataset("data", 30, "fold");
    env.mlv(&["add", "data"]).assert().success();
    age_cache_folders(&env);
    env.mlv(&["status", "--check"]).assert().success();
    env.mlv(&["status", "--check"]).assert().success();
    env
}

/// The changes status reports for `data`, each list as it is, twice in a row: the first
/// run compares against the stat cache's saved records, the second (whose stat cache now
/// holds the new hashes) against the manifest; both must tell the same.
fn changes_twice(env: &TestEnv) -> serde_json::Value {
    let [first, second] = [0, 1].map(|_| env.json(&["status"])["artifacts"][0].clone());
    for key in [
        "state",
        "changes",
        "not_pulled",
        "missing_objects",
        "in_cache",
    ] {
        assert_eq!(first[key], second[key], "{key}: {first} then {second}");
    }
    first
}

#[test]
fn a_rewrite_that_keeps_size_and_mtime_is_still_modified() {
    let env = folders_recorded();
    let path = env.path("data/part1/f4.csv");
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    env.write("data/part1/f4.csv", "FOLD,4\n");
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let a = changes_twice(&env);
    assert_eq!(a["state"], "modified", "{a}");
    assert_eq!(
        a["changes"]["modified"],
        serde_json::json!(["data/part1/f4.csv"])
    );
    assert_eq!(a["changes"]["added"], serde_json::json!([]));
    assert_eq!(a["files_read"], 1, "{a}");
    env.mlv(&["status", "--check"]).assert().code(1);
    // Written back as it was: unchanged again, however the stat cache last saw it.
    env.write("data/part1/f4.csv", "fold,4\n");
    env.mlv(&["status", "--check"]).assert().success();
}

#[test]
fn a_file_removed_and_another_added_in_one_folder() {
    let env = folders_recorded();
    std::fs::remove_file(env.path("data/part2/f5.csv")).unwrap();
    env.write("data/part2/f5b.csv", "fold,5\n");
    let a = changes_twice(&env);
    assert_eq!(a["state"], "modified", "{a}");
    assert_eq!(
        a["changes"]["removed"],
        serde_json::json!(["data/part2/f5.csv"])
    );
    assert_eq!(
        a["changes"]["added"],
        serde_json::json!(["data/part2/f5b.csv"])
    );
    assert_eq!(a["changes"]["modified"], serde_json::json!([]));
}

#[test]
fn a_renamed_folder_is_its_files_removed_and_added() {
    let env = folders_recorded();
    std::fs::rename(env.path("data/part0"), env.path("data/part9")).unwrap();
    let a = changes_twice(&env);
    let names = |prefix: &str| -> Vec<String> {
        (0..30)
            .filter(|i| i % 3 == 0)
            .map(|i| format!("data/{prefix}/f{i}.csv"))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    assert_eq!(
        a["changes"]["removed"],
        serde_json::json!(names("part0")),
        "{a}"
    );
    assert_eq!(
        a["changes"]["added"],
        serde_json::json!(names("part9")),
        "{a}"
    );
    // Renamed back: nothing changed after all.
    std::fs::rename(env.path("data/part9"), env.path("data/part0")).unwrap();
    env.mlv(&["status", "--check"]).assert().success();
}

#[test]
fn an_object_deleted_behind_status_while_a_file_changed_is_counted() {
    let env = folders_recorded();
    std::fs::remove_file(env.object(&crate::support::b3(b"fold,7\n"))).unwrap();
    age_cache_folders(&env);
    env.write("data/part2/f2.csv", "other\n");
    let a = changes_twice(&env);
    assert_eq!(a["missing_objects"], 1, "{a}");
    assert_eq!(a["in_cache"], false, "{a}");
    assert_eq!(
        a["changes"]["modified"],
        serde_json::json!(["data/part2/f2.csv"])
    );
    // Removed too, the file whose object is gone was never pulled, not deleted.
    std::fs::remove_file(env.path("data/part1/f7.csv")).unwrap();
    let a = changes_twice(&env);
    assert_eq!(
        a["not_pulled"],
        serde_json::json!(["data/part1/f7.csv"]),
        "{a}"
    );
    assert_eq!(a["changes"]["removed"], serde_json::json!([]), "{a}");
}

#[test]
fn a_folder_with_a_new_sub_folder_and_an_exec_bit_change() {
    use std::os::unix::fs::PermissionsExt;
    let env = folders_recorded();
    env.write("data/part1/deeper/new.csv", "n\n");
    let a = changes_twice(&env);
    assert_eq!(
        a["changes"]["added"],
        serde_json::json!(["data/part1/deeper/new.csv"])
    );
    std::fs::remove_dir_all(env.path("data/part1/deeper")).unwrap();
    env.mlv(&["status", "--check"]).assert().success();
    // An exec bit alone is no change status reports, before or after this shortcut.
    let f = env.path("data/part0/f3.csv");
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o755)).unwrap();
    env.mlv(&["status", "--check"]).assert().success();
}

#[test]
fn out_of_step_needs_every_object_of_the_other_version_in_the_cache() {
    let env = folders_recorded();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "v1"]);
    env.write("data/part1/f4.csv", "fold,4 v2\n");
    env.mlv(&["add", "data"]).assert().success();
    env.git(&["commit", "-qam", "v2"]);
    env.git(&["reset", "-q", "--hard", "HEAD~1"]);
    age_cache_folders(&env);
    let a = changes_twice(&env);
    assert_eq!(a["state"], "out-of-step", "{a}");
    // Without the object of the file that differs, the cache does not hold that version:
    // it is the user's change, whatever manifest the cache still has.
    std::fs::remove_file(env.object(&crate::support::b3(b"fold,4 v2\n"))).unwrap();
    age_cache_folders(&env);
    let a = changes_twice(&env);
    assert_eq!(a["state"], "modified", "{a}");
    assert_eq!(
        a["changes"]["modified"],
        serde_json::json!(["data/part1/f4.csv"])
    );
}

#[test]
fn a_file_replaced_by_a_folder_and_a_removed_folder() {
    let env = folders_recorded();
    std::fs::remove_file(env.path("data/part1/f4.csv")).unwrap();
    env.write("data/part1/f4.csv/inner.csv", "inner\n");
    let a = changes_twice(&env);
    assert_eq!(a["state"], "modified", "{a}");
    assert_eq!(
        a["changes"]["removed"],
        serde_json::json!(["data/part1/f4.csv"])
    );
    assert_eq!(
        a["changes"]["added"],
        serde_json::json!(["data/part1/f4.csv/inner.csv"])
    );
    std::fs::remove_dir_all(env.path("data/part1/f4.csv")).unwrap();
    env.write("data/part1/f4.csv", "fold,4\n");
    env.mlv(&["status", "--check"]).assert().success();
    std::fs::remove_dir_all(env.path("data/part2")).unwrap();
    let a = changes_twice(&env);
    let gone: std::collections::BTreeSet<String> = (0..30)
        .filter(|i| i % 3 == 2)
        .map(|i| format!("data/part2/f{i}.csv"))
        .collect();
    assert_eq!(a["changes"]["removed"], serde_json::json!(gone), "{a}");
    assert_eq!(a["changes"]["added"], serde_json::json!([]), "{a}");
}
