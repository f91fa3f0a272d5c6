#!/bin/bash
# bench/breach/callgrind.sh BUILD_DIR: the instructions the scheduler spends
# on a burst of breaches, on SQLite.  Wall-clock figures on a shared VM move
# by a third between runs; an instruction count does not, so this is the
# before/after figure for work on the breach path (docs/benchmarks.md).
#
# Starts `slawatch serve` under valgrind's callgrind, counting only inside
# alerts_process_due (--toggle-collect), loads BENCH_CG_OPEN (20 000) open
# low alerts and BENCH_CG_DUE (1 000) critical ones whose ack deadline falls
# 15 s later, waits for the scheduler, stops the server and prints the
# total.  The profile is kept as BUILD_DIR/callgrind.breach.out
# (callgrind_annotate --inclusive=yes FILE).  Needs valgrind (apt-get
# install valgrind); not part of `make bench`.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: bench/breach/callgrind.sh BUILD_DIR" >&2; exit 2; }
build=$(cd "$1" && pwd)
command -v valgrind >/dev/null || { echo "valgrind not installed" >&2; exit 1; }
OPEN=${BENCH_CG_OPEN:-20000}
DUE=${BENCH_CG_DUE:-1000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/slawatch-cg.XXXXXX")
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token=tok-callgrind-0123456789abcdef0123
SLAWATCH_ADMIN_TOKEN=$token SLAWATCH_LOG_LEVEL=warn SLAWATCH_THREADS=2 \
    valgrind --tool=callgrind --toggle-collect=alerts_process_due \
    --callgrind-out-file="$tmp/cg.out" "$build/slawatch" serve \
    --listen "127.0.0.1:$port" --db "sqlite:$tmp/cg.db" >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 600); do grep -q listening "$tmp/out" 2>/dev/null && break; sleep 0.1; done
grep -q listening "$tmp/out" || { cat "$tmp/err" >&2; exit 1; }
base=http://127.0.0.1:$port
post() {
    curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" -H "Content-Type: $1" \
        --data-binary "$2" "$base$3"
}
[ "$(post application/json '{"id":"bench","name":"Bench"}' /api/v1/tenants)" = 201 ] ||
    { echo "creating the tenant failed" >&2; exit 1; }
awk -v n="$OPEN" 'BEGIN { for (i = 0; i < n; i++)
    printf "{\"id\":\"bg-%d\",\"tenant_id\":\"bench\",\"severity\":\"low\"}\n", i }' >"$tmp/bg.ndjson"
post application/x-ndjson "@$tmp/bg.ndjson" /api/v1/alerts/bulk >/dev/null
created=$(date -u -d "@$(( $(date +%s) - 900 + 15 ))" +%Y-%m-%dT%H:%M:%SZ)
awk -v n="$DUE" -v c="$created" 'BEGIN { for (i = 0; i < n; i++)
    printf "{\"id\":\"due-%d\",\"tenant_id\":\"bench\",\"severity\":\"critical\",\"created_at\":\"%s\"}\n", i, c }' \
    >"$tmp/due.ndjson"
post application/x-ndjson "@$tmp/due.ndjson" /api/v1/alerts/bulk >/dev/null
sleep 25     # the deadline (15 s), then the rounds, under valgrind
kill -TERM "$pid"
wait "$pid" 2>/dev/null || true
pid=""
cp "$tmp/cg.out" "$build/callgrind.breach.out"
echo "alerts_process_due, $DUE breaches over $OPEN open alerts: $(sed -n 's/^totals: //p' "$tmp/cg.out") instructions"
echo "profile: $build/callgrind.breach.out"
