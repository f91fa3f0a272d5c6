#!/bin/bash
# bench/soak/soak.sh BUILD_DIR: a long mixed load with kill -9, counting what
# was acknowledged against what is stored and what was due against what was
# delivered.  Not part of `make test` nor of `make bench` (`make soak`).
#
#   SOAK_SECONDS     duration of the load (1800 = 30 min)
#   SOAK_KILL_EVERY  seconds between two kill -9 of the server (180); the
#                    server is restarted at once on the same port and database
#   SOAK_RATE        single creates per second per ingest worker (25; two
#                    workers); bulk 500 lines / 5 s; ack+resolve RATE/4 /s;
#                    reports 2/s; WebSocket connect-read-close 2/s
#   BENCH_DB         sqlite (default), postgres or both (one after the other;
#                    PostgreSQL: a throw-away durable cluster, bench/lib.sh)
#
# Two tenants: soak-a's webhook receiver always answers 200; soak-b's fails
# (503) and hangs (never answers) in a 120 s cycle: ok 60 s, 503 30 s, hang
# 30 s (bench/receiver.py).  Every 5 s, 2 critical alerts per tenant are
# created 20 s before their ack deadline and never acknowledged: each must
# reach its tenant's receiver as exactly one sla.breach with a 200 answer.
# The load (bench/soak/load.py) records every write answered 2xx; at the end
# the receivers answer 200 again, the soak waits for the notices still due
# (at most SOAK_DRAIN, 300 s) and compares:
#   created 2xx vs rows; acknowledged 2xx vs state; resolved 2xx vs state;
#   breaches due vs delivered (missing, duplicate), per receiver, and the
#   deadline -> receipt latency.
# Server settings for the run (printed): SLAWATCH_NOTIFY_FLOOD_MAX=0 (every
# notice its own delivery, so they can be counted), notify_allow_private on
# (loopback receivers); retries keep their defaults (8 attempts, 2 s doubling
# up to 10 min: a notice outlives the receiver's 60 s failure, and the drain
# waits for the retries after the receiver recovered).  A missing notice is
# explained from the outbox (pending, dead, or never queued).
# Prints a table; exits non-zero only when it cannot run.
set -euo pipefail
export LC_ALL=C
BENCH_DB=${BENCH_DB:-sqlite}
. "$(dirname "$0")/../lib.sh"

SECONDS_TOTAL=${SOAK_SECONDS:-1800}
KILL_EVERY=${SOAK_KILL_EVERY:-180}
RATE=${SOAK_RATE:-25}
DRAIN=${SOAK_DRAIN:-300}

[ $# -ge 1 ] || bench_die "usage: bench/soak/soak.sh BUILD_DIR"
for c in python3 curl sqlite3; do command -v $c >/dev/null || bench_die "$c not installed"; done
bench_init soak "$1"
echo "soak:      ${SECONDS_TOTAL} s of load, kill -9 every ${KILL_EVERY} s, single ${RATE}/s x 2"
here=$(cd "$(dirname "$0")" && pwd)

node_env=(SLAWATCH_THREADS=2 SLAWATCH_NOTIFY_ALLOW_PRIVATE=on SLAWATCH_NOTIFY_FLOOD_MAX=0)
echo "settings:  ${node_env[*]}"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
ms_now() { date +%s%3N; }

declare -A T

soak() {
    local be=$1 d="$tmp/$1" url
    mkdir -p "$d"
    url=$(bench_db_url "$be" soak)
    export SW_LISTEN_PORT
    SW_LISTEN_PORT=$(free_port)
    sw_start "$url" "${node_env[@]}"
    local sw=$SW_PID port=$SW_PORT
    echo
    echo "---- $be: slawatch pid $sw on 127.0.0.1:$port, load average $(bench_load)"

    # receivers: A steady, B flaky (mode file)
    local m=$d/rxb.mode rxa rxb
    echo ok >"$m"
    python3 "$bench_here/receiver.py" "$d/rxa.port" "$d/rxa.log" & bench_pids+=("$!")
    python3 "$bench_here/receiver.py" "$d/rxb.port" "$d/rxb.log" "$m" & bench_pids+=("$!")
    for _ in $(seq 100); do [ -s "$d/rxa.port" ] && [ -s "$d/rxb.port" ] && break; sleep 0.05; done
    rxa=$(cat "$d/rxa.port") rxb=$(cat "$d/rxb.port")
    local t r
    for t in a b; do
        r=$rxa
        [ $t = b ] && r=$rxb
        curl -sS --fail-with-body -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
            -d "{\"id\":\"soak-$t\",\"name\":\"Soak $t\"}" "http://127.0.0.1:$port/api/v1/tenants" ||
            bench_die "cannot create tenant soak-$t"
        curl -sS --fail-with-body -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
            -d "{\"channels\":[\"webhook\"],\"recipients\":{\"webhook\":[\"http://127.0.0.1:$r/hook-$t\"]},\"thresholds\":[100],\"webhook_secret\":\"soak-webhook-secret-0123\"}" \
            "http://127.0.0.1:$port/api/v1/sla/notifications/soak-$t/configure" ||
            bench_die "cannot configure soak-$t's webhook"
    done

    python3 "$here/load.py" "$port" "$token" "$d" "$SECONDS_TOTAL" "$RATE" 2>"$d/load.err" &
    local load=$!
    bench_pids+=("$load")
    local t0 next_kill kills=0 deaths=0 restart_ms=() now mode el
    t0=$(date +%s)
    next_kill=$((t0 + KILL_EVERY))
    while kill -0 "$load" 2>/dev/null; do
        sleep 1
        now=$(date +%s)
        el=$(((now - t0) % 120))
        mode=ok
        [ "$el" -ge 60 ] && mode=fail
        [ "$el" -ge 90 ] && mode=hang
        [ "$(cat "$m")" = "$mode" ] || echo "$mode" >"$m"
        if ! kill -0 "$sw" 2>/dev/null; then
            deaths=$((deaths + 1))
            echo "  $(date -u +%H:%M:%S) slawatch died by itself: $(tail -3 "$SW_LOG" | tr '\n' ' ')"
            sw_stop "$sw"
            sw_start "$url" "${node_env[@]}"
            sw=$SW_PID
        elif [ "$now" -ge "$next_kill" ]; then
            kill -KILL "$sw"
            { sw_stop "$sw"; } 2>/dev/null
            kills=$((kills + 1))
            local s0
            s0=$(ms_now)
            sw_start "$url" "${node_env[@]}"
            sw=$SW_PID
            restart_ms+=($(($(ms_now) - s0)))
            echo "  $(date -u +%H:%M:%S) kill -9 #$kills, restarted in ${restart_ms[-1]} ms (pid $sw), load average $(bench_load)"
            next_kill=$((now + KILL_EVERY))
        fi
    done
    wait "$load" || echo "load.py exited with $?: $(tail -3 "$d/load.err")"
    local load_end
    load_end=$(ms_now)

    # drain: receivers answer again; wait for every due breach
    echo ok >"$m"
    sort -u "$d/due" >"$d/due.s"
    local expected drained=0
    expected=$(wc -l <"$d/due.s")
    local w0
    w0=$(date +%s)
    while [ $(($(date +%s) - w0)) -lt "$DRAIN" ]; do
        # (the same alert id exists in both tenants: key by receiver = tenant)
        [ "$(awk 'FILENAME ~ /rxa\.log$/ { if ($2 == 200 && $4 == "sla.breach") got["soak-a " $5] = 1; next }
                  FILENAME ~ /rxb\.log$/ { if ($2 == 200 && $4 == "sla.breach") got["soak-b " $5] = 1; next }
                  !(($1 " " $2) in got) { n++ } END { print n + 0 }' \
              "$d/rxa.log" "$d/rxb.log" "$d/due.s")" -eq 0 ] && break
        sleep 2
    done
    drained=$(($(date +%s) - w0))
    sleep 3

    # ---- counts ----
    local rows_f=$d/rows
    echo "SELECT tenant_id || ' ' || id || ' ' || state FROM alerts;" | bench_sql "$be" "$url" | sort >"$rows_f"
    awk '{print $1 " " $2}' "$rows_f" >"$d/rows.ids"
    sort -u "$d/created" >"$d/created.s"
    local created stored_missing acked ack_bad resolved res_bad
    created=$(wc -l <"$d/created.s")
    stored_missing=$(comm -23 "$d/created.s" "$d/rows.ids" | wc -l)
    sort -u "$d/acked" >"$d/acked.s"
    acked=$(wc -l <"$d/acked.s")
    ack_bad=$(awk '$3 == "acknowledged" || $3 == "resolved" { print $1 " " $2 }' "$rows_f" | comm -23 "$d/acked.s" - | wc -l)
    sort -u "$d/resolved" >"$d/resolved.s"
    resolved=$(wc -l <"$d/resolved.s")
    res_bad=$(awk '$3 == "resolved" { print $1 " " $2 }' "$rows_f" | comm -23 "$d/resolved.s" - | wc -l)
    local unacked_stored
    unacked_stored=$(($(wc -l <"$d/rows.ids") - created))

    # notices per receiver: expected (due, acknowledged), delivered (200), duplicates
    local x exp_x del_x miss_x dup_x lat
    for x in a b; do
        awk -v t="soak-$x" '$1 == t { print $2, $3 }' "$d/due.s" | sort >"$d/due.$x"
        exp_x=$(wc -l <"$d/due.$x")
        awk '$2 == 200 && $4 == "sla.breach" { print $5 }' "$d/rx$x.log" | sort >"$d/got.$x"
        del_x=$(awk '{print $1}' "$d/due.$x" | comm -12 - <(sort -u "$d/got.$x") | wc -l)
        miss_x=$((exp_x - del_x))
        dup_x=$(uniq -d "$d/got.$x" | wc -l)
        # deadline -> first 200 receipt, for the due ones
        lat=$(awk 'NR == FNR { due[$1] = $2; next } $2 == 200 && $4 == "sla.breach" && ($5 in due) && !seen[$5]++ { print $1 - due[$5] }' \
            "$d/due.$x" "$d/rx$x.log" | sort -n | awk '{ v[NR] = $1 } END { if (!NR) { print "- - -"; exit }
                printf "%d %d %d\n", v[int(NR * 0.5 + 0.999)], v[int(NR * 0.99 + 0.999)], v[NR] }')
        # what the outbox says about the missing ones (pending: still to be
        # retried; dead: attempts exhausted; none: the notice was never queued)
        T[$be.why.$x]=""
        if [ "$miss_x" -gt 0 ]; then
            local in
            in=$(awk '{print $1}' "$d/due.$x" | comm -23 - <(sort -u "$d/got.$x") | sed "s/.*/'&'/" | paste -sd,)
            T[$be.why.$x]=$(echo "SELECT state || ' ' || count(*) FROM outbox WHERE tenant_id = 'soak-$x'
                AND channel = 'webhook' AND type = 'sla.breach' AND item_id IN ($in) GROUP BY state;" |
                bench_sql "$be" "$url" | paste -sd, | sed 's/,/, /g')
            [ -n "${T[$be.why.$x]}" ] && T[$be.why.$x]=" (outbox: ${T[$be.why.$x]})"
            echo "  missing for soak-$x: $(echo "$in" | cut -c1-200)${T[$be.why.$x]}"
            echo "SELECT item_id, state, attempts, next_attempt_at, coalesce(last_error, '') FROM outbox WHERE tenant_id = 'soak-$x'
                AND channel = 'webhook' AND type = 'sla.breach' AND item_id IN ($in) ORDER BY item_id LIMIT 5;" |
                bench_sql "$be" "$url" | sed 's/^/    /'
        fi
        T[$be.exp.$x]=$exp_x T[$be.del.$x]=$del_x T[$be.miss.$x]=$miss_x T[$be.dup.$x]=$dup_x T[$be.lat.$x]=$lat
        T[$be.tries.$x]=$(awk '$4 == "sla.breach"' "$d/rx$x.log" | wc -l)
        T[$be.non200.$x]=$(awk '$2 != 200' "$d/rx$x.log" | wc -l)
    done
    local errs rss
    errs=$(cat "$tmp"/sw*.err 2>/dev/null | grep -ciE ' error ' || true)
    rss=$(awk '/VmRSS/ { print $2 }' "/proc/$sw/status" 2>/dev/null || echo 0)
    T[$be.created]=$created T[$be.missing]=$stored_missing T[$be.unacked]=$unacked_stored
    T[$be.acked]=$acked T[$be.ackbad]=$ack_bad T[$be.resolved]=$resolved T[$be.resbad]=$res_bad
    T[$be.kills]=$kills T[$be.deaths]=$deaths T[$be.drain]=$drained T[$be.errs]=$errs
    T[$be.rss]=$((rss / 1024))
    T[$be.restart]=$(printf '%s\n' "${restart_ms[@]:-0}" | sort -n | awk '{ v[NR] = $1 } END { printf "median %d ms, max %d ms", v[int((NR + 1) / 2)], v[NR] }')
    T[$be.stats]=$(python3 - "$d/stats.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
def k(kind):
    ok = s.get(kind + ".2xx", 0)
    other = {x.split(".", 1)[1]: v for x, v in s.items() if x.startswith(kind + ".") and x.split(".", 1)[1] not in ("2xx", "p50_ms", "p99_ms", "got_data")}
    o = ", ".join(f"{a} {b}" for a, b in sorted(other.items()))
    return f"{ok} 2xx (p50 {s.get(kind + '.p50_ms', 0)} ms, p99 {s.get(kind + '.p99_ms', 0)} ms)" + (f"; {o}" if o else "")
print("\t".join(k(x) for x in ("single", "bulk", "due", "ack", "resolve", "reports", "ws")))
EOF
)
    T[$be.load]=$(bench_load)
    sw_stop "$sw"
    echo "---- $be: done, load average ${T[$be.load]}"
}

backends=$(bench_backends)
for be in $backends; do soak "$be"; done

echo
hdr="| soak: ${SECONDS_TOTAL} s, kill -9 every ${KILL_EVERY} s |" sep="|---|"
for be in $backends; do hdr="$hdr $be |"; sep="$sep---|"; done
echo "$hdr"
echo "$sep"
row() { local l="| $1 |" be; shift; for be in $backends; do l="$l $(eval "echo \"$*\"") |"; done; echo "$l"; }
row "kill -9 / died by itself / restart" '${T[$be.kills]} / ${T[$be.deaths]} / ${T[$be.restart]}'
row "alerts created, answered 2xx" '${T[$be.created]}'
row "... of them missing from the database" '${T[$be.missing]}'
row "rows stored without a 2xx seen (answer lost in a kill)" '${T[$be.unacked]}'
row "acknowledged 2xx / not acknowledged in the database" '${T[$be.acked]} / ${T[$be.ackbad]}'
row "resolved 2xx / not resolved in the database" '${T[$be.resolved]} / ${T[$be.resbad]}'
row "breaches due, steady receiver: expected / delivered / missing / duplicate" '${T[$be.exp.a]} / ${T[$be.del.a]} / ${T[$be.miss.a]}${T[$be.why.a]} / ${T[$be.dup.a]}'
row "... deadline -> received, p50 p99 max ms" '${T[$be.lat.a]}'
row "breaches due, failing+hanging receiver: expected / delivered / missing / duplicate" '${T[$be.exp.b]} / ${T[$be.del.b]} / ${T[$be.miss.b]}${T[$be.why.b]} / ${T[$be.dup.b]}'
row "... deadline -> received, p50 p99 max ms" '${T[$be.lat.b]}'
row "... attempts received / answered 503 or hung" '${T[$be.tries.b]} / ${T[$be.non200.b]}'
row "drain after the load (s)" '${T[$be.drain]}'
for i in 1 2 3 4 5 6 7; do
    name=$(echo "single create|bulk (500)|due create|acknowledge|resolve|reports GET|WebSocket connect" | cut -d'|' -f$i)
    row "$name" "\$(echo \"\${T[\$be.stats]}\" | cut -f$i)"
done
row "server log lines at level error" '${T[$be.errs]}'
row "RSS at the end (MB)" '${T[$be.rss]}'
row "load average at the end" '${T[$be.load]}'
exit 0
