#!/bin/bash
# bench/ingest/run.sh BUILD_DIR: alert ingest throughput of slawatch, per
# backend (BENCH_DB=sqlite|postgres|both, default both; bench/lib.sh), each
# on a fresh database and server:
#
#   1. single-alert POST /api/v1/alerts, a new id per request (wrk + Lua),
#      wrk -t$BENCH_THREADS -c$BENCH_CONNECTIONS -d$BENCH_DURATION (2, 64, 10s).
#      Durable: SQLite runs synchronous=FULL, PostgreSQL fsync=on and
#      synchronous_commit=on; concurrent requests share one commit (group
#      commit, src/store/alert_writer.c) and each request's connection is
#      suspended until its commit, so the server runs with SLAWATCH_THREADS=
#      $BENCH_SERVER_THREADS (2).
#   2. POST /api/v1/alerts/bulk: 1,000,000 alerts as NDJSON in bodies of
#      $BENCH_BULK_LINES (100,000) lines (one 1M-line body would pass the
#      64 MiB max_bulk_bytes default), $BENCH_BULK_PARALLEL (2) at a time,
#      on SLAWATCH_BULK_WORKERS=$BENCH_BULK_WORKERS (default: as many as run
#      at a time; the server's default is 1, which runs imports one after
#      the other and keeps the other core for interactive requests):
#      first "fresh" alerts (created now), then "history" ones created
#      2026-01-01, which arrive breached (two breach records each).
#   3. the row count: every answered alert is in the database.
#   The server's and PostgreSQL's CPU seconds over each phase are printed.
#
# Goals: SQLite single >= 20,000 alerts/s with p99 <= 10 ms, bulk >= 300,000
# alerts/s; PostgreSQL single >= 8,000 alerts/s with p99 <= 20 ms.  A missed
# goal is reported, not an error: the script exits non-zero only when it
# cannot run.  Loopback only; touches nothing outside its temp dir.
set -euo pipefail
export LC_ALL=C
. "$(dirname "$0")/../lib.sh"

DURATION=${BENCH_DURATION:-10s}
CONNS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
SERVER_THREADS=${BENCH_SERVER_THREADS:-2}
BULK_TOTAL=${BENCH_BULK_TOTAL:-1000000}
BULK_LINES=${BENCH_BULK_LINES:-100000}
BULK_PARALLEL=${BENCH_BULK_PARALLEL:-2}
BULK_WORKERS=${BENCH_BULK_WORKERS:-$BULK_PARALLEL}
declare -A GOAL_SINGLE=([sqlite]=20000 [postgres]=8000)
declare -A GOAL_P99_MS=([sqlite]=10 [postgres]=20)
declare -A GOAL_BULK=([sqlite]=300000 [postgres]=0)

[ $# -ge 1 ] || bench_die "usage: bench/ingest/run.sh BUILD_DIR"
command -v wrk >/dev/null || bench_die "wrk not installed (scripts/deps.sh --bench)"
command -v curl >/dev/null || bench_die "curl not installed"
bench_init ingest "$1"
bench_quiet
echo "database:  SQLite in $tmp on $(df -T "$tmp" | awk 'NR == 2 { print $2 }') (synchronous=FULL)"

problems=()
problem() { problems+=("$*"); echo "PROBLEM: $*"; }
now_ns() { date +%s%N; }

tenant=bench
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
EOF
bench_wrk_report_lua >>"$tmp/post.lua"

# the NDJSON bodies, built once for every backend: "history" alerts were
# created 2026-01-01 (each arrives with both clocks breached: the history
# rule writes two breach records beside it); "fresh" ones start now (the
# body the issue-10 baseline was taken with, before the history rule)
nfiles=$(((BULK_TOTAL + BULK_LINES - 1) / BULK_LINES))
mkdir -p "$tmp/bulk-history" "$tmp/bulk-fresh"
awk -v total="$BULK_TOTAL" -v per="$BULK_LINES" -v dir="$tmp" -v t="$tenant" 'BEGIN {
    split("critical high medium low", sev, " ")
    for (i = 0; i < total; i++) {
        part = sprintf("part-%04d.ndjson", int(i / per))
        printf("{\"id\":\"bulk-%07d\",\"tenant_id\":\"%s\",\"severity\":\"%s\",\"title\":\"bulk alert %d\",\"source\":\"bench\",\"created_at\":\"2026-01-01T00:00:00Z\"}\n",
               i, t, sev[i % 4 + 1], i) > (dir "/bulk-history/" part)
        printf("{\"id\":\"fresh-%07d\",\"tenant_id\":\"%s\",\"severity\":\"%s\",\"title\":\"bulk alert %d\",\"source\":\"bench\"}\n",
               i, t, sev[i % 4 + 1], i) > (dir "/bulk-fresh/" part)
    }
}'
bytes=$(cat "$tmp/bulk-history"/*.ndjson | wc -c)
echo "bulk:      $BULK_TOTAL fresh alerts, then $BULK_TOTAL history ones ($(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }') MiB of NDJSON) in $nfiles bodies each, $BULK_PARALLEL at a time"

run_wrk() {   # run_wrk NAME DURATION
    WRK_RUN=$1 wrk -t"$THREADS" -c"$CONNS" -d"$2" --latency -H "Authorization: Bearer $token" \
        -H "Content-Type: application/json" -s "$tmp/post.lua" "$base/api/v1/alerts" \
        >"$tmp/wrk-$1.txt" 2>&1 || { cat "$tmp/wrk-$1.txt" >&2; bench_die "wrk failed ($1)"; }
    local line
    line=$(grep '^RESULT ' "$tmp/wrk-$1.txt") || { cat "$tmp/wrk-$1.txt" >&2; bench_die "no result ($1)"; }
    eval "$(echo "${line#RESULT }" | tr ' ' '\n' | sed 's/^/R_/')"
    local errs=$((R_connect + R_read + R_write + R_timeout))
    printf '  %-18s %10.0f alerts/s   p50 %7.2f ms   p90 %7.2f ms   p99 %7.2f ms   max %8.2f ms   non-2xx %d   socket errors %d\n' \
        "$1" "$R_rps" "$(ms "$R_p50_us")" "$(ms "$R_p90_us")" "$(ms "$R_p99_us")" \
        "$(ms "$R_max_us")" "$R_status" "$errs"
    [ "$R_status" -eq 0 ] || problem "$1: $R_status non-2xx answers out of $R_requests"
    [ "$errs" -eq 0 ] || problem "$1: socket errors connect=$R_connect read=$R_read write=$R_write timeout=$R_timeout"
    kill -0 "$sw_pid" 2>/dev/null || { cat "$SW_LOG" >&2; bench_die "slawatch died during $1"; }
}

post_bulk() {   # post_bulk FILE → writes FILE.out (status in FILE.status)
    curl -sS -o "$1.out" -w '%{http_code}' -X POST -H "Authorization: Bearer $token" \
        -H 'Content-Type: application/x-ndjson' --data-binary "@$1" \
        "$base/api/v1/alerts/bulk" >"$1.status" 2>"$1.err" || echo "curl-failed" >"$1.status"
}

# CPU seconds of the server and of PostgreSQL, for "where did the time go"
cpu_mark() {
    C_SW=$(cpu_s "$sw_pid")
    C_PG=0
    [ "$1" = postgres ] && C_PG=$(pg_cpu_s)
    return 0
}
cpu_since() {   # prints "server X s, postgres Y s"
    local sw pg=0
    sw=$(echo "$(cpu_s "$sw_pid") - $C_SW" | bc)
    [ "$1" = postgres ] && pg=$(echo "$(pg_cpu_s) - $C_PG" | bc)
    printf 'server %.1f s' "$sw"
    [ "$1" = postgres ] && printf ', postgres %.1f s' "$pg"
    return 0
}

declare -A S_RPS S_P50 S_P99 B_RPS B_ACC ROWS LOAD0 LOAD1 S_CPU B_CPU

# run_bulk BACKEND KIND: the KIND bodies, BULK_PARALLEL at a time
run_bulk() {
    local be=$1 kind=$2 t0 t1 files workers=() w i pid
    echo "bulk NDJSON ($kind):"
    files=("$tmp/bulk-$kind"/*.ndjson)
    rm -f "$tmp/bulk-$kind"/*.out "$tmp/bulk-$kind"/*.status "$tmp/bulk-$kind"/*.err
    cpu_mark "$be"
    t0=$(now_ns)
    for ((w = 0; w < BULK_PARALLEL; w++)); do
        (for ((i = w; i < ${#files[@]}; i += BULK_PARALLEL)); do post_bulk "${files[$i]}"; done) &
        workers+=($!)
    done
    for pid in "${workers[@]}"; do wait "$pid" || true; done
    t1=$(now_ns)
    B_CPU[$be, $kind]=$(cpu_since "$be")
    local accepted=0 f st n
    for f in "${files[@]}"; do
        st=$(cat "$f.status")
        [ "$st" = 200 ] || problem "$be: bulk $kind $(basename "$f"): status $st $(head -c 300 "$f.out" 2>/dev/null) $(cat "$f.err")"
        n=$(sed -n 's/.*"accepted":\([0-9]*\).*/\1/p' "$f.out")
        accepted=$((accepted + ${n:-0}))
    done
    kill -0 "$sw_pid" 2>/dev/null || { cat "$SW_LOG" >&2; bench_die "slawatch died during bulk"; }
    local secs
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
    B_RPS[$be, $kind]=$(awk -v n="$accepted" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
    B_ACC[$be, $kind]=$accepted
    echo "  accepted $accepted of $BULK_TOTAL in $secs s: ${B_RPS[$be, $kind]} alerts/s; CPU ${B_CPU[$be, $kind]}"
    [ "$accepted" -eq "$BULK_TOTAL" ] || problem "$be: bulk $kind accepted $accepted, expected $BULK_TOTAL"
}

measure() {
    local be=$1 url
    url=$(bench_db_url "$be" bench_ingest)
    sw_start "$url" SLAWATCH_THREADS="$SERVER_THREADS" SLAWATCH_BULK_WORKERS="$BULK_WORKERS"
    sw_pid=$SW_PID
    base="http://127.0.0.1:$SW_PORT"
    LOAD0[$be]=$(bench_load)
    echo
    echo "---- $be: slawatch pid $sw_pid on 127.0.0.1:$SW_PORT, SLAWATCH_THREADS=$SERVER_THREADS, SLAWATCH_BULK_WORKERS=$BULK_WORKERS, load average ${LOAD0[$be]}"
    curl -sS --fail-with-body -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
        -d "{\"id\":\"$tenant\",\"name\":\"Bench tenant\",\"template\":\"premium\"}" \
        "$base/api/v1/tenants" >/dev/null || bench_die "cannot create the tenant"

    echo "single POST /api/v1/alerts (wrk -t$THREADS -c$CONNS):"
    run_wrk "$be-warm-up" 2s
    local warm=$R_requests
    cpu_mark "$be"
    run_wrk "$be-measured" "$DURATION"
    S_CPU[$be]=$(cpu_since "$be")
    echo "  CPU over the measured run: ${S_CPU[$be]}"
    S_RPS[$be]=$R_rps S_P50[$be]=$R_p50_us S_P99[$be]=$R_p99_us
    local single=$((warm + R_requests))

    run_bulk "$be" fresh
    run_bulk "$be" history
    local accepted=$((B_ACC[$be, fresh] + B_ACC[$be, history]))

    # every answered alert is a row (a request in flight when wrk stops may
    # still commit, so >=)
    ROWS[$be]=$(echo "SELECT count(*) FROM alerts;" | bench_sql "$be" "$url")
    echo "rows: ${ROWS[$be]} in alerts (answered: $single single + $accepted bulk)"
    [ "${ROWS[$be]}" -ge $((single + accepted)) ] ||
        problem "$be: ${ROWS[$be]} rows, fewer than the $((single + accepted)) alerts answered"
    if grep -qiE ' (error|warn) ' "$SW_LOG"; then
        echo "slawatch warnings/errors in its log:"
        grep -iE ' (error|warn) ' "$SW_LOG" | cut -c25- | sort | uniq -c | sort -rn | head -10
    fi
    sw_stop "$sw_pid"
    LOAD1[$be]=$(bench_load)
}

backends=$(bench_backends)
for be in $backends; do measure "$be"; done

# ---- summary ----------------------------------------------------------------
echo
hdr="| ingest |" sep="|---|"
for be in $backends; do hdr="$hdr $be |"; sep="$sep---|"; done
echo "$hdr"
echo "$sep"
line="| single POST /api/v1/alerts, wrk -t$THREADS -c$CONNS -d$DURATION: alerts/s, p50, p99 |"
for be in $backends; do
    line="$line $(printf '%.0f' "${S_RPS[$be]}")/s, $(ms "${S_P50[$be]}") ms, $(ms "${S_P99[$be]}") ms |"
done
echo "$line"
for kind in fresh history; do
    line="| bulk NDJSON ($kind), $BULK_TOTAL alerts in $nfiles bodies, $BULK_PARALLEL at a time |"
    for be in $backends; do line="$line ${B_RPS[$be, $kind]}/s |"; done
    echo "$line"
done
line="| CPU during single / bulk fresh / bulk history |"
for be in $backends; do line="$line ${S_CPU[$be]} / ${B_CPU[$be, fresh]} / ${B_CPU[$be, history]} |"; done
echo "$line"
line="| load average before / after |"
for be in $backends; do line="$line ${LOAD0[$be]} / ${LOAD1[$be]} |"; done
echo "$line"
echo
for be in $backends; do
    echo "$be: single >= ${GOAL_SINGLE[$be]}/s: $(yes_no "${S_RPS[$be]} >= ${GOAL_SINGLE[$be]}")" \
        "($(printf '%.0f' "${S_RPS[$be]}")); p99 <= ${GOAL_P99_MS[$be]} ms:" \
        "$(yes_no "${S_P99[$be]} / 1000 <= ${GOAL_P99_MS[$be]}") ($(ms "${S_P99[$be]}") ms)" \
        "$([ "${GOAL_BULK[$be]}" -gt 0 ] && echo "; bulk fresh >= ${GOAL_BULK[$be]}/s: $(yes_no "${B_RPS[$be, fresh]} >= ${GOAL_BULK[$be]}") (${B_RPS[$be, fresh]})")"
done
if [ ${#problems[@]} -gt 0 ]; then
    echo
    echo "problems seen (${#problems[@]}):"
    printf '  - %s\n' "${problems[@]}"
fi
exit 0
