#!/usr/bin/env bash
# Times the registry path with a 512 MiB model: `gate`, `promote` (the gates plus a tag),
# the first `deploy` of a version (copied from the cache), and `rollback` to a version whose
# folder is already deployed (two tags and a symlink switch), which should be well under a second.
# Usage: bash bench/registry.sh   (BENCH_MIB, BENCH_REPEAT, BENCH_DIR to change the defaults)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
mib=${BENCH_MIB:-512}
repeat=${BENCH_REPEAT:-5}
dir=${BENCH_DIR:-/tmp/mlv-bench-registry}
# shellcheck source=bench/common.sh
source "$here/bench/common.sh"
bench_repo "$dir"
cat > mlv.toml <<'TOML'
[artifacts.model]
path = "model.bin"

[[gates]]
metric = "metrics.json:eval.accuracy"
min = 0.5
max_drop = 0.05
baseline = "model#prod"
TOML
gate=(); promote=(); deploy=(); rollback=()
for i in $(seq "$repeat"); do
  head -c "$((mib << 20))" /dev/urandom > model.bin
  echo "{\"eval\": {\"accuracy\": 0.9$i}}" > metrics.json
  git mlv add -q model.bin && git add -A && git commit -qm "model $i"
  git mlv register -q model
  gate+=("$(ms git mlv gate)")
  promote+=("$(ms git mlv promote "model@v0.0.$i" prod)")
  sync
  deploy+=("$(ms git mlv deploy model prod --to "$dir/serving")")
done
for _ in $(seq "$repeat"); do
  rollback+=("$(ms git mlv rollback model prod --to v0.0.1)")
  git mlv rollback -q model prod --to "v0.0.$repeat" >/dev/null
done
[ "$(readlink "$dir/serving/model/current")" = "v0.0.$repeat" ]
printf '%s\n' "model: $mib MiB, repetitions: $repeat (medians, ms)"
printf 'gate (2 bounds, baseline model#prod)         %s\n' "$(printf '%s\n' "${gate[@]}" | median)"
printf 'promote (the gates, then a tag)              %s\n' "$(printf '%s\n' "${promote[@]}" | median)"
printf 'deploy of a new version (copy from cache)    %s\n' "$(printf '%s\n' "${deploy[@]}" | median)"
printf 'rollback, version folder already deployed    %s\n' "$(printf '%s\n' "${rollback[@]}" | median)"
