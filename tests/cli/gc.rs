//! `gc`: exactly the spec's roots; the last copy of unpushed data is kept.

use crate::remotes::{Kind, Remote};
use crate::support::{TestEnv, b3};
use predicates::str::contains;

#[test]
fn deleted_branch_data_is_freed_only_once_pushed_and_dry_run_changes_nothing() {
    let remote = Remote::start(Kind::Folder);
    let env = TestEnv::new();
    env.write("keep.bin", "main data");
    env.mlv(&["add", "keep.bin"]).assert().success();
    remote.add_to(&env);
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "main"]);
    env.git(&["checkout", "-q", "-b", "experiment"]);
    env.write("keep.bin", "experiment data");
    env.mlv(&["add", "keep.bin"]).assert().success();
    env.git(&["commit", "-qam", "experiment"]);
    env.git(&["checkout", "-q", "main"]);
    env.mlv(&["checkout"]).assert().success();
    env.git(&["stash", "list"]);
    let exp = env.object(&b3(b"experiment data"));

    // While the branch exists its data is a root.
    let g = env.json(&["gc"]);
    assert_eq!(g["removed"].as_array().unwrap().len(), 0, "{g}");
    env.git(&["branch", "-q", "-D", "experiment"]);
    // Unpushed: the cache holds the last copy, so gc keeps it.
    let g = env.json(&["gc"]);
    assert_eq!(g["kept_unpushed"], 1, "{g}");
    assert!(exp.exists());
    // Pushed (the hook would have): now it can go; --dry-run first changes nothing.
    env.mlv(&["push", "--rev", "HEAD@{1}"]).assert().success();
    env.mlv(&["gc", "--dry-run"])
        .assert()
        .success()
        .stdout(contains(format!("would remove {}", b3(b"experiment data"))));
    assert!(exp.exists(), "dry run removed nothing");
    let g = env.json(&["gc"]);
    assert_eq!(
        g["removed"],
        serde_json::json!([b3(b"experiment data")]),
        "exactly that branch's object: {g}"
    );
    assert!(!exp.exists());
    assert!(env.object(&b3(b"main data")).exists());
    env.mlv(&["status", "--check"]).assert().success();
}

#[test]
fn stash_worktrees_and_drop_unpushed() {
    let env = TestEnv::new();
    env.write("m.bin", "v1");
    env.mlv(&["add", "m.bin"]).assert().success();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "v1"]);
    // A stash entry is a root.
    env.write("m.bin", "stashed");
    env.mlv(&["add", "m.bin"]).assert().success();
    env.git(&["stash", "-q"]);
    // A second worktree shares the cache; its work tree is a root.
    let wt = env.outside().join("wt");
    env.git(&["worktree", "add", "-q", "-b", "side", wt.to_str().unwrap()]);
    std::fs::write(wt.join("side.bin"), "side data").unwrap();
    let out = env
        .mlv(&["add", "side.bin"])
        .current_dir(&wt)
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(out.status.success());
    assert!(
        env.object(&b3(b"side data")).exists(),
        "worktrees share one cache"
    );
    env.write("loose.bin", "never committed");
    env.mlv(&["add", "loose.bin"]).assert().success();
    std::fs::remove_file(env.path("loose.bin.mlv")).unwrap();
    let g = env.json(&["gc", "--drop-unpushed"]);
    assert_eq!(
        g["removed"],
        serde_json::json!([b3(b"never committed")]),
        "{g}"
    );
    assert!(env.object(&b3(b"stashed")).exists());
    assert!(env.object(&b3(b"side data")).exists());
    env.write(".mlv/config.local.toml", "[cache]\nshared = true\n");
    env.mlv(&["gc"]).assert().code(2).stderr(contains("shared"));
}

#[test]
fn remote_gc_removes_only_unreferenced_objects_past_the_grace_period() {
    for kind in [Kind::Folder, Kind::S3] {
        let remote = Remote::start(kind);
        let env = TestEnv::new();
        env.write("keep.bin", "main data");
        env.mlv(&["add", "keep.bin"]).assert().success();
        remote.add_loose_to(&env);
        env.git(&["add", "-A"]);
        env.git(&["commit", "-qm", "main"]);
        env.git(&["checkout", "-q", "-b", "experiment"]);
        env.make_dataset("exp", 3, "experiment");
        env.mlv(&["add", "exp"]).assert().success();
        env.git(&["add", "-A"]);
        env.git(&["commit", "-qm", "experiment"]);
        env.mlv(&["push"]).assert().success();
        env.git(&["checkout", "-q", "main"]);
        env.mlv(&["push"]).assert().success();
        let exp_manifest = env.git(&["show", "experiment:exp.mlv"]);
        let exp_hash = exp_manifest
            .lines()
            .find_map(|l| l.strip_prefix("hash = \""))
            .unwrap()
            .trim_end_matches('"')
            .to_string();
        env.git(&["branch", "-q", "-D", "experiment"]);

        env.mlv(&["gc", "-r", "store"])
            .assert()
            .code(2)
            .stderr(contains("--force"));
        let young = env.json(&["gc", "-r", "store", "--dry-run"]);
        assert_eq!(
            young["removed"].as_array().unwrap().len(),
            0,
            "everything is younger than 24 h: {young}"
        );
        assert_eq!(young["kept_young"], 4, "{young}");
        // Age every object on the remote past the grace period.
        let b3_dir = remote
            .object_file(&b3(b"x"))
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .to_path_buf();
        age_past_grace(&b3_dir);
        let plan = env.json(&["gc", "-r", "store", "--dry-run"]);
        let mut removed: Vec<String> = plan["removed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        removed.sort();
        let mut expected = vec![
            exp_hash.clone(),
            b3(b"experiment,0\n"),
            b3(b"experiment,1\n"),
            b3(b"experiment,2\n"),
        ];
        expected.sort();
        assert_eq!(removed, expected, "exactly the deleted branch's objects");
        assert!(
            remote.object_file(&exp_hash).exists(),
            "dry run removed nothing"
        );
        env.mlv(&["gc", "-r", "store", "--force"])
            .assert()
            .success();
        assert!(!remote.object_file(&exp_hash).exists());
        assert!(remote.object_file(&b3(b"main data")).exists());
        env.mlv(&["fsck", "-r", "store"]).assert().success();
    }
}

#[test]
fn registered_versions_and_stage_assignments_keep_their_data() {
    let remote = Remote::start(Kind::Folder);
    let env = TestEnv::ml_project("");
    remote.add_loose_to(&env);
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "project and remote"]);
    env.git(&["checkout", "-q", "-b", "experiment"]);
    env.commit_model("experiment model", 0.9);
    env.mlv(&["register", "model"]).assert().success();
    env.mlv(&["promote", "model@v0.0.1", "staging"])
        .assert()
        .success();
    env.mlv(&["push"]).assert().success();
    env.git(&["checkout", "-q", "main"]);
    env.git(&["branch", "-q", "-D", "experiment"]);
    let hash = b3(b"experiment model");
    // Pushed, on no branch: only the registry's tags still need it.
    let removed = |args: &[&str]| -> Vec<String> {
        env.json(args)["removed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h.as_str().unwrap().to_string())
            .collect()
    };
    assert!(!removed(&["gc"]).contains(&hash));
    assert!(env.object(&hash).exists());
    age_past_grace(
        remote
            .object_file(&hash)
            .parent()
            .unwrap()
            .parent()
            .unwrap(),
    );
    assert!(!removed(&["gc", "-r", "store", "--dry-run"]).contains(&hash));
    // The stage assignment alone keeps it too; with no registry tag left it goes.
    env.git(&["tag", "-d", "model@v0.0.1"]);
    assert!(!removed(&["gc", "--dry-run"]).contains(&hash));
    env.git(&["tag", "-d", "model#staging#1"]);
    assert!(removed(&["gc", "-r", "store", "--dry-run"]).contains(&hash));
    assert_eq!(removed(&["gc"]), std::slice::from_ref(&hash));
}

/// Ages every object file below `dir` past the remote grace period.
pub fn age_past_grace(dir: &std::path::Path) {
    let ok = std::process::Command::new("find")
        .arg(dir)
        .args([
            "-type",
            "f",
            "-exec",
            "touch",
            "-d",
            "3 days ago",
            "{}",
            "+",
        ])
        .status()
        .unwrap();
    assert!(ok.success());
}

#[test]
fn leftovers_of_interrupted_writes_go_once_a_day_old_and_fresh_ones_stay() {
    let env = TestEnv::new();
    env.write("m.bin", "kept");
    env.mlv(&["add", "m.bin"]).assert().success();
    let object = env.object(&b3(b"kept"));
    let folder = object.parent().unwrap().to_path_buf();
    let tmp = env.cache_dir().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let old_obj = leftover(folder.join(".objAbC123"), true);
    let old_partial = leftover(tmp.join(format!("partial-{}", "ab".repeat(32))), true);
    let fresh_obj = leftover(folder.join(".objXyZ789"), false);
    let fresh_partial = leftover(tmp.join(format!("partial-{}", "cd".repeat(32))), false);

    env.mlv(&["gc", "--dry-run"])
        .assert()
        .success()
        .stdout(contains(old_obj.display().to_string()))
        .stdout(contains(old_partial.display().to_string()));
    assert!(
        old_obj.exists() && old_partial.exists(),
        "dry run removed nothing"
    );

    let g = env.json(&["gc"]);
    assert_eq!(g["temp_files"], 2, "{g}");
    assert_eq!(g["temp_bytes"], 2000, "{g}");
    assert!(!old_obj.exists() && !old_partial.exists());
    assert!(
        fresh_obj.exists() && fresh_partial.exists(),
        "a live write's file stays"
    );
    assert!(object.exists(), "objects are not temporary files");
    env.mlv(&["status", "--check"]).assert().success();
}

#[test]
fn a_folder_remotes_leftover_uploads_go_once_a_day_old() {
    let remote = Remote::start(Kind::Folder);
    let env = TestEnv::new();
    env.write("m.bin", "kept");
    env.mlv(&["add", "m.bin"]).assert().success();
    remote.add_loose_to(&env);
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "m"]);
    env.mlv(&["push"]).assert().success();
    let object = remote.object_file(&b3(b"kept"));
    let folder = object.parent().unwrap().to_path_buf();
    // What a push killed mid-copy leaves beside the objects.
    let old_put = leftover(folder.join(".putAbC123"), true);
    let fresh_put = leftover(folder.join(".putXyZ789"), false);

    env.mlv(&["gc", "-r", "store", "--dry-run"])
        .assert()
        .success()
        .stdout(contains(old_put.display().to_string()));
    assert!(old_put.exists(), "dry run removed nothing");
    let g = env.json(&["gc", "-r", "store", "--force"]);
    assert_eq!(g["temp_files"], 1, "{g}");
    assert_eq!(g["temp_bytes"], 1000, "{g}");
    assert!(!old_put.exists());
    assert!(fresh_put.exists(), "a live upload's file stays");
    assert!(object.exists(), "objects are not temporary files");
    env.mlv(&["fsck", "-r", "store"]).assert().success();
}

/// A 1000-byte leftover of an interrupted write at `path`, a day old when `old`.
fn leftover(path: std::path::PathBuf, old: bool) -> std::path::PathBuf {
    std::fs::write(&path, vec![7u8; 1000]).unwrap();
    if old {
        let day_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(25 * 3600);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(day_ago)
            .unwrap();
    }
    path
}

/// Holds the cache-wide lock the way another git-mlv process would, with util-linux's
/// `flock` (`--shared` as a writer, `--exclusive` as gc), until dropped.
struct HeldLock(std::process::Child);

impl HeldLock {
    fn take(lock: &std::path::Path, mode: &str) -> HeldLock {
        // `cat` holds the inherited lock until its stdin closes.
        let held = HeldLock(
            std::process::Command::new("flock")
                .arg(mode)
                .arg(lock)
                .arg("cat")
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        );
        let started = std::time::Instant::now();
        loop {
            let free = std::process::Command::new("flock")
                .args(["--nonblock", "--exclusive"])
                .arg(lock)
                .arg("true")
                .status()
                .unwrap()
                .success();
            if !free {
                return held;
            }
            assert!(
                started.elapsed().as_secs() < 10,
                "flock never took the lock"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

impl Drop for HeldLock {
    fn drop(&mut self) {
        drop(self.0.stdin.take());
        let _ = self.0.wait();
    }
}

/// Waits for `child` to end (panicking after 60 s) and returns its output.
fn finish(mut child: std::process::Child) -> std::process::Output {
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed().as_secs() > 60 {
            let _ = child.kill();
            panic!("the command never ended");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Asserts that `child` is still running (blocked on the lock) after a while.
fn still_waiting(child: &mut std::process::Child, what: &str) {
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "{what} must wait while the lock is held"
    );
}

#[test]
fn gc_waits_for_writers_in_any_worktree_and_writers_wait_for_gc() {
    let env = TestEnv::new();
    env.write("a.bin", "a");
    env.mlv(&["add", "a.bin"]).assert().success();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "a"]);
    let wt = env.outside().join("wt");
    env.git(&["worktree", "add", "-q", "-b", "side", wt.to_str().unwrap()]);
    let lock = env.cache_dir().join("lock");

    // A writer in the other worktree holds the lock shared: gc waits, and says so.
    let writer = HeldLock::take(&lock, "--shared");
    let mut gc = env.mlv_process(&["gc"]).spawn().unwrap();
    still_waiting(&mut gc, "gc");
    // Read-only commands are not held up.
    env.mlv(&["status"])
        .current_dir(&wt)
        .timeout(std::time::Duration::from_secs(20))
        .assert()
        .success();
    drop(writer);
    let out = finish(gc);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("waiting for"), "{stderr}");
    assert!(stderr.contains(&lock.display().to_string()), "{stderr}");

    // gc holds it alone: a writer in another worktree waits, and says so.
    let gc = HeldLock::take(&lock, "--exclusive");
    std::fs::write(wt.join("b.bin"), "b").unwrap();
    let mut add = env.mlv_process(&["add", "b.bin"]);
    let mut add = add.current_dir(&wt).spawn().unwrap();
    still_waiting(&mut add, "add");
    env.mlv(&["ls"])
        .timeout(std::time::Duration::from_secs(20))
        .assert()
        .success();
    drop(gc);
    let out = finish(add);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("waiting for `git mlv gc`"), "{stderr}");
    assert!(env.object(&b3(b"b")).exists());
}

#[test]
fn gc_in_one_worktree_never_frees_what_an_add_in_another_is_recording() {
    let env = TestEnv::new();
    env.mlv(&["init"]).assert().success();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "init"]);
    let wt = env.outside().join("wt");
    env.git(&["worktree", "add", "-q", "-b", "side", wt.to_str().unwrap()]);
    for round in 0..4 {
        let data = wt.join("data");
        let _ = std::fs::remove_dir_all(&data);
        for i in 0..1500 {
            let dir = data.join(format!("part{}", i % 10));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(format!("f{i}.csv")), format!("{round},{i}\n")).unwrap();
        }
        let mut add = env.mlv_process(&["add", "data"]);
        let mut add = add.current_dir(&wt).spawn().unwrap();
        // gc (dropping even unpushed objects) over and over while the add runs.
        while add.try_wait().unwrap().is_none() {
            env.mlv(&["gc", "--drop-unpushed"]).assert().success();
        }
        let out = finish(add);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Every object the new pointer names is still in the cache.
        std::fs::remove_dir_all(&data).unwrap();
        let out = env
            .mlv(&["checkout"])
            .current_dir(&wt)
            .assert()
            .get_output()
            .clone();
        assert!(
            out.status.success(),
            "round {round}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            std::fs::read_to_string(data.join("part7/f7.csv")).unwrap(),
            format!("{round},7\n")
        );
    }
}

#[test]
fn a_commit_on_any_ref_keeps_its_data_locally_and_on_a_remote() {
    let remote = Remote::start(Kind::Folder);
    let env = TestEnv::new();
    env.write("keep.bin", "main data");
    env.mlv(&["add", "keep.bin"]).assert().success();
    remote.add_loose_to(&env);
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "main"]);
    env.git(&["checkout", "-q", "-b", "custom"]);
    env.write("keep.bin", "custom data");
    env.mlv(&["add", "keep.bin"]).assert().success();
    env.git(&["commit", "-qam", "custom"]);
    env.mlv(&["push"]).assert().success();
    // Only a custom ref keeps that commit.
    env.git(&["update-ref", "refs/custom/keep", "HEAD"]);
    let blob = env.git(&["rev-parse", "HEAD:keep.bin.mlv"]);
    let tree = env.git(&["rev-parse", "HEAD^{tree}"]);
    env.git(&["checkout", "-q", "main"]);
    env.mlv(&["checkout"]).assert().success();
    env.git(&["branch", "-q", "-D", "custom"]);
    let hash = b3(b"custom data");

    let g = env.json(&["gc"]);
    assert_eq!(g["removed"].as_array().unwrap().len(), 0, "{g}");
    assert!(env.object(&hash).exists(), "the custom ref's data stays");
    // Refs at a blob and (through a tag) a tree name no commit: passed over.
    env.git(&["update-ref", "refs/custom/blob", blob.trim()]);
    env.git(&["tag", "-a", "-m", "a tree", "tree-tag", tree.trim()]);
    let g = env.json(&["gc"]);
    assert_eq!(g["removed"].as_array().unwrap().len(), 0, "{g}");
    age_past_grace(
        remote
            .object_file(&hash)
            .parent()
            .unwrap()
            .parent()
            .unwrap(),
    );
    let g = env.json(&["gc", "-r", "store", "--force"]);
    assert_eq!(g["removed"].as_array().unwrap().len(), 0, "{g}");
    assert!(remote.object_file(&hash).exists());
    // Once the ref goes, so may its data.
    env.git(&["update-ref", "-d", "refs/custom/keep"]);
    assert_eq!(
        env.json(&["gc"])["removed"],
        serde_json::json!([hash.clone()])
    );
    let g = env.json(&["gc", "-r", "store", "--force"]);
    assert_eq!(g["removed"], serde_json::json!([hash]), "{g}");
}

#[test]
fn a_worktree_deleted_by_hand_is_skipped_with_a_warning_and_its_head_kept() {
    let env = TestEnv::new();
    env.write("a.bin", "a");
    env.mlv(&["add", "a.bin"]).assert().success();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "a"]);
    let wt = env.outside().join("wt");
    env.git(&["worktree", "add", "-q", "--detach", wt.to_str().unwrap()]);
    std::fs::write(wt.join("side.bin"), "detached data").unwrap();
    env.mlv(&["add", "side.bin"])
        .current_dir(&wt)
        .assert()
        .success();
    let git_in_wt = |args: &[&str]| {
        let out = env
            .git_output(&[&["-C", wt.to_str().unwrap()], args].concat())
            .status;
        assert!(out.success());
    };
    git_in_wt(&["add", "-A"]);
    git_in_wt(&["commit", "-qm", "detached"]);
    // Deleted without `git worktree prune`: git still has its HEAD commit.
    std::fs::remove_dir_all(&wt).unwrap();
    env.mlv(&["gc", "--drop-unpushed"])
        .assert()
        .success()
        .stderr(contains("warning"))
        .stderr(contains(wt.display().to_string()))
        .stderr(contains("git worktree prune"));
    assert!(env.object(&b3(b"detached data")).exists());
    assert!(env.object(&b3(b"a")).exists());
}
