#!/usr/bin/env bash
# Runs the whole test suite: unit tests and the integration tests that drive the real
# binary with real git and real servers (s3s-fs, nginx) started on loopback, then the
# Python package's pytest suite (scripts/test-python.sh). Installs
# those servers first when they are missing. Needs root: one test mounts a small tmpfs.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
bash scripts/install-test-servers.sh
cargo test --locked "$@"
# The Python package (python/) against this build: pytest under the same command.
bash scripts/test-python.sh
