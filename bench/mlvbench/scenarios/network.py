"""network (issue 15): many small files through a modelled network. s3s-fs on loopback sits
behind the latency proxy (--delay-ms each way: 10 ms is a 20 ms round trip), which also
counts the bytes each command moves. Timed on the same data through the same proxy:
push to an empty bucket, pull of everything into a fresh clone, and a partial pull of one
top folder holding a seventh of the files; git-mlv beside dvc (-j), rclone (--transfers),
`aws s3 cp --recursive` and `aws s3 sync` (awscli's default concurrency)."""

import os
import subprocess

from .. import data, servers, tools
from ..report import Row, fmt_s, median, name, samples
from ..tools import commit_all, git_repo, versions
from ..util import note, on_tmpfs, say
from ..util import run as sh

DEFAULTS = {"files": 200000, "file_kib": 4, "folders": 98, "repeat": 1, "settle": 2.0, "prefault_mb": 1024}
TOOLS = ["dvc", "s3s-fs", "rclone", "aws"]
GROUPS = 7  # the partial pull takes one of GROUPS top folders
PART = "g3"
RSS_MB = 300.0
PROXY_MAX_S = 12 * 3600


def _rclone_env(endpoint):
    # Debian's rclone 1.60 fails to start with "unable to load custom CA bundle" when
    # AWS_CA_BUNDLE is set; the endpoint is plain http, so it goes.
    env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}
    return dict(env, RCLONE_CONFIG_NET_TYPE="s3", RCLONE_CONFIG_NET_PROVIDER="Other",
                RCLONE_CONFIG_NET_ACCESS_KEY_ID=servers.KEY, RCLONE_CONFIG_NET_SECRET_ACCESS_KEY=servers.SECRET,
                RCLONE_CONFIG_NET_ENDPOINT=endpoint, RCLONE_CONFIG_NET_REGION="us-east-1",
                RCLONE_CONFIG_NET_FORCE_PATH_STYLE="true")


def _aws_env(bench):
    missing = os.path.join(bench.dir, "no-aws-config")
    return dict(os.environ, AWS_ACCESS_KEY_ID=servers.KEY, AWS_SECRET_ACCESS_KEY=servers.SECRET,
                AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE=missing, AWS_SHARED_CREDENTIALS_FILE=missing)


def run(bench, cfg, meta):
    peers = [p for p in cfg.peers.split() if p in ("dvc", "rclone", "awscp", "awssync")]
    tree = data.tree(cfg.dir, cfg.files, cfg.file_kib, cfg.folders, GROUPS)
    part_files, part_bytes = data.tree_bytes(os.path.join(tree, PART))
    meta["part"] = {"path": f"data/{PART}", "files": part_files, "bytes": part_bytes}
    buckets = 1 + len(peers)
    root = servers.s3_root(cfg, bench, buckets * cfg.files * (cfg.file_kib + 4) // 1024 + 512)
    srv = servers.Servers(bench, root, cfg.quickack)
    log, run_dir, reps, j = bench.log, bench.run_dir, range(1, cfg.repeat + 1), str(cfg.jobs)
    aws, aws_env = tools.aws(), _aws_env(bench)
    try:
        srv.start_s3()
        srv.start_proxy(cfg.delay_ms, PROXY_MAX_S)
        url = srv.endpoint
        rclone_env = _rclone_env(url)
        bench.machine(versions(["dvc", "s3s-fs", "rclone", "aws"]) + [srv.describe(), (
            f"network: latency proxy {servers.PROXY}, {cfg.delay_ms:g} ms each way "
            f"({2 * cfg.delay_ms:g} ms round trip), endpoint {url}"), (
            f"workload: {cfg.files} files x {cfg.file_kib} KiB in {cfg.folders} folders under {GROUPS} top folders; "
            f"partial pull: data/{PART} ({part_files} files, {part_bytes} bytes); peers: {' '.join(peers)}; "
            f"-j / --transfers {cfg.jobs}; {cfg.repeat} repetition(s)")])

        say(f"preparing source repositories, clones and empty buckets under {run_dir}")
        bucket = lambda r, tool: f"{tool}-r{r}"
        mlv_src, dvc_src = os.path.join(run_dir, "src-mlv"), os.path.join(run_dir, "src-dvc")
        git_repo(mlv_src, log)
        sh(["cp", "-r", tree, os.path.join(mlv_src, "data")], log=log)
        sh(["git", "mlv", "init"], cwd=mlv_src, log=log)
        sh(["git", "mlv", "add", "data"], cwd=mlv_src, log=log)
        for r in reps:
            sh(["git", "mlv", "remote", "add", f"n{r}", f"s3://{bucket(r, 'mlv')}/mlv", "--endpoint", url],
               cwd=mlv_src, log=log)
        commit_all(mlv_src, "track data", log)
        servers.set_credentials("mlv", mlv_src, [f"n{r}" for r in reps], log)
        if "dvc" in peers:
            git_repo(dvc_src, log)
            sh(["cp", "-r", tree, os.path.join(dvc_src, "data")], log=log)
            for c in (["dvc", "init", "-q"], ["dvc", "config", "core.analytics", "false"],
                      ["dvc", "config", "cache.type", "copy"], ["dvc", "add", "data"]):
                sh(c, cwd=dvc_src, log=log)
            for r in reps:
                sh(["dvc", "remote", "add", f"n{r}", f"s3://{bucket(r, 'dvc')}/dvc"], cwd=dvc_src, log=log)
                sh(["dvc", "remote", "modify", f"n{r}", "endpointurl", url], cwd=dvc_src, log=log)
            commit_all(dvc_src, "track data", log)
            servers.set_credentials("dvc", dvc_src, [f"n{r}" for r in reps], log)
        clone = lambda r, what: os.path.join(run_dir, f"r{r}", what)
        for r in reps:
            for tool in ["mlv", *peers]:
                os.makedirs(os.path.join(root, bucket(r, tool)), exist_ok=True)
            for what, src, tool in (("mlv-full", mlv_src, "mlv"), ("mlv-part", mlv_src, "mlv"),
                                    ("dvc-full", dvc_src, "dvc"), ("dvc-part", dvc_src, "dvc")):
                if tool == "mlv" or "dvc" in peers:
                    sh(["git", "clone", "-q", src, clone(r, what)], log=log)
                    servers.set_credentials(tool, clone(r, what), [f"n{r}" for r in reps], log)
        subprocess.call(["sync"])

        s3 = lambda r, tool, sub="": f"s3://{bucket(r, tool)}/data{sub}"
        rc_remote = lambda r, sub="": f"net:{bucket(r, 'rclone')}/data{sub}"
        for r in reps:
            bench.rep = r
            say(f"repetition {r} of {cfg.repeat}")
            push = {
                "mlv": (mlv_src, ["git", "mlv", "push", "-r", f"n{r}", "-j", j, "--json"], [f"{mlv_src}/.git/mlv/cache"], None),
                "dvc": (dvc_src, ["dvc", "push", "-r", f"n{r}", "-j", j], [f"{dvc_src}/.dvc/cache"], None),
                "rclone": (run_dir, ["rclone", "copy", "--transfers", j, tree, rc_remote(r)], [tree], rclone_env),
                "awscp": (run_dir, [aws, "s3", "cp", "--recursive", "--only-show-errors", tree, s3(r, "awscp"),
                                    "--endpoint-url", url], [tree], aws_env),
                "awssync": (run_dir, [aws, "s3", "sync", "--only-show-errors", tree, s3(r, "awssync"),
                                      "--endpoint-url", url], [tree], aws_env),
            }
            for tool in bench.rotated(["mlv", *peers]):
                cwd, cmd, inputs, env = push[tool]
                bench.timeit("push", tool, cwd, cmd, inputs=inputs, env=env)
            if "dvc" in peers:
                servers.dir_marker(root, bucket(r, "dvc"), "dvc/files/md5")
            down = lambda what: os.path.join(run_dir, f"r{r}", what)
            bucket_dir = lambda tool: [os.path.join(root, bucket(r, tool))]
            pull = {
                "mlv": (clone(r, "mlv-full"), ["git", "mlv", "pull", "-r", f"n{r}", "-j", j, "--json"], None),
                "dvc": (clone(r, "dvc-full"), ["dvc", "pull", "-r", f"n{r}", "-j", j], None),
                "rclone": (run_dir, ["rclone", "copy", "--transfers", j, "--s3-no-head-object", rc_remote(r),
                                     down("rclone-full")], rclone_env),
                "awscp": (run_dir, [aws, "s3", "cp", "--recursive", "--only-show-errors", s3(r, "awscp"),
                                    down("awscp-full"), "--endpoint-url", url], aws_env),
                "awssync": (run_dir, [aws, "s3", "sync", "--only-show-errors", s3(r, "awssync"),
                                      down("awssync-full"), "--endpoint-url", url], aws_env),
            }
            for tool in bench.rotated(["mlv", *peers]):
                cwd, cmd, env = pull[tool]
                bench.timeit("pull", tool, cwd, cmd, inputs=bucket_dir(tool), env=env)
            part = {
                "mlv": (clone(r, "mlv-part"), ["git", "mlv", "pull", "-r", f"n{r}", "-j", j, "--json", f"data/{PART}"], None),
                "dvc": (clone(r, "dvc-part"), ["dvc", "pull", "-r", f"n{r}", "-j", j, f"data/{PART}"], None),
                "rclone": (run_dir, ["rclone", "copy", "--transfers", j, "--s3-no-head-object", rc_remote(r, f"/{PART}"),
                                     down(f"rclone-part/{PART}")], rclone_env),
            }
            for tool in bench.rotated([t for t in ["mlv", *peers] if t in part]):
                cwd, cmd, env = part[tool]
                bench.timeit("pull_part", tool, cwd, cmd, inputs=bucket_dir(tool), env=env)
            _check(r, tree, peers, run_dir)
            if on_tmpfs(root):  # memory, not disk: free it for the next repetition at once
                for tool in ["mlv", *peers]:
                    bench.remove_tree(os.path.join(root, bucket(r, tool)))
    finally:
        srv.stop()
    if not cfg.keep:
        bench.remove_tree(root)


def _check(r, tree, peers, run_dir):
    """Every pulled tree must equal the source (the partial ones: their folder)."""
    want = [("mlv-full/data", ""), ("mlv-part/data/" + PART, PART)]
    want += [(f"{p}-full" + ("/data" if p == "dvc" else ""), "") for p in peers]
    want += [("dvc-part/data/" + PART, PART)] if "dvc" in peers else []
    want += [(f"rclone-part/{PART}", PART)] if "rclone" in peers else []
    bad = False
    for rel, sub in want:
        got = os.path.join(run_dir, f"r{r}", rel)
        if subprocess.call(["diff", "-rq", os.path.join(tree, sub), got], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL):
            note(f"warning: r{r} {got} differs from the source")
            bad = True
    if not bad:
        note("every pulled tree matches the source")


def rows(meta):
    c = meta["cfg"]
    peers = [p for p in c["peers"].split() if p in ("dvc", "rclone", "awscp", "awssync")]
    tools_ = ["mlv", *[p for p in ("rclone", "dvc", "awscp", "awssync") if p in peers]]
    n = f"{c['files']:,} files x {c['file_kib']} KiB, {2 * c['delay_ms']:g} ms RTT"
    pf = meta.get("part", {}).get("files", 0)
    return [
        Row("push", f"push {n}", tools_, ratios=[(p, "mlv") for p in tools_[1:]],
            targets=[t for t in (("rclone", "mlv", ">=", 10.0), ("dvc", "mlv", ">=", 20.0)) if t[0] in peers],
            rss_limit_mb=RSS_MB),
        Row("pull", f"pull into a fresh clone, {n}", tools_, ratios=[(p, "mlv") for p in tools_[1:]],
            targets=[("rclone", "mlv", ">=", 10.0)] if "rclone" in peers else [], rss_limit_mb=RSS_MB),
        Row("pull_part", f"pull one folder ({pf:,} files)", [t for t in tools_ if t in ("mlv", "dvc", "rclone")],
            ratios=[(p, "mlv") for p in ("rclone", "dvc") if p in peers], rss_limit_mb=RSS_MB),
    ]


def details(runs, meta):
    """Bytes through the proxy for every command."""
    print("\nBytes through the proxy (both directions, median MB):")
    for op in ("push", "pull", "pull_part"):
        cells = [f"{name(t)} {median(runs, op, t, key='bytes') / 1e6:.1f}" for t in
                 ("mlv", "rclone", "dvc", "awscp", "awssync") if samples(runs, op, t) and median(runs, op, t, key="bytes")]
        print(f"  {op:10s} " + ", ".join(cells))


def extra_checks(runs, meta):
    """The partial pull's bound: at most twice the bytes of the files it writes."""
    part = meta.get("part", {})
    moved = median(runs, "pull_part", "mlv", key="bytes")
    if not part.get("bytes") or moved is None:
        return [("partial pull moves <= 2x the bytes of the files it writes", False, "no measurement")]
    ratio = moved / part["bytes"]
    t = median(runs, "pull_part", "mlv")
    return [("partial pull moves <= 2x the bytes of the files it writes", ratio <= 2.0,
             f"{ratio:.2f}x ({moved / 1e6:.1f} MB moved for {part['files']:,} files of {part['bytes'] / 1e6:.1f} MB, "
             f"{fmt_s(t)} s)")]
