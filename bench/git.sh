#!/usr/bin/env bash
# Times the git-integration paths on the 20,000-file workload: `checkout --rev` of an older
# version whose objects are in the cache, `diff` between two versions, and what the
# post-checkout hook adds to a branch switch that changes no pointer.
# Usage: bash bench/git.sh   (BENCH_FILES, BENCH_REPEAT, BENCH_DIR to change the defaults)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
files=${BENCH_FILES:-20000}
repeat=${BENCH_REPEAT:-3}
dir=${BENCH_DIR:-/tmp/mlv-bench-git}
# shellcheck source=bench/common.sh
source "$here/bench/common.sh"
bench_repo "$dir"
python3 - "$files" <<'PY'
import os, sys
n = int(sys.argv[1])
for i in range(n):
    d = f"data/d{i % 100}"
    os.makedirs(d, exist_ok=True)
    with open(f"{d}/f{i}", "wb") as f:
        f.write(os.urandom(8192))
for i in range(500):
    os.makedirs("src", exist_ok=True)
    open(f"src/m{i}.py", "w").write(f"x = {i}\n")
PY
git mlv add -q data && git add -A && git commit -qm v1
python3 - "$files" <<'PY'
import os, sys
n = int(sys.argv[1])
for i in range(0, n, 10):   # change one file in ten
    with open(f"data/d{i % 100}/f{i}", "wb") as f:
        f.write(os.urandom(8192))
PY
git mlv add -q data && git commit -qam v2
git branch other && git checkout -q other && echo "y = 1" > src/extra.py && git add -A && git commit -qm "code only" && git checkout -q main
sync; sleep 2
rev=(); fwd=(); diff=(); plain=(); hooked=()
for _ in $(seq "$repeat"); do
  rev+=("$(ms git mlv checkout --rev HEAD~1 data)")
  fwd+=("$(ms git mlv checkout data)")
  diff+=("$(ms git mlv diff HEAD~1 HEAD)")
done
for _ in $(seq "$repeat"); do plain+=("$(ms sh -c 'git checkout -q other && git checkout -q main')"); done
git mlv install-hooks -q
for _ in $(seq "$repeat"); do hooked+=("$(ms sh -c 'git checkout -q other && git checkout -q main')"); done
git mlv status --check >/dev/null 2>&1
printf '%s\n' "files: $files, changed between versions: $((files / 10)), repetitions: $repeat (medians, ms)"
printf 'checkout --rev HEAD~1 (%s files differ)  %s\n' "$((files / 10))" "$(printf "%s\n" "${rev[@]}" | median)"
printf 'checkout back to the pointers           %s\n' "$(printf '%s\n' "${fwd[@]}" | median)"
printf 'diff HEAD~1 HEAD                        %s\n' "$(printf '%s\n' "${diff[@]}" | median)"
p=$(printf '%s\n' "${plain[@]}" | median); h=$(printf '%s\n' "${hooked[@]}" | median)
printf 'two branch switches, no hooks           %s\n' "$p"
printf 'two branch switches, post-checkout hook %s  (adds %s ms per switch)\n' "$h" "$(( (h - p) / 2 ))"
