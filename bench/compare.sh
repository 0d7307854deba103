#!/usr/bin/env bash
# Benchmark git-mlv beside DVC, git-lfs, git and cp on the same data in the same run.
#
#   bash bench/compare.sh
#
# Environment (defaults in brackets):
#   BENCH_DIR          work dir [/tmp/mlv-bench]; generated data is kept there for reuse
#   BENCH_FILES        files in the directory workload [20000]
#   BENCH_FILE_KIB     size of each of those files in KiB [8]
#   BENCH_FOLDERS      folders they are spread over [100]
#   BENCH_BIG_MB       size of the big file in MiB [1024]
#   BENCH_REPEAT       repetitions; medians are reported [3]
#   BENCH_WARMUP       extra first repetitions run the same way but left out of the
#                      report [1]: the first commands after writing all the repositories
#                      run 2-4x slower here while the disk catches up
#   BENCH_STATUS_RUNS  status runs per tool per repetition [3]
#   BENCH_CHECKOUT_RUNS  delete-and-checkout cycles of the big file per repetition [3]
#   BENCH_SETTLE       seconds to sleep after `sync` before each timed command [1]
#   BENCH_IDLE_PCT     before each timed command, wait while other processes keep the
#                      CPUs busier than this percentage [25] ...
#   BENCH_IDLE_MAX     ... for at most this many seconds [600]
#   BENCH_PREFAULT_MB  MiB of memory touched (and freed) right before each timed command,
#                      so that on a VM that hands free memory back to the host the first
#                      write to each page does not cost a host fault [2*BENCH_BIG_MB+512];
#                      0 turns it off (see docs/benchmarks.md)
#   BENCH_KEEP=1       keep the repositories at the end (default: removed)
#   BENCH_SKIP_INSTALL=1  do not install dvc / git-lfs / time
#   CARGO_TARGET_DIR   where `cargo build --release` puts git-mlv [<repo>/target]
#
# It reports and does not gate: exit 0 even when targets are missed (exit 1 only when
# it cannot run at all, e.g. the build fails).

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/mlv-bench}
FILES=${BENCH_FILES:-20000}
FILE_KIB=${BENCH_FILE_KIB:-8}
FOLDERS=${BENCH_FOLDERS:-100}
BIG_MB=${BENCH_BIG_MB:-1024}
REPEAT=${BENCH_REPEAT:-3}
WARMUP=${BENCH_WARMUP:-1}
FIRST=$(( 1 - WARMUP ))
STATUS_RUNS=${BENCH_STATUS_RUNS:-3}
CHECKOUT_RUNS=${BENCH_CHECKOUT_RUNS:-3}
SETTLE=${BENCH_SETTLE:-1}
IDLE_PCT=${BENCH_IDLE_PCT:-25}
IDLE_MAX=${BENCH_IDLE_MAX:-600}
PREFAULT_MB=${BENCH_PREFAULT_MB:-$(( 2 * ${BENCH_BIG_MB:-1024} + 512 ))}
HELPER="$HERE/mlvbench.py"

die() { echo "compare.sh: $*" >&2; exit 1; }
say() { echo "== $*" >&2; }

# ---------------------------------------------------------------- 1. tools
SUDO=
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO=sudo; fi

if [ "${BENCH_SKIP_INSTALL:-0}" != 1 ]; then
    if ! command -v dvc >/dev/null; then
        say "installing dvc (pip)"
        python3 -m pip install -q dvc || die "pip install dvc failed"
        hash -r
    fi
    if ! command -v git-lfs >/dev/null || [ ! -x /usr/bin/time ]; then
        say "installing git-lfs and time (apt)"
        $SUDO apt-get install -y -q git-lfs time >/dev/null 2>&1 ||
            { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q git-lfs time >/dev/null; } ||
            die "apt-get install git-lfs time failed"
    fi
fi
command -v dvc >/dev/null || die "dvc not found"
command -v git-lfs >/dev/null || die "git-lfs not found"
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

# ---------------------------------------------------------------- 2. workloads
mkdir -p "$BENCH_DIR" || die "cannot create $BENCH_DIR"
SRC="$BENCH_DIR/src"
RUN="$BENCH_DIR/run"
LOG="$BENCH_DIR/log.txt"
RES="$BENCH_DIR/results.tsv"
TF="$BENCH_DIR/time.out"

if [ -e "$RUN" ]; then
    say "removing repositories left by an earlier run"
    rm -rf "$RUN"
fi
: >"$LOG"

PARAMS="files=$FILES kib=$FILE_KIB folders=$FOLDERS"
if [ "$(cat "$SRC/data.params" 2>/dev/null)" != "$PARAMS" ]; then
    say "generating $FILES files of $FILE_KIB KiB in $FOLDERS folders"
    rm -rf "$SRC/data" "$SRC/data.params"
    mkdir -p "$SRC/data"
    python3 "$HELPER" gen-dir "$SRC/data" "$FILES" "$FILE_KIB" "$FOLDERS" || die "generating data failed"
    echo "$PARAMS" >"$SRC/data.params"
fi
if [ "$(cat "$SRC/big.params" 2>/dev/null)" != "$BIG_MB" ]; then
    say "generating one file of $BIG_MB MiB"
    rm -f "$SRC/big.bin" "$SRC/big.params"
    python3 "$HELPER" gen-big "$SRC/big.bin" "$BIG_MB" || die "generating big file failed"
    echo "$BIG_MB" >"$SRC/big.params"
fi

# Rough space check: each repetition holds ~9 copies of the big file and ~8 of the dir.
need_mb=$(( (REPEAT + WARMUP) * (9 * BIG_MB + 8 * FILES * (FILE_KIB + 4) / 1024) ))
avail_mb=$(df -Pm "$BENCH_DIR" | awk 'NR==2 {print $4}')
if [ "$avail_mb" -lt "$need_mb" ]; then
    echo "warning: about $need_mb MB needed under $BENCH_DIR, $avail_mb MB free" >&2
fi

avail_mem_mb=$(awk '/^MemAvailable:/ {print int($2 / 1024)}' /proc/meminfo)
if [ "$PREFAULT_MB" -gt $(( avail_mem_mb / 2 )) ]; then
    PREFAULT_MB=$(( avail_mem_mb / 2 ))
fi

# ---------------------------------------------------------------- machine and versions
{
    echo "machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB RAM, $(uname -sr)"
    echo "file system: $(df -PT "$BENCH_DIR" | awk 'NR==2 {print $2, $1}')"
    echo "git-mlv: $(git mlv --version 2>&1) (source: $(git -C "$ROOT" describe --always --dirty 2>/dev/null))"
    echo "dvc: $(dvc --version 2>&1 | tail -n1)"
    echo "$(git lfs version 2>&1)"
    echo "$(git --version)"
    echo "cp: $(cp --version | head -n1)"
    echo "workload: $FILES files x $FILE_KIB KiB in $FOLDERS folders; one file of $BIG_MB MiB; $REPEAT repetition(s) + $WARMUP warm-up"
    echo "settings: status runs $STATUS_RUNS and checkout runs $CHECKOUT_RUNS per repetition, settle ${SETTLE}s after sync, idle below ${IDLE_PCT}% CPU, prefault ${PREFAULT_MB} MiB"
} | tee "$BENCH_DIR/machine.txt" >&2

# ---------------------------------------------------------------- 3. prepare every repo first
q() { "$@" >>"$LOG" 2>&1; }
# No automatic gc: a commit of 20k files would start one in the background.
git_repo() {
    mkdir -p "$1" && (cd "$1" && q git init -q && git config gc.auto 0 &&
        git config maintenance.auto false && q git commit -q --allow-empty -m init)
}

prepare() { # kind dir payload(data|big)
    local kind=$1 dir=$2 payload=$3
    case $kind in
        mlv) git_repo "$dir" && (cd "$dir" && q git mlv init && git add -A && q git commit -q -m mlv-init) ;;
        dvc) git_repo "$dir" && (cd "$dir" && q dvc init -q && q dvc config core.analytics false &&
                 q dvc config cache.type copy && git add -A && q git commit -q -m dvc-init) ;;
        lfs) git_repo "$dir" && (cd "$dir" && q git lfs install --local) ;;
        git) git_repo "$dir" ;;
        cp) mkdir -p "$dir" ;;
    esac || return 1
    if [ "$payload" = data ]; then
        cp -r "$SRC/data" "$dir/data"
    else
        cp "$SRC/big.bin" "$dir/big.bin"
    fi
    if [ "$kind" = git ]; then
        (cd "$dir" && git add data && q git commit -q -m data)
    fi
}

say "preparing $REPEAT repetition(s) (+$WARMUP warm-up) of fresh repositories under $RUN"
for rep in $(seq "$FIRST" "$REPEAT"); do
    R="$RUN/r$rep"
    for k in mlv dvc lfs git cp; do prepare $k "$R/$k-dir" data || die "preparing $R/$k-dir failed (see $LOG)"; done
    for k in mlv dvc lfs cp; do prepare $k "$R/$k-big" big || die "preparing $R/$k-big failed (see $LOG)"; done
done
sync
sleep 3

# ---------------------------------------------------------------- timing
printf 'rep\top\ttool\tseconds\tmax_rss_kib\trc\tother_cpu_pct\n' >"$RES"
NCPU=$(nproc)

# Busy jiffies (all CPUs) so far: everything in the `cpu` line but idle and iowait.
busy_jiffies() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
total_jiffies() { awk '/^cpu / {print $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat; }

# Before each timed command: sync, then sleep BENCH_SETTLE seconds; while other processes
# keep the CPUs busier than BENCH_IDLE_PCT percent, keep waiting (at most BENCH_IDLE_MAX
# seconds), so a concurrent compile does not land in the numbers. Then read every file
# under the command's directory, so that every tool starts with its input in the page
# cache (this VM evicts cold pages on its own, which otherwise makes some inputs cold and
# others warm at random), and prefault memory (see BENCH_PREFAULT_MB).
settle() { # dir
    local dir=$1
    sync
    local waited=0 b0 t0 b1 t1 pct
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
        sleep 4
        waited=$(( waited + 5 ))
    done
    find "$dir" -type f -print0 | xargs -0 -r cat >/dev/null 2>&1
    if [ "$PREFAULT_MB" -gt 0 ]; then
        python3 "$HELPER" prefault "$PREFAULT_MB"
    fi
}

timeit() { # op tool dir cmd...
    local op=$1 tool=$2 dir=$3
    shift 3
    settle "$dir"
    echo "== r$rep $op $tool ($dir): $*" >>"$LOG"
    local t0 t1 b0 b1 rc rss secs own other
    b0=$(busy_jiffies)
    t0=$(date +%s%N)
    (cd "$dir" && /usr/bin/time -o "$TF" -f '%M %U %S' "$@") >>"$LOG" 2>&1
    rc=$?
    t1=$(date +%s%N)
    b1=$(busy_jiffies)
    read -r rss own_u own_s < <(tail -n1 "$TF" 2>/dev/null)
    case $rss in '' | *[!0-9]*) rss=0 own_u=0 own_s=0 ;; esac
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f", (b - a) / 1e9}')
    # CPU time spent by anything but the timed command, as a share of all CPUs' time;
    # kernel write-back of the command's own writes counts here too. Left empty for
    # commands under half a second, where the 10 ms tick makes it meaningless.
    other=$(awk -v b="$(( b1 - b0 ))" -v u="$own_u" -v s="$own_s" -v w="$secs" -v n="$NCPU" \
        'BEGIN {if (w < 0.5) exit; o = (b / 100 - u - s) / (w * n) * 100; if (o < 0) o = 0; printf "%.0f", o}')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$op" "$tool" "$secs" "$rss" "$rc" "$other" >>"$RES"
    printf '  r%s %-13s %-4s %9.3f s %7.1f MB  other CPU %4s%s\n' "$rep" "$op" "$tool" "$secs" \
        "$(awk -v k="$rss" 'BEGIN {print k / 1024}')" "${other:+$other%}" "$([ $rc = 0 ] || echo "  FAILED rc=$rc, see $LOG")" >&2
}

# The tools run in a rotated order in each repetition so none always goes first.
rotated() { # tools...
    local -a t=("$@")
    local k=$(( (rep - FIRST) % ${#t[@]} ))
    echo "${t[@]:k}" "${t[@]:0:k}"
}

commit_all() { (cd "$1" && q git add -A && q git commit -q -m "$2"); }

for rep in $(seq "$FIRST" "$REPEAT"); do
    R="$RUN/r$rep"
    if [ "$rep" -le 0 ]; then say "warm-up repetition (not counted)"; else say "repetition $rep of $REPEAT"; fi

    # add a directory of many small files
    for t in $(rotated mlv dvc lfs cp); do
        case $t in
            mlv) timeit add_dir mlv "$R/mlv-dir" git mlv add data ;;
            dvc) timeit add_dir dvc "$R/dvc-dir" dvc add data ;;
            lfs) timeit add_dir lfs "$R/lfs-dir" bash -c "git lfs track 'data/**' >/dev/null && git add data" ;;
            cp) timeit add_dir cp "$R/cp-dir" cp -r data data2 ;;
        esac
    done
    commit_all "$R/mlv-dir" add
    commit_all "$R/dvc-dir" add
    commit_all "$R/lfs-dir" add

    # status with nothing changed
    for i in $(seq 1 "$STATUS_RUNS"); do
        for t in $(rotated mlv dvc lfs git); do
            case $t in
                mlv) timeit status mlv "$R/mlv-dir" git mlv status ;;
                dvc) timeit status dvc "$R/dvc-dir" dvc status ;;
                lfs) timeit status lfs "$R/lfs-dir" git status ;;
                git) timeit status git "$R/git-dir" git status ;;
            esac
        done
    done
    (cd "$R/mlv-dir" && git mlv status --check >>"$LOG" 2>&1) ||
        echo "  warning: \`git mlv status --check\` reports changes right after add (see $LOG)" >&2

    # re-add the unchanged directory (the stat cache should avoid reading content)
    for t in $(rotated mlv dvc); do
        case $t in
            mlv) timeit readd_dir mlv "$R/mlv-dir" git mlv add data ;;
            dvc) timeit readd_dir dvc "$R/dvc-dir" dvc add data ;;
        esac
    done

    # add one big file
    for t in $(rotated mlv dvc lfs cp); do
        case $t in
            mlv) timeit add_big mlv "$R/mlv-big" git mlv add big.bin ;;
            dvc) timeit add_big dvc "$R/dvc-big" dvc add big.bin ;;
            lfs) timeit add_big lfs "$R/lfs-big" bash -c "git lfs track big.bin >/dev/null && git add big.bin" ;;
            cp) timeit add_big cp "$R/cp-big" cp big.bin big2.bin ;;
        esac
    done
    commit_all "$R/mlv-big" add
    commit_all "$R/dvc-big" add
    commit_all "$R/lfs-big" add

    # check the big file out of the cache again (all removals first, then settle)
    hash=$(sed -n 's/^hash = "b3:\([0-9a-f]*\)".*/\1/p' "$R/mlv-big/big.bin.mlv" 2>/dev/null)
    obj="$R/mlv-big/.git/mlv/cache/b3/${hash:0:2}/${hash:2}"
    [ -n "$hash" ] && [ -f "$obj" ] || echo "  warning: git-mlv cache object for big.bin not found (hash '$hash')" >&2
    for i in $(seq 1 "$CHECKOUT_RUNS"); do
        rm -f "$R/mlv-big/big.bin" "$R/dvc-big/big.bin" "$R/lfs-big/big.bin" "$R/mlv-big/big3.bin"
        sync
        sleep 3
        for t in $(rotated mlv dvc lfs cp); do
            case $t in
                mlv) timeit checkout_big mlv "$R/mlv-big" git mlv checkout big.bin ;;
                dvc) timeit checkout_big dvc "$R/dvc-big" dvc checkout big.bin ;;
                lfs) timeit checkout_big lfs "$R/lfs-big" git checkout -- big.bin ;;
                cp) timeit checkout_big cp "$R/mlv-big" cp "$obj" big3.bin ;;
            esac
        done
    done
    cmp -s "$SRC/big.bin" "$R/mlv-big/big.bin" ||
        echo "  warning: big.bin after \`git mlv checkout\` differs from the original" >&2
done

# ---------------------------------------------------------------- 4. report
big_label="${BIG_MB} MiB"
[ "$BIG_MB" = 1024 ] && big_label="1 GiB"
echo
cat "$BENCH_DIR/machine.txt"
echo
python3 "$HELPER" report "$RES" \
    "add_dir=add $FILES files x $FILE_KIB KiB (dir)" \
    "status=status, nothing changed ($FILES files)" \
    "readd_dir=re-add unchanged dir ($FILES files)" \
    "add_big=add one $big_label file" \
    "checkout_big=checkout $big_label from cache (copy)"
echo
echo "raw results: $RES; command output: $LOG"

if [ "${BENCH_KEEP:-0}" != 1 ]; then
    say "removing $RUN"
    rm -rf "$RUN"
fi
exit 0
