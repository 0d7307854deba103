//! SSH remotes against a real sshd (`servers::ssh`), beyond the shared scenarios that run
//! for every backend (`each_backend!`): the scp-style form, a host alias from an ssh
//! config file, and the errors that must come at once instead of a prompt.

use crate::remotes::{Kind, Remote};
use crate::servers::BUCKET;
use crate::support::{TestEnv, stderr_of};
use predicates::str::contains;
use std::path::Path;
use std::time::{Duration, Instant};

/// The folder the server keeps the remote in.
fn remote_dir(remote: &Remote, name: &str) -> std::path::PathBuf {
    remote
        .server
        .as_ref()
        .unwrap()
        .dir
        .path()
        .join("data")
        .join(BUCKET)
        .join(name)
}

/// Adds `url` as the default remote `store` with this test's ssh files.
fn add(env: &TestEnv, remote: &Remote, url: &str) {
    env.mlv(&["remote", "add", "store", url, "--default"])
        .assert()
        .success();
    remote.credentials(env);
}

/// An empty ssh config in place of the test's, whose `Host *` names the accepted key and
/// the server's known_hosts (and never the real user's `~/.ssh/config`).
fn no_ssh_config(env: &TestEnv) {
    let empty = env.outside().join("ssh_config");
    std::fs::create_dir_all(env.outside()).unwrap();
    std::fs::write(&empty, "").unwrap();
    env.mlv(&[
        "remote",
        "set",
        "store",
        "ssh_config",
        empty.to_str().unwrap(),
    ])
    .assert()
    .success();
}

fn project() -> TestEnv {
    let env = TestEnv::new();
    env.make_dataset("data", 12, "v1");
    env.mlv(&["add", "data"]).assert().success();
    env
}

#[test]
fn scp_style_and_ssh_urls_reach_a_host_alias_from_the_ssh_config() {
    let remote = Remote::start(Kind::Ssh);
    for (n, form) in ["mlvbox:{}", "ssh://mlvbox{}"].iter().enumerate() {
        let dir = remote_dir(&remote, &format!("alias{n}"));
        let url = form.replace("{}", dir.to_str().unwrap());
        let env = project();
        add(&env, &remote, &url);
        env.git(&["add", "-A"]);
        env.git(&["commit", "-qm", "data"]);
        let pushed = env.json(&["push"]);
        assert_eq!(
            pushed["failed"].as_array().unwrap().len(),
            0,
            "{url}: {pushed}"
        );
        assert!(dir.join("format.toml").is_file(), "{url}");
        let mate = env.clone_repo("mate");
        remote.credentials(&mate);
        mate.mlv(&["pull"]).assert().success();
        assert_eq!(mate.read_str("data/part1/f1.csv"), "v1,1\n", "{url}");
        mate.mlv(&["fsck", "-r", "store"]).assert().success();
    }
}

#[test]
fn ssh_file_settings_stay_on_this_machine() {
    let remote = Remote::start(Kind::Ssh);
    let env = project();
    add(&env, &remote, &remote.url());
    let local = env.read_str(".mlv/config.local.toml");
    let team = env.read_str(".mlv/config.toml");
    for key in ["identity_file", "known_hosts", "ssh_config"] {
        assert!(local.contains(key), "{key} in the local file: {local}");
        assert!(!team.contains(key), "{key} not in the team's: {team}");
    }
}

#[test]
fn an_unknown_host_key_fails_at_once_naming_the_host_and_the_fix() {
    let remote = Remote::start(Kind::Ssh);
    let env = project();
    add(&env, &remote, &remote.url());
    let empty = env.outside().join("known_hosts");
    std::fs::create_dir_all(env.outside()).unwrap();
    std::fs::write(&empty, "").unwrap();
    let stderr = push_with_setting_fails_at_once(&env, "known_hosts", &empty);
    for part in [
        "host key of `127.0.0.1:",
        "ssh-keyscan -p",
        empty.to_str().unwrap(),
        "hint:",
    ] {
        assert!(stderr.contains(part), "{part}: {stderr}");
    }
    assert_eq!(
        std::fs::read_to_string(&empty).unwrap(),
        "",
        "nothing was added to known_hosts"
    );
}

#[test]
fn a_refused_key_fails_at_once_naming_the_setting() {
    let remote = Remote::start(Kind::Ssh);
    let env = project();
    add(&env, &remote, &remote.url());
    let stranger = remote.ssh.as_ref().unwrap().stranger_key.clone();
    let stderr = push_with_setting_fails_at_once(&env, "identity_file", &stranger);
    for part in ["refused the SSH key", "identity_file"] {
        assert!(stderr.contains(part), "{part}: {stderr}");
    }
}

/// Sets `setting` of the remote `store` to `value` and pushes with no ssh config of the
/// user's: the push must fail (exit 1) in under 30 s, never waiting on a prompt. Its stderr.
fn push_with_setting_fails_at_once(env: &TestEnv, setting: &str, value: &Path) -> String {
    env.mlv(&["remote", "set", "store", setting, value.to_str().unwrap()])
        .assert()
        .success();
    no_ssh_config(env);
    let start = Instant::now();
    let out = env
        .mlv(&["push"])
        .timeout(Duration::from_secs(60))
        .assert()
        .code(1);
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "{:?}",
        start.elapsed()
    );
    stderr_of(out)
}

#[test]
fn a_windows_drive_path_is_no_ssh_host() {
    let env = TestEnv::new();
    env.mlv(&["remote", "add", "win", "C:\\data\\store"])
        .assert()
        .code(2)
        .stderr(contains("Windows drive path"));
}
