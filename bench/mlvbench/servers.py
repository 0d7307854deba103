"""The S3 server the remote scenarios push to (s3s-fs on loopback), the latency proxy in
front of it, and loopback quickack."""

import base64
import json
import os
import socket
import subprocess
import time

from .util import BenchError, mem_available_mb, note, on_tmpfs, output, run

KEY, SECRET = "mlvbenchkey", "mlvbenchsecret"
PROXY = os.environ.get("BENCH_LATENCY_PROXY", "/work/shared/tools/latency-proxy.py")


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
            return os.path.join(shm, f"mlv-bench-s3-{bench.scenario}")
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

    def start_s3(self):
        os.makedirs(self.root, exist_ok=True)
        self.s3_port = free_port()
        log = os.path.join(self.bench.dir, "s3s-fs.log")
        p = subprocess.Popen(["s3s-fs", "--host", "127.0.0.1", "--port", str(self.s3_port),
                              "--access-key", KEY, "--secret-key", SECRET, self.root],
                             stdout=open(log, "w"), stderr=subprocess.STDOUT)
        self.procs.append(p)
        self.bench.server_pids.append(p.pid)
        _wait_port(self.s3_port, "s3s-fs", log)
        self.endpoint = f"http://127.0.0.1:{self.s3_port}"
        self._quickack_on()

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
