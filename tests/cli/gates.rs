//! `metrics` and `gate`: every bound kind, the tolerance edge, missing metrics and
//! baselines, and a registry stage as the baseline.

use crate::support::TestEnv;
use predicates::prelude::*;
use predicates::str::contains;

/// Runs `gate --json` expecting `code`, and returns the outcome of each check in order.
fn outcomes(env: &TestEnv, args: &[&str], code: i32) -> Vec<String> {
    let out = env
        .mlv(&[&["gate", "--json"], args].concat())
        .assert()
        .code(code)
        .get_output()
        .stdout
        .clone();
    let report: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(report["passed"], code == 0, "{report}");
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c["bound"].as_str().unwrap(),
                c["outcome"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn every_bound_kind_is_inclusive_with_a_tolerance() {
    let env = TestEnv::ml_project(
        r#"
[[gates]]
metric = "metrics.json:eval.accuracy"
min = 0.9
max = 0.99
max_drop = 0.02
baseline = "HEAD"

[[gates]]
metric = "scores.toml:eval.loss"
max_rise = 0.1
baseline = "HEAD"
"#,
    );
    env.write("scores.toml", "[eval]\nloss = 0.5\n");
    env.commit_model("m1", 0.93);
    // Exactly on every bound: 0.93 − 0.91 and 0.6 − 0.5 are not exact in binary.
    env.write("metrics.json", r#"{"eval": {"accuracy": 0.91}}"#);
    env.write("scores.toml", "[eval]\nloss = 0.6\n");
    assert_eq!(
        outcomes(&env, &[], 0),
        ["min pass", "max pass", "max_drop pass", "max_rise pass"]
    );
    env.mlv(&["gate"])
        .assert()
        .success()
        .stdout(contains("metrics.json:eval.accuracy  0.91   0.93 (HEAD)"));
    for (accuracy, loss, failing) in [
        (0.9099, 0.5, "max_drop fail"),
        (0.995, 0.5, "max fail"),
        (0.89, 0.5, "min fail"),
        (0.93, 0.6001, "max_rise fail"),
    ] {
        env.write(
            "metrics.json",
            format!(r#"{{"eval": {{"accuracy": {accuracy}}}}}"#),
        );
        env.write("scores.toml", format!("[eval]\nloss = {loss}\n"));
        let got = outcomes(&env, &[], 1);
        let failed: Vec<&String> = got.iter().filter(|o| o.ends_with("fail")).collect();
        assert!(
            failed.contains(&&failing.to_string()),
            "{accuracy} {loss}: {got:?}"
        );
    }
    // The text table marks the failing row.
    let table = env
        .mlv(&["gate"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let table = String::from_utf8(table).unwrap();
    let row = table.lines().find(|l| l.contains("max_rise")).unwrap();
    assert!(
        row.starts_with("scores.toml:eval.loss") && row.ends_with("FAIL"),
        "{table}"
    );
}

#[test]
fn a_missing_metric_or_baseline_is_exit_2_and_named() {
    let env = TestEnv::ml_project("[[gates]]\nmetric = \"metrics.json:eval.f1\"\nmin = 0.5\n");
    env.commit_model("m1", 0.93);
    env.mlv(&["gate"])
        .assert()
        .code(2)
        .stderr(contains("metric `metrics.json:eval.f1` is missing"));
    // A baseline revision that does not exist, and one without the metrics file.
    env.write(
        "mlv.toml",
        format!(
            "{}\n[[gates]]\nmetric = \"metrics.json:eval.accuracy\"\nmax_drop = 0.1\n",
            crate::support::ML_PROJECT
        ),
    );
    env.mlv(&["gate", "--baseline", "no-such-rev"])
        .assert()
        .code(2)
        .stderr(contains("`no-such-rev` is not a revision"));
    env.mlv(&["gate", "--baseline", "HEAD~1"])
        .assert()
        .code(2)
        .stderr(contains("at baseline `HEAD~1`"));
    env.mlv(&["gate"])
        .assert()
        .code(2)
        .stderr(contains("has `max_drop` but no baseline"));
    env.mlv(&["gate", "--baseline", "HEAD"]).assert().success();
}

#[test]
fn a_stage_baseline_skips_for_the_first_model_then_compares() {
    let env = TestEnv::ml_project(
        "[[gates]]\nmetric = \"metrics.json:eval.accuracy\"\nmin = 0.8\nmax_drop = 0.02\nbaseline = \"model#prod\"\n",
    );
    env.commit_model("m1", 0.95);
    // No version holds prod yet: the relative gate is skipped with a note; min still counts.
    assert_eq!(outcomes(&env, &[], 0), ["min pass", "max_drop skipped"]);
    env.mlv(&["gate"])
        .assert()
        .success()
        .stderr(contains("`model#prod` holds no version yet"));
    env.mlv(&["register", "model", "1.0.0"]).assert().success();
    env.mlv(&["promote", "model@1.0.0", "prod"])
        .assert()
        .success();
    env.commit_model("m2", 0.92);
    assert_eq!(outcomes(&env, &[], 1), ["min pass", "max_drop fail"]);
    // A registry reference works wherever metrics take a revision.
    let at_prod = env.json(&["metrics", "show", "--rev", "model#prod"]);
    assert_eq!(at_prod["metrics"]["metrics.json"]["eval.accuracy"], 0.95);
    let diff = env.json(&["metrics", "diff", "model#prod"]);
    assert_eq!(diff["changes"][0]["new"], 0.92);
    env.mlv(&["metrics", "show", "--rev", "model#staging"])
        .assert()
        .code(2)
        .stderr(contains("holds no version"));
    // --baseline overrides the gate's own: a registered version, or any revision.
    env.mlv(&["register", "model"]).assert().success();
    assert_eq!(
        outcomes(&env, &["--baseline", "model@v1.0.1"], 0),
        ["min pass", "max_drop pass"]
    );
    env.mlv(&["gate", "--baseline", "model@v9.0.0"])
        .assert()
        .code(2)
        .stderr(contains("`model@v9.0.0` is not registered"));
}

#[test]
fn metrics_show_and_diff_flatten_nested_keys() {
    let env = TestEnv::ml_project("");
    env.commit_model("m1", 0.9);
    env.write(
        "metrics.json",
        r#"{"eval": {"accuracy": 0.95, "per_class": [0.5, 0.75]}, "name": "resnet"}"#,
    );
    let show = env.json(&["metrics", "show"]);
    assert_eq!(show["metrics"]["metrics.json"]["eval.accuracy"], 0.95);
    assert_eq!(show["metrics"]["metrics.json"]["eval.per_class.1"], 0.75);
    let at_head = env.json(&["metrics", "show", "--rev", "HEAD"]);
    assert_eq!(at_head["metrics"]["metrics.json"]["eval.accuracy"], 0.9);
    // DVC's defaults: HEAD against the work tree; only what changed is listed.
    let diff = env.json(&["metrics", "diff"]);
    let changes = diff["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 3, "{diff}");
    assert_eq!(changes[0]["key"], "eval.accuracy");
    assert_eq!(changes[0]["old"], 0.9);
    assert_eq!(changes[0]["new"], 0.95);
    assert!(changes[1]["old"].is_null());
    let text = env
        .mlv(&["metrics", "diff"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(text).unwrap();
    let row: Vec<&str> = text.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(
        row,
        ["metrics.json", "eval.accuracy", "0.9", "0.95", "+0.05"],
        "{text}"
    );
    env.git(&["commit", "-qam", "better"]);
    let two = env.json(&["metrics", "diff", "HEAD~1", "HEAD"]);
    assert_eq!(two["changes"].as_array().unwrap().len(), 3);
    assert_eq!(
        env.json(&["metrics", "diff", "HEAD"])["changes"],
        serde_json::json!([])
    );
    env.mlv(&["metrics", "show", "--rev", "nope"])
        .assert()
        .code(2);
}

#[test]
fn gate_without_gates_passes_and_says_none_are_configured() {
    let env = TestEnv::new();
    env.write("mlv.toml", "[artifacts.model]\npath = \"model.bin\"\n");
    env.mlv(&["gate"])
        .assert()
        .success()
        .stderr(contains("no gates are configured"));
    let g = env.json(&["gate"]);
    assert_eq!(g["passed"], true, "{g}");
    assert!(
        g["notes"].to_string().contains("no gates are configured"),
        "{g}"
    );
}

/// Issue 13: a baseline stage that holds no version prints as such in the table, not `-`.
#[test]
fn the_table_says_when_the_baseline_stage_holds_no_version() {
    let env = TestEnv::ml_project(
        "[[gates]]\nmetric = \"metrics.json:eval.accuracy\"\nmax_drop = 0.02\nbaseline = \"model#prod\"\n",
    );
    env.commit_model("m1", 0.95);
    env.mlv(&["gate"])
        .assert()
        .success()
        .stdout(contains("none yet (model#prod holds no version)"))
        .stdout(contains("- (model#prod)").not());
}
