"""registry: gate, promote (the gates plus a tag), the first deploy of a version (copied
from the cache) and rollback to a version whose folder is already deployed."""

import os

from ..report import Row, median
from ..tools import commit_all, git_repo, versions
from ..util import BenchError, say
from ..util import run as sh

DEFAULTS = {"repeat": 5, "prefault_mb": 1536}
TOOLS = []
ROLLBACK_BUDGET_S = 1.0

MLV_TOML = """[artifacts.model]
path = "model.bin"

[[gates]]
metric = "metrics.json:eval.accuracy"
min = 0.5
max_drop = 0.05
baseline = "model#prod"
"""


def run(bench, cfg, meta):
    log = bench.log
    bench.machine(versions([]) + [f"workload: a {cfg.model_mib} MiB model, {cfg.repeat} versions"])
    repo = os.path.join(bench.run_dir, "repo")
    serving = os.path.join(bench.run_dir, "serving")
    git_repo(repo, log)
    with open(os.path.join(repo, "mlv.toml"), "w") as f:
        f.write(MLV_TOML)
    for i in range(1, cfg.repeat + 1):
        bench.rep = i
        say(f"version {i} of {cfg.repeat}")
        with open(os.path.join(repo, "model.bin"), "wb") as f:
            for _ in range(cfg.model_mib):
                f.write(os.urandom(1 << 20))
        with open(os.path.join(repo, "metrics.json"), "w") as f:
            f.write(f'{{"eval": {{"accuracy": 0.9{i}}}}}\n')
        sh(["git", "mlv", "add", "-q", "model.bin"], cwd=repo, log=log)
        commit_all(repo, f"model {i}", log)
        sh(["git", "mlv", "register", "-q", "model"], cwd=repo, log=log)
        bench.timeit("gate", "mlv", repo, ["git", "mlv", "gate"])
        bench.timeit("promote", "mlv", repo, ["git", "mlv", "promote", f"model@v0.0.{i}", "prod"])
        bench.timeit("deploy", "mlv", repo, ["git", "mlv", "deploy", "model", "prod", "--to", serving])
    for i in range(1, cfg.repeat + 1):
        bench.rep = i
        bench.timeit("rollback", "mlv", repo, ["git", "mlv", "rollback", "model", "prod", "--to", "v0.0.1"])
        sh(["git", "mlv", "rollback", "-q", "model", "prod", "--to", f"v0.0.{cfg.repeat}"], cwd=repo, log=log)
    current = os.readlink(os.path.join(serving, "model", "current"))
    if current != f"v0.0.{cfg.repeat}":
        raise BenchError(f"after the rollbacks `current` points at {current}, not v0.0.{cfg.repeat}")


def rows(meta):
    mib = meta["cfg"]["model_mib"]
    return [
        Row("gate", "gate (2 bounds, baseline model#prod)", ["mlv"]),
        Row("promote", "promote (the gates, then a tag)", ["mlv"]),
        Row("deploy", f"deploy of a new version ({mib} MiB copied from the cache)", ["mlv"]),
        Row("rollback", "rollback, version folder already deployed", ["mlv"]),
    ]


def extra_checks(runs, meta):
    m = median(runs, "rollback", "mlv")
    return [("rollback under 1 s", m is not None and m < ROLLBACK_BUDGET_S,
             "a run failed" if m is None else f"{m * 1000:.0f} ms")]
