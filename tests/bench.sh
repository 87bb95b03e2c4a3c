#!/bin/sh
# zkpod's benchmarks, side by side with the original scripts and tini (see README.md):
# install what they use, build the release binary, run. As root. --quick: few runs.
set -eu
cd "$(dirname "$0")/.."
tests/install-deps.sh test
cargo build --release --target x86_64-unknown-linux-musl --quiet
exec /usr/bin/python3 tests/bench.py "$@"
