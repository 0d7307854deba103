//! Remotes against real storage: a folder, s3s-fs for `s3://`, nginx WebDAV for
//! `http://`, sshd for `ssh://`, fake-gcs-server for `gs://` and Azurite for `az://`. Each
//! scenario runs once per backend (see `each_backend!`).

use crate::servers::{
    self, ACCESS_KEY, AZURE_ACCOUNT, AZURE_KEY, BUCKET, HTTP_PASSWORD, HTTP_USER, SECRET_KEY,
    Server,
};
use crate::support::{TestEnv, b3};
use predicates::prelude::*;
use predicates::str::contains;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const PREFIX: &str = "team/proj";

#[derive(Clone, Copy, PartialEq)]
pub enum Kind {
    Folder,
    S3,
    Http,
    Ssh,
    Gcs,
    Azure,
}

pub struct Remote {
    pub kind: Kind,
    pub server: Option<Server>,
    /// The client's key, known_hosts and ssh config for an `ssh://` remote.
    pub ssh: Option<servers::SshClient>,
    folder: tempfile::TempDir,
}

impl Remote {
    pub fn start(kind: Kind) -> Self {
        let mut ssh = None;
        let server = match kind {
            Kind::Folder => None,
            Kind::S3 => Some(servers::s3()),
            Kind::Http => Some(servers::http(false)),
            Kind::Ssh => {
                let (server, client) = servers::ssh();
                ssh = Some(client);
                Some(server)
            }
            Kind::Gcs => Some(servers::gcs()),
            Kind::Azure => Some(servers::azurite()),
        };
        Remote {
            kind,
            server,
            ssh,
            folder: tempfile::tempdir().unwrap(),
        }
    }

    fn server(&self) -> &Server {
        self.server.as_ref().expect("a server backs this remote")
    }

    pub fn url(&self) -> String {
        match self.kind {
            Kind::Folder => self.folder.path().join(PREFIX).display().to_string(),
            Kind::S3 => format!("s3://{BUCKET}/{PREFIX}"),
            Kind::Http => format!("{}/{BUCKET}/{PREFIX}", self.server().url()),
            Kind::Ssh => format!(
                "ssh://127.0.0.1:{}{}",
                self.server().port,
                self.server()
                    .object_file(PREFIX, "x")
                    .parent()
                    .unwrap()
                    .display()
            ),
            Kind::Gcs => format!("gs://{BUCKET}/{PREFIX}"),
            Kind::Azure => format!("az://{BUCKET}/{PREFIX}"),
        }
    }

    /// What `--endpoint` the remote needs (S3, GCS and Azure emulators on loopback).
    pub fn endpoint(&self) -> Option<String> {
        match self.kind {
            Kind::S3 | Kind::Gcs => Some(self.server().url()),
            Kind::Azure => Some(format!("{}/{AZURE_ACCOUNT}", self.server().url())),
            Kind::Folder | Kind::Http | Kind::Ssh => None,
        }
    }

    /// `git mlv remote add store … --default`, plus this machine's credentials.
    pub fn add_to(&self, env: &TestEnv) {
        let url = self.url();
        let mut args = vec!["remote", "add", "store", url.as_str(), "--default"];
        let endpoint = self.endpoint();
        if let Some(endpoint) = &endpoint {
            args.extend(["--endpoint", endpoint.as_str()]);
        }
        env.mlv(&args).assert().success();
        self.credentials(env);
    }

    /// As `add_to`, with every object pushed loose (`pack_threshold 0`, this machine
    /// only): for tests of one loose object on the remote.
    pub fn add_loose_to(&self, env: &TestEnv) {
        self.add_to(env);
        env.mlv(&["remote", "set", "store", "pack_threshold", "0", "--local"])
            .assert()
            .success();
    }

    /// The remote's root folder on the storage server's disk. Azurite keeps blobs in its
    /// own database: its root is a name standing for the remote's prefix, which only
    /// `read`, `write`, `is_file` and `files_under` understand.
    pub fn root(&self) -> PathBuf {
        match self.kind {
            Kind::Folder => self.folder.path().join(PREFIX),
            Kind::Azure => Path::new("/azurite").join(BUCKET).join(PREFIX),
            _ => self.server().object_file(PREFIX, ""),
        }
    }

    /// The blob key of a file under `root()` (Azurite only).
    fn blob_key(&self, file: &Path) -> String {
        let rel = file
            .strip_prefix(Path::new("/azurite").join(BUCKET))
            .unwrap();
        rel.to_str().unwrap().to_string()
    }

    /// The bytes of a file under `root()`, or `None` when there is none.
    pub fn read(&self, file: &Path) -> Option<Vec<u8>> {
        match self.kind {
            Kind::Azure => self.server().azure_get(&self.blob_key(file)),
            _ => std::fs::read(file).ok(),
        }
    }

    pub fn is_file(&self, file: &Path) -> bool {
        match self.kind {
            Kind::Azure => self.read(file).is_some(),
            _ => file.is_file(),
        }
    }

    /// Replaces the bytes of a file under `root()` behind git-mlv's back (damage).
    pub fn write(&self, file: &Path, bytes: &[u8]) {
        match self.kind {
            Kind::Azure => self.server().azure_put(&self.blob_key(file), bytes),
            _ => {
                writable(file);
                std::fs::write(file, bytes).unwrap();
            }
        }
    }

    /// Every file below `dir` (under `root()`), at any depth.
    pub fn files_under(&self, dir: &Path) -> Vec<PathBuf> {
        match self.kind {
            Kind::Azure => {
                let root = Path::new("/azurite").join(BUCKET);
                self.server()
                    .azure_keys(&self.blob_key(dir))
                    .into_iter()
                    .map(|k| root.join(k))
                    .collect()
            }
            _ => crate::packs::files_under(dir),
        }
    }

    /// Puts object `bytes` on the remote as a push would. fake-gcs-server serves no
    /// multipart uploads (docs/decisions.md), so there an object over 16 MiB goes up
    /// through its JSON API and the push that follows finds it in place.
    pub fn seed_big_object(&self, bytes: &[u8]) {
        if self.kind == Kind::Gcs && bytes.len() > 16 << 20 {
            let hex = &b3(bytes)[3..];
            let key = format!("{PREFIX}/b3/{}/{}", &hex[..2], &hex[2..]);
            self.server().gcs_upload(&key, bytes);
        }
    }

    /// Credentials go to `.mlv/config.local.toml`, as a machine's own settings.
    pub fn credentials(&self, env: &TestEnv) {
        if let Some(ssh) = &self.ssh {
            for (key, file) in [
                ("identity_file", &ssh.identity_file),
                ("known_hosts", &ssh.known_hosts),
                ("ssh_config", &ssh.ssh_config),
            ] {
                env.mlv(&["remote", "set", "store", key, file.to_str().unwrap()])
                    .assert()
                    .success();
            }
        }
        if self.kind == Kind::Azure {
            env.mlv(&["remote", "set", "store", "account_key", AZURE_KEY])
                .assert()
                .success();
        }
        if self.kind == Kind::S3 {
            env.mlv(&["remote", "set", "store", "access_key_id", ACCESS_KEY])
                .assert()
                .success();
            env.mlv(&["remote", "set", "store", "secret_access_key", SECRET_KEY])
                .assert()
                .success();
        }
    }

    /// The file on the storage server's disk that holds object `hash`.
    pub fn object_file(&self, hash: &str) -> PathBuf {
        let hex = hash.strip_prefix("b3:").unwrap();
        let key = format!("b3/{}/{}", &hex[..2], &hex[2..]);
        match self.kind {
            Kind::Folder => self.folder.path().join(PREFIX).join(key),
            _ => self.root().join(key),
        }
    }
}

/// Runs each scenario once per backend, as `<scenario>::folder`, `::s3`, `::http`, `::ssh`,
/// `::gcs` and `::azure`.
macro_rules! each_backend {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            use super::Kind;
            #[test]
            fn folder() { super::$scenario(Kind::Folder) }
            #[test]
            fn s3() { super::$scenario(Kind::S3) }
            #[test]
            fn http() { super::$scenario(Kind::Http) }
            #[test]
            fn ssh() { super::$scenario(Kind::Ssh) }
            #[test]
            fn gcs() { super::$scenario(Kind::Gcs) }
            #[test]
            fn azure() { super::$scenario(Kind::Azure) }
        }
    )*};
}

each_backend!(
    push_clone_pull_round_trip,
    corrupt_remote_object_never_enters_the_cache,
    corrupt_big_object_never_enters_the_cache,
    killed_pull_resumes_big_download,
    an_over_long_partial_download_is_cut_to_the_objects_size,
    pulled_big_files_are_whole_separate_copies
);

fn project_with_data(remote: &Remote) -> TestEnv {
    project_pushing(remote, false)
}

/// The same project with every object pushed loose, for tests that damage one of them.
fn project_with_loose_data(remote: &Remote) -> TestEnv {
    project_pushing(remote, true)
}

fn project_pushing(remote: &Remote, loose: bool) -> TestEnv {
    let env = TestEnv::new();
    env.make_dataset("data", 40, "v1");
    env.write("models/model.pkl", b"weights".repeat(1000));
    env.mlv(&["add", "data", "models/model.pkl"])
        .assert()
        .success();
    if loose {
        remote.add_loose_to(&env);
    } else {
        remote.add_to(&env);
    }
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "data and model"]);
    env
}

fn push_clone_pull_round_trip(kind: Kind) {
    let remote = Remote::start(kind);
    let env = project_with_data(&remote);
    let pushed = env.json(&["push"]);
    assert_eq!(
        pushed["transferred"], 42,
        "40 files, a manifest and the model: {pushed}"
    );
    assert_eq!(pushed["failed"].as_array().unwrap().len(), 0);
    let again = env.json(&["push"]);
    assert_eq!(
        again["transferred"], 0,
        "a re-push transfers nothing: {again}"
    );
    assert_eq!(again["present"], 42);

    // A teammate clones and pulls only what they need.
    let mate = env.clone_repo("mate");
    remote.credentials(&mate);
    mate.mlv(&["pull", "models/model.pkl"]).assert().success();
    assert_eq!(mate.read("models/model.pkl"), env.read("models/model.pkl"));
    assert!(
        !mate.exists("data"),
        "a pull by path fetches only that path"
    );
    // A single folder inside a tracked directory.
    mate.mlv(&["pull", "data/part1"]).assert().success();
    assert_eq!(mate.read_str("data/part1/f1.csv"), "v1,1\n");
    assert!(!mate.exists("data/part0"));
    let full = mate.json(&["pull"]);
    assert_eq!(
        full["fetch"]["failed"].as_array().unwrap().len(),
        0,
        "{full}"
    );
    for i in 0..40 {
        let p = format!("data/part{}/f{i}.csv", i % 3);
        assert_eq!(mate.read(&p), env.read(&p), "{p} is byte-identical");
    }
    mate.mlv(&["status", "--check"]).assert().success();
    // The remote holds the same keys as the cache and a format marker.
    assert!(remote.is_file(&remote.object_file(&env.pointer_hash("data"))));
    mate.mlv(&["fsck", "-r", "store"])
        .assert()
        .success()
        .stderr(contains("0 bad"));
}

fn corrupt_remote_object_never_enters_the_cache(kind: Kind) {
    let remote = Remote::start(kind);
    let env = project_with_loose_data(&remote);
    env.mlv(&["push"]).assert().success();
    let model_hash = env.pointer_hash("models/model.pkl");
    let file = remote.object_file(&model_hash);
    remote.write(&file, b"tampered bytes");

    env.mlv(&["fsck", "-r", "store"])
        .assert()
        .code(1)
        .stdout(contains(format!("bad {model_hash}")));
    let mate = env.clone_repo("mate");
    remote.credentials(&mate);
    mate.mlv(&["pull"])
        .assert()
        .code(1)
        .stderr(contains(&model_hash))
        .stderr(contains("corrupt"))
        .stderr(contains("store"));
    assert!(
        !mate.object(&model_hash).exists(),
        "a corrupt object is never admitted to the cache"
    );
    assert!(
        !mate.exists("models/model.pkl"),
        "nor written to the workspace"
    );
    assert_eq!(
        mate.read_str("data/part0/f0.csv"),
        "v1,0\n",
        "everything that verified was checked out"
    );
}

/// A project whose `big.bin` (`mib` MiB of varied bytes) is committed and pushed.
fn project_with_big_file(remote: &Remote, mib: u32) -> (TestEnv, Vec<u8>) {
    let env = TestEnv::new();
    let bytes: Vec<u8> = (0..(mib << 20))
        .map(|i| (i.wrapping_mul(2654435761) >> 9) as u8)
        .collect();
    env.write("big.bin", &bytes);
    env.mlv(&["add", "big.bin"]).assert().success();
    remote.seed_big_object(&bytes);
    remote.add_to(&env);
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "big"]);
    env.mlv(&["push"]).assert().success();
    (env, bytes)
}

fn corrupt_big_object_never_enters_the_cache(kind: Kind) {
    // Big enough to download in several ranges where the backend takes them.
    let remote = Remote::start(kind);
    let (env, bytes) = project_with_big_file(&remote, 72);
    // One byte changed in the middle: the size still matches, only the hash can tell.
    let file = remote.object_file(&b3(&bytes));
    let mut tampered = bytes.clone();
    tampered[50 << 20] ^= 0xff;
    remote.write(&file, &tampered);

    let mate = env.clone_repo("mate");
    remote.credentials(&mate);
    mate.mlv(&["pull", "-j", "8"])
        .assert()
        .code(1)
        .stderr(contains(b3(&bytes)))
        .stderr(contains("corrupt"));
    assert!(!mate.object(&b3(&bytes)).exists());
    assert!(!mate.exists("big.bin"));
    assert_eq!(
        std::fs::read_dir(mate.cache_dir().join("tmp"))
            .unwrap()
            .count(),
        0,
        "the bad download is not kept to resume from"
    );
}

/// Big downloads write the work tree's copy as they arrive (docs/remotes.md): what the
/// user gets must be the same as a copy from the cache, file by file.
fn pulled_big_files_are_whole_separate_copies(kind: Kind) {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let remote = Remote::start(kind);
    let env = TestEnv::new();
    // Over 32 MiB, so it comes in several ranges; two identical files in a directory, one
    // executable, share one object.
    let big: Vec<u8> = (0..(40u32 << 20))
        .map(|i| (i.wrapping_mul(2654435761) >> 11) as u8)
        .collect();
    let twin: Vec<u8> = big[..6 << 20].to_vec();
    env.write("big.bin", &big);
    env.write("tools/a.bin", &twin);
    env.write("tools/b.bin", &twin);
    std::fs::set_permissions(
        env.path("tools/b.bin"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    env.mlv(&["add", "big.bin", "tools"]).assert().success();
    remote.seed_big_object(&big);
    remote.add_to(&env);
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "big files"]);
    env.mlv(&["push"]).assert().success();

    let mate = env.clone_repo("mate");
    remote.credentials(&mate);
    let pulled = mate.json(&["pull"]);
    assert_eq!(pulled["checkout"]["written"], 3, "{pulled}");
    assert_eq!(mate.read("big.bin"), big);
    assert_eq!(mate.read("tools/a.bin"), twin);
    assert_eq!(mate.read("tools/b.bin"), twin);
    let mode = |p: &str| std::fs::metadata(mate.path(p)).unwrap().mode() & 0o777;
    assert_eq!(mode("big.bin"), 0o644);
    assert_eq!(mode("tools/a.bin"), 0o644);
    assert_eq!(mode("tools/b.bin"), 0o755);
    // Each file is its own copy: writing to it cannot reach the cache or the other twin.
    for (p, bytes) in [("big.bin", &big), ("tools/a.bin", &twin)] {
        let object = mate.object(&b3(bytes));
        assert_ne!(
            std::fs::metadata(mate.path(p)).unwrap().ino(),
            std::fs::metadata(&object).unwrap().ino()
        );
        assert_eq!(std::fs::metadata(mate.path(p)).unwrap().nlink(), 1, "{p}");
    }
    assert_ne!(
        std::fs::metadata(mate.path("tools/a.bin")).unwrap().ino(),
        std::fs::metadata(mate.path("tools/b.bin")).unwrap().ino()
    );
    mate.mlv(&["status", "--check"]).assert().success();
    mate.mlv(&["fsck"]).assert().success();
    assert_eq!(
        std::fs::read_dir(mate.cache_dir().join("tmp"))
            .unwrap()
            .count(),
        0,
        "no copy is left beside the cache"
    );

    // A pull that refuses to overwrite unsaved work leaves nothing behind either.
    let other = env.clone_repo("other");
    remote.credentials(&other);
    other.write("big.bin", b"my own notes");
    other
        .mlv(&["pull"])
        .assert()
        .code(1)
        .stderr(contains("big.bin"));
    assert_eq!(other.read("big.bin"), b"my own notes");
    assert!(other.object(&b3(&big)).is_file(), "the fetch is kept");
    assert_eq!(
        std::fs::read_dir(other.cache_dir().join("tmp"))
            .unwrap()
            .count(),
        0
    );
}

fn killed_pull_resumes_big_download(kind: Kind) {
    // One transfer at a time.
    kill_pull_then_resume(kind, "1", "pull", partial_len);
}

/// Written front to back, the file's length is what is in place.
fn partial_len(partial: &std::path::Path) -> u64 {
    std::fs::metadata(partial).map(|m| m.len()).unwrap_or(0)
}

#[test]
fn killed_pull_is_finished_by_fetch_without_leftovers() {
    // `fetch` writes no work-tree copy, and removes the one the killed pull was writing.
    kill_pull_then_resume(Kind::Folder, "1", "fetch", partial_len);
}

#[test]
fn killed_pull_in_parallel_ranges_resumes_each_range() {
    // Written in ranges at once, a record beside the partial file says what is in place:
    // per range, its start and the bytes written from there (16 bytes, little-endian).
    kill_pull_then_resume(Kind::S3, "8", "pull", |partial| {
        let mut record = partial.as_os_str().to_owned();
        record.push(".ranges");
        std::fs::read(record)
            .unwrap_or_default()
            .chunks_exact(16)
            .map(|r| u64::from_le_bytes(r[8..].try_into().unwrap()))
            .sum()
    });
}

/// Pushes a 160 MiB file, kills a pull in a fresh clone once `written` (given the partial
/// download's path) reports 8 MiB in place, then runs `again` (`pull` or `fetch`): it
/// resumes, not restarts.
fn kill_pull_then_resume(
    kind: Kind,
    jobs: &str,
    again: &str,
    written: impl Fn(&std::path::Path) -> u64,
) {
    let remote = Remote::start(kind);
    let (env, bytes) = project_with_big_file(&remote, 160);

    let mate = env.clone_repo("mate");
    remote.credentials(&mate);
    let tmp = mate.cache_dir().join("tmp");
    let partial = tmp.join(format!("partial-{}", &b3(&bytes)[3..]));
    let mut child = mate.mlv_process(&["pull", "-j", jobs]).spawn().unwrap();
    let start = Instant::now();
    while written(&partial) < (8 << 20) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "download did not start"
        );
        if child.try_wait().unwrap().is_some() {
            panic!("pull finished before it could be interrupted");
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !mate.object(&b3(&bytes)).exists(),
        "no partial object in the cache"
    );
    let report = mate.json(&[again, "-j", jobs]);
    let fetched = match again {
        "pull" => &report["fetch"],
        _ => &report,
    };
    assert!(
        fetched["resumed_bytes"].as_u64().unwrap() >= 8 << 20,
        "resumed, not restarted: {report}"
    );
    assert_eq!(
        fetched["resumed_bytes"].as_u64().unwrap() + fetched["bytes"].as_u64().unwrap(),
        bytes.len() as u64
    );
    if again == "pull" {
        assert_eq!(mate.read("big.bin"), bytes);
    } else {
        assert!(!mate.exists("big.bin"), "fetch leaves the work tree alone");
        assert_eq!(std::fs::read(mate.object(&b3(&bytes))).unwrap(), bytes);
    }
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "nothing of the download is left behind"
    );
}

#[test]
fn server_stopped_mid_push_fails_clearly_and_the_same_push_completes_after_restart() {
    for kind in [Kind::S3, Kind::Http] {
        let mut remote = Remote::start(kind);
        let env = TestEnv::new();
        // Enough bytes that the push is still running when the server goes away.
        for i in 0..300u32 {
            let bytes: Vec<u8> = (0..(512u32 << 10))
                .map(|j| (j.wrapping_mul(2654435761).wrapping_add(i) >> 7) as u8)
                .collect();
            env.write(&format!("data/f{i}.bin"), bytes);
        }
        env.mlv(&["add", "data"]).assert().success();
        remote.add_loose_to(&env);
        let child = env.mlv_process(&["push", "-j", "1"]).spawn().unwrap();
        let store = remote
            .object_file(&b3(b"x"))
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .to_path_buf();
        let start = Instant::now();
        while !store.exists() || std::fs::read_dir(&store).map(|d| d.count()).unwrap_or(0) < 2 {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "push did not start"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        remote.server.as_mut().unwrap().stop();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("store") && stderr.contains("run the same command again"),
            "{stderr}"
        );
        assert!(
            start.elapsed() < Duration::from_secs(40),
            "a dead server fails the push in bounded time"
        );
        remote.server.as_mut().unwrap().restart();
        let done = env.json(&["push"]);
        assert_eq!(done["failed"].as_array().unwrap().len(), 0, "{done}");
        assert!(
            done["present"].as_u64().unwrap() > 0,
            "objects pushed before the stop are not sent again: {done}"
        );
        env.mlv(&["fsck", "-r", "store"]).assert().success();
        let again = env.json(&["push"]);
        assert_eq!(again["transferred"], 0);
    }
}

#[test]
fn wrong_credentials_fail_clearly_without_printing_the_secret() {
    // S3: a wrong secret is refused by SigV4 checking.
    let remote = Remote::start(Kind::S3);
    let env = project_with_data(&remote);
    env.mlv(&[
        "remote",
        "set",
        "store",
        "secret_access_key",
        "wrong-secret-value",
    ])
    .assert()
    .success();
    let out = env.mlv(&["push"]).assert().code(1).get_output().clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("credentials"), "{stderr}");
    assert!(
        !stderr.contains("wrong-secret-value") && !stderr.contains(SECRET_KEY),
        "{stderr}"
    );
    assert!(
        !env.read_str(".mlv/config.toml")
            .contains("wrong-secret-value"),
        "secrets stay out of the committed config"
    );
    assert!(
        env.read_str(".mlv/config.local.toml")
            .contains("wrong-secret-value")
    );

    // HTTP with basic auth: no credentials, then credentials in the URL (redacted everywhere).
    let server = servers::http(true);
    let env = TestEnv::new();
    env.write("m.bin", "model");
    env.mlv(&["add", "m.bin"]).assert().success();
    let url = format!("{}/{BUCKET}/x", server.url());
    env.mlv(&["remote", "add", "web", &url, "--default"])
        .assert()
        .success();
    env.mlv(&["push"])
        .assert()
        .code(1)
        .stderr(contains("401"))
        .stderr(contains("hint:"));
    let with_password = url.replace("http://", &format!("http://{HTTP_USER}:{HTTP_PASSWORD}@"));
    env.mlv(&["remote", "add", "web2", &with_password])
        .assert()
        .code(2)
        .stderr(contains("--local"));
    env.mlv(&["remote", "add", "web2", &with_password, "--local"])
        .assert()
        .success();
    env.mlv(&["push", "-r", "web2"]).assert().success();
    let listed = env
        .mlv(&["remote", "list"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(!String::from_utf8_lossy(&listed).contains(HTTP_PASSWORD));
    // A committed config holding a secret is refused outright.
    env.write(
        ".mlv/config.toml",
        "[remotes.bad]\nurl = \"s3://b/p\"\nsecret_access_key = \"leak\"\n",
    );
    env.mlv(&["ls"])
        .assert()
        .code(2)
        .stderr(contains("config.local.toml"))
        .stderr(contains("leak").not());
}

#[test]
fn endpoint_with_nothing_listening_fails_within_30_seconds() {
    let port = servers::free_port();
    let env = TestEnv::new();
    env.write("m.bin", "model");
    env.mlv(&["add", "m.bin"]).assert().success();
    let endpoint = format!("http://127.0.0.1:{port}");
    env.mlv(&["remote", "add", "s3", "s3://b/p", "--endpoint", &endpoint])
        .assert()
        .success();
    env.mlv(&["remote", "add", "web", &format!("{endpoint}/store")])
        .assert()
        .success();
    env.mlv(&["remote", "set", "s3", "access_key_id", "k"])
        .assert()
        .success();
    env.mlv(&["remote", "set", "s3", "secret_access_key", "s"])
        .assert()
        .success();
    for name in ["s3", "web"] {
        let start = Instant::now();
        env.mlv(&["push", "-r", name])
            .assert()
            .code(1)
            .stderr(contains(format!("127.0.0.1:{port}")));
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{name} took {:?}",
            start.elapsed()
        );
    }
}

#[test]
fn invalid_bucket_name_fails_at_once_naming_the_bucket() {
    // s3s-fs answers 400 InvalidBucketName to a bucket name shorter than 3 characters.
    let server = servers::s3();
    let env = TestEnv::new();
    env.write("m.bin", "model");
    env.mlv(&["add", "m.bin"]).assert().success();
    env.mlv(&[
        "remote",
        "add",
        "s3",
        "s3://b1/p",
        "--endpoint",
        &server.url(),
    ])
    .assert()
    .success();
    env.mlv(&["remote", "set", "s3", "access_key_id", ACCESS_KEY])
        .assert()
        .success();
    env.mlv(&["remote", "set", "s3", "secret_access_key", SECRET_KEY])
        .assert()
        .success();
    for cmd in ["push", "fetch"] {
        let start = Instant::now();
        env.mlv(&[cmd, "-r", "s3"])
            .assert()
            .code(1)
            .stderr(contains("s3://b1/p"))
            .stderr(contains("InvalidBucketName"))
            .stderr(contains("hint:"));
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "a refused request is not retried: {cmd} took {:?}",
            start.elapsed()
        );
    }
}

#[test]
fn url_typos_and_unknown_remotes_are_usage_errors() {
    let env = TestEnv::new();
    env.mlv(&["remote", "add", "x", "s4://bucket/p"])
        .assert()
        .code(2)
        .stderr(contains("unknown scheme `s4`"));
    env.mlv(&["remote", "add", "x", "s3:///no-bucket"])
        .assert()
        .code(2)
        .stderr(contains("bucket"));
    env.mlv(&["remote", "add", "bad name", "/tmp/x"])
        .assert()
        .code(2);
    env.write("m.bin", "model");
    env.mlv(&["add", "m.bin"]).assert().success();
    env.mlv(&["push"])
        .assert()
        .code(2)
        .stderr(contains("no remote is configured"))
        .stderr(contains("git mlv remote add"));
    env.mlv(&["remote", "add", "one", "/tmp/one-remote-for-test"])
        .assert()
        .success();
    env.mlv(&["push", "-r", "two"])
        .assert()
        .code(2)
        .stderr(contains("no remote named `two`"));
    env.mlv(&["remote", "add", "one", "/tmp/elsewhere"])
        .assert()
        .code(2)
        .stderr(contains("already exists"));
    // Hints name commands that work: a remote that was never added is added again, not set.
    env.mlv(&["remote", "add", "bad2", "ftp://x/y"])
        .assert()
        .code(2)
        .stderr(contains("unknown scheme `ftp`"))
        .stderr(contains("s3://bucket/prefix"))
        .stderr(contains("git mlv remote add bad2 <url>"))
        .stderr(contains("remote set bad2").not());
    // `remote set … url` checks the URL as `remote add` does and writes nothing when wrong.
    let config = env.read_str(".mlv/config.toml");
    for bad in ["foo://y", "s3:///no-bucket"] {
        env.mlv(&["remote", "set", "one", "url", bad])
            .assert()
            .code(2)
            .stderr(contains(bad))
            .stderr(contains("git mlv remote set one url <url>"));
    }
    env.mlv(&["remote", "set", "one", "url", "https://u:pw@host/x"])
        .assert()
        .code(2)
        .stderr(contains("password"));
    assert_eq!(env.read_str(".mlv/config.toml"), config, "nothing written");
    env.mlv(&["remote", "set", "one", "url", "/tmp/one-remote-moved"])
        .assert()
        .success();
    env.mlv(&["remote", "remove", "nosuch"])
        .assert()
        .code(2)
        .stderr(contains("hint: `git mlv remote list`"));
}

#[test]
fn remote_commands_edit_the_config() {
    let env = TestEnv::new();
    env.mlv(&["init"]).assert().success();
    env.mlv(&["remote", "add", "a", "/tmp/a-remote", "--default"])
        .assert()
        .success();
    env.mlv(&[
        "remote",
        "add",
        "b",
        "s3://bucket/pre",
        "--endpoint",
        "http://127.0.0.1:9",
        "--region",
        "eu-west-1",
    ])
    .assert()
    .success();
    let list = env.json(&["remote", "list"]);
    assert_eq!(list["remotes"][0]["name"], "a");
    assert_eq!(list["remotes"][0]["default"], true);
    assert_eq!(list["remotes"][1]["region"], "eu-west-1");
    env.mlv(&["remote", "default", "b"]).assert().success();
    assert!(env.read_str(".mlv/config.toml").contains("remote = \"b\""));
    assert!(
        env.read_str(".mlv/config.toml")
            .contains("# How files get from the cache"),
        "comments are kept"
    );
    env.mlv(&["remote", "set", "b", "jobs", "8"])
        .assert()
        .success();
    env.mlv(&["remote", "set", "b", "colour", "red"])
        .assert()
        .code(2);
    env.mlv(&["remote", "remove", "b"]).assert().success();
    let list = env.json(&["remote", "list"]);
    assert_eq!(list["remotes"].as_array().unwrap().len(), 1);
    assert!(!env.read_str(".mlv/config.toml").contains("remote = \"b\""));
}

#[test]
fn status_with_a_remote_shows_what_is_not_pushed() {
    let remote = Remote::start(Kind::Folder);
    let env = project_with_data(&remote);
    env.mlv(&["status", "-r", "store"])
        .assert()
        .success()
        .stdout(contains("not on remote `store`"));
    env.mlv(&["status", "-r", "store", "--check"])
        .assert()
        .code(1);
    env.mlv(&["push", "models/model.pkl"]).assert().success();
    let s = env.json(&["status", "-r", "store"]);
    assert_eq!(s["artifacts"][1]["path"], "models/model.pkl");
    assert_eq!(s["artifacts"][1]["not_on_remote"], 0);
    assert_eq!(s["artifacts"][0]["not_on_remote"], 41);
    env.mlv(&["push"]).assert().success();
    env.mlv(&["status", "-r", "store", "--check"])
        .assert()
        .success();
}

#[test]
fn ci_restores_with_credentials_from_the_environment() {
    let remote = Remote::start(Kind::S3);
    let env = project_with_data(&remote);
    env.mlv(&["push"]).assert().success();
    let runner = env.clone_repo("runner");
    let out = runner
        .mlv(&["pull", "data"])
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(!String::from_utf8_lossy(&out.stderr).contains(SECRET_KEY));
    assert_eq!(runner.read_str("data/part2/f5.csv"), "v1,5\n");
    assert!(!runner.exists("models/model.pkl"));
}

/// A partial download left longer than the object (by an earlier over-long answer) must
/// not be admitted with its extra bytes: resuming cuts it to the object's size.
fn an_over_long_partial_download_is_cut_to_the_objects_size(kind: Kind) {
    let remote = Remote::start(kind);
    let (env, bytes) = project_with_big_file(&remote, 6);
    let mate = env.clone_repo("mate");
    remote.credentials(&mate);
    let tmp = mate.cache_dir().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let mut longer = bytes.clone();
    longer.extend_from_slice(b"JUNKJUNKJUNK");
    std::fs::write(tmp.join(format!("partial-{}", &b3(&bytes)[3..])), &longer).unwrap();
    mate.mlv(&["pull"]).assert().success();
    assert_eq!(
        std::fs::metadata(mate.object(&b3(&bytes))).unwrap().len(),
        bytes.len() as u64
    );
    assert_eq!(mate.read("big.bin"), bytes);
    mate.mlv(&["fsck"]).assert().success();
}

#[test]
fn a_damaged_cache_object_is_never_pushed_to_a_folder_remote() {
    let remote = Remote::start(Kind::Folder);
    let env = TestEnv::new();
    env.write("model.bin", b"weights".repeat(10_000));
    env.mlv(&["add", "model.bin"]).assert().success();
    remote.add_to(&env);
    let object = env.object(&env.pointer_hash("model.bin"));
    let mut perms = std::fs::metadata(&object).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&object, perms).unwrap();
    std::fs::write(&object, b"").unwrap();
    env.mlv(&["push"])
        .assert()
        .code(1)
        .stderr(contains("damaged"));
    assert!(!remote.object_file(&env.pointer_hash("model.bin")).exists());
}

#[test]
fn commands_that_change_settings_report_them_in_json() {
    let env = TestEnv::new();
    let init = env.json(&["init"]);
    assert_eq!(init["created"], true, "{init}");
    assert_eq!(init["config"], ".mlv/config.toml", "{init}");
    assert_eq!(env.json(&["init"])["created"], false);
    let hooks = env.json(&["install-hooks"]);
    assert_eq!(hooks["installed"].as_array().unwrap().len(), 4, "{hooks}");
    assert_eq!(hooks["chained"], serde_json::json!([]), "{hooks}");
    let hooks = env.json(&["install-hooks", "--uninstall"]);
    assert_eq!(hooks["removed"].as_array().unwrap().len(), 4, "{hooks}");
    let add = env.json(&["remote", "add", "a", "/tmp/a-remote", "--default"]);
    assert_eq!(add["added"], "a", "{add}");
    assert_eq!(add["default"], true, "{add}");
    let set = env.json(&["remote", "set", "a", "jobs", "4"]);
    assert_eq!(set["remote"], "a", "{set}");
    assert_eq!(set["set"], "jobs", "{set}");
    assert_eq!(set["file"], ".mlv/config.toml", "{set}");
    let set = env.json(&["remote", "set", "a", "password", "pw"]);
    assert_eq!(set["file"], ".mlv/config.local.toml", "{set}");
    assert!(
        !set.to_string().contains("pw\""),
        "no secret in output: {set}"
    );
    let default = env.json(&["remote", "default", "a", "--local"]);
    assert_eq!(default["default"], "a", "{default}");
    assert_eq!(default["file"], ".mlv/config.local.toml", "{default}");
    let removed = env.json(&["remote", "remove", "a"]);
    assert_eq!(removed["removed"], "a", "{removed}");
}

#[test]
fn a_manifest_entry_outside_its_directory_is_refused_and_never_written() {
    let env = TestEnv::new();
    let escaped = env.outside().join("escaped.csv");
    // Climbing out of the repository from `data/`, and an absolute path.
    for evil in [
        "../../escaped.csv".to_string(),
        escaped.display().to_string(),
    ] {
        let remote = Remote::start(Kind::Folder);
        let env = TestEnv::new();
        env.write("data/a.csv", "1,2\n");
        env.mlv(&["add", "data"]).assert().success();
        remote.add_to(&env);
        env.git(&["add", "-A"]);
        env.git(&["commit", "-qm", "data"]);
        env.mlv(&["push"]).assert().success();
        // A hostile remote and commit: a manifest (content-addressed, so its hash verifies)
        // whose one entry points outside `data/`.
        let honest = env.pointer_hash("data");
        let manifest = String::from_utf8(std::fs::read(env.object(&honest)).unwrap()).unwrap();
        let hostile = manifest.replace("\"path\":\"a.csv\"", &format!("\"path\":\"{evil}\""));
        assert_ne!(hostile, manifest);
        let hostile_hash = b3(hostile.as_bytes());
        let object = remote.object_file(&hostile_hash);
        std::fs::create_dir_all(object.parent().unwrap()).unwrap();
        std::fs::write(&object, &hostile).unwrap();
        let pointer = env.read_str("data.mlv").replace(&honest, &hostile_hash);
        env.write("data.mlv", pointer);
        env.git(&["commit", "-qam", "hostile manifest"]);

        let mate = env.clone_repo("mate");
        mate.mlv(&["pull"])
            .assert()
            .failure()
            .stderr(contains("unsafe path"))
            .stderr(contains(&evil));
        let climbed = mate.path("").parent().unwrap().join("escaped.csv");
        assert!(!climbed.exists(), "{evil}: nothing written above the clone");
        assert!(
            !escaped.exists(),
            "{evil}: nothing written at the absolute path"
        );
        assert!(!mate.exists("data/a.csv"));
    }
}

/// Issue 12, item 15: settings left in `.mlv/config.local.toml` for a remote the committed
/// config no longer has stop only the commands that use that remote, and the error names
/// the local file and the remote.
#[test]
fn a_remote_left_only_in_the_local_config_stops_only_commands_that_use_it() {
    let remote = Remote::start(Kind::Folder);
    let env = TestEnv::new();
    env.write("data.csv", "a,b\n1,2\n");
    env.mlv(&["add", "data.csv"]).assert().success();
    remote.add_to(&env);
    let old = env.outside().join("old");
    env.mlv(&["remote", "add", "old", old.to_str().unwrap()])
        .assert()
        .success();
    env.mlv(&["remote", "set", "old", "password", "s3cret"])
        .assert()
        .success();
    // A teammate removed `old` from the committed config; this machine's password stays.
    let committed = env.read_str(".mlv/config.toml");
    let start = committed.find("[remotes.old]").unwrap();
    let end = committed[start..]
        .find("\n\n")
        .map_or(committed.len(), |e| start + e + 1);
    env.write(
        ".mlv/config.toml",
        format!("{}{}", &committed[..start], &committed[end..]),
    );
    assert!(!env.read_str(".mlv/config.toml").contains("old"));
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "data"]);
    env.mlv(&["status"]).assert().success();
    env.mlv(&["ls"]).assert().success();
    env.mlv(&["remote", "list"])
        .assert()
        .success()
        .stdout(contains("store"));
    env.mlv(&["push"]).assert().success();
    env.mlv(&["push", "-r", "old"])
        .assert()
        .code(2)
        .stderr(contains("`old`"))
        .stderr(contains(".mlv/config.local.toml"))
        .stderr(contains("hint:"))
        .stderr(contains("s3cret").not());
    // Adding it back (or removing it) works from there.
    env.mlv(&["remote", "remove", "old"]).assert().success();
    assert!(!env.read_str(".mlv/config.local.toml").contains("old"));
}

/// Makes a remote's object file writable so a test can damage it.
pub fn writable(file: &std::path::Path) {
    let mut perms = std::fs::metadata(file).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(file, perms).unwrap();
}

#[test]
fn a_symlink_in_place_of_a_folder_remote_object_is_a_bad_object_everywhere() {
    let remote = Remote::start(Kind::Folder);
    let env = project_with_loose_data(&remote);
    env.mlv(&["push"]).assert().success();
    let model_hash = env.pointer_hash("models/model.pkl");
    let file = remote.object_file(&model_hash);
    // Someone with write access to the store swaps the object for a link to a host file.
    std::fs::create_dir_all(env.outside()).unwrap();
    let target = env.outside().join("hostname");
    std::fs::write(&target, "not yours\n").unwrap();
    std::fs::remove_file(&file).unwrap();
    std::os::unix::fs::symlink(&target, &file).unwrap();

    env.mlv(&["fsck", "-r", "store"])
        .assert()
        .code(1)
        .stdout(contains(format!("bad {model_hash}")))
        .stdout(contains("symbolic link"))
        .stderr(contains("1 bad"));
    let mate = env.clone_repo("mate");
    mate.mlv(&["pull"])
        .assert()
        .code(1)
        .stderr(contains(&model_hash))
        .stderr(contains("symbolic link"))
        .stderr(contains("bad object"));
    assert!(
        !mate.exists("models/model.pkl"),
        "the link is never followed"
    );
    assert!(!mate.object(&model_hash).exists());

    // A push replaces the bad object with the good one, swapping the link itself out.
    let pushed = env.json(&["push"]);
    assert_eq!(pushed["transferred"], 1, "{pushed}");
    assert!(
        !file.symlink_metadata().unwrap().file_type().is_symlink(),
        "the object is a regular file again"
    );
    assert_eq!(std::fs::read(&file).unwrap(), env.read("models/model.pkl"));
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "not yours\n",
        "nothing was written through the link"
    );
    env.mlv(&["fsck", "-r", "store"]).assert().success();
    mate.mlv(&["pull"]).assert().success();
    assert_eq!(mate.read("models/model.pkl"), env.read("models/model.pkl"));
}

each_backend!(a_remote_object_of_the_wrong_size_is_replaced_by_push);

fn a_remote_object_of_the_wrong_size_is_replaced_by_push(kind: Kind) {
    let remote = Remote::start(kind);
    let env = project_with_loose_data(&remote);
    env.mlv(&["push"]).assert().success();
    let model_hash = env.pointer_hash("models/model.pkl");
    let file = remote.object_file(&model_hash);
    remote.write(&file, b"cut short");
    let pushed = env.json(&["push"]);
    assert_eq!(
        pushed["transferred"], 1,
        "a bad copy counts as missing: {pushed}"
    );
    assert_eq!(remote.read(&file).unwrap(), env.read("models/model.pkl"));
    let mate = env.clone_repo("mate");
    remote.credentials(&mate);
    mate.mlv(&["pull"]).assert().success();
    assert_eq!(mate.read("models/model.pkl"), env.read("models/model.pkl"));
}

/// A pointer whose `size` was edited by hand, with a real hash (the object is 7,000 bytes).
fn project_with_wrong_size_pointer(remote: &Remote) -> TestEnv {
    let env = project_with_data(remote);
    env.mlv(&["push"]).assert().success();
    let text = env.read_str("models/model.pkl.mlv");
    assert!(text.contains("size = 7000"), "{text}");
    env.write(
        "models/model.pkl.mlv",
        text.replace("size = 7000", "size = 123"),
    );
    env.git(&["commit", "-qam", "hand-edited pointer"]);
    env
}

#[test]
fn a_pointer_whose_size_disagrees_with_its_object_is_named_as_the_damaged_side() {
    let remote = Remote::start(Kind::Folder);
    let env = project_with_wrong_size_pointer(&remote);
    for cmd in ["status", "checkout", "push"] {
        env.mlv(&[cmd])
            .assert()
            .code(2)
            .stderr(contains("models/model.pkl.mlv"))
            .stderr(contains("7000"))
            .stderr(contains("git checkout"))
            .stderr(contains("cache object").not());
    }
    env.mlv(&["fsck"])
        .assert()
        .code(2)
        .stdout(contains("models/model.pkl.mlv"))
        .stderr(contains("git checkout"));
    // Where the object has to come from the remote, the download verifies it and then
    // the pointer is blamed, not the remote.
    let mate = env.clone_repo("mate");
    for cmd in ["fetch", "pull"] {
        mate.mlv(&[cmd])
            .assert()
            .code(2)
            .stderr(contains("models/model.pkl.mlv"))
            .stderr(contains("size"))
            .stderr(contains("corrupt").not());
    }
    // A directory pointer: its size must be the manifest's total, its files the count.
    let text = env.read_str("data.mlv");
    env.write("data.mlv", text.replace("files = 40", "files = 41"));
    env.mlv(&["status", "data"])
        .assert()
        .code(2)
        .stderr(contains("data.mlv"))
        .stderr(contains("`files`"));
}

#[test]
fn fsck_of_a_remote_that_does_not_answer_checks_nothing_and_calls_nothing_bad() {
    for kind in [Kind::Http, Kind::S3] {
        let mut remote = Remote::start(kind);
        let env = project_with_data(&remote);
        env.mlv(&["push"]).assert().success();
        remote.server.as_mut().unwrap().stop();
        let url = remote.server().url();
        let start = Instant::now();
        env.mlv(&["fsck", "-r", "store"])
            .assert()
            .code(1)
            .stdout(contains("bad").not())
            .stderr(contains("cannot check"))
            .stderr(contains(url.trim_start_matches("http://")))
            .stderr(contains("hint:"))
            .stderr(contains("remove them").not());
        assert!(start.elapsed() < Duration::from_secs(30));
    }
}

#[test]
fn a_server_that_accepts_but_never_answers_fails_fetch_within_the_documented_time() {
    // A black hole: connections are accepted, nothing is ever sent back.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            held.push(conn);
        }
    });
    let env = TestEnv::new();
    env.write("m.bin", "model");
    env.mlv(&["add", "m.bin"]).assert().success();
    std::fs::remove_file(env.object(&b3(b"model"))).unwrap();
    let url = format!("http://127.0.0.1:{port}/store");
    env.mlv(&["remote", "add", "web", &url, "--default"])
        .assert()
        .success();
    let start = Instant::now();
    env.mlv(&["fetch"]).assert().code(1).stderr(contains(&url));
    // docs/remotes.md: a server that stays silent fails an operation in about 20 s.
    assert!(
        start.elapsed() < Duration::from_secs(25),
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn zero_jobs_is_a_bad_request() {
    let env = TestEnv::new();
    env.write("m.bin", "model");
    env.mlv(&["add", "m.bin"]).assert().success();
    env.add_folder_remote();
    for args in [
        &["fetch", "-j", "0"][..],
        &["push", "-j", "0"],
        &["pull", "-j", "0"],
        &["fsck", "-r", "store", "-j", "0"],
    ] {
        env.mlv(args)
            .assert()
            .code(2)
            .stderr(contains("at least 1"));
    }
}

#[test]
fn a_failed_multipart_upload_is_aborted_and_leaves_no_parts() {
    let remote = Remote::start(Kind::S3);
    let env = TestEnv::new();
    let bytes: Vec<u8> = (0..(40u32 << 20))
        .map(|i| (i.wrapping_mul(2654435761) >> 9) as u8)
        .collect();
    env.write("big.bin", &bytes);
    env.mlv(&["add", "big.bin"]).assert().success();
    remote.add_to(&env);
    // The cache object loses its tail (a power cut): the upload sends the first part,
    // then finds the file short and must abort rather than complete.
    let object = env.object(&b3(&bytes));
    writable(&object);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&object)
        .unwrap()
        .set_len(20 << 20)
        .unwrap();
    env.mlv(&["push"])
        .assert()
        .code(1)
        .stderr(contains("not 41943040"));
    assert!(!remote.object_file(&b3(&bytes)).exists());
    // s3s-fs keeps parts as `.upload_id-<id>.part-<n>` files in its data folder.
    let data = remote.server().dir.path().join("data");
    let leftovers: Vec<String> = std::fs::read_dir(&data)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".upload"))
        .collect();
    assert!(leftovers.is_empty(), "orphan parts: {leftovers:?}");
}

#[test]
fn a_folder_remote_that_is_the_cache_or_inside_git_is_refused() {
    let env = TestEnv::new();
    env.write("only.bin", "the only copy");
    env.mlv(&["add", "only.bin"]).assert().success();
    let cache = env.cache_dir();
    let link = env.outside().join("link-to-cache");
    std::fs::create_dir_all(env.outside()).unwrap();
    std::os::unix::fs::symlink(&cache, &link).unwrap();
    let refused = [
        ".git/mlv/cache".to_string(),
        format!("file://{}", cache.display()),
        ".git/mlv/cache/b3".to_string(),
        ".git/mlv/cache/../cache/new".to_string(),
        ".git".to_string(),
        ".git/mlv-store".to_string(),
        link.display().to_string(),
    ];
    for url in &refused {
        env.mlv(&["remote", "add", "self", url])
            .assert()
            .code(2)
            .stderr(contains("no second copy"))
            .stderr(contains("hint:"));
    }
    assert!(!env.read_str(".mlv/config.toml").contains("self"));
    let store = env.outside().join("store");
    env.mlv(&["remote", "add", "store", store.to_str().unwrap()])
        .assert()
        .success();
    env.mlv(&["remote", "set", "store", "url", ".git/mlv/cache"])
        .assert()
        .code(2)
        .stderr(contains(cache.display().to_string()));
    assert!(
        env.read_str(".mlv/config.toml")
            .contains(store.to_str().unwrap())
    );

    // A hand-edited config: gc and push refuse to count on that remote.
    env.write(
        ".mlv/config.local.toml",
        "[remotes.self]\nurl = \".git/mlv/cache\"\n",
    );
    std::fs::remove_file(env.path("only.bin.mlv")).unwrap();
    env.mlv(&["gc"])
        .assert()
        .code(2)
        .stderr(contains("`self`"))
        .stderr(contains(cache.display().to_string()));
    assert!(env.object(&b3(b"the only copy")).exists());
    env.mlv(&["add", "only.bin"]).assert().success();
    env.mlv(&["push", "-r", "self"])
        .assert()
        .code(2)
        .stderr(contains("`self`"));

    // The cache moved with `cache.dir`: the rule follows it.
    let moved = env.outside().join("moved-cache");
    env.write(
        ".mlv/config.local.toml",
        format!("[cache]\ndir = \"{}\"\n", moved.display()),
    );
    env.mlv(&["add", "only.bin"]).assert().success();
    env.mlv(&["remote", "add", "moved", moved.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(contains(moved.display().to_string()));
    // A folder that only contains the cache is a separate store: its objects live in its
    // own `b3/`, never the cache's.
    env.mlv(&["remote", "add", "around", env.outside().to_str().unwrap()])
        .assert()
        .success();
}

#[test]
fn an_scp_style_location_is_an_ssh_remote_and_never_becomes_a_folder() {
    let env = TestEnv::new();
    env.write("only.bin", "data");
    env.mlv(&["add", "only.bin"]).assert().success();
    for url in ["me@nas:/srv/mlv", "nas:mlv", "host:path/to/store"] {
        env.mlv(&["remote", "add", "nas", url]).assert().success();
        env.mlv(&["remote", "remove", "nas"]).assert().success();
    }
    // A hand-edited config reaches the same backend: nothing is pushed into a folder
    // `me@nas.invalid:` (`.invalid` never resolves: the push fails in SSH).
    env.write(
        ".mlv/config.local.toml",
        "[remotes.nas]\nurl = \"me@nas.invalid:/srv/mlv\"\n",
    );
    env.mlv(&["push", "-r", "nas"])
        .timeout(Duration::from_secs(60))
        .assert()
        .code(1)
        .stderr(contains("`me@nas.invalid` over SSH"))
        .stderr(contains("hint:"));
    assert!(!env.exists("me@nas.invalid:"));

    // A `:` after the first `/` is part of a folder's name, as git reads it.
    std::fs::create_dir_all(env.outside()).unwrap();
    let colon = env.outside().join("a:b");
    env.mlv(&["remote", "add", "abs", colon.to_str().unwrap()])
        .assert()
        .success();
    env.mlv(&["remote", "add", "rel", "../outside/c:d"])
        .assert()
        .success();
    env.mlv(&["push", "-r", "rel"]).assert().success();
    assert!(env.outside().join("c:d/format.toml").is_file());
}

#[test]
fn a_folder_remote_inside_the_work_tree_is_refused() {
    let env = TestEnv::new();
    env.write("only.bin", "data");
    env.write(".gitignore", "/ignored-store\n");
    env.mlv(&["add", "only.bin"]).assert().success();
    let inside = env.path("sub/store");
    let refused = [
        "store".to_string(),
        "./data/store".to_string(),
        "ignored-store".to_string(),
        inside.display().to_string(),
        format!("file://{}", inside.display()),
    ];
    for url in &refused {
        env.mlv(&["remote", "add", "in", url])
            .assert()
            .code(2)
            .stderr(contains("inside the work tree"))
            .stderr(contains("outside the repository"));
    }
    // `.git` and the cache keep their own message.
    env.mlv(&["remote", "add", "in", ".git/store"])
        .assert()
        .code(2)
        .stderr(contains("inside git's own folder"));
    // A hand-edited config: nothing is pushed into the work tree.
    env.write(".mlv/config.local.toml", "[remotes.in]\nurl = \"store\"\n");
    env.mlv(&["push", "-r", "in"])
        .assert()
        .code(2)
        .stderr(contains("inside the work tree"));
    assert!(!env.exists("store"));
}

/// `git mlv <args>` with no AWS setting from this machine's environment (HOME is the test's;
/// this machine sets `AWS_CA_BUNDLE`).
pub fn without_aws_env(env: &TestEnv, args: &[&str]) -> std::process::Command {
    let mut cmd = env.mlv_std(args);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("AWS_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

#[test]
fn s3_without_credentials_says_where_it_looked_without_asking_instance_metadata() {
    let server = servers::s3();
    let env = TestEnv::new();
    env.write("only.bin", "data");
    env.mlv(&["add", "only.bin"]).assert().success();
    let endpoint = server.url();
    let url = format!("s3://{BUCKET}/{PREFIX}");
    env.mlv(&["remote", "add", "store", &url, "--endpoint", &endpoint])
        .assert()
        .success();
    let mut push = without_aws_env(&env, &["push", "-r", "store"]);
    // Were the instance metadata service asked anyway, it is asked on loopback, never at
    // 169.254.169.254.
    push.env("AWS_METADATA_ENDPOINT", "http://127.0.0.1:9");
    let started = Instant::now();
    let out = push.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10), "{err}");
    for said in [
        "no credentials found for remote `store`",
        "AWS_ACCESS_KEY_ID",
        "AWS_PROFILE",
        "~/.aws/credentials",
        "~/.aws/config",
        ".mlv/config.local.toml",
        "git mlv remote set store access_key_id",
        "instance_credentials",
    ] {
        assert!(err.contains(said), "{said}: {err}");
    }
    assert!(!err.contains("169.254"), "{err}");
    assert!(!err.contains("check the bucket"), "{err}");

    // The profile in `~/.aws/config` (as `aws configure` may write it) is found.
    let home = env.root.parent().unwrap().join("home");
    std::fs::create_dir_all(home.join(".aws")).unwrap();
    std::fs::write(
        home.join(".aws/config"),
        format!(
            "[profile team]\nregion = us-east-1\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"
        ),
    )
    .unwrap();
    let out = without_aws_env(&env, &["push", "-r", "store"])
        .env("AWS_PROFILE", "team")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Issue 13: a remote in the team config reaches teammates and CI only once it is
/// committed: every change to `.mlv/config.toml` ends with the `git add` that shares it,
/// and a `--local` change (never committed) with none.
#[test]
fn remote_changes_to_the_team_config_end_with_the_git_add_that_shares_them() {
    let env = TestEnv::new();
    let store = env.outside().join("store");
    std::fs::create_dir_all(&store).unwrap();
    let url = store.display().to_string();
    let err = crate::support::stderr_of(
        env.mlv(&["remote", "add", "store", &url, "--default"])
            .assert()
            .success(),
    );
    assert!(
        err.contains("`git add .mlv/.gitignore .mlv/config.toml`"),
        "{err}"
    );
    env.run_git_add_hint(".", &err);
    env.git(&["commit", "-qm", "remote"]);
    for args in [
        vec!["remote", "set", "store", "jobs", "4"],
        vec!["remote", "add", "second", url.as_str()],
        vec!["remote", "default", "second"],
        vec!["remote", "remove", "store"],
    ] {
        let err = crate::support::stderr_of(env.mlv(&args).assert().success());
        assert!(
            err.contains("`git add .mlv/config.toml`"),
            "{args:?}: {err}"
        );
        env.run_git_add_hint(".", &err);
        env.git(&["commit", "-qm", "remote change"]);
    }
    for args in [
        vec!["remote", "add", "mine", url.as_str(), "--local"],
        vec!["remote", "set", "mine", "jobs", "2", "--local"],
        vec!["remote", "default", "mine", "--local"],
        vec!["remote", "remove", "mine"],
    ] {
        env.mlv(&args)
            .assert()
            .success()
            .stderr(contains("git add").not());
    }
}

/// Issue 13: `status -r R` says which remote it checked and what it lacks, also when
/// nothing is missing; counts of one are singular.
#[test]
fn status_with_a_remote_names_it_and_what_it_lacks() {
    let remote = Remote::start(Kind::Folder);
    let env = project_with_data(&remote);
    env.mlv(&["status", "-r", "store", "--check"])
        .assert()
        .code(1)
        .stdout(contains("models/model.pkl: 1 object not on remote `store`"))
        .stderr(contains("remote `store` lacks 42 objects"));
    env.mlv(&["push"])
        .assert()
        .success()
        .stderr(contains("pushed 42 objects ("));
    env.mlv(&["status", "-r", "store", "--check"])
        .assert()
        .success()
        .stderr(contains("remote `store` holds everything the data needs"));
    env.write("one.bin", "one");
    env.mlv(&["add", "one.bin"]).assert().success();
    env.mlv(&["push", "one.bin"])
        .assert()
        .success()
        .stderr(contains("pushed 1 object ("));
}

#[test]
fn gcs_and_azure_without_credentials_send_unsigned_requests() {
    // fake-gcs-server takes unsigned requests: the whole round trip works without any.
    let remote = Remote::start(Kind::Gcs);
    let env = project_with_data(&remote);
    env.mlv(&["push"]).assert().success();
    // Azurite checks every request's shared-key signature: an unsigned one is refused,
    // and the hint says where the key goes.
    let remote = Remote::start(Kind::Azure);
    let env = TestEnv::new();
    env.write("m.bin", "model");
    env.mlv(&["add", "m.bin"]).assert().success();
    let (url, endpoint) = (remote.url(), remote.endpoint().unwrap());
    env.mlv(&[
        "remote",
        "add",
        "store",
        &url,
        "--endpoint",
        &endpoint,
        "--default",
    ])
    .assert()
    .success();
    env.mlv(&["push"])
        .assert()
        .code(1)
        .stderr(contains("403"))
        .stderr(contains("account_key"));
    // The development key from the environment, as CI would give it.
    env.mlv(&["push"])
        .env("AZURE_STORAGE_ACCOUNT_KEY", AZURE_KEY)
        .assert()
        .success();
    assert!(remote.is_file(&remote.root().join("format.toml")));
}

#[test]
fn gcs_and_azure_wrong_credentials_fail_clearly_without_printing_the_secret() {
    // fake-gcs-server checks no credentials, so only Azurite can refuse a key.
    let remote = Remote::start(Kind::Azure);
    let env = project_with_data(&remote);
    env.mlv(&["push"]).assert().success();
    // A well-formed key that is not the account's.
    let wrong = "d3JvbmctYXp1cmUta2V5LWRvLW5vdC1wcmludA==";
    env.mlv(&["remote", "set", "store", "account_key", wrong])
        .assert()
        .success();
    for cmd in ["push", "fetch"] {
        let out = env.mlv(&[cmd]).assert().code(1).get_output().clone();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("credentials"), "{stderr}");
        assert!(stderr.contains("account_key"), "{stderr}");
        assert!(
            !stderr.contains(wrong) && !stderr.contains(AZURE_KEY),
            "{stderr}"
        );
    }
    assert!(!env.read_str(".mlv/config.toml").contains(wrong));
    // A key that is no base64 at all is a bad setting (exit 2), still not printed.
    env.mlv(&["remote", "set", "store", "account_key", "not base64!"])
        .assert()
        .success();
    env.mlv(&["push"])
        .assert()
        .code(2)
        .stderr(contains("account_key"))
        .stderr(contains("not base64!").not());
}

#[test]
fn gcs_and_azure_endpoints_with_nothing_listening_fail_within_30_seconds() {
    let port = servers::free_port();
    let env = TestEnv::new();
    env.write("m.bin", "model");
    env.mlv(&["add", "m.bin"]).assert().success();
    let endpoint = format!("http://127.0.0.1:{port}");
    let az_endpoint = format!("{endpoint}/{AZURE_ACCOUNT}");
    env.mlv(&["remote", "add", "gs", "gs://b1/p", "--endpoint", &endpoint])
        .assert()
        .success();
    env.mlv(&[
        "remote",
        "add",
        "az",
        "az://box/p",
        "--endpoint",
        &az_endpoint,
    ])
    .assert()
    .success();
    for name in ["gs", "az"] {
        for cmd in ["push", "fetch"] {
            let start = Instant::now();
            env.mlv(&[cmd, "-r", name])
                .assert()
                .code(1)
                .stderr(contains(format!("127.0.0.1:{port}")));
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "{cmd} to {name} took {:?}",
                start.elapsed()
            );
        }
    }
}

#[test]
fn a_push_creates_a_missing_bucket_or_container() {
    for kind in [Kind::Gcs, Kind::Azure] {
        // Neither emulator starts with the bucket: fake-gcs-server keeps one as a folder,
        // Azurite answers 404 to a listing of a missing container.
        let remote = Remote::start(kind);
        let bucket = remote.server().dir.path().join("data").join(BUCKET);
        assert!(!bucket.exists());
        assert!(remote.files_under(&remote.root()).is_empty());
        let env = project_with_data(&remote);
        env.mlv(&["push"]).assert().success();
        assert!(remote.is_file(&remote.root().join("format.toml")));
        assert_eq!(
            remote.files_under(&remote.root()).len(),
            4,
            "format, pack, index, manifest"
        );
        if kind == Kind::Gcs {
            assert!(bucket.is_dir());
        }
        // A fresh clone pulls from the bucket the push made.
        let mate = env.clone_repo("mate");
        remote.credentials(&mate);
        mate.mlv(&["pull"]).assert().success();
        assert_eq!(mate.read("models/model.pkl"), env.read("models/model.pkl"));
    }
}

/// `dvc remote add -d` is how DVC users make a default remote; the same words work here.
#[test]
fn remote_add_dash_d_makes_the_default_remote_as_in_dvc() {
    let env = TestEnv::new();
    env.mlv(&["init"]).assert().success();
    env.mlv(&["remote", "add", "-d", "store", "/tmp/a-remote"])
        .assert()
        .success();
    let list = env.json(&["remote", "list"]);
    assert_eq!(list["remotes"][0]["name"], "store");
    assert_eq!(list["remotes"][0]["default"], true);
}

/// Many big objects uploaded in parts at once share one budget of parts in memory; an
/// upload waiting for room keeps sending the parts it has, so the push never stalls.
#[test]
fn many_big_objects_in_parts_at_once_all_arrive() {
    let remote = Remote::start(Kind::S3);
    let env = TestEnv::new();
    for n in 0..5u32 {
        let bytes: Vec<u8> = (0..(34u32 << 20))
            .map(|i| (i.wrapping_add(n).wrapping_mul(2654435761) >> 9) as u8)
            .collect();
        env.write(&format!("models/m{n}.bin"), &bytes);
    }
    crate::packs::committed(&env, &["models"], &remote);
    env.mlv(&["push", "-j", "8"])
        .timeout(Duration::from_secs(120))
        .assert()
        .success();
    let mate = env.clone_repo("mate");
    remote.credentials(&mate);
    mate.mlv(&["pull"]).assert().success();
    crate::packs::assert_same_files(&env, &mate, "models");
}
