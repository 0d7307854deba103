"""local: git-mlv beside DVC, git-lfs, plain git and cp on the same data, on this machine's
disk: add a directory of many small files, status with nothing changed, re-add unchanged,
add one big file, check the big file out of the cache again."""

import filecmp
import os
import re
import shutil
import subprocess

from .. import data
from ..report import Row
from ..tools import commit_all, git_repo, versions
from ..util import note, say
from ..util import run as sh

DEFAULTS = {"warmup": 1}
TOOLS = ["dvc", "git-lfs"]
RSS_MB = 150.0


def _prepare(kind, path, src, log):
    """A fresh repository of `kind` holding a copy of `src` (a folder or the big file)."""
    if kind == "cp":
        os.makedirs(path)
    else:
        git_repo(path, log)
    if kind == "mlv":
        sh(["git", "mlv", "init"], cwd=path, log=log)
        commit_all(path, "mlv-init", log)
    elif kind == "dvc":
        for c in (["dvc", "init", "-q"], ["dvc", "config", "core.analytics", "false"],
                  ["dvc", "config", "cache.type", "copy"]):
            sh(c, cwd=path, log=log)
        commit_all(path, "dvc-init", log)
    elif kind == "lfs":
        sh(["git", "lfs", "install", "--local"], cwd=path, log=log)
    if os.path.isdir(src):
        shutil.copytree(src, os.path.join(path, "data"))
    else:
        shutil.copyfile(src, os.path.join(path, "big.bin"))
    if kind == "git":
        commit_all(path, "data", log)


def run(bench, cfg, meta):
    tree = data.tree(cfg.dir, cfg.files, cfg.file_kib, cfg.folders)
    big = data.big(cfg.dir, cfg.big_mb)
    first = 1 - cfg.warmup
    log = bench.log
    bench.machine(versions(["dvc", "git-lfs"]) + [
        f"cp: {subprocess.run(['cp', '--version'], capture_output=True, text=True).stdout.splitlines()[0]}",
        f"workload: {cfg.files} files x {cfg.file_kib} KiB in {cfg.folders} folders; one file of {cfg.big_mb} MiB; "
        f"{cfg.repeat} repetition(s) + {cfg.warmup} warm-up; status runs {cfg.status_runs}, checkout runs "
        f"{cfg.checkout_runs} per repetition"])
    say(f"preparing {cfg.repeat} repetition(s) (+{cfg.warmup} warm-up) of fresh repositories under {bench.run_dir}")
    for r in range(first, cfg.repeat + 1):
        base = os.path.join(bench.run_dir, f"r{r}")
        for k in ("mlv", "dvc", "lfs", "git", "cp"):
            _prepare(k, f"{base}/{k}-dir", tree, log)
        for k in ("mlv", "dvc", "lfs", "cp"):
            _prepare(k, f"{base}/{k}-big", big, log)
    subprocess.call(["sync"])

    lfs_dir = ["bash", "-c", "git lfs track 'data/**' >/dev/null && git add data"]
    lfs_big = ["bash", "-c", "git lfs track big.bin >/dev/null && git add big.bin"]
    for r in range(first, cfg.repeat + 1):
        bench.rep = r
        say("warm-up repetition (not counted)" if r <= 0 else f"repetition {r} of {cfg.repeat}")
        d = lambda k, w: os.path.join(bench.run_dir, f"r{r}", f"{k}-{w}")
        t = lambda op, tool, w, cmd: bench.timeit(op, tool, d(tool if tool != "cpo" else "mlv", w), cmd,
                                                  inputs=[d(tool if tool != "cpo" else "mlv", w)])
        add_dir = {"mlv": ["git", "mlv", "add", "data"], "dvc": ["dvc", "add", "data"],
                   "lfs": lfs_dir, "cp": ["cp", "-r", "data", "data2"]}
        for tool in bench.rotated(["mlv", "dvc", "lfs", "cp"], first):
            t("add_dir", tool, "dir", add_dir[tool])
        for k in ("mlv", "dvc", "lfs"):
            commit_all(d(k, "dir"), "add", log)

        status = {"mlv": ["git", "mlv", "status"], "dvc": ["dvc", "status"],
                  "lfs": ["git", "status"], "git": ["git", "status"]}
        for _ in range(cfg.status_runs):
            for tool in bench.rotated(["mlv", "dvc", "lfs", "git"], first):
                t("status", tool, "dir", status[tool])
        if subprocess.call(["git", "mlv", "status", "--check"], cwd=d("mlv", "dir"),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) != 0:
            note("warning: `git mlv status --check` reports changes right after add")

        readd = {"mlv": ["git", "mlv", "add", "data"], "dvc": ["dvc", "add", "data"]}
        for tool in bench.rotated(["mlv", "dvc"], first):
            t("readd_dir", tool, "dir", readd[tool])

        add_big = {"mlv": ["git", "mlv", "add", "big.bin"], "dvc": ["dvc", "add", "big.bin"],
                   "lfs": lfs_big, "cp": ["cp", "big.bin", "big2.bin"]}
        for tool in bench.rotated(["mlv", "dvc", "lfs", "cp"], first):
            t("add_big", tool, "big", add_big[tool])
        for k in ("mlv", "dvc", "lfs"):
            commit_all(d(k, "big"), "add", log)

        # check the big file out of the cache again (all removals first, then settle)
        with open(os.path.join(d("mlv", "big"), "big.bin.mlv")) as f:
            m = re.search(r'^hash = "b3:([0-9a-f]+)"', f.read(), re.M)
        obj = os.path.join(d("mlv", "big"), ".git/mlv/cache/b3", m.group(1)[:2], m.group(1)[2:]) if m else ""
        if not os.path.isfile(obj):
            note(f"warning: git-mlv cache object for big.bin not found ({obj})")
        checkout = {"mlv": ["git", "mlv", "checkout", "big.bin"], "dvc": ["dvc", "checkout", "big.bin"],
                    "lfs": ["git", "checkout", "--", "big.bin"], "cpo": ["cp", obj, "big3.bin"]}
        for _ in range(cfg.checkout_runs):
            for p in ("mlv-big/big.bin", "dvc-big/big.bin", "lfs-big/big.bin", "mlv-big/big3.bin"):
                p = os.path.join(bench.run_dir, f"r{r}", p)
                if os.path.exists(p):
                    os.remove(p)
            subprocess.call(["sync"])
            for tool in bench.rotated(["mlv", "dvc", "lfs", "cpo"], first):
                t("checkout_big", tool, "big", checkout[tool])
        if not filecmp.cmp(big, os.path.join(d("mlv", "big"), "big.bin"), shallow=False):
            note("warning: big.bin after `git mlv checkout` differs from the original")


def rows(meta):
    c = meta["cfg"]
    n, kib = f"{c['files']:,}", c["file_kib"]
    big = "1 GiB" if c["big_mb"] == 1024 else f"{c['big_mb']} MiB"
    return [
        Row("add_dir", f"add {n} files x {kib} KiB (dir)", ["mlv", "dvc", "lfs", "cp"],
            ratios=[("dvc", "mlv"), ("lfs", "mlv"), ("mlv", "cp")], targets=[("dvc", "mlv", ">=", 5.0)],
            rss_limit_mb=RSS_MB),
        Row("status", f"status, nothing changed ({n} files)", ["mlv", "dvc", "git", "lfs"],
            ratios=[("dvc", "mlv"), ("mlv", "git"), ("mlv", "lfs")],
            targets=[("dvc", "mlv", ">=", 10.0), ("mlv", "git", "<=", 2.0)], rss_limit_mb=RSS_MB),
        Row("readd_dir", f"re-add unchanged dir ({n} files)", ["mlv", "dvc"], ratios=[("dvc", "mlv")],
            rss_limit_mb=RSS_MB),
        Row("add_big", f"add one {big} file", ["mlv", "dvc", "lfs", "cp"],
            ratios=[("mlv", "cp"), ("dvc", "mlv"), ("lfs", "mlv")], targets=[("mlv", "cp", "<=", 1.5)],
            rss_limit_mb=RSS_MB),
        Row("checkout_big", f"checkout {big} from cache (copy)", ["mlv", "dvc", "lfs", "cpo"],
            ratios=[("mlv", "cpo"), ("dvc", "mlv"), ("lfs", "mlv")], targets=[("mlv", "cpo", "<=", 1.3)],
            rss_limit_mb=RSS_MB),
    ]
