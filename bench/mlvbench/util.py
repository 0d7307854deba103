"""Small helpers every module uses: messages, quiet commands, removal."""

import os
import shutil
import subprocess
import sys


class BenchError(Exception):
    """The benchmark cannot run (a tool is missing, the build or a preparation step failed)."""


def say(msg):
    print(f"== {msg}", file=sys.stderr, flush=True)


def note(msg):
    print(f"  {msg}", file=sys.stderr, flush=True)


def run(cmd, cwd=None, log=None, env=None, check=True):
    """Runs `cmd` (a list), its output appended to the file `log` (or discarded)."""
    out = open(log, "a") if log else subprocess.DEVNULL
    try:
        rc = subprocess.call(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env)
    finally:
        if log:
            out.close()
    if check and rc != 0:
        raise BenchError(f"`{' '.join(cmd)}` failed with {rc} in {cwd or os.getcwd()}"
                         + (f" (see {log})" if log else ""))
    return rc


def output(cmd, cwd=None):
    """A command's stdout, stripped; empty when it fails or is missing."""
    try:
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


def rmtree(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        os.remove(path)


def on_tmpfs(path):
    return output(["stat", "-f", "-c", "%T", path]) == "tmpfs"


def free_mb(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize >> 20


def mem_available_mb():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) >> 10
    return 0
