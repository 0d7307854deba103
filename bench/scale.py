#!/usr/bin/env python3
"""Scale benchmark: git-mlv status/add/checkout from 20k to 1M files, against git and cp -r.

    scale.py setup <root> <n_files> <git-mlv>...   # data, one mlv repo per binary, git's index
    scale.py status <root> <reps> <git-mlv>...     # unchanged, and after touching 10 files
    scale.py add <root> <reps> <git-mlv>...        # fresh add, then re-add (stat cache warm)
    scale.py checkout <root> <reps> <git-mlv>      # rm -rf data; checkout, vs cp -r data

Files are 1 KiB of random bytes in max(100, min(1000, n/1000)) folders. git sees the very
same files: a separate git dir whose work tree is the first mlv repo (`git add -f data`,
committed, default settings, core.untrackedCache false), so no second copy is needed.
Every timed command runs under /usr/bin/time -f '%e %M'; runs of the tools are interleaved
and medians printed (seconds, max RSS MB).
"""

import os
import shutil
import statistics
import subprocess
import sys
import time


def timed(cmd, cwd, env=None):
    out = subprocess.run(["/usr/bin/time", "-f", "%e %M"] + cmd, cwd=cwd, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    last = out.stderr.strip().splitlines()[-1].split()
    return float(last[0]), int(last[1]) / 1024, out.returncode


def repo_of(root, i):
    return os.path.join(root, f"mlv{i}")


def git_cmd(root):
    return ["git", "-c", "gc.auto=0", f"--git-dir={root}/git.git", f"--work-tree={repo_of(root, 0)}"]


def sh(cmd, cwd):
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def setup(root, n, bins):
    folders = max(100, min(1000, n // 1000))
    os.makedirs(root, exist_ok=True)
    for i, b in enumerate(bins):
        repo = repo_of(root, i)
        data = os.path.join(repo, "data")
        os.makedirs(repo)
        if i == 0:
            for k in range(n):
                d = os.path.join(data, f"d{k % folders:04d}")
                if k < folders:
                    os.makedirs(d)
                with open(os.path.join(d, f"f{k:07d}.bin"), "wb") as f:
                    f.write(os.urandom(1024))
        else:
            shutil.copytree(os.path.join(repo_of(root, 0), "data"), data)
        sh(["git", "init", "-q"], repo)
        sh([b, "init"], repo)
        print("initial add", bins[i], timed([b, "add", "data"], repo))
    g = git_cmd(root)
    sh(["git", "init", "-q", "--bare", f"{root}/git.git"], root)
    sh(g + ["config", "core.bare", "false"], root)
    sh(g + ["config", "core.untrackedCache", "false"], root)
    t = timed(g + ["add", "-f", "data"], root)
    print("git add", t)
    sh(g + ["-c", "gc.auto=0", "commit", "-q", "-m", "data"], root)
    sh(g + ["gc", "-q"], root)


def report(name, rows):
    for tool, runs in rows.items():
        secs = statistics.median(r[0] for r in runs)
        mb = statistics.median(r[1] for r in runs)
        print(f"{name}\t{tool}\t{secs:.3f}\t{mb:.0f}\t{[r[0] for r in runs]}", flush=True)


def touch10(root, n_repos):
    data = os.path.join(repo_of(root, 0), "data")
    folders = sorted(os.listdir(data))[:10]
    now = time.time()
    for i in range(n_repos):
        for f in folders:
            d = os.path.join(repo_of(root, i), "data", f)
            os.utime(os.path.join(d, sorted(os.listdir(d))[0]), (now, now))


def status(root, reps, bins):
    g = git_cmd(root)
    for label, touch in (("status unchanged", False), ("status after touching 10", True)):
        rows = {}
        for _ in range(reps):
            if touch:
                touch10(root, len(bins))
                time.sleep(0.05)
            else:
                # Settled: stat caches and git's index hold every file non-racily.
                for i, b in enumerate(bins):
                    timed([b, "status"], repo_of(root, i))
                timed(g + ["status"], root)
            for i, b in enumerate(bins):
                rows.setdefault(os.path.basename(b), []).append(timed([b, "status"], repo_of(root, i)))
            rows.setdefault("git status", []).append(timed(g + ["status"], root))
        report(label, rows)


def add(root, reps, bins):
    rows, again = {}, {}
    for _ in range(reps):
        for i, b in enumerate(bins):
            repo = repo_of(root, i)
            shutil.rmtree(os.path.join(repo, ".git", "mlv"))
            name = os.path.basename(b)
            rows.setdefault(name, []).append(timed([b, "add", "data"], repo))
            again.setdefault(name, []).append(timed([b, "add", "data"], repo))
    report("add", rows)
    report("re-add", again)


def checkout(root, reps, b):
    repo = repo_of(root, 0)
    data = os.path.join(repo, "data")
    rows = {}
    for _ in range(reps):
        shutil.rmtree(data)
        rows.setdefault("git-mlv checkout", []).append(timed([b, "checkout", "data"], repo))
        rows.setdefault("cp -r", []).append(timed(["cp", "-r", "data", "data-copy"], repo))
        shutil.rmtree(os.path.join(repo, "data-copy"))
    report("checkout", rows)


if __name__ == "__main__":
    cmd, root = sys.argv[1], sys.argv[2]
    if cmd == "setup":
        setup(root, int(sys.argv[3]), sys.argv[4:])
    elif cmd == "status":
        status(root, int(sys.argv[3]), sys.argv[4:])
    elif cmd == "add":
        add(root, int(sys.argv[3]), sys.argv[4:])
    elif cmd == "checkout":
        checkout(root, int(sys.argv[3]), sys.argv[4])
