#!/usr/bin/env python3
"""git-mlv's benchmarks: one entry point for every scenario (docs/benchmarks.md).

    python3 bench/run.py local remote git registry network   # run scenarios, in that order
    python3 bench/run.py network --files 2000 --repeat 1     # a smaller run
    python3 bench/run.py report network                      # print a finished run's table again

Every option also reads an environment variable, BENCH_<OPTION> (--files: BENCH_FILES);
a flag wins over the variable, the variable over the scenario's default. It reports and does
not gate: exit 0 even when targets are missed, 1 only when it cannot run at all.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mlvbench import report as rep  # noqa: E402
from mlvbench import tools  # noqa: E402
from mlvbench.measure import Bench  # noqa: E402
from mlvbench.scenarios import SCENARIOS  # noqa: E402
from mlvbench.util import BenchError, say  # noqa: E402

# option: (type, default for every scenario, help). A scenario's DEFAULTS override these.
OPTIONS = {
    "dir": (str, "/tmp/mlv-bench", "work dir: data/ (generated, reused) and one folder per scenario"),
    "files": (int, 20000, "files in the many-small-files workload"),
    "file_kib": (int, 8, "size of each of those files in KiB"),
    "folders": (int, 100, "folders they are spread over"),
    "big_mb": (int, 1024, "size of the big file in MiB"),
    "repeat": (int, 3, "counted repetitions; the table shows medians"),
    "warmup": (int, 0, "extra first repetitions, run the same way and left out of the table"),
    "jobs": (int, 32, "transfers in flight (-j, --transfers) for every tool that has the option"),
    "status_runs": (int, 3, "local: status runs per tool per repetition"),
    "checkout_runs": (int, 3, "local: delete-and-checkout cycles of the big file per repetition"),
    "workloads": (str, "dir big", "remote, backends: which workloads"),
    "backends": (str, "folder s3", "remote, backends: which remotes (backends: folder s3 http gs az ssh)"),
    "model_mib": (int, 512, "registry: size of the model in MiB"),
    "delay_ms": (float, 10.0, "network: one-way delay of the latency proxy (round trip: twice)"),
    "peers": (str, "dvc rclone awscp awssync", "network, scale: which peers run beside git-mlv"),
    "sizes": (str, "20000 200000 1000000", "scale: the file counts, one workload each"),
    "get_files": (int, 20000, "python: files in the `get` workload"),
    "dvc_max": (int, 200000, "scale: dvc add runs only up to this many files"),
    "settle": (float, 1.0, "seconds of sleep after `sync` before each timed command"),
    "idle_pct": (float, 25.0, "before each timed command, wait while other processes keep the CPUs busier than this"),
    "idle_max": (float, 600.0, "... for at most this many seconds"),
    "prefault_mb": (int, -1, "MiB touched and freed before each timed command; 0 = off [2 x big + 512]"),
    "delete_quiet": (int, 330, "seconds between the last large delete on disk and the first timed command"),
    "quickack": (int, 1, "1: loopback routes get `quickack 1` while S3 runs (root and ip needed)"),
    "s3_dir": (str, "", "the S3 server's disk [/dev/shm/... when it has room, else run/s3]"),
    "keep": (int, 0, "1: keep repositories, clones and remotes at the end"),
    "skip_install": (int, 0, "1: install nothing"),
}


def parse(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenarios", nargs="+", metavar="scenario",
                    help=f"{', '.join(SCENARIOS)}, or `report` followed by scenarios")
    for opt, (typ, default, text) in OPTIONS.items():
        ap.add_argument("--" + opt.replace("_", "-"), type=typ, default=None,
                        help=f"{text} [BENCH_{opt.upper()}; {default}]")
    return ap.parse_args(argv)


def config(args, module):
    """Flag, else BENCH_* variable, else the scenario's default, else the common one."""
    cfg = argparse.Namespace()
    for opt, (typ, default, _) in OPTIONS.items():
        v = getattr(args, opt)
        if v is None and f"BENCH_{opt.upper()}" in os.environ:
            v = typ(os.environ[f"BENCH_{opt.upper()}"])
        if v is None:
            v = module.DEFAULTS.get(opt, default)
        setattr(cfg, opt, v)
    if cfg.prefault_mb < 0:
        cfg.prefault_mb = module.DEFAULTS.get("prefault_mb", 2 * cfg.big_mb + 512)
    return cfg


def print_report(root, name):
    d = os.path.join(root, name)
    with open(os.path.join(d, "meta.json")) as f:
        meta = json.load(f)
    module = SCENARIOS[name]
    print()
    with open(os.path.join(d, "machine.txt")) as f:
        print(f.read().rstrip())
    print()
    runs = rep.load(os.path.join(d, "results.tsv"))
    checks = module.extra_checks(runs, meta) if hasattr(module, "extra_checks") else ()
    rep.report(runs, module.rows(meta), checks)
    if hasattr(module, "details"):
        module.details(runs, meta)
    print(f"\nraw results: {d}/results.tsv; command output: {d}/log.txt")


def main(argv):
    args = parse(argv)
    names = args.scenarios
    only_report = names[0] == "report"
    if only_report:
        names = names[1:]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown or not names:
        sys.exit(f"run.py: unknown scenario {' '.join(unknown) or '(none)'}; choose from {', '.join(SCENARIOS)}")
    try:
        if only_report:
            for n in names:
                print_report(config(args, SCENARIOS[n]).dir, n)
            return 0
        built = False
        for n in names:
            module = SCENARIOS[n]
            cfg = config(args, module)
            tools.install(["time", *module.TOOLS], cfg.skip_install)
            if not built:
                tools.build()
                tools.set_env()
                built = True
            bench = Bench(cfg.dir, n, cfg)
            meta = {"scenario": n, "cfg": vars(cfg)}
            bench.start(meta)
            say(f"scenario {n}")
            module.run(bench, cfg, meta)
            with open(os.path.join(bench.dir, "meta.json"), "w") as f:
                json.dump(meta, f, indent=1)
            print_report(cfg.dir, n)
            if not cfg.keep:
                say(f"removing {bench.run_dir}")
                bench.remove_tree(bench.run_dir)
    except BenchError as e:
        print(f"run.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
