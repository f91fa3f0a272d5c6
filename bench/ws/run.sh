#!/bin/bash
# bench/ws/run.sh BUILD_DIR: WebSocket fan-out of slawatch.
#
# Per backend (BENCH_DB=sqlite|postgres|both, default both; bench/lib.sh),
# starts `slawatch serve` on a free loopback port (a fresh database, metrics
# pushed every BENCH_WS_INTERVAL_MS), creates a tenant, and runs
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
. "$(dirname "$0")/../lib.sh"

CLIENTS=${BENCH_WS_CLIENTS:-2000}
BROADCASTS=${BENCH_WS_BROADCASTS:-10}
INTERVAL_MS=${BENCH_WS_INTERVAL_MS:-1000}
GOAL_REACH_MS=100
GOAL_KB=50

[ $# -ge 1 ] || bench_die "usage: bench/ws/run.sh BUILD_DIR"
die() { bench_die "$*"; }
here=$(cd "$(dirname "$0")" && pwd)
command -v cc >/dev/null || die "no C compiler (cc) for wsload.c"
command -v curl >/dev/null || die "curl not installed"

want_fds=$((CLIENTS * 2 + 256))
ulimit -n "$want_fds" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" -ge "$((CLIENTS + 128))" ] || die "ulimit -n is $(ulimit -n), need $((CLIENTS + 128))"

bench_init ws "$1"

cc -O2 -o "$tmp/wsload" "$here/wsload.c" || die "cannot compile wsload.c"

echo "load:      $CLIENTS clients on one tenant, metrics every $INTERVAL_MS ms, $BROADCASTS broadcasts measured, ulimit -n $(ulimit -n)"

measure() {
local be=$1 url
url=$(bench_db_url "$be" bench_ws)
# every client comes from 127.0.0.1: lift the per-address limit (512 by
# default, an eighth of the default max_connections) with the total
sw_start "$url" SLAWATCH_WS_METRICS_INTERVAL_MS="$INTERVAL_MS" \
    SLAWATCH_MAX_CONNECTIONS=$((CLIENTS + 512)) SLAWATCH_MAX_CONNECTIONS_PER_IP=$((CLIENTS + 512))
sw_pid=$SW_PID port=$SW_PORT
echo
echo "---- $be: slawatch pid $sw_pid on 127.0.0.1:$port, load average $(bench_load)"

code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d '{"id":"bench","name":"Bench"}' \
    "http://127.0.0.1:$port/api/v1/tenants")
[ "$code" = 201 ] || die "creating the tenant answered $code"
sleep 0.5

"$tmp/wsload" "$port" bench "$token" "$CLIENTS" "$BROADCASTS" "$sw_pid" >"$tmp/res" \
    || { cat "$tmp/res"; tail -20 "$SW_LOG" >&2; die "wsload failed"; }
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

R_KB[$be]=$(val rss_per_client_kb) R_REACH50[$be]=$(val all_reached_p50_ms) R_REACH[$be]=$(val all_reached_max_ms)
R_P99[$be]=$(val latency_p99_ms)
# a clean stop with every client still connected
kill -TERM "$sw_pid"
for _ in $(seq 100); do kill -0 "$sw_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$sw_pid" 2>/dev/null; then
    echo "WARNING: slawatch did not stop within 10 s of SIGTERM"
else
    wait "$sw_pid" && echo "SIGTERM with clients connected: exit 0" || echo "WARNING: slawatch exited $?"
fi
sw_stop "$sw_pid"
}

declare -A R_KB R_REACH50 R_REACH R_P99
backends=$(bench_backends)
for be in $backends; do measure "$be"; done
echo
hdr="| ws, $CLIENTS dashboards |" sep="|---|"
for be in $backends; do hdr="$hdr $be |"; sep="$sep---|"; done
echo "$hdr"; echo "$sep"
l="| RSS per client |"; for be in $backends; do l="$l ${R_KB[$be]} KB |"; done; echo "$l"
l="| last client reached: p50 / max |"; for be in $backends; do l="$l ${R_REACH50[$be]} / ${R_REACH[$be]} ms |"; done; echo "$l"
l="| per-message p99 |"; for be in $backends; do l="$l ${R_P99[$be]} ms |"; done; echo "$l"
for be in $backends; do
    ok=1
    awk -v v="${R_KB[$be]}" -v g="$GOAL_KB" 'BEGIN{exit !(v <= g)}' || { ok=0; echo "$be: GOAL MISSED: RSS per client"; }
    awk -v v="${R_REACH[$be]}" -v g="$GOAL_REACH_MS" 'BEGIN{exit !(v <= g)}' || { ok=0; echo "$be: GOAL MISSED: broadcast reach"; }
    [ "$ok" = 1 ] && echo "$be: goals met"
done
exit 0
