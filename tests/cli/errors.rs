//! Bad input gets a clear message naming the path, the spec's exit code, and loses nothing.

use crate::support::TestEnv;
use predicates::str::contains;

fn with_model() -> TestEnv {
    let env = TestEnv::new();
    env.write("model.pkl", "weights");
    env.mlv(&["add", "model.pkl"]).assert().success();
    env
}

#[test]
fn corrupt_or_truncated_pointer_names_the_file() {
    let env = with_model();
    let good = env.read_str("model.pkl.mlv");
    env.write("model.pkl.mlv", &good[..good.len() / 2]);
    for args in [&["status"][..], &["checkout"], &["ls"]] {
        env.mlv(args)
            .assert()
            .code(2)
            .stderr(contains("model.pkl.mlv"))
            .stderr(contains("hint:"));
    }
    env.write(
        "model.pkl.mlv",
        "version = 1\nhash = \"b3:nothex\"\nsize = 7\n",
    );
    env.mlv(&["checkout"])
        .assert()
        .code(2)
        .stderr(contains("model.pkl.mlv"));
    assert_eq!(
        env.read_str("model.pkl"),
        "weights",
        "the data is untouched"
    );
}

#[test]
fn the_damaged_pointer_hints_work() {
    let env = with_model();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "model"]);
    env.write("model.pkl.mlv", "garbage = [\n");
    env.mlv(&["status"])
        .assert()
        .code(2)
        .stderr(contains("git mlv add"))
        .stderr(contains("model.pkl`"));
    // The hint's `git mlv add` replaces the damaged pointer, and says so.
    env.mlv(&["add", "model.pkl"])
        .assert()
        .success()
        .stderr(contains("replaced the damaged pointer `model.pkl.mlv`"));
    env.mlv(&["status", "--check"]).assert().success();
    assert_eq!(env.git(&["status", "--porcelain"]), "");
    // A pointer newer than this build is still refused, not replaced.
    let newer = env
        .read_str("model.pkl.mlv")
        .replace("version = 1", "version = 2");
    env.write("model.pkl.mlv", &newer);
    env.mlv(&["add", "model.pkl"]).assert().code(2);
    assert_eq!(env.read_str("model.pkl.mlv"), newer);

    // Damaged in a commit: the hint names git commands that exist.
    env.write("model.pkl.mlv", "garbage = [\n");
    env.git(&["commit", "-qam", "damaged"]);
    let out = env.mlv(&["ls", "--rev", "HEAD"]).assert().code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("committed at `HEAD`"), "{err}");
    assert!(!err.contains("git checkout -- HEAD:"), "{err}");
    assert!(err.contains("`git show HEAD:model.pkl.mlv`"), "{err}");
    env.git(&["show", "HEAD:model.pkl.mlv"]);
}

#[test]
fn newer_pointer_version_is_refused() {
    let env = with_model();
    let newer = env
        .read_str("model.pkl.mlv")
        .replace("version = 1", "version = 2");
    env.write("model.pkl.mlv", newer);
    env.mlv(&["status"])
        .assert()
        .code(2)
        .stderr(contains("version 2"))
        .stderr(contains("upgrade git-mlv"));
}

#[test]
fn path_outside_the_repository() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.outside()).unwrap();
    std::fs::write(env.outside().join("x.csv"), "x").unwrap();
    let arg = env.outside().join("x.csv");
    env.mlv(&["add", arg.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(contains("outside the repository"));
    env.mlv(&["add", "../outside/x.csv"])
        .assert()
        .code(2)
        .stderr(contains("outside the repository"));
}

#[test]
fn path_that_does_not_exist() {
    let env = TestEnv::new();
    env.mlv(&["add", "nope.csv"])
        .assert()
        .code(2)
        .stderr(contains("`nope.csv` does not exist"));
}

#[test]
fn outside_a_git_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = assert_cmd::Command::cargo_bin("git-mlv").unwrap();
    cmd.args(["status"])
        .current_dir(tmp.path())
        .env("GIT_CEILING_DIRECTORIES", tmp.path().parent().unwrap());
    cmd.assert()
        .code(2)
        .stderr(contains("not inside a git repository"))
        .stderr(contains("git init"));
}

#[test]
fn nested_tracking_is_refused_both_ways() {
    let env = TestEnv::new();
    env.make_dataset("data", 3, "a");
    env.mlv(&["add", "data"]).assert().success();
    env.mlv(&["add", "data/part0/f0.csv"])
        .assert()
        .code(2)
        .stderr(contains("inside `data`"));
    env.write("outer/inner/x.csv", "x");
    env.mlv(&["add", "outer/inner/x.csv"]).assert().success();
    env.mlv(&["add", "outer"])
        .assert()
        .code(2)
        .stderr(contains("contains `outer/inner/x.csv`"));
    assert!(!env.exists("outer.mlv"));
}

#[test]
fn symlink_or_special_file_inside_a_directory_is_refused() {
    let env = TestEnv::new();
    env.make_dataset("data", 2, "a");
    std::os::unix::fs::symlink("part0/f0.csv", env.path("data/link.csv")).unwrap();
    env.mlv(&["add", "data"])
        .assert()
        .code(2)
        .stderr(contains("data/link.csv"))
        .stderr(contains("symbolic link"));
    std::fs::remove_file(env.path("data/link.csv")).unwrap();
    let fifo = env.path("data/pipe");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    env.mlv(&["add", "data"])
        .assert()
        .code(2)
        .stderr(contains("data/pipe"))
        .stderr(contains("special file"));
    assert!(!env.exists("data.mlv"), "nothing was written");
    std::os::unix::fs::symlink("data", env.path("alias")).unwrap();
    env.mlv(&["add", "alias"])
        .assert()
        .code(2)
        .stderr(contains("symbolic link"));
}

#[test]
fn data_already_tracked_by_git_is_refused_with_the_fix() {
    let env = TestEnv::new();
    env.write("data/a.csv", "a");
    env.git(&["add", "data"]);
    env.mlv(&["add", "data"])
        .assert()
        .code(2)
        .stderr(contains("git rm -r --cached data"));
}

#[test]
fn unreadable_file_fails_naming_it_and_writes_nothing() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    env.write("data/ok.csv", "ok");
    env.write("data/secret.csv", "secret");
    std::fs::set_permissions(
        env.path("data/secret.csv"),
        std::fs::Permissions::from_mode(0o000),
    )
    .unwrap();
    let out = as_ordinary_user(&env, &["add", "data"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("data/secret.csv") && stderr.contains("ermission denied"),
        "{stderr}"
    );
    assert!(stderr.contains("intact"), "{stderr}");
    assert!(!env.exists("data.mlv"));
}

/// Runs `git mlv <args>` without the capabilities that let root read anything, as an
/// ordinary user would.
fn as_ordinary_user(env: &TestEnv, args: &[&str]) -> std::process::Output {
    let mut cmd = std::process::Command::new("setpriv");
    cmd.args([
        "--inh-caps=-all",
        "--bounding-set=-dac_override,-dac_read_search",
        "--",
    ]);
    let mlv = env.mlv_std(args);
    cmd.arg(mlv.get_program())
        .args(mlv.get_args())
        .current_dir(&env.root);
    for (k, v) in mlv.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.output().expect("setpriv (util-linux) runs")
}

#[test]
fn an_io_error_names_its_cause_once() {
    use std::os::unix::fs::PermissionsExt;
    let env = with_model();
    let config = env.path(".mlv/config.toml");
    std::fs::write(&config, "").unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o000)).unwrap();
    let out = as_ordinary_user(&env, &["status"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains(".mlv/config.toml"), "{stderr}");
    assert_eq!(stderr.matches("ermission denied").count(), 1, "{stderr}");
}

#[test]
fn a_failing_git_command_is_named_with_its_stderr() {
    let env = with_model();
    // A branch whose commit is not in the object database: `git for-each-ref` fails.
    env.write(
        ".git/refs/heads/ghost",
        "1111111111111111111111111111111111111111\n",
    );
    let out = env.mlv(&["gc"]).assert().code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("`git for-each-ref"), "{stderr}");
    assert!(stderr.contains("missing object"), "{stderr}");
    assert!(stderr.contains("refs/heads/ghost"), "{stderr}");
    assert!(!stderr.contains("object database"), "{stderr}");
    assert!(!stderr.contains("reading revision"), "{stderr}");
}

#[test]
fn dvc_and_git_lfs_words_point_to_the_git_mlv_command() {
    let env = TestEnv::new();
    let out = env.mlv(&["repro"]).assert().code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("`git mlv run`"), "{stderr}");
    assert!(!stderr.contains("'remote'"), "{stderr}");
    env.mlv(&["-q", "remote", "modify", "store", "url", "/tmp/x"])
        .assert()
        .code(2)
        .stderr(contains("`git mlv remote set`"));
    env.mlv(&["dag"])
        .assert()
        .code(2)
        .stderr(contains("`git mlv lineage --dot`"));
    // Other unknown words keep clap's own message.
    env.mlv(&["frobnicate"])
        .assert()
        .code(2)
        .stderr(contains("unrecognized subcommand 'frobnicate'"));
}

/// Issue 13: `-V` belongs to `git mlv` itself, not to every sub-command's help.
#[test]
fn only_the_top_level_takes_dash_v_for_version() {
    let env = TestEnv::new();
    env.mlv(&["-V"])
        .assert()
        .success()
        .stdout(contains("git-mlv "));
    for cmd in ["status", "remote", "push"] {
        let out = env.mlv(&[cmd, "--help"]).assert().success();
        let help = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
        assert!(!help.contains("-V, --version"), "{cmd}: {help}");
    }
}
