#!/usr/bin/env bash
# Benchmark `git mlv push` / `git mlv pull` beside `dvc push` / `dvc pull` (same -j) on two
# workloads, to a local folder remote and to a loopback S3 server (s3s-fs).
#
#   bash bench/remote.sh
#
# Environment (defaults in brackets):
#   BENCH_DIR          work dir [/tmp/mlv-bench-remote]; generated data is kept there for reuse
#   BENCH_FILES        files in the directory workload [20000]
#   BENCH_FILE_KIB     size of each of those files in KiB [8]
#   BENCH_FOLDERS      folders they are spread over [100]
#   BENCH_BIG_MB       size of the big file in MiB [1024]
#   BENCH_REPEAT       repetitions; medians are reported [3]
#   BENCH_JOBS         -j for both tools [32]
#   BENCH_WORKLOADS    which workloads ["dir big"]
#   BENCH_BACKENDS     which remotes ["folder s3"]
#   BENCH_SETTLE       seconds to sleep after `sync` before each timed command [2]
#   BENCH_IDLE_PCT     before each timed command, wait while other processes keep the CPUs
#                      busier than this percentage [25] ...
#   BENCH_IDLE_MAX     ... for at most this many seconds [600]
#   BENCH_WAIT_FOR     before the first timed command, wait while a process whose command
#                      line contains this string runs [bench/compare.sh]; empty: don't ...
#   BENCH_WAIT_MAX     ... for at most this many seconds [1500]
#   BENCH_PREFAULT_MB  MiB of memory touched and freed right before each timed command
#                      [2*BENCH_BIG_MB+512]; 0 turns it off (see docs/benchmarks-remote.md)
#   BENCH_QUICKACK     1: loopback routes get `quickack 1` while the benchmark runs (needs
#                      root and `ip`), so s3s-fs's missing TCP_NODELAY does not add a 40 ms
#                      delayed ACK to every GET; 0: leave them [1] (docs/benchmarks-remote.md)
#   BENCH_S3_DIR       the S3 server's disk [/dev/shm/mlv-bench-s3 when /dev/shm is a tmpfs
#                      with room, else $BENCH_DIR/run/s3]: memory, because a real S3 keeps
#                      its disks elsewhere (docs/benchmarks-remote.md)
#   BENCH_DELETE_QUIET seconds that must pass between this script's last large delete (its own,
#                      or the previous run's clean-up) and the first timed command [330]: ext4
#                      without a journal skips inodes freed in the last 5 minutes when it
#                      allocates new ones, which slows file creation for both tools
#   BENCH_KEEP=1       keep repositories, clones and remotes at the end (default: removed)
#   BENCH_SKIP_INSTALL=1  do not install dvc[s3] / time / s3s-fs
#   CARGO_TARGET_DIR   where `cargo build --release` puts git-mlv [<repo>/target]
#
# Every repository, clone and remote is prepared before anything is timed; each repetition
# pushes to empty remotes of its own (a new folder, a new S3 bucket) and pulls into fresh
# clones with empty caches; git-mlv and dvc alternate which goes first. Nothing is deleted
# until the end. It reports and does not gate: exit 0 even when targets are missed (exit 1
# only when it cannot run at all).

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/mlv-bench-remote}
FILES=${BENCH_FILES:-20000}
FILE_KIB=${BENCH_FILE_KIB:-8}
FOLDERS=${BENCH_FOLDERS:-100}
BIG_MB=${BENCH_BIG_MB:-1024}
REPEAT=${BENCH_REPEAT:-3}
JOBS=${BENCH_JOBS:-32}
WORKLOADS=${BENCH_WORKLOADS:-dir big}
BACKENDS=${BENCH_BACKENDS:-folder s3}
SETTLE=${BENCH_SETTLE:-2}
IDLE_PCT=${BENCH_IDLE_PCT:-25}
IDLE_MAX=${BENCH_IDLE_MAX:-600}
WAIT_FOR=${BENCH_WAIT_FOR-bench/compare.sh}
WAIT_MAX=${BENCH_WAIT_MAX:-1500}
PREFAULT_MB=${BENCH_PREFAULT_MB:-$(( 2 * BIG_MB + 512 ))}
QUICKACK=${BENCH_QUICKACK:-1}
DELETE_QUIET=${BENCH_DELETE_QUIET:-330}
HELPER="$HERE/remote_helper.py"
KEY=mlvbenchkey
SECRET=mlvbenchsecret

die() { echo "remote.sh: $*" >&2; exit 1; }
say() { echo "== $*" >&2; }
# Large deletes are remembered (across runs, in $BENCH_DIR) so timing starts only once the
# file system has stopped skipping the freed inodes; see BENCH_DELETE_QUIET.
remove_tree() {
    local p big=
    for p; do [ -e "$p" ] && [ "$(stat -f -c %T "$p")" != tmpfs ] && big=1; done
    rm -rf "$@"
    if [ -n "$big" ]; then date +%s >"$BENCH_DIR/last-delete"; fi
}

# ---------------------------------------------------------------- 1. tools
SUDO=
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO=sudo; fi
export PATH="$HOME/.cargo/bin:$PATH"

if [ "${BENCH_SKIP_INSTALL:-0}" != 1 ]; then
    if ! command -v dvc >/dev/null || ! python3 -c 'import dvc_s3' 2>/dev/null; then
        say "installing dvc[s3] (pip)"
        python3 -m pip install -q 'dvc[s3]' || die "pip install 'dvc[s3]' failed"
        hash -r
    fi
    if [ ! -x /usr/bin/time ]; then
        say "installing time (apt)"
        $SUDO apt-get install -y -q time >/dev/null 2>&1 ||
            { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q time >/dev/null; } ||
            die "apt-get install time failed"
    fi
    if ! command -v s3s-fs >/dev/null; then
        say "installing s3s-fs 0.14.1 (cargo)"
        cargo install -q --locked s3s-fs@0.14.1 --features binary || die "cargo install s3s-fs failed"
    fi
fi
command -v dvc >/dev/null || die "dvc not found"
command -v s3s-fs >/dev/null || die "s3s-fs not found"
[ -x /usr/bin/time ] || die "/usr/bin/time not found (apt-get install time)"

TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac
say "building git-mlv (release) into $TARGET_DIR"
(cd "$ROOT" && CARGO_TARGET_DIR="$TARGET_DIR" cargo build --release -q) || die "cargo build --release failed"
export PATH="$TARGET_DIR/release:$PATH"
git mlv --version >/dev/null 2>&1 || die "\`git mlv\` does not run from $TARGET_DIR/release"

export MLV_NO_PROGRESS=1 NO_COLOR=1
export DVC_NO_ANALYTICS=1 DVC_NO_UPDATER=1
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
export GIT_CONFIG_NOSYSTEM=1
# Credentials come from each repository's local config, never from the environment.
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE

# ---------------------------------------------------------------- 2. workloads
mkdir -p "$BENCH_DIR" || die "cannot create $BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
SRC="$BENCH_DIR/src"
RUN="$BENCH_DIR/run"
LOG="$BENCH_DIR/log.txt"
RES="$BENCH_DIR/results.tsv"
TF="$BENCH_DIR/time.out"
S3ROOT=${BENCH_S3_DIR:-}
if [ -n "$S3ROOT" ] && [ -n "$(ls -A "$S3ROOT" 2>/dev/null)" ]; then
    die "BENCH_S3_DIR=$S3ROOT is not empty (it is removed at the end)"
fi

if [ -e "$RUN" ]; then
    say "removing repositories left by an earlier run"
    remove_tree "$RUN"
fi
: >"$LOG"

has() { case " $1 " in *" $2 "*) return 0 ;; esac; return 1; }

PARAMS="files=$FILES kib=$FILE_KIB folders=$FOLDERS"
if has "$WORKLOADS" dir && [ "$(cat "$SRC/data.params" 2>/dev/null)" != "$PARAMS" ]; then
    say "generating $FILES files of $FILE_KIB KiB in $FOLDERS folders"
    rm -rf "$SRC/data" "$SRC/data.params"
    mkdir -p "$SRC/data"
    python3 "$HELPER" gen-dir "$SRC/data" "$FILES" "$FILE_KIB" "$FOLDERS" || die "generating data failed"
    echo "$PARAMS" >"$SRC/data.params"
fi
if has "$WORKLOADS" big && [ "$(cat "$SRC/big.params" 2>/dev/null)" != "$BIG_MB" ]; then
    say "generating one file of $BIG_MB MiB"
    mkdir -p "$SRC"
    rm -f "$SRC/big.bin" "$SRC/big.params"
    python3 "$HELPER" gen-big "$SRC/big.bin" "$BIG_MB" || die "generating big file failed"
    echo "$BIG_MB" >"$SRC/big.params"
fi

# The S3 server's objects go to memory when there is room for every repetition's buckets
# (one dir and one big workload per tool), so its file creation does not compete with the
# clients' on this disk (see docs/benchmarks-remote.md).
if [ -z "$S3ROOT" ]; then
    S3ROOT="$RUN/s3"
    s3_need_mb=$(( REPEAT * 2 * (FILES * (FILE_KIB + 4) / 1024 + BIG_MB) + 1024 ))
    if [ "$(df -Pm /dev/shm 2>/dev/null | awk 'NR==2 {print $4}')" -gt "$s3_need_mb" ] 2>/dev/null &&
        [ "$(awk '/^MemAvailable:/ {print int($2 / 2048)}' /proc/meminfo)" -gt "$s3_need_mb" ] &&
        [ "$(df -PT /dev/shm | awk 'NR==2 {print $2}')" = tmpfs ]; then
        S3ROOT=/dev/shm/mlv-bench-s3
    fi
    remove_tree "$S3ROOT"
fi

# Rough space check: 2 source repos per workload (2 copies each), and per repetition and
# backend 2 remotes (1 copy) and 2 clones (cache + work tree).
nb=$(echo $BACKENDS | wc -w)
dir_mb=$(( FILES * (FILE_KIB + 4) / 1024 ))
wl_mb=0
has "$WORKLOADS" dir && wl_mb=$(( wl_mb + dir_mb ))
has "$WORKLOADS" big && wl_mb=$(( wl_mb + BIG_MB ))
need_mb=$(( 4 * wl_mb + REPEAT * nb * 6 * wl_mb ))
avail_mb=$(df -Pm "$BENCH_DIR" | awk 'NR==2 {print $4}')
# A tool that runs out of space mid-run fails its cell (seen: dvc's third 1 GiB S3 pull with
# BENCH_REPEAT=3 on 39 GB free), so a run that cannot fit does not start.
if [ "$avail_mb" -lt "$need_mb" ]; then
    die "about $need_mb MB needed under $BENCH_DIR, $avail_mb MB free: free some space or lower BENCH_REPEAT"
fi

avail_mem_mb=$(awk '/^MemAvailable:/ {print int($2 / 1024)}' /proc/meminfo)
if [ "$PREFAULT_MB" -gt $(( avail_mem_mb / 2 )) ]; then
    PREFAULT_MB=$(( avail_mem_mb / 2 ))
fi

# ---------------------------------------------------------------- 3. S3 server
# s3s-fs does not set TCP_NODELAY, so the body of each GET response waits behind its
# headers for the client's delayed ACK (40 ms). Real S3 servers set it. `quickack` on the
# loopback routes makes every client here (git-mlv and dvc alike) ACK at once, which takes
# that artifact out of the S3 rows; the routes are put back on exit.
LOOPBACK_ROUTES=()
quickack_on() {
    [ "$QUICKACK" = 1 ] || return 0
    if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null; then
        echo "warning: BENCH_QUICKACK=1 needs root and ip; S3 GETs keep s3s-fs's 40 ms delayed ACK" >&2
        QUICKACK=unavailable
        return 0
    fi
    local r
    while IFS= read -r r; do
        # shellcheck disable=SC2086 # a route is a list of words
        ip route change $r table local quickack 1 && LOOPBACK_ROUTES+=("$r")
    done < <(ip route show table local | grep -E '^local 127\.' | grep -v quickack)
    [ ${#LOOPBACK_ROUTES[@]} -gt 0 ] || QUICKACK=unavailable
}
quickack_off() {
    local r
    for r in "${LOOPBACK_ROUTES[@]}"; do
        # shellcheck disable=SC2086
        ip route change $r table local
    done
    LOOPBACK_ROUTES=()
}
mkdir -p "$S3ROOT" || die "cannot create $S3ROOT"
PORT=$(python3 "$HELPER" free-port) || die "no free port"
S3_LOG="$BENCH_DIR/s3s-fs.log"
S3_PID=
if has "$BACKENDS" s3; then
    say "starting s3s-fs on 127.0.0.1:$PORT"
    s3s-fs --host 127.0.0.1 --port "$PORT" --access-key "$KEY" --secret-key "$SECRET" "$S3ROOT" >"$S3_LOG" 2>&1 &
    S3_PID=$!
    trap '[ -n "$S3_PID" ] && kill "$S3_PID" 2>/dev/null; quickack_off' EXIT
    quickack_on
    for _ in $(seq 1 50); do
        (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
        sleep 0.1
    done
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || die "s3s-fs did not start (see $S3_LOG)"
fi
ENDPOINT="http://127.0.0.1:$PORT"

# ---------------------------------------------------------------- machine and versions
{
    echo "machine: $(nproc) cores ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), $(free -g | awk '/^Mem:/ {print $2}') GiB RAM, $(uname -sr)"
    echo "file system: $(df -PT "$BENCH_DIR" | awk 'NR==2 {print $2, $1}')"
    echo "git-mlv: $(git mlv --version 2>&1) (source: $(git -C "$ROOT" describe --always --dirty 2>/dev/null))"
    echo "dvc: $(dvc --version 2>&1 | tail -n1), dvc-s3 $(python3 -c 'import importlib.metadata as m; print(m.version("dvc-s3"))' 2>/dev/null)"
    echo "s3s-fs: $(s3s-fs --version 2>&1), on 127.0.0.1 (same machine), disk $(df -PT "$S3ROOT" | awk 'NR==2 {print $2}'); loopback quickack: $([ ${#LOOPBACK_ROUTES[@]} -gt 0 ] && echo on || echo off)"
    echo "workload: $WORKLOADS; $FILES files x $FILE_KIB KiB in $FOLDERS folders; one file of $BIG_MB MiB; remotes: $BACKENDS; -j $JOBS; $REPEAT repetition(s)"
    echo "settings: timing starts ${DELETE_QUIET}s after the last large delete, settle ${SETTLE}s after sync, idle below ${IDLE_PCT}% CPU, prefault ${PREFAULT_MB} MiB, inputs read into the page cache before each run"
} | tee "$BENCH_DIR/machine.txt" >&2

# ---------------------------------------------------------------- 4. prepare everything first
q() { "$@" >>"$LOG" 2>&1; }
git_repo() {
    mkdir -p "$1" && (cd "$1" && q git init -q && git config gc.auto 0 &&
        git config maintenance.auto false && q git commit -q --allow-empty -m init)
}
# payload of a workload: data (dir) or big.bin (big)
payload() { if [ "$1" = dir ]; then echo data; else echo big.bin; fi; }
remote_name() { echo "${1:0:1}$2"; }                      # backend rep -> f1 / s1
folder_remote() { echo "$RUN/remotes/r$1-$2-$3"; }        # rep tool wl
bucket() { echo "r$1-$2-$3"; }                            # rep tool wl

prepare_src() { # tool wl
    local tool=$1 wl=$2 dir="$RUN/src-$1-$2" p
    p=$(payload "$wl")
    git_repo "$dir" || return 1
    if [ "$wl" = dir ]; then cp -r "$SRC/data" "$dir/data"; else cp "$SRC/big.bin" "$dir/big.bin"; fi || return 1
    (
        cd "$dir" || exit 1
        if [ "$tool" = mlv ]; then
            q git mlv init && q git mlv add "$p" || exit 1
            for rep in $(seq 1 "$REPEAT"); do
                q git mlv remote add "f$rep" "$(folder_remote "$rep" mlv "$wl")" || exit 1
                q git mlv remote add "s$rep" "s3://$(bucket "$rep" mlv "$wl")/mlv" --endpoint "$ENDPOINT" || exit 1
            done
        else
            q dvc init -q && q dvc config core.analytics false && q dvc config cache.type copy &&
                q dvc add "$p" || exit 1
            for rep in $(seq 1 "$REPEAT"); do
                q dvc remote add "f$rep" "$(folder_remote "$rep" dvc "$wl")" &&
                    q dvc remote add "s$rep" "s3://$(bucket "$rep" dvc "$wl")/dvc" &&
                    q dvc remote modify "s$rep" endpointurl "$ENDPOINT" || exit 1
            done
        fi
        q git add -A && q git commit -q -m "track $p"
    ) || return 1
    set_credentials "$tool" "$dir"
}

set_credentials() { # tool dir: secrets go to the repository's local (git-ignored) config
    local tool=$1 dir=$2
    (
        cd "$dir" || exit 1
        for rep in $(seq 1 "$REPEAT"); do
            if [ "$tool" = mlv ]; then
                q git mlv remote set "s$rep" access_key_id "$KEY" &&
                    q git mlv remote set "s$rep" secret_access_key "$SECRET" || exit 1
            else
                q dvc remote modify --local "s$rep" access_key_id "$KEY" &&
                    q dvc remote modify --local "s$rep" secret_access_key "$SECRET" || exit 1
            fi
        done
    )
}

clone_dir() { echo "$RUN/r$1/$2-$3-$4"; }                # rep backend tool wl

say "preparing source repositories, $REPEAT repetition(s) of clones, and empty remotes under $RUN"
for wl in $WORKLOADS; do
    for tool in mlv dvc; do
        prepare_src "$tool" "$wl" || die "preparing $RUN/src-$tool-$wl failed (see $LOG)"
    done
done
for rep in $(seq 1 "$REPEAT"); do
    for wl in $WORKLOADS; do
        for tool in mlv dvc; do
            mkdir -p "$S3ROOT/$(bucket "$rep" "$tool" "$wl")" "$(dirname "$(folder_remote "$rep" "$tool" "$wl")")"
            for backend in $BACKENDS; do
                c=$(clone_dir "$rep" "$backend" "$tool" "$wl")
                mkdir -p "$(dirname "$c")" && q git clone -q "$RUN/src-$tool-$wl" "$c" &&
                    set_credentials "$tool" "$c" || die "preparing clone $c failed (see $LOG)"
            done
        done
    done
done
rm -rf "$BENCH_DIR/out" && mkdir -p "$BENCH_DIR/out"
sync
sleep 5

# ---------------------------------------------------------------- 5. timing
if [ -n "$WAIT_FOR" ] && pgrep -f "$WAIT_FOR" >/dev/null; then
    say "waiting for \`$WAIT_FOR\` to finish (at most ${WAIT_MAX}s)"
    waited=0
    while pgrep -f "$WAIT_FOR" >/dev/null && [ "$waited" -lt "$WAIT_MAX" ]; do
        sleep 20
        waited=$(( waited + 20 ))
    done
    if pgrep -f "$WAIT_FOR" >/dev/null; then
        echo "note: \`$WAIT_FOR\` was still running after ${waited}s; timing anyway" | tee -a "$BENCH_DIR/machine.txt" >&2
    fi
    sync
    sleep 5
fi

last_delete=$(cat "$BENCH_DIR/last-delete" 2>/dev/null || echo 0)
quiet_left=$(( last_delete + DELETE_QUIET - $(date +%s) ))
if [ "$quiet_left" -gt 0 ]; then
    say "waiting ${quiet_left}s: files were deleted $(( DELETE_QUIET - quiet_left ))s ago (BENCH_DELETE_QUIET)"
    sleep "$quiet_left"
fi

printf 'rep\top\tbackend\ttool\tseconds\tmax_rss_kib\trc\tother_cpu_pct\n' >"$RES"

busy_jiffies() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
total_jiffies() { awk '/^cpu / {print $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat; }
# CPU time of the S3 server so far (it is part of what an S3 run measures, not "other").
server_jiffies() {
    if [ -n "$S3_PID" ] && [ -r "/proc/$S3_PID/stat" ]; then
        awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$S3_PID/stat"
    else echo 0; fi
}
NCPU=$(nproc)

# Before each timed command: sync, sleep, wait while other work keeps the CPUs busy, read
# the command's input (the cache it pushes from, the remote it pulls from) into the page
# cache so both tools start warm, and prefault memory.
settle() { # input dir
    local dir=$1 waited=0 b0 t0 b1 t1 pct
    sync
    while :; do
        b0=$(busy_jiffies) t0=$(total_jiffies)
        sleep "$SETTLE"
        b1=$(busy_jiffies) t1=$(total_jiffies)
        pct=$(( t1 > t0 ? 100 * (b1 - b0) / (t1 - t0) : 0 ))
        [ "$pct" -lt "$IDLE_PCT" ] && break
        if [ "$waited" -ge "$IDLE_MAX" ]; then
            echo "  note: CPUs still ${pct}% busy with other work after ${waited}s; timing anyway" >&2
            break
        fi
        [ "$waited" = 0 ] && echo "  waiting for the CPUs to go idle (${pct}% busy with other work)" >&2
        sleep 3
        waited=$(( waited + 5 ))
    done
    [ -d "$dir" ] && find "$dir" -type f -print0 | xargs -0 -r cat >/dev/null 2>&1
    if [ "$PREFAULT_MB" -gt 0 ]; then
        python3 "$HELPER" prefault "$PREFAULT_MB"
    fi
}

timeit() { # op backend tool workdir inputdir cmd...
    local op=$1 backend=$2 tool=$3 dir=$4 input=$5
    shift 5
    settle "$input"
    local out="$BENCH_DIR/out/r$rep-$op-$backend-$tool.out"
    echo "== r$rep $op $backend $tool ($dir): $*" >>"$LOG"
    local t0 t1 b0 b1 s0 s1 rc secs el rss own_u own_s other
    b0=$(busy_jiffies) s0=$(server_jiffies)
    t0=$(date +%s%N)
    (cd "$dir" && /usr/bin/time -o "$TF" -f '%e %M %U %S' "$@") >"$out" 2>>"$LOG"
    rc=$?
    t1=$(date +%s%N)
    b1=$(busy_jiffies) s1=$(server_jiffies)
    cat "$out" >>"$LOG"
    read -r el rss own_u own_s < <(tail -n1 "$TF" 2>/dev/null)
    case $rss in '' | *[!0-9]*) rss=0 own_u=0 own_s=0 ;; esac
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f", (b - a) / 1e9}')
    # CPU time used by anything but the timed command and the S3 server, as a share of
    # all CPUs' time while it ran (kernel write-back of its own writes counts here too):
    # a high value means other work on the machine slowed the run down. Left empty for runs
    # under half a second, where the 10 ms tick makes it meaningless.
    other=$(awk -v b="$(( b1 - b0 - (s1 - s0) ))" -v u="$own_u" -v s="$own_s" -v w="$secs" -v n="$NCPU" \
        'BEGIN {if (w < 0.5) exit; o = (b / 100 - u - s) / (w * n) * 100; if (o < 0) o = 0; printf "%.0f", o}')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$op" "$backend" "$tool" "$secs" "$rss" "$rc" "$other" >>"$RES"
    printf '  r%s %-9s %-6s %-4s %9.3f s %8.1f MB  other CPU %4s%s\n' "$rep" "$op" "$backend" "$tool" "$secs" \
        "$(awk -v k="$rss" 'BEGIN {print k / 1024}')" "${other:+$other%}" "$([ $rc = 0 ] || echo "  FAILED rc=$rc, see $LOG")" >&2
}

rotated() { if [ $(( rep % 2 )) = 1 ]; then echo mlv dvc; else echo dvc mlv; fi; }

remote_dir() { # backend rep tool wl: where the remote's bytes are on disk
    if [ "$1" = folder ]; then folder_remote "$2" "$3" "$4"; else echo "$S3ROOT/$(bucket "$2" "$3" "$4")"; fi
}

for rep in $(seq 1 "$REPEAT"); do
    say "repetition $rep of $REPEAT"
    for wl in $WORKLOADS; do
        for backend in $BACKENDS; do
            r=$(remote_name "$backend" "$rep")
            for tool in $(rotated); do
                src="$RUN/src-$tool-$wl"
                if [ "$tool" = mlv ]; then
                    timeit "push_$wl" "$backend" mlv "$src" "$src/.git/mlv/cache" git mlv push -r "$r" -j "$JOBS" --json
                else
                    timeit "push_$wl" "$backend" dvc "$src" "$src/.dvc/cache" dvc push -r "$r" -j "$JOBS"
                fi
            done
            for tool in $(rotated); do
                c=$(clone_dir "$rep" "$backend" "$tool" "$wl")
                input=$(remote_dir "$backend" "$rep" "$tool" "$wl")
                if [ "$tool" = mlv ]; then
                    timeit "pull_$wl" "$backend" mlv "$c" "$input" git mlv pull -r "$r" -j "$JOBS" --json
                else
                    # s3s-fs answers 500 where S3 answers 404 to dvc's first HEAD; see the helper
                    [ "$backend" = s3 ] && python3 "$HELPER" s3s-fs-dir-marker "$S3ROOT" \
                        "$(bucket "$rep" dvc "$wl")" dvc/files/md5
                    timeit "pull_$wl" "$backend" dvc "$c" "$input" dvc pull -r "$r" -j "$JOBS"
                fi
            done
        done
    done
done

# ---------------------------------------------------------------- 6. check what was moved
say "checking every push and pull"
bad=0
for rep in $(seq 1 "$REPEAT"); do
    for wl in $WORKLOADS; do
        p=$(payload "$wl")
        for backend in $BACKENDS; do
            want=1
            [ "$wl" = dir ] && want=$(( FILES + 1 ))  # files + the manifest
            got=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["transferred"])' \
                "$BENCH_DIR/out/r$rep-push_$wl-$backend-mlv.out" 2>/dev/null)
            if [ "$got" != "$want" ]; then
                echo "  warning: r$rep git mlv push ($wl, $backend) transferred '$got' objects, expected $want" >&2
                bad=1
            fi
            for tool in mlv dvc; do
                c=$(clone_dir "$rep" "$backend" "$tool" "$wl")
                if ! diff -rq "$SRC/$p" "$c/$p" >/dev/null 2>&1; then
                    echo "  warning: r$rep $tool pull ($wl, $backend): $c/$p differs from the source" >&2
                    bad=1
                fi
            done
        done
    done
done
[ "$bad" = 0 ] && echo "  every pull matches the source; every git-mlv push sent every object" >&2

# ---------------------------------------------------------------- 7. report
big_label="${BIG_MB} MiB"
[ "$BIG_MB" = 1024 ] && big_label="1 GiB"
echo
cat "$BENCH_DIR/machine.txt"
echo
python3 "$HELPER" report "$RES" "$FILES" "$big_label"
echo
echo "raw results: $RES; command output: $LOG"

if [ -n "$S3_PID" ]; then
    kill "$S3_PID" 2>/dev/null
    wait "$S3_PID" 2>/dev/null
    S3_PID=
fi
if [ "${BENCH_KEEP:-0}" != 1 ]; then
    say "removing $RUN and $S3ROOT"
    remove_tree "$RUN" "$S3ROOT"
fi
exit 0
