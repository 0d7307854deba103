#!/usr/bin/env bash
# Builds and installs git-mlv, then runs the main job end to end in a throwaway git
# repository: version a dataset, change it, see the change, go back to the old version.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "Build and install git-mlv (cargo install)"
cargo install --locked --quiet --path "$here"
run git mlv --version

work="$(mktemp -d "${TMPDIR:-/tmp}/mlv-quickstart.XXXXXX")"
step "A throwaway project in $work/project"
mkdir "$work/project"
cd "$work/project"
run git init -q -b main
git config user.name "Quickstart"
git config user.email "quickstart@example.com"
run git mlv init
cp -r "$here/fixtures/dataset" data

step "Version the dataset: the bytes go to the cache, a small pointer goes to git"
run git mlv add data
run cat data.mlv
run git add data.mlv .gitignore .mlv
run git commit -qm "Add dataset v1"
run git mlv ls

step "Change the data: new measurements arrive"
cat "$here/fixtures/new-measurements.csv" >> data/train.csv
printf 'collected by the field team\n' > data/NOTES.txt
run git mlv status || true
run git mlv add data
run git commit -qam "Dataset v2: more measurements"
run git mlv status

step "Go back to the first version: git moves the pointer, git-mlv moves the data"
run git checkout -q HEAD~1 -- data.mlv
run git mlv status || true
run git mlv checkout data
run diff -r "$here/fixtures/dataset" data
echo "data/ is byte-identical to dataset v1"

step "And forward again"
run git checkout -q HEAD -- data.mlv
run git mlv checkout
run git mlv status --check

step "Share it: push to a remote (a plain folder here; s3:// and http:// work the same)"
run git mlv remote add storage "$work/remote-storage" --default
run git mlv push
run git add .mlv/config.toml
run git commit -qm "Share data through the storage remote"
run git mlv status -r storage --check

step "A teammate (or a CI runner) clones the code and pulls exactly the data of the commit"
cd "$work"
run git clone -q project teammate
cd teammate
run git mlv pull
run diff -r ../project/data data
echo "teammate/data is byte-identical"
echo
echo "Quickstart finished: the projects are in $work"
