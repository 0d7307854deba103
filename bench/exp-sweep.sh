#!/bin/bash
# A 6-experiment sweep with -j 2 against the same six by hand, interleaved, release build.
# usage: bench/exp-sweep.sh <quickstart project> <last round>  (after scripts/quickstart.sh;
# the project's HEAD data pushed: git -C <project> mlv push --rev HEAD). REUSE=1 START=N
# reuse the clone and start at round N, so no value repeats (no run-cache hits).
set -e
export PATH="$(realpath "${CARGO_TARGET_DIR:-target}")/release:$PATH"
src=$1; rounds=${2:-3}
W=${WORK:-/tmp/mlv-exp-sweep}; if [ -z "$REUSE" ]; then rm -rf $W; mkdir -p $W
git clone -q "$src" $W/repo; cd $W/repo; git mlv pull -q; fi; cd $W/repo
base=$(git rev-parse --abbrev-ref HEAD)
now() { date +%s.%N; }
for r in $(seq "${START:-1}" "$rounds"); do
  sweep=$(for i in 1 2 3 4 5 6; do printf "0.000%d%d1," "$r" "$i"; done); sweep=${sweep%,}
  load=$(cut -d' ' -f1 /proc/loadavg)
  t0=$(now); git mlv exp run -q -S "train.gamma=$sweep" -j 2 >/dev/null; t1=$(now)
  for i in 1 2 3 4 5 6; do
    v=$(printf "0.000%d%d3" "$r" "$i")
    git checkout -q -b "man-$r-$i" "$base"
    sed -i "s/^gamma = .*/gamma = $v/" params.toml
    git mlv run -q >/dev/null
    git add -A && git commit -qm "gamma $v"
    git checkout -q "$base" && git mlv checkout -q
  done
  t2=$(now)
  echo "round $r load $load sweep $(echo "$t1-$t0" | bc) hand $(echo "$t2-$t1" | bc) ratio $(echo "scale=3; ($t1-$t0)/($t2-$t1)" | bc)"
done
git mlv exp show | tail -20
