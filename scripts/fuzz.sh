#!/bin/sh
# Runs every fuzz target of a SLAWATCH_FUZZ build for a bounded time.
#   scripts/fuzz.sh BUILD_DIR SECONDS_PER_TARGET
# Seeds: tests/fuzz/corpus/<target>/ (read only); new inputs go to a scratch
# corpus in BUILD_DIR, crashes to BUILD_DIR/fuzz-artifacts/.  Every target
# runs; the exit status is non-zero if any found a crash, leak or UB.
set -eu
build=${1:-build-fuzz}
secs=${2:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$build/fuzz-artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
found=0
for bin in "$build"/fuzz_*; do
    [ -x "$bin" ] || continue
    name=$(basename "$bin")
    seeds="$root/tests/fuzz/corpus/$name"
    work="$build/fuzz-corpus/$name"
    mkdir -p "$work" "$seeds"
    start=$(date +%s)
    if ! "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
            -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$name-" \
            "$work" "$seeds" >"$build/fuzz-$name.log" 2>&1; then
        echo "fuzz: $name FAILED (log: $build/fuzz-$name.log)" >&2
        tail -40 "$build/fuzz-$name.log" >&2
        found=1
        continue
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/fuzz-$name.log")
    echo "fuzz: $name clean, ${runs:-?} runs in $(( $(date +%s) - start )) s"
done
[ "$found" -eq 0 ] || exit 1
ls "$build"/fuzz_* >/dev/null 2>&1 || { echo "fuzz: no targets built in $build" >&2; exit 1; }
