#!/usr/bin/env bash
# Runs the whole test suite: unit tests and the integration tests that drive the real
# binary with real git. Needs root for the full-disk test (it mounts a small tmpfs).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --locked "$@"
