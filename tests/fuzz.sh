#!/bin/sh
# Run every fuzz target in fuzz/ for SECONDS each (default 60), starting from the seeds kept in
# fuzz/seeds/TARGET and the corpus earlier runs left in fuzz/corpus/TARGET. Needs a nightly
# toolchain; installs cargo-fuzz when it is missing. Prints each target's executions, and
# stops with the failing input's path when a target finds a crash.
#   tests/fuzz.sh 600    ten minutes each
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-60}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cargo +nightly fuzz build
targets=$(cargo +nightly fuzz list)
[ -n "$targets" ] || { echo "fuzz: no targets in fuzz/" >&2; exit 1; }
for target in $targets; do
    mkdir -p "fuzz/corpus/$target" "fuzz/seeds/$target"
    log="fuzz/corpus/$target.log"
    if ! cargo +nightly fuzz run "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
        -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; then
        tail -40 "$log" >&2
        echo "fuzz: $target found a failing input (see fuzz/artifacts/$target)" >&2
        exit 1
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    if [ "${execs:-0}" -eq 0 ]; then
        echo "fuzz: $target ran no input (see $log)" >&2
        exit 1
    fi
    echo "fuzz: $target: $execs executions in ${seconds}s, no failure"
done
