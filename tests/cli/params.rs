//! `params diff`: every key of every params file the stages name (TOML, YAML, JSON),
//! compared between two revisions or a revision and the work tree, as `metrics diff` is.

use crate::support::TestEnv;
use predicates::prelude::*;
use predicates::str::contains;
use serde_json::{Value, json};

/// Three stages reading params three ways: a whole TOML file, one key of a YAML file (the
/// diff still covers the whole file) and a JSON file; plus the artifact `model`.
const PROJECT: &str = r#"[artifacts.model]
path = "model.pkl"

[stages.prep]
cmd = "true"
params = ["conf/params.yaml:prep.size"]

[stages.train]
cmd = "true"
params = ["params.toml"]
outs = ["model.pkl"]

[stages.eval]
cmd = "true"
params = ["eval.json"]
metrics = ["metrics.json"]
"#;

fn project() -> TestEnv {
    let env = TestEnv::new();
    env.write("mlv.toml", PROJECT);
    env.write(
        "params.toml",
        "[train]\nlr = 0.1\nepochs = 10\noptimizer = \"adam\"\n",
    );
    env.write(
        "conf/params.yaml",
        "prep:\n  size: 32\n  steps: [1, 2]\nseed: 7\n",
    );
    env.write("eval.json", r#"{"eval": {"batch": 64, "strict": true}}"#);
    env
}

/// `(file, key, old, new)` of each change `params diff <args> --json` lists.
fn changes(env: &TestEnv, args: &[&str]) -> Vec<(String, String, Value, Value)> {
    env.json(&[&["params", "diff"], args].concat())["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["file"].as_str().unwrap().to_string(),
                c["key"].as_str().unwrap().to_string(),
                c["old"].clone(),
                c["new"].clone(),
            )
        })
        .collect()
}

fn change(file: &str, key: &str, old: Value, new: Value) -> (String, String, Value, Value) {
    (file.to_string(), key.to_string(), old, new)
}

/// Edits every params file: a value changed in each format, a key removed and one added.
fn edit(env: &TestEnv) {
    env.write(
        "params.toml",
        "[train]\nlr = 0.3\noptimizer = \"adam\"\ndropout = 0.5\n",
    );
    env.write(
        "conf/params.yaml",
        "prep:\n  size: 32\n  steps: [1, 2, 3]\nseed: 7\n",
    );
    env.write("eval.json", r#"{"eval": {"batch": 64, "strict": false}}"#);
}

fn edited() -> Vec<(String, String, Value, Value)> {
    vec![
        change(
            "conf/params.yaml",
            "prep.steps",
            json!([1, 2]),
            json!([1, 2, 3]),
        ),
        change("eval.json", "eval.strict", json!(true), json!(false)),
        change("params.toml", "train.dropout", Value::Null, json!(0.5)),
        change("params.toml", "train.epochs", json!(10), Value::Null),
        change("params.toml", "train.lr", json!(0.1), json!(0.3)),
    ]
}

#[test]
fn params_diff_compares_toml_yaml_and_json_files_key_by_key() {
    let env = project();
    env.commit_model("m1", 0.9);
    // Nothing changed: exit 0, an empty list, and a note on stderr.
    assert_eq!(changes(&env, &[]), []);
    env.mlv(&["params", "diff"])
        .assert()
        .success()
        .stdout("")
        .stderr(contains("no param changed"));
    // HEAD against the work tree by default, every key of every file (not only the key
    // `prep` selects); a key added or removed has an empty side.
    edit(&env);
    assert_eq!(changes(&env, &[]), edited());
    assert_eq!(changes(&env, &["HEAD"]), edited());
    let json = env.json(&["params", "diff"]);
    assert_eq!((&json["a"], &json["b"]), (&json!("HEAD"), &Value::Null));
    let out = env.mlv(&["params", "diff"]).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    // Columns are two spaces apart; a list's items one space.
    let rows: Vec<Vec<&str>> = text
        .lines()
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect()
        })
        .collect();
    assert_eq!(rows[0], ["file", "param", "HEAD", "workspace"], "{text}");
    assert_eq!(
        rows[1],
        ["conf/params.yaml", "prep.steps", "[1, 2]", "[1, 2, 3]"]
    );
    assert_eq!(
        rows[4],
        ["params.toml", "train.epochs", "10", "-"],
        "{text}"
    );
    assert_eq!(rows.len(), 6, "{text}");
    // Two commits; and the same commit on both sides.
    env.git(&["commit", "-qam", "new params"]);
    assert_eq!(changes(&env, &["HEAD~1", "HEAD"]), edited());
    assert_eq!(changes(&env, &["HEAD"]), []);
    assert_eq!(changes(&env, &["HEAD", "HEAD"]), []);
    // --all lists the unchanged keys too.
    let all = changes(&env, &["HEAD~1", "HEAD", "--all"]);
    assert!(
        all.contains(&change(
            "params.toml",
            "train.optimizer",
            json!("adam"),
            json!("adam")
        )),
        "{all:?}"
    );
    assert!(all.contains(&change("conf/params.yaml", "seed", json!(7), json!(7))));
    assert_eq!(all.len(), 9, "{all:?}");
    // Strings show bare in the table, as DVC shows them.
    env.write(
        "params.toml",
        "[train]\nlr = 0.3\noptimizer = \"sgd\"\ndropout = 0.5\n",
    );
    env.mlv(&["params", "diff"])
        .assert()
        .success()
        .stdout(contains("train.optimizer  adam  sgd"));
}

#[test]
fn params_diff_reads_each_sides_mlv_toml_and_registry_references() {
    let env = project();
    env.commit_model("m1", 0.9);
    env.mlv(&["register", "model"]).assert().success();
    env.mlv(&["promote", "model@v0.0.1", "prod"])
        .assert()
        .success();
    edit(&env);
    env.commit_model("m2", 0.95);
    // A registry reference is a revision like any other.
    assert_eq!(changes(&env, &["model#prod"]), edited());
    assert_eq!(changes(&env, &["model#prod", "HEAD"]), edited());
    assert_eq!(changes(&env, &["model@v0.0.1", "HEAD"]), edited());
    // A params file only the work tree's `mlv.toml` names: all its keys are new.
    env.write(
        "mlv.toml",
        format!("{PROJECT}\n[stages.serve]\ncmd = \"true\"\nparams = [\"serve.toml\"]\n"),
    );
    env.write("serve.toml", "port = 8080\nhost = \"0.0.0.0\"\n");
    assert_eq!(
        changes(&env, &[]),
        [
            change("serve.toml", "host", Value::Null, json!("0.0.0.0")),
            change("serve.toml", "port", Value::Null, json!(8080)),
        ]
    );
    // And the other way round: HEAD's side has none of them.
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "serve"]);
    assert_eq!(
        changes(&env, &["HEAD", "HEAD~1"]),
        [
            change("serve.toml", "host", json!("0.0.0.0"), Value::Null),
            change("serve.toml", "port", json!(8080), Value::Null),
        ]
    );
}

#[test]
fn params_diff_refuses_a_bad_revision_and_an_invalid_params_file() {
    let env = project();
    env.commit_model("m1", 0.9);
    env.mlv(&["params", "diff", "nope"]).assert().code(2);
    env.mlv(&["params", "diff", "HEAD", "nope"])
        .assert()
        .code(2);
    env.mlv(&["params", "diff", "model#prod"])
        .assert()
        .code(2)
        .stderr(contains("holds no version"));
    env.write("conf/params.yaml", "prep: [1\n");
    env.mlv(&["params", "diff"])
        .assert()
        .code(2)
        .stderr(contains("`conf/params.yaml`").and(contains("work tree")));
    env.git(&["commit", "-qam", "broken yaml"]);
    env.write("conf/params.yaml", "prep:\n  size: 32\n");
    env.write("eval.json", "{\"eval\": ");
    env.mlv(&["params", "diff", "HEAD~1", "HEAD"])
        .assert()
        .code(2)
        .stderr(contains("`conf/params.yaml`").and(contains("`HEAD`")));
    env.mlv(&["params", "diff", "HEAD~1"])
        .assert()
        .code(2)
        .stderr(contains("`eval.json`").and(contains("work tree")));
}
