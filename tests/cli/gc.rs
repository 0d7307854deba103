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
        remote.add_to(&env);
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
    remote.add_to(&env);
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
fn age_past_grace(dir: &std::path::Path) {
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
    remote.add_to(&env);
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
