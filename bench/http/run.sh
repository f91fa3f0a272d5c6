#!/bin/bash
# bench/http/run.sh BUILD_DIR: HTTP throughput and latency of slawatch, with
# nginx on the same machine as the yardstick, per backend (BENCH_DB=sqlite|
# postgres|both, default both; bench/lib.sh).  For each backend, a fresh
# database and server:
#
#   1. GET  /api/v1/tenants (authenticated) on slawatch      } interleaved,
#   3. the same GET against nginx (a location answering 204) } BENCH_ROUNDS
#   2. POST /api/v1/tenants/{tenant}/projects, a new row each request (once)
#   and, as a diagnostic, GET /healthz on slawatch (no token check, no store)
#
# wrk -t$BENCH_THREADS -c$BENCH_CONNECTIONS -d$BENCH_DURATION (2, 64, 10s),
# medians over the rounds.  Goals: slawatch GET >= 60 % of nginx's req/s, and
# p99 <= 5 ms.  A missed goal is reported, not an error: the script exits
# non-zero only when it cannot run (no binary, no wrk/nginx, server did not
# start or died under load).  Needs wrk and nginx-light (scripts/deps.sh
# --bench); loopback only, touches nothing outside its temp directory.
set -euo pipefail
export LC_ALL=C
. "$(dirname "$0")/../lib.sh"

DURATION=${BENCH_DURATION:-10s}
ROUNDS=${BENCH_ROUNDS:-3}
CONNS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
WARMUP=${BENCH_WARMUP:-2s}
GOAL_RATIO=0.60
GOAL_P99_MS=5

[ $# -ge 1 ] || bench_die "usage: bench/http/run.sh BUILD_DIR"
command -v wrk >/dev/null || bench_die "wrk not installed (scripts/deps.sh --bench)"
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx_bin" ] || bench_die "nginx not installed (scripts/deps.sh --bench)"
bench_init http "$1"
bench_quiet
echo "wrk:       $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
echo "nginx:     $("$nginx_bin" -v 2>&1 | sed 's/^nginx version: //')"
echo "load:      wrk -t$THREADS -c$CONNS -d$DURATION --latency, $ROUNDS interleaved rounds (median), warm-up $WARMUP"
cd "$tmp"

# ---- a tiny HTTP/1.1 client on fd 3 (bash /dev/tcp, keep-alive) -------------
# http_open PORT; http_send METHOD PATH [BODY]; then RESP_STATUS, RESP_CLOSE
# (1 if the server said Connection: close), RESP_BODY.
http_open() { exec 3<>"/dev/tcp/127.0.0.1/$1"; }

http_send() {
    local method=$1 path=$2 body=${3-} line len=0
    printf '%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n' \
        "$method" "$path" "$token" >&3
    if [ -n "$body" ]; then
        printf 'Content-Type: application/json\r\nContent-Length: %d\r\n' "${#body}" >&3
    fi
    printf '\r\n%s' "$body" >&3
    RESP_STATUS="" RESP_CLOSE=0 RESP_BODY=""
    IFS= read -r -t 5 line <&3 || return 1
    line=${line%$'\r'}
    RESP_STATUS=${line#HTTP/1.? }
    RESP_STATUS=${RESP_STATUS%% *}
    while IFS= read -r -t 5 line <&3; do
        line=${line%$'\r'}
        [ -z "$line" ] && break
        case ${line,,} in
            content-length:*) len=${line#*:} len=${len// /} ;;
            connection:*close*) RESP_CLOSE=1 ;;
        esac
    done
    if [ "$len" -gt 0 ]; then
        IFS= read -r -N "$len" -t 5 RESP_BODY <&3 || return 1
    fi
}

problems=()
problem() { problems+=("$*"); echo "PROBLEM: $*"; }

# ---- nginx ------------------------------------------------------------------
mkdir -p "$tmp/nginx"
port_in_use() {
    if command -v ss >/dev/null; then
        ss -Htln "sport = :$1" 2>/dev/null | grep -q .
    else
        (exec 4<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
    fi
}
nginx_port=""
for _ in $(seq 10); do
    p=$((20000 + RANDOM % 40000))
    port_in_use "$p" && continue
    cat >"$tmp/nginx/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 2;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $tmp/nginx/client_body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$p;
        location / { return 204; }
    }
}
EOF
    : >"$tmp/nginx/error.log"
    "$nginx_bin" -p "$tmp/nginx/" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf" \
        >"$tmp/nginx/stdout" 2>&1 &
    nginx_pid=$!
    bench_pids+=("$nginx_pid")
    for _ in $(seq 50); do
        if (exec 4<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            nginx_port=$p
            break
        fi
        kill -0 "$nginx_pid" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$nginx_port" ] && break
    sw_stop "$nginx_pid"
    grep -q "in use" "$tmp/nginx/error.log" "$tmp/nginx/stdout" 2>/dev/null ||
        { cat "$tmp/nginx/error.log" "$tmp/nginx/stdout" >&2; bench_die "nginx did not start"; }
done
[ -n "$nginx_port" ] || bench_die "nginx found no free port"
echo "nginx:     pid $nginx_pid on 127.0.0.1:$nginx_port (worker_processes 2, access_log off, 204)"

# ---- wrk --------------------------------------------------------------------
# A done() printing one machine-readable line; the POST script adds a request()
# making a unique project id per request from a run nonce, thread and counter.
bench_wrk_report_lua >"$tmp/report.lua"
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
    local body = '{"id":"b-' .. nonce .. '-' .. tid .. '-' .. counter ..
                 '","name":"bench project"}'
    return wrk.format("POST", nil, nil, body)
end
EOF
cat "$tmp/report.lua" >>"$tmp/post.lua"

# run_wrk NAME DURATION URL [wrk args...] -> sets R_* from the RESULT line
run_wrk() {
    local name=$1 dur=$2 url=$3
    shift 3
    WRK_RUN=$name wrk -t"$THREADS" -c"$CONNS" -d"$dur" --latency -H "Authorization: Bearer $token" \
        "$@" "$url" >"$tmp/wrk-$name.txt" 2>&1 || {
        cat "$tmp/wrk-$name.txt" >&2
        bench_die "wrk failed ($name)"
    }
    local line
    line=$(grep '^RESULT ' "$tmp/wrk-$name.txt") || { cat "$tmp/wrk-$name.txt" >&2; bench_die "no result ($name)"; }
    eval "$(echo "${line#RESULT }" | tr ' ' '\n' | sed 's/^/R_/')"
    local errs=$((R_connect + R_read + R_write + R_timeout))
    printf '  %-22s %10.0f req/s   p50 %7.2f ms   p90 %7.2f ms   p99 %7.2f ms   max %8.2f ms   non-2xx %d   socket errors %d\n' \
        "$name" "$R_rps" "$(ms "$R_p50_us")" "$(ms "$R_p90_us")" "$(ms "$R_p99_us")" \
        "$(ms "$R_max_us")" "$R_status" "$errs"
    [ "$R_status" -eq 0 ] || problem "$name: $R_status non-2xx answers out of $R_requests"
    [ "$errs" -eq 0 ] || problem "$name: socket errors connect=$R_connect read=$R_read write=$R_write timeout=$R_timeout"
    kill -0 "$sw_pid" 2>/dev/null || { cat "$SW_LOG" >&2; bench_die "slawatch died during $name"; }
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

declare -A SG_RPS SG_P50 SG_P99 NG_RPS NG_P50 NG_P99 HZ_RPS HZ_P50 HZ_P99 SP_RPS SP_P50 SP_P99 \
    RATIO ROWS LOAD

# ---- one backend --------------------------------------------------------------
measure() {
    local be=$1 url
    url=$(bench_db_url "$be" bench_http)
    sw_start "$url"
    sw_pid=$SW_PID
    local sw_port=$SW_PORT
    echo
    echo "---- $be: slawatch pid $sw_pid on 127.0.0.1:$sw_port, load average $(bench_load)"

    # set-up, on one keep-alive connection, which also checks the server keeps it
    local tenant=bench step body
    http_open "$sw_port"
    http_send POST /api/v1/tenants "{\"id\":\"$tenant\",\"name\":\"Bench tenant\"}" ||
        bench_die "no answer to POST /api/v1/tenants"
    [ "$RESP_STATUS" = 201 ] || bench_die "POST /api/v1/tenants answered $RESP_STATUS: $RESP_BODY"
    for step in "GET /api/v1/tenants" "POST /api/v1/tenants/$tenant/projects" "GET /healthz"; do
        if [ "$RESP_CLOSE" = 1 ]; then
            problem "$be: slawatch sent 'Connection: close' on a keep-alive request (before $step)"
            exec 3>&-
            http_open "$sw_port"
        fi
        body=""
        [ "${step%% *}" = POST ] && body='{"id":"keepalive-check","name":"keep-alive check"}'
        http_send "${step%% *}" "${step#* }" "$body" || bench_die "no answer to $step on a kept-alive connection"
        case "$RESP_STATUS" in 2??) ;; *) bench_die "$step answered $RESP_STATUS: $RESP_BODY" ;; esac
    done
    [ "$RESP_CLOSE" = 1 ] && problem "$be: slawatch sent 'Connection: close' on a keep-alive GET /healthz"
    exec 3>&-

    local sw_get="http://127.0.0.1:$sw_port/api/v1/tenants"
    local ng_get="http://127.0.0.1:$nginx_port/api/v1/tenants"
    echo "warm-up ($WARMUP each):"
    run_wrk "$be-warmup-slawatch" "$WARMUP" "$sw_get" -s "$tmp/report.lua"
    run_wrk "$be-warmup-nginx" "$WARMUP" "$ng_get" -s "$tmp/report.lua"
    local sg_rps=() sg_p50=() sg_p99=() ng_rps=() ng_p50=() ng_p99=() round
    for round in $(seq "$ROUNDS"); do
        echo "round $round/$ROUNDS:"
        run_wrk "$be-slawatch-GET" "$DURATION" "$sw_get" -s "$tmp/report.lua"
        sg_rps+=("$R_rps") sg_p50+=("$R_p50_us") sg_p99+=("$R_p99_us")
        run_wrk "$be-nginx-GET" "$DURATION" "$ng_get" -s "$tmp/report.lua"
        ng_rps+=("$R_rps") ng_p50+=("$R_p50_us") ng_p99+=("$R_p99_us")
    done
    # where GET's time goes: a public route (no token check, no store read)
    echo "diagnostic (once):"
    run_wrk "$be-slawatch-healthz" "$DURATION" "http://127.0.0.1:$sw_port/healthz" -s "$tmp/report.lua"
    HZ_RPS[$be]=$R_rps HZ_P50[$be]=$R_p50_us HZ_P99[$be]=$R_p99_us

    echo "writes:"
    local rows_before rows_after
    rows_before=$(echo "SELECT count(*) FROM projects;" | bench_sql "$be" "$url")
    run_wrk "$be-slawatch-POST" "$DURATION" "http://127.0.0.1:$sw_port/api/v1/tenants/$tenant/projects" \
        -H "Content-Type: application/json" -s "$tmp/post.lua"
    SP_RPS[$be]=$R_rps SP_P50[$be]=$R_p50_us SP_P99[$be]=$R_p99_us
    rows_after=$(echo "SELECT count(*) FROM projects;" | bench_sql "$be" "$url")
    ROWS[$be]=$((rows_after - rows_before))
    echo "  rows written: ${ROWS[$be]} (wrk counted $R_requests answers, $R_status non-2xx)"
    [ "${ROWS[$be]}" -ge $((R_requests - R_status)) ] ||
        problem "$be: ${ROWS[$be]} rows for $((R_requests - R_status)) acknowledged POSTs"

    # after the load: still healthy?
    http_open "$sw_port"
    http_send GET /healthz || true
    [ "$RESP_STATUS" = 200 ] || problem "$be: GET /healthz after the load answered '${RESP_STATUS:-nothing}'"
    http_send GET /metrics || true
    exec 3>&-
    local errs5
    errs5=$(printf '%s\n' "$RESP_BODY" |
        awk '/^slawatch_http_requests_total/ && /status="5/ { n += $NF } END { print n + 0 }')
    [ "$errs5" -eq 0 ] || problem "$be: slawatch counted $errs5 answers with a 5xx status (see /metrics)"
    if grep -qiE ' (error|warn) ' "$SW_LOG"; then
        echo "slawatch warnings/errors in its log:"
        grep -iE ' (error|warn) ' "$SW_LOG" | cut -c25- | sort | uniq -c | sort -rn | head -10
    fi
    sw_stop "$sw_pid"

    SG_RPS[$be]=$(median "${sg_rps[@]}") SG_P50[$be]=$(median "${sg_p50[@]}") SG_P99[$be]=$(median "${sg_p99[@]}")
    NG_RPS[$be]=$(median "${ng_rps[@]}") NG_P50[$be]=$(median "${ng_p50[@]}") NG_P99[$be]=$(median "${ng_p99[@]}")
    RATIO[$be]=$(awk -v a="${SG_RPS[$be]}" -v b="${NG_RPS[$be]}" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')
    LOAD[$be]=$(bench_load)
}

backends=$(bench_backends)
for be in $backends; do measure "$be"; done

# ---- summary ----------------------------------------------------------------
echo
echo "summary (median of $ROUNDS rounds for GET; POST once; wrk -t$THREADS -c$CONNS -d$DURATION):"
echo
hdr="| target |" sep="|---|"
for be in $backends; do hdr="$hdr $be req/s | p50 ms | p99 ms |"; sep="$sep---:|---:|---:|"; done
echo "$hdr"
echo "$sep"
row() {
    local label=$1 rps=$2 p50=$3 p99=$4 line be
    line="| $label |"
    for be in $backends; do
        eval "line=\"\$line \$(printf '%.0f' \"\${$rps[$be]}\") | \$(ms \"\${$p50[$be]}\") | \$(ms \"\${$p99[$be]}\") |\""
    done
    echo "$line"
}
row "slawatch GET /api/v1/tenants" SG_RPS SG_P50 SG_P99
row "nginx GET (return 204)" NG_RPS NG_P50 NG_P99
row "slawatch POST /api/v1/tenants/{t}/projects" SP_RPS SP_P50 SP_P99
row "slawatch GET /healthz (diagnostic)" HZ_RPS HZ_P50 HZ_P99
echo
for be in $backends; do
    echo "$be: GET / nginx = ${RATIO[$be]}; goal >= $GOAL_RATIO: $(yes_no "${RATIO[$be]} >= $GOAL_RATIO");" \
        "GET p99 <= $GOAL_P99_MS ms: $(yes_no "${SG_P99[$be]} / 1000 <= $GOAL_P99_MS");" \
        "POST p99 <= $GOAL_P99_MS ms: $(yes_no "${SP_P99[$be]} / 1000 <= $GOAL_P99_MS")" \
        "(load average after: ${LOAD[$be]})"
done
if [ ${#problems[@]} -gt 0 ]; then
    echo
    echo "problems seen (${#problems[@]}):"
    printf '  - %s\n' "${problems[@]}"
fi
exit 0
