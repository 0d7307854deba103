#!/usr/bin/env bash
# The Python package's tests: builds `mlv` (python/, PyO3 + maturin) into a virtual
# environment made once under ~/.cache/git-mlv-test/pyenv with maturin, pandas, fsspec and
# pytest, then runs pytest against real repositories made by this build's `git-mlv`
# (`cargo build` first: test.sh runs it after `cargo test`, which leaves the binary).
# `maturin develop` builds in debug with the shared target dir: the same code as the
# release wheel (`maturin build --release`, docs/python.md), in a fraction of the time.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
venv="${XDG_CACHE_HOME:-$HOME/.cache}/git-mlv-test/pyenv"
if ! "$venv/bin/python" -c 'import maturin, pandas, fsspec, pytest' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check maturin pandas fsspec pytest
fi
cargo build --locked --bin git-mlv
(cd python && VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH" maturin develop --locked -q)
"$venv/bin/python" -m pytest -q python/tests
