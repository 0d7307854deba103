"""Installs the peers each scenario compares against, builds git-mlv and sets the
environment every timed command runs in."""

import os
import shutil
import subprocess

from .util import BenchError, output, run, say

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CARGO_BIN = os.path.join(os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo")), "bin")
# awscli pins botocore to one release and dvc-s3 (through aiobotocore) to another range, so
# awscli lives in a virtual environment of its own rather than beside dvc.
AWS_VENV = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")),
                        "git-mlv-bench", "awscli")

# What each tool needs: a check that it is there, and how to install it.
#   pip:  python3 -m pip install (with --break-system-packages where Debian's Python refuses)
#   apt:  apt-get install (apt-get update first when that fails)
#   cargo: cargo install, as scripts/install-test-servers.sh does for the tests
TOOLS = {
    "dvc": (lambda: shutil.which("dvc") and _imports("dvc_s3"), ("pip", "dvc[s3]")),
    "git-lfs": (lambda: shutil.which("git-lfs"), ("apt", "git-lfs")),
    "time": (lambda: os.access("/usr/bin/time", os.X_OK), ("apt", "time")),
    "rclone": (lambda: shutil.which("rclone"), ("apt", "rclone")),
    "aws": (lambda: os.access(os.path.join(AWS_VENV, "bin", "aws"), os.X_OK), ("venv", "awscli")),
    "s3s-fs": (lambda: shutil.which("s3s-fs"), ("cargo", "s3s-fs@0.14.1")),
}


def _imports(module):
    return subprocess.call(["python3", "-c", f"import {module}"], stderr=subprocess.DEVNULL) == 0


def _pip(*args):
    base = ["python3", "-m", "pip", "install", "-q", "--disable-pip-version-check", *args]
    if subprocess.call(base, stderr=subprocess.DEVNULL) != 0:
        run(base + ["--break-system-packages"])


def _apt(pkg):
    sudo = ["sudo"] if os.geteuid() != 0 and shutil.which("sudo") else []
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = sudo + ["apt-get", "install", "-y", "-q", pkg]
    if subprocess.call(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) != 0:
        run(sudo + ["apt-get", "update", "-q"])
        run(cmd, env=env)


def install(names, skip):
    """Makes sure every tool in `names` is there; installs the missing ones unless `skip`."""
    os.environ["PATH"] = CARGO_BIN + os.pathsep + os.environ["PATH"]
    for name in names:
        present, (how, pkg) = TOOLS[name]
        if present():
            continue
        if skip:
            raise BenchError(f"{name} is not installed (and --skip-install was given)")
        say(f"installing {pkg} ({how})")
        if how == "pip":
            _pip(pkg)
        elif how == "apt":
            _apt(pkg)
        elif how == "venv":
            run(["python3", "-m", "venv", AWS_VENV])
            run([os.path.join(AWS_VENV, "bin", "pip"), "install", "-q", "--disable-pip-version-check", pkg])
        elif how == "cargo":
            run(["cargo", "install", "-q", "--locked", pkg, "--features", "binary"])
        if not present():
            raise BenchError(f"{name} is still missing after installing {pkg}")


def aws():
    return os.path.join(AWS_VENV, "bin", "aws")


def build():
    """Builds git-mlv (release, honouring CARGO_TARGET_DIR) and puts it first on PATH."""
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
    if not os.path.isabs(target):
        target = os.path.join(ROOT, target)
    say(f"building git-mlv (release) into {target}")
    run(["cargo", "build", "--release", "-q"], cwd=ROOT,
        env=dict(os.environ, CARGO_TARGET_DIR=target))
    os.environ["PATH"] = os.path.join(target, "release") + os.pathsep + os.environ["PATH"]
    if subprocess.call(["git", "mlv", "--version"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL) != 0:
        raise BenchError(f"`git mlv` does not run from {target}/release")


def set_env():
    """The environment of every command: no progress bars, no analytics, fixed identity, no
    system git config; credentials only where a scenario passes them."""
    os.environ.update(
        MLV_NO_PROGRESS="1", NO_COLOR="1", DVC_NO_ANALYTICS="1", DVC_NO_UPDATER="1",
        GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.com",
        GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.com",
        GIT_CONFIG_NOSYSTEM="1")
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        os.environ.pop(k, None)


def versions(names):
    """One line per tool: its version."""
    lines = [f"git-mlv: {output(['git', 'mlv', '--version'])} (source: "
             f"{output(['git', '-C', ROOT, 'describe', '--always', '--dirty'])})",
             output(["git", "--version"])]
    probes = {
        "dvc": lambda: "dvc: " + output(["dvc", "--version"]).splitlines()[-1:][0]
        + ", dvc-s3 " + output(["python3", "-c", "import importlib.metadata as m; print(m.version('dvc-s3'))"]),
        "git-lfs": lambda: output(["git", "lfs", "version"]),
        "rclone": lambda: output(["rclone", "version"]).splitlines()[0],
        "aws": lambda: output([aws(), "--version"]),
        "s3s-fs": lambda: "s3s-fs " + output(["s3s-fs", "--version"]),
    }
    for n in names:
        if n in probes:
            try:
                lines.append(probes[n]())
            except IndexError:
                lines.append(f"{n}: unknown version")
    return lines


def git_repo(path, log):
    """A new git repository with automatic gc and maintenance off (a commit of many files
    would otherwise start one in the background) and one empty commit."""
    os.makedirs(path, exist_ok=True)
    run(["git", "init", "-q", "-b", "main"], cwd=path, log=log)
    run(["git", "config", "gc.auto", "0"], cwd=path, log=log)
    run(["git", "config", "maintenance.auto", "false"], cwd=path, log=log)
    run(["git", "commit", "-q", "--allow-empty", "-m", "init"], cwd=path, log=log)


def commit_all(path, msg, log):
    run(["git", "add", "-A"], cwd=path, log=log)
    run(["git", "commit", "-q", "-m", msg], cwd=path, log=log)
