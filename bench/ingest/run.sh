#!/bin/bash
# bench/ingest/run.sh BUILD_DIR: alert ingest throughput of slawatch.
#
#   1. single-alert POST /api/v1/alerts, a new id per request (wrk + Lua),
#      wrk -t$BENCH_THREADS -c$BENCH_CONNECTIONS -d$BENCH_DURATION (2, 64, 10s).
#      Durable: the database runs synchronous=FULL; concurrent requests share
#      one commit (group commit in src/store/sqlite_alerts.c), and each
#      request waits on a server thread until its commit, so the server runs
#      with SLAWATCH_THREADS=$BENCH_SERVER_THREADS (2: waiting requests are suspended, not holding threads).
#   2. POST /api/v1/alerts/bulk: 1,000,000 alerts as NDJSON in bodies of
#      $BENCH_BULK_LINES (100,000) lines (one 1M-line body would pass the
#      64 MiB max_bulk_bytes default), $BENCH_BULK_PARALLEL (2) at a time.
#   3. the row count: every answered alert is in the database.
#
# Goals: single >= 20,000 alerts/s with p99 <= 10 ms; bulk >= 300,000
# alerts/s.  A missed goal is reported, not an error: the script exits
# non-zero only when it cannot run (no binary, no wrk/curl, the server did
# not start or died).  Loopback only; touches nothing outside its temp dir.
set -euo pipefail

DURATION=${BENCH_DURATION:-10s}
CONNS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
SERVER_THREADS=${BENCH_SERVER_THREADS:-2}
BULK_TOTAL=${BENCH_BULK_TOTAL:-1000000}
BULK_LINES=${BENCH_BULK_LINES:-100000}
BULK_PARALLEL=${BENCH_BULK_PARALLEL:-2}
GOAL_SINGLE=20000
GOAL_SINGLE_P99_MS=10
GOAL_BULK=300000

die() { echo "bench/ingest: $*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: bench/ingest/run.sh BUILD_DIR"
build=$(cd "$1" 2>/dev/null && pwd) || die "no build directory '$1'"
bin=$build/slawatch
[ -x "$bin" ] || die "$bin not found (make build)"
command -v wrk >/dev/null || die "wrk not installed (scripts/deps.sh --bench)"
command -v curl >/dev/null || die "curl not installed"

build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
# CMakeLists.txt defaults an unset build type to RelWithDebInfo (-O2)
[ -z "$build_type" ] && [ -f "$build/CMakeCache.txt" ] && build_type=RelWithDebInfo
sanitize=$(sed -n 's/^SLAWATCH_SANITIZE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/slawatch-bench-ingest.XXXXXX")
sw_pid=""

stop_pid() {
    local pid=$1
    [ -n "$pid" ] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    stop_pid "$sw_pid"
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

problems=()
problem() { problems+=("$*"); echo "PROBLEM: $*"; }
ms() { awk -v u="$1" 'BEGIN { printf "%.3f", u / 1000 }'; }
now_ns() { date +%s%N; }

cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
echo "machine:   $(nproc) cores, ${cpu_model:-$(uname -m)}, kernel $(uname -r)"
echo "date:      $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "slawatch:  $bin (CMAKE_BUILD_TYPE=${build_type:-?}${sanitize:+, SLAWATCH_SANITIZE=$sanitize})"
echo "database:  $tmp/bench.db on $(df -T "$tmp" | awk 'NR == 2 { print $2 }') (synchronous=FULL)"
case "$build_type" in
    Release | RelWithDebInfo | MinSizeRel) ;;
    *) echo "WARNING: $build is not an optimised build" ;;
esac
[ "$sanitize" = "ON" ] && echo "WARNING: $build is a sanitizer build: figures are meaningless"

# ---- slawatch ---------------------------------------------------------------
token="bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
SLAWATCH_ADMIN_TOKEN=$token SLAWATCH_THREADS=$SERVER_THREADS SLAWATCH_LOG_LEVEL=warn \
    "$bin" serve --listen 127.0.0.1:0 --db "sqlite:$tmp/bench.db" \
    >"$tmp/slawatch.out" 2>"$tmp/slawatch.err" &
sw_pid=$!
port=""
for _ in $(seq 100); do
    port=$(sed -n 's|^listening on http://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$tmp/slawatch.out")
    [ -n "$port" ] && break
    kill -0 "$sw_pid" 2>/dev/null || break
    sleep 0.1
done
[ -n "$port" ] || { cat "$tmp/slawatch.err" >&2; die "slawatch did not start"; }
base="http://127.0.0.1:$port"
echo "server:    pid $sw_pid on 127.0.0.1:$port, SLAWATCH_THREADS=$SERVER_THREADS"

api() {   # api METHOD PATH [BODY] → prints the body, fails on non-2xx
    curl -sS --fail-with-body -X "$1" -H "Authorization: Bearer $token" \
        -H 'Content-Type: application/json' ${3:+--data-binary "$3"} "$base$2"
}
tenant=bench
api POST /api/v1/tenants "{\"id\":\"$tenant\",\"name\":\"Bench tenant\",\"template\":\"premium\"}" \
    >/dev/null || die "cannot create the tenant"

# ---- 1. single-alert POSTs ----------------------------------------------------
cat >"$tmp/post.lua" <<EOF
-- a fresh id space per wrk run (warm-up and measured must not collide)
local nonce = "$(date +%s)-$$-" .. (os.getenv("WRK_RUN") or "x")
local nthreads = 0
local sevs = { "critical", "high", "medium", "low" }
function setup(thread)
    nthreads = nthreads + 1
    thread:set("tid", nthreads)
end
local counter = 0
function request()
    counter = counter + 1
    local body = '{"id":"s-' .. nonce .. '-' .. tid .. '-' .. counter ..
                 '","tenant_id":"$tenant","severity":"' .. sevs[counter % 4 + 1] ..
                 '","title":"bench alert","source":"wrk"}'
    return wrk.format("POST", nil, nil, body)
end
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "RESULT rps=%.1f requests=%d p50_us=%.0f p90_us=%.0f p99_us=%.0f max_us=%.0f " ..
        "connect=%d read=%d write=%d status=%d timeout=%d\n",
        summary.requests / (summary.duration / 1e6), summary.requests,
        latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
        e.connect, e.read, e.write, e.status, e.timeout))
end
EOF

run_wrk() {   # run_wrk NAME DURATION
    WRK_RUN=$1 wrk -t"$THREADS" -c"$CONNS" -d"$2" --latency -H "Authorization: Bearer $token" \
        -H "Content-Type: application/json" -s "$tmp/post.lua" "$base/api/v1/alerts" \
        >"$tmp/wrk-$1.txt" 2>&1 || { cat "$tmp/wrk-$1.txt" >&2; die "wrk failed ($1)"; }
    local line
    line=$(grep '^RESULT ' "$tmp/wrk-$1.txt") || { cat "$tmp/wrk-$1.txt" >&2; die "no result ($1)"; }
    eval "$(echo "${line#RESULT }" | tr ' ' '\n' | sed 's/^/R_/')"
    local errs=$((R_connect + R_read + R_write + R_timeout))
    printf '  %-8s %10.0f alerts/s   p50 %7.3f ms   p90 %7.3f ms   p99 %7.3f ms   max %8.3f ms   non-2xx %d   socket errors %d\n' \
        "$1" "$R_rps" "$(ms "$R_p50_us")" "$(ms "$R_p90_us")" "$(ms "$R_p99_us")" \
        "$(ms "$R_max_us")" "$R_status" "$errs"
    [ "$R_status" -eq 0 ] || problem "$1: $R_status non-2xx answers out of $R_requests"
    [ "$errs" -eq 0 ] || problem "$1: socket errors connect=$R_connect read=$R_read write=$R_write timeout=$R_timeout"
    kill -0 "$sw_pid" 2>/dev/null || { cat "$tmp/slawatch.err" >&2; die "slawatch died during $1"; }
}

echo
echo "single POST /api/v1/alerts (wrk -t$THREADS -c$CONNS):"
run_wrk warm-up 2s
warm_requests=$R_requests
run_wrk measured "$DURATION"
s_rps=$R_rps s_p50=$R_p50_us s_p99=$R_p99_us s_requests=$R_requests s_status=$R_status
single_answered=$((warm_requests + s_requests))

# ---- 2. bulk NDJSON -----------------------------------------------------------
echo
nfiles=$(((BULK_TOTAL + BULK_LINES - 1) / BULK_LINES))
echo "bulk: building $BULK_TOTAL alerts as NDJSON in $nfiles bodies of up to $BULK_LINES lines..."
mkdir -p "$tmp/bulk"
awk -v total="$BULK_TOTAL" -v per="$BULK_LINES" -v dir="$tmp/bulk" -v t="$tenant" 'BEGIN {
    split("critical high medium low", sev, " ")
    for (i = 0; i < total; i++) {
        f = sprintf("%s/part-%04d.ndjson", dir, int(i / per))
        printf("{\"id\":\"bulk-%07d\",\"tenant_id\":\"%s\",\"severity\":\"%s\",\"title\":\"bulk alert %d\",\"source\":\"bench\",\"created_at\":\"2026-01-01T00:00:00Z\"}\n",
               i, t, sev[i % 4 + 1], i) > f
    }
}'
bytes=$(cat "$tmp/bulk"/*.ndjson | wc -c)
echo "bulk: $(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }') MiB, POST /api/v1/alerts/bulk, $BULK_PARALLEL at a time"

post_bulk() {   # post_bulk FILE → writes FILE.out (status on the last line)
    curl -sS -o "$1.out" -w '%{http_code}' -X POST -H "Authorization: Bearer $token" \
        -H 'Content-Type: application/x-ndjson' --data-binary "@$1" \
        "$base/api/v1/alerts/bulk" >"$1.status" 2>"$1.err" || echo "curl-failed" >"$1.status"
}
# BULK_PARALLEL workers, each posting every BULK_PARALLEL-th body in turn
# (a bare `wait` would also wait for the server).
t0=$(now_ns)
files=("$tmp/bulk"/*.ndjson)
workers=()
for ((w = 0; w < BULK_PARALLEL; w++)); do
    (for ((i = w; i < ${#files[@]}; i += BULK_PARALLEL)); do post_bulk "${files[$i]}"; done) &
    workers+=($!)
done
for pid in "${workers[@]}"; do
    wait "$pid" || true
done
t1=$(now_ns)
accepted=0
for f in "$tmp/bulk"/*.ndjson; do
    st=$(cat "$f.status")
    [ "$st" = 200 ] || problem "bulk $(basename "$f"): status $st $(head -c 300 "$f.out" 2>/dev/null) $(cat "$f.err")"
    n=$(sed -n 's/.*"accepted":\([0-9]*\).*/\1/p' "$f.out")
    accepted=$((accepted + ${n:-0}))
done
kill -0 "$sw_pid" 2>/dev/null || { cat "$tmp/slawatch.err" >&2; die "slawatch died during bulk"; }
b_secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
b_rps=$(awk -v n="$accepted" -v s="$b_secs" 'BEGIN { printf "%.0f", n / s }')
echo "  accepted $accepted of $BULK_TOTAL in $b_secs s: $b_rps alerts/s"
[ "$accepted" -eq "$BULK_TOTAL" ] || problem "bulk accepted $accepted, expected $BULK_TOTAL"

# ---- 3. rows ----------------------------------------------------------------
echo
rows=""
if command -v sqlite3 >/dev/null; then
    rows=$(sqlite3 "$tmp/bench.db" "select count(*) from alerts" 2>/dev/null || true)
fi
if [ -n "$rows" ]; then
    # wrk counts answers; a request in flight when wrk stops may still commit
    echo "rows: $rows in alerts (answered: $single_answered single + $accepted bulk)"
    [ "$rows" -ge $((single_answered + accepted)) ] ||
        problem "$rows rows, fewer than the $((single_answered + accepted)) alerts answered"
else
    echo "rows: sqlite3 not installed, row count skipped"
fi
if grep -qiE ' (error|warn) ' "$tmp/slawatch.err"; then
    echo "slawatch warnings/errors in its log:"
    grep -iE ' (error|warn) ' "$tmp/slawatch.err" | cut -c25- | sort | uniq -c | sort -rn | head -10
fi

# ---- summary ----------------------------------------------------------------
yes_no() { awk "BEGIN { if ($1) print \"yes\"; else print \"NO\" }"; }
echo
echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| ingest | alerts/s | p50 (ms) | p99 (ms) |"
echo "|---|---:|---:|---:|"
printf '| single POST /api/v1/alerts (wrk -t%s -c%s -d%s, durable, group commit) | %.0f | %s | %s |\n' \
    "$THREADS" "$CONNS" "$DURATION" "$s_rps" "$(ms "$s_p50")" "$(ms "$s_p99")"
printf '| bulk NDJSON, %s alerts in %s bodies, %s at a time | %s | | |\n' \
    "$BULK_TOTAL" "$nfiles" "$BULK_PARALLEL" "$b_rps"
echo
echo "goal: single >= $GOAL_SINGLE alerts/s ...... $(yes_no "$s_rps >= $GOAL_SINGLE") ($(printf '%.0f' "$s_rps"))"
echo "goal: single p99 <= $GOAL_SINGLE_P99_MS ms ........... $(yes_no "$s_p99 / 1000 <= $GOAL_SINGLE_P99_MS") ($(ms "$s_p99") ms)"
echo "goal: bulk >= $GOAL_BULK alerts/s ....... $(yes_no "$b_rps >= $GOAL_BULK") ($b_rps)"
if [ ${#problems[@]} -gt 0 ]; then
    echo
    echo "problems seen (${#problems[@]}):"
    printf '  - %s\n' "${problems[@]}"
fi
exit 0
