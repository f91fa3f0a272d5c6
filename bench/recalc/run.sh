#!/bin/bash
# bench/recalc/run.sh BUILD_DIR: the cost of a policy change over a large
# company: 1,000,000 open findings (plus 200,000 closed ones) in one tenant,
# per backend (BENCH_DB=sqlite|postgres|both, default both; bench/lib.sh:
# PostgreSQL is a throw-away durable cluster); PUT a changed company policy (which recalculates every open finding
# in the same transaction) and print seconds, X-Recalculated-Count and the
# server's peak RSS.  In the same run, the floor: the sqlite3 shell doing a
# plain `UPDATE findings SET due_at = …` over the same open rows (on
# PostgreSQL: psql, a table of that layout in the same database), in the
# 0003 layout (one stored deadline per finding), the cost any per-row
# rewrite of a million deadlines pays at least.
# Goals: <= 2 s and <= 1.25 x the floor; RSS <= 300 MB (both backends).
# In the same run: the PUT's dry run first (?dry_run=true, goal <= 1 s),
# then, after it, every severity moved onto a business-hours calendar
# (its dry run, the move; goal <= 2 s) and off it again.
# Rows are loaded with SQL (generate_series) straight into the schema the
# server created: this measures recalculation, not ingest (bench/ingest).
# Since 0007 deadlines are derived (clock_base + the group's target), so the
# PUT rewrites five finding_targets rows, re-arms fired findings whose
# deadline moved into the future, and counts the live ones.
# BENCH_RECALC_FIRED=1 loads every open finding as breached and notified
# (stage 100), the re-arm step's worst case.
set -euo pipefail
export LC_ALL=C
. "$(dirname "$0")/../lib.sh"

OPEN=${BENCH_RECALC_OPEN:-1000000}
CLOSED=${BENCH_RECALC_CLOSED:-200000}
FIRED=${BENCH_RECALC_FIRED:-0}
# the PUT's body; e.g. '{"critical_hours":5000,"high_hours":5000}' with
# FIRED=1 moves 400,000 fired deadlines into the future: all re-armed
BODY=${BENCH_RECALC_BODY:-'{"critical_hours":48,"high_hours":120}'}

[ $# -ge 1 ] || bench_die "usage: bench/recalc/run.sh BUILD_DIR"
command -v sqlite3 >/dev/null || bench_die "sqlite3 shell not installed"
bench_init recalc "$1"
api() { curl -sS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"; }
declare -A R_COUNT R_SECS R_FLOOR R_RATIO R_RSS R_LOAD R_DRY R_CDRY R_CON R_COFF

measure() {
local be=$1 db url
url=$(bench_db_url "$be" bench_recalc)
echo
echo "---- $be, load average $(bench_load)"
sw_start "$url"
api -o /dev/null -d '{"id":"big","name":"Big Co"}' "http://127.0.0.1:$SW_PORT/api/v1/tenants"
sw_stop "$SW_PID"

# the dialects differ in four places: the series' column, ids, table options,
# and INTEGER (64 bits in SQLite, 32 in PostgreSQL)
if [ "$be" = sqlite ]; then
    series() { echo "generate_series($1, $2)"; }; FID="printf('f%08d', value)"; TOPT="STRICT, WITHOUT ROWID"; INT=INTEGER
    PRE="PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF;"; FLOOR_PRE="PRAGMA synchronous = FULL;"
else
    series() { echo "generate_series($1, $2) AS s(value)"; }
    FID="'f' || lpad(value::text, 8, '0')"; TOPT=""; INT=BIGINT
    PRE="SET synchronous_commit = off;"; FLOOR_PRE=""
fi
# after a bulk load autovacuum analyzes the table and sets its visibility
# map within a minute; the bench does it at once (BENCH_RECALC_ANALYZE=0:
# not, the statements planned without statistics)
POST=""
if [ "$be" = postgres ] && [ "${BENCH_RECALC_ANALYZE:-1}" = 1 ]; then POST="VACUUM ANALYZE findings;"; fi
HOURS="CASE value % 5 WHEN 0 THEN 24 WHEN 1 THEN 72 WHEN 2 THEN 168 WHEN 3 THEN 720 ELSE 2160 END"
SEV="CASE value % 5 WHEN 0 THEN 'urgent' WHEN 1 THEN 'critical' WHEN 2 THEN 'high'
                    WHEN 3 THEN 'medium' ELSE 'low' END"
echo "loading $OPEN open + $CLOSED closed findings..."
load() { bench_sql "$be" "$url"; }
t0=$(date +%s.%N)
load <<SQL
$PRE
BEGIN;
INSERT INTO finding_targets (tenant_id, project_id, severity, hours, source, safety_net,
    updated_at)
SELECT 'big', '', $SEV, $HOURS, 'builtin', 0, 1790000000000 FROM $(series 0 4);
INSERT INTO findings (tenant_id, id, project_id, severity, title, state, created_at,
    closed_at, clock_base, paused_since, stopped_at, last_event_at, stage, contacts_fired,
    frozen_hours, frozen_source, frozen_safety_net, ingested_at, updated_at)
SELECT 'big', $FID, '', $SEV,
       '', CASE WHEN value > $OPEN THEN 'closed' ELSE 'open' END,
       1790000000000 + value * 1000,
       CASE WHEN value > $OPEN THEN 1790000000000 + value * 1000 + 3600000 END,
       1790000000000 + value * 1000, NULL,
       CASE WHEN value > $OPEN THEN 1790000000000 + value * 1000 + 3600000 END,
       1790000000000 + value * 1000,
       CASE WHEN value <= $OPEN AND $FIRED <> 0 THEN 100 ELSE 0 END, 0,
       CASE WHEN value > $OPEN THEN $HOURS END,
       CASE WHEN value > $OPEN THEN 'builtin' END,
       CASE WHEN value > $OPEN THEN 0 END,
       1790000000000, 1790000000000
FROM $(series 1 $((OPEN + CLOSED)));
COMMIT;
$POST
SQL
t1=$(date +%s.%N)
R_LOAD[$be]=$(printf '%.1f' "$(echo "$t1 - $t0" | bc)")
printf 'loaded in %s s\n' "${R_LOAD[$be]}"

# the floor's database: the same rows in the 0003 layout
load <<SQL
$PRE
BEGIN;
CREATE TABLE floor_findings (
    tenant_id TEXT NOT NULL, id TEXT NOT NULL, project_id TEXT NOT NULL DEFAULT '',
    severity TEXT NOT NULL, title TEXT NOT NULL DEFAULT '', state TEXT NOT NULL,
    created_at $INT NOT NULL, closed_at $INT, sla_hours $INT NOT NULL,
    sla_source TEXT NOT NULL, safety_net $INT NOT NULL DEFAULT 0,
    paused_ms $INT NOT NULL DEFAULT 0, paused_since $INT, stopped_at $INT,
    last_event_at $INT NOT NULL, due_at $INT NOT NULL,
    warn_fired $INT NOT NULL DEFAULT 0, breach_fired $INT NOT NULL DEFAULT 0,
    next_check_at $INT, ingested_at $INT NOT NULL, updated_at $INT NOT NULL,
    PRIMARY KEY (tenant_id, id)) $TOPT;
CREATE INDEX floor_findings_live ON floor_findings (tenant_id, project_id)
    WHERE state IN ('open', 'paused');
CREATE INDEX floor_findings_next_check ON floor_findings (next_check_at)
    WHERE next_check_at IS NOT NULL;
INSERT INTO floor_findings (tenant_id, id, project_id, severity, title, state, created_at,
    closed_at, sla_hours, sla_source, safety_net, paused_ms, paused_since, stopped_at,
    last_event_at, due_at, warn_fired, breach_fired, next_check_at, ingested_at, updated_at)
SELECT 'big', $FID, '', $SEV,
       '', CASE WHEN value > $OPEN THEN 'closed' ELSE 'open' END,
       1790000000000 + value * 1000,
       CASE WHEN value > $OPEN THEN 1790000000000 + value * 1000 + 3600000 END,
       $HOURS, 'builtin', 0, 0, NULL,
       CASE WHEN value > $OPEN THEN 1790000000000 + value * 1000 + 3600000 END,
       1790000000000 + value * 1000,
       1790000000000 + value * 1000 + ($HOURS) * CAST(3600000 AS BIGINT),
       0, 0, NULL, 1790000000000, 1790000000000
FROM $(series 1 $((OPEN + CLOSED)));
COMMIT;
SQL

sw_start "$url"
pid=$SW_PID
base=http://127.0.0.1:$SW_PORT
# timed PUT: prints seconds, sets $status and $count
timed_put() {
    local t0 t1 h
    t0=$(date +%s.%N)
    h=$(api -D - -o "$tmp/put.json" -X PUT -d "$2" "$base$1")
    t1=$(date +%s.%N)
    status=$(echo "$h" | head -1 | awk '{print $2}')
    count=$(echo "$h" | tr -d '\r' | sed -n 's/^[Xx]-[Rr]ecalculated-[Cc]ount: //p')
    [ "$status" = 200 ] || bench_die "PUT $1 answered $status: $(cat "$tmp/put.json")"
    echo "$t1 - $t0" | bc
}
echo "dry run first: PUT …/companies/big?dry_run=true $BODY..."
dry=$(timed_put "/api/v1/sla/policy/companies/big?dry_run=true" "$BODY")
echo "  $(cat "$tmp/put.json")"
echo "PUT /api/v1/sla/policy/companies/big $BODY..."
t0=$(date +%s.%N)
hdr=$(api -D - -o "$tmp/put.json" -X PUT -d "$BODY" \
      "$base/api/v1/sla/policy/companies/big")
t1=$(date +%s.%N)
status=$(echo "$hdr" | head -1 | awk '{print $2}')
count=$(echo "$hdr" | tr -d '\r' | sed -n 's/^[Xx]-[Rr]ecalculated-[Cc]ount: //p')
main_count=$count
rss_kb=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/$pid/status)
secs=$(echo "$t1 - $t0" | bc)
[ "$status" = 200 ] || bench_die "PUT answered $status: $(cat "$tmp/put.json")"
# every severity onto a business-hours calendar and off it again (the
# findings have no pause history: no finding row is rewritten, the fired
# ones are re-armed in C), and the dry run of the move
api -o /dev/null -X PUT -d '{"timezone":"Europe/Berlin","hours":{"mon":[["09:00","17:00"]],"tue":[["09:00","17:00"]],"wed":[["09:00","17:00"]],"thu":[["09:00","17:00"]],"fri":[["09:00","17:00"]]},"holidays":["12-25","01-01"]}' \
    "$base/api/v1/tenants/big/calendars/office"
onto=${BODY%\}}',"calendars":{"urgent":"office","critical":"office","high":"office","medium":"office","low":"office"}}'
echo "calendar: dry run, onto, off..."
cal_dry=$(timed_put "/api/v1/sla/policy/companies/big?dry_run=true" "$onto")
echo "  $(cat "$tmp/put.json")"
cal_on=$(timed_put "/api/v1/sla/policy/companies/big" "$onto"); cal_count=$count
cal_off=$(timed_put "/api/v1/sla/policy/companies/big" "$BODY")
sw_stop "$pid"

echo "floor: $be shell UPDATE over the same open rows..."
t0=$(date +%s.%N)
load <<SQL
$FLOOR_PRE
UPDATE floor_findings SET due_at = created_at + paused_ms + 48 * 3600000
 WHERE tenant_id = 'big' AND state IN ('open', 'paused');
SQL
t1=$(date +%s.%N)
floor=$(echo "$t1 - $t0" | bc)

ratio=$(echo "scale=2; $secs / $floor" | bc)
printf '\n%-40s %s\n' "open findings recalculated" "$main_count"
printf '%-40s %.2f s\n' "PUT policy (recalc in the transaction)" "$secs"
printf '%-40s %.2f s\n' "floor: sqlite3 plain UPDATE" "$floor"
printf '%-40s %s x\n' "ratio" "$ratio"
printf '%-40s %d MB\n' "server peak RSS (VmHWM)" "$((rss_kb / 1024))"
printf '%-40s %.2f s\n' "dry run of the PUT" "$dry"
printf '%-40s %.2f s\n' "dry run: onto a calendar" "$cal_dry"
printf '%-40s %.2f s (%s)\n' "PUT: onto a calendar" "$cal_on" "$cal_count"
printf '%-40s %.2f s\n' "PUT: off the calendar" "$cal_off"
R_COUNT[$be]=$main_count R_SECS[$be]=$secs R_FLOOR[$be]=$floor R_RATIO[$be]=$ratio R_RSS[$be]=$((rss_kb / 1024))
R_DRY[$be]=$dry R_CDRY[$be]=$cal_dry R_CON[$be]=$cal_on R_COFF[$be]=$cal_off
}

backends=$(bench_backends)
for be in $backends; do measure "$be"; done
ok() { [ "$1" = 1 ] && echo "met" || echo "MISSED"; }
echo
hdr="| recalc, $OPEN open + $CLOSED closed findings |" sep="|---|"
for be in $backends; do hdr="$hdr $be |"; sep="$sep---|"; done
echo "$hdr"; echo "$sep"
l="| PUT policy: seconds (recalculated) |"; for be in $backends; do l="$l $(printf '%.2f' "${R_SECS[$be]}") s (${R_COUNT[$be]}) |"; done; echo "$l"
l="| floor: plain UPDATE in the shell |"; for be in $backends; do l="$l $(printf '%.2f' "${R_FLOOR[$be]}") s (${R_RATIO[$be]} x) |"; done; echo "$l"
l="| server peak RSS |"; for be in $backends; do l="$l ${R_RSS[$be]} MB |"; done; echo "$l"
l="| dry run of the PUT |"; for be in $backends; do l="$l $(printf '%.2f' "${R_DRY[$be]}") s |"; done; echo "$l"
l="| every severity onto a calendar: dry run |"; for be in $backends; do l="$l $(printf '%.2f' "${R_CDRY[$be]}") s |"; done; echo "$l"
l="| onto a calendar / off it again |"; for be in $backends; do l="$l $(printf '%.2f' "${R_CON[$be]}") s / $(printf '%.2f' "${R_COFF[$be]}") s |"; done; echo "$l"
echo
for be in $backends; do
    secs=${R_SECS[$be]} ratio=${R_RATIO[$be]} rss=${R_RSS[$be]}
    echo "$be: goal <= 2 s: $(ok "$(echo "$secs <= 2" | bc)"); goal <= 1.25 x floor: $(ok "$(echo "$ratio <= 1.25" | bc)"); goal RSS <= 300 MB: $(ok "$([ "$rss" -le 300 ] && echo 1 || echo 0)")"
    echo "$be: dry run goal <= 1 s: $(ok "$(echo "${R_DRY[$be]} <= 1" | bc)"); onto/off a calendar goal <= 2 s: $(ok "$(echo "${R_CON[$be]} <= 2 && ${R_COFF[$be]} <= 2" | bc)")"
done
exit 0
