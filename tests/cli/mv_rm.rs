//! `git mlv mv` and `git mlv rm`: moving and untracking data, with its pointer and
//! `.gitignore` entry, and telling the user the exact `git add` that records it.

use crate::support::TestEnv;
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;

/// The command inside the backticks of the `hint:` line that starts with `git add`.
fn staging_hint(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let line = text
        .lines()
        .find(|l| l.starts_with("hint:") && l.contains("`git add"))
        .unwrap_or_else(|| panic!("no `git add` hint in:\n{text}"));
    line.split('`').nth(1).unwrap().to_string()
}

/// True when the `.gitignore` at `file` exists and has `line`.
fn ignores(env: &TestEnv, file: &str, line: &str) -> bool {
    env.exists(file) && env.read_str(file).lines().any(|l| l == line)
}

fn run_hint(env: &TestEnv, dir: &str, hint: &str) {
    let out = std::process::Command::new("sh")
        .args(["-c", hint])
        .current_dir(env.path(dir))
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "`{hint}` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn mv_moves_data_pointer_and_gitignore_entry_and_keeps_the_hash() {
    let env = TestEnv::new();
    env.make_dataset("data", 6, "x");
    env.mlv(&["add", "-q", "data"]).assert().success();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "data"]);
    let hash = env.pointer_hash("data");

    let out = env.mlv(&["mv", "data", "sets/train"]).assert().success();
    let hint = staging_hint(&out.get_output().stderr);
    assert!(env.path("sets/train/part0/f0.csv").is_file());
    assert!(!env.exists("data") && !env.exists("data.mlv"));
    assert_eq!(env.pointer_hash("sets/train"), hash, "the hash is kept");
    assert!(
        !ignores(&env, ".gitignore", "/data"),
        "an emptied .gitignore goes"
    );
    assert_eq!(env.read_str("sets/.gitignore"), "/train\n");
    // Nothing staged; git offers the pointer and .gitignore changes, never the data.
    let status = env.git(&["status", "--porcelain", "--untracked-files=all"]);
    assert!(env.git(&["diff", "--cached", "--name-only"]).is_empty());
    assert!(
        status.contains(" D data.mlv")
            && status.contains("?? sets/train.mlv")
            && status.contains("?? sets/.gitignore")
            && !status.contains("sets/train/"),
        "{status}"
    );
    run_hint(&env, ".", &hint);
    env.git(&["commit", "-qm", "move data"]);
    assert!(
        env.git(&["status", "--porcelain", "--untracked-files=all"])
            .is_empty(),
        "the hint covered every change"
    );
    env.mlv(&["status", "--check"]).assert().success();
    // The old commit still checks out.
    env.git(&["checkout", "-q", "HEAD~1"]);
    env.mlv(&["checkout"]).assert().success();
    assert_eq!(env.read_str("data/part0/f0.csv"), "x,0\n");
    env.mlv(&["status", "--check", "data"]).assert().success();
}

#[test]
fn mv_of_a_file_from_a_sub_folder_reports_json() {
    let env = TestEnv::new();
    env.write("models/model.pkl", "weights");
    env.mlv(&["add", "-q", "models/model.pkl"])
        .assert()
        .success();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "model"]);
    let out = env
        .mlv_in("models", &["mv", "model.pkl", "old/model-v1.pkl", "--json"])
        .assert()
        .success();
    let json: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(json["moved"]["from"], "models/model.pkl", "{json}");
    assert_eq!(json["moved"]["to"], "models/old/model-v1.pkl", "{json}");
    assert_eq!(env.read_str("models/old/model-v1.pkl"), "weights");
    assert_eq!(env.read_str("models/old/.gitignore"), "/model-v1.pkl\n");
    assert!(!ignores(&env, "models/.gitignore", "/model.pkl"));
    // From the sub-folder, the hint's paths are relative to it.
    let out = env
        .mlv_in("models", &["mv", "old/model-v1.pkl", "m.pkl"])
        .assert()
        .success();
    run_hint(&env, "models", &staging_hint(&out.get_output().stderr));
    env.git(&["commit", "-qm", "moved"]);
    env.mlv(&["status", "--check"]).assert().success();
}

#[test]
fn mv_refuses_a_destination_that_is_taken_reserved_or_outside() {
    let env = TestEnv::new();
    env.write("model.pkl", "weights");
    env.write("data/a.csv", "a");
    env.write("notes.txt", "code");
    env.mlv(&["add", "-q", "model.pkl", "data"])
        .assert()
        .success();
    for (dst, why) in [
        (".git/x", ".git"),
        ("sub/.GIT/x", ".git"),
        (".mlv/x", ".mlv"),
        ("../outside", "outside the repository"),
        ("notes.txt", "already exists"),
        ("data/m.pkl", "inside `data`"),
    ] {
        env.mlv(&["mv", "model.pkl", dst])
            .assert()
            .code(2)
            .stderr(contains(why));
    }
    env.mlv(&["mv", "data", "data/inner"]).assert().code(2);
    env.mlv(&["mv", "data/a.csv", "a.csv"])
        .assert()
        .code(2)
        .stderr(contains("inside `data`"));
    env.mlv(&["mv", "notes.txt", "n.txt"])
        .assert()
        .code(2)
        .stderr(contains("not tracked"));
    assert!(!env.root.parent().unwrap().join("outside").exists());
    assert_eq!(env.read_str("model.pkl"), "weights");
    assert!(env.exists("model.pkl.mlv") && ignores(&env, ".gitignore", "/model.pkl"));
}

#[test]
fn rm_untracks_and_deletes_only_data_that_is_safe_in_the_cache() {
    let env = TestEnv::new();
    env.make_dataset("data", 4, "x");
    env.write("model.pkl", "weights");
    env.mlv(&["add", "-q", "data", "model.pkl"])
        .assert()
        .success();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "data"]);

    // One changed file stops the whole directory's removal.
    env.write("data/part1/f1.csv", "edited\n");
    env.mlv(&["rm", "data"])
        .assert()
        .code(1)
        .stderr(contains("data/part1/f1.csv").and(contains("nothing was changed")));
    assert!(env.exists("data.mlv") && env.exists("data/part0/f0.csv"));
    env.write("data/part1/f1.csv", "x,1\n");
    // Ignored files are not data: they stay, with the folders holding them.
    env.write(".mlvignore", "*.tmp\n");
    env.write("data/part2/scratch.tmp", "mine");

    let out = env.mlv(&["rm", "data"]).assert().success();
    let hint = staging_hint(&out.get_output().stderr);
    assert!(!env.exists("data.mlv") && !env.exists("data/part0"));
    assert_eq!(env.read_str("data/part2/scratch.tmp"), "mine");
    std::fs::remove_dir_all(env.path("data")).unwrap();
    std::fs::remove_file(env.path(".mlvignore")).unwrap();
    assert!(!ignores(&env, ".gitignore", "/data") && ignores(&env, ".gitignore", "/model.pkl"));
    let status = env.json(&["status"]);
    assert_eq!(status["artifacts"].as_array().unwrap().len(), 1, "{status}");
    run_hint(&env, ".", &hint);
    env.git(&["commit", "-qm", "rm data"]);
    assert!(
        env.git(&["status", "--porcelain", "--untracked-files=all"])
            .is_empty()
    );

    // Changed bytes the cache lacks are never deleted.
    env.write("model.pkl", "retrained, not added");
    env.mlv(&["rm", "model.pkl"])
        .assert()
        .code(1)
        .stderr(contains("model.pkl").and(contains("--keep-data")));
    assert!(env.exists("model.pkl.mlv"));
    let json = env.json(&["rm", "--keep-data", "model.pkl"]);
    assert_eq!(json["removed"]["path"], "model.pkl", "{json}");
    assert_eq!(json["removed"]["data_deleted"], false, "{json}");
    assert_eq!(env.read_str("model.pkl"), "retrained, not added");
    assert!(!env.exists("model.pkl.mlv"));
    assert!(!ignores(&env, ".gitignore", "/model.pkl"));
    env.mlv(&["rm", "model.pkl"])
        .assert()
        .code(2)
        .stderr(contains("not tracked"));
}
