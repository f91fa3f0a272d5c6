#!/bin/bash
# bench/ingest-tools/run.sh BUILD_DIR: how long slawatch takes to take in a
# body of another tool (API.md "Ingest from other tools"), end to end over
# loopback HTTP (curl's time_total: upload, parse, map, write, answer):
#
#   1. POST /api/v1/ingest/alertmanager: an Alertmanager webhook body (version
#      4) of 1,000 alerts, new fingerprints each round (1,000 creates);
#   2. the same body again (1,000 alerts already tracked: unchanged);
#   3. POST /api/v1/ingest/defectdojo: a DefectDojo API v2 page of 1,000
#      findings (a mix of active, mitigated and false positives, as a real
#      page), new ids each round;
#   4. the same page again.
#
# $BENCH_ROUNDS (10) rounds of each; the database is durable SQLite
# (synchronous=FULL).  Goals (issue 15): an Alertmanager body of 1,000
# alerts <= 200 ms; a DefectDojo page of 1,000 findings <= 300 ms (checked
# on the median round of creates).  A missed goal is reported, not an
# error: the script exits non-zero only when it cannot run.  Loopback only;
# touches nothing outside its temp dir.
set -euo pipefail

ROUNDS=${BENCH_ROUNDS:-10}
N=${BENCH_ITEMS:-1000}
GOAL_AM_MS=200
GOAL_DD_MS=300

die() { echo "bench/ingest-tools: $*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: bench/ingest-tools/run.sh BUILD_DIR"
build=$(cd "$1" 2>/dev/null && pwd) || die "no build directory '$1'"
bin=$build/slawatch
[ -x "$bin" ] || die "$bin not found (make build)"
command -v curl >/dev/null || die "curl not installed"

build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
[ -z "$build_type" ] && [ -f "$build/CMakeCache.txt" ] && build_type=RelWithDebInfo
sanitize=$(sed -n 's/^SLAWATCH_SANITIZE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/slawatch-bench-tools.XXXXXX")
sw_pid=""
cleanup() {
    if [ -n "$sw_pid" ] && kill -0 "$sw_pid" 2>/dev/null; then
        kill -TERM "$sw_pid" 2>/dev/null || true
        for _ in $(seq 100); do
            kill -0 "$sw_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$sw_pid" 2>/dev/null || true
        wait "$sw_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

problems=()
problem() { problems+=("$*"); echo "PROBLEM: $*"; }

cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
echo "machine:   $(nproc) cores, ${cpu_model:-$(uname -m)}, kernel $(uname -r)"
echo "date:      $(date -u +%Y-%m-%dT%H:%M:%SZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "slawatch:  $bin (CMAKE_BUILD_TYPE=${build_type:-?}${sanitize:+, SLAWATCH_SANITIZE=$sanitize})"
case "$build_type" in
    Release | RelWithDebInfo | MinSizeRel) ;;
    *) echo "WARNING: $build is not an optimised build" ;;
esac
[ "$sanitize" = "ON" ] && echo "WARNING: $build is a sanitizer build: figures are meaningless"

token="bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
SLAWATCH_ADMIN_TOKEN=$token SLAWATCH_LOG_LEVEL=warn \
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
echo "server:    pid $sw_pid on 127.0.0.1:$port, SQLite at $tmp/bench.db"

curl -sS --fail-with-body -X POST -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' \
    --data-binary '{"id":"bench","name":"Bench tenant"}' "$base/api/v1/tenants" >/dev/null ||
    die "cannot create the tenant"

# am_body ROUND FILE: N alerts, firing (4 in 5) or resolved, real-looking labels
am_body() {
    awk -v r="$1" -v n="$N" 'BEGIN {
        split("critical warning error info", sev, " ")
        printf("{\"receiver\":\"slawatch\",\"status\":\"firing\",\"alerts\":[")
        for (i = 0; i < n; i++) {
            st = (i % 5 == 4) ? "resolved" : "firing"
            ends = (st == "resolved") ? "2026-11-30T11:00:00.000Z" : "0001-01-01T00:00:00Z"
            printf("%s{\"status\":\"%s\",\"labels\":{\"alertname\":\"NodeDiskFull%d\",\"instance\":\"node%d:9100\",\"job\":\"node\",\"severity\":\"%s\"},\"annotations\":{\"summary\":\"Disk almost full on node%d\",\"description\":\"Filesystem /var has less than 5%% left.\"},\"startsAt\":\"2026-11-30T10:%02d:%02d.000Z\",\"endsAt\":\"%s\",\"generatorURL\":\"http://prometheus:9090/graph?g0.expr=node_filesystem_avail_bytes\",\"fingerprint\":\"%08x%08x\"}",
                   i ? "," : "", st, i, i, sev[i % 4 + 1], i, (i / 60) % 60, i % 60, ends, r, i)
        }
        printf("],\"groupLabels\":{\"alertname\":\"NodeDiskFull\"},\"commonLabels\":{\"job\":\"node\"},\"commonAnnotations\":{},\"externalURL\":\"http://alertmanager:9093\",\"version\":\"4\",\"groupKey\":\"{}:{alertname=\\\"NodeDiskFull\\\"}\",\"truncatedAlerts\":0}")
    }' >"$2"
}

# dd_page ROUND FILE: N findings; 7 in 10 active, 2 mitigated, 1 false positive
dd_page() {
    awk -v r="$1" -v n="$N" 'BEGIN {
        split("Critical High Medium Low", sev, " ")
        printf("{\"count\":%d,\"next\":null,\"previous\":null,\"results\":[", n)
        for (i = 0; i < n; i++) {
            id = r * 1000000 + i
            k = i % 10
            act = (k < 7) ? "true" : "false"
            mit = (k == 7 || k == 8) ? "true" : "false"
            fp = (k == 9) ? "true" : "false"
            mat = (mit == "true") ? "\"2026-11-29T12:00:00.000000Z\"" : "null"
            printf("%s{\"id\":%d,\"title\":\"Outdated component %d (CVE-2026-%05d)\",\"severity\":\"%s\",\"date\":\"2026-11-%02d\",\"sla_start_date\":null,\"cwe\":1104,\"cve\":\"CVE-2026-%05d\",\"cvssv3_score\":7.5,\"url\":null,\"description\":\"A component with known vulnerabilities.\\nUpgrade it.\",\"mitigation\":\"Upgrade.\",\"component_name\":\"lib%d\",\"component_version\":\"1.0.%d\",\"test\":42,\"found_by\":[3],\"active\":%s,\"verified\":true,\"false_p\":%s,\"duplicate\":false,\"out_of_scope\":false,\"risk_accepted\":false,\"under_review\":false,\"is_mitigated\":%s,\"mitigated\":%s,\"last_status_update\":\"2026-11-29T12:00:00.000000Z\",\"tags\":[\"sca\"],\"file_path\":\"package-lock.json\",\"line\":null}",
                   i ? "," : "", id, i, i, sev[i % 4 + 1], i % 28 + 1, i, i, i % 10, act, fp, mit, mat)
        }
        printf("]}")
    }' >"$2"
}

# post ROUTE FILE → prints "ms status body-head"
post() {
    local out
    out=$(curl -sS -o "$2.out" -w '%{http_code} %{time_total}' -X POST \
        -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
        --data-binary "@$2" "$base$1") || out="curl-failed 0"
    local st=${out% *} secs=${out#* }
    awk -v s="$secs" -v st="$st" 'BEGIN { printf "%.1f %s", s * 1000, st }'
}

# the server's CPU time so far (user + system), ms: less sensitive than wall
# time to other work on a shared machine
hz=$(getconf CLK_TCK)
cpu_ms() { awk -v hz="$hz" '{ sub(/^.*\) /, ""); print ($12 + $13) * 1000 / hz }' "/proc/$sw_pid/stat"; }

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print 0 }'; }
maxof() { sort -n | tail -1; }

declare -A times
run() {   # run NAME ROUTE KIND(am|dd) REPEAT(0|1)
    local name=$1 route=$2 kind=$3 rep=$4 list="" f c0 c1
    c0=$(cpu_ms)
    for ((r = 1; r <= ROUNDS; r++)); do
        f="$tmp/$kind-$r.json"
        [ -f "$f" ] || "${kind}_body_or_page" "$r" "$f"
        local res ms st
        res=$(post "$route" "$f")
        ms=${res% *} st=${res#* }
        [ "$st" = 200 ] || problem "$name round $r: status $st $(head -c 300 "$f.out")"
        if [ "$r" -eq 1 ]; then
            echo "  $name, round 1 answer: $(head -c 200 "$f.out")"
        fi
        list="$list $ms"
        kill -0 "$sw_pid" 2>/dev/null || { cat "$tmp/slawatch.err" >&2; die "slawatch died during $name"; }
    done
    c1=$(cpu_ms)
    local med max cpu
    cpu=$(awk -v a="$c0" -v b="$c1" -v n="$ROUNDS" 'BEGIN { printf "%.0f", (b - a) / n }')
    med=$(echo "$list" | tr ' ' '\n' | grep . | median)
    max=$(echo "$list" | tr ' ' '\n' | grep . | maxof)
    times[$name]="$med $max $cpu"
    printf '  %-34s median %7.1f ms   max %7.1f ms   server CPU %5s ms per body   (%s rounds)\n' \
        "$name" "$med" "$max" "$cpu" "$ROUNDS"
}
am_body_or_page() { am_body "$@"; }
dd_body_or_page() { dd_page "$@"; }

echo
echo "bodies: $N items each; $(am_body 0 "$tmp/am-size.json"; wc -c <"$tmp/am-size.json") bytes (Alertmanager)," \
     "$(dd_page 0 "$tmp/dd-size.json"; wc -c <"$tmp/dd-size.json") bytes (DefectDojo)"
run "alertmanager, new alerts" "/api/v1/ingest/alertmanager?tenant_id=bench" am 0
run "alertmanager, the same bodies" "/api/v1/ingest/alertmanager?tenant_id=bench" am 1
run "defectdojo, new findings" "/api/v1/ingest/defectdojo?tenant_id=bench" dd 0
run "defectdojo, the same pages" "/api/v1/ingest/defectdojo?tenant_id=bench" dd 1

if grep -qiE ' (error|warn) ' "$tmp/slawatch.err"; then
    echo "slawatch warnings/errors in its log:"
    grep -iE ' (error|warn) ' "$tmp/slawatch.err" | cut -c25- | sort | uniq -c | sort -rn | head -10
fi

yes_no() { awk "BEGIN { if ($1) print \"yes\"; else print \"NO\" }"; }
read -r am_med am_max am_cpu <<<"${times[alertmanager, new alerts]}"
read -r dd_med dd_max dd_cpu <<<"${times[defectdojo, new findings]}"
echo
echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| body | median (ms) | max (ms) | server CPU per body (ms) |"
echo "|---|---:|---:|---:|"
for k in "alertmanager, new alerts" "alertmanager, the same bodies" "defectdojo, new findings" \
         "defectdojo, the same pages"; do
    read -r a b c <<<"${times[$k]}"
    echo "| $k ($N) | $a | $b | $c |"
done
echo
echo "goal: Alertmanager body of $N alerts <= $GOAL_AM_MS ms ...... $(yes_no "$am_med <= $GOAL_AM_MS") (median $am_med ms; server CPU $am_cpu ms)"
echo "goal: DefectDojo page of $N findings <= $GOAL_DD_MS ms ..... $(yes_no "$dd_med <= $GOAL_DD_MS") (median $dd_med ms; server CPU $dd_cpu ms)"
if [ ${#problems[@]} -gt 0 ]; then
    echo
    echo "problems seen (${#problems[@]}):"
    printf '  - %s\n' "${problems[@]}"
fi
exit 0
