//! `deploy` and `rollback` with a target: the version folder layout, the atomic `current`
//! switch (also when a deploy is killed halfway), remembered targets, object stores.

use crate::remotes::{Kind, Remote};
use crate::servers::BUCKET;
use crate::support::TestEnv;
use predicates::str::contains;
use std::path::Path;

fn current(dir: &Path) -> String {
    std::fs::read_link(dir.join("current"))
        .unwrap()
        .display()
        .to_string()
}

#[test]
fn deploy_keeps_versions_switches_current_and_remembers_the_target() {
    let env = TestEnv::ml_project("[artifacts.net]\npath = \"net\"\n");
    env.write("net/a.bin", "weights 1");
    env.write("net/sub/b.bin", "config 1");
    env.mlv(&["add", "-q", "net"]).assert().success();
    env.commit_model("model 1", 0.9);
    env.mlv(&["register", "model"]).assert().success();
    env.mlv(&["register", "net"]).assert().success();
    env.mlv(&["promote", "model@v0.0.1", "prod"])
        .assert()
        .success();
    env.mlv(&["promote", "net@v0.0.1", "prod"])
        .assert()
        .success();
    env.mlv(&["deploy", "model", "prod"])
        .assert()
        .code(2)
        .stderr(contains("--to"));
    // A target URL git-mlv cannot write is named as the deploy target, with the forms that work.
    let out = env
        .mlv(&["deploy", "model", "prod", "--to", "foo://bar"])
        .assert()
        .code(2)
        .stderr(contains(
            "deploy target `foo://bar` has the unknown scheme `foo`",
        ))
        .stderr(contains("a folder path"))
        .stderr(contains("--to <dir|url>"))
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("remote `deploy target`"), "{err}");
    assert!(!err.contains("git mlv remote set"), "{err}");
    // Even where the work tree links into the cache, a deployed file is a copy.
    env.write(".mlv/config.local.toml", "[cache]\nlink = [\"symlink\"]\n");
    let target = env.outside().join("serving");
    let t = target.to_str().unwrap();
    env.mlv(&["deploy", "model", "prod", "--to", t])
        .assert()
        .success();
    let deployed = std::fs::symlink_metadata(target.join("model/v0.0.1/model.pkl")).unwrap();
    assert!(deployed.file_type().is_file(), "{deployed:?}");
    env.mlv(&["deploy", "net", "prod", "--to", t])
        .assert()
        .success();
    assert_eq!(
        std::fs::read(target.join("model/current/model.pkl")).unwrap(),
        b"model 1"
    );
    assert_eq!(current(&target.join("model")), "v0.0.1");
    assert_eq!(
        std::fs::read(target.join("net/v0.0.1/net/sub/b.bin")).unwrap(),
        b"config 1"
    );
    assert_eq!(
        std::fs::read(target.join("net/current/net/a.bin")).unwrap(),
        b"weights 1"
    );
    // A local folder is this machine's: remembered in the local config, not the team's.
    let local = env.read_str(".mlv/config.local.toml");
    assert!(
        local.contains("[deploy.model]") && local.contains("prod = "),
        "{local}"
    );
    assert!(
        !env.exists(".mlv/config.toml") || !env.read_str(".mlv/config.toml").contains("deploy")
    );

    env.commit_model("model 2", 0.91);
    env.mlv(&["register", "model"]).assert().success();
    env.mlv(&["promote", "model@v0.0.2", "prod"])
        .assert()
        .success();
    let d = env.json(&["deploy", "model", "prod"]);
    assert_eq!(d["version"], "v0.0.2");
    assert_eq!(current(&target.join("model")), "v0.0.2");
    assert_eq!(
        std::fs::read(target.join("model/current/model.pkl")).unwrap(),
        b"model 2"
    );
    assert!(
        target.join("model/v0.0.1/model.pkl").exists(),
        "earlier versions are kept"
    );
    // Rollback switches the remembered target back, fast: the folder is already there.
    let r = env.json(&["rollback", "model", "prod"]);
    assert_eq!(r["to"], "v0.0.1");
    assert!(r["seconds"].as_f64().unwrap() < 0.5, "{r}");
    assert_eq!(current(&target.join("model")), "v0.0.1");
    assert_eq!(
        std::fs::read(target.join("model/current/model.pkl")).unwrap(),
        b"model 1"
    );
    let leftovers: Vec<_> = std::fs::read_dir(target.join("model"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_fresh_clone_fetches_the_version_from_the_remote() {
    let remote = Remote::start(Kind::Folder);
    let env = TestEnv::ml_project("");
    remote.add_to(&env);
    env.commit_model("trained weights", 0.9);
    env.mlv(&["push"]).assert().success();
    env.mlv(&["register", "model"]).assert().success();
    env.mlv(&["promote", "model@v0.0.1", "prod"])
        .assert()
        .success();
    let runner = env.clone_repo("runner");
    let target = runner.outside().join("serving");
    runner
        .mlv(&["deploy", "model", "prod", "--to", target.to_str().unwrap()])
        .assert()
        .success();
    assert_eq!(
        std::fs::read(target.join("model/current/model.pkl")).unwrap(),
        b"trained weights"
    );
}

#[test]
fn a_deploy_killed_halfway_leaves_current_on_the_old_version() {
    let env = TestEnv::ml_project("");
    env.commit_model("small old model", 0.9);
    env.mlv(&["register", "model"]).assert().success();
    env.mlv(&["promote", "model@v0.0.1", "prod"])
        .assert()
        .success();
    let target = env.outside().join("serving");
    env.mlv(&["deploy", "model", "prod", "--to", target.to_str().unwrap()])
        .assert()
        .success();
    // A big new version, so the copy into the target takes a while to kill it in.
    let mut big = vec![7u8; 256 << 20];
    big[..12].copy_from_slice(b"big model v2");
    env.commit_model(&big, 0.91);
    env.mlv(&["register", "model"]).assert().success();
    env.mlv(&["promote", "model@v0.0.2", "prod"])
        .assert()
        .success();
    let dir = target.join("model");
    let mut child = env
        .mlv_process(&["deploy", "model", "prod"])
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let staging = || {
        std::fs::read_dir(&dir).unwrap().any(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".deploying-")
        })
    };
    while !staging() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "deploy ended before it could be killed"
        );
        assert!(std::time::Instant::now() < deadline);
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(current(&dir), "v0.0.1");
    assert_eq!(
        std::fs::read(dir.join("current/model.pkl")).unwrap(),
        b"small old model"
    );
    assert!(
        !dir.join("v0.0.2").exists(),
        "no half-written version folder"
    );
    // The next deploy clears the dead one's scratch and completes.
    env.mlv(&["deploy", "model", "prod"]).assert().success();
    assert_eq!(current(&dir), "v0.0.2");
    assert_eq!(
        std::fs::metadata(dir.join("current/model.pkl"))
            .unwrap()
            .len(),
        big.len() as u64
    );
    assert!(
        !std::fs::read_dir(&dir).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with('.'))
    );
}

#[test]
fn deploy_to_an_object_store_writes_current_json_last() {
    let remote = Remote::start(Kind::S3);
    let env = TestEnv::ml_project("");
    remote.add_to(&env);
    env.commit_model("model one", 0.9);
    env.mlv(&["register", "model"]).assert().success();
    env.commit_model("model two", 0.91);
    env.mlv(&["register", "model"]).assert().success();
    env.mlv(&["promote", "model@v0.0.1", "prod"])
        .assert()
        .success();
    let url = format!("s3://{BUCKET}/deploys");
    // Endpoint and credentials come from the configured remote on the same bucket.
    env.mlv(&["deploy", "model", "prod", "--to", &url])
        .assert()
        .success();
    let bucket = remote
        .server
        .as_ref()
        .unwrap()
        .dir
        .path()
        .join("data")
        .join(BUCKET);
    let read_current = || -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(bucket.join("deploys/model/current.json")).unwrap())
            .unwrap()
    };
    assert_eq!(read_current()["path"], "v0.0.1/model.pkl");
    assert_eq!(
        std::fs::read(bucket.join("deploys/model/v0.0.1/model.pkl")).unwrap(),
        b"model one"
    );
    // A URL is the team's: remembered in the committed config.
    assert!(
        env.read_str(".mlv/config.toml")
            .contains(&format!("prod = \"{url}\""))
    );
    env.mlv(&["promote", "model@v0.0.2", "prod"])
        .assert()
        .success();
    env.mlv(&["deploy", "model", "prod"]).assert().success();
    assert_eq!(read_current()["version"], "v0.0.2");
    env.mlv(&["rollback", "model", "prod"]).assert().success();
    assert_eq!(read_current()["version"], "v0.0.1");
    assert!(bucket.join("deploys/model/v0.0.2/model.pkl").exists());
}

/// The output of a command, stdout and stderr together, for checks that a secret never shows.
fn all_output(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Issue 12, item 8: a deploy URL with a password is printed redacted everywhere (text,
/// `--json`, errors) and stored only in `.mlv/config.local.toml`.
#[test]
fn a_deploy_url_with_credentials_is_redacted_and_stored_only_locally() {
    use crate::servers::{HTTP_PASSWORD, HTTP_USER};
    let server = crate::servers::http(true);
    let env = two_versions_the_first_in_prod("model one", "model two");
    let host = server.url().replace("http://", "");
    let url = format!("http://{HTTP_USER}:{HTTP_PASSWORD}@{host}/{BUCKET}/deploys");
    let out = env
        .mlv(&["deploy", "model", "prod", "--to", &url])
        .assert()
        .success()
        .get_output()
        .clone();
    let printed = all_output(&out);
    assert!(!printed.contains(HTTP_PASSWORD), "{printed}");
    assert!(
        printed.contains(&format!("http://***@{host}/")),
        "{printed}"
    );
    assert!(printed.contains(".mlv/config.local.toml"), "{printed}");
    assert_eq!(
        std::fs::read(server.object_file("deploys", "model/v0.0.1/model.pkl")).unwrap(),
        b"model one"
    );
    let committed = if env.exists(".mlv/config.toml") {
        env.read_str(".mlv/config.toml")
    } else {
        String::new()
    };
    assert!(!committed.contains(HTTP_PASSWORD), "{committed}");
    assert!(!committed.contains("deploy"), "{committed}");
    assert!(
        env.read_str(".mlv/config.local.toml")
            .contains(&format!("prod = \"{url}\"")),
        "the credentials stay usable on this machine"
    );
    // The remembered URL deploys again, printed redacted in --json too.
    env.mlv(&["promote", "model@v0.0.2", "prod"])
        .assert()
        .success();
    let out = env
        .mlv(&["deploy", "model", "prod", "--json"])
        .assert()
        .success()
        .get_output()
        .clone();
    let printed = all_output(&out);
    assert!(!printed.contains(HTTP_PASSWORD), "{printed}");
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(d["version"], "v0.0.2");
    assert!(d["target"].as_str().unwrap().contains("***@"), "{d}");
    // A failure names the target, redacted.
    let mut down = server;
    down.stop();
    let out = env
        .mlv(&["rollback", "model", "prod"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let printed = all_output(&out);
    assert!(!printed.contains(HTTP_PASSWORD), "{printed}");
    assert!(
        printed.contains(&format!("http://***@{host}/")),
        "{printed}"
    );
}

/// Deletes every tag, so a version can be registered again on another commit.
fn delete_tags(env: &TestEnv) {
    for tag in env.git(&["tag"]).lines() {
        env.git(&["tag", "-d", tag]);
    }
}

/// Issue 12, item 10: a version folder already at the target is checked against the
/// version's hash before `current` switches to it; one that does not match is rebuilt.
#[test]
fn a_version_folder_that_does_not_match_the_version_is_rebuilt() {
    let env = TestEnv::ml_project("[artifacts.net]\npath = \"net\"\n");
    env.write("net/a.bin", "weights 1");
    env.mlv(&["add", "-q", "net"]).assert().success();
    env.commit_model("model 1", 0.9);
    env.mlv(&["register", "model"]).assert().success();
    env.mlv(&["register", "net"]).assert().success();
    env.mlv(&["promote", "model@v0.0.1", "prod"])
        .assert()
        .success();
    env.mlv(&["promote", "net@v0.0.1", "prod"])
        .assert()
        .success();
    let target = env.outside().join("serving");
    let t = target.to_str().unwrap();
    env.mlv(&["deploy", "model", "prod", "--to", t])
        .assert()
        .success();
    env.mlv(&["deploy", "net", "prod", "--to", t])
        .assert()
        .success();
    let dir = target.join("model");

    // v0.0.1 registered again on another commit: `current` serves the new bytes.
    delete_tags(&env);
    env.write("net/a.bin", "weights 2");
    env.write("net/b.bin", "more weights");
    env.mlv(&["add", "-q", "net"]).assert().success();
    env.commit_model("model 1, retrained", 0.9);
    env.mlv(&["register", "model", "0.0.1"]).assert().success();
    env.mlv(&["register", "net", "0.0.1"]).assert().success();
    env.mlv(&["promote", "model@v0.0.1", "prod"])
        .assert()
        .success();
    env.mlv(&["promote", "net@v0.0.1", "prod"])
        .assert()
        .success();
    env.mlv(&["deploy", "model", "prod"]).assert().success();
    env.mlv(&["deploy", "net", "prod"]).assert().success();
    assert_eq!(
        std::fs::read(dir.join("current/model.pkl")).unwrap(),
        b"model 1, retrained"
    );
    assert_eq!(
        std::fs::read(target.join("net/current/net/a.bin")).unwrap(),
        b"weights 2"
    );
    assert_eq!(
        std::fs::read(target.join("net/current/net/b.bin")).unwrap(),
        b"more weights"
    );

    // A foreign folder under the next version's name is not taken for a deploy.
    std::fs::create_dir_all(dir.join("v0.0.2")).unwrap();
    std::fs::write(dir.join("v0.0.2/junk"), "junk").unwrap();
    env.commit_model("model 2", 0.91);
    env.mlv(&["register", "model"]).assert().success();
    env.mlv(&["promote", "model@v0.0.2", "prod"])
        .assert()
        .success();
    env.mlv(&["deploy", "model", "prod"]).assert().success();
    assert_eq!(current(&dir), "v0.0.2");
    assert_eq!(
        std::fs::read(dir.join("current/model.pkl")).unwrap(),
        b"model 2"
    );
    assert!(!dir.join("v0.0.2/junk").exists());

    // Bytes changed in place (same size) are found by hashing: the rollback rebuilds them.
    std::fs::write(dir.join("v0.0.1/model.pkl"), "model 1, RETRAINED").unwrap();
    env.mlv(&["rollback", "model", "prod"]).assert().success();
    assert_eq!(current(&dir), "v0.0.1");
    assert_eq!(
        std::fs::read(dir.join("current/model.pkl")).unwrap(),
        b"model 1, retrained"
    );
    // A file added beside a folder artifact's files is not part of the version.
    std::fs::write(target.join("net/v0.0.1/net/extra.bin"), "extra").unwrap();
    env.mlv(&["deploy", "net", "prod"]).assert().success();
    assert!(!target.join("net/current/net/extra.bin").exists());
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Issue 12, item 10 on a URL target: a version already uploaded from other bytes is
/// uploaded again.
#[test]
fn a_version_at_a_url_that_does_not_match_the_version_is_uploaded_again() {
    let server = crate::servers::http(false);
    let env = TestEnv::ml_project("");
    env.commit_model("model 1", 0.9);
    env.mlv(&["register", "model"]).assert().success();
    env.mlv(&["promote", "model@v0.0.1", "prod"])
        .assert()
        .success();
    let url = format!("{}/{BUCKET}/deploys", server.url());
    env.mlv(&["deploy", "model", "prod", "--to", &url])
        .assert()
        .success();
    delete_tags(&env);
    env.commit_model("model 1, retrained", 0.9);
    env.mlv(&["register", "model", "0.0.1"]).assert().success();
    env.mlv(&["promote", "model@v0.0.1", "prod"])
        .assert()
        .success();
    env.mlv(&["deploy", "model", "prod"]).assert().success();
    assert_eq!(
        std::fs::read(server.object_file("deploys", "model/v0.0.1/model.pkl")).unwrap(),
        b"model 1, retrained"
    );
}

/// Issue 12, item 14: one target per artifact and stage, the last one given, wherever it
/// is stored.
#[test]
fn the_last_deploy_target_given_wins_for_rollback() {
    let server = crate::servers::http(false);
    let env = two_versions_the_first_in_prod("model 1", "model 2");
    let folder = env.outside().join("serving");
    env.mlv(&["deploy", "model", "prod", "--to", folder.to_str().unwrap()])
        .assert()
        .success();
    env.mlv(&["promote", "model@v0.0.2", "prod"])
        .assert()
        .success();
    let url = format!("{}/{BUCKET}/deploys", server.url());
    env.mlv(&["deploy", "model", "prod", "--to", &url])
        .assert()
        .success();
    assert!(
        !env.read_str(".mlv/config.local.toml").contains("prod"),
        "the folder target is forgotten"
    );
    env.mlv(&["rollback", "model", "prod"]).assert().success();
    let current: serde_json::Value = serde_json::from_slice(
        &std::fs::read(server.object_file("deploys", "model/current.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(current["version"], "v0.0.1");
    // And back: a folder given last wins over the team's URL on this machine.
    env.mlv(&["deploy", "model", "prod", "--to", folder.to_str().unwrap()])
        .assert()
        .success();
    assert!(!env.read_str(".mlv/config.toml").contains("prod"));
    assert!(env.read_str(".mlv/config.local.toml").contains("prod"));
}

/// Issue 12, item 19: a failed deploy leaves no scratch folder; a `current` that is a real
/// folder is refused before anything is written; `--to` naming a file says what it takes.
#[test]
fn deploy_failures_leave_the_target_clean_and_say_what_to_do() {
    let env = TestEnv::ml_project("");
    env.commit_model(vec![1u8; 1 << 20], 0.9);
    env.mlv(&["register", "model"]).assert().success();
    env.mlv(&["promote", "model@v0.0.1", "prod"])
        .assert()
        .success();
    let target = env.outside().join("serving");
    let t = target.to_str().unwrap();
    // A file size limit (with SIGXFSZ ignored, so writes fail with EFBIG rather than the
    // process dying) fails the copy into the scratch folder halfway.
    let inner = env.mlv_std(&["deploy", "model", "prod", "--to", t]);
    let mut limited = std::process::Command::new("sh");
    limited
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 64; exec \"$0\" \"$@\"")
        .arg(inner.get_program())
        .args(inner.get_args())
        .current_dir(inner.get_current_dir().unwrap());
    for (k, v) in inner.get_envs() {
        match v {
            Some(v) => limited.env(k, v),
            None => limited.env_remove(k),
        };
    }
    let out = limited.output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    let dir = target.join("model");
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect()
        })
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // A stale scratch folder of a dead deploy is swept by the next deploy, even one that
    // only switches `current`.
    env.mlv(&["deploy", "model", "prod", "--to", t])
        .assert()
        .success();
    std::fs::create_dir_all(dir.join(".deploying-v0.0.1-999999999")).unwrap();
    env.mlv(&["deploy", "model", "prod"]).assert().success();
    assert!(!dir.join(".deploying-v0.0.1-999999999").exists());

    // `current` made a real folder by hand: refused, with a hint, and nothing left behind.
    std::fs::remove_file(dir.join("current")).unwrap();
    std::fs::create_dir(dir.join("current")).unwrap();
    std::fs::write(dir.join("current/model.pkl"), "hand copy").unwrap();
    env.mlv(&["deploy", "model", "prod"])
        .assert()
        .code(2)
        .stderr(contains("is not a symlink"))
        .stderr(contains("hint:"));
    assert_eq!(
        std::fs::read(dir.join("current/model.pkl")).unwrap(),
        b"hand copy"
    );
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["current", "v0.0.1"]);

    // `--to` a regular file.
    env.write("notes.txt", "not a folder");
    env.mlv(&["deploy", "model", "prod", "--to", "notes.txt"])
        .assert()
        .code(2)
        .stderr(contains("`--to` names a folder"));
}

#[test]
fn an_scp_style_deploy_target_is_an_ssh_target_and_never_becomes_a_folder() {
    let env = TestEnv::ml_project("");
    env.commit_model("model 1", 0.9);
    env.mlv(&["register", "model"]).assert().success();
    env.mlv(&["promote", "model@v0.0.1", "prod"])
        .assert()
        .success();
    // `.invalid` never resolves: the deploy reaches SSH and fails there.
    env.mlv(&[
        "deploy",
        "model",
        "prod",
        "--to",
        "me@nas.invalid:/srv/models",
    ])
    .assert()
    .code(1)
    .stderr(contains("`me@nas.invalid` over SSH"));
    // Remembered by hand: the same.
    env.write(
        ".mlv/config.local.toml",
        "[deploy.model]\nprod = \"me@nas.invalid:/srv/models\"\n",
    );
    env.mlv(&["deploy", "model", "prod"])
        .assert()
        .code(1)
        .stderr(contains("`me@nas.invalid` over SSH"));
    assert!(!env.exists("me@nas.invalid:"));
}

/// Issue 13: a URL target is remembered in the team's `.mlv/config.toml`; the hint is the
/// exact `git add` that shares it.
#[test]
fn a_target_remembered_in_the_team_config_ends_with_its_git_add() {
    let remote = Remote::start(Kind::S3);
    let env = TestEnv::ml_project("");
    remote.add_to(&env);
    env.commit_model("model one", 0.9);
    env.mlv(&["register", "model"]).assert().success();
    env.mlv(&["promote", "model@v0.0.1", "prod"])
        .assert()
        .success();
    let url = format!("s3://{BUCKET}/deploys");
    let err = crate::support::stderr_of(
        env.mlv(&["deploy", "model", "prod", "--to", &url])
            .assert()
            .success(),
    );
    assert!(err.contains("`git add .mlv/config.toml`"), "{err}");
    env.run_git_add_hint(".", &err);
}

/// Issue 19: `deploy --tag` and `which --tag` read a registry tag as CI hands it over.
#[test]
fn deploy_and_which_take_a_registry_tag() {
    let env = two_versions_the_first_in_prod("model 1", "model 2");
    env.mlv(&["promote", "model@v0.0.2", "prod"])
        .assert()
        .success();
    let target = env.outside().join("serving");
    let t = target.to_str().unwrap();
    // The older tag deploys what the stage holds now.
    let d = env.json(&["deploy", "--tag", "model#prod#1", "--to", t]);
    assert_eq!(
        (&d["version"], &d["tag_version"], &d["result"], &d["event"]),
        (
            &"v0.0.2".into(),
            &"v0.0.1".into(),
            &"deployed".into(),
            &"assign".into()
        ),
        "{d}"
    );
    assert_eq!(current(&target.join("model")), "v0.0.2");
    // Again: nothing to do, said so.
    env.mlv(&["deploy", "--tag", "model#prod#2"])
        .assert()
        .success()
        .stderr(contains("nothing to do"));
    let d = env.json(&["deploy", "--tag", "model#prod#2"]);
    assert_eq!(
        (&d["result"], &d["changed"]),
        (&"unchanged".into(), &false.into())
    );
    // which --tag: what the tag says, and what the stage holds now.
    let w = env.json(&["which", "--tag", "model#prod#1"]);
    assert_eq!(
        (
            &w["event"],
            &w["name"],
            &w["stage"],
            &w["version"],
            &w["latest"]
        ),
        (
            &"assign".into(),
            &"model".into(),
            &"prod".into(),
            &"v0.0.1".into(),
            &false.into()
        ),
        "{w}"
    );
    assert_eq!(w["stage_holds"]["version"], "v0.0.2");
    env.mlv(&["which", "--tag", "model@v0.0.2"])
        .assert()
        .success()
        .stdout(predicates::str::starts_with("register  model  -  v0.0.2  "));
    env.mlv(&["which", "model", "prod"])
        .assert()
        .success()
        .stdout(predicates::str::starts_with("v0.0.2  "));
    env.mlv(&["which", "model", "prod", "--tag", "model@v0.0.2"])
        .assert()
        .code(2);
    // A rollback's unassign tag deploys the rollback's target.
    let r = env.json(&["rollback", "model", "prod"]);
    assert_eq!(
        current(&target.join("model")),
        "v0.0.1",
        "rollback switched it"
    );
    env.mlv(&["deploy", "--tag", r["tags"][0].as_str().unwrap()])
        .assert()
        .success()
        .stderr(contains("nothing to do"));
    // A version tag deploys nothing, unless --stage names a stage the registry leaves alone.
    env.mlv(&["deploy", "--tag", "model@v0.0.1"])
        .assert()
        .success()
        .stderr(contains("nothing to deploy"));
    assert_eq!(current(&target.join("model")), "v0.0.1");
    env.mlv(&["deploy", "--tag", "model@v0.0.1", "--stage", "prod"])
        .assert()
        .code(2)
        .stderr(contains("promote"));
    let dev = env.outside().join("dev");
    let d = env.json(&[
        "deploy",
        "--tag",
        "model@v0.0.1",
        "--stage",
        "dev",
        "--to",
        dev.to_str().unwrap(),
    ]);
    assert_eq!(d["version"], "v0.0.2", "the newest registration: {d}");
    assert_eq!(current(&dev.join("model")), "v0.0.2");
    env.mlv(&["deploy", "--tag", "model#prod#1", "--stage", "dev"])
        .assert()
        .code(2);
    // Not a registry tag, not here, lightweight: exit 2, each with what to do.
    env.mlv(&["deploy", "--tag", "v1.0"])
        .assert()
        .code(2)
        .stderr(contains("not a registry tag"));
    env.mlv(&["deploy", "--tag", "model#prod#99"])
        .assert()
        .code(2)
        .stderr(contains("git fetch --tags"))
        .stderr(contains("fetch-depth: 0"));
    env.mlv(&["which", "--tag", "model#prod#99"])
        .assert()
        .code(2);
    let head = env.git(&["rev-parse", "HEAD"]);
    env.git(&["tag", "-f", "model#prod#2", head.trim()]);
    env.mlv(&["deploy", "--tag", "model#prod#2"])
        .assert()
        .code(2)
        .stderr(contains("git fetch --force --tags"));
    // A deprecation tag deploys nothing and removes nothing.
    env.git(&["tag", "-a", "-m", "deprecate", "model@deprecated"]);
    env.mlv(&["deploy", "--tag", "model@deprecated"])
        .assert()
        .success()
        .stderr(contains("deprecates"));
    assert_eq!(current(&target.join("model")), "v0.0.1");
}

/// Issue 19: a stage left empty by an unassignment cannot be deployed: exit 1, `current`
/// left as it was.
#[test]
fn deploy_tag_of_a_stage_left_empty_fails_and_keeps_current() {
    let env = TestEnv::ml_project("");
    let commit = env.commit_model("model 1", 0.9);
    env.mlv(&["register", "model"]).assert().success();
    env.mlv(&["promote", "model@v0.0.1", "prod"])
        .assert()
        .success();
    let target = env.outside().join("serving");
    env.mlv(&[
        "deploy",
        "--tag",
        "model#prod#1",
        "--to",
        target.to_str().unwrap(),
    ])
    .assert()
    .success();
    // As `gto deprecate model v0.0.1 prod` writes it, dated after the assignment.
    let out = std::process::Command::new("git")
        .args(["tag", "-a", "-m", "unassign", "model#prod!#2", &commit])
        .current_dir(&env.root)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_COMMITTER_NAME", "gto")
        .env("GIT_COMMITTER_EMAIL", "gto@example.com")
        .env("GIT_COMMITTER_DATE", "@4102444800 +0000")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    env.mlv(&["deploy", "--tag", "model#prod!#2"])
        .assert()
        .code(1)
        .stderr(contains("holds no version"))
        .stderr(contains("left as it was"));
    assert_eq!(current(&target.join("model")), "v0.0.1");
}

/// `model` registered twice (v0.0.1 with `first`, accuracy 0.9; v0.0.2 with `second`, 0.91),
/// v0.0.1 promoted to `prod`.
fn two_versions_the_first_in_prod(first: &str, second: &str) -> TestEnv {
    let env = TestEnv::ml_project("");
    env.commit_model(first, 0.9);
    env.mlv(&["register", "model"]).assert().success();
    env.commit_model(second, 0.91);
    env.mlv(&["register", "model"]).assert().success();
    env.mlv(&["promote", "model@v0.0.1", "prod"])
        .assert()
        .success();
    env
}
