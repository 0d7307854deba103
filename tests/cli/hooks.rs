//! Git hooks: installed, chained and removed; branch switches and merges bring data along;
//! pre-push uploads data before git pushes commits; pre-commit refuses what would break.

use crate::remotes::{Kind, Remote};
use crate::servers;
use crate::support::TestEnv;
use predicates::str::contains;

#[test]
fn install_is_idempotent_chains_existing_hooks_and_uninstall_restores_them() {
    let env = TestEnv::new();
    env.git(&["config", "core.hooksPath", "my-hooks"]);
    env.write(
        "my-hooks/pre-commit",
        "#!/bin/sh\necho team-check >> \"$(git rev-parse --show-toplevel)/ran.txt\"\n",
    );
    std::process::Command::new("chmod")
        .args(["+x"])
        .arg(env.path("my-hooks/pre-commit"))
        .status()
        .unwrap();
    env.mlv(&["install-hooks"])
        .assert()
        .success()
        .stderr(contains("kept the existing pre-commit hook"));
    env.mlv(&["install-hooks"]).assert().success();
    for h in ["pre-commit", "pre-push", "post-checkout", "post-merge"] {
        assert!(
            env.read_str(&format!("my-hooks/{h}"))
                .contains(&format!("git mlv hook {h}"))
        );
    }
    env.write("small.txt", "x");
    env.git(&["add", "small.txt"]);
    env.git(&["commit", "-qm", "through both hooks"]);
    assert_eq!(
        env.read_str("ran.txt"),
        "team-check\n",
        "the chained hook ran once"
    );
    env.mlv(&["install-hooks", "--uninstall"])
        .assert()
        .success();
    assert!(env.read_str("my-hooks/pre-commit").contains("team-check"));
    assert!(!env.exists("my-hooks/pre-push"));
}

#[test]
fn branch_switch_and_merge_bring_data_along() {
    let env = TestEnv::new();
    env.mlv(&["install-hooks"]).assert().success();
    env.make_dataset("data", 4, "main");
    env.mlv(&["add", "data"]).assert().success();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "main data"]);
    env.git(&["checkout", "-q", "-b", "experiment"]);
    env.make_dataset("data", 6, "exp");
    env.mlv(&["add", "data"]).assert().success();
    env.git(&["commit", "-qam", "experiment data"]);
    env.git(&["checkout", "-q", "main"]);
    assert_eq!(
        env.read_str("data/part0/f0.csv"),
        "main,0\n",
        "post-checkout restored main's data"
    );
    assert!(!env.exists("data/part1/f4.csv"));
    env.mlv(&["status", "--check"]).assert().success();
    env.git(&["merge", "-q", "--ff-only", "experiment"]);
    assert_eq!(
        env.read_str("data/part1/f4.csv"),
        "exp,4\n",
        "post-merge brought the merged data"
    );
    // MLV_SKIP_SYNC=1 turns the sync off for one command.
    let out = std::process::Command::new("git")
        .args(["checkout", "-q", "HEAD~1"])
        .env("MLV_SKIP_SYNC", "1")
        .env(
            "PATH",
            format!(
                "{}:{}",
                assert_cmd::cargo::cargo_bin("git-mlv")
                    .parent()
                    .unwrap()
                    .display(),
                std::env::var("PATH").unwrap()
            ),
        )
        .current_dir(&env.root)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        env.read_str("data/part1/f4.csv"),
        "exp,4\n",
        "skipped: data left as it was"
    );
    env.mlv(&["status"])
        .assert()
        .success()
        .stdout(contains("out of step"));
}

#[test]
fn git_push_uploads_the_data_first_and_a_fresh_clone_pulls_it() {
    let remote = Remote::start(Kind::Folder);
    let env = TestEnv::new();
    let bare = bare_origin(&env);
    env.mlv(&["install-hooks"]).assert().success();
    remote.add_to(&env);
    for v in 1..=2 {
        env.make_dataset("data", 3, &format!("v{v}"));
        env.mlv(&["add", "data"]).assert().success();
        env.git(&["add", "-A"]);
        env.git(&["commit", "-qm", &format!("v{v}")]);
    }
    let out = env.git_output(&["push", "-q", "origin", "main"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Both pushed commits' data is on the remote, not only the tip's.
    let mate = env.clone_repo("mate");
    let _ = std::fs::remove_dir_all(&mate.root);
    let out = std::process::Command::new("git")
        .args(["clone", "-q", "-b", "main"])
        .arg(&bare)
        .arg(&mate.root)
        .output()
        .unwrap();
    assert!(out.status.success());
    mate.mlv(&["pull"]).assert().success();
    assert_eq!(mate.read_str("data/part0/f0.csv"), "v2,0\n");
    mate.mlv(&["pull", "--rev", "HEAD~1"]).assert().success();
    assert_eq!(mate.read_str("data/part0/f0.csv"), "v1,0\n");
}

#[test]
fn git_push_fails_when_the_data_cannot_be_uploaded() {
    let mut server = servers::http(false);
    let env = TestEnv::new();
    let bare = bare_origin(&env);
    env.mlv(&["install-hooks"]).assert().success();
    env.mlv(&[
        "remote",
        "add",
        "web",
        &format!("{}/store", server.url()),
        "--default",
    ])
    .assert()
    .success();
    env.write("model.pkl", "weights");
    env.mlv(&["add", "model.pkl"]).assert().success();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "model"]);
    server.stop();
    let out = env.git_output(&["push", "-q", "origin", "main"]);
    assert!(!out.status.success(), "the git push is refused");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("web"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let refs = std::process::Command::new("git")
        .args(["--git-dir"])
        .arg(&bare)
        .args(["for-each-ref"])
        .output()
        .unwrap();
    assert!(
        refs.stdout.is_empty(),
        "no commit reached the server without its data"
    );
}

#[test]
fn pre_commit_refuses_big_files_and_pointers_to_missing_data() {
    let env = TestEnv::new();
    env.mlv(&["install-hooks"]).assert().success();
    env.mlv(&["init"]).assert().success();
    env.write(".mlv/config.toml", "[hooks]\nmax_file_size = 1000\n");
    env.write("big.csv", "x".repeat(5000));
    env.git(&["add", "big.csv"]);
    let out = env.git_output(&["commit", "-qm", "big file in git"]);
    assert!(!out.status.success());
    let said = |o: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    assert!(said(&out).contains("git mlv add big.csv"), "{}", said(&out));
    env.git(&["rm", "-q", "--cached", "big.csv"]);
    env.mlv(&["add", "big.csv"]).assert().success();
    std::fs::remove_file(env.object(&env.pointer_hash("big.csv"))).unwrap();
    env.git(&["add", "big.csv.mlv", ".gitignore"]);
    let out = env.git_output(&["commit", "-qm", "pointer without data"]);
    assert!(!out.status.success());
    assert!(
        said(&out).contains("neither in the cache nor on the default remote"),
        "{}",
        said(&out)
    );
    env.mlv(&["add", "big.csv"]).assert().success();
    // `git mlv add` of unchanged data trusts the stat cache but the object is gone: re-adding rebuilds it.
    assert!(env.object(&env.pointer_hash("big.csv")).exists());
    env.git(&["add", "big.csv.mlv"]);
    env.git(&["commit", "-qm", "ok now"]);
}

/// A bare repository beside the test repository, added as its `origin`.
fn bare_origin(env: &TestEnv) -> std::path::PathBuf {
    let bare = env.outside().join("server.git");
    std::fs::create_dir_all(&bare).unwrap();
    assert!(
        std::process::Command::new("git")
            .args(["init", "-q", "--bare"])
            .arg(&bare)
            .status()
            .unwrap()
            .success()
    );
    env.git(&["remote", "add", "origin", bare.to_str().unwrap()]);
    bare
}

/// The `pre-commit` executable of the framework, installed by
/// `scripts/install-test-servers.sh` into a virtual environment at a fixed place
/// (`MLV_TEST_PRE_COMMIT` names another). Missing is a failure, not a skip.
fn pre_commit_exe() -> std::path::PathBuf {
    let exe = std::env::var_os("MLV_TEST_PRE_COMMIT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("XDG_CACHE_HOME")
                .filter(|d| !d.is_empty())
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| {
                    std::path::PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
                        .join(".cache")
                })
                .join("git-mlv-test/venv/bin/pre-commit")
        });
    assert!(
        exe.is_file(),
        "the pre-commit framework is not installed at `{}`: run `bash scripts/install-test-servers.sh`",
        exe.display()
    );
    exe
}

/// Sets the repository up as a pre-commit framework user does: a hook repository holding
/// this project's `.pre-commit-hooks.yaml` (pre-commit clones it by `file://` URL and tag),
/// a committed `.pre-commit-config.yaml` using `git-mlv-pre-push`, and
/// `pre-commit install --hook-type pre-push`.
fn use_pre_commit_framework(env: &TestEnv) {
    let hook_repo = env.outside().join("hook-repo");
    std::fs::create_dir_all(&hook_repo).unwrap();
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
        hook_repo.join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    let in_hook_repo = |args: &[&str]| {
        let mut all = vec!["-C", hook_repo.to_str().unwrap()];
        all.extend_from_slice(args);
        env.git(&all);
    };
    in_hook_repo(&["init", "-q", "-b", "main"]);
    in_hook_repo(&["add", ".pre-commit-hooks.yaml"]);
    in_hook_repo(&["commit", "-qm", "hooks"]);
    in_hook_repo(&["tag", "v0.1.0"]);
    env.write(
        ".pre-commit-config.yaml",
        format!(
            "repos:\n  - repo: file://{}\n    rev: v0.1.0\n    hooks:\n      - id: git-mlv-pre-push\n        verbose: true\n",
            hook_repo.display()
        ),
    );
    env.git(&["add", ".pre-commit-config.yaml"]);
    env.git(&["commit", "-qm", "pre-commit framework"]);
    let mut cmd = std::process::Command::new(pre_commit_exe());
    env.isolate(&mut cmd);
    let out = cmd
        .args(["install", "--hook-type", "pre-push"])
        .current_dir(&env.root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pre-commit install failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Everything a push printed, hooks included.
fn said(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The objects of a tracked directory (its manifest and every file) are on the remote.
fn assert_dataset_on(remote: &Remote, env: &TestEnv, dir: &str) {
    assert!(
        remote.object_file(&env.pointer_hash(dir)).exists(),
        "the manifest of `{dir}` is on the remote"
    );
    for entry in walk(&env.path(dir)) {
        let hash = crate::support::b3(&std::fs::read(&entry).unwrap());
        assert!(
            remote.object_file(&hash).exists(),
            "`{}` is on the remote",
            entry.display()
        );
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files.extend(walk(&p));
        } else {
            files.push(p);
        }
    }
    files
}

#[test]
fn pre_commit_framework_push_uploads_first_and_incremental_data() {
    let remote = Remote::start(Kind::Folder);
    let env = TestEnv::new();
    let bare = bare_origin(&env);
    remote.add_loose_to(&env);
    use_pre_commit_framework(&env);
    env.make_dataset("data", 3, "v1");
    env.mlv(&["add", "data"]).assert().success();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "v1"]);
    // A first push (it includes the root commit): the framework sets no FROM/TO refs.
    let out = env.git_output(&["push", "origin", "main"]);
    assert!(out.status.success(), "{}", said(&out));
    assert_dataset_on(&remote, &env, "data");
    // An update of a branch the server has: FROM/TO; only the new commit's data goes up.
    // A v1 object taken off the remote stays off: the v1 commit is not looked at again.
    let v1_file = crate::support::b3(&std::fs::read(env.path("data/part0/f0.csv")).unwrap());
    std::fs::remove_file(remote.object_file(&v1_file)).unwrap();
    env.make_dataset("data", 4, "v2");
    env.write("model.pkl", "weights v2");
    env.mlv(&["add", "data", "model.pkl"]).assert().success();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "v2"]);
    let out = env.git_output(&["push", "origin", "main"]);
    assert!(out.status.success(), "{}", said(&out));
    assert_dataset_on(&remote, &env, "data");
    assert!(remote.object_file(&env.pointer_hash("model.pkl")).exists());
    assert!(!remote.object_file(&v1_file).exists());
    let refs = env.git(&["--git-dir", bare.to_str().unwrap(), "rev-parse", "main"]);
    assert_eq!(
        refs,
        env.git(&["rev-parse", "HEAD"]),
        "the commits arrived too"
    );
}

#[test]
fn pre_commit_framework_push_fails_without_a_git_mlv_remote() {
    let env = TestEnv::new();
    let bare = bare_origin(&env);
    use_pre_commit_framework(&env);
    env.write("model.pkl", "weights");
    env.mlv(&["add", "model.pkl"]).assert().success();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "model"]);
    let out = env.git_output(&["push", "origin", "main"]);
    assert!(
        !out.status.success(),
        "the git push is refused: {}",
        said(&out)
    );
    assert!(
        said(&out).contains("no remote is configured"),
        "{}",
        said(&out)
    );
    let refs = env.git(&["--git-dir", bare.to_str().unwrap(), "for-each-ref"]);
    assert!(
        refs.is_empty(),
        "no commit reached the server without its data"
    );
}

/// The hook as the framework calls it: no arguments, nothing on stdin, the push in
/// `PRE_COMMIT_*` variables.
fn framework_hook(env: &TestEnv, from_to: Option<(&str, &str)>) -> assert_cmd::Command {
    let mut cmd = env.mlv(&["hook", "pre-push"]);
    cmd.env("PRE_COMMIT_REMOTE_NAME", "origin")
        .env("PRE_COMMIT_REMOTE_URL", "/nowhere/server.git")
        .env("PRE_COMMIT_REMOTE_BRANCH", "refs/heads/main")
        .env("PRE_COMMIT_LOCAL_BRANCH", "refs/heads/main")
        .write_stdin("");
    if let Some((from, to)) = from_to {
        cmd.env("PRE_COMMIT_FROM_REF", from)
            .env("PRE_COMMIT_TO_REF", to);
    }
    cmd
}

#[test]
fn hook_pre_push_reads_the_framework_variables() {
    let remote = Remote::start(Kind::Folder);
    let env = TestEnv::new();
    env.write("old.bin", "old data");
    env.mlv(&["add", "old.bin"]).assert().success();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "old"]);
    let old = env.pointer_hash("old.bin");
    let from = env.git(&["rev-parse", "HEAD"]).trim().to_string();
    env.git(&["rm", "-q", "old.bin.mlv"]);
    std::fs::remove_file(env.path("old.bin")).unwrap();
    env.write("new.bin", "new data");
    env.mlv(&["add", "new.bin"]).assert().success();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "new"]);
    let new = env.pointer_hash("new.bin");
    let to = env.git(&["rev-parse", "HEAD"]).trim().to_string();
    // Data is needed and there is nowhere to put it: exit 1, saying so.
    framework_hook(&env, None)
        .assert()
        .code(1)
        .stderr(contains("no remote is configured"))
        .stderr(contains("hint:"));
    remote.add_loose_to(&env);
    // FROM/TO: the commits after FROM, so the removed `old.bin` is not uploaded.
    framework_hook(&env, Some((&from, &to))).assert().success();
    assert!(remote.object_file(&new).exists());
    assert!(!remote.object_file(&old).exists());
    // No FROM/TO (a first push): every commit not on a ref of the git remote.
    framework_hook(&env, None).assert().success();
    assert!(remote.object_file(&old).exists());
    // Handed nothing at all (`pre-commit run` by hand): it says it checked nothing. Git's
    // own call of an up-to-date push (arguments, empty stdin) stays quiet.
    env.mlv(&["hook", "pre-push"])
        .write_stdin("")
        .assert()
        .success()
        .stderr(contains("no pushed refs"));
    env.mlv(&["hook", "pre-push", "origin", "/nowhere/server.git"])
        .write_stdin("")
        .assert()
        .success()
        .stderr("");
}

/// Issue 13: the default limit is 10,000,000 bytes, so it reads "10 MB", not "9.54 MiB",
/// and the file's size is given in the same unit.
#[test]
fn the_size_limit_prints_in_the_unit_it_is_configured_in() {
    let env = TestEnv::new();
    env.mlv(&["install-hooks"]).assert().success();
    env.write("big.csv", "x".repeat(12_500_000));
    env.git(&["add", "big.csv"]);
    let out = env.git_output(&["commit", "-qm", "big file in git"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`big.csv` (12.5 MB) is staged in git, over hooks.max_file_size (10 MB)"),
        "{err}"
    );
    assert!(!err.contains("MiB"), "{err}");
}
