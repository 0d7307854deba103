//! The pipeline: `git mlv run` in dependency order against `mlv.lock`, the run cache,
//! failures, `status` of stale stages, `lineage` at revisions and the pre-commit check.

use crate::support::TestEnv;
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;

/// Two stages declared consumer first (names sort the wrong way round too): `b_prepare`
/// upper-cases `raw.txt` into `prepared/`, `a_train` counts its bytes into `model.bin`
/// and writes `metrics.json`. Each appends its name to `log.txt`, so tests see what ran.
const PIPELINE: &str = r#"
[stages.a_train]
cmd = "echo a_train >> log.txt && cat prepared/data.txt params.toml | wc -c > model.bin && printf '{\"eval\": {\"size\": %s}}' $(cat model.bin) > metrics.json"
deps = ["prepared"]
params = ["params.toml:train"]
outs = ["model.bin"]
metrics = ["metrics.json"]

[stages.b_prepare]
cmd = "echo b_prepare >> log.txt && mkdir -p prepared && tr a-z A-Z < raw.txt > prepared/data.txt"
deps = ["raw.txt"]
params = ["params.toml:prepare.mode"]
outs = ["prepared"]
"#;

fn pipeline_env() -> TestEnv {
    let env = TestEnv::new();
    env.write("mlv.toml", PIPELINE);
    env.write("raw.txt", "hello data\n");
    env.write(
        "params.toml",
        "[prepare]\nmode = 1\n\n[train]\nrate = 0.5\n",
    );
    env
}

fn log(env: &TestEnv) -> Vec<String> {
    if !env.exists("log.txt") {
        return vec![];
    }
    env.read_str("log.txt").lines().map(str::to_owned).collect()
}

fn actions(v: &serde_json::Value) -> Vec<(String, String)> {
    v["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["stage"].as_str().unwrap().to_string(),
                s["action"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pair(stage: &str, action: &str) -> (String, String) {
    (stage.to_string(), action.to_string())
}

#[test]
fn stages_run_in_dependency_order_then_are_skipped_when_nothing_changed() {
    let env = pipeline_env();
    env.mlv(&["run"])
        .assert()
        .success()
        .stderr(contains("running stage `b_prepare`"));
    assert_eq!(log(&env), ["b_prepare", "a_train"]);
    assert_eq!(env.read_str("prepared/data.txt"), "HELLO DATA\n");
    // Outs are tracked like `add`: pointer, .gitignore line, bytes in the cache.
    let model = env.pointer_hash("model.bin");
    assert!(env.object(&model).exists());
    assert!(env.exists("prepared.mlv"));
    let ignore = env.read_str(".gitignore");
    assert!(ignore.contains("/model.bin") && ignore.contains("/prepared"));
    // Metrics stay in git as a small file, their bytes also in the cache.
    assert!(!ignore.contains("metrics.json"));
    let metrics_hash = crate::support::b3(&env.read("metrics.json"));
    assert!(env.object(&metrics_hash).exists());
    let lock = env.read_str("mlv.lock");
    assert!(lock.contains(&model) && lock.contains(&metrics_hash));
    assert!(lock.contains(&crate::support::b3(b"hello data\n")));

    let again = env.json(&["run"]);
    assert_eq!(
        actions(&again),
        [pair("b_prepare", "skipped"), pair("a_train", "skipped")]
    );
    assert_eq!(log(&env).len(), 2, "nothing ran the second time");
    assert_eq!(env.read_str("mlv.lock"), lock, "the lock is byte-stable");
}

#[test]
fn a_stage_reruns_when_a_dep_a_param_or_its_command_changes() {
    let env = pipeline_env();
    env.mlv(&["run"]).assert().success();

    env.write(
        "params.toml",
        "[prepare]\nmode = 1\n\n[train]\nrate = 0.9\n",
    );
    let v = env.json(&["run"]);
    assert_eq!(
        actions(&v),
        [pair("b_prepare", "skipped"), pair("a_train", "ran")],
        "only the stage reading the changed param runs"
    );
    assert_eq!(
        v["stages"][1]["reasons"][0],
        "params in `params.toml` changed"
    );

    env.write("raw.txt", "new data\n");
    env.mlv(&["run", "--dry-run"])
        .assert()
        .success()
        .stderr(contains("would run stage `b_prepare`"))
        .stderr(contains("upstream stage `b_prepare` runs first"));
    assert_eq!(log(&env).len(), 3, "--dry-run runs nothing");
    let v = env.json(&["run", "a_train"]);
    assert_eq!(
        actions(&v),
        [pair("b_prepare", "ran"), pair("a_train", "ran")],
        "the stale upstream stage runs first"
    );
    assert_eq!(env.read_str("prepared/data.txt"), "NEW DATA\n");

    let toml = env
        .read_str("mlv.toml")
        .replace("echo b_prepare", "echo  b_prepare");
    env.write("mlv.toml", toml);
    let v = env.json(&["run", "b_prepare"]);
    assert_eq!(actions(&v), [pair("b_prepare", "ran")]);
    assert_eq!(v["stages"][0]["reasons"][0], "command changed");
}

#[test]
fn the_run_cache_restores_outs_of_an_earlier_identical_run() {
    let env = pipeline_env();
    env.mlv(&["run"]).assert().success();
    let first_model = env.read("model.bin");
    let first_metrics = env.read("metrics.json");
    env.write("raw.txt", "other data, longer\n");
    env.mlv(&["run"]).assert().success();
    assert_ne!(env.read("model.bin"), first_model);
    env.write("raw.txt", "hello data\n");
    let v = env.json(&["run"]);
    assert_eq!(
        actions(&v),
        [pair("b_prepare", "restored"), pair("a_train", "restored")]
    );
    assert_eq!(log(&env).len(), 4, "restored stages did not run");
    assert_eq!(env.read("model.bin"), first_model);
    assert_eq!(env.read("metrics.json"), first_metrics);
    assert_eq!(env.read_str("prepared/data.txt"), "HELLO DATA\n");
    env.mlv(&["status", "--check"]).assert().success();

    let v = env.json(&["run", "--force"]);
    assert_eq!(
        actions(&v),
        [pair("b_prepare", "ran"), pair("a_train", "ran")]
    );
}

#[test]
fn a_failing_command_names_the_stage_and_records_nothing_for_it() {
    let env = pipeline_env();
    let failing = PIPELINE.replace("echo a_train >> log.txt &&", "test ! -e FAIL &&");
    env.write("mlv.toml", &failing);
    env.write("FAIL", "");
    env.mlv(&["run"])
        .assert()
        .code(1)
        .stderr(contains("stage `a_train` failed"))
        .stderr(contains("exited with status 1"));
    let lock = env.read_str("mlv.lock");
    assert!(
        lock.contains("[stages.b_prepare]"),
        "the stage that succeeded is recorded"
    );
    assert!(!lock.contains("a_train"));
    assert!(!env.exists("model.bin.mlv"));

    std::fs::remove_file(env.path("FAIL")).unwrap();
    env.mlv(&["run"]).assert().success();
    let lock = env.read_str("mlv.lock");
    let model = env.pointer_hash("model.bin");
    env.write("FAIL", "");
    env.write("params.toml", "[prepare]\nmode = 1\n\n[train]\nrate = 2\n");
    env.mlv(&["run"]).assert().code(1);
    assert_eq!(env.read_str("mlv.lock"), lock, "mlv.lock untouched");
    assert_eq!(
        env.pointer_hash("model.bin"),
        model,
        "the out's pointer untouched"
    );
}

#[test]
fn independent_stages_run_at_the_same_time_with_jobs() {
    let env = TestEnv::new();
    // Each stage waits for the other to have started: only parallel runs can finish.
    let stage = |me: &str, other: &str| {
        format!(
            "[stages.{me}]\ncmd = \"touch {me}.started; i=0; while [ ! -e {other}.started ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; test -e {other}.started && echo {me} > {me}.out\"\nouts = [\"{me}.out\"]\n"
        )
    };
    env.write(
        "mlv.toml",
        format!("{}{}", stage("left", "right"), stage("right", "left")),
    );
    env.mlv(&["run", "-j", "2"]).assert().success();
    assert_eq!(env.read_str("left.out"), "left\n");
    assert_eq!(env.read_str("right.out"), "right\n");
}

#[test]
fn the_commands_output_streams_through() {
    let env = TestEnv::new();
    env.write(
        "mlv.toml",
        "[stages.hello]\ncmd = \"echo hello-from-the-stage > out.txt; echo hello-from-the-stage\"\nouts = [\"out.txt\"]\n",
    );
    env.mlv(&["run"])
        .assert()
        .success()
        .stdout(contains("hello-from-the-stage"));
}

#[test]
fn graph_errors_name_the_stages() {
    let env = TestEnv::new();
    env.write(
        "mlv.toml",
        "[stages.a]\ncmd='true'\ndeps=['y']\nouts=['x']\n[stages.b]\ncmd='true'\ndeps=['x']\nouts=['y']\n",
    );
    env.mlv(&["run"])
        .assert()
        .code(2)
        .stderr(contains("cycle"))
        .stderr(contains("a → b → a"));
    env.write(
        "mlv.toml",
        "[stages.a]\ncmd='true'\nouts=['x']\n[stages.b]\ncmd='true'\nouts=['x']\n",
    );
    env.mlv(&["run"])
        .assert()
        .code(2)
        .stderr(contains("`x` is claimed by two stages, `a` and `b`"));
    env.write(
        "mlv.toml",
        "[stages.a]\ncmd='true'\ndeps=['nowhere.csv']\nouts=['x']\n",
    );
    env.mlv(&["run"])
        .assert()
        .code(2)
        .stderr(contains("stage `a` depends on `nowhere.csv`"));
    env.mlv(&["run", "nope"])
        .assert()
        .code(2)
        .stderr(contains("no stage `nope`"));
    env.write("mlv.toml", "[stages.a]\ncommand='true'\n");
    env.mlv(&["run"])
        .assert()
        .code(2)
        .stderr(contains("mlv.toml"));
}

#[test]
fn status_reports_stale_stages_and_why() {
    let env = pipeline_env();
    env.mlv(&["run"]).assert().success();
    env.mlv(&["status", "--check"]).assert().success();
    env.write("raw.txt", "changed\n");
    env.mlv(&["status", "--check"])
        .assert()
        .code(1)
        .stdout(contains("stage b_prepare: stale (dep `raw.txt` changed)"));
    let v = env.json(&["status"]);
    assert_eq!(v["clean"], false);
    assert_eq!(v["stale_stages"][0]["stage"], "b_prepare");
    std::fs::remove_file(env.path("model.bin")).unwrap();
    env.mlv(&["status"]).assert().stdout(contains(
        "stage a_train: stale (out `model.bin` is missing)",
    ));
}

fn commit_all(env: &TestEnv, msg: &str) {
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", msg]);
}

#[test]
fn lineage_at_an_older_revision_reports_the_older_data() {
    let env = pipeline_env();
    env.mlv(&["add", "raw.txt"]).assert().success();
    env.mlv(&["run"]).assert().success();
    commit_all(&env, "v1");
    let v1_raw = env.pointer_hash("raw.txt");
    let v1_model = env.pointer_hash("model.bin");
    env.write("raw.txt", "version two of the data\n");
    env.mlv(&["add", "raw.txt"]).assert().success();
    env.mlv(&["run"]).assert().success();
    commit_all(&env, "v2");
    let v2_raw = env.pointer_hash("raw.txt");
    assert_ne!(v1_raw, v2_raw);

    let old = env.json(&["lineage", "model.bin", "--rev", "HEAD~1"])["lineage"].clone();
    assert_eq!(old["hash"], v1_model.as_str());
    assert_eq!(old["stage"]["name"], "a_train");
    assert_eq!(old["stage"]["params"]["params.toml"]["train"]["rate"], 0.5);
    let prepared = &old["stage"]["inputs"][0];
    assert_eq!(prepared["stage"]["name"], "b_prepare");
    let raw = &prepared["stage"]["inputs"][0];
    assert_eq!(raw["path"], "raw.txt");
    assert_eq!(raw["source"], "data");
    assert_eq!(raw["hash"], v1_raw.as_str());
    assert_eq!(raw["intact"], true);
    let v1_commit = env.git(&["rev-parse", "HEAD~1"]);
    assert_eq!(raw["commit"]["id"], v1_commit.trim());

    let new = env.json(&["lineage", "model.bin"])["lineage"].clone();
    let raw = &new["stage"]["inputs"][0]["stage"]["inputs"][0];
    assert_eq!(raw["hash"], v2_raw.as_str());
    assert_eq!(raw["commit"]["summary"], "v2");

    env.mlv(&["lineage", "model.bin", "--rev", "HEAD~1"])
        .assert()
        .success()
        .stdout(contains("stage b_prepare:"))
        .stdout(contains(&v1_raw[..15]));
    env.mlv(&["lineage", "model.bin", "--rev", "no-such-rev"])
        .assert()
        .code(2);
    env.mlv(&["lineage", "raw-nothing.txt"]).assert().code(2);
}

#[test]
fn lineage_dot_output_is_valid_graphviz() {
    let env = pipeline_env();
    env.mlv(&["add", "raw.txt"]).assert().success();
    env.mlv(&["run"]).assert().success();
    let dot = env
        .mlv(&["lineage", "model.bin", "--dot"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let mut child = std::process::Command::new("dot")
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("graphviz `dot` is installed (scripts/install-test-servers.sh)");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&dot).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "dot rejected the graph: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&dot)
    );
    let svg = String::from_utf8_lossy(&out.stdout);
    assert!(svg.contains("b_prepare") && svg.contains("raw.txt"));
}

#[test]
fn pre_commit_refuses_an_out_no_longer_tied_to_its_data() {
    let env = pipeline_env();
    env.mlv(&["install-hooks"]).assert().success();
    env.mlv(&["add", "raw.txt"]).assert().success();
    env.mlv(&["run"]).assert().success();
    commit_all(&env, "trained");
    // New data, tracked, but the model is swapped by hand instead of re-running.
    env.write("raw.txt", "new data\n");
    env.mlv(&["add", "raw.txt"]).assert().success();
    env.write("model.bin", "a model trained elsewhere\n");
    env.mlv(&["add", "model.bin"]).assert().success();
    env.git(&["add", "-A"]);
    let out = env.git_output(&["commit", "-qm", "swap the model"]);
    assert!(!out.status.success(), "the commit must be refused");
    // git hands a hook's stdout to stderr.
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("`model.bin.mlv` is an out of stage `a_train`")
            && said.contains("upstream stage `b_prepare`: dep `raw.txt` changed")
            && said.contains("git mlv run a_train"),
        "{said}"
    );
    env.mlv(&["run"]).assert().success();
    commit_all(&env, "retrained on the new data");
}

#[test]
fn the_digits_example_trains_and_reruns_only_affected_stages() {
    let env = TestEnv::new();
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/ml");
    for f in [
        "get_data.py",
        "prepare.py",
        "train.py",
        "params.toml",
        "mlv.toml",
    ] {
        std::fs::copy(fixtures.join(f), env.path(f)).unwrap();
    }
    let python = |args: &[&str]| {
        let ok = std::process::Command::new("python3")
            .args(args)
            .current_dir(&env.root)
            .status()
            .expect("python3 runs");
        assert!(
            ok.success(),
            "python3 {args:?} failed (is scikit-learn installed?)"
        );
    };
    python(&["get_data.py", "raw", "--rows", "600"]);
    env.mlv(&["add", "raw"]).assert().success();
    let v = env.json(&["run"]);
    assert_eq!(actions(&v), [pair("prepare", "ran"), pair("train", "ran")]);
    let metrics: serde_json::Value = serde_json::from_slice(&env.read("metrics.json")).unwrap();
    assert!(metrics["eval"]["accuracy"].as_f64().unwrap() > 0.9);
    commit_all(&env, "first model");
    env.write(
        "params.toml",
        env.read_str("params.toml").replace("C = 10.0", "C = 5.0"),
    );
    let v = env.json(&["run"]);
    assert_eq!(
        actions(&v),
        [pair("prepare", "skipped"), pair("train", "ran")]
    );
}

#[test]
fn wdir_and_env_shape_where_and_how_the_command_runs() {
    let env = TestEnv::new();
    env.write("ml/mlv-input.txt", "input\n");
    env.write(
        "mlv.toml",
        "[stages.s]\ncmd = \"cat mlv-input.txt > out.txt; echo $GREETING >> out.txt\"\nwdir = \"ml\"\ndeps = [\"mlv-input.txt\"]\nouts = [\"out.txt\"]\nenv = { GREETING = \"hi\" }\n",
    );
    env.mlv_in("ml", &["run"]).assert().success();
    assert_eq!(env.read_str("ml/out.txt"), "input\nhi\n");
    assert!(env.exists("ml/out.txt.mlv"));
    assert!(env.read_str("mlv.lock").contains("\"ml/mlv-input.txt\""));
}

#[test]
fn a_dep_inside_a_tracked_folder_is_traced_to_the_folders_pointer() {
    let env = TestEnv::new();
    env.write("raw/a.csv", "1,2\n");
    env.write("raw/b.csv", "3,4\n");
    env.mlv(&["add", "raw"]).assert().success();
    env.write(
        "mlv.toml",
        "[stages.s]\ncmd = \"cp raw/a.csv out.csv\"\ndeps = [\"raw/a.csv\"]\nouts = [\"out.csv\"]\n",
    );
    env.mlv(&["run"]).assert().success();
    commit_all(&env, "one");
    let v = env.json(&["lineage", "out.csv", "--rev", "HEAD"]);
    let dep = &v["lineage"]["stage"]["inputs"][0];
    assert_eq!(dep["source"], "data");
    assert_eq!(dep["hash"], crate::support::b3(b"1,2\n").as_str());
    assert_eq!(dep["intact"], true);
    assert_eq!(dep["commit"]["summary"], "one");

    // A tracked dep that is not checked out gets told how to get it.
    std::fs::remove_dir_all(env.path("raw")).unwrap();
    env.write(
        "mlv.toml",
        "[stages.s]\ncmd = \"cp raw/a.csv out.csv\"\ndeps = [\"raw\"]\nouts = [\"out.csv\"]\n",
    );
    env.mlv(&["run"])
        .assert()
        .code(2)
        .stderr(contains("git mlv pull raw"));
}

#[test]
fn promote_refuses_a_version_whose_lineage_is_broken() {
    let env = pipeline_env();
    env.write(
        "mlv.toml",
        format!("{PIPELINE}\n[artifacts.model]\npath = \"model.bin\"\n"),
    );
    env.mlv(&["add", "raw.txt"]).assert().success();
    env.mlv(&["run"]).assert().success();
    commit_all(&env, "trained");
    env.mlv(&["register", "model", "1.0.0"]).assert().success();
    env.mlv(&["promote", "model@v1.0.0", "prod"])
        .assert()
        .success();
    // New data committed without re-running: the model no longer follows from it.
    env.write("raw.txt", "new data\n");
    env.mlv(&["add", "raw.txt"]).assert().success();
    commit_all(&env, "data changed, model not retrained");
    env.mlv(&["register", "model", "1.1.0"]).assert().success();
    env.mlv(&["promote", "model@v1.1.0", "prod"])
        .assert()
        .code(1)
        .stderr(contains("refused"))
        .stderr(contains("raw.txt"));
    env.mlv(&["promote", "model@v1.1.0", "prod", "--force"])
        .assert()
        .success()
        .stderr(contains("lineage check were skipped"));
}

#[test]
fn a_hand_edited_out_is_kept_in_the_cache_before_a_stage_replaces_it() {
    let env = pipeline_env();
    env.mlv(&["run"]).assert().success();
    env.write("raw.txt", "second\n");
    env.mlv(&["run"]).assert().success();
    env.write("raw.txt", "hello data\n");
    env.write("model.bin", "precious hand edit\n");
    let out = env.mlv(&["run"]).assert().success().get_output().clone();
    let said = String::from_utf8_lossy(&out.stderr);
    let saved = crate::support::b3(b"precious hand edit\n");
    assert!(said.contains(&saved), "{said}");
    assert_eq!(
        std::fs::read(env.object(&saved)).unwrap(),
        b"precious hand edit\n"
    );
}

#[test]
fn a_command_that_skips_one_of_its_outs_records_none_of_them() {
    let env = TestEnv::new();
    env.write(
        "mlv.toml",
        "[stages.s]\ncmd = \"echo a > a.out\"\nouts = [\"a.out\", \"b.out\"]\n",
    );
    env.mlv(&["run"])
        .assert()
        .code(1)
        .stderr(contains("did not write `b.out`"));
    assert!(!env.exists("a.out.mlv"));
    assert!(!env.exists("mlv.lock"));
}

#[test]
fn with_jobs_a_failure_does_not_stop_stages_running_beside_it_from_being_recorded() {
    let env = TestEnv::new();
    env.write("in.txt", "x");
    env.write(
        "mlv.toml",
        "[stages.slow]\ncmd = \"sleep 1; cp in.txt slow.out\"\ndeps = [\"in.txt\"]\nouts = [\"slow.out\"]\n\
         [stages.bad]\ncmd = \"exit 3\"\ndeps = [\"in.txt\"]\nouts = [\"bad.out\"]\n\
         [stages.nowrite]\ncmd = \"true\"\ndeps = [\"in.txt\"]\nouts = [\"nw.out\"]\n",
    );
    let out = env
        .mlv(&["run", "-j", "4", "--json"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("stage `bad` failed") && said.contains("`nw.out`"),
        "{said}"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut got = actions(&v);
    got.sort();
    assert_eq!(
        got,
        [
            pair("bad", "failed"),
            pair("nowrite", "failed"),
            pair("slow", "ran")
        ]
    );
    assert!(env.exists("slow.out.mlv"));
    assert!(env.read_str("mlv.lock").contains("[stages.slow]"));
}

#[test]
fn lineage_of_a_file_inside_another_stages_folder_out_is_intact() {
    let env = TestEnv::new();
    env.write(
        "mlv.toml",
        "[stages.prep]\ncmd = \"mkdir -p prep && echo a > prep/a.txt && echo b > prep/b.txt\"\nouts = [\"prep\"]\n\
         [stages.use]\ncmd = \"cp prep/a.txt use.out\"\ndeps = [\"prep/a.txt\"]\nouts = [\"use.out\"]\n",
    );
    env.mlv(&["run"]).assert().success();
    commit_all(&env, "ran");
    let v = env.json(&["lineage", "use.out", "--rev", "HEAD"]);
    let dep = &v["lineage"]["stage"]["inputs"][0];
    assert_eq!(dep["path"], "prep/a.txt");
    assert_eq!(dep["stage"]["name"], "prep");
    assert_eq!(dep["intact"], true);
    assert_eq!(dep["commit"]["summary"], "ran");
    env.mlv(&["lineage", "use.out"])
        .assert()
        .success()
        .stderr(contains("broken").not());
}

#[test]
fn pre_commit_judges_what_is_staged_not_the_work_tree() {
    let env = pipeline_env();
    env.mlv(&["install-hooks"]).assert().success();
    env.mlv(&["add", "raw.txt"]).assert().success();
    env.mlv(&["run"]).assert().success();
    commit_all(&env, "trained");
    // The data changes without `git mlv add`: the run uses it, the commit would not hold it.
    env.write("raw.txt", "unrecorded data\n");
    env.mlv(&["run"]).assert().success().stderr(contains(
        "no commit records until you run `git mlv add raw.txt`",
    ));
    env.git(&["add", "-A"]);
    let out = env.git_output(&["commit", "-qm", "trained on data the commit lacks"]);
    assert!(
        !out.status.success(),
        "refused: raw.txt.mlv is not what mlv.lock used"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("dep `raw.txt` changed"));
    env.mlv(&["add", "raw.txt"]).assert().success();
    commit_all(&env, "with the data");
    // An unstaged edit of mlv.toml does not block a consistent commit.
    env.write(
        "params.toml",
        "[prepare]\nmode = 2\n\n[train]\nrate = 0.5\n",
    );
    env.mlv(&["run"]).assert().success();
    env.git(&["add", "-A"]);
    let toml = env
        .read_str("mlv.toml")
        .replace("echo a_train", "echo  a_train");
    env.write("mlv.toml", toml);
    let out = env.git_output(&["commit", "-qm", "consistent"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_final_hint_names_paths_from_a_sub_folder() {
    let env = pipeline_env();
    std::fs::create_dir_all(env.path("sub")).unwrap();
    env.mlv_in("sub", &["run"])
        .assert()
        .success()
        .stderr(contains("../mlv.lock"));
}

/// A stage that reads DVC's default params file, `params.yaml`.
const YAML_PARAMS: &str = r#"
[stages.train]
cmd = "cat params.yaml > model.bin"
params = ["params.yaml:train", "params.yaml:seed"]
outs = ["model.bin"]
"#;

#[test]
fn yaml_params_are_read_and_a_bad_params_file_does_not_stop_status() {
    let env = TestEnv::new();
    env.write("mlv.toml", YAML_PARAMS);
    env.write("data.csv", "a,b\n1,2\n");
    env.mlv(&["add", "-q", "data.csv"]).assert().success();
    env.write(
        "params.yaml",
        "# as DVC writes it\ntrain:\n  lr: 0.01\n  layers: [64, 32]\n  name: resnet\nseed: 42\n",
    );
    env.mlv(&["run"]).assert().success();
    let lock: toml::Table = env.read_str("mlv.lock").parse().unwrap();
    let params = &lock["stages"]["train"]["params"]["params.yaml"];
    assert_eq!(params["train"]["lr"].as_float(), Some(0.01), "{params}");
    assert_eq!(params["train"]["layers"][1].as_integer(), Some(32));
    assert_eq!(params["seed"].as_integer(), Some(42));
    env.mlv(&["status", "--check"]).assert().success();
    // A changed value makes the stage stale; an unrelated key does not.
    env.write(
        "params.yaml",
        "train:\n  lr: 0.02\n  layers: [64, 32]\n  name: resnet\nseed: 42\nother: 1\n",
    );
    let v = env.json(&["status"]);
    assert_eq!(
        v["stale_stages"][0]["reasons"],
        serde_json::json!(["params in `params.yaml` changed"])
    );
    // A params file that cannot be parsed: status still reports the data, and says which
    // stage it could not check and why.
    env.write("params.yaml", "train: [unclosed\n");
    env.write("data.csv", "a,b\n1,3\n");
    env.mlv(&["status"])
        .assert()
        .success()
        .stdout(contains("data.csv: modified"))
        .stderr(
            contains("stage `train` was not checked")
                .and(contains("params file `params.yaml` is not valid")),
        );
    env.mlv(&["status", "--check"])
        .assert()
        .code(1)
        .stdout(contains("data.csv: modified"));
    let out = env
        .mlv(&["status", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["clean"], false);
    assert_eq!(v["artifacts"][0]["path"], "data.csv");
    assert_eq!(v["unchecked_stages"][0]["stage"], "train");
    assert!(
        v["unchecked_stages"][0]["error"]
            .as_str()
            .unwrap()
            .contains("`params.yaml`"),
        "{v}"
    );
    // `run` needs the params: a bad file is a bad input.
    env.mlv(&["run"])
        .assert()
        .code(2)
        .stderr(contains("params file `params.yaml` is not valid"));
}

/// Issue 13: `run` changes `mlv.lock`, the outs' pointers, `.gitignore`, the metrics files
/// and (the first time) `.mlv/`: its hint is one `git add` that covers them all.
#[test]
fn run_ends_with_a_git_add_that_covers_every_file_it_changed() {
    let env = pipeline_env();
    std::fs::write(env.path(".git/info/exclude"), "log.txt\n").unwrap();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "pipeline"]);
    let err = crate::support::stderr_of(env.mlv(&["run"]).assert().success());
    env.run_git_add_hint(".", &err);
}

/// Issue 13: the human lineage printed full 64-hex hashes on lines of 200+ characters.
/// It prints `b3:` + 12 hex (as `ls` and `add` do) and fits a typical tree in ~100
/// columns; `--json` keeps the full hashes.
#[test]
fn lineage_text_prints_short_hashes_on_short_lines() {
    let env = TestEnv::new();
    env.write(
        "mlv.toml",
        "[stages.prepare]\ncmd = \"mkdir -p prepared && cp raw/a.csv prep.sh prepared/\"\n\
         deps = [\"raw\", \"prep.sh\"]\nouts = [\"prepared\"]\n\
         [stages.train]\ncmd = \"cat prepared/a.csv > model.pkl\"\ndeps = [\"prepared\"]\n\
         outs = [\"model.pkl\"]\n",
    );
    env.write("raw/a.csv", "1,2\n");
    env.write("prep.sh", "# prepares\n");
    env.mlv(&["add", "raw"]).assert().success();
    env.mlv(&["run"]).assert().success();
    commit_all(&env, "Digits model v1, trained on the first 1000 images");

    let out = env.mlv(&["lineage", "model.pkl"]).assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    let raw = env.pointer_hash("raw");
    let model = env.pointer_hash("model.pkl");
    for full in [&raw, &model] {
        assert!(
            !text.contains(full.as_str()),
            "full hash {full} in:\n{text}"
        );
        assert!(
            text.contains(&full[..15]),
            "short {} missing:\n{text}",
            &full[..15]
        );
    }
    assert!(
        text.contains("Digits model v1, trained on the first 1000 images"),
        "{text}"
    );
    let longest = text.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(longest <= 100, "a line of {longest} characters:\n{text}");

    let v = env.json(&["lineage", "model.pkl"]);
    assert_eq!(v["lineage"]["hash"], model.as_str());
    let prepared = &v["lineage"]["stage"]["inputs"][0];
    assert_eq!(prepared["stage"]["inputs"][1]["hash"], raw.as_str());
}
