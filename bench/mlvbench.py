#!/usr/bin/env python3
"""Helper for bench/compare.sh: generates the workloads and prints the report.

    mlvbench.py gen-dir <dir> <n_files> <file_kib> <n_folders>
    mlvbench.py gen-big <file> <mib>
    mlvbench.py prefault <mib>
    mlvbench.py report <results.tsv>

results.tsv has one line per timed run: rep, op, tool, seconds, max_rss_kib, rc,
other_cpu_pct (CPU time used by anything else while it ran, % of all CPUs).
"""

import mmap
import os
import statistics
import sys


def gen_dir(root, n_files, kib, n_folders):
    size = kib * 1024
    for i in range(n_files):
        folder = os.path.join(root, f"d{i % n_folders:03d}")
        if i < n_folders:
            os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"f{i:06d}.bin"), "wb") as f:
            f.write(os.urandom(size))


def gen_big(path, mib):
    chunk = 8 * 1024 * 1024
    left = mib * 1024 * 1024
    with open(path, "wb") as f:
        while left:
            n = min(chunk, left)
            f.write(os.urandom(n))
            left -= n


def prefault(mib):
    """Touches `mib` MiB of fresh memory, then frees it on exit.

    On a VM whose free memory goes back to the host (free page reporting, DAMON), the
    first write to a page costs a host fault: writing 1 GiB into the page cache then takes
    2.5 s instead of 0.3 s, whichever tool writes. Touching the memory just before a timed
    command leaves recently backed pages at the head of the free lists, so the command
    measures the tool, not the hypervisor.
    """
    n = mib << 20
    m = mmap.mmap(-1, n)
    for off in range(0, n, 4096):
        m[off] = 1
    m.close()


# What each row compares, and its target.
# (op, label, tools in column order, ratios, target)
#   ratio = (numerator tool, denominator tool, label)
#   target = (numerator tool, denominator tool, "<="|">=", bound) or None
ROWS = [
    ("add_dir", "add 20k files (dir)",
     ["mlv", "dvc", "lfs", "cp"],
     [("dvc", "mlv", "dvc/mlv"), ("lfs", "mlv", "lfs/mlv"), ("mlv", "cp", "mlv/cp")],
     [("dvc", "mlv", ">=", 5.0)]),
    ("status", "status, nothing changed",
     ["mlv", "dvc", "git", "lfs"],
     [("dvc", "mlv", "dvc/mlv"), ("mlv", "git", "mlv/git"), ("mlv", "lfs", "mlv/git-on-lfs")],
     [("dvc", "mlv", ">=", 10.0), ("mlv", "git", "<=", 2.0)]),
    ("readd_dir", "re-add unchanged dir (stat cache)",
     ["mlv", "dvc"],
     [("dvc", "mlv", "dvc/mlv")],
     []),
    ("add_big", "add 1 file (big)",
     ["mlv", "dvc", "lfs", "cp"],
     [("mlv", "cp", "mlv/cp"), ("dvc", "mlv", "dvc/mlv"), ("lfs", "mlv", "lfs/mlv")],
     [("mlv", "cp", "<=", 1.5)]),
    ("checkout_big", "checkout big file from cache (copy)",
     ["mlv", "dvc", "lfs", "cp"],
     [("mlv", "cp", "mlv/cp"), ("dvc", "mlv", "dvc/mlv"), ("lfs", "mlv", "lfs/mlv")],
     [("mlv", "cp", "<=", 1.3)]),
]

TOOL_NAMES = {
    "mlv": "git-mlv",
    "dvc": "dvc",
    "lfs": "git-lfs",
    "git": "git",
    "cp": "cp",
}

RSS_LIMIT_MB = 150.0


def report(path, labels):
    rows = []
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 6 or parts[0] == "rep":
                continue
            rep, op, tool, secs, rss, rc = parts[:6]
            other = float(parts[6]) if len(parts) > 6 and parts[6] else None
            if int(rep) <= 0:
                continue  # warm-up repetition
            rows.append((int(rep), op, tool, float(secs), int(rss or 0), int(rc), other))

    def samples(op, tool):
        return [r for r in rows if r[1] == op and r[2] == tool]

    def median(op, tool):
        s = [r[3] for r in samples(op, tool) if r[5] == 0]
        return statistics.median(s) if s else None

    def fmt_s(v):
        if v is None:
            return "n/a"
        return f"{v:.3f}" if v < 10 else f"{v:.1f}"

    def fails(op, tool):
        return sum(1 for r in samples(op, tool) if r[5] != 0)

    out = []
    out.append("| operation | git-mlv s | dvc s | git-lfs / git / cp s | ratios | git-mlv peak RSS MB | targets |")
    out.append("|---|---|---|---|---|---|---|")
    all_met = []
    for op, label, tools, ratios, targets in ROWS:
        label = labels.get(op, label)
        med = {t: median(op, t) for t in tools}
        if all(v is None for v in med.values()):
            continue
        others = ", ".join(
            f"{TOOL_NAMES[t] if not (op == 'status' and t == 'lfs') else 'git (lfs repo)'} {fmt_s(med[t])}"
            for t in tools if t not in ("mlv", "dvc")
        )
        rtxt = []
        for a, b, name in ratios:
            if med.get(a) and med.get(b):
                rtxt.append(f"{name} = {med[a] / med[b]:.2f}x")
        mlv_rss = [r[4] for r in samples(op, "mlv")]
        rss_mb = max(mlv_rss) / 1024 if mlv_rss else None
        ttxt = []
        for a, b, cmp, bound in targets:
            if med.get(a) and med.get(b):
                r = med[a] / med[b]
                ok = r >= bound if cmp == ">=" else r <= bound
                ttxt.append(f"{a}/{b} {cmp} {bound:g}: {'MET' if ok else 'MISSED'} ({r:.2f}x)")
                all_met.append(ok)
            else:
                ttxt.append(f"{a}/{b} {cmp} {bound:g}: n/a")
        if rss_mb is not None:
            ok = rss_mb < RSS_LIMIT_MB
            all_met.append(ok)
            ttxt.append(f"RSS < {RSS_LIMIT_MB:g} MB: {'MET' if ok else 'MISSED'}")
        nfail = {t: fails(op, t) for t in tools if fails(op, t)}
        if nfail:
            ttxt.append("FAILED runs: " + ", ".join(f"{TOOL_NAMES[t]} x{n}" for t, n in nfail.items()))
        out.append(
            f"| {label} | {fmt_s(med.get('mlv'))} | {fmt_s(med.get('dvc'))} | {others} | "
            f"{'; '.join(rtxt)} | {'n/a' if rss_mb is None else f'{rss_mb:.1f}'} | {'; '.join(ttxt)} |"
        )
    print("\n".join(out))
    print()
    print("samples (seconds, per repetition; * = command failed):")
    for op, label, tools, _, _ in ROWS:
        for t in tools:
            s = samples(op, t)
            if s:
                vals = " ".join(f"{r[3]:.3f}{'*' if r[5] else ''}{'!' if r[6] is not None and r[6] > 25 else ''}" for r in s)
                rss = " ".join(f"{r[4] / 1024:.0f}" for r in s)
                ok = [r[3] for r in s if r[5] == 0]
                best = f"min {min(ok):.3f}" if ok else "min n/a"
                print(f"  {op:13s} {TOOL_NAMES[t]:8s} {vals}   ({best}; max RSS MB: {rss})")
    print()
    other_cpu = [r[6] for r in rows if r[6] is not None]
    if other_cpu:
        noisy = sum(1 for v in other_cpu if v > 25)
        print(f"CPU used by other processes while the commands ran (% of all CPUs): "
              f"median {statistics.median(other_cpu):.0f}%, max {max(other_cpu):.0f}%; "
              f"{noisy} of {len(other_cpu)} samples above 25% (marked !; not measured under 0.5 s)")
    print(f"targets: {sum(all_met)} of {len(all_met)} met")


def main(argv):
    cmd = argv[1]
    if cmd == "gen-dir":
        gen_dir(argv[2], int(argv[3]), int(argv[4]), int(argv[5]))
    elif cmd == "gen-big":
        gen_big(argv[2], int(argv[3]))
    elif cmd == "prefault":
        prefault(int(argv[2]))
    elif cmd == "report":
        labels = {}
        for kv in argv[3:]:
            k, v = kv.split("=", 1)
            labels[k] = v
        report(argv[2], labels)
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv)
