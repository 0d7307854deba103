"""How every timed command is run: the rules the earlier scripts learned on this VM, written
once (docs/benchmarks.md, "The machine, and what it does to the numbers").

Before each timed command: `sync`; sleep `settle` seconds, and keep waiting while other
processes keep the CPUs busier than `idle_pct` (at most `idle_max` seconds); read the
command's inputs into the page cache (this VM evicts cold pages on its own, so otherwise one
tool reads from disk and the next from memory); touch and free `prefault_mb` of memory (the
first write to a page the host took back costs a host fault). Before the first timed
command of a run: wait until `delete_quiet` seconds have passed since the last large delete
on disk (ext4 without a journal skips recently freed inodes when it allocates new ones).
Time is wall-clock, beside the command's CPU time (user + sys, its children included) and
the servers'; peak memory is max RSS from `/usr/bin/time -f %M`.
"""

import json
import mmap
import os
import subprocess
import sys
import time

from .util import mem_available_mb, note, on_tmpfs, rmtree, say

HEADER = ["rep", "op", "variant", "tool", "seconds", "max_rss_kib", "rc", "other_cpu_pct", "bytes",
          "cpu_seconds", "server_cpu_seconds"]
TICK = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count() or 1


def _cpu():
    """(busy, total) jiffies of all CPUs so far; busy is everything but idle and iowait."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return v[0] + v[1] + v[2] + v[5] + v[6] + v[7], sum(v)


def _servers_jiffies(pids):
    """CPU jiffies used so far by the processes `pids` and all their descendants, the reaped
    ones included (a server's workers: nginx's, sshd's per-connection children)."""
    procs = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            # ppid; utime + stime + cutime + cstime
            procs[int(name)] = (int(fields[1]), sum(int(x) for x in fields[11:15]))
        except (OSError, IndexError, ValueError):
            continue
    kids = {}
    for pid, (ppid, _) in procs.items():
        kids.setdefault(ppid, []).append(pid)
    total, todo, seen = 0, [p for p in pids if p in procs], set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += procs[pid][1]
        todo.extend(kids.get(pid, []))
    return total


def prefault(mib):
    """Touches `mib` MiB of fresh memory, then frees it: on a VM whose free memory goes back
    to the host, pages touched last are at the head of the free lists and still backed, so
    the timed command measures the tool, not the hypervisor."""
    if mib <= 0:
        return
    n = mib << 20
    m = mmap.mmap(-1, n)
    for off in range(0, n, 4096):
        m[off] = 1
    m.close()


class Bench:
    """One scenario's run: its folder, log, results file and the timing rules."""

    def __init__(self, root, scenario, cfg):
        self.root = os.path.abspath(root)
        self.scenario = scenario
        self.cfg = cfg
        self.dir = os.path.join(self.root, scenario)
        self.run_dir = os.path.join(self.dir, "run")
        self.out_dir = os.path.join(self.dir, "out")
        self.log = os.path.join(self.dir, "log.txt")
        self.results = os.path.join(self.dir, "results.tsv")
        self.time_file = os.path.join(self.dir, "time.out")
        self.server_pids = []  # their CPU is part of what a run measures, not "other" work
        self.proxy_stats = None  # the latency proxy's --stats file, when there is one
        self.rep = 0
        self.timing_started = False
        avail = mem_available_mb()
        self.prefault_mb = min(cfg.prefault_mb, avail // 2)

    def start(self, meta):
        """Empties the scenario's folder of an earlier run and records the parameters."""
        os.makedirs(self.dir, exist_ok=True)
        if os.path.exists(self.run_dir):
            say("removing repositories left by an earlier run")
            self.remove_tree(self.run_dir)
        rmtree(self.out_dir)
        os.makedirs(self.run_dir)
        os.makedirs(self.out_dir)
        open(self.log, "w").close()
        with open(self.results, "w") as f:
            f.write("\t".join(HEADER) + "\n")
        with open(os.path.join(self.dir, "meta.json"), "w") as f:
            json.dump(meta, f, indent=1)

    def machine(self, lines):
        """Writes and prints the machine, versions and settings."""
        cpu = ""
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        fs = subprocess.run(["df", "-PT", self.dir], capture_output=True, text=True).stdout.splitlines()[-1].split()
        head = [f"machine: {NCPU} cores ({cpu}), {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') >> 30} GiB RAM, "
                f"{os.uname().sysname} {os.uname().release}",
                f"file system: {fs[1]} {fs[0]}"]
        c = self.cfg
        tail = [f"settings: settle {c.settle}s after sync, idle below {c.idle_pct}% CPU (at most {c.idle_max}s), "
                f"prefault {self.prefault_mb} MiB, timing starts {c.delete_quiet}s after the last large delete, "
                "inputs read into the page cache before each run"]
        text = "\n".join(head + lines + tail)
        with open(os.path.join(self.dir, "machine.txt"), "w") as f:
            f.write(text + "\n")
        print(text, file=sys.stderr, flush=True)

    # ------------------------------------------------------------------ deletes
    def _last_delete_file(self):
        return os.path.join(self.root, "last-delete")

    def remove_tree(self, *paths):
        """Removes `paths`; a removal on disk (not tmpfs) is remembered across runs so that
        timing starts only once ext4 has stopped skipping the freed inodes."""
        on_disk = any(os.path.exists(p) and not on_tmpfs(p) for p in paths)
        for p in paths:
            rmtree(p)
        if on_disk:
            with open(self._last_delete_file(), "w") as f:
                f.write(str(int(time.time())))

    def _wait_delete_quiet(self):
        try:
            with open(self._last_delete_file()) as f:
                last = int(f.read().strip() or 0)
        except (OSError, ValueError):
            return
        left = last + self.cfg.delete_quiet - int(time.time())
        if left > 0:
            say(f"waiting {left}s: files were deleted {self.cfg.delete_quiet - left}s ago (--delete-quiet)")
            time.sleep(left)

    # ------------------------------------------------------------------ settle
    def idle_wait(self):
        """Sleeps `settle` seconds, then longer while other processes keep the CPUs busy."""
        waited = 0.0
        while True:
            b0, t0 = _cpu()
            time.sleep(self.cfg.settle)
            b1, t1 = _cpu()
            pct = 100 * (b1 - b0) / (t1 - t0) if t1 > t0 else 0
            if pct < self.cfg.idle_pct:
                return
            if waited >= self.cfg.idle_max:
                note(f"note: CPUs still {pct:.0f}% busy with other work after {waited:.0f}s; timing anyway")
                return
            if waited == 0:
                note(f"waiting for the CPUs to go idle ({pct:.0f}% busy with other work)")
            time.sleep(3)
            waited += 3 + self.cfg.settle

    def settle(self, inputs):
        subprocess.call(["sync"])
        self.idle_wait()
        for d in inputs:
            if os.path.exists(d):
                subprocess.run(f"find '{d}' -type f -print0 | xargs -0 -r cat >/dev/null 2>&1", shell=True)
        prefault(self.prefault_mb)

    def _proxy_bytes(self):
        if not self.proxy_stats:
            return None
        time.sleep(0.5)  # the proxy rewrites its stats file every 0.2 s
        try:
            with open(self.proxy_stats) as f:
                s = json.load(f)
            return s["up"] + s["down"]
        except (OSError, ValueError, KeyError):
            return None

    # ------------------------------------------------------------------ timing
    def timeit(self, op, tool, cwd, cmd, inputs=(), variant="", env=None):
        """Runs `cmd` in `cwd` after settling, records one line of results and returns its
        exit code. Its stdout is kept in out/r<rep>-<op>-<variant>-<tool>.out."""
        if not self.timing_started:
            self._wait_delete_quiet()
            self.timing_started = True
        self.settle(inputs)
        out_path = os.path.join(self.out_dir, f"r{self.rep}-{op}-{variant or '-'}-{tool}.out")
        with open(self.log, "a") as log:
            log.write(f"== r{self.rep} {op} {variant} {tool} ({cwd}): {' '.join(cmd)}\n")
        bytes0 = self._proxy_bytes()
        b0, _ = _cpu()
        s0 = _servers_jiffies(self.server_pids)
        t0 = time.perf_counter()
        with open(out_path, "w") as out, open(self.log, "a") as log:
            rc = subprocess.call(["/usr/bin/time", "-o", self.time_file, "-f", "%M %U %S", *cmd],
                                 cwd=cwd, stdout=out, stderr=log, env=env)
        secs = time.perf_counter() - t0
        b1, _ = _cpu()
        s1 = _servers_jiffies(self.server_pids)
        bytes1 = self._proxy_bytes()
        with open(out_path) as o, open(self.log, "a") as log:
            log.write(o.read())
        rss, own = 0, 0.0
        try:
            with open(self.time_file) as f:
                parts = f.read().split("\n")[-2].split()
            rss, own = int(parts[0]), float(parts[1]) + float(parts[2])
        except (OSError, IndexError, ValueError):
            pass
        # CPU time used by anything but the command and the servers, as a share of all CPUs
        # while it ran (kernel write-back of its own writes counts too). Empty under half a
        # second, where the clock tick makes it meaningless.
        other = ""
        if secs >= 0.5:
            o = ((b1 - b0 - (s1 - s0)) / TICK - own) / (secs * NCPU) * 100
            other = str(max(0, round(o)))
        moved = "" if bytes0 is None or bytes1 is None else str(bytes1 - bytes0)
        server_cpu = f"{(s1 - s0) / TICK:.2f}" if self.server_pids else ""
        row = [self.rep, op, variant, tool, f"{secs:.4f}", rss, rc, other, moved, f"{own:.2f}", server_cpu]
        with open(self.results, "a") as f:
            f.write("\t".join(str(x) for x in row) + "\n")
        extra = f"  {int(moved) / 1e6:.1f} MB through the proxy" if moved else ""
        fail = "" if rc == 0 else f"  FAILED rc={rc}, see {self.log}"
        note(f"r{self.rep} {op:13s} {variant:6s} {tool:9s} {secs:9.3f} s (CPU {own:.2f} s) {rss / 1024:8.1f} MB"
             f"  other CPU {other + '%' if other else '':>4}{extra}{fail}")
        return rc

    def rotated(self, tools, first=1):
        """`tools` in an order rotated from one repetition to the next."""
        k = (self.rep - first) % len(tools)
        return list(tools[k:]) + list(tools[:k])
