"""Real repositories for the tests: made by the real `git` and the real `git mlv` (this
repository's build), with a folder remote, so `mlv` reads what the command line wrote.

The binary is `$GIT_MLV` if set, else `git-mlv` in `$CARGO_TARGET_DIR` (or `target/`)
`/debug/` as `cargo test` leaves it, else the one on PATH.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Callable, Iterator, List, Optional

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _binary() -> str:
    if os.environ.get("GIT_MLV"):
        return os.environ["GIT_MLV"]
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    built = target / "debug" / "git-mlv"
    if built.is_file():
        return str(built)
    found = shutil.which("git-mlv")
    if not found:
        pytest.exit("no git-mlv binary: run `cargo build` first or set GIT_MLV", returncode=2)
    return found


@pytest.fixture(scope="session", autouse=True)
def git_env(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The same isolated git settings for the commands the tests run and for the library
    inside this process, with this build's `git-mlv` first on PATH."""
    home = tmp_path_factory.mktemp("home")
    os.environ.update(
        {
            "PATH": f"{Path(_binary()).parent}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(home),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Test",
            "GIT_AUTHOR_EMAIL": "test@example.com",
            "GIT_COMMITTER_NAME": "Test",
            "GIT_COMMITTER_EMAIL": "test@example.com",
            "MLV_NO_PROGRESS": "1",
            "NO_COLOR": "1",
        }
    )
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        os.environ.pop(var, None)


def run(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Runs a command in `cwd`, failing the test with its output when it fails."""
    p = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
    return p


class Repo:
    """A repository with a folder remote. At tag `v1.0`: `data/` (a tracked directory with
    `train.csv` and `sub/b.txt`) and `big.bin` (2 MiB, over the pack threshold, so it is a
    loose object on the remote); at `main` (one commit later) `data/train.csv` changed and
    `notes.txt` added. Everything is pushed; the cache is then emptied, so reads fetch."""

    V1_CSV = b"x,y\n1,2\n3,4\n"
    V2_CSV = b"x,y\n1,2\n3,4\n5,6\n"

    def __init__(self, base: Path, remote: Optional[List[str]] = None) -> None:
        """`remote`: the `git mlv remote add store` arguments after the name (default: the
        folder `store` beside the repository)."""
        self.root = base / "repo"
        self.remote = base / "store"
        self.remote_args = remote or [str(self.remote)]
        self.root.mkdir()
        self.big = os.urandom(2 << 20)

    def git(self, *args: str) -> str:
        return run(self.root, "git", *args).stdout

    def mlv(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return run(self.root, "git", "mlv", *args, check=check)

    def write(self, rel: str, data: bytes) -> None:
        p = self.root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)

    def build(self, configure: Optional[Callable[[], None]] = None) -> "Repo":
        self.git("init", "-q", "-b", "main")
        self.mlv("init")
        self.mlv("remote", "add", "store", *self.remote_args, "--default")
        if configure:
            configure()
        self.write("data/train.csv", self.V1_CSV)
        self.write("data/sub/b.txt", b"bee\n")
        self.write("big.bin", self.big)
        self.mlv("add", "data", "big.bin")
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "v1")
        self.git("tag", "v1.0")
        self.write("data/train.csv", self.V2_CSV)
        self.write("notes.txt", b"notes\n")
        self.mlv("add", "data", "notes.txt")
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "v2")
        self.mlv("push", "--rev", "v1.0")
        self.mlv("push")
        self.empty_cache()
        return self

    def credentials(self, key: str, secret: str) -> None:
        """This machine's S3 credentials for `store`, in `.mlv/config.local.toml` (never
        committed: a reader by URL cannot see them)."""
        self.mlv("remote", "set", "store", "access_key_id", key)
        self.mlv("remote", "set", "store", "secret_access_key", secret)

    def empty_cache(self) -> None:
        shutil.rmtree(self.root / ".git" / "mlv" / "cache", ignore_errors=True)


@pytest.fixture(scope="session")
def repo(git_env: None, tmp_path_factory: pytest.TempPathFactory) -> Repo:
    return Repo(tmp_path_factory.mktemp("mlv")).build()


@pytest.fixture(scope="session")
def source(git_env: None, tmp_path_factory: pytest.TempPathFactory) -> Repo:
    """A second repository, read by its `file://` URL (`source.root.as_uri()`): no clone,
    its data from its own folder remote."""
    return Repo(tmp_path_factory.mktemp("source")).build()


class S3:
    """s3s-fs (real on-disk S3, SigV4 checked) on a free loopback port, as `tests/cli`
    starts it: `bucket` is a folder under `data`."""

    ACCESS_KEY = "mlvtestkey"
    SECRET_KEY = "mlvtestsecret-do-not-print"
    BUCKET = "mlv-bucket"

    def __init__(self, base: Path) -> None:
        self.data = base / "data"
        (self.data / self.BUCKET).mkdir(parents=True)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [_server("s3s-fs"), "--host", "127.0.0.1", "--port", str(self.port),
             "--access-key", self.ACCESS_KEY, "--secret-key", self.SECRET_KEY, str(self.data)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        start = time.monotonic()
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() - start > 10:
                    self.stop()
                    raise AssertionError(f"s3s-fs did not start on port {self.port}")
                time.sleep(0.01)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _server(name: str) -> str:
    """A test server binary on PATH or in cargo's bin folder (`.ci/run` installs them)."""
    cargo_bin = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo")) / "bin"
    found = shutil.which(name) or shutil.which(name, path=str(cargo_bin))
    if not found:
        pytest.fail(f"`{name}` is not installed; run `bash .ci/run` (or scripts/test.sh) to install the test servers")
    return found


@pytest.fixture(scope="session")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3]:
    server = S3(tmp_path_factory.mktemp("s3"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3_source(git_env: None, s3: S3, tmp_path_factory: pytest.TempPathFactory) -> Repo:
    """A second repository whose default remote is `s3://mlv-bucket/team/proj` on s3s-fs
    (the endpoint committed in `.mlv/config.toml`, the credentials in its
    `config.local.toml`), everything pushed, its cache emptied."""
    url = f"s3://{S3.BUCKET}/team/proj"
    src = Repo(tmp_path_factory.mktemp("s3source"), remote=[url, "--endpoint", s3.endpoint])
    src.remote = s3.data / S3.BUCKET / "team" / "proj"
    return src.build(configure=lambda: src.credentials(S3.ACCESS_KEY, S3.SECRET_KEY))
