//! Any revision: pointers read from git's object database, code files left alone.

use crate::remotes::{Kind, Remote};
use crate::support::TestEnv;
use predicates::str::contains;

/// Three commits, each with another version of the dataset and of `train.py`.
fn history() -> TestEnv {
    let env = TestEnv::new();
    for v in 1..=3 {
        env.make_dataset("data", 3 + v, &format!("v{v}"));
        env.write("train.py", format!("# training code v{v}\n"));
        env.mlv(&["add", "data"]).assert().success();
        env.git(&["add", "-A"]);
        env.git(&["commit", "-qm", &format!("v{v}")]);
    }
    env
}

#[test]
fn checkout_rev_restores_old_data_without_touching_code_or_pointers() {
    let env = history();
    env.write("train.py", "# work in progress\n");
    let pointer = env.read("data.mlv");
    env.mlv(&["checkout", "--rev", "HEAD~2", "data"])
        .assert()
        .success();
    assert_eq!(env.read_str("data/part0/f0.csv"), "v1,0\n");
    assert!(!env.exists("data/part1/f4.csv"), "v1 had 4 files");
    assert_eq!(
        env.read_str("train.py"),
        "# work in progress\n",
        "a modified code file stays modified"
    );
    assert_eq!(env.read("data.mlv"), pointer, "no pointer file changes");
    env.mlv(&["status"])
        .assert()
        .success()
        .stdout(contains("data: out of step"));
    env.mlv(&["checkout"]).assert().success();
    assert_eq!(env.read_str("data/part0/f0.csv"), "v3,0\n");
}

#[test]
fn checkout_rev_to_another_folder() {
    let env = history();
    env.mlv(&["checkout", "--rev", "HEAD~1", "--to", "../snapshot"])
        .assert()
        .success();
    let snap = env.root.parent().unwrap().join("snapshot");
    assert_eq!(
        std::fs::read_to_string(snap.join("data/part1/f4.csv")).unwrap(),
        "v2,4\n"
    );
    assert_eq!(
        env.read_str("data/part0/f0.csv"),
        "v3,0\n",
        "the work tree is untouched"
    );
}

#[test]
fn ls_rev_and_bad_revisions() {
    let env = history();
    let now = env.json(&["ls"]);
    let old = env.json(&["ls", "--rev", "HEAD~2"]);
    assert_eq!(old["artifacts"][0]["files"], 4);
    assert_ne!(old["artifacts"][0]["hash"], now["artifacts"][0]["hash"]);
    env.mlv(&["ls", "--rev", "no-such-branch"])
        .assert()
        .code(2)
        .stderr(contains("`no-such-branch` is not a revision"));
}

#[test]
fn ci_pulls_exactly_the_artifacts_of_a_commit() {
    let remote = Remote::start(Kind::Folder);
    let env = history();
    remote.add_to(&env);
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "remote"]);
    // Push every version, as the pre-push hook would have.
    env.mlv(&[
        "push", "--rev", "HEAD~1", "--rev", "HEAD~2", "--rev", "HEAD~3",
    ])
    .assert()
    .success();
    env.mlv(&["push"]).assert().success();
    let sha = env.git(&["rev-parse", "HEAD~2"]).trim().to_string();
    let runner = env.clone_repo("runner");
    remote.credentials(&runner);
    let pulled = runner.json(&["pull", "--rev", &sha, "data"]);
    assert_eq!(pulled["fetch"]["failed"].as_array().unwrap().len(), 0);
    assert_eq!(runner.read_str("data/part1/f4.csv"), "v2,4\n");
    // fetch for a revision whose pointers are not in the work tree.
    let again = env.clone_repo("again");
    let fetched = again.json(&["fetch", "--rev", "HEAD~3"]);
    assert_eq!(
        fetched["transferred"], 5,
        "a manifest and 4 files: {fetched}"
    );
}

#[test]
fn diff_between_revisions_and_the_workspace() {
    let env = history();
    let d = env.json(&["diff", "HEAD~2", "HEAD~1"]);
    assert_eq!(d["added"][0]["path"], "data/part1/f4.csv");
    assert_eq!(d["modified"].as_array().unwrap().len(), 4, "{d}");
    assert!(d["removed"].as_array().unwrap().is_empty());
    env.write("data/part0/f0.csv", "edited\n");
    std::fs::remove_file(env.path("data/part2/f2.csv")).unwrap();
    env.mlv(&["diff"])
        .assert()
        .success()
        .stdout(contains("modified  data/part0/f0.csv (5 B -> 7 B)"))
        .stdout(contains("removed   data/part2/f2.csv"));
    let out = env
        .mlv(&["diff", "--json", "HEAD", "--", "data/part2"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let only: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert!(only["modified"].as_array().unwrap().is_empty());
    assert_eq!(only["removed"].as_array().unwrap().len(), 1);
}

#[test]
fn shallow_clone_says_history_is_missing_and_submodules_do_not_confuse_it() {
    let env = history();
    let shallow = env.outside().join("shallow");
    let url = format!("file://{}", env.root.display());
    let ok = std::process::Command::new("git")
        .args(["clone", "-q", "--depth", "1", &url])
        .arg(&shallow)
        .status()
        .unwrap();
    assert!(ok.success());
    let mut ls = env.mlv(&["ls", "--rev", "HEAD~1"]);
    ls.current_dir(&shallow);
    ls.assert().code(2).stderr(contains("fetch --unshallow"));
    let mut head = env.mlv(&["ls", "--rev", "HEAD"]);
    head.current_dir(&shallow);
    head.assert().success().stdout(contains("data"));

    // A repository with a submodule: git-mlv works in the superproject.
    let sub = env.outside().join("lib");
    std::fs::create_dir_all(&sub).unwrap();
    let git = |dir: &std::path::Path, args: &[&str]| {
        let out = std::process::Command::new("git")
            .args([
                "-c",
                "user.name=T",
                "-c",
                "user.email=t@e",
                "-c",
                "protocol.file.allow=always",
            ])
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&sub, &["init", "-q"]);
    git(&sub, &["commit", "-q", "--allow-empty", "-m", "lib"]);
    git(
        &env.root,
        &[
            "submodule",
            "add",
            "-q",
            sub.to_str().unwrap(),
            "vendor/lib",
        ],
    );
    env.write("weights.bin", "w");
    env.mlv(&["add", "weights.bin"]).assert().success();
    env.mlv(&["status", "--check"]).assert().success();
    env.mlv_in("vendor", &["ls"])
        .assert()
        .success()
        .stdout(contains("weights.bin"));
}

/// The manifest hash `data.mlv` names at `rev`.
fn manifest_at(env: &TestEnv, rev: &str) -> String {
    let pointer = env.git(&["show", &format!("{rev}:data.mlv")]);
    let line = pointer.lines().find(|l| l.starts_with("hash = ")).unwrap();
    line.trim_start_matches("hash = ")
        .trim_matches('"')
        .to_string()
}

#[test]
fn push_and_fetch_selectors_take_tags_branch_tips_and_every_commit() {
    let env = history();
    env.git(&["tag", "-a", "v1", "-m", "first", "HEAD~2"]);
    let (v1, v2, v3) = (
        manifest_at(&env, "HEAD~2"),
        manifest_at(&env, "HEAD~1"),
        manifest_at(&env, "HEAD"),
    );
    let remote = Remote::start(Kind::Folder);
    remote.add_loose_to(&env);
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "remote"]);
    let on_remote = |h: &str| remote.object_file(h).exists();

    // Tags (annotated ones too) plus the work tree; v2 is on neither.
    env.mlv(&["push", "--all-tags"]).assert().success();
    assert!(on_remote(&v1) && on_remote(&v3) && !on_remote(&v2));
    // The only branch tip is v3, already there.
    let pushed = env.json(&["push", "--all-branches"]);
    assert_eq!(pushed["transferred"], 0, "{pushed}");
    assert!(!on_remote(&v2));
    // Every reachable commit: v2 arrives, with its files.
    env.mlv(&["push", "--all-commits"]).assert().success();
    assert!(on_remote(&v2));
    assert!(remote.object_file(&crate::support::b3(b"v2,4\n")).exists());

    // A clone fetches the same way; a path need exist only at some of the commits.
    let mate = env.clone_repo("mate");
    mate.write("late.bin", "only in the work tree");
    mate.mlv(&["add", "late.bin"]).assert().success();
    mate.mlv(&["fetch", "--all-commits", "data", "late.bin"])
        .assert()
        .success();
    for h in [&v1, &v2, &v3] {
        assert!(mate.object(h).exists(), "{h} fetched");
    }
    mate.mlv(&["fetch", "--all-tags", "nowhere"])
        .assert()
        .code(2)
        .stderr(contains(
            "pathspec `nowhere` did not match any tracked data",
        ));
    mate.mlv(&["pull", "--all-tags"]).assert().code(2);
}

#[test]
fn diff_with_a_side_whose_manifest_is_not_cached_lists_it_only_as_unknown() {
    let env = history();
    let old = env.json(&["ls", "--rev", "HEAD~2"]);
    let manifest = old["artifacts"][0]["hash"].as_str().unwrap().to_string();
    std::fs::remove_file(env.object(&manifest)).unwrap();
    for args in [["diff", "HEAD~2", "HEAD"], ["diff", "HEAD", "HEAD~2"]] {
        let d = env.json(&args);
        for key in ["added", "removed", "modified"] {
            assert!(d[key].as_array().unwrap().is_empty(), "{args:?}: {d}");
        }
        assert_eq!(d["unknown"], serde_json::json!(["data"]), "{d}");
    }
    // Against the workspace too, and the warning names the revision to fetch.
    let d = env.json(&["diff", "HEAD~2"]);
    assert!(d["added"].as_array().unwrap().is_empty(), "{d}");
    env.mlv(&["diff", "HEAD~2"])
        .assert()
        .success()
        .stdout("")
        .stderr(contains("run `git mlv fetch --rev HEAD~2 data`"));
    // A path filter elsewhere leaves it out.
    env.write("model.pkl", "m");
    env.mlv(&["add", "model.pkl"]).assert().success();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "model"]);
    let out = env
        .mlv(&["diff", "--json", "HEAD~3", "HEAD", "--", "model.pkl"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let d: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(d["added"][0]["path"], "model.pkl", "{d}");
    assert!(d["unknown"].as_array().unwrap().is_empty(), "{d}");
}

#[test]
fn ci_recipe_checks_only_the_paths_it_pulled() {
    // docs/ci.md: pull some paths of a commit, then `status --check` the same paths, while
    // other tracked data is deliberately left on the remote.
    let remote = Remote::start(Kind::Folder);
    let env = TestEnv::new();
    remote.add_to(&env);
    env.make_dataset("data/prepared", 3, "prep");
    env.make_dataset("data/raw", 4, "raw");
    env.write("models/model.pkl", "weights");
    env.mlv(&["add", "data/prepared", "data/raw", "models/model.pkl"])
        .assert()
        .success();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "data and model"]);
    env.mlv(&["push"]).assert().success();
    let sha = env.git(&["rev-parse", "HEAD"]).trim().to_string();
    let runner = env.clone_repo("runner");
    remote.credentials(&runner);
    runner
        .mlv(&["pull", "--rev", &sha, "data/prepared", "models/"])
        .assert()
        .success();
    runner
        .mlv(&["status", "--check", "data/prepared", "models/"])
        .assert()
        .success();
    // The whole repository is not clean: data/raw was not pulled.
    runner
        .mlv(&["status", "--check"])
        .assert()
        .code(1)
        .stdout(contains("data/raw: missing from workspace"));
}

#[test]
fn diff_against_the_workspace_walks_each_tracked_path_and_lists_changes_by_path() {
    let env = history();
    env.write("model.pkl", "m");
    env.mlv(&["add", "model.pkl"]).assert().success();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "model"]);
    env.write("data/part0/f0.csv", "edited\n");
    std::fs::remove_file(env.path("data/part2/f2.csv")).unwrap();
    env.write("data/new/deep/x.csv", "x\n");
    env.write("data/a.csv", "a\n");
    env.write("model.pkl", "m2");
    std::os::unix::fs::symlink("/nowhere", env.path("data/link")).unwrap();
    let paths = |d: &serde_json::Value, key: &str| -> Vec<String> {
        let list = d[key].as_array().unwrap().iter();
        list.map(|c| c["path"].as_str().unwrap().to_string())
            .collect()
    };
    let d = env.json(&["diff"]);
    assert_eq!(paths(&d, "added"), ["data/a.csv", "data/new/deep/x.csv"]);
    assert_eq!(paths(&d, "removed"), ["data/part2/f2.csv"]);
    assert_eq!(paths(&d, "modified"), ["data/part0/f0.csv", "model.pkl"]);
    assert_eq!(d["modified"][1]["new_size"], 2, "{d}");
    // A tracked file that became a folder: the file removed, the folder's files added.
    std::fs::remove_file(env.path("model.pkl")).unwrap();
    env.write("model.pkl/m", "m");
    let out = env
        .mlv(&["diff", "--json", "HEAD", "--", "model.pkl"])
        .output()
        .unwrap();
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(paths(&d, "added"), ["model.pkl/m"]);
    assert_eq!(paths(&d, "removed"), ["model.pkl"]);
    // Gone altogether.
    std::fs::remove_dir_all(env.path("model.pkl")).unwrap();
    let d = env.json(&["diff"]);
    assert_eq!(paths(&d, "removed"), ["data/part2/f2.csv", "model.pkl"]);
}
