//! `status`: every state a tracked path can be in, and `--check` for scripts.

use crate::support::TestEnv;
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
        .stderr(contains("`nope` is not tracked"));
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
        .stdout(contains("1 objects missing from cache"));
}
