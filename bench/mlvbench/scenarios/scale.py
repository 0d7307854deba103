"""scale (issue 15): status, add and checkout of one tracked directory from tens of
thousands to a million 1 KiB files, beside git holding the very same files in its index
(a second git dir whose work tree is the git-mlv repository: no second copy on disk),
`cp -r` as the floor for writing the files (peer `cp`: its copy takes as much disk as the
files), and `dvc add` up to --dvc-max files (peer `dvc`)."""

import os
import subprocess

from .. import data
from ..report import Row, median
from ..tools import commit_all, git_repo, versions
from ..util import say
from ..util import run as sh

DEFAULTS = {"file_kib": 1, "prefault_mb": 0, "status_runs": 3, "peers": "git cp dvc"}
TOOLS = ["dvc"]
RSS_MB = 300.0
TOUCHED = 10


def _folders(n):
    return max(100, min(1000, n // 1000))


def _touch(data_dir, count):
    """Rewrites `count` files (one per folder, same size, new bytes)."""
    for name in sorted(os.listdir(data_dir))[:count]:
        folder = os.path.join(data_dir, name)
        first = os.path.join(folder, sorted(os.listdir(folder))[0])
        size = os.path.getsize(first)
        with open(first, "wb") as f:
            f.write(os.urandom(size))


def _size(bench, cfg, n, log):
    tree = data.tree(cfg.dir, n, cfg.file_kib, _folders(n))
    base = os.path.join(bench.run_dir, f"n{n}")
    mlv, dvc = os.path.join(base, "mlv"), os.path.join(base, "dvc")
    git = ["git", "-c", "gc.auto=0", f"--git-dir={base}/git.git", f"--work-tree={mlv}"]
    say(f"preparing {n:,} files under {base}")
    git_repo(mlv, log)
    sh(["git", "mlv", "init"], cwd=mlv, log=log)
    commit_all(mlv, "mlv-init", log)
    sh(["cp", "-r", tree, os.path.join(mlv, "data")], log=log)
    sh(["git", "init", "-q", "--bare", f"{base}/git.git"], log=log)
    sh(git + ["config", "core.bare", "false"], log=log)
    with_dvc = "dvc" in cfg.peers.split() and n <= cfg.dvc_max
    if with_dvc:
        git_repo(dvc, log)
        for c in (["dvc", "init", "-q"], ["dvc", "config", "core.analytics", "false"],
                  ["dvc", "config", "cache.type", "copy"]):
            sh(c, cwd=dvc, log=log)
        commit_all(dvc, "dvc-init", log)
        sh(["cp", "-r", tree, os.path.join(dvc, "data")], log=log)
    subprocess.call(["sync"])

    v = str(n)
    with_cp = "cp" in cfg.peers.split()
    copy = {"cp": (base, ["cp", "-r", tree, os.path.join(base, "copy")])} if with_cp else {}
    adds = {"mlv": (mlv, ["git", "mlv", "add", "data"]), "git": (base, git + ["add", "-f", "data"]), **copy}
    if with_dvc:
        adds["dvc"] = (dvc, ["dvc", "add", "data"])
    for r in range(1, cfg.repeat + 1):
        bench.rep = r
        say(f"{n:,} files: repetition {r} of {cfg.repeat}")
        # add from nothing: no cache, stat cache or index; the floor writes a fresh copy
        bench.remove_tree(os.path.join(mlv, ".git", "mlv"), os.path.join(base, "git.git", "index"),
                          os.path.join(base, "copy"), os.path.join(dvc, ".dvc", "cache"))
        for tool in bench.rotated(list(adds)):
            cwd, cmd = adds[tool]
            bench.timeit("add", tool, cwd, cmd, inputs=[tree], variant=v)
        bench.timeit("readd", "mlv", mlv, ["git", "mlv", "add", "data"], variant=v)
        commit_all(mlv, f"data r{r}", log)
        sh(git + ["commit", "-q", "--allow-empty", "-m", f"data r{r}"], log=log)

        status = {"mlv": (mlv, ["git", "mlv", "status"]), "git": (base, git + ["status"])}
        for tool in status:  # first runs after an add settle racy entries; not counted
            subprocess.call(status[tool][1], cwd=status[tool][0], stdout=subprocess.DEVNULL)
        for _ in range(cfg.status_runs):
            for tool in bench.rotated(list(status)):
                bench.timeit("status", tool, status[tool][0], status[tool][1], variant=v)
        _touch(os.path.join(mlv, "data"), TOUCHED)
        for tool in bench.rotated(list(status)):
            bench.timeit("status_touched", tool, status[tool][0], status[tool][1], variant=v)
        sh(["git", "mlv", "add", "data"], cwd=mlv, log=log)
        commit_all(mlv, f"touched r{r}", log)
        sh(git + ["add", "-f", "data"], log=log)

        # checkout of the whole directory from the cache, beside cp -r of the same files
        bench.remove_tree(os.path.join(mlv, "data"), os.path.join(base, "copy"))
        checkout = {"mlv": (mlv, ["git", "mlv", "checkout", "data"]), **copy}
        for tool in bench.rotated(list(checkout)):
            bench.timeit("checkout", tool, checkout[tool][0], checkout[tool][1], variant=v)
        if subprocess.call(["git", "mlv", "status", "--check"], cwd=mlv, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL) != 0:
            say(f"warning: `git mlv status --check` reports changes after the checkout ({n} files)")
    if not cfg.keep:
        bench.remove_tree(base)


def _sizes(cfg):
    return [int(s) for s in cfg["sizes"].split()]


def run(bench, cfg, meta):
    sizes = _sizes(vars(cfg))
    bench.machine(versions(["dvc"]) + [
        f"workload: {', '.join(f'{n:,}' for n in sizes)} files x {cfg.file_kib} KiB in "
        f"{', '.join(str(_folders(n)) for n in sizes)} folders; {cfg.repeat} repetition(s); "
        f"status runs {cfg.status_runs}; peers: {cfg.peers} (git always); dvc add up to {cfg.dvc_max:,} files"])
    for n in sizes:
        _size(bench, cfg, n, bench.log)


def rows(meta):
    out = []
    peers = meta["cfg"]["peers"].split()
    ran = lambda pairs: [p for p in pairs if all(t in ("mlv", "git") or t in peers for t in p[:2])]
    for n in _sizes(meta["cfg"]):
        v, c = str(n), f"{n:,}"
        out += [
            Row("add", f"add {c} files", ["mlv", "git"] + [t for t in ("cp", "dvc") if t in peers], variant=v,
                ratios=ran([("mlv", "git"), ("mlv", "cp"), ("dvc", "mlv")]), targets=ran([("dvc", "mlv", ">=", 8.0)]),
                rss_limit_mb=RSS_MB),
            Row("readd", f"re-add {c} unchanged files", ["mlv"], variant=v, rss_limit_mb=RSS_MB),
            Row("status", f"status, {c} files unchanged", ["mlv", "git"], variant=v,
                ratios=[("mlv", "git")], targets=[("mlv", "git", "<=", 1.5)], rss_limit_mb=RSS_MB),
            Row("status_touched", f"status, {c} files, {TOUCHED} rewritten", ["mlv", "git"], variant=v,
                ratios=[("mlv", "git")], targets=[("mlv", "git", "<=", 1.5)], rss_limit_mb=RSS_MB),
            Row("checkout", f"checkout {c} files from the cache", ["mlv"] + (["cp"] if "cp" in peers else []),
                variant=v, ratios=ran([("mlv", "cp")]), targets=ran([("mlv", "cp", "<=", 1.3)]), rss_limit_mb=RSS_MB),
        ]
    return out


def extra_checks(runs, meta):
    """status's peak memory against git's on the same files."""
    out = []
    for n in _sizes(meta["cfg"]):
        for op in ("status", "status_touched"):
            mlv, git = (median(runs, op, t, str(n), key="rss") for t in ("mlv", "git"))
            if mlv and git:
                out.append((f"{op} of {n:,} files: git-mlv peak RSS <= git's", mlv <= git,
                            f"{mlv / 1024:.1f} MB vs {git / 1024:.1f} MB"))
    return out


def details(runs, meta):
    """Cost per file: the median wall time, then the median CPU time (user + sys), divided by
    the file count, per operation, for git-mlv and git (CPU time moves less than wall time
    when other work shares the machine)."""
    for key, what in (("secs", "wall"), ("cpu", "CPU")):
        print(f"\nCost per file ({what} time, median / files, microseconds):")
        for op in ("add", "readd", "status", "status_touched", "checkout"):
            for tool in ("mlv", "git"):
                cells = []
                for n in _sizes(meta["cfg"]):
                    m = median(runs, op, tool, str(n), key=key)
                    cells.append(f"{n:,}: {m / n * 1e6:.2f}" if m is not None else f"{n:,}: -")
                if any(not c.endswith("-") for c in cells):
                    print(f"  {op:15s} {tool:4s} " + "; ".join(cells))
