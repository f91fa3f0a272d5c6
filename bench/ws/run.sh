#!/bin/bash
# bench/ws/run.sh BUILD_DIR: WebSocket fan-out of slawatch.
#
# Starts `slawatch serve` on a free loopback port (fresh SQLite in a temp dir,
# metrics pushed every BENCH_WS_INTERVAL_MS), creates a tenant, and runs
# bench/ws/wsload.c (compiled here with cc): BENCH_WS_CLIENTS dashboards
# (2000) on that tenant from one epoll thread, then
#   - RSS of slawatch (VmRSS) before and after connecting: KB per client;
#   - for BENCH_WS_BROADCASTS (10) metrics broadcasts, each client's receive
#     time minus the message's `at` (server send time, ms): p50/p99/max, and
#     per broadcast the time until the LAST client had it.
# Goals: all clients reached within 100 ms; RSS growth <= 50 KB per client.
# A missed goal is printed, not an error: exits non-zero only when it cannot
# run.  Raises `ulimit -n` (needs a hard limit above 2 x clients).
set -euo pipefail
export LC_ALL=C

CLIENTS=${BENCH_WS_CLIENTS:-2000}
BROADCASTS=${BENCH_WS_BROADCASTS:-10}
INTERVAL_MS=${BENCH_WS_INTERVAL_MS:-1000}
GOAL_REACH_MS=100
GOAL_KB=50

die() { echo "bench/ws: $*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: bench/ws/run.sh BUILD_DIR"
build=$(cd "$1" 2>/dev/null && pwd) || die "no build directory '$1'"
bin=$build/slawatch
[ -x "$bin" ] || die "$bin not found (cmake --build $build --target slawatch)"
here=$(cd "$(dirname "$0")" && pwd)
command -v cc >/dev/null || die "no C compiler (cc) for wsload.c"
command -v curl >/dev/null || die "curl not installed"

want_fds=$((CLIENTS * 2 + 256))
ulimit -n "$want_fds" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" -ge "$((CLIENTS + 128))" ] || die "ulimit -n is $(ulimit -n), need $((CLIENTS + 128))"

build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
sanitize=$(sed -n 's/^SLAWATCH_SANITIZE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/slawatch-bench-ws.XXXXXX")
sw_pid=""
cleanup() {
    if [ -n "$sw_pid" ] && kill -0 "$sw_pid" 2>/dev/null; then
        kill -TERM "$sw_pid" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$sw_pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$sw_pid" 2>/dev/null && kill -KILL "$sw_pid" 2>/dev/null || true
        wait "$sw_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cc -O2 -o "$tmp/wsload" "$here/wsload.c" || die "cannot compile wsload.c"

cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
echo "machine:   $(nproc) cores, ${cpu_model:-$(uname -m)}, kernel $(uname -r)"
echo "date:      $(date -u +%Y-%m-%dT%H:%M:%SZ), load average $(cut -d' ' -f1-3 /proc/loadavg) before the run"
echo "slawatch:  $bin (CMAKE_BUILD_TYPE=${build_type:-?}${sanitize:+, SLAWATCH_SANITIZE=$sanitize})"
echo "load:      $CLIENTS clients on one tenant, metrics every $INTERVAL_MS ms, $BROADCASTS broadcasts measured, ulimit -n $(ulimit -n)"

token="bench-admin-token-$(date +%s)-$$"
# every client comes from 127.0.0.1: lift the per-address limit (512 by
# default, an eighth of the default max_connections) with the total
SLAWATCH_ADMIN_TOKEN=$token SLAWATCH_WS_METRICS_INTERVAL_MS=$INTERVAL_MS \
SLAWATCH_MAX_CONNECTIONS=$((CLIENTS + 512)) \
SLAWATCH_MAX_CONNECTIONS_PER_IP=$((CLIENTS + 512)) \
    "$bin" serve --listen 127.0.0.1:0 --db "sqlite:$tmp/bench.db" >"$tmp/out" 2>"$tmp/log" &
sw_pid=$!
port=""
for _ in $(seq 100); do
    port=$(sed -n 's/^listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/out" | head -1)
    [ -n "$port" ] && break
    kill -0 "$sw_pid" 2>/dev/null || { cat "$tmp/log" >&2; die "slawatch exited at start"; }
    sleep 0.1
done
[ -n "$port" ] || die "slawatch did not print its listening line"

code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d '{"id":"bench","name":"Bench"}' \
    "http://127.0.0.1:$port/api/v1/tenants")
[ "$code" = 201 ] || die "creating the tenant answered $code"
sleep 0.5

"$tmp/wsload" "$port" bench "$token" "$CLIENTS" "$BROADCASTS" "$sw_pid" >"$tmp/res" \
    || { cat "$tmp/res"; tail -20 "$tmp/log" >&2; die "wsload failed"; }
kill -0 "$sw_pid" 2>/dev/null || die "slawatch died under load"

val() { sed -n "s/^$1 //p" "$tmp/res"; }
gauge=$(curl -s "http://127.0.0.1:$port/metrics" | sed -n 's/^slawatch_ws_clients //p')

echo
printf '%-44s %s\n' "clients connected (slawatch_ws_clients)" "$CLIENTS ($gauge after the run)"
printf '%-44s %s ms\n' "time to connect them (one by one)" "$(val connect_ms)"
printf '%-44s %s -> %s KB\n' "slawatch VmRSS before -> after" "$(val rss_before_kb)" "$(val rss_after_kb)"
printf '%-44s %s KB   (goal <= %s)\n' "RSS growth per client" "$(val rss_per_client_kb)" "$GOAL_KB"
printf '%-44s %s\n' "latency samples (client x broadcast)" "$(val samples)"
printf '%-44s p50 %s ms, p99 %s ms, max %s ms\n' "per-message latency (recv - at)" \
    "$(val latency_p50_ms)" "$(val latency_p99_ms)" "$(val latency_max_ms)"
printf '%-44s p50 %s ms, max %s ms over %s broadcasts   (goal <= %s)\n' \
    "time until the LAST client had a broadcast" "$(val all_reached_p50_ms)" \
    "$(val all_reached_max_ms)" "$(val broadcasts)" "$GOAL_REACH_MS"

ok=1
awk -v v="$(val rss_per_client_kb)" -v g="$GOAL_KB" 'BEGIN{exit !(v <= g)}' || { ok=0; echo "GOAL MISSED: RSS per client"; }
awk -v v="$(val all_reached_max_ms)" -v g="$GOAL_REACH_MS" 'BEGIN{exit !(v <= g)}' || { ok=0; echo "GOAL MISSED: broadcast reach"; }
[ "$ok" = 1 ] && echo "goals met"

# a clean stop with every client still connected
kill -TERM "$sw_pid"
for _ in $(seq 100); do kill -0 "$sw_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$sw_pid" 2>/dev/null; then
    echo "WARNING: slawatch did not stop within 10 s of SIGTERM"
else
    wait "$sw_pid" && echo "SIGTERM with clients connected: exit 0" || echo "WARNING: slawatch exited $?"
    sw_pid=""
fi
