#!/bin/bash
# bench/cluster/run.sh BUILD_DIR: two slawatch nodes on one PostgreSQL
# (fsync and synchronous_commit on; bench/lib.sh starts the throw-away
# cluster).  PostgreSQL only: with BENCH_DB=sqlite it prints "skipped".
#
#   1. single-alert ingest through ONE node: wrk -t2 -c$BENCH_CONNECTIONS
#      -d$BENCH_DURATION (64, 10s) POST /api/v1/alerts, new ids;
#   2. the same load split over TWO nodes (a second `slawatch serve` on the
#      same database, half the connections each, both wrk at once): total
#      alerts/s, and the ratio two / one;
#      CPU seconds of each node and of PostgreSQL over each phase, because
#      on a 2-core machine the nodes and the database share the CPU and that,
#      not the database's write rate, is the bound;
#   3. breach to notice: BENCH_CLUSTER_DUE (1000) critical alerts, half
#      created through each node, all with one ack deadline
#      BENCH_CLUSTER_LEAD_S (10) s ahead; the tenant's webhook goes to a local
#      receiver (bench/receiver.py); prints receipt minus deadline p50 / p99
#      / max and checks every breach was delivered exactly once in total
#      (deliveries counted per alert and per Idempotency-Key) although both
#      nodes run a scheduler and an outbox worker.
# Goals: two nodes >= 0.9 x one node; breach p99 <= 1000 ms; 0 missing, 0
# duplicate.  A missed goal is printed, not an error.
set -euo pipefail
export LC_ALL=C
. "$(dirname "$0")/../lib.sh"

DURATION=${BENCH_DURATION:-10s}
CONNS=${BENCH_CONNECTIONS:-64}
DUE=${BENCH_CLUSTER_DUE:-1000}
LEAD_S=${BENCH_CLUSTER_LEAD_S:-10}
SERVER_THREADS=${BENCH_SERVER_THREADS:-2}
GOAL_RATIO=0.9
GOAL_P99_MS=1000

[ $# -ge 1 ] || bench_die "usage: bench/cluster/run.sh BUILD_DIR"
case " $(bench_backends) " in
    *" postgres "*) ;;
    *) echo "bench/cluster: skipped (two nodes share a PostgreSQL database; BENCH_DB=$BENCH_DB)"; exit 0 ;;
esac
BENCH_DB=postgres
command -v wrk >/dev/null || bench_die "wrk not installed (scripts/deps.sh --bench)"
command -v python3 >/dev/null || bench_die "python3 not installed (the webhook receiver)"
bench_init cluster "$1"
bench_quiet

problems=()
problem() { problems+=("$*"); echo "PROBLEM: $*"; }

url=$(bench_db_url postgres bench_cluster)
node_env=(SLAWATCH_THREADS="$SERVER_THREADS" SLAWATCH_NOTIFY_ALLOW_PRIVATE=on SLAWATCH_NOTIFY_FLOOD_MAX=0)
sw_start "$url" "${node_env[@]}"
a_pid=$SW_PID a_port=$SW_PORT
auth="Authorization: Bearer $token"
api() {   # api PORT METHOD PATH [JSON]: prints the status
    curl -s -o "$tmp/api.out" -w '%{http_code}' -X "$2" -H "$auth" \
        -H 'Content-Type: application/json' ${4:+-d "$4"} "http://127.0.0.1:$1$3"
}

# the receiver
python3 "$bench_here/receiver.py" "$tmp/rx.port" "$tmp/rx.log" &
bench_pids+=("$!")
for _ in $(seq 100); do [ -s "$tmp/rx.port" ] && break; sleep 0.05; done
[ -s "$tmp/rx.port" ] || bench_die "the webhook receiver did not start"
rx_port=$(cat "$tmp/rx.port")
: >"$tmp/rx.log"

[ "$(api "$a_port" POST /api/v1/tenants '{"id":"bench","name":"Bench"}')" = 201 ] ||
    bench_die "creating the tenant: $(cat "$tmp/api.out")"
[ "$(api "$a_port" POST /api/v1/sla/notifications/bench/configure \
    "{\"channels\":[\"webhook\"],\"recipients\":{\"webhook\":[\"http://127.0.0.1:$rx_port/hook\"]},\"thresholds\":[100],\"webhook_secret\":\"bench-webhook-secret-0123\"}")" = 200 ] ||
    bench_die "configuring the webhook: $(cat "$tmp/api.out")"

cat >"$tmp/post.lua" <<EOF
local nonce = "$(date +%s)-$$-" .. (os.getenv("WRK_RUN") or "x")
local nthreads = 0
function setup(thread)
    nthreads = nthreads + 1
    thread:set("tid", nthreads)
end
local counter = 0
function request()
    counter = counter + 1
    local body = '{"id":"c-' .. nonce .. '-' .. tid .. '-' .. counter ..
                 '","tenant_id":"bench","severity":"low","title":"cluster bench","source":"wrk"}'
    return wrk.format("POST", nil, nil, body)
end
EOF
bench_wrk_report_lua >>"$tmp/post.lua"

wrk_start() {   # wrk_start NAME PORT CONNS DURATION (background; pid in WRK_PID)
    WRK_RUN=$1 wrk -t2 -c"$3" -d"$4" --latency -H "$auth" -H "Content-Type: application/json" \
        -s "$tmp/post.lua" "http://127.0.0.1:$2/api/v1/alerts" >"$tmp/wrk-$1.txt" 2>&1 &
    WRK_PID=$!
}
wrk_result() {  # wrk_result NAME: sets R_* from its RESULT line
    local line
    line=$(grep '^RESULT ' "$tmp/wrk-$1.txt") || { cat "$tmp/wrk-$1.txt" >&2; bench_die "no wrk result ($1)"; }
    eval "$(echo "${line#RESULT }" | tr ' ' '\n' | sed 's/^/R_/')"
    [ "$R_status" -eq 0 ] || problem "$1: $R_status non-2xx answers"
}

echo
echo "---- ingest, one node (pid $a_pid), wrk -t2 -c$CONNS -d$DURATION, load average $(bench_load)"
wrk_start warm "$a_port" "$CONNS" 2s; wait "$WRK_PID"
c_a0=$(cpu_s "$a_pid") c_pg0=$(pg_cpu_s)
wrk_start one "$a_port" "$CONNS" "$DURATION"; wait "$WRK_PID"
wrk_result one
one_rps=$R_rps one_p99=$R_p99_us one_n=$R_requests
one_cpu="node A $(echo "$(cpu_s "$a_pid") - $c_a0" | bc) s, postgres $(echo "$(pg_cpu_s) - $c_pg0" | bc) s"
printf '  %.0f alerts/s, p50 %s ms, p99 %s ms; CPU %s\n' "$R_rps" "$(ms "$R_p50_us")" "$(ms "$R_p99_us")" "$one_cpu"

sw_start "$url" "${node_env[@]}"
b_pid=$SW_PID b_port=$SW_PORT
echo "---- ingest, two nodes (pids $a_pid, $b_pid), wrk -t2 -c$((CONNS / 2)) each, load average $(bench_load)"
wrk_start warmb "$b_port" $((CONNS / 2)) 2s; wait "$WRK_PID"
c_a0=$(cpu_s "$a_pid") c_b0=$(cpu_s "$b_pid") c_pg0=$(pg_cpu_s)
wrk_start twoA "$a_port" $((CONNS / 2)) "$DURATION"; wa=$WRK_PID
wrk_start twoB "$b_port" $((CONNS / 2)) "$DURATION"; wb=$WRK_PID
wait "$wa" "$wb"
wrk_result twoA; ra=$R_rps pa=$R_p99_us na=$R_requests
wrk_result twoB; rb=$R_rps pb=$R_p99_us nb=$R_requests
two_rps=$(echo "$ra + $rb" | bc)
two_p99=$((${pa%.*} > ${pb%.*} ? ${pa%.*} : ${pb%.*}))
two_cpu="node A $(echo "$(cpu_s "$a_pid") - $c_a0" | bc) s, node B $(echo "$(cpu_s "$b_pid") - $c_b0" | bc) s, postgres $(echo "$(pg_cpu_s) - $c_pg0" | bc) s"
ratio=$(awk -v a="$two_rps" -v b="$one_rps" 'BEGIN { printf "%.2f", a / b }')
printf '  %.0f + %.0f = %.0f alerts/s (%s x one node), p99 %s / %s ms; CPU %s\n' "$ra" "$rb" "$two_rps" \
    "$ratio" "$(ms "$pa")" "$(ms "$pb")" "$two_cpu"
rows=$(echo "SELECT count(*) FROM alerts;" | bench_sql postgres "$url")
echo "  rows: $rows in alerts"

# ---- breach to notice, across both nodes ------------------------------------
echo "---- breach to notice: $DUE critical alerts, half through each node, one deadline ${LEAD_S} s ahead"
now_ms=$(date +%s%3N)
deadline_ms=$((now_ms + LEAD_S * 1000))
deadline_ms=$((deadline_ms - deadline_ms % 1000 + 500))
created_ms=$((deadline_ms - 15 * 60 * 1000))
created=$(date -u -d "@$((created_ms / 1000))" +%Y-%m-%dT%H:%M:%S).$(printf '%03d' $((created_ms % 1000)))Z
for half in 0 1; do
    awk -v n="$DUE" -v h="$half" -v at="$created" 'BEGIN { for (i = h; i < n; i += 2)
        printf "{\"id\":\"due-%d\",\"tenant_id\":\"bench\",\"severity\":\"critical\",\"created_at\":\"%s\"}\n", i, at }' \
        >"$tmp/due.$half"
done
: >"$tmp/rx.log"
for half in 0 1; do
    port=$a_port
    [ "$half" = 1 ] && port=$b_port
    code=$(curl -s -o "$tmp/due.$half.res" -w '%{http_code}' -X POST -H "$auth" \
        -H 'Content-Type: application/x-ndjson' --data-binary "@$tmp/due.$half" \
        "http://127.0.0.1:$port/api/v1/alerts/bulk")
    [ "$code" = 200 ] || bench_die "creating the due alerts answered $code: $(cat "$tmp/due.$half.res")"
done
# wait until every breach is in (or 60 s past the deadline), then 5 s more
# to catch a late duplicate
end_ms=$((deadline_ms + 60000))
while [ "$(date +%s%3N)" -lt "$end_ms" ]; do
    got=$(awk '$2 == 200 && $4 == "sla.breach"' "$tmp/rx.log" | wc -l)
    [ "$got" -ge "$DUE" ] && break
    sleep 0.5
done
sleep 5
awk '$2 == 200 && $4 == "sla.breach" { print $1 - $6 }' "$tmp/rx.log" | sort -n >"$tmp/lat"
pct() { awk -v q="$1" '{ v[NR] = $1 } END { if (!NR) { print "-"; exit } i = int(NR * q + 0.999); if (i < 1) i = 1; print v[i] }' "$tmp/lat"; }
p50=$(pct 0.50) p99=$(pct 0.99) pmax=$(pct 1)
read -r delivered items keys dups < <(awk '$2 == 200 && $4 == "sla.breach" {
        n++; if (!($5 in it)) items++; it[$5]++; if (!($3 in k)) keys++; k[$3]++ }
    END { for (i in it) if (it[i] > 1) d += it[i] - 1; printf "%d %d %d %d\n", n, items, keys, d }' "$tmp/rx.log")
missing=$((DUE - items))
printf '  delivered %s breach webhooks for %s of %s alerts (%s Idempotency-Keys): %s missing, %s duplicate\n' \
    "$delivered" "$items" "$DUE" "$keys" "$missing" "$dups"
printf '  deadline -> webhook received: p50 %s ms, p99 %s ms, max %s ms\n' "$p50" "$p99" "$pmax"
[ "$missing" -eq 0 ] || problem "$missing breaches never delivered"
[ "$dups" -eq 0 ] || problem "$dups breaches delivered more than once"
for p in "$a_pid" "$b_pid"; do kill -0 "$p" 2>/dev/null || problem "node $p died"; done
for f in "$tmp"/sw*.err; do
    if grep -qiE ' (error|warn) ' "$f"; then
        echo "warnings/errors in $(basename "$f"):"
        grep -iE ' (error|warn) ' "$f" | cut -c25- | sort | uniq -c | sort -rn | head -5
    fi
done

echo
echo "| two nodes on one PostgreSQL | figure |"
echo "|---|---|"
printf '| ingest, one node, wrk -c%s -d%s | %.0f alerts/s, p99 %s ms; CPU %s |\n' "$CONNS" "$DURATION" "$one_rps" "$(ms "$one_p99")" "$one_cpu"
printf '| ingest, two nodes, wrk -c%s each | %.0f alerts/s (%s x), p99 %s ms; CPU %s |\n' "$((CONNS / 2))" "$two_rps" "$ratio" "$(ms "$two_p99")" "$two_cpu"
printf '| breach -> webhook, %s alerts over two nodes | p50 %s ms, p99 %s ms, max %s ms; %s missing, %s duplicate |\n' "$DUE" "$p50" "$p99" "$pmax" "$missing" "$dups"
echo "| load average at the end | $(bench_load) |"
echo
echo "two nodes >= $GOAL_RATIO x one: $(yes_no "$ratio >= $GOAL_RATIO") ($ratio); breach p99 <= $GOAL_P99_MS ms: $(yes_no "${p99/-/1e9} <= $GOAL_P99_MS") ($p99 ms); each breach once: $(yes_no "$missing == 0 && $dups == 0")"
if [ ${#problems[@]} -gt 0 ]; then
    echo "problems seen (${#problems[@]}):"
    printf '  - %s\n' "${problems[@]}"
fi
exit 0
