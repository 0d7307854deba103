"""remote: `git mlv push` / `git mlv pull` beside `dvc push` / `dvc pull` (same -j) on two
workloads (many small files, one big file), to a folder remote and to s3s-fs on loopback.

Everything is prepared before the first timing; each repetition pushes to empty remotes of
its own (a new folder, a new bucket per tool and workload) and pulls into fresh clones with
empty caches; the tools alternate which goes first; nothing is deleted until the end."""

import json
import os
import subprocess

from .. import data, servers
from ..report import Row
from ..tools import commit_all, git_repo, versions
from ..util import BenchError, free_mb, note, say
from ..util import run as sh

DEFAULTS = {"settle": 2.0}
TOOLS = ["dvc", "s3s-fs"]
TARGETS = {"push_dir": 5.0, "pull_dir": 4.0, "push_big": 1.5, "pull_big": 1.5}
PULL_BIG_RSS_MB = 200.0


def run(bench, cfg, meta):
    wls, backends, reps = cfg.workloads.split(), cfg.backends.split(), range(1, cfg.repeat + 1)
    src = {}
    if "dir" in wls:
        src["dir"] = data.tree(cfg.dir, cfg.files, cfg.file_kib, cfg.folders)
    if "big" in wls:
        src["big"] = data.big(cfg.dir, cfg.big_mb)
    payload = {"dir": "data", "big": "big.bin"}
    wl_mb = sum({"dir": cfg.files * (cfg.file_kib + 4) // 1024, "big": cfg.big_mb}[w] for w in wls)
    need_mb = 4 * wl_mb + cfg.repeat * len(backends) * 6 * wl_mb
    if free_mb(bench.dir) < need_mb:  # a tool that runs out of space mid-run fails its cell
        raise BenchError(f"about {need_mb} MB needed under {bench.dir}, {free_mb(bench.dir)} MB free: "
                         "free some space or lower --repeat")
    root = servers.s3_root(cfg, bench, cfg.repeat * 2 * wl_mb + 1024)
    srv = servers.Servers(bench, root, cfg.quickack)
    log, run_dir = bench.log, bench.run_dir
    try:
        if "s3" in backends:
            srv.start_s3()
        bench.machine(versions(["dvc", "s3s-fs"]) + [srv.describe(), (
            f"workload: {' '.join(wls)}; {cfg.files} files x {cfg.file_kib} KiB in {cfg.folders} folders; one file "
            f"of {cfg.big_mb} MiB; remotes: {' '.join(backends)}; -j {cfg.jobs}; {cfg.repeat} repetition(s)")])
        say(f"preparing source repositories, {cfg.repeat} repetition(s) of clones, and empty remotes under {run_dir}")
        folder = lambda r, tool, wl: os.path.join(run_dir, "remotes", f"r{r}-{tool}-{wl}")
        bucket = lambda r, tool, wl: f"r{r}-{tool}-{wl}"
        clone = lambda r, b, tool, wl: os.path.join(run_dir, f"r{r}", f"{b}-{tool}-{wl}")
        for wl in wls:
            for tool in ("mlv", "dvc"):
                d = os.path.join(run_dir, f"src-{tool}-{wl}")
                git_repo(d, log)
                sh(["cp", "-r", src[wl], os.path.join(d, payload[wl])], log=log)
                if tool == "mlv":
                    sh(["git", "mlv", "init"], cwd=d, log=log)
                    sh(["git", "mlv", "add", payload[wl]], cwd=d, log=log)
                    for r in reps:
                        sh(["git", "mlv", "remote", "add", f"f{r}", folder(r, tool, wl)], cwd=d, log=log)
                        sh(["git", "mlv", "remote", "add", f"s{r}", f"s3://{bucket(r, tool, wl)}/mlv",
                            "--endpoint", srv.endpoint or "http://127.0.0.1:1"], cwd=d, log=log)
                else:
                    for c in (["dvc", "init", "-q"], ["dvc", "config", "core.analytics", "false"],
                              ["dvc", "config", "cache.type", "copy"], ["dvc", "add", payload[wl]]):
                        sh(c, cwd=d, log=log)
                    for r in reps:
                        sh(["dvc", "remote", "add", f"f{r}", folder(r, tool, wl)], cwd=d, log=log)
                        sh(["dvc", "remote", "add", f"s{r}", f"s3://{bucket(r, tool, wl)}/dvc"], cwd=d, log=log)
                        sh(["dvc", "remote", "modify", f"s{r}", "endpointurl", srv.endpoint or "http://127.0.0.1:1"],
                           cwd=d, log=log)
                commit_all(d, f"track {payload[wl]}", log)
                servers.set_credentials(tool, d, [f"s{r}" for r in reps], log)
        for r in reps:
            for wl in wls:
                for tool in ("mlv", "dvc"):
                    os.makedirs(os.path.join(root, bucket(r, tool, wl)), exist_ok=True)
                    os.makedirs(os.path.dirname(folder(r, tool, wl)), exist_ok=True)
                    for b in backends:
                        c = clone(r, b, tool, wl)
                        os.makedirs(os.path.dirname(c), exist_ok=True)
                        sh(["git", "clone", "-q", os.path.join(run_dir, f"src-{tool}-{wl}"), c], log=log)
                        servers.set_credentials(tool, c, [f"s{r}" for r in reps], log)
        subprocess.call(["sync"])

        remote_input = lambda b, r, tool, wl: folder(r, tool, wl) if b == "folder" else os.path.join(root, bucket(r, tool, wl))
        for r in reps:
            bench.rep = r
            say(f"repetition {r} of {cfg.repeat}")
            for wl in wls:
                for b in backends:
                    name = f"{b[0]}{r}"
                    for tool in bench.rotated(["mlv", "dvc"]):
                        d = os.path.join(run_dir, f"src-{tool}-{wl}")
                        if tool == "mlv":
                            bench.timeit(f"push_{wl}", "mlv", d, ["git", "mlv", "push", "-r", name, "-j", str(cfg.jobs),
                                                                 "--json"], inputs=[f"{d}/.git/mlv/cache"], variant=b)
                        else:
                            bench.timeit(f"push_{wl}", "dvc", d, ["dvc", "push", "-r", name, "-j", str(cfg.jobs)],
                                         inputs=[f"{d}/.dvc/cache"], variant=b)
                    for tool in bench.rotated(["mlv", "dvc"]):
                        c, inp = clone(r, b, tool, wl), remote_input(b, r, tool, wl)
                        if tool == "mlv":
                            bench.timeit(f"pull_{wl}", "mlv", c, ["git", "mlv", "pull", "-r", name, "-j", str(cfg.jobs),
                                                                 "--json"], inputs=[inp], variant=b)
                        else:
                            if b == "s3":
                                servers.dir_marker(root, bucket(r, "dvc", wl), "dvc/files/md5")
                            bench.timeit(f"pull_{wl}", "dvc", c, ["dvc", "pull", "-r", name, "-j", str(cfg.jobs)],
                                         inputs=[inp], variant=b)
    finally:
        srv.stop()

    say("checking every push and pull")
    bad = False
    for r in reps:
        for wl in wls:
            for b in backends:
                want = cfg.files + 1 if wl == "dir" else 1  # the files and the manifest
                try:
                    with open(os.path.join(bench.out_dir, f"r{r}-push_{wl}-{b}-mlv.out")) as f:
                        got = json.load(f).get("transferred")
                except (OSError, ValueError):
                    got = None
                if got != want:
                    note(f"warning: r{r} git mlv push ({wl}, {b}) transferred {got} objects, expected {want}")
                    bad = True
                for tool in ("mlv", "dvc"):
                    c = os.path.join(clone(r, b, tool, wl), payload[wl])
                    if subprocess.call(["diff", "-rq", src[wl], c], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
                        note(f"warning: r{r} {tool} pull ({wl}, {b}): {c} differs from the source")
                        bad = True
    if not bad:
        note("every pull matches the source; every git-mlv push sent every object")
    if not cfg.keep:
        bench.remove_tree(root)


def rows(meta):
    c = meta["cfg"]
    big = "1 GiB" if c["big_mb"] == 1024 else f"{c['big_mb']} MiB"
    labels = {"push_dir": f"push {c['files']:,} files x {c['file_kib']} KiB",
              "pull_dir": f"pull {c['files']:,} files x {c['file_kib']} KiB",
              "push_big": f"push one {big} file", "pull_big": f"pull one {big} file"}
    return [Row(op, labels[op], ["mlv", "dvc"], variant=b, ratios=[("dvc", "mlv")],
                targets=[("dvc", "mlv", ">=", TARGETS[op])],
                rss_limit_mb=PULL_BIG_RSS_MB if op == "pull_big" else 0.0)
            for op in TARGETS for b in ("folder", "s3")]
