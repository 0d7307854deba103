//! `git mlv get`, `import`, `update` and `import-url`: data tracked in another repository
//! (reached by `file://` URL, never cloned) or at a plain URL, copied or imported here.

use crate::remotes::{Kind, Remote};
use crate::servers::{self, ACCESS_KEY, BUCKET, HTTP_PASSWORD, SECRET_KEY};
use crate::support::TestEnv;
use predicates::prelude::*;
use predicates::str::contains;

/// A source repository pushed to `remote`: `data/train.csv` (`v1`, then changed on main)
/// and the folder `images/`. Returns it and its `file://` URL.
fn source(remote: &Remote) -> (TestEnv, String) {
    let src = TestEnv::new();
    src.write("data/train.csv", "a,b\n1,2\n");
    src.write("images/cat.txt", "cat");
    src.write("images/sub/dog.txt", "dog");
    src.mlv(&["add", "data/train.csv", "images"])
        .assert()
        .success();
    remote.add_to(&src);
    src.git(&["add", "-A"]);
    src.git(&["commit", "-q", "-m", "v1"]);
    src.git(&["tag", "v1"]);
    src.mlv(&["push"]).assert().success();
    src.write("data/train.csv", "a,b\n1,2\n3,4\n");
    src.mlv(&["add", "data/train.csv"]).assert().success();
    src.git(&["commit", "-q", "-am", "v2"]);
    src.mlv(&["push"]).assert().success();
    let url = format!("file://{}", src.root.display());
    (src, url)
}

#[test]
fn get_copies_a_file_a_folder_and_a_file_inside_it_without_tracking() {
    let remote = Remote::start(Kind::Folder);
    let (_src, url) = source(&remote);
    let env = TestEnv::new();
    env.mlv(&["get", &url, "data/train.csv"]).assert().success();
    assert_eq!(env.read_str("train.csv"), "a,b\n1,2\n3,4\n");
    assert!(!env.exists("train.csv.mlv"), "get writes no pointer");
    env.mlv(&[
        "get",
        &url,
        "data/train.csv",
        "--rev",
        "v1",
        "-o",
        "old.csv",
    ])
    .assert()
    .success();
    assert_eq!(env.read_str("old.csv"), "a,b\n1,2\n");
    let out = env.json(&["get", &url, "images", "-o", "pics"]);
    assert_eq!(out["path"], "pics");
    assert_eq!(out["source_path"], "images");
    assert_eq!(out["files"], 2);
    assert_eq!(out["commit"].as_str().unwrap().len(), 40);
    assert_eq!(env.read_str("pics/sub/dog.txt"), "dog");
    env.mlv(&["get", &url, "images/sub/dog.txt"])
        .assert()
        .success();
    assert_eq!(env.read_str("dog.txt"), "dog");
    assert!(env.git(&["status", "--porcelain"]).contains("pics/"));
}

#[test]
fn import_records_its_source_and_update_moves_it_to_a_new_revision() {
    let remote = Remote::start(Kind::Folder);
    let (src, url) = source(&remote);
    let env = TestEnv::new();
    env.mlv(&["init"]).assert().success();
    let out = env.json(&["import", &url, "data/train.csv", "--rev", "v1"]);
    assert_eq!(out["path"], "train.csv");
    assert_eq!(env.read_str("train.csv"), "a,b\n1,2\n");
    let pointer: toml::Table = env.read_str("train.csv.mlv").parse().unwrap();
    let s = pointer["source"].as_table().expect("a [source] table");
    assert_eq!(s["url"].as_str(), Some(url.as_str()));
    assert_eq!(s["rev"].as_str(), Some("v1"));
    assert_eq!(s["path"].as_str(), Some("data/train.csv"));
    let v1 = src.git(&["rev-parse", "v1"]);
    assert_eq!(s["commit"].as_str(), Some(v1.trim()));
    env.mlv(&["status", "--check"]).assert().success();
    // The source's branch moved on: status says so; update follows it.
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "import"]);
    let out = env.json(&["update", "train.csv", "--rev", "main"]);
    assert_eq!(out["updated"], true);
    assert_eq!(env.read_str("train.csv"), "a,b\n1,2\n3,4\n");
    let pointer: toml::Table = env.read_str("train.csv.mlv").parse().unwrap();
    let main = src.git(&["rev-parse", "main"]);
    assert_eq!(pointer["source"]["commit"].as_str(), Some(main.trim()));
    assert_eq!(pointer["source"]["rev"].as_str(), Some("main"));
    let out = env.json(&["update", "train.csv"]);
    assert_eq!(out["updated"], false, "nothing moved: {out}");
    // A folder imports whole, as one tracked directory.
    env.mlv(&["import", &url, "images", "-o", "imgs"])
        .assert()
        .success();
    assert_eq!(env.read_str("imgs/sub/dog.txt"), "dog");
    assert!(env.read_str("imgs.mlv").contains("kind = \"dir\""));
    assert!(env.read_str(".gitignore").contains("imgs"));
}

#[test]
fn status_imports_shows_imported_data_and_whether_its_source_moved_on() {
    let remote = Remote::start(Kind::Folder);
    let (src, url) = source(&remote);
    let env = TestEnv::new();
    env.mlv(&["init"]).assert().success();
    env.mlv(&["import", &url, "data/train.csv", "--rev", "main"])
        .assert()
        .success();
    let st = env.json(&["status", "--imports"]);
    let imp = &st["imports"][0];
    assert_eq!(imp["path"], "train.csv");
    assert_eq!(imp["url"], url.as_str());
    assert_eq!(imp["moved"], false);
    src.write("data/train.csv", "a,b\n5,6\n");
    src.mlv(&["add", "data/train.csv"]).assert().success();
    src.git(&["commit", "-q", "-am", "v3"]);
    let st = env.json(&["status", "--imports"]);
    assert_eq!(st["imports"][0]["moved"], true);
    env.mlv(&["status", "--imports"])
        .assert()
        .success()
        .stdout(contains("source moved on: `git mlv update train.csv`"));
}

#[test]
fn an_s3_source_is_read_with_credentials_from_the_environment() {
    let remote = Remote::start(Kind::S3);
    let (_src, url) = source(&remote);
    let env = TestEnv::new();
    env.mlv(&["get", &url, "data/train.csv"])
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .assert()
        .success();
    assert_eq!(env.read_str("train.csv"), "a,b\n1,2\n3,4\n");
}

#[test]
fn hostile_or_wrong_requests_are_refused_with_exit_2() {
    let remote = Remote::start(Kind::Folder);
    let (_src, url) = source(&remote);
    let env = TestEnv::new();
    env.mlv(&["init"]).assert().success();
    env.mlv(&["get", &url, "data/nope.csv"])
        .assert()
        .code(2)
        .stderr(contains("`data/nope.csv` is not tracked"))
        .stderr(contains("hint:"));
    for out in ["../escaped.csv", ".git/x.csv", ".mlv/x.csv", "SUB/.GIT/x"] {
        env.mlv(&["get", &url, "data/train.csv", "-o", out])
            .assert()
            .code(2)
            .stderr(contains(out));
    }
    assert!(!env.outside().join("escaped.csv").exists());
    let gone = format!("file://{}/no-such-repo", env.outside().display());
    env.mlv(&["get", &gone, "data/train.csv"])
        .assert()
        .code(2)
        .stderr(contains("no-such-repo"));
    env.mlv(&["get", &url, "data/train.csv", "--rev", "no-such-rev"])
        .assert()
        .code(2)
        .stderr(contains("no-such-rev"));
    // Git-tracked code is never replaced by imported data.
    env.write("train.csv", "code");
    env.git(&["add", "train.csv"]);
    env.git(&["commit", "-q", "-m", "code"]);
    env.mlv(&["import", &url, "data/train.csv"])
        .assert()
        .code(2)
        .stderr(contains("tracked by git"));
    assert_eq!(env.read_str("train.csv"), "code");
    // update of data that was not imported.
    env.write("own.bin", "x");
    env.mlv(&["add", "own.bin"]).assert().success();
    env.mlv(&["update", "own.bin"])
        .assert()
        .code(2)
        .stderr(contains("not imported"));
}

#[test]
fn a_source_pointer_naming_git_s_folder_is_refused() {
    let remote = Remote::start(Kind::Folder);
    let (src, url) = source(&remote);
    // A hand-made pointer whose data path would lie in `.git`.
    let good = src.read_str("data/train.csv.mlv");
    src.write("sub/.GIT.mlv", &good);
    src.git(&["add", "-f", "sub/.GIT.mlv"]);
    src.git(&["commit", "-q", "-m", "hostile"]);
    let env = TestEnv::new();
    env.mlv(&["get", &url, "sub/.GIT", "-o", "ok"])
        .assert()
        .code(2)
        .stderr(contains(".GIT"));
    assert!(!env.exists("sub") && !env.exists("ok"));
}

#[test]
fn import_url_tracks_a_file_and_update_downloads_only_when_it_changed() {
    let env = TestEnv::new();
    env.mlv(&["init"]).assert().success();
    let file = env.outside().join("dl/weights.bin");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, "weights-1").unwrap();
    let url = format!("file://{}", file.display());
    let out = env.json(&["import-url", &url, "-o", "w.bin"]);
    assert_eq!(out["path"], "w.bin");
    assert_eq!(env.read_str("w.bin"), "weights-1");
    let pointer: toml::Table = env.read_str("w.bin.mlv").parse().unwrap();
    assert_eq!(pointer["source"]["url"].as_str(), Some(url.as_str()));
    assert_eq!(pointer["source"]["size"].as_integer(), Some(9));
    assert!(pointer["source"].get("mtime").is_some());
    let out = env.json(&["update", "w.bin"]);
    assert_eq!(out["updated"], false);
    std::fs::write(&file, "weights-2!").unwrap();
    let out = env.json(&["update", "w.bin"]);
    assert_eq!(out["updated"], true);
    assert_eq!(env.read_str("w.bin"), "weights-2!");
    env.mlv(&["import-url", "file:///no/such/file.bin"])
        .assert()
        .code(2)
        .stderr(contains("/no/such/file.bin"));
}

/// Writes `bytes` at `file` and sets its mtime to `secs` after the epoch: a web server's
/// ETag and Last-Modified come from the file's size and mtime.
fn put(file: &std::path::Path, bytes: &str, secs: u64) {
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, bytes).unwrap();
    let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    std::fs::File::options()
        .write(true)
        .open(file)
        .unwrap()
        .set_modified(when)
        .unwrap();
}

#[test]
fn import_url_over_http_records_the_etag_and_update_downloads_only_when_it_changed() {
    let server = servers::http(false);
    let file = server.object_file("dl", "weights.bin");
    put(&file, "weights-1", 1_700_000_000);
    let url = format!("{}/{BUCKET}/dl/weights.bin", server.url());
    let env = TestEnv::new();
    env.mlv(&["init"]).assert().success();
    let out = env.json(&["import-url", &url, "-o", "w.bin"]);
    assert_eq!(out["path"], "w.bin");
    assert_eq!(env.read_str("w.bin"), "weights-1");
    let pointer: toml::Table = env.read_str("w.bin.mlv").parse().unwrap();
    let s = pointer["source"].as_table().unwrap();
    assert_eq!(s["url"].as_str(), Some(url.as_str()));
    assert_eq!(s["size"].as_integer(), Some(9));
    assert!(s["etag"].as_str().is_some_and(|e| !e.is_empty()), "{s:?}");
    assert!(s.get("last_modified").is_some(), "{s:?}");
    assert!(env.git(&["status", "--porcelain"]).contains("w.bin.mlv"));
    // Other bytes of the same size and mtime: the server's ETag is unchanged, so update
    // trusts its HEAD and downloads nothing (a download would bring the new bytes).
    put(&file, "weights-X", 1_700_000_000);
    let out = env.json(&["update", "w.bin"]);
    assert_eq!(out["updated"], false, "{out}");
    assert_eq!(env.read_str("w.bin"), "weights-1");
    put(&file, "weights-2!", 1_700_000_100);
    let out = env.json(&["update", "w.bin"]);
    assert_eq!(out["updated"], true, "{out}");
    assert_eq!(env.read_str("w.bin"), "weights-2!");
    let pointer: toml::Table = env.read_str("w.bin.mlv").parse().unwrap();
    assert_eq!(pointer["source"]["size"].as_integer(), Some(10));
    // A URL the server does not have: exit 2, naming it; nothing written.
    let gone = format!("{}/{BUCKET}/dl/nope.bin", server.url());
    env.mlv(&["import-url", &gone])
        .assert()
        .code(2)
        .stderr(contains("nope.bin"))
        .stderr(contains("404"))
        .stderr(contains("hint:"));
    assert!(!env.exists("nope.bin") && !env.exists("nope.bin.mlv"));
    // A password in the URL would be committed in the pointer: refused, never printed.
    let secret = format!(
        "http://mlv:{HTTP_PASSWORD}@127.0.0.1:{}/{BUCKET}/dl/weights.bin",
        server.port
    );
    env.mlv(&["import-url", &secret, "-o", "s.bin"])
        .assert()
        .code(2)
        .stderr(contains(HTTP_PASSWORD).not())
        .stdout(contains(HTTP_PASSWORD).not());
}

#[test]
fn import_url_from_s3_uses_credentials_from_the_environment_and_never_prints_them() {
    let server = servers::s3();
    let file = server.object_file("dl", "model.bin");
    put(&file, "model-1", 1_700_000_000);
    let url = format!("s3://{BUCKET}/dl/model.bin");
    let env = TestEnv::new();
    env.mlv(&["init"]).assert().success();
    let s3 = |args: &[&str], secret: &str| {
        let mut cmd = env.mlv(args);
        cmd.env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env("AWS_ENDPOINT_URL", server.url());
        cmd
    };
    s3(&["import-url", &url], SECRET_KEY).assert().success();
    assert_eq!(env.read_str("model.bin"), "model-1");
    let pointer: toml::Table = env.read_str("model.bin.mlv").parse().unwrap();
    assert_eq!(pointer["source"]["url"].as_str(), Some(url.as_str()));
    assert_eq!(pointer["source"]["size"].as_integer(), Some(7));
    let out = s3(&["update", "model.bin", "--json"], SECRET_KEY)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"updated\": false"));
    put(&file, "model-two", 1_700_000_100);
    s3(&["update", "model.bin"], SECRET_KEY).assert().success();
    assert_eq!(env.read_str("model.bin"), "model-two");
    // Wrong credentials fail, and neither the key nor the secret is printed.
    let wrong = "wrong-secret-do-not-print";
    s3(&["import-url", &url, "-o", "again.bin"], wrong)
        .assert()
        .failure()
        .stderr(contains(wrong).not())
        .stderr(contains(SECRET_KEY).not());
    s3(
        &["import-url", &format!("s3://{BUCKET}/dl/none.bin")],
        SECRET_KEY,
    )
    .assert()
    .code(2)
    .stderr(contains("none.bin"));
}

#[test]
fn lineage_shows_where_imported_data_came_from() {
    let remote = Remote::start(Kind::Folder);
    let (src, url) = source(&remote);
    let env = TestEnv::new();
    env.mlv(&["init"]).assert().success();
    env.mlv(&["import", &url, "data/train.csv", "--rev", "v1"])
        .assert()
        .success();
    env.mlv(&["import", &url, "images", "-o", "imgs"])
        .assert()
        .success();
    let node = &env.json(&["lineage", "train.csv"])["lineage"];
    assert_eq!(node["source"], "data");
    let imp = &node["imported"];
    assert_eq!(imp["url"], url.as_str(), "{node}");
    assert_eq!(imp["rev"], "v1");
    assert_eq!(imp["path"], "data/train.csv");
    assert_eq!(imp["commit"], src.git(&["rev-parse", "v1"]).trim());
    // A stage input inside an imported folder names the folder's source too.
    env.write(
        "mlv.toml",
        "[stages.fit]\ncmd = \"cat imgs/cat.txt > model.txt\"\ndeps = [\"imgs/cat.txt\"]\nouts = [\"model.txt\"]\n",
    );
    env.mlv(&["run"]).assert().success();
    let node = &env.json(&["lineage", "model.txt"])["lineage"];
    let input = &node["stage"]["inputs"][0];
    assert_eq!(input["path"], "imgs/cat.txt", "{node}");
    assert_eq!(input["imported"]["path"], "images", "{node}");
    assert!(
        node.get("imported").is_none(),
        "a stage's out is not imported: {node}"
    );
}

#[test]
fn update_restores_imported_data_missing_from_the_work_tree() {
    let remote = Remote::start(Kind::Folder);
    let (_src, url) = source(&remote);
    let env = TestEnv::new();
    env.mlv(&["init"]).assert().success();
    env.mlv(&["import", &url, "images", "-o", "imgs"])
        .assert()
        .success();
    std::fs::remove_dir_all(env.root.join("imgs")).unwrap();
    let out = env.json(&["update", "imgs"]);
    assert_eq!(out["updated"], false, "{out}");
    assert_eq!(out["restored"], true, "{out}");
    assert_eq!(env.read_str("imgs/sub/dog.txt"), "dog");
    // The same for an import-url file.
    let file = env.outside().join("dl/w.bin");
    put(&file, "w-1", 1_700_000_000);
    env.mlv(&["import-url", file.to_str().unwrap()])
        .assert()
        .success();
    std::fs::remove_file(env.root.join("w.bin")).unwrap();
    let out = env.json(&["update", "w.bin"]);
    assert_eq!(out["restored"], true, "{out}");
    assert_eq!(env.read_str("w.bin"), "w-1");
}

#[test]
fn push_skips_imported_data_unless_include_imports() {
    let remote = Remote::start(Kind::Folder);
    let (_src, url) = source(&remote);
    let (env, mine) = importing_with_own_data(&url);
    let hash = |p: &str| hash_in(&env, p);
    let out = env.json(&["push"]);
    assert_eq!(out["imports_skipped"][0], "train.csv", "{out}");
    assert!(mine.object_file(&hash("own.txt.mlv")).exists());
    assert!(!mine.object_file(&hash("train.csv.mlv")).exists());
    env.mlv(&["push", "--include-imports"]).assert().success();
    assert!(mine.object_file(&hash("train.csv.mlv")).exists());
}

/// A repository pushing every object loose to its own folder remote, with
/// `data/train.csv` imported at `v1` (as `train.csv`) and data of its own (`own.txt`),
/// not committed. Returns it and its remote.
fn importing_with_own_data(url: &str) -> (TestEnv, Remote) {
    let env = TestEnv::new();
    env.mlv(&["init"]).assert().success();
    let mine = Remote::start(Kind::Folder);
    mine.add_loose_to(&env);
    env.mlv(&["import", url, "data/train.csv", "--rev", "v1"])
        .assert()
        .success();
    env.write("own.txt", "mine");
    env.mlv(&["add", "own.txt"]).assert().success();
    (env, mine)
}

/// The `hash` of the pointer file `pointer`.
fn hash_in(env: &TestEnv, pointer: &str) -> String {
    let t: toml::Table = env.read_str(pointer).parse().unwrap();
    t["hash"].as_str().unwrap().to_string()
}

/// A repository importing `data/train.csv` at `v1` (as `train.csv`) and the folder
/// `images/sub` inside the source's tracked `images` (as `dogs`), with data of its own
/// (`own.txt`), committed and pushed to its own folder remote (`--include-imports` when
/// `include`). Returns it and its remote.
fn importer(url: &str, include: bool) -> (TestEnv, Remote) {
    let env = TestEnv::new();
    env.mlv(&["init"]).assert().success();
    let mine = Remote::start(Kind::Folder);
    mine.add_to(&env);
    env.mlv(&["import", url, "data/train.csv", "--rev", "v1"])
        .assert()
        .success();
    env.mlv(&["import", url, "images/sub", "-o", "dogs"])
        .assert()
        .success();
    env.write("own.txt", "mine");
    env.mlv(&["add", "own.txt"]).assert().success();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "imports"]);
    match include {
        true => env.mlv(&["push", "--include-imports"]).assert().success(),
        false => env.mlv(&["push"]).assert().success(),
    };
    (env, mine)
}

#[test]
fn pull_and_fetch_in_a_fresh_clone_get_imported_data_from_its_source() {
    let remote = Remote::start(Kind::Folder);
    let (_src, url) = source(&remote);
    let (env, _mine) = importer(&url, false);
    let ci = env.clone_repo("ci");
    ci.mlv(&["pull"]).assert().success();
    assert_eq!(
        ci.read_str("train.csv"),
        "a,b\n1,2\n",
        "the recorded commit's"
    );
    assert_eq!(ci.read_str("dogs/dog.txt"), "dog");
    assert_eq!(ci.read_str("own.txt"), "mine");
    assert!(ci.git(&["status", "--porcelain"]).is_empty());
    // `fetch` brings them into the cache too; `checkout` then writes them as usual.
    let other = env.clone_repo("other");
    other.mlv(&["fetch"]).assert().success();
    other.mlv(&["checkout"]).assert().success();
    assert_eq!(other.read_str("train.csv"), "a,b\n1,2\n");
    assert_eq!(other.read_str("dogs/dog.txt"), "dog");
}

#[test]
fn pull_names_the_source_when_its_remote_is_gone_and_still_pulls_the_rest() {
    let remote = Remote::start(Kind::Folder);
    let (_src, url) = source(&remote);
    let (env, _mine) = importer(&url, false);
    std::fs::remove_dir_all(remote.root()).unwrap();
    let ci = env.clone_repo("ci");
    let err = crate::support::stderr_of(ci.mlv(&["pull"]).assert().code(1));
    assert!(err.contains(&url), "{err}");
    assert!(
        err.contains("`train.csv`") && err.contains("data/train.csv"),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");
    assert_eq!(ci.read_str("own.txt"), "mine", "its own data still pulled");
    ci.mlv(&["fetch"]).assert().code(1).stderr(contains(&url));
}

#[test]
fn imports_pushed_with_include_imports_come_from_this_remote_without_the_source() {
    let remote = Remote::start(Kind::Folder);
    let (src, url) = source(&remote);
    let (env, _mine) = importer(&url, true);
    // The source and its remote unreachable: nothing may ask them.
    std::fs::rename(&src.root, src.root.with_file_name("moved")).unwrap();
    std::fs::remove_dir_all(remote.root()).unwrap();
    let ci = env.clone_repo("ci");
    ci.mlv(&["pull"]).assert().success();
    assert_eq!(ci.read_str("train.csv"), "a,b\n1,2\n");
    assert_eq!(ci.read_str("dogs/dog.txt"), "dog");
}

#[test]
fn pull_downloads_import_url_data_again_only_while_the_file_is_unchanged() {
    let env = TestEnv::new();
    env.mlv(&["init"]).assert().success();
    let mine = Remote::start(Kind::Folder);
    mine.add_to(&env);
    let file = env.outside().join("dl/w.bin");
    put(&file, "w-1", 1_700_000_000);
    env.mlv(&["import-url", file.to_str().unwrap()])
        .assert()
        .success();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "import-url"]);
    env.mlv(&["push"]).assert().success();
    let ci = env.clone_repo("ci");
    ci.mlv(&["pull"]).assert().success();
    assert_eq!(ci.read_str("w.bin"), "w-1");
    put(&file, "w-2", 1_700_000_100);
    let other = env.clone_repo("other");
    let err = crate::support::stderr_of(other.mlv(&["pull"]).assert().code(1));
    assert!(err.contains(file.to_str().unwrap()), "{err}");
    assert!(err.contains("git mlv update"), "{err}");
    assert!(!other.exists("w.bin"));
}

#[test]
fn import_refuses_a_destination_whose_pointer_exists_or_inside_tracked_data() {
    let remote = Remote::start(Kind::Folder);
    let (_src, url) = source(&remote);
    let env = TestEnv::new();
    env.mlv(&["init"]).assert().success();
    env.write("data", "mine");
    env.write("dir/a.txt", "a");
    env.mlv(&["add", "data", "dir"]).assert().success();
    // Committed but not pulled: only the pointers are here.
    std::fs::remove_file(env.root.join("data")).unwrap();
    std::fs::remove_dir_all(env.root.join("dir")).unwrap();
    let before = env.read_str("data.mlv");
    let file = env.outside().join("f.bin");
    put(&file, "f", 1_700_000_000);
    for out in ["data", "dir/x", "dir"] {
        env.mlv(&["import", &url, "data/train.csv", "-o", out])
            .assert()
            .code(2)
            .stderr(contains("hint:"));
        env.mlv(&["import-url", file.to_str().unwrap(), "-o", out])
            .assert()
            .code(2)
            .stderr(contains("hint:"));
    }
    assert_eq!(env.read_str("data.mlv"), before);
    assert!(!env.exists("dir/x.mlv") && !env.exists("dir/x"));
}

#[test]
fn changed_imported_data_re_added_is_pushed_as_own_data() {
    let remote = Remote::start(Kind::Folder);
    let (_src, url) = source(&remote);
    let env = TestEnv::new();
    env.mlv(&["init"]).assert().success();
    let mine = Remote::start(Kind::Folder);
    mine.add_loose_to(&env);
    env.mlv(&["import", &url, "data/train.csv", "--rev", "v1"])
        .assert()
        .success();
    // Re-adding unchanged data keeps the source.
    env.mlv(&["add", "train.csv"]).assert().success();
    assert!(env.read_str("train.csv.mlv").contains("[source]"));
    env.write("train.csv", "edited");
    env.mlv(&["add", "train.csv"]).assert().success();
    let pointer: toml::Table = env.read_str("train.csv.mlv").parse().unwrap();
    assert!(pointer.get("source").is_none(), "{pointer}");
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "edited"]);
    env.mlv(&["push"]).assert().success();
    assert!(mine.object_file(pointer["hash"].as_str().unwrap()).exists());
    let ci = env.clone_repo("ci");
    ci.mlv(&["pull"]).assert().success();
    assert_eq!(ci.read_str("train.csv"), "edited");
}

#[test]
fn update_keeps_the_pointer_s_unknown_fields() {
    let remote = Remote::start(Kind::Folder);
    let (_src, url) = source(&remote);
    let env = TestEnv::new();
    env.mlv(&["init"]).assert().success();
    env.mlv(&["import", &url, "data/train.csv", "--rev", "v1"])
        .assert()
        .success();
    let p = env.read_str("train.csv.mlv");
    env.write(
        "train.csv.mlv",
        p.replace("size = ", "owner = \"me\"\nsize = "),
    );
    env.mlv(&["update", "train.csv", "--rev", "main"])
        .assert()
        .success();
    assert_eq!(env.read_str("train.csv"), "a,b\n1,2\n3,4\n");
    let pointer: toml::Table = env.read_str("train.csv.mlv").parse().unwrap();
    assert_eq!(pointer["owner"].as_str(), Some("me"), "{pointer}");
    let file = env.outside().join("w.bin");
    put(&file, "w-1", 1_700_000_000);
    env.mlv(&["import-url", file.to_str().unwrap()])
        .assert()
        .success();
    let p = env.read_str("w.bin.mlv");
    env.write("w.bin.mlv", p.replace("size = ", "owner = \"me\"\nsize = "));
    put(&file, "w-2", 1_700_000_100);
    env.mlv(&["update", "w.bin"]).assert().success();
    assert_eq!(env.read_str("w.bin"), "w-2");
    let pointer: toml::Table = env.read_str("w.bin.mlv").parse().unwrap();
    assert_eq!(pointer["owner"].as_str(), Some("me"), "{pointer}");
    // `--rev` means nothing for a URL import.
    env.mlv(&["update", "w.bin", "--rev", "v1"])
        .assert()
        .code(2)
        .stderr(contains("--rev"));
}

#[test]
fn import_url_refuses_a_query_or_fragment_without_printing_it() {
    let env = TestEnv::new();
    env.mlv(&["init"]).assert().success();
    for url in [
        "https://example.com/f.bin?X-Amz-Signature=SECRET123",
        "https://example.com/f.bin?token=SECRET123",
        "https://example.com/f.bin#SECRET123",
    ] {
        env.mlv(&["import-url", url])
            .assert()
            .code(2)
            .stderr(contains("hint:"))
            .stderr(contains("SECRET123").not());
    }
    assert!(!env.exists("f.bin.mlv"));
}

#[test]
fn import_from_a_local_path_records_its_absolute_path_and_head_commit() {
    let remote = Remote::start(Kind::Folder);
    let (src, _url) = source(&remote);
    let env = TestEnv::new();
    env.mlv(&["init"]).assert().success();
    // Typed relative to the importer (both temporary folders have the same parent).
    let name = |p: &std::path::Path| p.file_name().unwrap().to_str().unwrap().to_string();
    let path = format!(
        "../../{}/{}",
        name(src.root.parent().unwrap()),
        name(&src.root)
    );
    assert_eq!(
        env.root.join(&path).canonicalize().unwrap(),
        src.root.canonicalize().unwrap()
    );
    // The work tree holds an uncommitted change: the commit's data is imported.
    src.write("data/train.csv", "dirty");
    src.mlv(&["add", "data/train.csv"]).assert().success();
    env.mlv(&["import", &path, "data/train.csv"])
        .assert()
        .success();
    assert_eq!(env.read_str("train.csv"), "a,b\n1,2\n3,4\n");
    let pointer: toml::Table = env.read_str("train.csv.mlv").parse().unwrap();
    let s = pointer["source"].as_table().unwrap();
    let head = src.git(&["rev-parse", "HEAD"]);
    assert_eq!(s["commit"].as_str(), Some(head.trim()));
    let url = s["url"].as_str().unwrap();
    assert!(std::path::Path::new(url).is_absolute(), "{url}");
    let out = env.json(&["update", "train.csv"]);
    assert_eq!(out["updated"], false, "{out}");
    let out = env.json(&["status", "--imports"]);
    assert!(!out.to_string().contains("\"moved\":true"), "{out}");
}

#[test]
fn the_pre_push_hook_skips_imported_data_like_push() {
    let remote = Remote::start(Kind::Folder);
    let (_src, url) = source(&remote);
    let (env, mine) = importing_with_own_data(&url);
    let bare = env.outside().join("server.git");
    std::fs::create_dir_all(&bare).unwrap();
    let init = std::process::Command::new("git")
        .args(["init", "-q", "--bare"])
        .arg(&bare)
        .status()
        .unwrap();
    assert!(init.success());
    env.git(&["remote", "add", "origin", bare.to_str().unwrap()]);
    env.mlv(&["install-hooks"]).assert().success();
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "imports"]);
    let out = env.git_output(&["push", "-q", "origin", "HEAD"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(mine.object_file(&hash_in(&env, "own.txt.mlv")).exists());
    assert!(!mine.object_file(&hash_in(&env, "train.csv.mlv")).exists());
}

#[test]
fn a_local_source_s_config_local_toml_is_never_read() {
    let remote = Remote::start(Kind::Folder);
    let (src, _url) = source(&remote);
    // That machine's own settings (credentials) are not ours: not even read, so a file
    // this one could not parse changes nothing.
    src.write(
        ".mlv/config.local.toml",
        "[remote.store\nsecret_access_key = \"x\"\n",
    );
    let env = TestEnv::new();
    env.mlv(&["init"]).assert().success();
    env.mlv(&["get", src.root.to_str().unwrap(), "images", "-o", "pics"])
        .assert()
        .success();
    assert_eq!(env.read_str("pics/cat.txt"), "cat");
}

/// Cache objects of `env` (none: `get` leaves the cache as it was) and git-mlv temporary
/// names left in its root (none: a `get` writes under one and renames it away).
fn objects_and_leftovers(env: &TestEnv) -> (usize, Vec<String>) {
    let objects = crate::packs::files_under(&env.cache_dir().join("b3")).len();
    let leftovers = std::fs::read_dir(&env.root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".mlv-tmp"))
        .collect();
    (objects, leftovers)
}

#[test]
fn get_leaves_this_repository_s_cache_untouched_and_copies_what_it_holds() {
    let remote = Remote::start(Kind::Folder);
    let (_src, url) = source(&remote);
    let env = TestEnv::new();
    env.mlv(&["init"]).assert().success();
    env.mlv(&["get", &url, "images", "-o", "pics"])
        .assert()
        .success();
    env.mlv(&["get", &url, "data/train.csv"]).assert().success();
    assert_eq!(env.read_str("pics/sub/dog.txt"), "dog");
    assert_eq!(env.read_str("train.csv"), "a,b\n1,2\n3,4\n");
    assert_eq!(objects_and_leftovers(&env), (0, vec![]));
    // What this cache holds is copied from it: with the source's remote gone, the same
    // data tracked here still gets.
    env.write("mine/cat.txt", "cat");
    env.write("mine/sub/dog.txt", "dog");
    env.mlv(&["add", "mine"]).assert().success();
    std::fs::remove_dir_all(remote.root()).unwrap();
    env.mlv(&["get", &url, "images", "-o", "again"])
        .assert()
        .success();
    assert_eq!(env.read_str("again/sub/dog.txt"), "dog");
    assert_eq!(env.read_str("again/cat.txt"), "cat");
}

#[test]
fn a_corrupt_object_fails_get_names_its_file_and_leaves_no_partial_output() {
    let remote = Remote::start(Kind::Folder);
    let src = TestEnv::new();
    crate::packs::write_files(&src, "set", 2, 3, 3000, "g");
    crate::packs::committed(&src, &["set"], &remote);
    src.mlv(&["push"]).assert().success();
    let victim = src.read("set/d1/f2.bin");
    crate::packs::corrupt_in_pack(&remote, &victim);

    let env = TestEnv::new();
    env.mlv(&["init"]).assert().success();
    let url = format!("file://{}", src.root.display());
    env.mlv(&["get", &url, "set", "-o", "out/set"])
        .assert()
        .code(1)
        .stderr(contains("`set/d1/f2.bin`"))
        .stderr(contains(crate::support::b3(&victim)))
        .stderr(contains("is corrupt"));
    assert!(!env.exists("out"), "no partial output, not even its folder");
    assert_eq!(objects_and_leftovers(&env), (0, vec![]));
}
