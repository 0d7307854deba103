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
