//! The test environment: a temporary git repository with git isolated from the machine's
//! configuration, and helpers to run git and the real `git-mlv` binary in it.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

pub struct TestEnv {
    _tmp: tempfile::TempDir,
    pub root: PathBuf,
    home: PathBuf,
}

impl TestEnv {
    /// A fresh repository with one empty commit.
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let base = tmp.path().canonicalize().expect("canonical temp dir");
        let root = base.join("repo");
        let home = base.join("home");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&home).unwrap();
        let env = TestEnv {
            _tmp: tmp,
            root,
            home,
        };
        env.git(&["init", "-q", "-b", "main"]);
        env.git(&["commit", "-q", "--allow-empty", "-m", "start"]);
        env
    }

    /// A fresh `git clone` of this repository beside it, as a teammate or CI runner has.
    pub fn clone_repo(&self, name: &str) -> TestEnv {
        let tmp = tempfile::tempdir().expect("temp dir");
        let base = tmp.path().canonicalize().unwrap();
        let root = base.join(name);
        let home = base.join("home");
        std::fs::create_dir_all(&home).unwrap();
        let env = TestEnv {
            _tmp: tmp,
            root: root.clone(),
            home,
        };
        let mut cmd = std::process::Command::new("git");
        env.isolate(&mut cmd);
        let out = cmd
            .args(["clone", "-q"])
            .arg(&self.root)
            .arg(&root)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git clone failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        env
    }

    /// Adds the folder `store` beside the repository as the default remote `store`, and
    /// returns its path.
    pub fn add_folder_remote(&self) -> PathBuf {
        let store = self.outside().join("store");
        self.mlv(&[
            "remote",
            "add",
            "store",
            store.to_str().unwrap(),
            "--default",
        ])
        .assert()
        .success();
        store
    }

    /// The temporary folder that holds the repository (for files outside it).
    pub fn outside(&self) -> PathBuf {
        self.root.parent().unwrap().join("outside")
    }

    /// Runs `cmd` as git and git-mlv are run here: isolated from the machine's git
    /// configuration, with this test's HOME and this build's binary first on PATH.
    pub fn isolate(&self, cmd: &mut std::process::Command) {
        // `git mlv` (and the installed hooks) must find this build's binary first.
        let bin = assert_cmd::cargo::cargo_bin("git-mlv");
        let path = format!(
            "{}:{}",
            bin.parent().unwrap().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        cmd.env("PATH", path)
            .env("HOME", &self.home)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Test")
            .env("GIT_AUTHOR_EMAIL", "test@example.com")
            .env("GIT_COMMITTER_NAME", "Test")
            .env("GIT_COMMITTER_EMAIL", "test@example.com")
            .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
            .env("MLV_NO_PROGRESS", "1")
            .env("NO_COLOR", "1")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE");
    }

    /// Runs git in the repository root and returns its stdout; panics if git fails.
    pub fn git(&self, args: &[&str]) -> String {
        let out = self.git_output(args);
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs git and returns its whole output, for tests that expect it to fail.
    pub fn git_output(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = std::process::Command::new("git");
        self.isolate(&mut cmd);
        cmd.args(args)
            .current_dir(&self.root)
            .output()
            .expect("git runs")
    }

    /// A `git-mlv` command in the repository root, ready to run.
    pub fn mlv(&self, args: &[&str]) -> Command {
        self.mlv_in(".", args)
    }

    /// A `git-mlv` command in a sub-folder of the repository.
    pub fn mlv_in(&self, dir: &str, args: &[&str]) -> Command {
        let mut cmd = self.mlv_std(args);
        cmd.current_dir(self.root.join(dir));
        Command::from_std(cmd)
    }

    /// The same as a plain process, for tests that kill, race or wrap it.
    pub fn mlv_std(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("git-mlv"));
        self.isolate(&mut cmd);
        cmd.args(args).current_dir(&self.root);
        cmd
    }

    /// A spawnable process with captured output.
    pub fn mlv_process(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = self.mlv_std(args);
        cmd.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        cmd
    }

    /// Runs `git mlv <args> --json` successfully and parses its stdout.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self
            .mlv(args)
            .arg("--json")
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        serde_json::from_slice(&out).expect("valid JSON on stdout")
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        if p.exists() {
            // Files checked out from a cache with link types may be read-only.
            let _ = std::fs::remove_file(&p);
        }
        std::fs::write(p, bytes).unwrap();
    }

    pub fn read(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.path(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
    }

    pub fn read_str(&self, rel: &str) -> String {
        String::from_utf8(self.read(rel)).unwrap()
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.path(rel).symlink_metadata().is_ok()
    }

    /// The default cache location.
    pub fn cache_dir(&self) -> PathBuf {
        self.root.join(".git/mlv/cache")
    }

    /// Path of the cache object with `hash` (`b3:<hex>`).
    pub fn object(&self, hash: &str) -> PathBuf {
        let hex = hash.strip_prefix("b3:").expect("b3 hash");
        self.cache_dir().join("b3").join(&hex[..2]).join(&hex[2..])
    }

    /// The `hash` field of a pointer file.
    pub fn pointer_hash(&self, tracked: &str) -> String {
        let text = self.read_str(&format!("{tracked}.mlv"));
        let table: toml::Table = text.parse().unwrap();
        table["hash"].as_str().unwrap().to_string()
    }

    /// Writes `n` small files under `dir`, content derived from `seed`.
    pub fn make_dataset(&self, dir: &str, n: usize, seed: &str) {
        for i in 0..n {
            self.write(
                &format!("{dir}/part{}/f{i}.csv", i % 3),
                format!("{seed},{i}\n"),
            );
        }
    }
}

/// `b3:` + the BLAKE3 hex of `bytes`, computed independently of git-mlv, as `b3sum` does.
pub fn b3(bytes: &[u8]) -> String {
    format!("b3:{}", blake3::hash(bytes).to_hex())
}

/// Every object file under a cache hashes to its own name: nothing partial or damaged.
pub fn assert_cache_sound(cache: &Path) {
    let b3dir = cache.join("b3");
    let Ok(dirs) = std::fs::read_dir(&b3dir) else {
        return;
    };
    for d in dirs {
        let d = d.unwrap();
        for obj in std::fs::read_dir(d.path()).unwrap() {
            let obj = obj.unwrap();
            let name = format!(
                "{}{}",
                d.file_name().to_string_lossy(),
                obj.file_name().to_string_lossy()
            );
            let bytes = std::fs::read(obj.path()).unwrap();
            assert_eq!(
                blake3::hash(&bytes).to_hex().as_str(),
                name,
                "damaged object {}",
                obj.path().display()
            );
        }
    }
}

/// `mlv.toml` of a small ML project: artifact `model` at `model.pkl`, then `extra` (gates).
pub const ML_PROJECT: &str = "[artifacts.model]\npath = \"model.pkl\"\n\n[stages.train]\ncmd = \"python train.py\"\nouts = [\"model.pkl\"]\nmetrics = [\"metrics.json\"]\n";

impl TestEnv {
    /// A repository whose `mlv.toml` is `ML_PROJECT` followed by `extra`.
    pub fn ml_project(extra: &str) -> TestEnv {
        let env = TestEnv::new();
        env.write("mlv.toml", format!("{ML_PROJECT}\n{extra}"));
        env
    }

    /// Trains a "model": writes `model.pkl` and `metrics.json` (eval.accuracy), tracks the
    /// model and commits both; returns the commit.
    pub fn commit_model(&self, model: impl AsRef<[u8]>, accuracy: f64) -> String {
        self.write("model.pkl", model);
        self.write(
            "metrics.json",
            format!("{{\"eval\": {{\"accuracy\": {accuracy}}}}}"),
        );
        self.mlv(&["add", "-q", "model.pkl"]).assert().success();
        self.git(&["add", "-A"]);
        self.git(&["commit", "-qm", &format!("model with accuracy {accuracy}")]);
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }

    /// `gto show --json` (or `gto show <args> --json`): the registry as GTO reads it. The
    /// registry tests need the real gto (`scripts/install-test-servers.sh` installs it), so
    /// its absence is a failure, not a skip.
    pub fn gto(&self, args: &[&str]) -> serde_json::Value {
        let out = std::process::Command::new("gto")
            .arg("show")
            .args(args)
            .arg("--json")
            .current_dir(&self.root)
            .output()
            .expect("`gto` is not installed: run `bash scripts/install-test-servers.sh` (pip install gto)");
        assert!(
            out.status.success(),
            "gto show failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("gto prints JSON")
    }

    /// Runs a writing `gto` command (`register`, `assign`, `deprecate`) as a user would,
    /// after the clock has passed every tag's tagger time: gto stamps tags with the real
    /// time at one-second resolution (its git library reads only the zone from
    /// `GIT_COMMITTER_DATE`, and refuses the fixed date the other commands get), while
    /// git-mlv may date its tags a few seconds ahead, so waiting keeps each step's order
    /// unambiguous.
    pub fn gto_do(&self, args: &[&str]) {
        let newest: i64 = self
            .git(&["for-each-ref", "--format=%(taggerdate:unix)", "refs/tags"])
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .max()
            .unwrap_or(0);
        let now = || {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64
        };
        while now() <= newest {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let mut cmd = std::process::Command::new("gto");
        self.isolate(&mut cmd);
        let out = cmd
            .env_remove("GIT_COMMITTER_DATE")
            .args(args)
            .current_dir(&self.root)
            .output()
            .expect("`gto` is not installed: run `bash scripts/install-test-servers.sh` (pip install gto)");
        assert!(
            out.status.success(),
            "gto {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The `git add …` command a `hint:` line in `stderr` gives (between backticks), if any.
pub fn git_add_hint(stderr: &str) -> Option<String> {
    stderr
        .lines()
        .filter(|l| l.starts_with("hint:"))
        .flat_map(|l| l.split('`').skip(1).step_by(2))
        .find(|cmd| cmd.starts_with("git add "))
        .map(str::to_string)
}

impl TestEnv {
    /// Runs the `git add …` the command's hint gives, as a user would paste it in `dir`,
    /// and asserts that git then sees nothing unstaged: the hint covers every committed
    /// file the command changed.
    pub fn run_git_add_hint(&self, dir: &str, stderr: &str) {
        let cmd = git_add_hint(stderr).unwrap_or_else(|| panic!("no `git add` hint in:\n{stderr}"));
        let mut sh = std::process::Command::new("sh");
        self.isolate(&mut sh);
        let out = sh
            .args(["-c", &cmd])
            .current_dir(self.root.join(dir))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "`{cmd}` failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let status = self.git(&["status", "--porcelain"]);
        let unstaged: Vec<&str> = status
            .lines()
            .filter(|l| l.starts_with("??") || l.as_bytes().get(1) != Some(&b' '))
            .collect();
        assert!(
            unstaged.is_empty(),
            "`{cmd}` left changes unstaged: {unstaged:?}"
        );
    }
}

/// A command's stderr, for the tests that read several things in it.
pub fn stderr_of(assert: assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}
