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
