//! `checkout`: the work tree's pointers decide; pointers are never written; a directory
//! ends up exactly as its manifest lists it; unsaved work is never lost without `--force`.

use crate::support::{TestEnv, stderr_of};
use predicates::str::contains;

fn two_versions() -> TestEnv {
    let env = TestEnv::new();
    env.make_dataset("data", 6, "v1");
    env.mlv(&["add", "data"]).assert().success();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "v1"]);
    env.write("data/part0/f0.csv", "v2 edit\n");
    env.write("data/added-in-v2.csv", "v2\n");
    std::fs::remove_dir_all(env.path("data/part2")).unwrap();
    env.mlv(&["add", "data"]).assert().success();
    env.git(&["commit", "-qam", "v2"]);
    env
}

#[test]
fn restores_the_version_a_pointer_from_git_names() {
    let env = two_versions();
    env.git(&["checkout", "HEAD~1", "--", "data.mlv"]);
    let pointer_before = env.read("data.mlv");
    env.mlv(&["checkout", "data"])
        .assert()
        .success()
        .stderr(contains("checked out"));
    assert_eq!(env.read_str("data/part0/f0.csv"), "v1,0\n");
    assert_eq!(env.read_str("data/part2/f5.csv"), "v1,5\n");
    assert!(
        !env.exists("data/added-in-v2.csv"),
        "files not in the manifest are removed"
    );
    assert_eq!(
        env.read("data.mlv"),
        pointer_before,
        "checkout never writes a pointer"
    );
    env.mlv(&["status", "--check"]).assert().success();
    // And forward again.
    env.git(&["checkout", "HEAD", "--", "data.mlv"]);
    env.mlv(&["checkout"]).assert().success();
    assert_eq!(env.read_str("data/added-in-v2.csv"), "v2\n");
    assert!(!env.exists("data/part2/f5.csv"));
    assert!(!env.exists("data/part2"), "emptied folders are removed");
}

#[test]
fn refuses_to_overwrite_unsaved_work_and_force_discards_it() {
    let env = two_versions();
    env.write("data/part0/f0.csv", "precious unsaved edit\n");
    env.git(&["checkout", "HEAD~1", "--", "data.mlv"]);
    env.mlv(&["checkout"])
        .assert()
        .code(1)
        .stderr(contains("data/part0/f0.csv"))
        .stderr(contains("nothing was changed"))
        .stderr(contains("--force"));
    assert_eq!(env.read_str("data/part0/f0.csv"), "precious unsaved edit\n");
    assert!(
        env.exists("data/added-in-v2.csv"),
        "a refused checkout changes nothing"
    );
    env.mlv(&["checkout", "--force"]).assert().success();
    assert_eq!(env.read_str("data/part0/f0.csv"), "v1,0\n");
}

#[test]
fn refuses_to_remove_an_extra_file_whose_content_is_not_cached() {
    let env = two_versions();
    env.write("data/notes.txt", "my notes\n");
    env.mlv(&["checkout", "data"])
        .assert()
        .code(1)
        .stderr(contains("data/notes.txt"));
    assert_eq!(env.read_str("data/notes.txt"), "my notes\n");
}

#[test]
fn checkout_of_a_single_file_inside_a_directory() {
    let env = two_versions();
    env.write("data/part1/f1.csv", "oops");
    env.mlv(&["add", "data"]).assert().success();
    env.git(&["checkout", "--", "data.mlv"]);
    env.mlv(&["checkout", "data/part1/f1.csv"])
        .assert()
        .success();
    assert_eq!(env.read_str("data/part1/f1.csv"), "v1,1\n");
}

#[test]
fn file_artifact_round_trip_and_missing_object() {
    let env = TestEnv::new();
    env.write("model.pkl", "m1");
    env.mlv(&["add", "model.pkl"]).assert().success();
    std::fs::remove_file(env.path("model.pkl")).unwrap();
    env.mlv(&["checkout", "model.pkl"]).assert().success();
    assert_eq!(env.read_str("model.pkl"), "m1");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(env.path("model.pkl"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o200,
        0o200,
        "a copied file is writable like any file"
    );
    std::fs::remove_file(env.path("model.pkl")).unwrap();
    std::fs::remove_file(env.object(&env.pointer_hash("model.pkl"))).unwrap();
    env.mlv(&["checkout"])
        .assert()
        .code(1)
        .stderr(contains("not in the cache"))
        .stderr(contains("git mlv pull"));
}

#[test]
fn executable_bit_is_kept_in_directories() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    env.write("tools/run.sh", "#!/bin/sh\n");
    std::fs::set_permissions(
        env.path("tools/run.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    env.write("tools/readme", "x");
    env.mlv(&["add", "tools"]).assert().success();
    std::fs::remove_dir_all(env.path("tools")).unwrap();
    env.mlv(&["checkout"]).assert().success();
    assert_eq!(
        std::fs::metadata(env.path("tools/run.sh"))
            .unwrap()
            .permissions()
            .mode()
            & 0o111,
        0o111
    );
    assert_eq!(
        std::fs::metadata(env.path("tools/readme"))
            .unwrap()
            .permissions()
            .mode()
            & 0o111,
        0
    );
}

#[test]
fn hardlink_and_symlink_link_types_make_read_only_links_and_status_sees_damage() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let env = TestEnv::new();
    env.mlv(&["init"]).assert().success();
    env.write(
        ".mlv/config.local.toml",
        "[cache]\nlink = [\"hardlink\", \"copy\"]\n",
    );
    env.write("w.bin", "weights");
    env.mlv(&["add", "w.bin"])
        .assert()
        .success()
        .stderr(contains("read-only"));
    let object = env.object(&env.pointer_hash("w.bin"));
    let ws = std::fs::metadata(env.path("w.bin")).unwrap();
    assert_eq!(
        ws.ino(),
        std::fs::metadata(&object).unwrap().ino(),
        "the workspace file is the cache object"
    );
    assert_eq!(ws.permissions().mode() & 0o222, 0);
    // Root writes through read-only files: the cache object is damaged and status says so.
    std::fs::OpenOptions::new()
        .write(true)
        .open(env.path("w.bin"))
        .map(|mut f| {
            use std::io::Write;
            f.write_all(b"WEIGHTS").unwrap();
        })
        .unwrap_or_else(|_| panic!("tests run as root, which writes through read-only files"));
    env.mlv(&["status"])
        .assert()
        .success()
        .stdout(contains("w.bin: damaged"));

    env.write(".mlv/config.local.toml", "[cache]\nlink = [\"symlink\"]\n");
    env.make_dataset("d", 3, "s");
    env.mlv(&["add", "d"]).assert().success();
    let target = std::fs::read_link(env.path("d/part0/f0.csv")).unwrap();
    assert!(target.starts_with(env.cache_dir()), "{}", target.display());
    env.mlv(&["status", "--check", "d"]).assert().success();
    std::fs::remove_dir_all(env.path("d")).unwrap();
    env.mlv(&["checkout", "d"]).assert().success();
    assert!(
        env.path("d/part1/f1.csv")
            .symlink_metadata()
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(env.read_str("d/part1/f1.csv"), "s,1\n");
}

/// Manifests are parsed as they stream from the cache (never held whole at a million
/// files): a damaged one, still valid JSON, must be refused as damaged by every reader
/// before anything is written, exactly as when it was read whole first.
#[test]
fn a_damaged_manifest_still_parsing_as_json_is_refused_by_checkout_push_and_diff() {
    let env = TestEnv::new();
    env.add_folder_remote();
    env.make_dataset("d", 3, "s");
    env.mlv(&["add", "d"]).assert().success();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "d"]);
    let hash = env.pointer_hash("d");
    let object = env.object(&hash);
    let manifest = std::fs::read_to_string(&object).unwrap();
    let damaged = manifest.replacen("\"exec\":false", "\"exec\":true ", 1);
    assert_ne!(manifest, damaged);
    std::fs::write(&object, damaged).unwrap();
    std::fs::remove_dir_all(env.path("d")).unwrap();
    for args in [&["checkout", "d"][..], &["push"], &["diff"]] {
        env.mlv(args)
            .assert()
            .code(1)
            .stderr(contains(format!("object {hash} in the cache is damaged")));
    }
    assert!(!env.exists("d"), "nothing was written");
}

/// Issue 15: checkout plans a directory as its manifest streams in and records the files
/// it writes straight into the stat cache file. A directory of several folders where one
/// folder is gone, a file holds other (cached) content and an extra file holds cached
/// content is made whole again, and the stat cache then vouches for every file.
#[test]
fn checkout_over_a_partly_present_tree_leaves_the_stat_cache_vouching_for_every_file() {
    let env = TestEnv::new();
    env.make_dataset("data", 30, "s");
    env.write("data-x/f.csv", "beside\n");
    env.mlv(&["add", "data", "data-x"]).assert().success();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "data"]);
    std::fs::remove_dir_all(env.path("data/part0")).unwrap();
    std::fs::remove_dir_all(env.path("data-x")).unwrap();
    env.write("data/part1/f1.csv", "s,2\n");
    env.write("data/part2/extra.csv", "s,5\n");
    let out = stderr_of(env.mlv(&["checkout"]).assert().success());
    assert!(out.contains("checked out 12 files"), "{out}");
    assert!(out.contains("removed 1, 19 already up to date"), "{out}");
    for i in 0..30 {
        let rel = format!("data/part{}/f{i}.csv", i % 3);
        assert_eq!(env.read_str(&rel), format!("s,{i}\n"), "{rel}");
    }
    assert!(!env.exists("data/part2/extra.csv"));
    assert_eq!(env.read_str("data-x/f.csv"), "beside\n");
    // Files written within the stat cache file's own clock tick are not trusted yet (racy):
    // dated a minute later, every record must match the files as written.
    let stat_cache = env.path(".git/mlv/stat-cache");
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(60);
    std::fs::File::options()
        .append(true)
        .open(&stat_cache)
        .unwrap()
        .set_modified(later)
        .unwrap();
    let again = env.json(&["add", "data", "data-x"]);
    assert_eq!(again["added"][0]["files_read"], 0, "{again}");
    assert_eq!(again["added"][1]["files_read"], 0, "{again}");
    env.mlv(&["status", "--check"]).assert().success();
}
