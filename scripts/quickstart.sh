#!/usr/bin/env bash
# Builds and installs git-mlv, then runs the main job end to end in a throwaway git
# repository: version a dataset, change it, see the change, go back to the old version,
# share it through a remote, train a model through a pipeline and trace its lineage, then
# gate, register, promote, deploy, and roll back a worse model.
#
# Needs git, a Rust toolchain (cargo) and Python 3 with venv (Debian/Ubuntu: python3-venv).
# scikit-learn for the example model goes into a virtual environment the script creates
# once under ${XDG_CACHE_HOME:-~/.cache}/git-mlv-quickstart/venv, never into the system's
# Python (Debian's refuses that: "externally-managed-environment").
set -euo pipefail

# Bold headings only on a terminal, so a log file holds no escape codes.
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  bold=$'\033[1m' plain=$'\033[0m'
else
  bold='' plain=''
fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
# Prints a command the way a shell reads it back: a word with anything but plain
# characters is single-quoted, so a copy-paste runs the same thing.
shown() {
  local w out=() q="'\\''"
  for w in "$@"; do
    if [[ $w =~ ^[A-Za-z0-9_./:@%+=,-]+$ ]]; then out+=("$w"); else out+=("'${w//\'/$q}'"); fi
  done
  printf '$ %s\n' "${out[*]}"
}
run() { shown "$@"; "$@"; }
# A step that is meant to fail: says so before and after, and stops the script if it passes.
refused() {
  local why=$1
  shift
  printf '(expected to fail: %s)\n' "$why"
  shown "$@"
  if "$@"; then
    echo "quickstart: this was expected to fail and did not" >&2
    exit 1
  fi
  echo "→ failed as expected"
}
# Sourced (by the tests of these helpers): define them and stop here. `return` only
# succeeds in a sourced file.
if (return 0 2>/dev/null); then return 0; fi

here="$(cd "$(dirname "$0")/.." && pwd)"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
for tool in git cargo python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "quickstart: \`$tool\` is not installed; it needs git, cargo (https://rustup.rs) and Python 3 with venv" >&2
    exit 1
  fi
done

venv="${XDG_CACHE_HOME:-$HOME/.cache}/git-mlv-quickstart/venv"
step "Python for the example model: scikit-learn in a virtual environment ($venv)"
if ! "$venv/bin/python3" -c 'import sklearn' 2>/dev/null; then
  if ! "$venv/bin/python3" -m pip --version >/dev/null 2>&1; then
    rm -rf "$venv"
    if ! run python3 -m venv "$venv"; then
      rm -rf "$venv"
      echo "quickstart: could not create a Python virtual environment" >&2
      echo "hint: install venv for Python 3 (Debian/Ubuntu: \`sudo apt install python3-venv\`) and run again" >&2
      exit 1
    fi
  fi
  echo "(downloads scikit-learn, numpy and scipy once, about 100 MB; later runs reuse them)"
  run "$venv/bin/python3" -m pip install --disable-pip-version-check scikit-learn
fi
# First on PATH: the pipeline's stages in mlv.toml run `python3 …` and find this one.
export PATH="$venv/bin:$PATH"
run python3 -c 'import sklearn; print("scikit-learn", sklearn.__version__)'

step "Build and install git-mlv (cargo install) and its man page"
echo "(a release build: about 6 minutes on 2 cores, 1 to 2 on a recent laptop; cargo shows its progress)"
run cargo install --locked --path "$here"
# The man page, where man finds it from PATH (man-db maps <dir>/bin to <dir>/share/man), so
# `git mlv --help` shows it as git does for its own commands.
man_dir="${CARGO_HOME:-$HOME/.cargo}/share/man/man1"
mkdir -p "$man_dir"
cp "$here/docs/git-mlv.1" "$man_dir/git-mlv.1"
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

step "Train a model through a pipeline: stages in mlv.toml, what they ran with in mlv.lock"
cd "$work/project"
cp "$here"/fixtures/ml/{get_data.py,prepare.py,train.py,params.toml,mlv.toml} .
run python3 get_data.py raw --rows 1000
run git mlv add raw
run cat mlv.toml
run git mlv run
run cat metrics.json
run git add -A
run git commit -qm "Digits model v1, trained on the first 1000 images"

step "New data arrives: the stages it affects run again, the others are skipped"
run python3 get_data.py raw
run git mlv status || true
run git mlv add raw
run git mlv run
run git mlv run
run git add -A
run git commit -qm "Digits model v2, trained on all images"

step "Lineage: every model commit is tied to the exact data that trained it"
run git mlv lineage model.pkl
run git mlv lineage model.pkl --rev HEAD~1
run git mlv push

step "Registry: register the trained model, check the quality gates, promote it to prod"
run git mlv register model 1.0.0 --message "first digits model"
run git mlv gate
run git mlv promote model@v1.0.0 prod
run git mlv deploy model prod --to "$work/serving"
run readlink "$work/serving/model/current"

step "A worse model (a param change) fails the gate, and promote refuses it"
run sed -i 's/^gamma = .*/gamma = 0.005/' params.toml
run git mlv run
run git add -A
run git commit -qm "Digits model v3: gamma 0.005"
run git mlv params diff HEAD~1 HEAD
run git mlv metrics diff HEAD~1 HEAD
refused "the new model's accuracy dropped more than the gate allows" git mlv gate
run git mlv register model 1.1.0
refused "promote checks the same gates" git mlv promote model@v1.1.0 prod

step "Forced through and deployed anyway, then rolled back in one command"
run git mlv promote model@v1.1.0 prod --force
run git mlv deploy model prod
run readlink "$work/serving/model/current"
run git mlv rollback model prod
run git mlv which model prod
run readlink "$work/serving/model/current"
run git mlv models
run git mlv models history model

step "CI closes the loop: the tags go to origin, and a job per tag deploys it (docs/ci.md)"
run git init -q --bare -b main "$work/origin.git"
run git remote add origin "$work/origin.git"
run git push -q origin main --tags
run git clone -q "$work/origin.git" "$work/ci-runner"
cd "$work/ci-runner"
# Each job deploys what prod holds now, so the promotion of v1.1.0 and the rollback's
# tags all leave `current` on v1.0.0, in any order; the later jobs find nothing to do.
for tag in $(git tag -l --sort=taggerdate 'model#prod*'); do
  run git mlv deploy --tag "$tag" --to "$work/serving-ci"
done
run readlink "$work/serving-ci/model/current"

step "Experiments: a sweep of gamma, each run in a worktree of its own; apply the best one, plot them all"
cd "$work/project"
run git mlv exp run -S train.gamma=0.001,0.0005 -j 2
run git mlv exp show
run git status --short
best=$(git mlv exp show --json --sort-by eval.accuracy --sort-order desc |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["experiments"][0]["name"])')
run git mlv exp apply "$best"
run git diff params.toml
# The model commits and both experiments (experiment names work as revisions) on one page.
revs=$(git mlv exp show --json |
  python3 -c 'import json, sys; print(" ".join("--rev " + e["name"] for e in json.load(sys.stdin)["experiments"]))')
# shellcheck disable=SC2086 # one word per --rev and name
run git mlv plots --rev HEAD~2 --rev HEAD~1 --rev HEAD $revs -o "$work/plots.html"
echo
echo "Quickstart finished: the projects are in $work"
