# Shared by bench/git.sh and bench/registry.sh (sourced): the release build first on PATH,
# a fresh repository to time in, and the timing helpers.

# Builds git-mlv (release, honouring CARGO_TARGET_DIR), puts it first on PATH, and leaves
# the shell in a new git repository `<dir>/repo` (the folder is emptied first).
bench_repo() {
    local root target
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    target=${CARGO_TARGET_DIR:-$root/target}
    (cd "$root" && cargo build --release --quiet)
    export PATH="$target/release:$PATH" MLV_NO_PROGRESS=1
    rm -rf "$1" && mkdir -p "$1" && cd "$1"
    git init -q -b main repo && cd repo
    git config user.email bench@example.com && git config user.name bench && git config gc.auto 0
}

# Milliseconds a command takes, its output discarded.
ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
# The median of numbers on stdin, one per line.
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
