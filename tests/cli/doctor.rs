//! `git mlv doctor`: against real remotes (a folder, s3s-fs, nginx), dead and silent
//! servers, wrong credentials, missing hooks, and outside a repository.

use crate::servers::{self, ACCESS_KEY, BUCKET, HTTP_PASSWORD, HTTP_USER, SECRET_KEY};
use crate::support::TestEnv;
use predicates::prelude::*;
use predicates::str::contains;
use serde_json::Value;
use std::time::{Duration, Instant};

/// `git mlv doctor --json`, expecting exit `code`: the parsed report and stderr.
fn doctor_json(env: &TestEnv, code: i32) -> (Value, String) {
    let out = env
        .mlv(&["doctor", "--json"])
        .assert()
        .code(code)
        .get_output()
        .clone();
    let report = serde_json::from_slice(&out.stdout).expect("one JSON object on stdout");
    (report, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// The report's entry for remote `name`.
fn remote<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["remotes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no remote `{name}` in {report:#}"))
}

/// The S3 remote `s3` at `endpoint`, with this machine's credentials.
fn with_s3(env: &TestEnv, endpoint: &str, secret: &str) {
    let url = format!("s3://{BUCKET}/doctor");
    env.mlv(&["remote", "add", "s3", &url, "--endpoint", endpoint])
        .assert()
        .success();
    for (key, value) in [("access_key_id", ACCESS_KEY), ("secret_access_key", secret)] {
        env.mlv(&["remote", "set", "s3", key, value])
            .assert()
            .success();
    }
}

/// `doctor_json` that must end within `seconds`.
fn doctor_within(env: &TestEnv, code: i32, seconds: u64) -> Value {
    let start = Instant::now();
    let (report, _) = doctor_json(env, code);
    let took = start.elapsed();
    assert!(took < Duration::from_secs(seconds), "took {took:?}");
    report
}

#[test]
fn a_healthy_repository_reports_everything_and_exits_0() {
    let server = servers::s3();
    let env = TestEnv::new();
    env.make_dataset("data", 3, "d");
    env.mlv(&["add", "data"]).assert().success();
    let store = env.add_folder_remote();
    with_s3(&env, &server.url(), SECRET_KEY);
    env.mlv(&["push"]).assert().success();
    env.mlv(&["install-hooks"]).assert().success();

    let (r, _) = doctor_json(&env, 0);
    assert_eq!(r["ok"], true, "{r:#}");
    assert_eq!(r["exit_code"], 0);
    assert_eq!(r["problems"], serde_json::json!([]), "{r:#}");
    assert_eq!(r["versions"]["git_mlv"], env!("CARGO_PKG_VERSION"));
    let git = String::from_utf8(
        std::process::Command::new("git")
            .arg("--version")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(
        r["versions"]["git"].as_str().unwrap(),
        git.trim().trim_start_matches("git version ")
    );
    assert_eq!(r["repository"]["root"], env.root.display().to_string());
    assert_eq!(r["repository"]["initialized"], true);
    assert_eq!(r["cache"]["path"], env.cache_dir().display().to_string());
    assert!(!r["cache"]["filesystem"].as_str().unwrap().is_empty());
    assert!(r["cache"]["free_bytes"].as_u64().unwrap() > 0);
    // Cache and work tree share the test's temporary folder: these always work there.
    assert_eq!(r["links"]["copy"], true);
    assert_eq!(r["links"]["hardlink"], true);
    assert_eq!(r["links"]["symlink"], true);
    assert_eq!(
        r["links"]["configured"],
        serde_json::json!(["reflink", "copy"])
    );
    let used = if r["links"]["reflink"] == true {
        "reflink"
    } else {
        "copy"
    };
    assert_eq!(r["links"]["used"], used);
    let folder = remote(&r, "store");
    assert_eq!(folder["url"], store.display().to_string());
    assert_eq!(folder["default"], true);
    let s3 = remote(&r, "s3");
    assert_eq!(s3["url"], format!("s3://{BUCKET}/doctor"));
    assert_eq!(s3["default"], false);
    for remote in [folder, s3] {
        assert_eq!(remote["reachable"], true, "{remote:#}");
        assert_eq!(remote["credentials"], "ok");
        assert!(remote["error"].is_null());
    }
    // The folder remote was pushed to (packs: format 2), the S3 one never.
    assert_eq!(folder["format"], 2);
    assert_eq!(s3["format"], 0);
    for hook in ["pre-commit", "pre-push", "post-checkout", "post-merge"] {
        assert_eq!(r["hooks"]["state"][hook], "installed", "{r:#}");
    }
    assert_eq!(r["stat_cache"]["entries"], 3, "{r:#}");
    assert!(r["stat_cache"]["bytes"].as_u64().unwrap() > 0);

    // The probes leave nothing behind, in the work tree or the cache.
    let leftovers = |dir: &std::path::Path| -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("mlv-tmp") || n.starts_with("doctor"))
            .collect()
    };
    assert_eq!(leftovers(&env.root), Vec::<String>::new());
    assert_eq!(
        leftovers(&env.cache_dir().join("tmp")),
        Vec::<String>::new()
    );

    // The text says the same, on stdout, and ends well.
    env.mlv(&["doctor"])
        .assert()
        .success()
        .stdout(contains(format!(
            "git-mlv     {}",
            env!("CARGO_PKG_VERSION")
        )))
        .stdout(contains("hardlink yes"))
        .stdout(contains("copy yes"))
        .stdout(contains(
            "s3  s3://mlv-bucket/doctor: answers, credentials ok",
        ))
        .stdout(contains("stat cache  3 files"))
        .stderr(contains("everything git-mlv checks works"));
}

#[test]
fn a_dead_remote_fails_fast_with_the_fix() {
    let env = TestEnv::new();
    env.write("m.bin", "model");
    env.mlv(&["add", "m.bin"]).assert().success();
    env.add_folder_remote();
    let port = servers::free_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    env.mlv(&["remote", "add", "web", &format!("{endpoint}/store")])
        .assert()
        .success();
    with_s3(&env, &endpoint, "s");
    let r = doctor_within(&env, 1, 15);
    assert_eq!(r["ok"], false);
    for name in ["web", "s3"] {
        let dead = remote(&r, name);
        assert_eq!(dead["reachable"], false, "{dead:#}");
        assert!(dead["credentials"].is_null());
        let problem = r["problems"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["remote"] == name)
            .unwrap();
        assert_eq!(problem["severity"], "broken");
        assert!(
            problem["hint"]
                .as_str()
                .unwrap()
                .contains(&format!("git mlv remote set {name} endpoint")),
            "{problem:#}"
        );
    }
    assert_eq!(remote(&r, "store")["reachable"], true);
    env.mlv(&["doctor"])
        .assert()
        .code(1)
        .stdout(contains("web  "))
        .stderr(contains("error: remote `web` does not answer"))
        .stderr(contains(format!("127.0.0.1:{port}")))
        .stderr(contains("hint: check that the server is up"));
}

#[test]
fn silent_remotes_are_asked_at_once_each_within_its_timeout() {
    // Black holes: connections accepted, nothing ever sent back.
    let env = TestEnv::new();
    for name in ["hole1", "hole2"] {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for conn in listener.incoming() {
                held.push(conn);
            }
        });
        env.mlv(&["remote", "add", name, &format!("http://127.0.0.1:{port}/x")])
            .assert()
            .success();
    }
    // One at a time would take 20 s.
    let r = doctor_within(&env, 1, 15);
    for name in ["hole1", "hole2"] {
        assert_eq!(remote(&r, name)["reachable"], false);
    }
}

#[test]
fn wrong_s3_credentials_are_named_and_the_secret_never_printed() {
    let server = servers::s3();
    let env = TestEnv::new();
    env.write("m.bin", "model");
    env.mlv(&["add", "m.bin"]).assert().success();
    with_s3(&env, &server.url(), "wrong-secret-value");
    let (r, stderr) = doctor_json(&env, 1);
    let s3 = remote(&r, "s3");
    assert_eq!(s3["reachable"], true, "{s3:#}");
    assert_eq!(s3["credentials"], "refused");
    let text = r.to_string();
    assert!(text.contains("git mlv remote set s3"), "{text}");
    let out = env.mlv(&["doctor"]).assert().code(1).get_output().clone();
    let (stdout, err) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(stdout.contains("credentials refused"), "{stdout}");
    assert!(err.contains("refused access"), "{err}");
    for shown in [&text, &stderr, &stdout.to_string(), &err.to_string()] {
        assert!(!shown.contains("wrong-secret-value"), "{shown}");
    }
}

#[test]
fn a_password_in_a_remote_url_is_masked_in_text_and_json() {
    let server = servers::http(true);
    let env = TestEnv::new();
    let url = format!(
        "http://{HTTP_USER}:{HTTP_PASSWORD}@127.0.0.1:{}/{BUCKET}/x",
        server.port
    );
    env.mlv(&["remote", "add", "web", &url, "--local", "--default"])
        .assert()
        .success();
    let out = env.mlv(&["doctor", "--json"]).assert().get_output().clone();
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let web = remote(&r, "web");
    assert_eq!(web["credentials"], "ok", "{r:#}");
    assert_eq!(
        web["url"],
        format!("http://***@127.0.0.1:{}/{BUCKET}/x", server.port)
    );
    let text = env.mlv(&["doctor"]).assert().get_output().clone();
    for shown in [&out.stdout, &out.stderr, &text.stdout, &text.stderr] {
        let shown = String::from_utf8_lossy(shown);
        assert!(!shown.contains(HTTP_PASSWORD), "{shown}");
    }
    assert!(String::from_utf8_lossy(&text.stdout).contains("http://***@127.0.0.1"));

    // A wrong password: refused, and still never shown.
    let wrong = url.replace(HTTP_PASSWORD, "not-the-password-either");
    env.mlv(&["remote", "add", "bad", &wrong, "--local"])
        .assert()
        .success();
    let (r, stderr) = doctor_json(&env, 1);
    assert_eq!(remote(&r, "bad")["credentials"], "refused", "{r:#}");
    assert!(!r.to_string().contains("not-the-password-either"));
    assert!(!stderr.contains("not-the-password-either"));
}

#[test]
fn hooks_not_installed_are_reported_with_the_command_that_installs_them() {
    let env = TestEnv::new();
    env.write("m.bin", "model");
    env.mlv(&["add", "m.bin"]).assert().success();
    env.add_folder_remote();
    // None installed: hooks are opt-in, so a warning with the fix, exit 0.
    let (r, _) = doctor_json(&env, 0);
    assert_eq!(r["hooks"]["state"]["pre-push"], "missing");
    let problem = &r["problems"][0];
    assert_eq!(problem["check"], "hooks");
    assert_eq!(problem["severity"], "warning");
    assert!(
        problem["hint"]
            .as_str()
            .unwrap()
            .contains("git mlv install-hooks")
    );
    env.mlv(&["doctor"])
        .assert()
        .success()
        .stderr(contains("warning: git-mlv's hooks are not installed"))
        .stderr(contains("hint: run `git mlv install-hooks`"));

    // Some of them gone: a broken install, exit 1.
    env.mlv(&["install-hooks"]).assert().success();
    let hooks = env.root.join(".git/hooks");
    std::fs::remove_file(hooks.join("pre-push")).unwrap();
    std::fs::write(hooks.join("post-merge"), "#!/bin/sh\necho mine\n").unwrap();
    let (r, _) = doctor_json(&env, 1);
    assert_eq!(r["hooks"]["state"]["pre-commit"], "installed");
    assert_eq!(r["hooks"]["state"]["pre-push"], "missing");
    assert_eq!(r["hooks"]["state"]["post-merge"], "other");
    env.mlv(&["doctor"])
        .assert()
        .code(1)
        .stderr(contains("lacking: post-merge, pre-push"))
        .stderr(contains("hint: run `git mlv install-hooks`"));
}

#[test]
fn outside_a_git_mlv_repository_it_reports_versions_and_what_is_missing() {
    let env = TestEnv::new();
    let outside = env.outside();
    std::fs::create_dir_all(&outside).unwrap();
    let mut cmd = env.mlv_std(&["doctor"]);
    cmd.current_dir(&outside);
    assert_cmd::Command::from_std(cmd)
        .assert()
        .code(2)
        .stdout(contains(format!(
            "git-mlv     {}",
            env!("CARGO_PKG_VERSION")
        )))
        .stdout(contains("git         "))
        .stderr(contains("is not inside a git repository"))
        .stderr(contains("hint: run `git init` first"));
    let mut cmd = env.mlv_std(&["doctor", "--json"]);
    cmd.current_dir(&outside);
    let out = assert_cmd::Command::from_std(cmd)
        .assert()
        .code(2)
        .get_output()
        .clone();
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["versions"]["git_mlv"], env!("CARGO_PKG_VERSION"));
    assert!(r["repository"].is_null());
    assert_eq!(r["problems"][0]["severity"], "setup");

    // A git repository where git-mlv was never set up.
    env.mlv(&["doctor"])
        .assert()
        .code(2)
        .stderr(contains("git-mlv is not set up"))
        .stderr(contains("hint: run `git mlv init`"))
        .stdout(contains("cache").not());
}
