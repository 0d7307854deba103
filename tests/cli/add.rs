//! `init`, `add` and `ls`: pointers, `.gitignore`, the cache layout and the stat cache.

use crate::support::{TestEnv, b3};
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;

#[test]
fn init_is_idempotent_and_ignores_local_config() {
    let env = TestEnv::new();
    env.mlv(&["init"])
        .assert()
        .success()
        .stderr(contains("initialized"));
    let config = env.read_str(".mlv/config.toml");
    env.mlv(&["init"])
        .assert()
        .success()
        .stderr(contains("already initialized"));
    assert_eq!(env.read_str(".mlv/config.toml"), config);
    assert_eq!(env.read_str(".mlv/.gitignore"), "/config.local.toml\n");
    assert!(
        env.cache_dir().join("format.toml").is_file(),
        "the cache carries its format version"
    );
}

#[test]
fn add_file_writes_a_pointer_that_b3sum_reproduces() {
    let env = TestEnv::new();
    let bytes = b"label,value\ncat,1\n".repeat(1000);
    env.write("model.pkl", &bytes);
    env.mlv(&["add", "model.pkl"])
        .assert()
        .success()
        .stderr(contains("git add"));
    let pointer = env.read_str("model.pkl.mlv");
    let expected = format!(
        "# git-mlv pointer: the bytes live in the git-mlv cache and remotes\nversion = 1\nhash = \"{}\"\nsize = {}\n",
        b3(&bytes),
        bytes.len()
    );
    assert_eq!(pointer, expected);
    let object = env.object(&b3(&bytes));
    assert_eq!(std::fs::read(&object).unwrap(), bytes);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&object).unwrap().permissions().mode() & 0o222,
        0,
        "objects are read-only"
    );
    assert_eq!(env.read_str(".gitignore"), "/model.pkl\n");
    // git sees the pointer and not the data.
    let status = env.git(&["status", "--porcelain", "--untracked-files=all"]);
    assert!(
        status.contains("model.pkl.mlv") && !status.contains("model.pkl\n"),
        "{status}"
    );
}

#[test]
fn add_directory_makes_one_pointer_with_manifest() {
    let env = TestEnv::new();
    env.make_dataset("data", 30, "a");
    env.write("data/.hidden", "dotfiles are data too");
    env.mlv(&["add", "data"]).assert().success();
    let table: toml::Table = env.read_str("data.mlv").parse().unwrap();
    assert_eq!(table["kind"].as_str(), Some("dir"));
    assert_eq!(table["files"].as_integer(), Some(31));
    let manifest_hash = table["hash"].as_str().unwrap();
    let manifest = std::fs::read(env.object(manifest_hash)).unwrap();
    assert_eq!(
        b3(&manifest),
        manifest_hash,
        "the pointer names the manifest object"
    );
    let doc: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
    assert_eq!(doc["version"], 1);
    let paths: Vec<&str> = doc["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted, "entries are sorted by path");
    assert_eq!(paths[0], ".hidden");
    let size: i64 = doc["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["size"].as_i64().unwrap())
        .sum();
    assert_eq!(table["size"].as_integer(), Some(size));
}

#[test]
fn equal_directories_get_equal_hashes() {
    let env = TestEnv::new();
    env.make_dataset("a", 10, "same");
    env.make_dataset("b", 10, "same");
    env.mlv(&["add", "a", "b"]).assert().success();
    assert_eq!(env.pointer_hash("a"), env.pointer_hash("b"));
}

#[test]
fn re_adding_unchanged_data_reads_no_file_and_adds_no_duplicate_ignore_line() {
    let env = TestEnv::new();
    env.make_dataset("data", 50, "x");
    let first = env.json(&["add", "data"]);
    assert_eq!(first["added"][0]["files_read"], 50);
    let second = env.json(&["add", "data"]);
    assert_eq!(
        second["added"][0]["files_read"], 0,
        "the stat cache vouches for every file"
    );
    assert_eq!(second["added"][0]["changed"], false);
    assert_eq!(env.read_str(".gitignore"), "/data\n");
    env.write("data/part0/f0.csv", "changed\n");
    let third = env.json(&["add", "data"]);
    assert_eq!(
        third["added"][0]["files_read"], 1,
        "only the changed file is read"
    );
    assert_eq!(third["added"][0]["changed"], true);
}

#[test]
fn stat_cache_lives_in_the_git_dir_not_the_work_tree() {
    let env = TestEnv::new();
    env.write("f.bin", "x");
    env.mlv(&["add", "f.bin"]).assert().success();
    assert!(env.path(".git/mlv/stat-cache").is_file());
    let untracked = env.git(&["status", "--porcelain", "--untracked-files=all"]);
    assert!(!untracked.contains("stat-cache"), "{untracked}");
}

#[test]
fn add_keeps_unknown_pointer_fields() {
    let env = TestEnv::new();
    env.write("m.bin", "v1");
    env.mlv(&["add", "m.bin"]).assert().success();
    let mut text = env.read_str("m.bin.mlv");
    text.push_str("owner = \"vision-team\"\n");
    env.write("m.bin.mlv", text);
    env.write("m.bin", "v2");
    env.mlv(&["add", "m.bin"]).assert().success();
    let after = env.read_str("m.bin.mlv");
    assert!(
        after.contains(&b3(b"v2")) && after.ends_with("owner = \"vision-team\"\n"),
        "{after}"
    );
}

#[test]
fn add_from_a_sub_folder_and_through_git() {
    let env = TestEnv::new();
    env.write("sub/dir/data.csv", "a,b\n");
    env.mlv_in("sub", &["add", "dir/data.csv"])
        .assert()
        .success();
    assert!(env.exists("sub/dir/data.csv.mlv"));
    assert_eq!(env.read_str("sub/dir/.gitignore"), "/data.csv\n");
    // `git mlv` finds the binary on PATH, as users run it.
    let bin = assert_cmd::cargo::cargo_bin("git-mlv");
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap()
    );
    let out = std::process::Command::new("git")
        .args(["mlv", "ls"])
        .env("PATH", path)
        .current_dir(env.path("sub"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("dir/data.csv"));
}

#[test]
fn ls_lists_artifacts_with_hash_size_and_count() {
    let env = TestEnv::new();
    env.make_dataset("data", 4, "x");
    env.write("model.pkl", "weights");
    env.mlv(&["add", "data", "model.pkl"]).assert().success();
    let ls = env.json(&["ls"]);
    let arts = ls["artifacts"].as_array().unwrap();
    assert_eq!(arts.len(), 2);
    assert_eq!(arts[0]["path"], "data");
    assert_eq!(arts[0]["files"], 4);
    assert_eq!(arts[1]["path"], "model.pkl");
    assert_eq!(arts[1]["hash"], b3(b"weights"));
    assert_eq!(arts[1]["size"], 7);
    env.mlv(&["ls"])
        .assert()
        .success()
        .stdout(contains("model.pkl"))
        .stdout(contains("4 files"));
}

#[test]
fn empty_file_and_empty_directory_round_trip() {
    let env = TestEnv::new();
    env.write("empty.txt", "");
    std::fs::create_dir_all(env.path("nothing")).unwrap();
    env.mlv(&["add", "empty.txt", "nothing"]).assert().success();
    assert!(env.read_str("nothing.mlv").contains("files = 0"));
    std::fs::remove_file(env.path("empty.txt")).unwrap();
    std::fs::remove_dir(env.path("nothing")).unwrap();
    env.mlv(&["checkout"]).assert().success();
    assert_eq!(env.read("empty.txt"), b"");
    assert!(env.path("nothing").is_dir());
    env.mlv(&["status", "--check"]).assert().success();
}

#[test]
fn names_with_spaces_unicode_and_newlines_round_trip() {
    let env = TestEnv::new();
    let names = [
        "data/with space.csv",
        "data/ünïcødé-数据.csv",
        "data/new\nline.csv",
    ];
    for (i, n) in names.iter().enumerate() {
        env.write(n, format!("{i}\n"));
    }
    env.write("top level file.txt", "spaced");
    env.mlv(&["add", "data", "top level file.txt"])
        .assert()
        .success();
    assert!(env.read_str(".gitignore").contains("/top level file.txt"));
    let ignored = env.git(&["check-ignore", "top level file.txt"]);
    assert_eq!(ignored.trim(), "top level file.txt");
    std::fs::remove_dir_all(env.path("data")).unwrap();
    std::fs::remove_file(env.path("top level file.txt")).unwrap();
    env.mlv(&["checkout"]).assert().success();
    for (i, n) in names.iter().enumerate() {
        assert_eq!(env.read_str(n), format!("{i}\n"));
    }
    assert_eq!(env.read_str("top level file.txt"), "spaced");
}

#[test]
fn a_big_file_is_stored_whole_and_verified() {
    let env = TestEnv::new();
    // Larger than the small-file threshold, so the streaming copy-while-hashing path runs.
    let bytes: Vec<u8> = (0..(9u32 << 20))
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    env.write("big.bin", &bytes);
    env.mlv(&["add", "big.bin"]).assert().success();
    assert_eq!(env.pointer_hash("big.bin"), b3(&bytes));
    assert_eq!(std::fs::read(env.object(&b3(&bytes))).unwrap(), bytes);
    crate::support::assert_cache_sound(&env.cache_dir());
}

/// Issue 13: `.mlvignore` files (gitignore syntax, at any level from the repository root
/// down into the tracked folder) keep `.DS_Store`, notebook checkpoints and the like out of
/// the manifest; `status` does not report them and `checkout` leaves them alone.
#[test]
fn mlvignore_keeps_unwanted_files_out_of_add_status_and_checkout() {
    let env = TestEnv::new();
    env.write(".mlvignore", ".DS_Store\n");
    env.write("data/.mlvignore", ".ipynb_checkpoints/\n*.tmp\n");
    env.write("data/sub/.mlvignore", "!keep.tmp\n");
    env.write("data/a.csv", "a\n");
    env.write("data/sub/b.csv", "b\n");
    env.write("data/sub/keep.tmp", "kept by a deeper rule\n");
    env.write("data/.DS_Store", "finder");
    env.write("data/sub/.DS_Store", "finder");
    env.write("data/.ipynb_checkpoints/a-checkpoint.csv", "old a\n");
    env.write("data/x.tmp", "scratch");
    let added = env.json(&["add", "data"]);
    assert_eq!(added["added"][0]["files"], 3, "{added}");
    let ls = env.json(&["ls"]);
    assert_eq!(ls["artifacts"][0]["files"], 3, "{ls}");
    // New ignored files are not changes; status stays clean.
    env.write("data/y.tmp", "more scratch");
    env.write("data/sub/.ipynb_checkpoints/b-checkpoint.csv", "old b\n");
    env.mlv(&["status", "--check"]).assert().success();
    // Checkout leaves ignored files alone, as git leaves ignored files.
    std::fs::remove_file(env.path("data/a.csv")).unwrap();
    env.mlv(&["checkout"]).assert().success();
    assert_eq!(env.read_str("data/a.csv"), "a\n");
    for kept in [
        "data/.DS_Store",
        "data/x.tmp",
        "data/y.tmp",
        "data/.mlvignore",
        "data/.ipynb_checkpoints/a-checkpoint.csv",
        "data/sub/.ipynb_checkpoints/b-checkpoint.csv",
    ] {
        assert!(env.exists(kept), "checkout removed the ignored `{kept}`");
    }
    // A checkout from another folder restores exactly the manifest.
    env.mlv(&["checkout", "--to", "../export"])
        .assert()
        .success();
    let export = env.root.parent().unwrap().join("export/data");
    assert!(export.join("sub/keep.tmp").is_file() && !export.join(".DS_Store").exists());
    // Adding an ignored file by name is refused, naming the rule; so is `.mlvignore` itself.
    env.write(".DS_Store", "finder");
    env.mlv(&["add", ".DS_Store"])
        .assert()
        .code(2)
        .stderr(contains("`.mlvignore`").and(contains(".DS_Store")));
    env.mlv(&["add", ".mlvignore"])
        .assert()
        .code(2)
        .stderr(contains("commit it with git"));
    assert!(!env.exists(".DS_Store.mlv") && !env.exists(".mlvignore.mlv"));
}

/// A file recorded before a rule covered it is never overwritten unsaved by checkout.
#[test]
fn mlvignore_never_lets_checkout_overwrite_a_recorded_file() {
    let env = TestEnv::new();
    env.write("data/a.csv", "a\n");
    env.write("data/notes.txt", "v1\n");
    env.mlv(&["add", "data"]).assert().success();
    env.write(".mlvignore", "notes.txt\n");
    env.write("data/notes.txt", "v2, not in the cache\n");
    env.mlv(&["checkout"])
        .assert()
        .code(1)
        .stderr(contains("data/notes.txt"));
    assert_eq!(env.read_str("data/notes.txt"), "v2, not in the cache\n");
    // Re-adding follows the rule: the file leaves the manifest and stays on disk.
    let added = env.json(&["add", "data"]);
    assert_eq!(added["added"][0]["files"], 1, "{added}");
    env.mlv(&["status", "--check"]).assert().success();
    env.mlv(&["checkout"]).assert().success();
    assert_eq!(env.read_str("data/notes.txt"), "v2, not in the cache\n");
}

/// Issue 13: the first `add` also creates `.mlv/`, and its hint left that out; from a
/// sub-folder the paths are relative to it and quoted for the shell.
#[test]
fn the_first_add_hints_a_git_add_that_covers_the_new_mlv_folder_too() {
    let env = TestEnv::new();
    env.write("sub/my data/a.csv", "1\n");
    env.write("sub/my data/b.csv", "2\n");
    let err = crate::support::stderr_of(env.mlv_in("sub", &["add", "my data"]).assert().success());
    assert!(
        err.contains("`git add ../.mlv/.gitignore ../.mlv/config.toml .gitignore 'my data.mlv'`"),
        "{err}"
    );
    env.run_git_add_hint("sub", &err);
    env.git(&["commit", "-qm", "data"]);
    // Nothing committed changed: no hint.
    let err = crate::support::stderr_of(env.mlv_in("sub", &["add", "my data"]).assert().success());
    assert!(!err.contains("git add"), "{err}");
    // `init` names exactly what it created.
    let other = TestEnv::new();
    let err = crate::support::stderr_of(other.mlv(&["init"]).assert().success());
    assert!(
        err.contains("`git add .mlv/.gitignore .mlv/config.toml`"),
        "{err}"
    );
    other.run_git_add_hint(".", &err);
}

/// Issue 13: counts read as English: "1 file", "2 files", never "file(s)" or "1 files".
#[test]
fn counts_of_one_are_singular() {
    let env = TestEnv::new();
    env.write("d/only.csv", "1\n");
    env.mlv(&["add", "d"])
        .assert()
        .success()
        .stderr(contains("added d (1 file, "));
    std::fs::remove_dir_all(env.path("d")).unwrap();
    env.mlv(&["checkout"])
        .assert()
        .success()
        .stderr(contains("checked out 1 file ("));
}

/// Issue 15: a folder whose files are partly in the cache already (another folder holds
/// the same bytes) stores only the rest, and its manifest names every file.
#[test]
fn a_folder_partly_in_the_cache_already_is_added_whole() {
    let env = TestEnv::new();
    env.make_dataset("a", 30, "shared");
    env.mlv(&["add", "a"]).assert().success();
    env.make_dataset("b", 30, "shared");
    env.make_dataset("b/new", 20, "fresh");
    let added = env.json(&["add", "b"]);
    assert_eq!(added["added"][0]["files"], 50);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.object(&env.pointer_hash("b"))).unwrap())
            .unwrap();
    let entries = manifest["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 50);
    for e in entries {
        let path = e["path"].as_str().unwrap();
        let bytes = env.read(&format!("b/{path}"));
        assert_eq!(e["hash"].as_str().unwrap(), b3(&bytes), "{path}");
        assert!(env.object(e["hash"].as_str().unwrap()).is_file(), "{path}");
    }
    crate::support::assert_cache_sound(&env.cache_dir());
    env.mlv(&["fsck"]).assert().success();
    std::fs::remove_dir_all(env.path("b")).unwrap();
    env.mlv(&["checkout", "b"]).assert().success();
    assert_eq!(env.read_str("b/new/part1/f1.csv"), "fresh,1\n");
}

/// Issue 15: `add` of several folders at once records every fresh hash in the stat cache
/// (each folder's are written straight into its file), so nothing is read again.
#[test]
fn folders_added_together_are_all_vouched_for_by_the_stat_cache() {
    let env = TestEnv::new();
    env.make_dataset("a", 20, "a");
    env.write("one.bin", "single file\n");
    env.make_dataset("b", 30, "b");
    let first = env.json(&["add", "a", "one.bin", "b"]);
    let read: Vec<_> = (0..3)
        .map(|i| first["added"][i]["files_read"].clone())
        .collect();
    assert_eq!(read, [20, 1, 30]);
    let second = env.json(&["add", "a", "one.bin", "b"]);
    let read: Vec<_> = (0..3)
        .map(|i| second["added"][i]["files_read"].clone())
        .collect();
    assert_eq!(read, [0, 0, 0], "the stat cache vouches for every file");
    env.mlv(&["status", "--check"]).assert().success();
}

/// Issue 15: an `add` killed while it writes thousands of objects leaves no object whose
/// bytes are not its name (a partial one only under a temporary name); adding again
/// completes and `fsck` finds the cache clean.
#[test]
fn an_add_killed_midway_leaves_no_damaged_object() {
    let env = TestEnv::new();
    for i in 0..4000 {
        env.write(
            &format!("data/d{}/f{i}.bin", i % 40),
            vec![(i % 251) as u8; 700 + i],
        );
    }
    let mut child = env.mlv_process(&["add", "data"]).spawn().unwrap();
    let b3 = env.cache_dir().join("b3");
    let objects = || {
        std::fs::read_dir(&b3).map_or(0, |dirs| {
            dirs.map(|d| std::fs::read_dir(d.unwrap().path()).map_or(0, |e| e.count()))
                .sum::<usize>()
        })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while objects() < 200 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "add ended before it could be killed"
        );
        assert!(std::time::Instant::now() < deadline);
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(!env.exists("data.mlv"), "no pointer for a killed add");
    let sound = || {
        for d in std::fs::read_dir(&b3).unwrap() {
            let d = d.unwrap();
            for obj in std::fs::read_dir(d.path()).unwrap() {
                let obj = obj.unwrap();
                let name = obj.file_name().to_string_lossy().into_owned();
                if name.starts_with(".obj") {
                    continue; // what the killed write left, under its temporary name
                }
                let bytes = std::fs::read(obj.path()).unwrap();
                let want = format!("{}{name}", d.file_name().to_string_lossy());
                assert_eq!(blake3::hash(&bytes).to_hex().as_str(), want);
            }
        }
    };
    sound();
    let added = env.json(&["add", "data"]);
    assert_eq!(added["added"][0]["files"], 4000);
    sound();
    env.mlv(&["fsck"]).assert().success();
    env.mlv(&["status", "--check"]).assert().success();
}
