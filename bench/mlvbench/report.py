"""Medians, ratios and targets from a results file, printed as a Markdown table."""

import statistics
from dataclasses import dataclass, field

TOOL_NAMES = {
    "mlv": "git-mlv", "dvc": "dvc", "lfs": "git-lfs", "git": "git", "cp": "cp",
    "rclone": "rclone", "awscp": "aws s3 cp", "awssync": "aws s3 sync", "cpo": "cp of the object",
}
BUSY_PCT = 25


@dataclass
class Row:
    """One line of the table: an operation (and variant, e.g. the remote), the tools timed
    on it (git-mlv first), the ratios shown and the targets checked. A ratio (a, b) is
    time(a) / time(b); a target is (a, b, "<=" or ">=", bound) on that ratio."""
    op: str
    label: str
    tools: list
    variant: str = ""
    ratios: list = field(default_factory=list)
    targets: list = field(default_factory=list)
    rss_limit_mb: float = 0.0  # git-mlv's peak RSS must stay under this (0: not checked)


def load(path):
    runs = []
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            r = dict(zip(header, line.rstrip("\n").split("\t")))
            if int(r["rep"]) <= 0:
                continue  # warm-up repetition
            runs.append({
                "rep": int(r["rep"]), "op": r["op"], "variant": r.get("variant", ""), "tool": r["tool"],
                "secs": float(r["seconds"]), "rss": int(r["max_rss_kib"] or 0), "rc": int(r["rc"]),
                "other": int(r["other_cpu_pct"]) if r.get("other_cpu_pct") else None,
                "bytes": int(r["bytes"]) if r.get("bytes") else None,
                "cpu": float(r["cpu_seconds"]) if r.get("cpu_seconds") else None,
                "server_cpu": float(r["server_cpu_seconds"]) if r.get("server_cpu_seconds") else None,
            })
    return runs


def samples(runs, op, tool, variant=""):
    return [r for r in runs if r["op"] == op and r["tool"] == tool and r["variant"] == variant]


def median(runs, op, tool, variant="", key="secs"):
    ok = [r[key] for r in samples(runs, op, tool, variant) if r["rc"] == 0 and r[key] is not None]
    return statistics.median(ok) if ok else None


def fmt_s(v):
    if v is None:
        return "n/a"
    return f"{v:.3f}" if v < 10 else f"{v:.1f}"


def name(t):
    return TOOL_NAMES.get(t, t)


def report(runs, rows, extra_checks=()):
    """Prints the table, the targets, every run, and how busy the machine was; returns
    (met, total). `extra_checks` are (what, ok, detail) lines added to the targets."""
    out = ["| operation | git-mlv s | others s | ratios | git-mlv peak RSS MB | targets |",
           "|---|---:|---|---|---:|---|"]
    verdicts = []
    for row in rows:
        med = {t: median(runs, row.op, t, row.variant) for t in row.tools}
        every = {t: samples(runs, row.op, t, row.variant) for t in row.tools}
        if not any(every.values()):
            continue
        label = row.label + (f" ({row.variant})" if row.variant else "")
        others = ", ".join(f"{name(t)} {fmt_s(med[t])}" for t in row.tools[1:])
        rtxt = [f"{a}/{b} = {med[a] / med[b]:.2f}x" for a, b in row.ratios if med.get(a) and med.get(b)]
        ttxt = []
        for a, b, cmp, bound in row.targets:
            what = f"{label}: {name(a)}/{name(b)} {cmp} {bound:g}x"
            if med.get(a) and med.get(b):
                r = med[a] / med[b]
                ok = r >= bound if cmp == ">=" else r <= bound
                ttxt.append(f"{a}/{b} {cmp} {bound:g}: {'MET' if ok else 'MISSED'}")
                verdicts.append((what, ok, f"{r:.2f}x ({fmt_s(med[a])} s / {fmt_s(med[b])} s)"))
            else:
                ttxt.append(f"{a}/{b} {cmp} {bound:g}: n/a")
                verdicts.append((what, False, "a run failed or is missing"))
        mlv = every.get("mlv") or []
        rss = max((r["rss"] for r in mlv), default=0) / 1024
        if row.rss_limit_mb and mlv:
            ok = rss < row.rss_limit_mb
            ttxt.append(f"RSS < {row.rss_limit_mb:g} MB: {'MET' if ok else 'MISSED'}")
            verdicts.append((f"{label}: git-mlv peak RSS < {row.rss_limit_mb:g} MB", ok, f"{rss:.1f} MB"))
        failed = [f"{name(t)} x{n}" for t, s in every.items() if (n := sum(r["rc"] != 0 for r in s))]
        if failed:
            ttxt.append("FAILED runs: " + ", ".join(failed))
        out.append(f"| {label} | {fmt_s(med.get('mlv'))} | {others} | {'; '.join(rtxt)} | "
                   f"{f'{rss:.1f}' if mlv else 'n/a'} | {'; '.join(ttxt)} |")
    print("\n".join(out))
    verdicts.extend(extra_checks)
    if verdicts:
        print("\nTargets:")
        for what, ok, detail in verdicts:
            print(f"  {'MET   ' if ok else 'MISSED'}  {what}: {detail}")
    print(f"\nEvery run (seconds; * failed, ! other processes used more than {BUSY_PCT}% of the CPUs"
          " meanwhile; peak RSS MB in brackets):")
    for row in rows:
        for t in row.tools:
            s = samples(runs, row.op, t, row.variant)
            if s:
                vals = "  ".join(f"{r['secs']:.3f}{'*' if r['rc'] else ''}"
                                 f"{'!' if (r['other'] or 0) > BUSY_PCT else ''} ({r['rss'] / 1024:.0f})" for r in s)
                print(f"  {row.op:14s} {row.variant:6s} {name(t):11s} {vals}")
    other = [r["other"] for r in runs if r["other"] is not None]
    if other:
        noisy = sum(v > BUSY_PCT for v in other)
        print(f"\nCPU used by other processes while the commands ran (% of all CPUs): median "
              f"{statistics.median(other):.0f}%, max {max(other)}%; {noisy} of {len(other)} runs above "
              f"{BUSY_PCT}% (not measured under 0.5 s)")
    met = sum(ok for _, ok, _ in verdicts)
    print(f"targets: {met} of {len(verdicts)} met")
    return met, len(verdicts)
