//! Where data may be written, whatever a commit or a remote says (issue 12, items 1, 2, 3
//! and 9): never under a `.git` folder (any case) or in `.mlv/`, never over a file git
//! tracks, never through a symbolic link to outside the work tree. Hostile pointers and
//! manifests are crafted by hand here, with objects planted on a folder remote.

use crate::remotes::{Kind, Remote};
use crate::support::{TestEnv, b3};
use predicates::str::contains;
use std::path::Path;

/// Puts `bytes` on the remote as an object, as a hostile pusher would; returns its hash.
fn plant(remote: &Remote, bytes: &[u8]) -> String {
    let hash = b3(bytes);
    let object = remote.object_file(&hash);
    std::fs::create_dir_all(object.parent().unwrap()).unwrap();
    std::fs::write(object, bytes).unwrap();
    hash
}

/// A file pointer's text, byte for byte as `docs/formats.md` has it.
fn file_pointer(hash: &str, size: usize) -> String {
    format!(
        "# git-mlv pointer: the bytes live in the git-mlv cache and remotes\nversion = 1\nhash = \"{hash}\"\nsize = {size}\n"
    )
}

/// A directory pointer whose manifest (planted on the remote with its files) lists `entries`.
fn dir_pointer(remote: &Remote, entries: &[(&str, &[u8])]) -> String {
    let mut entries = entries.to_vec();
    entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let listed: Vec<String> = entries
        .iter()
        .map(|(path, bytes)| {
            let hash = plant(remote, bytes);
            format!(
                "{{\"path\":\"{path}\",\"hash\":\"{hash}\",\"size\":{},\"exec\":false}}",
                bytes.len()
            )
        })
        .collect();
    let manifest = format!(
        "{{\"format\":\"git-mlv-manifest\",\"version\":1,\"entries\":[{}]}}\n",
        listed.join(",")
    );
    let hash = plant(remote, manifest.as_bytes());
    let size: usize = entries.iter().map(|e| e.1.len()).sum();
    format!(
        "{}kind = \"dir\"\nfiles = {}\n",
        file_pointer(&hash, size),
        entries.len()
    )
}

/// A repository with honest data pushed to a folder remote (committed in `.mlv/config.toml`).
fn with_remote() -> (TestEnv, Remote) {
    let remote = Remote::start(Kind::Folder);
    let env = TestEnv::new();
    env.write("data/a.csv", "1,2\n");
    env.mlv(&["add", "data"]).assert().success();
    remote.add_to(&env);
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "data"]);
    env.mlv(&["push"]).assert().success();
    (env, remote)
}

/// Every file below `dir` with its bytes (but git-mlv's own `mlv/` state: lock, stat
/// cache, cache), to show that nothing of git's changed.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p == dir.join("mlv") {
                continue;
            } else if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_pointer_onto_dot_git_is_refused_by_every_command_and_git_is_untouched() {
    let (env, remote) = with_remote();
    let evil: [(&str, &[u8]); 3] = [
        ("HEAD", b"ref: refs/heads/evil\n"),
        ("config", b"[core]\n\tfsmonitor = touch pwned\n"),
        (
            "refs/heads/main",
            b"0000000000000000000000000000000000000000\n",
        ),
    ];
    env.write(".git.mlv", dir_pointer(&remote, &evil));
    env.git(&["add", ".git.mlv"]);
    env.git(&["commit", "-qm", "hostile"]);

    let mate = env.clone_repo("mate");
    mate.write("mine.txt", "unpushed work\n");
    mate.git(&["add", "mine.txt"]);
    mate.git(&["commit", "-qm", "unpushed"]);
    let head = mate.git(&["rev-parse", "HEAD"]);
    let git_before = snapshot(&mate.path(".git"));
    let out = mate.outside().join("export");
    let out = out.to_str().unwrap();
    for args in [
        vec!["pull", "--force"],
        vec!["pull"],
        vec!["fetch"],
        vec!["checkout"],
        vec!["checkout", "--force"],
        vec!["checkout", "data"],
        vec!["checkout", "--rev", "HEAD", "--force"],
        vec!["checkout", "--rev", "HEAD", "--to", out],
        vec!["status"],
        vec!["push"],
        vec!["add", "data"],
    ] {
        mate.mlv(&args)
            .assert()
            .code(2)
            .stderr(contains("`.git.mlv`"))
            .stderr(contains("git rm --cached .git.mlv"));
        assert_eq!(snapshot(&mate.path(".git")), git_before, "{args:?}");
    }
    assert_eq!(mate.git(&["rev-parse", "HEAD"]), head);
    assert!(!mate.outside().join("export/.git").exists());
    // Any case: `.GIT` is `.git` on case-insensitive file systems.
    mate.git(&["mv", ".git.mlv", ".GIT.mlv"]);
    mate.mlv(&["checkout", "--force"])
        .assert()
        .code(2)
        .stderr(contains("`.GIT.mlv`"));
    assert_eq!(mate.git(&["rev-parse", "HEAD"]), head);
}

#[test]
fn a_nested_dot_git_from_a_manifest_or_a_pointer_is_never_created() {
    // A manifest inside `data` that lists `.git/HEAD` and `.git/config` (an fsmonitor).
    let (env, remote) = with_remote();
    let evil: [(&str, &[u8]); 3] = [
        ("a.csv", b"1,2\n"),
        (".git/HEAD", b"ref: refs/heads/main\n"),
        (".git/config", b"[core]\n\tfsmonitor = touch pwned\n"),
    ];
    env.write("data.mlv", dir_pointer(&remote, &evil));
    env.git(&["commit", "-qam", "hostile manifest"]);
    let mate = env.clone_repo("mate");
    mate.mlv(&["pull"])
        .assert()
        .code(2)
        .stderr(contains("`.git/HEAD`"))
        .stderr(contains("`data`"));
    assert!(!mate.exists("data/.git"));
    std::fs::remove_dir_all(mate.path(".git/mlv/cache")).ok();
    mate.mlv(&["fetch"])
        .assert()
        .code(2)
        .stderr(contains(".git/"));

    // A pointer `sub/.git.mlv` (any case).
    for name in ["sub/.git.mlv", "sub/.Git.mlv"] {
        let (env, remote) = with_remote();
        env.write(name, dir_pointer(&remote, &evil[1..]));
        env.git(&["add", name]);
        env.git(&["commit", "-qm", "hostile pointer"]);
        let mate = env.clone_repo("mate");
        mate.mlv(&["pull", "--force"])
            .assert()
            .code(2)
            .stderr(contains(format!("`{name}`")));
        assert!(
            !mate.exists("sub/.git") && !mate.exists("sub/.Git"),
            "{name}"
        );
        mate.mlv(&["status"]).assert().code(2);
    }
}

#[test]
fn adding_a_directory_that_holds_a_git_folder_is_refused() {
    let env = TestEnv::new();
    env.write("vendor/lib/x.txt", "x\n");
    env.write("vendor/lib/.git/HEAD", "ref: refs/heads/main\n");
    env.mlv(&["add", "vendor"])
        .assert()
        .code(2)
        .stderr(contains("`vendor/lib/.git/HEAD`"));
    assert!(!env.exists("vendor.mlv"));
    for reserved in ["sub/.GIT/x", ".MLV/config.toml"] {
        env.write(reserved, "x\n");
        env.mlv(&["add", reserved]).assert().code(2);
        assert!(!env.exists(&format!("{reserved}.mlv")), "{reserved}");
    }
}

#[test]
fn a_linked_worktree_kept_under_the_git_dir_works() {
    let env = TestEnv::new();
    env.git(&["worktree", "add", "-q", "-b", "wt", ".git/wt"]);
    env.write(".git/wt/data/a.csv", "1,2\n");
    env.write(".git/wt/model.bin", "weights");
    env.mlv_in(".git/wt", &["add", "data", "model.bin"])
        .assert()
        .success();
    env.mlv_in(".git/wt", &["status", "--check"])
        .assert()
        .success();
    std::fs::remove_dir_all(env.path(".git/wt/data")).unwrap();
    std::fs::remove_file(env.path(".git/wt/model.bin")).unwrap();
    env.mlv_in(".git/wt", &["checkout"]).assert().success();
    assert_eq!(env.read_str(".git/wt/data/a.csv"), "1,2\n");
    env.mlv_in(".git/wt", &["checkout", "--to", "export"])
        .assert()
        .success();
    assert_eq!(env.read_str(".git/wt/export/model.bin"), "weights");
}

#[test]
fn checkout_into_git_or_mlv_with_to_is_refused() {
    let env = TestEnv::new();
    env.write("model.bin", "weights");
    env.mlv(&["add", "model.bin"]).assert().success();
    for to in [".git/x", ".mlv/x", "sub/.GIT"] {
        env.mlv(&["checkout", "--to", to]).assert().code(2);
        assert!(!env.path(to).exists(), "{to}");
    }
}

#[test]
fn data_never_overwrites_a_file_git_tracks() {
    let code = b"print('training')\n";
    let (env, remote) = with_remote();
    env.write("train.py", code);
    env.git(&["add", "train.py"]);
    env.git(&["commit", "-qm", "code"]);
    // The hostile commit: a pointer over the code, and a decoy whose object is the code's
    // own bytes, so that checkout finds the code "safe in the cache" and overwrites it.
    let evil = b"import os; os.system('touch pwned')\n";
    env.write(
        "train.py.mlv",
        file_pointer(&plant(&remote, evil), evil.len()),
    );
    env.write(
        "decoy.txt.mlv",
        file_pointer(&plant(&remote, code), code.len()),
    );
    env.git(&["add", "train.py.mlv", "decoy.txt.mlv"]);
    env.git(&["commit", "-qm", "hostile"]);

    let mate = env.clone_repo("mate");
    for args in [
        vec!["pull"],
        vec!["pull", "--force"],
        vec!["checkout", "--force"],
    ] {
        mate.mlv(&args)
            .assert()
            .code(2)
            .stderr(contains("`train.py.mlv`"))
            .stderr(contains("`train.py`, which git tracks"));
        assert_eq!(mate.read("train.py"), code, "{args:?}");
    }
    // `--to` inside the work tree is judged the same way; elsewhere the data may go.
    mate.write("sub/train.py", "more code\n");
    mate.git(&["add", "sub/train.py"]);
    mate.mlv(&["checkout", "train.py", "--to", "sub"])
        .assert()
        .code(2)
        .stderr(contains("`sub/train.py`"));
    assert_eq!(mate.read_str("sub/train.py"), "more code\n");
    let out = mate.outside().join("export");
    mate.mlv(&["checkout", "train.py", "--to", out.to_str().unwrap()])
        .assert()
        .success();
    assert_eq!(std::fs::read(out.join("train.py")).unwrap(), evil);
}

#[test]
fn nothing_is_added_or_checked_out_through_a_link_to_outside() {
    let env = TestEnv::new();
    let outside = env.outside();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("f.txt"), "outside\n").unwrap();
    std::os::unix::fs::symlink(&outside, env.path("linkdir")).unwrap();
    env.mlv(&["add", "linkdir/f.txt"])
        .assert()
        .code(2)
        .stderr(contains("`linkdir`"))
        .stderr(contains("symbolic link"));
    assert!(!outside.join("f.txt.mlv").exists());
    assert!(!outside.join(".gitignore").exists());
    std::fs::remove_file(env.path("linkdir")).unwrap();
    std::fs::remove_file(outside.join("f.txt")).unwrap();

    // A pointer committed while `linkdir` was a folder; now `linkdir` leads out.
    env.write("linkdir/f.txt", "data\n");
    env.mlv(&["add", "linkdir/f.txt"]).assert().success();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "data in linkdir"]);
    env.git(&["rm", "-rq", "linkdir"]);
    env.git(&["commit", "-qm", "drop it"]);
    std::fs::remove_dir_all(env.path("linkdir")).unwrap();
    std::os::unix::fs::symlink(&outside, env.path("linkdir")).unwrap();
    for args in [
        vec!["checkout", "--rev", "HEAD~1"],
        vec!["checkout", "--rev", "HEAD~1", "--force"],
    ] {
        env.mlv(&args)
            .assert()
            .code(2)
            .stderr(contains("`linkdir`"));
        assert!(!outside.join("f.txt").exists(), "{args:?}");
    }
    // A link that stays inside the work tree is fine.
    std::fs::remove_file(env.path("linkdir")).unwrap();
    std::fs::create_dir_all(env.path("real")).unwrap();
    std::os::unix::fs::symlink("real", env.path("linkdir")).unwrap();
    env.mlv(&["checkout", "--rev", "HEAD~1"]).assert().success();
    assert_eq!(env.read_str("real/f.txt"), "data\n");
}

/// A remote's name becomes a folder under `.git/mlv/remotes`: one from a committed config
/// (a clone of a hostile repository) that is a path, relative or absolute, is refused by
/// every command that uses it, and nothing is written outside `.git/mlv`.
#[test]
fn remote_names_from_a_committed_config_cannot_leave_the_git_dir() {
    let env = TestEnv::new();
    let store = env.outside().join("store");
    std::fs::create_dir_all(&store).unwrap();
    env.write("data.bin", "small data\n");
    env.mlv(&["add", "data.bin"]).assert().success();
    let abs = env.outside().join("abs");
    let names = [
        "../../evil".to_string(),
        "../../../../evil".to_string(),
        abs.display().to_string(),
    ];
    for name in &names {
        env.write(
            ".mlv/config.toml",
            format!(
                "[core]\nremote = \"{name}\"\n\n[remotes.\"{name}\"]\nurl = \"{}\"\n",
                store.display()
            ),
        );
        env.git(&["add", "-A"]);
        env.git(&["commit", "-qm", "hostile remote"]);
        for cmd in ["push", "pull", "fetch"] {
            env.mlv(&[cmd])
                .assert()
                .code(2)
                .stderr(contains(format!("remote `{name}`")))
                .stderr(contains("hint:"));
        }
        // `remote remove` still takes it out.
        env.mlv(&["remote", "remove", name]).assert().success();
        env.git(&["commit", "-qam", "removed"]);
    }
    assert!(!env.root.join(".git/evil").exists());
    assert!(!env.root.parent().unwrap().join("evil").exists());
    assert!(!abs.exists());
    assert!(!env.root.join(".git/mlv/remotes").exists());
}
