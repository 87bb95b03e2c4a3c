#!/bin/sh
# The whole test suite, as README.md gives it: install what it needs, then run it.
# Tests marked `#[ignore = "needs root and namespaces"]` (simulated pods, PID 1 in a PID
# namespace, test users) run when this runs as root, and always under CI=true, where a
# machine that cannot run them is a failure rather than a skip.
# The tests run the static (musl) build, the one the release and the image ship.
set -eu
cd "$(dirname "$0")/.."
tests/install-deps.sh test
target=x86_64-unknown-linux-musl
if [ "$(id -u)" = 0 ] || [ "${CI:-}" = true ]; then
    exec cargo test --target "$target" --all-targets "$@" -- --include-ignored
fi
echo "not root: the tests that need root and namespaces are skipped (listed as ignored)" >&2
exec cargo test --target "$target" --all-targets "$@"
