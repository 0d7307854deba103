"""python (issue 16): the `mlv` Python package against DVC's Python API on the same data:
`mlv.read` of a big file in the cache (GB/s), reading every file of a folder through
`MlvFileSystem` and `DVCFileSystem` (`fs.find`, then `fs.cat` of the list) with both caches
warm and with both empty (fetched from a folder remote), and `git mlv get` against
`dvc get` of a bigger folder from a local git repository by file:// URL."""

import glob
import os
import statistics

from .. import data
from ..report import Row
from ..tools import ROOT, commit_all, git_repo, versions
from ..util import BenchError, note, say
from ..util import run as sh

DEFAULTS = {"files": 10000, "file_kib": 4, "prefault_mb": 0}
TOOLS = ["dvc"]
VENV = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")),
                    "git-mlv-bench", "python")
DRIVER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pyread.py")


def _venv(bench):
    """A virtual environment seeing the system's packages (dvc) with this source's `mlv`
    built in release by maturin and installed from its wheel."""
    py = os.path.join(VENV, "bin", "python")
    if not os.path.exists(py):
        sh(["python3", "-m", "venv", "--system-site-packages", VENV])
    pip = [py, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    if sh([py, "-c", "import maturin"], check=False) != 0:
        sh(pip + ["maturin"])
    wheels = os.path.join(bench.run_dir, "wheels")
    say("building the mlv wheel (maturin, release)")
    sh([os.path.join(VENV, "bin", "maturin"), "build", "--release", "--locked", "-q", "-o", wheels],
       cwd=os.path.join(ROOT, "python"), log=bench.log)
    sh(pip + ["--force-reinstall", "--no-deps", *glob.glob(os.path.join(wheels, "*.whl"))],
       log=bench.log)
    if sh([py, "-c", "import mlv, dvc.api"], check=False) != 0:
        raise BenchError(f"{py} cannot import both mlv and dvc.api")
    return py


def _pair(base, tree, big, log):
    """The same data in a git-mlv and a DVC repository, each with a folder remote, added,
    committed and pushed: both caches hold it."""
    mlv, dvc = os.path.join(base, "mlv"), os.path.join(base, "dvc")
    git_repo(mlv, log)
    sh(["git", "mlv", "init"], cwd=mlv, log=log)
    sh(["git", "mlv", "remote", "add", "store", os.path.join(base, "mlv-store"), "--default"],
       cwd=mlv, log=log)
    git_repo(dvc, log)
    for c in (["dvc", "init", "-q"], ["dvc", "config", "core.analytics", "false"],
              ["dvc", "remote", "add", "-d", "store", os.path.join(base, "dvc-store")]):
        sh(c, cwd=dvc, log=log)
    for repo in (mlv, dvc):
        sh(["cp", "-r", tree, os.path.join(repo, "data")], log=log)
    if big:
        sh(["cp", big, os.path.join(mlv, "big.bin")], log=log)
    sh(["git", "mlv", "add", "-q", "data", *(["big.bin"] if big else [])], cwd=mlv, log=log)
    sh(["dvc", "add", "-q", "data"], cwd=dvc, log=log)
    for repo, push in ((mlv, ["git", "mlv", "push", "-q"]), (dvc, ["dvc", "push", "-q"])):
        commit_all(repo, "data", log)
        sh(push, cwd=repo, log=log)
    return mlv, dvc


def _caches(mlv, dvc):
    return {"mlv": os.path.join(mlv, ".git", "mlv", "cache"), "dvc": os.path.join(dvc, ".dvc", "cache")}


def run(bench, cfg, meta):
    py = _venv(bench)
    log = bench.log
    meta["out_dir"] = bench.out_dir
    tree = data.tree(cfg.dir, cfg.files, cfg.file_kib, cfg.folders)
    gtree = data.tree(cfg.dir, cfg.get_files, cfg.file_kib, cfg.folders)
    big = data.big(cfg.dir, cfg.big_mb)
    bench.machine(versions(["dvc"]) + [
        f"workload: read {cfg.big_mb} MiB; cat {cfg.files} files x {cfg.file_kib} KiB; get "
        f"{cfg.get_files} files x {cfg.file_kib} KiB; {cfg.repeat} repetition(s); python {py}"])
    say("preparing the repositories")
    mlv, dvc = _pair(os.path.join(bench.run_dir, "cat"), tree, big, log)
    gmlv, gdvc = _pair(os.path.join(bench.run_dir, "get"), gtree, None, log)
    caches = _caches(mlv, dvc)
    dest = os.path.join(bench.run_dir, "dest")
    git_repo(dest, log)
    sh(["git", "mlv", "init"], cwd=dest, log=log)
    xdg = os.path.join(bench.run_dir, "xdg")
    env = dict(os.environ, XDG_CACHE_HOME=xdg)
    for r in range(1 - cfg.warmup, cfg.repeat + 1):
        bench.rep = r
        say(f"repetition {r} of {cfg.repeat}")
        # The previous repetition's cold `cat` emptied the cache: put the big file back
        # (untimed), so `read` measures a file already in the cache.
        sh(["git", "mlv", "fetch", "-q", "big.bin"], cwd=mlv, log=log)
        bench.timeit("read", "mlv", mlv, [py, DRIVER, "read", mlv, "big.bin"])
        for tool in bench.rotated(["mlv", "dvc"]):
            repo = mlv if tool == "mlv" else dvc
            bench.timeit("cat", tool, repo, [py, DRIVER, "cat", tool, repo, "data"], variant="warm")
        for tool in bench.rotated(["mlv", "dvc"]):
            repo = mlv if tool == "mlv" else dvc
            bench.remove_tree(caches[tool])
            bench.timeit("cat", tool, repo, [py, DRIVER, "cat", tool, repo, "data"], variant="cold")
        for tool in bench.rotated(["mlv", "dvc"]):
            out = os.path.join(dest, f"out-{tool}")
            bench.remove_tree(out, xdg, os.path.join(dest, ".git", "mlv", "cache"))
            src = "file://" + (gmlv if tool == "mlv" else gdvc)
            cmd = (["git", "mlv", "get", src, "data", "-o", out] if tool == "mlv"
                   else ["dvc", "get", src, "data", "-o", out])
            bench.timeit("get", tool, dest, cmd, env=env)
            n, _ = data.tree_bytes(out)
            if n != cfg.get_files:
                note(f"warning: {tool} get wrote {n} files, not {cfg.get_files}")


def _inside(meta, op, variant, tool):
    """The in-process seconds and bytes of every counted run of one operation."""
    got = []
    for path in glob.glob(os.path.join(meta["out_dir"], f"r*-{op}-{variant or '-'}-{tool}.out")):
        if int(os.path.basename(path)[1:].split("-")[0]) <= 0:
            continue
        with open(path) as f:
            words = f.read().split()
        if len(words) >= 4 and words[0] == "op_secs":
            got.append((float(words[1]), int(words[3])))
    return got


def rows(meta):
    c = meta["cfg"]
    return [
        Row("read", f"mlv.read of a {c['big_mb']} MiB file in the cache (process)", ["mlv"]),
        Row("cat", f"fs.cat of {c['files']:,} x {c['file_kib']} KiB files (process)", ["mlv", "dvc"],
            variant="warm", ratios=[("dvc", "mlv")]),
        Row("cat", f"fs.cat of {c['files']:,} x {c['file_kib']} KiB files (process)", ["mlv", "dvc"],
            variant="cold", ratios=[("dvc", "mlv")]),
        Row("get", f"get of {c['get_files']:,} x {c['file_kib']} KiB files by file:// URL",
            ["mlv", "dvc"], ratios=[("dvc", "mlv")], targets=[("dvc", "mlv", ">=", 4.0)]),
    ]


def _med(meta, op, variant, tool):
    got = _inside(meta, op, variant, tool)
    return statistics.median(s for s, _ in got) if got else None


def extra_checks(runs, meta):
    checks = []
    got = _inside(meta, "read", "", "mlv")
    if got:
        rate = statistics.median(b / s for s, b in got) / 1e9
        checks.append(("mlv.read of a file in the cache >= 1 GB/s", rate >= 1.0, f"{rate:.2f} GB/s"))
    m, d = _med(meta, "cat", "warm", "mlv"), _med(meta, "cat", "warm", "dvc")
    if m and d:
        checks.append(("fs.cat of a folder, warm caches: dvc/git-mlv >= 5x (in process)", d / m >= 5,
                       f"{d / m:.1f}x"))
    return checks


def details(runs, meta):
    print("\nin-process seconds (interpreter start and imports left out), medians:")
    for op, variant in (("read", ""), ("cat", "warm"), ("cat", "cold")):
        line = [f"{tool} {_med(meta, op, variant, tool):.3f} s"
                for tool in ("mlv", "dvc") if _med(meta, op, variant, tool) is not None]
        print(f"- {op} {variant}: " + ", ".join(line))
