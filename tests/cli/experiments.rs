//! Experiments: `exp run` sweeps in worktrees of their own (the user's branch, index and
//! work tree untouched), failures and SIGKILL recorded and rerun, `exp show`, `exp apply`
//! (refused over unsaved work as checkout is), `exp branch`/`remove`/`push`/`pull`, and
//! experiment names as revisions.

use crate::support::TestEnv;
use predicates::str::contains;
use std::os::unix::process::CommandExt;

/// One stage: `train.sh` reads `train.rate` from `params.toml`, fails when it is -1, waits
/// while the file `$HOLD` exists (so a test can kill it mid-stage), and writes `model.bin`
/// (from the tracked `data.txt`) and `metrics.json` (`score` = the rate).
const PIPELINE: &str = r#"
[stages.train]
cmd = "sh train.sh"
deps = ["data.txt", "train.sh"]
params = ["params.toml:train"]
outs = ["model.bin"]
metrics = ["metrics.json"]
"#;

const TRAIN: &str = r#"rate=$(sed -n 's/^rate = \([^ ]*\).*/\1/p' params.toml)
[ "$rate" = "-1" ] && { echo "bad rate" >&2; exit 1; }
if [ -n "$HOLD" ] && [ -f "$HOLD" ]; then touch "$HOLD.started"; while [ -f "$HOLD" ]; do sleep 0.05; done; fi
{ cat data.txt; echo "rate $rate"; } > model.bin
printf '{"score": %s}' "$rate" > metrics.json
"#;

/// A committed pipeline whose data (`data.txt`) is tracked by git-mlv, run once.
fn exp_env() -> TestEnv {
    exp_env_with(TestEnv::new())
}

fn exp_env_with(env: TestEnv) -> TestEnv {
    env.write("mlv.toml", PIPELINE);
    env.write("train.sh", TRAIN);
    env.write("params.toml", "# knobs\n[train]\nrate = 0.5 # the rate\n");
    env.write("data.txt", "some data\n");
    env.mlv(&["add", "data.txt"]).assert().success();
    env.mlv(&["run"]).assert().success();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "pipeline"]);
    env
}

/// What the user's side looks like: status, HEAD, index, branch, worktrees.
fn user_state(env: &TestEnv) -> Vec<String> {
    [
        &["status", "--porcelain", "--ignored"][..],
        &["rev-parse", "HEAD"],
        &["ls-files", "-s"],
        &["symbolic-ref", "HEAD"],
        &["worktree", "list", "--porcelain"],
    ]
    .iter()
    .map(|a| env.git(a))
    .collect()
}

fn experiments(env: &TestEnv) -> Vec<serde_json::Value> {
    env.json(&["exp", "show"])["experiments"]
        .as_array()
        .unwrap()
        .clone()
}

fn find<'a>(all: &'a [serde_json::Value], name: &str) -> &'a serde_json::Value {
    all.iter().find(|e| e["name"] == name).unwrap()
}

#[test]
fn a_sweep_leaves_the_user_tree_alone_and_records_one_commit_each() {
    let env = exp_env();
    let before = user_state(&env);
    let model = env.read("model.bin");
    env.mlv(&["exp", "run", "-S", "train.rate=0.1,0.3", "-j", "2"])
        .assert()
        .success()
        .stderr(contains("experiment `exp-2` done"));
    assert_eq!(user_state(&env), before);
    assert_eq!(env.read("model.bin"), model);
    let head = env.git(&["rev-parse", "HEAD"]);
    let all = experiments(&env);
    assert_eq!(all.len(), 2);
    for (name, rate) in [("exp-1", 0.1), ("exp-2", 0.3)] {
        let e = find(&all, name);
        let keys: Vec<&String> = e.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["metrics", "name", "params", "rev", "status"]);
        assert_eq!(e["status"], "done");
        assert_eq!(e["params"]["params.toml"]["train.rate"], rate);
        assert_eq!(e["metrics"]["metrics.json"]["score"], rate);
        let rev = e["rev"].as_str().unwrap();
        assert_eq!(
            env.git(&["rev-parse", &format!("refs/mlv/exps/{name}")])
                .trim(),
            rev
        );
        assert_eq!(env.git(&["rev-parse", &format!("{rev}^")]), head);
        // The commit holds the edited params (formatting kept), the lock and the pointer.
        let params = env.git(&["show", &format!("{rev}:params.toml")]);
        assert_eq!(
            params,
            format!("# knobs\n[train]\nrate = {rate} # the rate\n")
        );
        assert!(
            env.git(&["show", &format!("{rev}:mlv.lock")])
                .contains("model.bin")
        );
        env.git(&["cat-file", "-e", &format!("{rev}:model.bin.mlv")]);
    }
    // No worktree, record or log is left behind.
    assert!(!env.path(".git/mlv/exps/wt/exp-1").exists());
    assert!(!env.path(".git/mlv/exps/state/exp-1.json").exists());
    // The table names the changed param and the metric.
    env.mlv(&["exp", "show"])
        .assert()
        .success()
        .stdout(contains("params.toml:train.rate").and(contains("metrics.json:score")));
    let sorted = env.json(&["exp", "show", "--sort-by", "score", "--sort-order", "desc"]);
    assert_eq!(sorted["experiments"][0]["name"], "exp-2");
}

use predicates::prelude::PredicateBooleanExt;

#[test]
fn experiment_names_work_as_revisions() {
    let env = exp_env();
    env.mlv(&["exp", "run", "-S", "train.rate=0.1,0.3"])
        .assert()
        .success();
    let diff = env.json(&["metrics", "diff", "exp-1", "refs/mlv/exps/exp-2"]);
    assert!(diff.to_string().contains("0.3"), "{diff}");
    // The data of an experiment checks out like any revision's.
    env.mlv(&["checkout", "--rev", "exp-2"]).assert().success();
    assert!(env.read_str("model.bin").ends_with("rate 0.3\n"));
    env.mlv(&["metrics", "diff", "exp-9"])
        .assert()
        .code(2)
        .stderr(contains("`exp-9` is not a revision"));
}

#[test]
fn a_failing_experiment_is_recorded_as_failed_and_the_others_finish() {
    let env = exp_env();
    let before = user_state(&env);
    env.mlv(&[
        "exp",
        "run",
        "-S",
        "train.rate=-1,0.2",
        "--name",
        "f",
        "-j",
        "1",
    ])
    .assert()
    .code(1)
    .stderr(contains("experiment `f-1` failed").and(contains("1 experiment of 2 failed: f-1")));
    assert_eq!(user_state(&env), before);
    let all = experiments(&env);
    assert_eq!(find(&all, "f-1")["status"], "failed");
    assert_eq!(find(&all, "f-1")["rev"], serde_json::Value::Null);
    assert_eq!(find(&all, "f-1")["params"]["params.toml"]["train.rate"], -1);
    assert_eq!(find(&all, "f-2")["status"], "done");
    // Its log keeps what the stage said; `--run-all` does not retry a failed one.
    assert!(
        env.read_str(".git/mlv/exps/state/f-1.log")
            .contains("bad rate")
    );
    env.mlv(&["exp", "run", "--run-all"])
        .assert()
        .success()
        .stderr(contains("no queued or interrupted experiment"));
    env.mlv(&["exp", "apply", "f-1"])
        .assert()
        .code(2)
        .stderr(contains("experiment `f-1` is failed"));
}

#[test]
fn a_sweep_killed_mid_stage_leaves_the_user_tree_alone_and_a_rerun_completes_it() {
    let env = exp_env();
    let before = user_state(&env);
    let hold = env.outside().join("hold");
    std::fs::create_dir_all(env.outside()).unwrap();
    std::fs::write(&hold, "").unwrap();
    let mut child = env
        .mlv_std(&["exp", "run", "-S", "train.rate=0.7,0.8", "--name", "k"])
        .env("HOLD", &hold)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let started = hold.with_extension("started");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !started.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the stage never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // The whole process group: git-mlv, its `git mlv run` and the stage's shell.
    let group = format!("-{}", child.id());
    assert!(
        std::process::Command::new("kill")
            .args(["-KILL", "--", &group])
            .status()
            .unwrap()
            .success()
    );
    child.wait().unwrap();
    assert_eq!(user_state(&env)[..4], before[..4]);
    let all = experiments(&env);
    assert_eq!(find(&all, "k-1")["status"], "interrupted");
    assert_eq!(find(&all, "k-2")["status"], "queued");
    std::fs::remove_file(&hold).unwrap();
    env.mlv(&["exp", "run", "--run-all", "-j", "2"])
        .assert()
        .success();
    let all = experiments(&env);
    assert_eq!(find(&all, "k-1")["status"], "done");
    assert_eq!(find(&all, "k-2")["metrics"]["metrics.json"]["score"], 0.8);
    // The killed run's worktree is gone, and git knows no stale one.
    assert_eq!(user_state(&env), before);
    assert!(!env.path(".git/mlv/exps/wt/k-1").exists());
}

#[test]
fn queued_experiments_run_with_run_all() {
    let env = exp_env();
    // An experiment starts from HEAD's commit, and says so when the pipeline has changes.
    env.write("params.toml", "[train]\nrate = 7\n");
    env.mlv(&["exp", "run", "--queue", "-S", "train.rate=0.4"])
        .assert()
        .success()
        .stderr(contains(
            "uncommitted changes to `params.toml` are not part of them",
        ));
    env.git(&["checkout", "params.toml"]);
    assert_eq!(experiments(&env)[0]["status"], "queued");
    // Running the same request again is refused: the name is taken by the queued one.
    env.mlv(&[
        "exp",
        "run",
        "--queue",
        "-S",
        "train.rate=0.5",
        "--name",
        "exp-1",
    ])
    .assert()
    .code(2)
    .stderr(contains("git mlv exp run --run-all"));
    let ran = env.json(&["exp", "run", "--run-all"]);
    assert_eq!(ran["experiments"][0]["name"], "exp-1");
    assert_eq!(ran["experiments"][0]["status"], "done");
    let rev = ran["experiments"][0]["rev"].as_str().unwrap();
    assert_eq!(experiments(&env)[0]["status"], "done");
    assert_eq!(experiments(&env)[0]["rev"], rev);
}

#[test]
fn exp_apply_over_unsaved_work_is_refused_as_checkout_refuses_it() {
    let env = exp_env();
    env.mlv(&["exp", "run", "-S", "train.rate=0.3"])
        .assert()
        .success();
    env.write("model.bin", "my unsaved model\n");
    let checkout = env.mlv(&["checkout", "--rev", "exp-1"]).assert().code(1);
    let expected = String::from_utf8_lossy(&checkout.get_output().stderr).to_string();
    assert!(expected.contains("nothing was changed"), "{expected}");
    let params = env.read_str("params.toml");
    let apply = env.mlv(&["exp", "apply", "exp-1"]).assert().code(1);
    assert_eq!(
        String::from_utf8_lossy(&apply.get_output().stderr),
        expected
    );
    assert_eq!(env.read_str("model.bin"), "my unsaved model\n");
    assert_eq!(env.read_str("params.toml"), params);
    // Unsaved edits to a file the experiment changed are refused too.
    env.mlv(&["checkout", "--force"]).assert().success();
    env.write("params.toml", "[train]\nrate = 9\n");
    env.mlv(&["exp", "apply", "exp-1"])
        .assert()
        .code(1)
        .stderr(contains("nothing was changed").and(contains("params.toml")));
    assert_eq!(env.read_str("params.toml"), "[train]\nrate = 9\n");
}

#[test]
fn exp_apply_puts_the_params_pointers_and_data_in_the_work_tree() {
    let env = exp_env();
    env.mlv(&["exp", "run", "-S", "train.rate=0.3"])
        .assert()
        .success();
    env.mlv(&["exp", "apply", "exp-1"]).assert().success();
    let diff = env.git(&["diff"]);
    assert!(
        diff.contains("-rate = 0.5 # the rate") && diff.contains("+rate = 0.3 # the rate"),
        "{diff}"
    );
    assert!(
        diff.contains("model.bin.mlv") && diff.contains("mlv.lock"),
        "{diff}"
    );
    assert_eq!(env.git(&["diff", "--cached"]), "");
    assert!(env.read_str("model.bin").ends_with("rate 0.3\n"));
    // The work tree now matches its pointers and lock: nothing stale.
    env.mlv(&["status"]).assert().success();
    let run = env.json(&["run"]);
    assert_eq!(run["stages"][0]["action"], "skipped");
}

#[test]
fn exp_branch_and_remove() {
    let env = exp_env();
    env.mlv(&["exp", "run", "-S", "train.rate=0.1,0.3"])
        .assert()
        .success();
    env.mlv(&["exp", "branch", "exp-1", "try-lr"])
        .assert()
        .success();
    assert_eq!(
        env.git(&["rev-parse", "try-lr"]),
        env.git(&["rev-parse", "refs/mlv/exps/exp-1"])
    );
    env.mlv(&["exp", "branch", "exp-1", "try-lr"])
        .assert()
        .code(2);
    env.mlv(&["exp", "branch", "nope", "x"]).assert().code(2);
    env.mlv(&["exp", "remove", "exp-1", "nope"])
        .assert()
        .code(2);
    assert_eq!(experiments(&env).len(), 2, "a typo removes nothing");
    env.mlv(&["exp", "remove", "exp-1"]).assert().success();
    let all = experiments(&env);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["name"], "exp-2");
    assert!(
        env.git_output(&["rev-parse", "--verify", "refs/mlv/exps/exp-1"])
            .status
            .code()
            != Some(0)
    );
    // The branch outlives the experiment.
    env.git(&["rev-parse", "try-lr"]);
}

#[test]
fn exp_push_and_pull_share_refs_and_data_between_clones() {
    let env = exp_env();
    env.add_folder_remote();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "remote"]);
    let bare = env.outside().join("origin.git");
    env.git(&["init", "-q", "--bare", bare.to_str().unwrap()]);
    env.git(&["remote", "add", "origin", bare.to_str().unwrap()]);
    env.git(&["push", "-q", "origin", "main"]);
    env.mlv(&["push"]).assert().success();
    // No experiment yet: nothing moves (not the work tree's data either).
    let none = env.json(&["exp", "push", "origin"]);
    assert_eq!(none["experiments"], 0);
    env.mlv(&["exp", "run", "-S", "train.rate=0.1,0.3"])
        .assert()
        .success();
    env.mlv(&["exp", "push", "origin"]).assert().success();
    let other = env.clone_repo("other");
    other.git(&["remote", "set-url", "origin", bare.to_str().unwrap()]);
    other
        .mlv(&["exp", "pull", "origin", "exp-2"])
        .assert()
        .success();
    let all = experiments(&other);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["metrics"]["metrics.json"]["score"], 0.3);
    // Its data came from the git-mlv remote: the checkout needs no network.
    other
        .mlv(&["checkout", "--rev", "exp-2"])
        .assert()
        .success();
    assert!(other.read_str("model.bin").ends_with("rate 0.3\n"));
    other.mlv(&["exp", "pull", "origin"]).assert().success();
    assert_eq!(experiments(&other).len(), 2);
}

#[test]
fn hostile_names_and_params_files_are_refused_and_nothing_is_written() {
    let env = exp_env();
    std::fs::create_dir_all(env.outside()).unwrap();
    std::fs::write(env.outside().join("p.toml"), "a = 1\n").unwrap();
    for args in [
        &["exp", "run", "--name", "../x", "-S", "train.rate=1"][..],
        &["exp", "run", "--name", "a/b", "-S", "train.rate=1"],
        &["exp", "run", "-S", "../outside/p.toml:a=2"],
        &["exp", "run", "-S", ".git/config:core.bare=true"],
        &["exp", "run", "-S", "nokey=1"],
        &["exp", "run", "-S", "train.rate"],
        &["exp", "run", "-S", "params.toml:train.rate.x=1"],
    ] {
        env.mlv(args).assert().code(2);
    }
    assert!(!env.path(".git/mlv/exps").exists());
    assert_eq!(env.git(&["for-each-ref", "refs/mlv/"]), "");
    assert_eq!(
        std::fs::read_to_string(env.outside().join("p.toml")).unwrap(),
        "a = 1\n"
    );
    env.mlv(&["exp", "apply", "../x"]).assert().code(2);
}

#[test]
fn an_experiment_uses_the_cache_a_relative_local_cache_dir_names() {
    let env = TestEnv::new();
    env.mlv(&["init"]).assert().success();
    env.write(".mlv/config.local.toml", "[cache]\ndir = \"../mycache\"\n");
    let env = exp_env_with(env);
    env.mlv(&["exp", "run", "-S", "train.rate=0.3"])
        .assert()
        .success();
    let rev = env.git(&["rev-parse", "refs/mlv/exps/exp-1"]);
    let pointer = env.git(&["show", &format!("{}:model.bin.mlv", rev.trim())]);
    let hash = pointer
        .lines()
        .find_map(|l| l.strip_prefix("hash = \"b3:"))
        .unwrap()
        .trim_end_matches('"');
    let mycache = env.root.parent().unwrap().join("mycache");
    let object = mycache.join("b3").join(&hash[..2]).join(&hash[2..]);
    assert!(
        object.exists(),
        "the experiment's model is in `{}`",
        mycache.display()
    );
    // Nothing of the local settings is committed.
    assert!(
        env.git_output(&[
            "cat-file",
            "-e",
            &format!("{}:.mlv/config.local.toml", rev.trim())
        ])
        .status
        .code()
            != Some(0)
    );
}

#[test]
fn run_all_drops_the_record_of_one_killed_after_its_ref_was_written() {
    let env = exp_env();
    env.mlv(&["exp", "run", "-S", "train.rate=0.4"])
        .assert()
        .success();
    let rev = env.git(&["rev-parse", "refs/mlv/exps/exp-1"]);
    // What a SIGKILL between the ref and the record's removal leaves.
    let base = env.git(&["rev-parse", "HEAD"]);
    env.write(
        ".git/mlv/exps/state/exp-1.json",
        format!(
            r#"{{"name": "exp-1", "base": "{}", "params": [], "status": "running"}}"#,
            base.trim()
        ),
    );
    env.mlv(&["exp", "run", "--run-all"])
        .assert()
        .success()
        .stderr(contains("no queued or interrupted experiment"));
    assert_eq!(env.git(&["rev-parse", "refs/mlv/exps/exp-1"]), rev);
    assert!(!env.exists(".git/mlv/exps/state/exp-1.json"));
    assert_eq!(experiments(&env)[0]["status"], "done");
}
