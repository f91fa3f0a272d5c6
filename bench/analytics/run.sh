#!/bin/bash
# bench/analytics/run.sh BUILD_DIR: analytics answered from the rollups.
#
# Loads BENCH_ANALYTICS_ALERTS (10,000,000) resolved alerts over 365 days
# across BENCH_ANALYTICS_TENANTS (100) tenants, builds their rollups, then
# times GET /api/v1/sla/scorecard (30 days), /trends/mttr?days=365 and
# /reports/{tenant}/monthly for one tenant: p50 and p99 over at least 200
# sequential requests each (wrk, one connection, keep-alive).  Goal: p99 <=
# 10 ms each.  In the same run, the equivalent aggregate over the raw rows
# in the sqlite3 shell (median of 5; averages and counts only: SQLite has no
# percentile), and the ratio raw / endpoint.  Prints load time, rollup build
# time and database size.
#
# How the rows get in: the bulk endpoint creates open alerts only (every
# alert then needs an acknowledge and a resolve request: 30 million requests
# at ~40k/s would be minutes of HTTP for what this bench does not measure),
# so the rows are written with SQL (generate_series) straight into the schema
# the server created, as bench/recalc does, and `slawatch rollups rebuild`
# builds the rollups from them (timed and printed: the same code path that
# a live acknowledge/resolve feeds, and the exact-agreement reference).
# Small try: BENCH_ANALYTICS_ALERTS=100000 bench/analytics/run.sh build
# SQLite only (BENCH_DB is not read): the 10 M-row loader and the raw-SQL
# reference are sqlite3 SQL; the rollup reads are the same code on both.
set -euo pipefail
export LC_ALL=C

N=${BENCH_ANALYTICS_ALERTS:-10000000}
T=${BENCH_ANALYTICS_TENANTS:-100}
DUR=${BENCH_ANALYTICS_SECONDS:-5}
TOKEN=bench-analytics-token-0123456789abcdef

die() { echo "bench/analytics: $*" >&2; exit 1; }
[ $# -ge 1 ] || die "usage: bench/analytics/run.sh BUILD_DIR"
bin=$(cd "$1" && pwd)/slawatch
[ -x "$bin" ] || die "$bin not found"
for c in sqlite3 wrk curl bc; do command -v $c >/dev/null || die "$c not installed (scripts/deps.sh --bench)"; done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/slawatch-bench-analytics.XXXXXX")
pid=""
cleanup() {
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    if [ -n "${BENCH_ANALYTICS_KEEP:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
db=$tmp/analytics.db

start() {
    SLAWATCH_ADMIN_TOKEN=$TOKEN "$bin" serve --listen 127.0.0.1:0 --db "sqlite:$db" \
        >"$tmp/out" 2>>"$tmp/log" &
    pid=$!
    for _ in $(seq 600); do
        port=$(sed -n 's|^listening on http://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$tmp/out")
        [ -n "$port" ] && return 0
        sleep 0.05
    done
    die "server did not start: $(cat "$tmp/log")"
}
stop() { kill -TERM "$pid"; wait "$pid" || true; pid=""; }
api() { curl -sS -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@"; }

start
base=http://127.0.0.1:$port
for i in $(seq 0 $((T - 1))); do
    printf '{"id":"t%03d","name":"Tenant %d","template":"standard"}' "$i" "$i" |
        api -o /dev/null -d @- "$base/api/v1/tenants"
done
stop

# 365 days ending two days ago (UTC); tenant = v % T, severity cycles;
# ack 10..139 % and resolve 20..169 % of the standard template's targets
now_ms=$(( $(date +%s) * 1000 ))
span=$(( 363 * 86400000 ))
start_ms=$(( now_ms - 365 * 86400000 ))
echo "loading $N resolved alerts over 365 days across $T tenants (SQL, generate_series)..."
t0=$(date +%s.%N)
sqlite3 "$db" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -1000000;
BEGIN;
WITH p AS (
  SELECT value AS v, printf('t%03d', value % $T) AS tid, (value / $T) % 4 AS s,
         $start_ms + (value * $span) / $N AS c
  FROM generate_series(0, $N - 1)),
q AS (
  SELECT *, CASE s WHEN 0 THEN 'critical' WHEN 1 THEN 'high' WHEN 2 THEN 'medium' ELSE 'low' END AS sev,
         CASE s WHEN 0 THEN 30 WHEN 1 THEN 60 WHEN 2 THEN 480 ELSE 960 END AS am,
         CASE s WHEN 0 THEN 480 WHEN 1 THEN 960 WHEN 2 THEN 2880 ELSE 8640 END AS rm,
         CASE s WHEN 0 THEN 5000 WHEN 1 THEN 2500 WHEN 2 THEN 1250 ELSE 500 END AS rate
  FROM p),
r AS (
  SELECT *, am * 60000 * (10 + (v * 7919) % 130) / 100 AS ad,
            rm * 60000 * (20 + (v * 104729) % 150) / 100 AS rd FROM q)
INSERT INTO alerts (tenant_id, id, project_id, severity, state, title, source, created_at,
    acknowledged_at, resolved_at, ack_started_at, ack_target_ms, ack_paused_ms,
    ack_paused_since, ack_stopped_at, ack_last_event_at, res_started_at, res_target_ms,
    res_paused_ms, res_paused_since, res_stopped_at, res_last_event_at, ack_fired,
    ack_breach_fired, res_fired, res_breach_fired, ack_min, resolve_min, warn_pct, penalty_cph,
    ack_src, resolve_src, warn_src, penalty_src, ack_due_at, resolve_due_at, next_check_at,
    escalation_level, updated_at)
SELECT tid, printf('a%010d', v), '', sev, 'resolved', '', 'bench', c,
       c + ad, c + max(rd, ad + 1000), c, am * 60000, 0, 0, c + ad, c + ad,
       c, rm * 60000, 0, 0, c + max(rd, ad + 1000), c + max(rd, ad + 1000), 0, 0, 0, 0,
       am, rm, 80, rate, 'template', 'template', 'builtin', 'template',
       c + am * 60000, c + rm * 60000, NULL, 0, c + max(rd, ad + 1000)
FROM r;
COMMIT;
SQL
t1=$(date +%s.%N)
load_s=$(echo "$t1 - $t0" | bc)
printf 'loaded in %.1f s (%.0f alerts/s)\n' "$load_s" "$(echo "$N / $load_s" | bc -l)"

echo "building the rollups: slawatch rollups rebuild..."
t0=$(date +%s.%N)
"$bin" rollups rebuild --db "sqlite:$db" 2>>"$tmp/log"
t1=$(date +%s.%N)
rebuild_s=$(echo "$t1 - $t0" | bc)
rows=$(sqlite3 "$db" "SELECT count(*) FROM rollups")
sqlite3 "$db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
db_bytes=$(du -b "$db" | cut -f1)
printf 'rollups: %s rows in %.1f s; database %.2f GB (%s bytes)\n' "$rows" "$rebuild_s" \
    "$(echo "$db_bytes / 1000000000" | bc -l)" "$db_bytes"

tenant=t042
month=$(date -u -d "@$(( (now_ms / 1000) - 60 * 86400 ))" +%Y-%m)
m_start=$(date -u -d "${month}-01" +%s)000
m_end=$(date -u -d "${month}-01 +1 month" +%s)000
d30=$(( now_ms - 30 * 86400000 ))
d365=$(( now_ms - 365 * 86400000 ))

start
base=http://127.0.0.1:$port
declare -A P50 P99 NREQ
lat_ms() {  # "1.23ms" | "850.00us" | "1.02s" → ms
    awk -v x="$1" 'BEGIN { if (x ~ /us$/) { sub(/us$/, "", x); print x / 1000 }
                          else if (x ~ /ms$/) { sub(/ms$/, "", x); print x + 0 }
                          else { sub(/s$/, "", x); print x * 1000 } }'
}
bench_url() {
    local name=$1 url=$2
    local code
    code=$(api -o "$tmp/$name.json" -w '%{http_code}' "$url")
    [ "$code" = 200 ] || die "$name answered $code: $(head -c 300 "$tmp/$name.json")"
    wrk -t1 -c1 -d"${DUR}s" --latency -H "Authorization: Bearer $TOKEN" "$url" >"$tmp/$name.wrk"
    P50[$name]=$(lat_ms "$(awk '$1 == "50%" {print $2}' "$tmp/$name.wrk")")
    P99[$name]=$(lat_ms "$(awk '$1 == "99%" {print $2}' "$tmp/$name.wrk")")
    NREQ[$name]=$(awk '/requests in/ {print $1}' "$tmp/$name.wrk")
    [ "${NREQ[$name]}" -ge 200 ] || die "$name: only ${NREQ[$name]} requests in ${DUR}s"
}
bench_url scorecard "$base/api/v1/sla/scorecard?tenant_id=$tenant"
bench_url trends_mttr_365 "$base/api/v1/sla/trends/mttr?tenant_id=$tenant&days=365"
bench_url monthly "$base/api/v1/sla/reports/$tenant/monthly?month=$month"
rss_kb=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/$pid/status)
stop

# the same questions over the raw rows (what the endpoints would cost without rollups)
raw_time() {  # median "real" seconds of 5 runs of one statement
    local sql=$1
    { echo ".timer on"; for _ in 1 2 3 4 5; do echo "$sql"; done; } |
        sqlite3 "$db" 2>&1 | awk '/^Run Time/ {print $4}' | sort -n | sed -n 3p
}
declare -A RAW
RAW[scorecard]=$(raw_time "SELECT severity, count(*), sum(ack_stopped_at <= ack_due_at) + sum(res_stopped_at <= resolve_due_at), avg(ack_stopped_at - ack_started_at - ack_paused_ms), avg(res_stopped_at - res_started_at - res_paused_ms), max(res_stopped_at - res_started_at - res_paused_ms) FROM alerts WHERE tenant_id = '$tenant' AND res_stopped_at >= $d30 GROUP BY severity;")
RAW[trends_mttr_365]=$(raw_time "SELECT date(res_stopped_at / 1000, 'unixepoch') AS d, count(*), avg(res_stopped_at - res_started_at - res_paused_ms) FROM alerts WHERE tenant_id = '$tenant' AND res_stopped_at >= $d365 GROUP BY d;")
RAW[monthly]=$(raw_time "SELECT date(res_stopped_at / 1000, 'unixepoch') AS d, severity, count(*), sum(res_stopped_at <= resolve_due_at), avg(ack_stopped_at - ack_started_at - ack_paused_ms), avg(res_stopped_at - res_started_at - res_paused_ms) FROM alerts WHERE tenant_id = '$tenant' AND res_stopped_at >= $m_start AND res_stopped_at < $m_end GROUP BY d, severity;")

echo
echo "analytics: $N resolved alerts, $T tenants, 365 days; tenant $tenant ($((N / T)) alerts); month $month"
printf '  %-18s %9s %9s %8s %12s %10s %6s\n' endpoint p50_ms p99_ms requests raw_sql_ms ratio goal
fail=0
for k in scorecard trends_mttr_365 monthly; do
    raw_ms=$(echo "${RAW[$k]} * 1000" | bc -l)
    ratio=$(echo "$raw_ms / ${P50[$k]}" | bc -l)
    ok=ok
    [ "$(echo "${P99[$k]} <= 10" | bc -l)" = 1 ] || { ok=MISS; fail=1; }
    printf '  %-18s %9.3f %9.3f %8s %12.2f %9.1fx %6s\n' "$k" "${P50[$k]}" "${P99[$k]}" \
        "${NREQ[$k]}" "$raw_ms" "$ratio" "$ok"
done
printf '  load %.1f s, rollups rebuild %.1f s (%s rows), database %.2f GB, server peak RSS %d MB\n' \
    "$load_s" "$rebuild_s" "$rows" "$(echo "$db_bytes / 1000000000" | bc -l)" $((rss_kb / 1024))
echo "  (raw SQL: sqlite3 shell, median of 5, averages/counts only; ratio = raw / endpoint p50)"
[ $fail = 0 ] && echo "goal met: p99 <= 10 ms on every endpoint" || echo "goal MISSED"
