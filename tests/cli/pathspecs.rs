//! Path arguments of `pull`, `fetch`, `checkout`, `push` and `status` (issue 13): a path or
//! glob that selects no tracked data exits 2 naming it, globs and `--exclude` select files
//! inside tracked directories too, and every command run from inside tracked data takes
//! and prints paths relative to the folder it runs in.

use crate::remotes::{Kind, Remote};
use crate::support::TestEnv;
use predicates::prelude::*;
use predicates::str::contains;

const FIVE: [&str; 5] = ["status", "checkout", "pull", "fetch", "push"];

/// A directory `data` (`f1.csv`, `f2.csv`, `train/x.png`, `train/y.png`), a file
/// `model.bin` and a plain folder `src` of code, committed and pushed to a folder remote.
fn project() -> (TestEnv, Remote) {
    let remote = Remote::start(Kind::Folder);
    let env = TestEnv::new();
    env.write("data/f1.csv", "1\n");
    env.write("data/f2.csv", "2\n");
    env.write("data/train/x.png", "x");
    env.write("data/train/y.png", "y");
    env.write("model.bin", "model");
    env.write("src/train.py", "print()\n");
    env.mlv(&["add", "data", "model.bin"]).assert().success();
    remote.add_to(&env);
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "data"]);
    env.mlv(&["push"]).assert().success();
    (env, remote)
}

#[test]
fn a_path_that_selects_no_tracked_data_exits_2_naming_it() {
    let (env, _remote) = project();
    for cmd in FIVE {
        for arg in [
            "data/nope.csv",       // inside a tracked directory, not in its manifest
            "data/train/nope.png", // deeper inside it
            "src",                 // a folder with no pointers
            "nothing/here",        // nothing at all
        ] {
            env.mlv(&[cmd, arg])
                .assert()
                .code(2)
                .stderr(contains(format!("`{arg}`")))
                .stderr(contains("did not match any tracked data"));
        }
        // One good path does not carry a bad one.
        env.mlv(&[cmd, "model.bin", "data/nope.csv"])
            .assert()
            .code(2)
            .stderr(contains("`data/nope.csv`"));
    }
    // The first commit tracks nothing.
    for cmd in ["checkout", "pull", "fetch", "push"] {
        env.mlv(&[cmd, "--rev", "HEAD~1", "data"])
            .assert()
            .code(2)
            .stderr(contains("`data`"));
    }
    // A fresh clone has no manifest yet: fetch and pull learn it, then still refuse.
    let clone = env.clone_repo("clone");
    for cmd in ["fetch", "pull"] {
        clone
            .mlv(&[cmd, "data/nope.csv"])
            .assert()
            .code(2)
            .stderr(contains("`data/nope.csv`"));
    }
    assert!(!clone.exists("data/f1.csv"));
}

#[test]
fn globs_and_excludes_select_files_inside_tracked_directories() {
    let (env, _remote) = project();
    let clone = env.clone_repo("clone");
    clone
        .mlv(&["pull", "data/f1*.csv"])
        .assert()
        .success()
        .stderr(contains("checked out 1 file"));
    assert!(clone.exists("data/f1.csv") && !clone.exists("data/f2.csv"));
    assert!(!clone.exists("model.bin"));
    // `**` crosses folders; `--exclude` takes away, repeatably.
    clone
        .mlv(&["pull", "data/**/*.png", "--exclude", "data/train/y*"])
        .assert()
        .success();
    assert!(clone.exists("data/train/x.png") && !clone.exists("data/train/y.png"));
    // `*` does not cross `/`: `data/*.png` names no file (they are in `train/`).
    for cmd in FIVE {
        clone
            .mlv(&[cmd, "data/*.png"])
            .assert()
            .code(2)
            .stderr(contains("`data/*.png`"));
        // An exclude that takes nothing away is a typo, not a no-op.
        clone
            .mlv(&[cmd, "data", "--exclude", "data/*.txt"])
            .assert()
            .code(2)
            .stderr(contains("`--exclude data/*.txt`"));
    }
    // Everything but the PNGs, from the root: the rest of `data` and `model.bin`.
    clone
        .mlv(&["pull", "--exclude", "**/*.png"])
        .assert()
        .success();
    assert!(clone.exists("data/f2.csv") && clone.exists("model.bin"));
    assert!(!clone.exists("data/train/y.png"));
    // Globs are relative to the current folder, inside a tracked directory too.
    clone
        .mlv_in("data/train", &["pull", "y*"])
        .assert()
        .success();
    assert_eq!(clone.read_str("data/train/y.png"), "y");
    // Status judges only the selected files.
    clone.write("data/f2.csv", "changed");
    clone.write("data/train/x.png", "changed");
    clone
        .mlv(&["status", "data/*.csv"])
        .assert()
        .success()
        .stdout(contains("modified: data/f2.csv"))
        .stdout(contains("x.png").not());
    clone
        .mlv(&["status", "data", "--exclude", "data/*.csv"])
        .assert()
        .success()
        .stdout(contains("modified: data/train/x.png"))
        .stdout(contains("f2.csv").not());
    // Checkout restores only what is selected.
    clone
        .mlv(&["checkout", "--force", "data/**/x.png"])
        .assert()
        .success();
    assert_eq!(clone.read_str("data/train/x.png"), "x");
    assert_eq!(clone.read_str("data/f2.csv"), "changed");
    // Fetch and push take them too.
    clone
        .mlv(&["fetch", "data/*.csv", "--exclude", "data/f1.csv"])
        .assert()
        .success();
    clone.mlv(&["push", "model.*"]).assert().success();
}

#[test]
fn every_command_run_inside_tracked_data_prints_paths_relative_to_it() {
    let (env, _remote) = project();
    env.write("data/f1.csv", "changed\n");
    // The tracked directory itself is `.` from inside it, `..` from below.
    env.mlv_in("data", &["status"])
        .assert()
        .success()
        .stdout(contains(".: modified"))
        .stdout(contains("    modified: f1.csv"))
        .stderr(contains("`git mlv add .` records"));
    env.mlv_in("data/train", &["status"])
        .assert()
        .success()
        .stdout(contains("..: modified"))
        .stdout(contains("modified: ../f1.csv"));
    env.mlv_in("data", &["status", "f1.csv"])
        .assert()
        .success()
        .stdout(contains(".: modified"));
    env.mlv_in("data", &["ls"])
        .assert()
        .success()
        .stdout(contains("files  .\n"))
        .stdout(contains("../model.bin"));
    env.mlv_in("data", &["diff"])
        .assert()
        .success()
        .stdout(contains("modified  f1.csv"));
    env.mlv_in("data", &["add", "."])
        .assert()
        .success()
        .stderr(contains("added . ("))
        .stderr(contains("git add ../data.mlv"));
    env.mlv_in("data", &["push", "f1.csv"]).assert().success();
    env.write("data/f1.csv", "again\n");
    env.mlv_in("data", &["checkout", "f1.csv"])
        .assert()
        .failure()
        .stderr(contains("\n  f1.csv"));
    env.mlv_in("data", &["checkout", "--force", "f1.csv"])
        .assert()
        .success();
    assert_eq!(env.read_str("data/f1.csv"), "changed\n");
    std::fs::remove_file(env.path("data/train/x.png")).unwrap();
    env.mlv_in("data/train", &["pull", "x.png"])
        .assert()
        .success();
    assert_eq!(env.read_str("data/train/x.png"), "x");
    env.mlv_in(
        "data/train",
        &["fetch", "../f*.csv", "--exclude", "../f2.csv"],
    )
    .assert()
    .success();
    env.mlv_in("data/train", &["fsck"]).assert().success();
    env.mlv_in("data/train", &["gc", "--dry-run"])
        .assert()
        .success();
    env.mlv_in("data", &["status", "--check"])
        .assert()
        .success();
}
