#!/bin/bash
# bench/breach/run.sh BUILD_DIR: breach detection latency at scale, and the
# scheduler's cost while nothing is due, per backend (BENCH_DB=sqlite|
# postgres|both, default both; bench/lib.sh: PostgreSQL is a throw-away
# durable cluster).  For each backend, a fresh database and server, and
#   1. loads BENCH_BREACH_OPEN (1,000,000) open low-severity alerts through
#      POST /api/v1/alerts/bulk (created now: their first instant, the 80 %
#      warning, is hours away), BENCH_BREACH_PARALLEL (2) bodies at a time;
#   2. connects one dashboard (bench/breach/wsrecv.c, compiled here) to
#      /api/v1/sla/ws;
#   3. creates BENCH_BREACH_DUE (1,000) critical alerts in one bulk body, all
#      with the same created_at, so that their ack deadline (15 min) falls at
#      the same instant BENCH_BREACH_LEAD_S (10) seconds later;
#   4. records, for every sla.breach the dashboard receives, receipt time
#      minus the deadline (due_at): p50 / p99 / max and the count;
#   5. measures slawatch's CPU time (utime + stime, /proc/PID/stat) over
#      BENCH_BREACH_IDLE_S (10) seconds while nothing is due.
# With BENCH_BREACH_WS_CHANNEL=1 the tenant configures the websocket channel,
# so notices reach the dashboard through the outbox and its worker instead of
# the scheduler's direct post-commit publish (store_escalation.h).
# Goals: p99 <= 1000 ms, every breach delivered once; idle CPU ~ 0 %.
# A missed goal is printed, not an error: exits non-zero only when it cannot run.
set -euo pipefail
export LC_ALL=C
. "$(dirname "$0")/../lib.sh"

OPEN=${BENCH_BREACH_OPEN:-1000000}
DUE=${BENCH_BREACH_DUE:-1000}
PARALLEL=${BENCH_BREACH_PARALLEL:-2}
LEAD_S=${BENCH_BREACH_LEAD_S:-10}
IDLE_S=${BENCH_BREACH_IDLE_S:-10}
WS_CHANNEL=${BENCH_BREACH_WS_CHANNEL:-0}
CHUNK=100000
GOAL_P99_MS=1000
GOAL_IDLE_PCT=1

[ $# -ge 1 ] || bench_die "usage: bench/breach/run.sh BUILD_DIR"
here=$(cd "$(dirname "$0")" && pwd)
command -v cc >/dev/null || bench_die "no C compiler (cc) for wsrecv.c"
command -v curl >/dev/null || bench_die "curl not installed"
bench_init breach "$1"
rx_pid=""
die() { [ -n "$rx_pid" ] && kill "$rx_pid" 2>/dev/null; bench_die "$*"; }

cc -O2 -o "$tmp/wsrecv" "$here/wsrecv.c" || die "cannot compile wsrecv.c"

echo "load:      $OPEN open alerts, $DUE due at one instant ${LEAD_S} s after their creation," \
     "dashboard path: $([ "$WS_CHANNEL" = 1 ] && echo 'outbox (websocket channel configured)' || echo 'direct (no websocket channel configured)')"

measure() {
local be=$1 url
url=$(bench_db_url "$be" bench_breach)
sw_start "$url" SLAWATCH_THREADS="${SLAWATCH_THREADS:-4}"
sw_pid=$SW_PID port=$SW_PORT
echo
echo "---- $be: slawatch pid $sw_pid on 127.0.0.1:$port, load average $(bench_load)"
base="http://127.0.0.1:$port"
auth="Authorization: Bearer $token"

code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "$auth" \
    -H 'Content-Type: application/json' -d '{"id":"bench","name":"Bench"}' "$base/api/v1/tenants")
[ "$code" = 201 ] || die "creating the tenant answered $code"
if [ "$WS_CHANNEL" = 1 ]; then
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "$auth" \
        -H 'Content-Type: application/json' -d '{"channels":["websocket"]}' \
        "$base/api/v1/sla/notifications/bench/configure")
    [ "$code" = 200 ] || die "configuring notifications answered $code"
fi

# 1. the open alerts, far from due
t0=$(date +%s.%N)
chunks=$(( (OPEN + CHUNK - 1) / CHUNK ))
for c in $(seq 0 $((chunks - 1))); do
    awk -v from=$((c * CHUNK)) -v to=$(( (c + 1) * CHUNK < OPEN ? (c + 1) * CHUNK : OPEN )) \
        'BEGIN { for (i = from; i < to; i++)
                 printf "{\"id\":\"bg-%d\",\"tenant_id\":\"bench\",\"severity\":\"low\"}\n", i }' \
        >"$tmp/bulk.$c"
done
post_bulk() {
    curl -s -o "$tmp/bulk.$1.res" -w '%{http_code}' -X POST -H "$auth" \
        -H 'Content-Type: application/x-ndjson' --data-binary "@$tmp/bulk.$1" "$base/api/v1/alerts/bulk"
}
running=0
for c in $(seq 0 $((chunks - 1))); do
    post_bulk "$c" >"$tmp/bulk.$c.code" &
    running=$((running + 1))
    if [ "$running" -ge "$PARALLEL" ]; then wait -n || true; running=$((running - 1)); fi
done
wait_bulk() { local j p; for j in $(jobs -p); do for p in "${bench_pids[@]}"; do [ "$j" = "$p" ] && continue 2; done; wait "$j" || true; done; }
wait_bulk
accepted=0
for c in $(seq 0 $((chunks - 1))); do
    [ "$(cat "$tmp/bulk.$c.code")" = 200 ] || die "bulk $c answered $(cat "$tmp/bulk.$c.code")"
    a=$(sed -n 's/.*"accepted":\([0-9]*\).*/\1/p' "$tmp/bulk.$c.res")
    accepted=$((accepted + ${a:-0}))
    rm -f "$tmp/bulk.$c"
done
t1=$(date +%s.%N)
load_s=$(printf '%.1f' "$(echo "$t1 - $t0" | bc)")
printf '%-44s %s in %s s\n' "open alerts loaded (bulk)" "$accepted" "$load_s"
[ "$accepted" -eq "$OPEN" ] || die "only $accepted of $OPEN alerts accepted"

# 2. the dashboard
"$tmp/wsrecv" "$port" bench "$token" "$DUE" $((LEAD_S + 60)) >"$tmp/rx" &
rx_pid=$!
for _ in $(seq 100); do grep -q ready "$tmp/rx" 2>/dev/null && break; sleep 0.05; done
grep -q ready "$tmp/rx" || die "the dashboard could not connect"

# 3. DUE critical alerts, one deadline: created_at = deadline - 15 min
now_ms=$(date +%s%3N)
deadline_ms=$(( now_ms + LEAD_S * 1000 ))
deadline_ms=$(( deadline_ms - deadline_ms % 1000 + 500 ))
created_ms=$(( deadline_ms - 15 * 60 * 1000 ))
created=$(date -u -d "@$((created_ms / 1000))" +%Y-%m-%dT%H:%M:%S).$(printf '%03d' $((created_ms % 1000)))Z
awk -v n="$DUE" -v at="$created" \
    'BEGIN { for (i = 0; i < n; i++)
             printf "{\"id\":\"due-%d\",\"tenant_id\":\"bench\",\"severity\":\"critical\",\"created_at\":\"%s\"}\n", i, at }' \
    >"$tmp/due"
code=$(curl -s -o "$tmp/due.res" -w '%{http_code}' -X POST -H "$auth" \
    -H 'Content-Type: application/x-ndjson' --data-binary "@$tmp/due" "$base/api/v1/alerts/bulk")
[ "$code" = 200 ] || die "creating the due alerts answered $code: $(cat "$tmp/due.res")"
printf '%-44s %s\n' "deadline of the $DUE critical alerts" \
    "$(date -u -d "@$((deadline_ms / 1000))" +%H:%M:%S).500Z, $(( (deadline_ms - $(date +%s%3N)) )) ms after they were created"

# 4. their breaches on the dashboard
wait "$rx_pid" && rx_ok=1 || rx_ok=0
rx_pid=""
val() { sed -n "s/^$1 //p" "$tmp/rx"; }
printf '%-44s %s of %s\n' "sla.breach received by the dashboard" "$(val count)" "$DUE"
printf '%-44s p50 %s ms, p99 %s ms, max %s ms (min %s)\n' "deadline -> WebSocket delivery" \
    "$(val p50_ms)" "$(val p99_ms)" "$(val max_ms)" "$(val min_ms)"

# 5. idle CPU: nothing due for hours
sleep 2
ticks() { awk '{print $14 + $15}' "/proc/$sw_pid/stat"; }
hz=$(getconf CLK_TCK)
c0=$(ticks); s0=$(date +%s.%N)
sleep "$IDLE_S"
c1=$(ticks); s1=$(date +%s.%N)
idle_pct=$(echo "scale=3; ($c1 - $c0) * 100 / $hz / ($s1 - $s0)" | bc)
printf '%-44s %s %% of one core (%s ticks of 1/%s s in %.1f s)\n' "slawatch CPU while nothing is due" \
    "$idle_pct" "$((c1 - c0))" "$hz" "$(echo "$s1 - $s0" | bc)"
metrics=$(curl -s "$base/metrics")
printf '%-44s rounds %s, processed %s, errors %s\n' "scheduler (/metrics)" \
    "$(echo "$metrics" | sed -n 's/^slawatch_sched_rounds_total //p')" \
    "$(echo "$metrics" | sed -n 's/^slawatch_sched_processed_total //p')" \
    "$(echo "$metrics" | sed -n 's/^slawatch_sched_errors_total //p')"

R_P99[$be]=$(val p99_ms) R_P50[$be]=$(val p50_ms) R_MAX[$be]=$(val max_ms) R_N[$be]=$(val count)
R_IDLE[$be]=$idle_pct R_LOADT[$be]=$load_s R_OK[$be]=$rx_ok
sw_stop "$sw_pid"
}

declare -A R_P99 R_P50 R_MAX R_N R_IDLE R_LOADT R_OK
backends=$(bench_backends)
for be in $backends; do measure "$be"; done
echo
hdr="| breach, $OPEN open + $DUE due at one instant |" sep="|---|"
for be in $backends; do hdr="$hdr $be |"; sep="$sep---|"; done
echo "$hdr"; echo "$sep"
l="| load $OPEN open alerts (bulk, $PARALLEL at a time) |"; for be in $backends; do l="$l ${R_LOADT[$be]} s |"; done; echo "$l"
l="| deadline -> sla.breach on the WebSocket: p50 / p99 / max |"; for be in $backends; do l="$l ${R_P50[$be]} / ${R_P99[$be]} / ${R_MAX[$be]} ms (${R_N[$be]} of $DUE) |"; done; echo "$l"
l="| slawatch CPU while nothing is due |"; for be in $backends; do l="$l ${R_IDLE[$be]} % |"; done; echo "$l"
echo
for be in $backends; do
    ok=1
    [ "${R_OK[$be]}" = 1 ] || { ok=0; echo "$be: GOAL MISSED: not every breach reached the dashboard"; }
    awk -v v="${R_P99[$be]}" -v g="$GOAL_P99_MS" 'BEGIN{exit !(v != "" && v <= g)}' || { ok=0; echo "$be: GOAL MISSED: p99 deadline -> delivery"; }
    awk -v v="${R_IDLE[$be]}" -v g="$GOAL_IDLE_PCT" 'BEGIN{exit !(v <= g)}' || { ok=0; echo "$be: GOAL MISSED: idle CPU"; }
    [ "$ok" = 1 ] && echo "$be: goals met"
done
exit 0
