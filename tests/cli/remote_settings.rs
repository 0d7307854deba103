//! Remote settings against real servers: TLS trust (`ca_bundle`, `ssl_verify`,
//! `AWS_CA_BUNDLE`) through nginx with a self-signed certificate, in front of s3s-fs and as
//! WebDAV; `timeout` against a server that never answers; `read_only`; an S3 `profile` in a
//! `credentials_file`; where `remote set` writes each and what `remote show` prints.

use crate::remotes::without_aws_env;
use crate::servers::{self, ACCESS_KEY, BUCKET, SECRET_KEY};
use crate::support::TestEnv;
use predicates::str::contains;
use std::time::{Duration, Instant};

/// Runs it; returns its exit code and stderr.
fn run(mut cmd: std::process::Command) -> (Option<i32>, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A repository with one tracked file and the remote `name` at `url` (with `endpoint`
/// for s3, and this machine's keys).
fn add_remote(env: &TestEnv, name: &str, url: &str, endpoint: Option<&str>) {
    let mut args = vec!["remote", "add", name, url];
    if let Some(e) = endpoint {
        args.extend(["--endpoint", e]);
        env.mlv(&args).assert().success();
        for (key, value) in [
            ("access_key_id", ACCESS_KEY),
            ("secret_access_key", SECRET_KEY),
        ] {
            env.mlv(&["remote", "set", name, key, value])
                .assert()
                .success();
        }
    } else {
        env.mlv(&args).assert().success();
    }
}

fn tracked_env() -> TestEnv {
    let env = TestEnv::new();
    env.write("data/a.bin", "alpha");
    env.write("data/b.bin", vec![7u8; 3 << 20]);
    env.mlv(&["add", "data"]).assert().success();
    env
}

/// The TLS scenario for one backend: `remote(prefix)` gives a remote's URL and endpoint.
fn tls_scenario(remote: impl Fn(&str) -> (String, Option<String>), cert: &std::path::Path) {
    let env = tracked_env();
    let cert = cert.display().to_string();
    let (url, endpoint) = remote("strict");
    add_remote(&env, "strict", &url, endpoint.as_deref());
    // Without settings: a clear certificate error naming the URL, with the way out.
    let started = Instant::now();
    let (code, err) = run(without_aws_env(&env, &["push", "-r", "strict"]));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains(&url), "{err}");
    assert!(err.to_lowercase().contains("certificate"), "{err}");
    assert!(
        err.contains("ca_bundle") && err.contains("ssl_verify"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "not retried: {err}"
    );
    // `ca_bundle` trusts it.
    env.mlv(&["remote", "set", "strict", "ca_bundle", &cert])
        .assert()
        .success();
    let (code, err) = run(without_aws_env(&env, &["push", "-r", "strict"]));
    assert_eq!(code, Some(0), "{err}");
    // `ssl_verify = false` accepts it.
    let (url, endpoint) = remote("lax");
    add_remote(&env, "lax", &url, endpoint.as_deref());
    env.mlv(&["remote", "set", "lax", "ssl_verify", "false"])
        .assert()
        .success();
    let (code, err) = run(without_aws_env(&env, &["push", "-r", "lax"]));
    assert_eq!(code, Some(0), "{err}");
    // What was pushed comes back through the trusted remote.
    std::fs::remove_dir_all(env.cache_dir()).unwrap();
    std::fs::remove_dir_all(env.path("data")).unwrap();
    let (code, err) = run(without_aws_env(&env, &["pull", "-r", "strict"]));
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(env.read("data/a.bin"), b"alpha");
    // A bundle that is gone is the configuration's fault: exit 2 naming it.
    let gone = env.outside().join("gone.pem");
    let local = env
        .read_str(".mlv/config.local.toml")
        .replace(&cert, &gone.display().to_string());
    env.write(".mlv/config.local.toml", local);
    let (code, err) = run(without_aws_env(&env, &["push", "-r", "strict"]));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains(&gone.display().to_string()), "{err}");
    assert!(err.contains("ca_bundle"), "{err}");
    // And `remote set` refuses one that is not a file.
    env.mlv(&[
        "remote",
        "set",
        "strict",
        "ca_bundle",
        &gone.display().to_string(),
    ])
    .assert()
    .code(2)
    .stderr(contains(gone.display().to_string()));
}

#[test]
fn s3_over_tls_with_a_self_signed_certificate() {
    let s3 = servers::s3();
    let tls = servers::https_proxy(&s3);
    let endpoint = tls.https_url();
    tls_scenario(
        |prefix| (format!("s3://{BUCKET}/{prefix}"), Some(endpoint.clone())),
        &tls.cert(),
    );
}

#[test]
fn http_over_tls_with_a_self_signed_certificate() {
    let tls = servers::https_dav();
    let base = tls.https_url();
    tls_scenario(
        |prefix| (format!("{base}/{BUCKET}/{prefix}"), None),
        &tls.cert(),
    );
}

/// `AWS_CA_BUNDLE` is honoured for `s3://` as the AWS CLI honours it; a remote's own
/// `ca_bundle` comes first.
#[test]
fn s3_takes_aws_ca_bundle_when_the_remote_has_none() {
    let s3 = servers::s3();
    let tls = servers::https_proxy(&s3);
    let env = tracked_env();
    add_remote(
        &env,
        "store",
        &format!("s3://{BUCKET}/p"),
        Some(&tls.https_url()),
    );
    let mut push = without_aws_env(&env, &["push", "-r", "store"]);
    push.env("AWS_CA_BUNDLE", tls.cert());
    let (code, err) = run(push);
    assert_eq!(code, Some(0), "{err}");
    let gone = env.outside().join("nope.pem");
    let mut push = without_aws_env(&env, &["push", "-r", "store"]);
    push.env("AWS_CA_BUNDLE", &gone);
    let (code, err) = run(push);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("AWS_CA_BUNDLE") && err.contains("nope.pem"),
        "{err}"
    );
}

/// A server that accepts connections and never answers: each one waits in the backlog.
fn stalled() -> (std::net::TcpListener, String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    (listener, url)
}

#[test]
fn a_stalled_server_fails_within_the_remote_timeout() {
    let (_held, base) = stalled();
    let port = base.rsplit(':').next().unwrap();
    let env = tracked_env();
    add_remote(&env, "dav", &format!("{base}/{BUCKET}"), None);
    add_remote(&env, "s3", &format!("s3://{BUCKET}/p"), Some(&base));
    // gs:// and az:// with an endpoint and no credentials send unsigned requests.
    let account = format!("{base}/devstoreaccount1");
    for (name, endpoint) in [("gs", base.as_str()), ("az", account.as_str())] {
        let url = format!("{name}://{BUCKET}/p");
        env.mlv(&["remote", "add", name, &url, "--endpoint", endpoint])
            .assert()
            .success();
    }
    // ssh: the stalled server never sends its banner; `timeout` bounds the connection.
    let ssh = format!("ssh://127.0.0.1:{port}/{BUCKET}");
    add_remote(&env, "ssh", &ssh, None);
    for name in ["dav", "s3", "gs", "az", "ssh"] {
        env.mlv(&["remote", "set", name, "timeout", "1"])
            .assert()
            .success();
        let started = Instant::now();
        let (code, err) = run(without_aws_env(&env, &["push", "-r", name]));
        assert_eq!(code, Some(1), "{name}: {err}");
        // Two silent attempts of 1 s and a backoff (about 2.5 s; 3 s for ssh, which starts
        // a process): below the 5 s any of them waits to connect without the setting, and
        // far below the 20 s (HTTP, ssh) and 120 s (S3, GCS, Azure) of silence.
        let took = started.elapsed();
        assert!(took < Duration::from_secs(5), "{name}: {took:?} {err}");
        let url = if name == "dav" {
            base.clone()
        } else {
            format!("{name}://")
        };
        assert!(err.contains(&url), "{name}: {err}");
    }
    env.mlv(&["remote", "set", "dav", "timeout", "0"])
        .assert()
        .code(2)
        .stderr(contains("`timeout` takes a positive number"));
}

#[test]
fn a_read_only_remote_refuses_push_and_gc_but_serves_pulls() {
    let env = tracked_env();
    env.add_folder_remote();
    let name = "store";
    env.mlv(&["push"]).assert().success();
    env.mlv(&["remote", "set", name, "read_only", "true"])
        .assert()
        .success();
    for args in [vec!["push"], vec!["gc", "-r", name, "--force"]] {
        env.mlv(&args)
            .assert()
            .code(2)
            .stderr(contains(format!("remote `{name}` is read-only")))
            .stderr(contains("read_only"));
    }
    env.mlv(&["gc", "-r", name, "--dry-run"]).assert().success();
    std::fs::remove_dir_all(env.cache_dir()).unwrap();
    env.mlv(&["fetch"]).assert().success();
    env.mlv(&["remote", "set", name, "read_only", "maybe"])
        .assert()
        .code(2);
}

#[test]
fn s3_profile_from_the_remotes_credentials_file() {
    let s3 = servers::s3();
    let env = tracked_env();
    std::fs::create_dir_all(env.outside()).unwrap();
    let file = env.outside().join("team-credentials");
    std::fs::write(
        &file,
        format!("[team]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"),
    )
    .unwrap();
    env.mlv(&[
        "remote",
        "add",
        "store",
        &format!("s3://{BUCKET}/p"),
        "--endpoint",
        &s3.url(),
    ])
    .assert()
    .success();
    env.mlv(&["remote", "set", "store", "profile", "team"])
        .assert()
        .success();
    env.mlv(&[
        "remote",
        "set",
        "store",
        "credentials_file",
        &file.display().to_string(),
    ])
    .assert()
    .success()
    .stderr(contains(".mlv/config.local.toml"));
    let (code, err) = run(without_aws_env(&env, &["push", "-r", "store"]));
    assert_eq!(code, Some(0), "{err}");
    // A file that is gone: exit 2 naming it, before any request.
    std::fs::remove_file(&file).unwrap();
    let (code, err) = run(without_aws_env(&env, &["push", "-r", "store"]));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("team-credentials") && err.contains("credentials_file"),
        "{err}"
    );
}

#[test]
fn remote_set_puts_machine_files_in_the_local_file_and_show_prints_every_setting() {
    let env = TestEnv::new();
    env.add_folder_remote();
    std::fs::create_dir_all(env.outside()).unwrap();
    let cert = env.outside().join("ca.pem");
    std::fs::write(&cert, "not read here").unwrap();
    for (key, value) in [
        ("ssl_verify", "false"),
        ("timeout", "30"),
        ("read_only", "true"),
        ("jobs", "4"),
        ("ca_bundle", cert.to_str().unwrap()),
        ("password", "hunter2-do-not-print"),
    ] {
        env.mlv(&["remote", "set", "store", key, value])
            .assert()
            .success();
    }
    let team = env.read_str(".mlv/config.toml");
    let local = env.read_str(".mlv/config.local.toml");
    for key in [
        "ssl_verify = false",
        "timeout = 30",
        "read_only = true",
        "jobs = 4",
    ] {
        assert!(team.contains(key), "{key}: {team}");
    }
    assert!(
        local.contains("ca_bundle") && !team.contains("ca_bundle"),
        "{local}"
    );
    let shown = env.mlv(&["remote", "show", "store"]).assert().success();
    let out = String::from_utf8_lossy(&shown.get_output().stdout).into_owned();
    for line in [
        "ssl_verify = false",
        "timeout = 30",
        "read_only = true",
        "jobs = 4",
        "password = ***",
    ] {
        assert!(out.contains(line), "{line}: {out}");
    }
    assert!(out.contains(cert.to_str().unwrap()), "{out}");
    assert!(!out.contains("hunter2"), "{out}");
    let json = env.json(&["remote", "show", "store"]);
    assert_eq!(json["settings"]["timeout"], 30, "{json}");
    assert_eq!(json["settings"]["password"], "***", "{json}");
}
