#!/bin/bash
# bench/recalc/run.sh BUILD_DIR: the cost of a policy change over a large
# company: 1,000,000 open findings (plus 200,000 closed ones) in one tenant on
# SQLite; PUT a changed company policy (which recalculates every open finding
# in the same transaction) and print seconds, X-Recalculated-Count and the
# server's peak RSS.  In the same run, the floor: the sqlite3 shell doing a
# plain `UPDATE findings SET due_at = …` over the same open rows, in the
# 0003 layout (one stored deadline per finding), the cost any per-row
# rewrite of a million deadlines pays at least.
# Goals: <= 2 s and <= 1.25 x the floor; RSS <= 300 MB.
# Rows are loaded with SQL (generate_series) straight into the schema the
# server created: this measures recalculation, not ingest (bench/ingest).
# Since 0007 deadlines are derived (clock_base + the group's target), so the
# PUT rewrites five finding_targets rows, re-arms fired findings whose
# deadline moved into the future, and counts the live ones.
# BENCH_RECALC_FIRED=1 loads every open finding as breached and notified
# (stage 100), the re-arm step's worst case.
set -euo pipefail
export LC_ALL=C

OPEN=${BENCH_RECALC_OPEN:-1000000}
CLOSED=${BENCH_RECALC_CLOSED:-200000}
FIRED=${BENCH_RECALC_FIRED:-0}
# the PUT's body; e.g. '{"critical_hours":5000,"high_hours":5000}' with
# FIRED=1 moves 400,000 fired deadlines into the future: all re-armed
BODY=${BENCH_RECALC_BODY:-'{"critical_hours":48,"high_hours":120}'}
TOKEN=bench-recalc-token-0123456789abcdef

die() { echo "bench/recalc: $*" >&2; exit 1; }
[ $# -ge 1 ] || die "usage: bench/recalc/run.sh BUILD_DIR"
bin=$(cd "$1" && pwd)/slawatch
[ -x "$bin" ] || die "$bin not found"
command -v sqlite3 >/dev/null || die "sqlite3 shell not installed"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/slawatch-bench-recalc.XXXXXX")
pid=""
cleanup() {
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
db=$tmp/recalc.db

start() {
    SLAWATCH_ADMIN_TOKEN=$TOKEN "$bin" serve --listen 127.0.0.1:0 --db "sqlite:$db" \
        >"$tmp/out" 2>>"$tmp/log" &
    pid=$!
    for _ in $(seq 100); do
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
api -o /dev/null -d '{"id":"big","name":"Big Co"}' "$base/api/v1/tenants"
stop

HOURS="CASE value % 5 WHEN 0 THEN 24 WHEN 1 THEN 72 WHEN 2 THEN 168 WHEN 3 THEN 720 ELSE 2160 END"
SEV="CASE value % 5 WHEN 0 THEN 'urgent' WHEN 1 THEN 'critical' WHEN 2 THEN 'high'
                    WHEN 3 THEN 'medium' ELSE 'low' END"
echo "loading $OPEN open + $CLOSED closed findings..."
t0=$(date +%s.%N)
sqlite3 "$db" <<SQL
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
BEGIN;
INSERT INTO finding_targets (tenant_id, project_id, severity, hours, source, safety_net,
    updated_at)
SELECT 'big', '', $SEV, $HOURS, 'builtin', 0, 1790000000000 FROM generate_series(0, 4);
INSERT INTO findings (tenant_id, id, project_id, severity, title, state, created_at,
    closed_at, clock_base, paused_since, stopped_at, last_event_at, stage, contacts_fired,
    frozen_hours, frozen_source, frozen_safety_net, ingested_at, updated_at)
SELECT 'big', printf('f%08d', value), '', $SEV,
       '', CASE WHEN value > $OPEN THEN 'closed' ELSE 'open' END,
       1790000000000 + value * 1000,
       CASE WHEN value > $OPEN THEN 1790000000000 + value * 1000 + 3600000 END,
       1790000000000 + value * 1000, NULL,
       CASE WHEN value > $OPEN THEN 1790000000000 + value * 1000 + 3600000 END,
       1790000000000 + value * 1000,
       CASE WHEN value <= $OPEN AND $FIRED THEN 100 ELSE 0 END, 0,
       CASE WHEN value > $OPEN THEN $HOURS END,
       CASE WHEN value > $OPEN THEN 'builtin' END,
       CASE WHEN value > $OPEN THEN 0 END,
       1790000000000, 1790000000000
FROM generate_series(1, $OPEN + $CLOSED);
COMMIT;
SQL
t1=$(date +%s.%N)
printf 'loaded in %.1f s; database %s\n' "$(echo "$t1 - $t0" | bc)" "$(du -h "$db" | cut -f1)"

# the floor's database: the same rows in the 0003 layout
sqlite3 "$tmp/floor.db" <<SQL
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
BEGIN;
CREATE TABLE findings (
    tenant_id TEXT NOT NULL, id TEXT NOT NULL, project_id TEXT NOT NULL DEFAULT '',
    severity TEXT NOT NULL, title TEXT NOT NULL DEFAULT '', state TEXT NOT NULL,
    created_at INTEGER NOT NULL, closed_at INTEGER, sla_hours INTEGER NOT NULL,
    sla_source TEXT NOT NULL, safety_net INTEGER NOT NULL DEFAULT 0,
    paused_ms INTEGER NOT NULL DEFAULT 0, paused_since INTEGER, stopped_at INTEGER,
    last_event_at INTEGER NOT NULL, due_at INTEGER NOT NULL,
    warn_fired INTEGER NOT NULL DEFAULT 0, breach_fired INTEGER NOT NULL DEFAULT 0,
    next_check_at INTEGER, ingested_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)) STRICT, WITHOUT ROWID;
CREATE INDEX findings_live ON findings (tenant_id, project_id)
    WHERE state IN ('open', 'paused');
CREATE INDEX findings_next_check ON findings (next_check_at)
    WHERE next_check_at IS NOT NULL;
INSERT INTO findings (tenant_id, id, project_id, severity, title, state, created_at,
    closed_at, sla_hours, sla_source, safety_net, paused_ms, paused_since, stopped_at,
    last_event_at, due_at, warn_fired, breach_fired, next_check_at, ingested_at, updated_at)
SELECT 'big', printf('f%08d', value), '', $SEV,
       '', CASE WHEN value > $OPEN THEN 'closed' ELSE 'open' END,
       1790000000000 + value * 1000,
       CASE WHEN value > $OPEN THEN 1790000000000 + value * 1000 + 3600000 END,
       $HOURS, 'builtin', 0, 0, NULL,
       CASE WHEN value > $OPEN THEN 1790000000000 + value * 1000 + 3600000 END,
       1790000000000 + value * 1000,
       1790000000000 + value * 1000 + ($HOURS) * 3600000,
       0, 0, NULL, 1790000000000, 1790000000000
FROM generate_series(1, $OPEN + $CLOSED);
COMMIT;
SQL

start
base=http://127.0.0.1:$port
echo "PUT /api/v1/sla/policy/companies/big $BODY..."
t0=$(date +%s.%N)
hdr=$(api -D - -o "$tmp/put.json" -X PUT -d "$BODY" \
      "$base/api/v1/sla/policy/companies/big")
t1=$(date +%s.%N)
status=$(echo "$hdr" | head -1 | awk '{print $2}')
count=$(echo "$hdr" | tr -d '\r' | sed -n 's/^[Xx]-[Rr]ecalculated-[Cc]ount: //p')
rss_kb=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/$pid/status)
secs=$(echo "$t1 - $t0" | bc)
stop
[ "$status" = 200 ] || die "PUT answered $status: $(cat "$tmp/put.json")"

echo "floor: sqlite3 shell UPDATE over the same open rows..."
t0=$(date +%s.%N)
sqlite3 "$tmp/floor.db" <<SQL
PRAGMA synchronous = FULL;
UPDATE findings SET due_at = created_at + paused_ms + 48 * 3600000
 WHERE tenant_id = 'big' AND state IN ('open', 'paused');
SQL
t1=$(date +%s.%N)
floor=$(echo "$t1 - $t0" | bc)

ratio=$(echo "scale=2; $secs / $floor" | bc)
printf '\n%-40s %s\n' "open findings recalculated" "$count"
printf '%-40s %.2f s\n' "PUT policy (recalc in the transaction)" "$secs"
printf '%-40s %.2f s\n' "floor: sqlite3 plain UPDATE" "$floor"
printf '%-40s %s x\n' "ratio" "$ratio"
printf '%-40s %d MB\n' "server peak RSS (VmHWM)" "$((rss_kb / 1024))"
ok() { [ "$1" = 1 ] && echo "met" || echo "MISSED"; }
echo "goal <= 2 s: $(ok "$(echo "$secs <= 2" | bc)"); goal <= 1.25 x floor: $(ok "$(echo "$ratio <= 1.25" | bc)"); goal RSS <= 300 MB: $(ok "$([ $((rss_kb / 1024)) -le 300 ] && echo 1 || echo 0)")"
