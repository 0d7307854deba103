//! Concurrency and failures mid-write: two adds at once, an add killed with SIGKILL, and
//! a full disk. The cache never holds a partial object and the user's data stays intact.

use crate::support::{TestEnv, assert_cache_sound, b3};
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;
use std::time::{Duration, Instant};

#[test]
fn two_adds_at_the_same_time_leave_a_sound_cache_and_stat_cache() {
    let env = TestEnv::new();
    env.mlv(&["init"]).assert().success();
    env.make_dataset("a", 300, "a");
    env.make_dataset("b", 300, "b");
    env.make_dataset("shared1", 200, "same");
    env.make_dataset("shared2", 200, "same");
    let p1 = env.mlv_process(&["add", "a", "shared1"]).spawn().unwrap();
    let p2 = env.mlv_process(&["add", "b", "shared2"]).spawn().unwrap();
    let (o1, o2) = (
        p1.wait_with_output().unwrap(),
        p2.wait_with_output().unwrap(),
    );
    assert!(
        o1.status.success(),
        "{}",
        String::from_utf8_lossy(&o1.stderr)
    );
    assert!(
        o2.status.success(),
        "{}",
        String::from_utf8_lossy(&o2.stderr)
    );
    assert_cache_sound(&env.cache_dir());
    let ignore = env.read_str(".gitignore");
    for p in ["/a", "/b", "/shared1", "/shared2"] {
        assert_eq!(ignore.lines().filter(|l| *l == p).count(), 1, "{ignore}");
    }
    let s = env.json(&["status"]);
    assert_eq!(s["clean"], true, "{s}");
}

#[test]
fn an_add_killed_midway_leaves_no_partial_object_and_the_next_add_succeeds() {
    let env = TestEnv::new();
    env.mlv(&["init"]).assert().success();
    let bytes: Vec<u8> = (0..(200u32 << 20))
        .map(|i| (i.wrapping_mul(2246822519) >> 7) as u8)
        .collect();
    env.write("big.bin", &bytes);
    let tmp_dir = env.cache_dir().join("tmp");
    let mut child = env.mlv_process(&["add", "big.bin"]).spawn().unwrap();
    let start = Instant::now();
    // Kill it while the object is being written to a temporary file.
    loop {
        let writing = std::fs::read_dir(&tmp_dir)
            .unwrap()
            .filter_map(Result::ok)
            .any(|e| e.metadata().is_ok_and(|m| m.len() > 0));
        if writing || start.elapsed() > Duration::from_secs(20) {
            break;
        }
        if child.try_wait().unwrap().is_some() {
            panic!("add finished before it could be killed; use a bigger file");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        !env.object(&b3(&bytes)).exists(),
        "no object appears before it is complete"
    );
    assert_cache_sound(&env.cache_dir());
    assert!(!env.exists("big.bin.mlv"));
    env.mlv(&["add", "big.bin"]).assert().success();
    assert_eq!(std::fs::read(env.object(&b3(&bytes))).unwrap(), bytes);
    env.mlv(&["status", "--check"]).assert().success();
}

/// A tmpfs of `size` mounted for the test, unmounted when dropped.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(at: std::path::PathBuf, size: &str) -> Self {
        std::fs::create_dir_all(&at).unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&at)
            .status()
            .expect("mount runs");
        assert!(
            ok.success(),
            "mounting a tmpfs needs root (CI runs as root)"
        );
        Tmpfs(at)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_mid_add_keeps_the_data_and_says_so() {
    let env = TestEnv::new();
    let fs = Tmpfs::mount(env.outside().join("small-disk"), "3m");
    env.mlv(&["init"]).assert().success();
    env.write(
        ".mlv/config.local.toml",
        format!("[cache]\ndir = \"{}\"\n", fs.0.join("cache").display()),
    );
    let bytes: Vec<u8> = (0..(8u32 << 20))
        .map(|i| (i.wrapping_mul(2654435761) >> 11) as u8)
        .collect();
    env.write("big.bin", &bytes);
    env.make_dataset("data", 5, "fits");
    env.mlv(&["add", "data"]).assert().success();
    env.mlv(&["add", "big.bin"])
        .assert()
        .code(1)
        .stderr(contains("full"))
        .stderr(contains("`big.bin` itself is intact"))
        .stderr(contains("hint:"));
    assert_eq!(env.read("big.bin"), bytes, "the original data is intact");
    assert!(
        !env.exists("big.bin.mlv"),
        "no pointer to data the cache lacks"
    );
    assert_cache_sound(&fs.0.join("cache"));
    assert_eq!(
        std::fs::read_dir(fs.0.join("cache/tmp")).unwrap().count(),
        0,
        "no temporary file is left behind"
    );
    env.mlv(&["status", "--check", "data"]).assert().success();
}

#[test]
fn a_reader_that_closes_stdout_early_ends_the_command_quietly() {
    let env = TestEnv::new();
    env.make_dataset("data", 30, "x");
    env.write("model.pkl", "weights");
    env.mlv(&["add", "data", "model.pkl"]).assert().success();
    for args in [
        &["status", "--json"][..],
        &["checkout", "--json"],
        &["ls"],
        &["ls", "--json"],
        &["lineage", "model.pkl", "--json"],
        &["lineage", "model.pkl", "--dot"],
    ] {
        std::fs::remove_file(env.path("model.pkl")).unwrap();
        let mut child = env.mlv_process(args).spawn().unwrap();
        // Close the read end before git-mlv writes anything: its writes get EPIPE.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {:?} {stderr}", out.status);
        assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        if args[0] == "checkout" {
            assert_eq!(env.read_str("model.pkl"), "weights", "checkout finished");
        } else {
            env.mlv(&["checkout", "-q"]).assert().success();
        }
    }
}

#[test]
fn fsck_of_the_cache_hints_a_repair_that_works() {
    let env = TestEnv::new();
    env.write("model.pkl", "weights");
    env.mlv(&["add", "model.pkl"]).assert().success();
    env.add_folder_remote();
    env.mlv(&["push"]).assert().success();
    let object = env.object(&b3(b"weights"));
    let mut perms = std::fs::metadata(&object).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&object, perms).unwrap();
    std::fs::write(&object, "tampered").unwrap();
    env.mlv(&["fsck"])
        .assert()
        .code(1)
        .stdout(contains(object.to_str().unwrap()))
        .stderr(contains("git mlv fetch"))
        .stderr(contains("push them again").not());
    // Doing what the hint says repairs the cache.
    std::fs::remove_file(&object).unwrap();
    env.mlv(&["fetch"]).assert().success();
    env.mlv(&["fsck"]).assert().success();
}

/// A file at `path` named as git-mlv's temporary files are, as a killed write leaves it;
/// a day old when `old`.
fn temp_leftover(path: std::path::PathBuf, old: bool) -> std::path::PathBuf {
    std::fs::write(&path, vec![7u8; 1000]).unwrap();
    if old {
        age(&path);
    }
    path
}

/// Sets `path`'s mtime a day and more back, past gc's grace for temporary files.
fn age(path: &std::path::Path) {
    let ok = std::process::Command::new("touch")
        .args(["-d", "25 hours ago"])
        .arg(path)
        .status()
        .unwrap();
    assert!(ok.success());
}

#[test]
fn temporary_files_of_killed_writes_are_not_data_and_gc_removes_them_once_old() {
    let env = TestEnv::new();
    env.mlv(&["init"]).assert().success();
    env.make_dataset("data", 3, "d");
    env.write("model.bin", "weights");
    env.mlv(&["add", "data", "model.bin"]).assert().success();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "data"]);
    // What killed checkouts, pulls and symlink-mode adds leave: inside a tracked folder
    // (at any depth) and beside a tracked file.
    std::fs::create_dir_all(env.path("data/sub")).unwrap();
    let inside = temp_leftover(env.path("data/.mlv-tmpAbC123"), true);
    let deep = temp_leftover(env.path("data/sub/.mlv-tmpDeF456"), true);
    let beside = temp_leftover(env.path(".mlv-tmpGhI789"), true);
    let fresh = temp_leftover(env.path("data/.mlv-tmpFresh1"), false);

    let s = env.json(&["status"]);
    assert_eq!(s["clean"], true, "temporary files are not added data: {s}");
    env.mlv(&["add", "data"]).assert().success();
    let pointer = env.git(&["status", "--porcelain", "--", "data.mlv"]);
    assert_eq!(pointer, "", "add recorded nothing new");
    // Checkout of another version of the folder neither calls them unsaved work nor
    // records them.
    env.write("data/new.txt", "new");
    env.mlv(&["add", "data"]).assert().success();
    env.mlv(&["checkout", "--rev", "HEAD", "data"])
        .assert()
        .success();
    assert!(!env.exists("data/new.txt"));
    assert!(
        inside.exists() && deep.exists(),
        "checkout leaves them to gc"
    );
    env.git(&["checkout", "--", "data.mlv"]);
    env.mlv(&["status", "--check"]).assert().success();

    env.mlv(&["gc", "--dry-run"])
        .assert()
        .success()
        .stdout(contains(inside.display().to_string()))
        .stdout(contains(deep.display().to_string()))
        .stdout(contains(beside.display().to_string()));
    let g = env.json(&["gc"]);
    assert_eq!(g["temp_files"], 3, "{g}");
    assert!(!inside.exists() && !deep.exists() && !beside.exists());
    assert!(fresh.exists(), "a live write's file stays");
    env.mlv(&["status", "--check"]).assert().success();
    // Naming a file that way on purpose is refused, not silently skipped.
    env.write(".mlv-tmpMine", "mine");
    env.mlv(&["add", ".mlv-tmpMine"])
        .assert()
        .code(2)
        .stderr(contains("temporary"));
}

#[test]
fn a_checkout_killed_midway_leaves_a_temporary_file_that_nothing_takes_for_data() {
    let env = TestEnv::new();
    env.mlv(&["init"]).assert().success();
    // Copies, not clones, so the write takes long enough to be caught.
    env.write(".mlv/config.local.toml", "[cache]\nlink = [\"copy\"]\n");
    let bytes: Vec<u8> = (0..(200u32 << 20))
        .map(|i| (i.wrapping_mul(2246822519) >> 7) as u8)
        .collect();
    env.write("data/big.bin", &bytes);
    env.write("data/small.txt", "small");
    env.mlv(&["add", "data"]).assert().success();
    std::fs::remove_file(env.path("data/big.bin")).unwrap();
    let mut child = env.mlv_process(&["checkout", "data"]).spawn().unwrap();
    let start = Instant::now();
    let temp = loop {
        let writing = std::fs::read_dir(env.path("data"))
            .unwrap()
            .filter_map(Result::ok)
            .find(|e| {
                e.file_name().to_string_lossy().starts_with(".mlv-tmp")
                    && e.metadata().is_ok_and(|m| m.len() > 0)
            });
        if let Some(e) = writing {
            break e.path();
        }
        if child.try_wait().unwrap().is_some() {
            panic!("checkout finished before it could be killed; use a bigger file");
        }
        assert!(start.elapsed() < Duration::from_secs(20), "no write seen");
        std::thread::sleep(Duration::from_millis(1));
    };
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(temp.exists() && !env.exists("data/big.bin"));

    let s = env.json(&["status", "data"]);
    assert_eq!(
        s["artifacts"][0]["changes"]["added"],
        serde_json::json!([]),
        "{s}"
    );
    env.mlv(&["checkout", "data"]).assert().success();
    assert_eq!(env.read("data/big.bin"), bytes);
    env.mlv(&["status", "--check"]).assert().success();
    age(&temp);
    env.mlv(&["gc"]).assert().success();
    assert!(!temp.exists());
}

#[test]
fn pull_json_on_a_full_disk_still_reports_every_object_it_could_not_fetch() {
    let env = TestEnv::new();
    env.mlv(&["init"]).assert().success();
    // 40 files of 128 KiB: 5 MiB, more than the 2 MiB disk the clone's cache is on.
    for i in 0..40u32 {
        let bytes: Vec<u8> = (0..(128u32 << 10))
            .map(|j| (j.wrapping_mul(2654435761).wrapping_add(i) >> 7) as u8)
            .collect();
        env.write(&format!("data/f{i}.bin"), bytes);
    }
    env.mlv(&["add", "data"]).assert().success();
    env.add_folder_remote();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "data"]);
    env.mlv(&["push"]).assert().success();

    let mate = env.clone_repo("mate");
    let fs = Tmpfs::mount(mate.outside().join("small-disk"), "2m");
    mate.write(
        ".mlv/config.local.toml",
        format!("[cache]\ndir = \"{}\"\n", fs.0.join("cache").display()),
    );
    // The work tree's data folder is on a full disk too, so the checkout fails as well.
    let _data = Tmpfs::mount(mate.path("data"), "1m");
    for cmd in ["pull", "fetch"] {
        let out = mate
            .mlv(&[cmd, "--json"])
            .assert()
            .code(1)
            .get_output()
            .clone();
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{cmd} --json prints its document even when objects fail ({e}): stdout {:?} stderr {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let fetch = if cmd == "pull" { &doc["fetch"] } else { &doc };
        let failed = fetch["failed"].as_array().unwrap();
        let transferred = fetch["transferred"].as_u64().unwrap();
        assert!(!failed.is_empty(), "{doc}");
        assert!(
            failed
                .iter()
                .all(|f| f["error"].as_str().unwrap().contains("space")),
            "{doc}"
        );
        if cmd == "pull" {
            assert!(doc["error"].as_str().unwrap().contains("space"), "{doc}");
        }
        assert_eq!(
            transferred + failed.len() as u64 + fetch["present"].as_u64().unwrap(),
            // The pull fetched the manifest too; the fetch after it counts only files.
            if cmd == "pull" { 41 } else { 40 },
            "every object is accounted for: {doc}"
        );
    }
}
