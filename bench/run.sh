#!/bin/sh
# bench/run.sh BUILD_DIR: runs every bench/*/run.sh (http, recalc, ingest, ...),
# in name order, each given the absolute BUILD_DIR.  Run by `make bench`, never
# by the tests.  Exits non-zero only when a bench script itself fails (a bench
# that ran but missed its goals prints so and still exits 0).
set -u

if [ $# -lt 1 ]; then
    echo "usage: bench/run.sh BUILD_DIR" >&2
    exit 2
fi
build=$(cd "$1" 2>/dev/null && pwd) || {
    echo "bench/run.sh: no build directory '$1' (make build first)" >&2
    exit 2
}
here=$(cd "$(dirname "$0")" && pwd)

failed=""
ran=0
for script in "$here"/*/run.sh; do
    [ -f "$script" ] || continue
    name=$(basename "$(dirname "$script")")
    ran=$((ran + 1))
    echo
    echo "================================================================"
    echo "bench/$name   $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "================================================================"
    if bash "$script" "$build"; then
        echo "bench/$name: done"
    else
        rc=$?
        echo "bench/$name: FAILED to run (exit $rc)" >&2
        failed="$failed $name"
    fi
done

echo
if [ "$ran" -eq 0 ]; then
    echo "bench/run.sh: no bench/*/run.sh found" >&2
    exit 1
fi
if [ -n "$failed" ]; then
    echo "benches that failed to run:$failed" >&2
    exit 1
fi
echo "all $ran bench(es) ran"
