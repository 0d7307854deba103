"""git: the git-integration paths on a directory of many files: `checkout --rev` of an older
version whose objects are in the cache, `diff` between two versions, and what the
post-checkout hook adds to a branch switch that changes no pointer."""

import os
import shutil
import subprocess

from .. import data
from ..report import Row, median
from ..tools import commit_all, git_repo, versions
from ..util import note, say
from ..util import run as sh

DEFAULTS = {"prefault_mb": 512}
TOOLS = []
HOOK_BUDGET_S = 0.050


def run(bench, cfg, meta):
    tree = data.tree(cfg.dir, cfg.files, cfg.file_kib, cfg.folders)
    log = bench.log
    bench.machine(versions([]) + [
        f"workload: {cfg.files} files x {cfg.file_kib} KiB in {cfg.folders} folders, one in ten changed "
        f"between two versions, 500 code files; {cfg.repeat} repetition(s)"])
    repo = os.path.join(bench.run_dir, "repo")
    git_repo(repo, log)
    shutil.copytree(tree, os.path.join(repo, "data"))
    os.makedirs(os.path.join(repo, "src"))
    for i in range(500):
        with open(os.path.join(repo, "src", f"m{i}.py"), "w") as f:
            f.write(f"x = {i}\n")
    sh(["git", "mlv", "add", "-q", "data"], cwd=repo, log=log)
    commit_all(repo, "v1", log)
    size = cfg.file_kib * 1024
    for i in range(0, cfg.files, 10):  # one file in ten changes
        with open(os.path.join(repo, "data", f"d{i % cfg.folders:03d}", f"f{i:06d}.bin"), "wb") as f:
            f.write(os.urandom(size))
    sh(["git", "mlv", "add", "-q", "data"], cwd=repo, log=log)
    commit_all(repo, "v2", log)
    for c in (["git", "branch", "other"], ["git", "checkout", "-q", "other"]):
        sh(c, cwd=repo, log=log)
    with open(os.path.join(repo, "src", "extra.py"), "w") as f:
        f.write("y = 1\n")
    commit_all(repo, "code only", log)
    sh(["git", "checkout", "-q", "main"], cwd=repo, log=log)
    subprocess.call(["sync"])

    switch = ["sh", "-c", "git checkout -q other && git checkout -q main"]
    for r in range(1, cfg.repeat + 1):
        bench.rep = r
        say(f"repetition {r} of {cfg.repeat}")
        bench.timeit("checkout_rev", "mlv", repo, ["git", "mlv", "checkout", "--rev", "HEAD~1", "data"])
        bench.timeit("checkout_back", "mlv", repo, ["git", "mlv", "checkout", "data"])
        bench.timeit("diff", "mlv", repo, ["git", "mlv", "diff", "HEAD~1", "HEAD"])
        bench.timeit("switch", "mlv", repo, switch, variant="plain")
        sh(["git", "mlv", "install-hooks", "-q"], cwd=repo, log=log)
        bench.timeit("switch", "mlv", repo, switch, variant="hook")
        sh(["git", "mlv", "install-hooks", "--uninstall", "-q"], cwd=repo, log=log)
    if subprocess.call(["git", "mlv", "status", "--check"], cwd=repo, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL) != 0:
        note("warning: `git mlv status --check` reports changes after the last checkout")


def rows(meta):
    c = meta["cfg"]
    return [
        Row("checkout_rev", f"checkout --rev HEAD~1 data ({c['files'] // 10:,} files differ)", ["mlv"]),
        Row("checkout_back", "checkout data back to the work tree's pointers", ["mlv"]),
        Row("diff", "diff HEAD~1 HEAD", ["mlv"]),
        Row("switch", "two branch switches", ["mlv"], variant="plain"),
        Row("switch", "two branch switches", ["mlv"], variant="hook"),
    ]


def extra_checks(runs, meta):
    plain, hook = median(runs, "switch", "mlv", "plain"), median(runs, "switch", "mlv", "hook")
    if plain is None or hook is None:
        return [("post-checkout hook adds <= 50 ms per branch switch", False, "a run failed")]
    added = (hook - plain) / 2
    return [("post-checkout hook adds <= 50 ms per branch switch", added <= HOOK_BUDGET_S,
             f"{added * 1000:.0f} ms")]
