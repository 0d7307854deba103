"""Generated workloads (random bytes), kept under <root>/data and reused between runs. A
tree already generated in the shared folder (BENCH_SHARED_DATA, /work/bench-data/data) is
used from there, read-only: every scenario copies its trees and never writes into them."""

import os

from . import util

SHARED = os.environ.get("BENCH_SHARED_DATA", "/work/bench-data/data")


def _gen_tree(root, files, kib, folders, groups):
    size = kib * 1024
    for i in range(files):
        j = i % folders
        rel = f"d{j:03d}" if groups <= 1 else f"g{j % groups}/d{j:03d}"
        folder = os.path.join(root, rel)
        if i < folders:
            os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"f{i:06d}.bin"), "wb") as f:
            f.write(os.urandom(size))


def tree(root, files, kib, folders, groups=1):
    """A folder of `files` files of `kib` KiB spread over `folders` folders; with `groups` > 1
    the folders sit in `groups` top folders g0, g1, ... (folder j in g<j % groups>), so each
    top folder holds 1/groups of the files when `folders` is a multiple of `groups`."""
    name = f"tree-{files}x{kib}k-{folders}" + (f"-g{groups}" if groups > 1 else "")
    path = os.path.join(root, "data", name)
    shared = os.path.join(SHARED, name)
    if not os.path.exists(path + ".done") and os.path.exists(shared + ".done"):
        return shared
    if not os.path.exists(path + ".done"):
        util.say(f"generating {files} files of {kib} KiB in {folders} folders ({path})")
        util.rmtree(path)
        _gen_tree(path, files, kib, folders, groups)
        open(path + ".done", "w").close()
    return os.path.realpath(path)  # `cp -r` copies a symlink (to a shared tree) as a link


def big(root, mib):
    """One file of `mib` MiB."""
    path = os.path.join(root, "data", f"big-{mib}m.bin")
    if not os.path.exists(path + ".done"):
        util.say(f"generating one file of {mib} MiB ({path})")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        chunk, left = 8 << 20, mib << 20
        with open(path, "wb") as f:
            while left:
                n = min(chunk, left)
                f.write(os.urandom(n))
                left -= n
        open(path + ".done", "w").close()
    return path


def tree_bytes(path):
    """Files and bytes under `path`."""
    n = size = 0
    for d, _, names in os.walk(path):
        for name in names:
            n += 1
            size += os.lstat(os.path.join(d, name)).st_size
    return n, size
