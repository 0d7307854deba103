//! The registry: GTO-grammar tags, counters and tagger-time order, promote behind the
//! gates, rollback, and the real `gto show` reading what git-mlv wrote.

use crate::support::TestEnv;
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;

const GATE: &str = "[[gates]]\nmetric = \"metrics.json:eval.accuracy\"\nmin = 0.8\nmax_drop = 0.02\nbaseline = \"model#prod\"\n";

/// Tag names with their tagger times, oldest first.
fn tags(env: &TestEnv) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = env
        .git(&[
            "for-each-ref",
            "--format=%(refname:strip=2) %(taggerdate:unix)",
            "refs/tags",
        ])
        .lines()
        .map(|l| {
            let (n, t) = l.rsplit_once(' ').unwrap();
            (n.to_string(), t.parse().unwrap())
        })
        .collect();
    out.sort_by_key(|(n, t)| (*t, n.clone()));
    out
}

/// The version `model`'s `stage` holds, as git-mlv and as gto say (asserted equal).
fn prod(env: &TestEnv) -> String {
    let ours = env.json(&["which", "model", "prod"])["version"]
        .as_str()
        .unwrap()
        .to_string();
    let gto = env.gto(&[]);
    assert_eq!(gto["model"]["stage"]["prod"], ours.as_str(), "gto: {gto}");
    ours
}

/// Three registered versions with accuracies 0.9, 0.91, 0.92; returns their commits.
fn three_versions(env: &TestEnv) -> Vec<String> {
    let mut commits = Vec::new();
    for (i, acc) in [0.9, 0.91, 0.92].into_iter().enumerate() {
        commits.push(env.commit_model(format!("model {i}"), acc));
        env.mlv(&["register", "model"]).assert().success();
    }
    commits
}

#[test]
fn tag_names_counters_and_tagger_order() {
    let env = TestEnv::ml_project("");
    let c1 = env.commit_model("m1", 0.9);
    env.mlv(&["register", "model"])
        .assert()
        .success()
        .stdout("model@v0.0.1\n");
    env.mlv(&["register", "model", "1.0.0"])
        .assert()
        .code(2)
        .stderr(contains("already holds `model@v0.0.1`"));
    let c2 = env.commit_model("m2", 0.91);
    env.mlv(&["register", "model", "v1.2.0"])
        .assert()
        .success()
        .stdout("model@v1.2.0\n");
    env.commit_model("m3", 0.92);
    env.mlv(&["register", "model", "1.2.0"])
        .assert()
        .code(2)
        .stderr(contains("`model@v1.2.0` is already registered"));
    env.mlv(&["register", "model", "1.2"]).assert().code(2);
    env.mlv(&["register", "model"])
        .assert()
        .success()
        .stdout("model@v1.2.1\n");
    env.mlv(&["register", "nomodel"])
        .assert()
        .code(2)
        .stderr(contains("not an artifact in `mlv.toml`"));
    env.mlv(&["promote", "model@v0.0.1", "staging"])
        .assert()
        .success()
        .stdout("model#staging#1\n");
    env.mlv(&["promote", "model@1.2.0", "prod"])
        .assert()
        .success()
        .stdout("model#prod#2\n");
    env.mlv(&["promote", "model@1.2.1", "staging"])
        .assert()
        .success()
        .stdout("model#staging#3\n");
    // Six tags made within a second or two: every tagger time is later than the last.
    let t = tags(&env);
    assert_eq!(t.len(), 6, "{t:?}");
    assert!(t.windows(2).all(|w| w[0].1 < w[1].1), "{t:?}");
    let models = env.json(&["models"]);
    let m = &models["models"][0];
    assert_eq!(m["latest"], "v1.2.1");
    assert_eq!(m["stages"]["prod"]["version"], "v1.2.0");
    assert_eq!(m["stages"]["prod"]["commit"], c2.as_str());
    assert_eq!(m["versions"][2]["commit"], c1.as_str());
    let which = env.json(&["which", "model", "staging"]);
    assert_eq!(which["version"], "v1.2.1");
    assert_eq!(which["hash"], crate::support::b3(b"m3"));
    let gto = env.gto(&[]);
    assert_eq!(gto["model"]["version"], "v1.2.1", "{gto}");
    assert_eq!(gto["model"]["stage"]["staging"], "v1.2.1", "{gto}");
    assert_eq!(gto["model"]["stage"]["prod"], "v1.2.0", "{gto}");
    env.mlv(&["which", "model", "dev"])
        .assert()
        .code(1)
        .stderr(contains("holds no version"));
}

#[test]
fn promote_is_refused_when_a_gate_fails_unless_forced() {
    let env = TestEnv::ml_project(GATE);
    env.commit_model("good", 0.93);
    env.mlv(&["register", "model", "1.0.0"]).assert().success();
    env.mlv(&["promote", "model@1.0.0", "prod"])
        .assert()
        .success()
        .stderr(contains("holds no version yet"));
    // A passing promotion prints only the tag on stdout (`tag=$(git mlv promote …)`); the
    // gate table goes to stderr.
    env.commit_model("better", 0.95);
    env.mlv(&["register", "model", "1.0.1"]).assert().success();
    let out = env
        .mlv(&["promote", "model@1.0.1", "prod"])
        .assert()
        .success()
        .stderr(contains("eval.accuracy"))
        .get_output()
        .clone();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "model#prod#2\n");
    env.mlv(&["rollback", "model", "prod"]).assert().success();
    assert_eq!(prod(&env), "v1.0.0");
    env.commit_model("worse", 0.90);
    env.mlv(&["register", "model", "1.1.0"]).assert().success();
    let before = tags(&env).len();
    env.mlv(&["promote", "model@1.1.0", "prod"])
        .assert()
        .code(1)
        .stdout(contains("FAIL"))
        .stderr(contains("refused"))
        .stderr(contains("`model#prod` (v1.0.0)"));
    assert_eq!(tags(&env).len(), before, "a refused promotion makes no tag");
    assert_eq!(prod(&env), "v1.0.0");
    // The gates read the version's own commit, not the work tree.
    env.write("metrics.json", r#"{"eval": {"accuracy": 0.99}}"#);
    env.mlv(&["promote", "model@1.1.0", "prod"])
        .assert()
        .code(1);
    env.mlv(&["promote", "model@1.1.0", "prod", "--force"])
        .assert()
        .success()
        .stderr(contains("gates and the lineage check were skipped"));
    assert_eq!(prod(&env), "v1.1.0");
    env.mlv(&["promote", "model@9.9.9", "prod"])
        .assert()
        .code(2)
        .stderr(contains("`model@v9.9.9` is not registered"));
}

#[test]
fn gto_reads_two_promotions_and_a_rollback_made_within_one_second() {
    let env = TestEnv::ml_project("");
    three_versions(&env);
    let started = std::time::Instant::now();
    env.mlv(&["promote", "model@v0.0.1", "prod"])
        .assert()
        .success();
    env.mlv(&["promote", "model@v0.0.2", "prod"])
        .assert()
        .success();
    env.mlv(&["rollback", "model", "prod"])
        .assert()
        .success()
        .stdout("model#prod#4\n");
    assert!(
        started.elapsed().as_secs_f64() < 1.0,
        "made within one second"
    );
    assert_eq!(prod(&env), "v0.0.1");
    // gto agrees on each version's own stages too: v0.0.2 was unassigned by the rollback.
    let versions = env.gto(&["model"]);
    let in_prod = |v: &str| {
        versions
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["version"] == v)
            .unwrap()["stages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["stage"] == "prod")
    };
    assert!(in_prod("v0.0.1"), "{versions}");
    assert!(!in_prod("v0.0.2"), "{versions}");
}

#[test]
fn repeated_rollback_walks_further_back() {
    let env = TestEnv::ml_project("");
    three_versions(&env);
    for v in ["v0.0.1", "v0.0.2", "v0.0.3"] {
        env.mlv(&["promote", &format!("model@{v}"), "prod"])
            .assert()
            .success();
    }
    assert_eq!(prod(&env), "v0.0.3");
    let r = env.json(&["rollback", "model", "prod"]);
    assert_eq!(
        (r["from"].as_str(), r["to"].as_str()),
        (Some("v0.0.3"), Some("v0.0.2"))
    );
    assert_eq!(prod(&env), "v0.0.2");
    env.mlv(&["rollback", "model", "prod"]).assert().success();
    assert_eq!(
        prod(&env),
        "v0.0.1",
        "skips v0.0.3, which was rolled back from"
    );
    env.mlv(&["rollback", "model", "prod"])
        .assert()
        .code(1)
        .stderr(contains("no earlier version is left"));
    // --to names any registered version, even one rolled back from before.
    env.mlv(&["rollback", "model", "prod", "--to", "0.0.3"])
        .assert()
        .success();
    assert_eq!(prod(&env), "v0.0.3");
    env.mlv(&["rollback", "model", "prod", "--to", "0.0.7"])
        .assert()
        .code(2);
    env.mlv(&["rollback", "model", "staging"])
        .assert()
        .code(1)
        .stderr(contains("`staging` of `model` holds no version"));
}

#[test]
fn an_unknown_artifact_name_is_a_bad_request() {
    let env = TestEnv::new();
    for args in [
        &["which", "nosuch", "prod"][..],
        &["deploy", "nosuch", "prod"][..],
        &["rollback", "nosuch", "prod"][..],
    ] {
        env.mlv(args)
            .assert()
            .code(2)
            .stderr(contains("no artifact `nosuch` is registered"));
    }
}

#[test]
fn registry_references_work_wherever_a_revision_does() {
    let env = TestEnv::new();
    env.write("mlv.toml", "[artifacts.model]\npath = \"model.bin\"\n");
    env.write("model.bin", "first model\n");
    env.mlv(&["add", "model.bin"]).assert().success();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "v1"]);
    env.mlv(&["register", "model", "1.0.0"]).assert().success();
    env.mlv(&["promote", "model@v1.0.0", "prod"])
        .assert()
        .success();
    env.write("model.bin", "second model\n");
    env.mlv(&["add", "model.bin"]).assert().success();
    env.git(&["commit", "-qam", "v2"]);
    env.mlv(&["checkout", "--rev", "model#prod", "--to", "restored"])
        .assert()
        .success();
    assert_eq!(env.read_str("restored/model.bin"), "first model\n");
    env.mlv(&["ls", "--rev", "model@v1.0.0"])
        .assert()
        .success()
        .stdout(contains(crate::support::b3(b"first model\n").as_str()));
    env.mlv(&["checkout", "--rev", "model#staging"])
        .assert()
        .code(2)
        .stderr(contains("holds no version yet"));
}

#[test]
fn one_name_rule_gtos_for_mlv_toml_and_the_registry() {
    // `/` is in GTO's rule: mlv.toml declares it and every registry command takes it.
    let env = TestEnv::new();
    env.write(
        "mlv.toml",
        "[artifacts.\"nlp/model\"]\npath = \"model.bin\"\n",
    );
    env.write("model.bin", "a model\n");
    env.mlv(&["add", "model.bin"]).assert().success();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "v1"]);
    env.mlv(&["register", "nlp/model", "1.0.0"])
        .assert()
        .success()
        .stdout("nlp/model@v1.0.0\n");
    env.mlv(&["promote", "nlp/model@v1.0.0", "prod"])
        .assert()
        .success()
        .stdout("nlp/model#prod#1\n");
    assert_eq!(
        env.json(&["which", "nlp/model", "prod"])["version"],
        "v1.0.0"
    );
    let gto = env.gto(&[]);
    assert_eq!(gto["nlp/model"]["stage"]["prod"], "v1.0.0", "{gto}");

    // `.` is not, and `//` cannot be a git tag: both refused alike, by both.
    for bad in ["my.model", "nlp//model", "-model"] {
        let msg = format!("`{bad}` is not a valid registry name: GTO allows");
        env.mlv(&["register", "--", bad])
            .assert()
            .code(2)
            .stderr(contains(msg.as_str()));
        env.write(
            "mlv.toml",
            format!("[artifacts.\"{bad}\"]\npath = \"model.bin\"\n"),
        );
        env.mlv(&["status"])
            .assert()
            .code(2)
            .stderr(contains("`mlv.toml` is not valid"))
            .stderr(contains(msg.as_str()));
    }
}

#[test]
fn a_promote_that_loses_the_race_for_a_stage_tag_says_so_and_not_user_name() {
    let env = TestEnv::ml_project("");
    env.commit_model("m1", 0.9);
    env.mlv(&["register", "model"]).assert().success();
    // A `git` that lets another promotion take the tag between reading the registry and
    // writing it, as a concurrent `promote` does.
    let real_git = std::process::Command::new("sh")
        .args(["-c", "command -v git"])
        .output()
        .unwrap();
    let real_git = String::from_utf8(real_git.stdout).unwrap();
    let bin = env.outside().join("racing-git");
    std::fs::create_dir_all(&bin).unwrap();
    let script = bin.join("git");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nif [ \"$1\" = tag ] && [ \"$2\" = -a ]; then\n  {git} tag -a -m winner \"$5\" \"$6\"\nfi\nexec {git} \"$@\"\n",
            git = real_git.trim()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut promote = env.mlv_std(&["promote", "model@v0.0.1", "prod"]);
    let path = format!(
        "{}:{}",
        bin.display(),
        promote
            .get_envs()
            .find(|(k, _)| *k == "PATH")
            .and_then(|(_, v)| v)
            .unwrap()
            .to_string_lossy()
    );
    promote.env("PATH", path);
    let out = promote.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("`model#prod#1`") && err.contains("another") && err.contains("again"),
        "{err}"
    );
    assert!(!err.contains("user.name"), "{err}");
    // Running it again, as the hint says, works.
    env.mlv(&["promote", "model@v0.0.1", "staging"])
        .assert()
        .success();
}

#[test]
fn promote_says_when_no_gates_are_configured() {
    let env = TestEnv::ml_project("");
    env.commit_model("m1", 0.9);
    env.mlv(&["register", "model"]).assert().success();
    env.mlv(&["promote", "model@v0.0.1", "prod"])
        .assert()
        .success()
        .stdout("model#prod#1\n")
        .stderr(contains("no gates are configured"));
}

/// `git mlv models --json` and `gto show --json` reduced to what both say (each listed
/// artifact's latest version and the version each stage holds), asserted equal.
fn agrees_with_gto(env: &TestEnv) -> serde_json::Value {
    use serde_json::{Map, Value, json};
    let stages = |m: &Value, key: &str, version: fn(&Value) -> Value| -> Map<String, Value> {
        m[key]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(s, v)| (s.clone(), version(v)))
            .collect()
    };
    let ours: Map<String, Value> = env.json(&["models"])["models"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["registered"] == true)
        .map(|m| {
            let s = stages(m, "stages", |h| h["version"].clone());
            let name = m["name"].as_str().unwrap().to_string();
            (name, json!({ "latest": m["latest"], "stages": s }))
        })
        .collect();
    let theirs: Map<String, Value> = env
        .gto(&[])
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, m)| {
            let s = stages(m, "stage", Value::clone);
            (name.clone(), json!({ "latest": m["version"], "stages": s }))
        })
        .collect();
    assert_eq!(ours, theirs, "git mlv models (left) and gto show (right)");
    Value::Object(ours)
}

#[test]
fn models_agree_with_gto_through_assign_unassign_and_deprecations() {
    let env = TestEnv::ml_project("");
    env.commit_model("m1", 0.9);
    env.mlv(&["register", "model"]).assert().success();
    assert_eq!(agrees_with_gto(&env)["model"]["latest"], "v0.0.1");
    env.commit_model("m2", 0.91);
    env.gto_do(&["register", "model", "HEAD"]);
    assert_eq!(agrees_with_gto(&env)["model"]["latest"], "v0.0.2");
    env.mlv(&["promote", "model@v0.0.1", "prod"])
        .assert()
        .success();
    assert_eq!(agrees_with_gto(&env)["model"]["stages"]["prod"], "v0.0.1");
    env.gto_do(&["assign", "model", "--version", "v0.0.2", "--stage", "prod"]);
    assert_eq!(agrees_with_gto(&env)["model"]["stages"]["prod"], "v0.0.2");
    // Unassigning v0.0.2 gives prod back to v0.0.1, whose assignment still stands.
    env.gto_do(&["deprecate", "model", "v0.0.2", "prod"]);
    assert_eq!(agrees_with_gto(&env)["model"]["stages"]["prod"], "v0.0.1");
    assert_eq!(env.json(&["which", "model", "prod"])["version"], "v0.0.1");
    // Deregistering v0.0.1 leaves prod to nobody.
    env.gto_do(&["deprecate", "model", "v0.0.1"]);
    let state = agrees_with_gto(&env);
    assert_eq!(state["model"]["latest"], "v0.0.2");
    assert_eq!(state["model"]["stages"], serde_json::json!({}));
    env.mlv(&["which", "model", "prod"])
        .assert()
        .code(1)
        .stderr(contains("holds no version"));
    // Deprecating the artifact hides it from both, even though `mlv.toml` declares it.
    env.gto_do(&["deprecate", "model"]);
    assert_eq!(agrees_with_gto(&env), serde_json::json!({}));
    assert_eq!(env.json(&["models"])["models"], serde_json::json!([]));
    env.mlv(&["models"])
        .assert()
        .success()
        .stdout("")
        .stderr(contains("`model` is deprecated").and(contains("--deprecated")));
    let all = env.json(&["models", "--deprecated"]);
    assert_eq!(all["models"][0]["name"], "model");
    assert_eq!(all["models"][0]["deprecated"], true);
    assert_eq!(all["models"][0]["latest"], "v0.0.2");
    // A later registration makes it active again, as GTO reads it; git-mlv says so.
    env.commit_model("m3", 0.92);
    env.mlv(&["register", "model"])
        .assert()
        .success()
        .stderr(contains("`model` was deprecated"));
    assert_eq!(agrees_with_gto(&env)["model"]["latest"], "v0.0.3");
    assert_eq!(env.json(&["models"])["models"][0]["deprecated"], false);
}

#[test]
fn which_deploy_and_rollback_say_an_artifact_is_deprecated() {
    let env = TestEnv::ml_project("");
    three_versions(&env);
    for v in ["v0.0.1", "v0.0.2"] {
        env.mlv(&["promote", &format!("model@{v}"), "prod"])
            .assert()
            .success();
    }
    env.gto_do(&["deprecate", "model"]);
    let target = env.outside().join("deploys");
    for args in [
        &["which", "model", "prod"][..],
        &["deploy", "model", "prod", "--to", target.to_str().unwrap()][..],
        &["rollback", "model", "prod"][..],
    ] {
        env.mlv(args).assert().code(1).stderr(
            contains("`model` is deprecated (tag `model@deprecated`)")
                .and(contains("hint: "))
                .and(contains("git mlv register model"))
                .and(contains("not registered").not()),
        );
    }
    assert!(!target.exists(), "nothing deployed");
    assert_eq!(prod_tags(&env), 2, "rollback wrote no tag");
}

/// How many `prod` stage tags there are.
fn prod_tags(env: &TestEnv) -> usize {
    tags(env)
        .iter()
        .filter(|(n, _)| n.contains("#prod"))
        .count()
}

#[test]
fn versions_follow_semver_precedence_as_gto_does() {
    let env = TestEnv::ml_project("");
    let listed = |env: &TestEnv| -> Vec<String> {
        env.json(&["models"])["models"][0]["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["version"].as_str().unwrap().to_string())
            .collect()
    };
    for (v, acc) in [("1.0.0-rc.2", 0.9), ("1.0.0-rc.10", 0.91)] {
        env.commit_model(v, acc);
        env.mlv(&["register", "model", v]).assert().success();
    }
    assert_eq!(agrees_with_gto(&env)["model"]["latest"], "v1.0.0-rc.10");
    assert_eq!(listed(&env), ["v1.0.0-rc.10", "v1.0.0-rc.2"]);
    env.commit_model("1.0.0", 0.92);
    env.mlv(&["register", "model", "1.0.0"]).assert().success();
    assert_eq!(agrees_with_gto(&env)["model"]["latest"], "v1.0.0");
    assert_eq!(listed(&env), ["v1.0.0", "v1.0.0-rc.10", "v1.0.0-rc.2"]);
    // The stage a pre-release holds is read the same way; `which` names it.
    env.mlv(&["promote", "model@v1.0.0-rc.10", "staging"])
        .assert()
        .success();
    assert_eq!(
        agrees_with_gto(&env)["model"]["stages"]["staging"],
        "v1.0.0-rc.10"
    );
    assert_eq!(
        env.json(&["which", "model", "staging"])["version"],
        "v1.0.0-rc.10"
    );
    // Without a version, the next patch after the highest (by precedence), as gto bumps it.
    env.commit_model("next", 0.93);
    env.mlv(&["register", "model"])
        .assert()
        .success()
        .stdout("model@v1.0.1\n");
    assert_eq!(agrees_with_gto(&env)["model"]["latest"], "v1.0.1");
}

/// Issue 13: promote's hint must work as written: `deploy` needs `--to` until a target
/// is remembered for the stage.
#[test]
fn promote_hints_a_deploy_that_works() {
    let env = TestEnv::ml_project("");
    env.commit_model("m1", 0.9);
    env.mlv(&["register", "model", "1.0.0"]).assert().success();
    env.mlv(&["promote", "model@1.0.0", "prod"])
        .assert()
        .success()
        .stderr(contains("`git mlv deploy model prod --to <dir|url>`"));
    env.mlv(&["deploy", "model", "prod"]).assert().code(2);
    let to = env.outside().join("serve");
    env.mlv(&["deploy", "model", "prod", "--to", to.to_str().unwrap()])
        .assert()
        .success();
    env.commit_model("m2", 0.91);
    env.mlv(&["register", "model", "1.0.1"]).assert().success();
    env.mlv(&["promote", "model@1.0.1", "prod"])
        .assert()
        .success()
        .stderr(contains("`git mlv deploy model prod`"));
    env.mlv(&["deploy", "model", "prod"]).assert().success();
}

/// `mlv.toml` of `ML_PROJECT` with the artifact's metadata (gto keeps these in
/// `artifacts.yaml`; git-mlv in `mlv.toml`).
fn with_metadata() -> TestEnv {
    let env = TestEnv::new();
    env.write(
        "mlv.toml",
        crate::support::ML_PROJECT.replace(
            "path = \"model.pkl\"\n",
            "path = \"model.pkl\"\ntype = \"model\"\ndescription = \"digits classifier\"\nlabels = [\"sklearn\", \"digits\"]\n",
        ),
    );
    env
}

/// `gto history <name> --json`: every registry event of the artifact, newest first.
fn gto_history(env: &TestEnv, name: &str) -> Vec<serde_json::Value> {
    let mut cmd = std::process::Command::new("gto");
    env.isolate(&mut cmd);
    let out = cmd
        .args(["history", name, "--json"])
        .current_dir(env.path("."))
        .output()
        .expect(
            "`gto` is not installed: run `bash scripts/install-test-servers.sh` (pip install gto)",
        );
    assert!(
        out.status.success(),
        "gto history failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events: serde_json::Value = serde_json::from_slice(&out.stdout).expect("gto prints JSON");
    events.as_array().unwrap().clone()
}

/// `git mlv models history <name> --json` and `gto history <name> --json`, field by field
/// (gto's `ref` is git-mlv's `tag`), asserted equal; returns git-mlv's events.
fn history_agrees_with_gto(env: &TestEnv, name: &str) -> Vec<serde_json::Value> {
    let ours = env.json(&["models", "history", name]);
    assert_eq!(ours["name"], name);
    let ours = ours["events"].as_array().unwrap().clone();
    let fields = [
        "timestamp",
        "artifact",
        "event",
        "version",
        "stage",
        "commit",
        "author",
        "author_email",
        "message",
    ];
    let pick = |e: &serde_json::Value, tag: &str| -> serde_json::Value {
        let mut m: serde_json::Map<String, serde_json::Value> = fields
            .iter()
            .map(|f| (f.to_string(), e[*f].clone()))
            .collect();
        m.insert("tag".into(), e[tag].clone());
        m.into()
    };
    let a: Vec<_> = ours.iter().map(|e| pick(e, "tag")).collect();
    let b: Vec<_> = gto_history(env, name)
        .iter()
        .map(|e| pick(e, "ref"))
        .collect();
    assert_eq!(
        a, b,
        "git mlv models history (left) and gto history (right)"
    );
    ours
}

#[test]
fn models_history_lists_every_registry_event_as_gto_history_does() {
    let env = with_metadata();
    let c1 = env.commit_model("m1", 0.9);
    env.mlv(&[
        "register",
        "model",
        "--message",
        "first cut\n\nwith details",
    ])
    .assert()
    .success()
    .stdout("model@v0.0.1\n");
    let c2 = env.commit_model("m2", 0.91);
    let reg = env.json(&["register", "model", "--message", "second"]);
    assert_eq!(reg["message"], "second");
    for v in ["v0.0.1", "v0.0.2"] {
        env.mlv(&["promote", &format!("model@{v}"), "prod"])
            .assert()
            .success();
    }
    env.mlv(&["rollback", "model", "prod"]).assert().success();
    env.gto_do(&[
        "assign",
        "model",
        "--version",
        "v0.0.2",
        "--stage",
        "staging",
    ]);
    env.gto_do(&["deprecate", "model"]);
    let events = history_agrees_with_gto(&env, "model");
    let summary: Vec<(String, String, String)> = events
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or("-").to_string();
            (s("event"), s("version"), s("stage"))
        })
        .collect();
    let row = |e: &str, v: &str, s: &str| (e.to_string(), v.to_string(), s.to_string());
    assert_eq!(
        summary,
        [
            row("deprecation", "-", "-"),
            row("assignment", "v0.0.2", "staging"),
            row("assignment", "v0.0.1", "prod"),
            row("unassignment", "v0.0.2", "prod"),
            row("assignment", "v0.0.2", "prod"),
            row("assignment", "v0.0.1", "prod"),
            row("registration", "v0.0.2", "-"),
            row("registration", "v0.0.1", "-"),
        ]
    );
    assert_eq!(events[7]["message"], "first cut\n\nwith details");
    assert_eq!(events[7]["commit"], c1.as_str());
    assert_eq!(events[6]["commit"], c2.as_str());
    assert_eq!(events[7]["tag"], "model@v0.0.1");
    // The table: newest first, a message's first line only.
    let out = env.mlv(&["models", "history", "model"]).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 9, "{text}");
    assert!(lines[0].starts_with("timestamp"), "{text}");
    assert!(lines[1].contains("deprecation"), "{text}");
    assert!(
        lines[8].contains("first cut") && !text.contains("with details"),
        "{text}"
    );
    // Plain `models` still works beside its new subcommand.
    env.mlv(&["models", "--deprecated"])
        .assert()
        .success()
        .stdout(contains("model  latest v0.0.2"));
    // An artifact neither registered nor declared is a bad request, as is a bad name.
    env.mlv(&["models", "history", "nomodel"])
        .assert()
        .code(2)
        .stderr(contains("`nomodel`"));
    assert!(gto_history(&env, "nomodel").is_empty());
    env.mlv(&["models", "history", "my.model"]).assert().code(2);
}

#[test]
fn models_show_the_artifacts_description_type_and_labels() {
    let env = with_metadata();
    env.commit_model("m1", 0.9);
    // Declared but not yet registered: listed with its metadata, and an empty history.
    let m = &env.json(&["models"])["models"][0];
    assert_eq!(
        (&m["type"], &m["description"], &m["labels"]),
        (
            &serde_json::json!("model"),
            &serde_json::json!("digits classifier"),
            &serde_json::json!(["sklearn", "digits"])
        ),
        "{m}"
    );
    assert_eq!(
        env.json(&["models", "history", "model"])["events"],
        serde_json::json!([])
    );
    env.mlv(&["register", "model"]).assert().success();
    let m = &env.json(&["models"])["models"][0];
    assert_eq!(m["labels"], serde_json::json!(["sklearn", "digits"]));
    assert_eq!(m["latest"], "v0.0.1");
    env.mlv(&["models"]).assert().success().stdout(
        contains("model  latest v0.0.1\n")
            .and(contains("digits classifier"))
            .and(contains("sklearn, digits")),
    );
    // Without metadata, the keys are there and empty.
    let env = TestEnv::ml_project("");
    env.commit_model("m1", 0.9);
    let m = &env.json(&["models"])["models"][0];
    assert_eq!(
        (&m["type"], &m["description"], &m["labels"]),
        (
            &serde_json::Value::Null,
            &serde_json::Value::Null,
            &serde_json::json!([])
        )
    );
    env.mlv(&["models"])
        .assert()
        .success()
        .stdout("model  latest -\n");
    // Labels are a list of strings.
    env.write(
        "mlv.toml",
        crate::support::ML_PROJECT.replace(
            "path = \"model.pkl\"\n",
            "path = \"model.pkl\"\nlabels = \"x\"\n",
        ),
    );
    env.mlv(&["models"])
        .assert()
        .code(2)
        .stderr(contains("mlv.toml"));
}

#[test]
fn a_hostile_register_message_round_trips_without_breaking_the_tag_grammar() {
    let env = TestEnv::ml_project("");
    env.commit_model("m1", 0.9);
    let message = "line one\nmodel@v9.9.9\n# not a comment\nmodel#prod#99 --force\n-m x";
    env.mlv(&["register", "model", "--message", message])
        .assert()
        .success()
        .stdout("model@v0.0.1\n");
    assert_eq!(
        tags(&env).into_iter().map(|(n, _)| n).collect::<Vec<_>>(),
        ["model@v0.0.1"]
    );
    let events = history_agrees_with_gto(&env, "model");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["message"], message);
    assert_eq!(agrees_with_gto(&env)["model"]["latest"], "v0.0.1");
    // A message of blanks is no message: the default one, as gto writes it.
    env.commit_model("m2", 0.91);
    env.mlv(&["register", "model", "--message", "  \n"])
        .assert()
        .success();
    let events = history_agrees_with_gto(&env, "model");
    assert_eq!(
        events[0]["message"],
        "Registering artifact model version v0.0.2"
    );
}
