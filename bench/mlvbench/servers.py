"""The servers the remote scenarios push to, on loopback: s3s-fs (S3), and for the
`backends` scenario also nginx's WebDAV (http://), fake-gcs-server behind its PUT front
(gs://), Azurite (az://) and a throwaway sshd (ssh://), started as tests/cli/servers.rs
starts them; the latency proxy in front of s3s-fs, and loopback quickack."""

import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field

from .util import BenchError, mem_available_mb, note, on_tmpfs, output, run

KEY, SECRET = "mlvbenchkey", "mlvbenchsecret"
PROXY = os.environ.get("BENCH_LATENCY_PROXY", "/work/shared/tools/latency-proxy.py")
# Where scripts/install-test-servers.sh puts fake-gcs-server (its venv's bin/).
TEST_VENV = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                         "git-mlv-test", "venv")
# Azurite's published development account and key (the same on every machine).
AZURE_ACCOUNT = "devstoreaccount1"
AZURE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
BUCKET = "bench"


@dataclass
class Store:
    """A started server as a git-mlv remote: `git mlv remote add NAME url [--endpoint]`, then
    `git mlv remote set NAME KEY VALUE` for each setting (machine-local: credentials, ssh
    files). `data` is the server's folder on disk (read into the page cache before a pull)."""
    url: str
    endpoint: str = ""
    settings: dict = field(default_factory=dict)
    data: str = ""


def binary(name):
    """A server binary on PATH, in cargo's bin, /usr/sbin or the tests' venv (as servers.rs)."""
    dirs = os.environ["PATH"].split(os.pathsep) + ["/usr/sbin", os.path.join(TEST_VENV, "bin")]
    for d in dirs:
        p = os.path.join(d, name)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    raise BenchError(f"`{name}` is not installed: run scripts/install-test-servers.sh")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _wait_port(port, what, log):
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise BenchError(f"{what} did not start on port {port} (see {log})")


def s3_root(cfg, bench, need_mb):
    """Where s3s-fs keeps its objects: memory (/dev/shm) when it is a tmpfs with room, since a
    real S3 keeps its disks elsewhere and s3s-fs creating files on the clients' ext4 competes
    with them; else the run folder. --s3-dir overrides."""
    if cfg.s3_dir:
        if os.path.isdir(cfg.s3_dir) and os.listdir(cfg.s3_dir):
            raise BenchError(f"--s3-dir {cfg.s3_dir} is not empty (it is removed at the end)")
        return cfg.s3_dir
    shm = "/dev/shm"
    if os.path.isdir(shm) and on_tmpfs(shm):
        st = os.statvfs(shm)
        if st.f_bavail * st.f_frsize >> 20 > need_mb and mem_available_mb() // 2 > need_mb:
            # named by the work dir too: two runs with different --dir never share it
            tag = hashlib.sha1(bench.root.encode()).hexdigest()[:8]
            return os.path.join(shm, f"mlv-bench-s3-{bench.scenario}-{tag}")
    return os.path.join(bench.run_dir, "s3")


class Servers:
    """Starts s3s-fs (and the latency proxy), sets quickack, and undoes it all in stop()."""

    def __init__(self, bench, root, quickack):
        self.bench = bench
        self.root = root
        self.procs = []
        self.routes = []
        self.quickack = quickack
        self.endpoint = None
        self.s3_port = None
        self.gcs_port = None

    def _spawn(self, what, port, cmd):
        """Starts a server listening on `port`; its CPU counts as the servers'."""
        log = os.path.join(self.bench.dir, f"{what}.log")
        p = subprocess.Popen(cmd, stdout=open(log, "w"), stderr=subprocess.STDOUT)
        self.procs.append(p)
        self.bench.server_pids.append(p.pid)
        _wait_port(port, what, log)

    def start_s3(self):
        os.makedirs(self.root, exist_ok=True)
        self.s3_port = free_port()
        self._spawn("s3s-fs", self.s3_port, ["s3s-fs", "--host", "127.0.0.1", "--port", str(self.s3_port),
                                             "--access-key", KEY, "--secret-key", SECRET, self.root])
        self.endpoint = f"http://127.0.0.1:{self.s3_port}"
        self._quickack_on()

    # Each start_* below keeps its files in self.root and returns the remote (a Store) at
    # `prefix` in bucket BUCKET (ssh: the folder <root>/BUCKET/<prefix>).
    def s3_store(self, prefix):
        """s3s-fs (SigV4 checked), its bucket made first."""
        self.start_s3()
        os.makedirs(os.path.join(self.root, BUCKET), exist_ok=True)
        return Store(f"s3://{BUCKET}/{prefix}", self.endpoint,
                     {"access_key_id": KEY, "secret_access_key": SECRET}, self.root)

    def http_store(self, prefix):
        """nginx with WebDAV (PUT, DELETE, MKCOL, MOVE), no authentication."""
        d = self.root
        data = os.path.join(d, "data")
        os.makedirs(os.path.join(data, BUCKET), exist_ok=True)
        os.makedirs(os.path.join(d, "tmp"), exist_ok=True)
        port = free_port()
        temps = "".join(f"    {k}_temp_path {d}/tmp/{k};\n" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        conf = (f"daemon off;\nuser root;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n"
                f"events {{ worker_connections 256; }}\nhttp {{\n    access_log off;\n{temps}"
                f"    server {{\n        listen 127.0.0.1:{port};\n        client_max_body_size 0;\n"
                f"        root {data};\n        location / {{\n            dav_methods PUT DELETE MKCOL COPY MOVE;\n"
                f"            create_full_put_path on;\n            dav_access user:rw group:r all:r;\n"
                f"        }}\n    }}\n}}\n")
        with open(os.path.join(d, "nginx.conf"), "w") as f:
            f.write(conf)
        self._spawn("nginx", port, [binary("nginx"), "-p", d, "-c", os.path.join(d, "nginx.conf"),
                                    "-e", os.path.join(d, "error.log")])
        return Store(f"http://127.0.0.1:{port}/{BUCKET}/{prefix}", data=data)

    def gcs_store(self, prefix):
        """fake-gcs-server (filesystem backend) behind gcsfront.py (which also stands in for
        the XML multipart uploads the emulator lacks); anonymous requests.
        `gcs_port` is the server's own port, for uploads through its JSON API."""
        data = os.path.join(self.root, "data")
        os.makedirs(data, exist_ok=True)
        self.gcs_port = free_port()
        self._spawn("fake-gcs-server", self.gcs_port, [
            binary("fake-gcs-server"), "-scheme", "http", "-host", "127.0.0.1", "-port", str(self.gcs_port),
            "-backend", "filesystem", "-filesystem-root", data, "-public-host", "127.0.0.1", "-log-level", "error"])
        front = free_port()
        parts = os.path.join(self.root, "parts")
        os.makedirs(parts, exist_ok=True)
        self._spawn("gcsfront", front, ["python3", os.path.join(os.path.dirname(__file__), "gcsfront.py"),
                                        str(front), str(self.gcs_port), parts])
        return Store(f"gs://{BUCKET}/{prefix}", f"http://127.0.0.1:{front}", data=data)

    def azure_store(self, prefix):
        """Azurite's blob service (shared-key signatures checked), blobs under its --location."""
        data = os.path.join(self.root, "data")
        port = free_port()
        self._spawn("azurite", port, [binary("azurite-blob"), "--blobHost", "127.0.0.1", "--blobPort", str(port),
                                      "--location", data, "--skipApiVersionCheck", "--silent"])
        return Store(f"az://{BUCKET}/{prefix}", f"http://127.0.0.1:{port}/{AZURE_ACCOUNT}",
                     {"account_key": AZURE_KEY}, data)

    def ssh_store(self, prefix):
        """OpenSSH's sshd serving SFTP to a throwaway key; the client's key, known_hosts and
        ssh config go into the remote's settings (never the user's ~/.ssh)."""
        d = self.root
        data = os.path.join(d, "data")
        os.makedirs(os.path.join(data, BUCKET), exist_ok=True)
        os.makedirs("/run/sshd", exist_ok=True)
        for k in ("host_key", "client_key"):
            run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "mlv-bench", "-f", os.path.join(d, k)])
        shutil.copy(os.path.join(d, "client_key.pub"), os.path.join(d, "authorized_keys"))
        port = free_port()
        with open(os.path.join(d, "sshd_config"), "w") as f:
            f.write(f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile none\n"
                    f"AuthorizedKeysFile {d}/authorized_keys\nPasswordAuthentication no\n"
                    "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\nPermitRootLogin yes\n"
                    "UsePAM no\nStrictModes no\nSubsystem sftp internal-sftp\nLogLevel ERROR\n")
        with open(os.path.join(d, "host_key.pub")) as f:
            kind, key = f.read().split()[:2]
        with open(os.path.join(d, "known_hosts"), "w") as f:
            f.write(f"[127.0.0.1]:{port} {kind} {key}\n")
        with open(os.path.join(d, "ssh_config"), "w") as f:
            f.write(f"Host *\n  IdentityFile {d}/client_key\n  UserKnownHostsFile {d}/known_hosts\n")
        self._spawn("sshd", port, [binary("sshd"), "-D", "-e", "-f", os.path.join(d, "sshd_config")])
        return Store(f"ssh://127.0.0.1:{port}{data}/{BUCKET}/{prefix}", settings={
            "identity_file": f"{d}/client_key", "known_hosts": f"{d}/known_hosts", "ssh_config": f"{d}/ssh_config"},
            data=data)

    def start_proxy(self, delay_ms, max_seconds):
        """Puts the latency proxy in front of s3s-fs; the endpoint becomes the proxy's."""
        if not os.path.exists(PROXY):
            raise BenchError(f"latency proxy {PROXY} not found (BENCH_LATENCY_PROXY)")
        port = free_port()
        log = os.path.join(self.bench.dir, "proxy.log")
        stats = os.path.join(self.bench.dir, "proxy-stats.json")
        p = subprocess.Popen(["python3", PROXY, "--listen", f"127.0.0.1:{port}",
                              "--to", f"127.0.0.1:{self.s3_port}", "--delay-ms", str(delay_ms),
                              "--max-seconds", str(max_seconds), "--stats", stats],
                             stdout=open(log, "w"), stderr=subprocess.STDOUT)
        self.procs.append(p)
        self.bench.server_pids.append(p.pid)
        _wait_port(port, "latency proxy", log)
        self.bench.proxy_stats = stats
        self.endpoint = f"http://127.0.0.1:{port}"

    # s3s-fs does not set TCP_NODELAY, so a GET's body waits behind its headers for the
    # client's delayed ACK (40 ms). Real S3 servers set it. `quickack 1` on the loopback
    # routes makes every client here ACK at once; the routes are put back in stop().
    def _quickack_on(self):
        if not self.quickack:
            return
        if os.geteuid() != 0 or not output(["sh", "-c", "command -v ip"]):
            note("warning: --quickack needs root and ip; S3 GETs keep s3s-fs's 40 ms delayed ACK")
            self.quickack = False
            return
        for r in output(["ip", "route", "show", "table", "local"]).splitlines():
            if r.startswith("local 127.") and "quickack" not in r:
                if subprocess.call(["ip", "route", "change", *r.split(), "table", "local", "quickack", "1"]) == 0:
                    self.routes.append(r)
        self.quickack = bool(self.routes)

    def stop(self):
        for p in reversed(self.procs):
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        self.procs = []
        self.bench.server_pids = []
        for r in self.routes:
            subprocess.call(["ip", "route", "change", *r.split(), "table", "local"])
        self.routes = []

    def describe(self):
        return (f"s3s-fs: {output(['s3s-fs', '--version'])} on 127.0.0.1 (same machine), disk "
                f"{'tmpfs' if on_tmpfs(self.root) else 'disk'} ({self.root}); loopback quickack: "
                f"{'on' if self.routes else 'off'}")


def dir_marker(root, bucket, key):
    """Makes s3s-fs answer HEAD <bucket>/<key> for a key that is a folder on its disk.

    s3s-fs 0.14.1 answers HEAD on such a key with 500 (it tries to hash the folder to make an
    ETag) where S3 answers 404. `dvc pull` first checks that the remote's `files/md5` exists
    (dvc_data.index.fetch: `data.fs.exists(data.path)`), gets the 500 four times and gives up.
    Writing the ETag sidecar s3s-fs keeps beside each object for this key makes the HEAD
    answer 200, as it would for a folder-marker object on S3; nothing else changes.
    """
    enc = lambda s: base64.urlsafe_b64encode(s.encode()).decode().rstrip("=")
    path = os.path.join(root, f".bucket-{enc(bucket)}.object-{enc(key)}.internal.json")
    with open(path, "w") as f:
        json.dump({"e_tag": '"d41d8cd98f00b204e9800998ecf8427e"'}, f)


def set_credentials(tool, path, names, log):
    """The S3 server's key pair into each remote `names` of a git-mlv or DVC repository:
    its local (git-ignored) config, never the environment."""
    for name in names:
        if tool == "mlv":
            run(["git", "mlv", "remote", "set", name, "access_key_id", KEY], cwd=path, log=log)
            run(["git", "mlv", "remote", "set", name, "secret_access_key", SECRET], cwd=path, log=log)
        else:
            run(["dvc", "remote", "modify", "--local", name, "access_key_id", KEY], cwd=path, log=log)
            run(["dvc", "remote", "modify", "--local", name, "secret_access_key", SECRET], cwd=path, log=log)
