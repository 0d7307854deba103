#!/usr/bin/env python3
"""Helper for bench/remote.sh: generates the workloads, finds a free port, prefaults
memory and prints the report.

    remote_helper.py gen-dir <dir> <n_files> <file_kib> <n_folders>
    remote_helper.py gen-big <file> <mib>
    remote_helper.py free-port
    remote_helper.py prefault <mib>
    remote_helper.py s3s-fs-dir-marker <s3s-fs root> <bucket> <key>
    remote_helper.py report <results.tsv> <files> <big_label>

results.tsv has one line per timed run: rep, op, backend, tool, seconds, max_rss_kib, rc,
other_cpu_pct (CPU time used by other processes than the command and the S3 server while it
ran, % of all CPUs).
"""

import mmap
import os
import socket
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


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()


def prefault(mib):
    """Touches `mib` MiB of fresh memory, then frees it (see docs/benchmarks.md: on this VM
    the first write to a page handed back to the host costs a host fault, which would land
    in whichever tool writes the most right after)."""
    n = mib << 20
    m = mmap.mmap(-1, n)
    for off in range(0, n, 4096):
        m[off] = 1
    m.close()


def s3s_fs_dir_marker(root, bucket, key):
    """Makes s3s-fs answer HEAD <bucket>/<key> for a key that is a folder on its disk.

    s3s-fs 0.14.1 answers HEAD on such a key with 500 (it tries to hash the folder to make
    an ETag) where S3 answers 404. `dvc pull` first checks that the remote's `files/md5`
    exists (dvc_data.index.fetch: `data.fs.exists(data.path)`), gets the 500 four times and
    gives up. Writing the ETag s3s-fs keeps beside each object for this key makes the HEAD
    answer 200, as it would for a folder-marker object on S3, and nothing else changes.
    """
    import base64
    import json
    enc = lambda s: base64.urlsafe_b64encode(s.encode()).decode().rstrip("=")
    path = os.path.join(root, f".bucket-{enc(bucket)}.object-{enc(key)}.internal.json")
    with open(path, "w") as f:
        json.dump({"e_tag": '"d41d8cd98f00b204e9800998ecf8427e"'}, f)


# (op, label template, target ratio dvc/mlv)
OPS = [
    ("push_dir", "push {files} files x 8 KiB", 5.0),
    ("pull_dir", "pull {files} files x 8 KiB", 4.0),
    ("push_big", "push one {big} file", 1.5),
    ("pull_big", "pull one {big} file", 1.5),
]
BACKENDS = [("folder", "folder"), ("s3", "S3 (s3s-fs)")]
RSS_LIMIT_MB = 200.0
BUSY_PCT = 25


def report(path, files, big_label):
    runs = {}
    failed = []
    busy = []
    with open(path) as f:
        next(f)
        for line in f:
            f = line.rstrip("\n").split("\t")
            rep, op, backend, tool, secs, rss, rc = f[:7]
            other = int(f[7]) if len(f) > 7 and f[7] else 0
            runs.setdefault((op, backend, tool), []).append((float(secs), int(rss), int(rc), other))
            if other > BUSY_PCT:
                busy.append(f"r{rep} {op} {backend} {tool} ({other}%)")
            if rc != "0":
                failed.append(f"r{rep} {op} {backend} {tool} rc={rc}")

    def cell(op, backend, tool):
        r = runs.get((op, backend, tool), [])
        ok = [s for s, _, rc, _ in r if rc == 0]
        med = statistics.median(ok) if ok and len(ok) == len(r) else None
        rss = max((k for _, k, _, _ in r), default=0) / 1024
        return med, rss, [s for s, _, _, _ in r]

    print("| operation | remote | git-mlv (s) | dvc (s) | dvc/mlv | target | met | git-mlv peak RSS | dvc peak RSS |")
    print("|---|---|---:|---:|---:|---:|---|---:|---:|")
    verdicts = []
    for op, label, target in OPS:
        label = label.format(files=f"{files:,}", big=big_label)
        for backend, bname in BACKENDS:
            m, m_rss, m_all = cell(op, backend, "mlv")
            d, d_rss, d_all = cell(op, backend, "dvc")
            if not m_all and not d_all:
                continue
            ratio = d / m if m and d else None
            met = "—" if ratio is None else ("yes" if ratio >= target else "**no**")
            fmt = lambda x: "failed" if x is None else f"{x:.2f}"
            print(f"| {label} | {bname} | {fmt(m)} | {fmt(d)} | "
                  f"{'—' if ratio is None else f'{ratio:.2f}x'} | >= {target:g}x | {met} | "
                  f"{m_rss:.0f} MB | {d_rss:.0f} MB |")
            verdicts.append((f"{label}, {bname}: dvc/mlv >= {target:g}x", ratio is not None and ratio >= target,
                             "failed run" if ratio is None else f"{ratio:.2f}x ({d:.2f} s / {m:.2f} s)"))
            if op == "pull_big":
                verdicts.append((f"git-mlv peak RSS < {RSS_LIMIT_MB:.0f} MB while pulling the {big_label} file, {bname}",
                                 0 < m_rss < RSS_LIMIT_MB, f"{m_rss:.0f} MB"))
    print()
    print("Targets:")
    for what, ok, detail in verdicts:
        print(f"  {'MET   ' if ok else 'MISSED'}  {what}: {detail}")
    print()
    print(f"Every run (seconds; ! failed, * other processes used more than {BUSY_PCT}% of the CPUs meanwhile):")
    for (op, backend, tool), r in sorted(runs.items()):
        print(f"  {op:9} {backend:6} {tool:4} " + "  ".join(
            f"{s:7.2f}" + ("!" if rc else "*" if o > BUSY_PCT else " ") for s, _, rc, o in r))
    if busy:
        print()
        print(f"Runs during which other work used more than {BUSY_PCT}% of the CPUs: " + ", ".join(busy))
    if failed:
        print()
        print("FAILED runs (excluded; see the log): " + ", ".join(failed))


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    a = sys.argv[2:]
    if cmd == "gen-dir":
        gen_dir(a[0], int(a[1]), int(a[2]), int(a[3]))
    elif cmd == "gen-big":
        gen_big(a[0], int(a[1]))
    elif cmd == "free-port":
        free_port()
    elif cmd == "prefault":
        prefault(int(a[0]))
    elif cmd == "s3s-fs-dir-marker":
        s3s_fs_dir_marker(a[0], a[1], a[2])
    elif cmd == "report":
        report(a[0], int(a[1]), a[2])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
