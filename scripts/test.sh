#!/usr/bin/env bash
# Runs the whole test suite: unit tests and the integration tests that drive the real
# binary with real git and real servers (s3s-fs, nginx) started on loopback. Installs
# those servers first when they are missing. Needs root: one test mounts a small tmpfs.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
bash scripts/install-test-servers.sh
cargo test --locked "$@"
