#!/bin/sh
# The whole test suite, as README.md gives it: install what it needs, then run it.
# Tests that need root and namespaces say why they skip without them (never under CI=true).
set -eu
cd "$(dirname "$0")/.."
tests/install-deps.sh test
cargo test --all-targets "$@"
