#!/bin/bash
# bench/http/run.sh BUILD_DIR: HTTP throughput and latency of slawatch, with
# nginx on the same machine as the yardstick.
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
# --bench); runs as root or not, loopback only, touches nothing outside its
# temp directory.
set -euo pipefail
export LC_ALL=C

DURATION=${BENCH_DURATION:-10s}
ROUNDS=${BENCH_ROUNDS:-3}
CONNS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
WARMUP=${BENCH_WARMUP:-2s}
GOAL_RATIO=0.60
GOAL_P99_MS=5

die() { echo "bench/http: $*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: bench/http/run.sh BUILD_DIR"
build=$(cd "$1" 2>/dev/null && pwd) || die "no build directory '$1'"
bin=$build/slawatch
[ -x "$bin" ] || die "$bin not found (make build, or cmake --build $build --target slawatch)"
command -v wrk >/dev/null || die "wrk not installed (scripts/deps.sh --bench)"
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx_bin" ] || die "nginx not installed (scripts/deps.sh --bench)"

build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
sanitize=$(sed -n 's/^SLAWATCH_SANITIZE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/slawatch-bench-http.XXXXXX")
sw_pid=""
nginx_pid=""
cd "$tmp"

stop_pid() {
    local pid=$1
    [ -n "$pid" ] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    exec 3>&-
    stop_pid "$sw_pid"
    stop_pid "$nginx_pid"
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- machine ----------------------------------------------------------------
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
[ -n "$cpu_model" ] || cpu_model=$(uname -m)
echo "machine:   $(nproc) cores, ${cpu_model}, kernel $(uname -r)"
echo "date:      $(date -u +%Y-%m-%dT%H:%M:%SZ), load average $(cut -d' ' -f1-3 /proc/loadavg) before the run"
echo "slawatch:  $bin (CMAKE_BUILD_TYPE=${build_type:-?}${sanitize:+, SLAWATCH_SANITIZE=$sanitize})"
echo "wrk:       $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
echo "nginx:     $("$nginx_bin" -v 2>&1 | sed 's/^nginx version: //')"
echo "load:      wrk -t$THREADS -c$CONNS -d$DURATION --latency, $ROUNDS interleaved rounds (median), warm-up $WARMUP"
case "$build_type" in
    Release | RelWithDebInfo | MinSizeRel) ;;
    *) echo "WARNING: $build is not an optimised build (cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo)" ;;
esac
[ "$sanitize" = "ON" ] && echo "WARNING: $build is a sanitizer build: figures are meaningless"

# ---- a tiny HTTP/1.1 client on fd 3 (bash /dev/tcp, keep-alive) -------------
# http_open PORT; http_send METHOD PATH [BODY]; then RESP_STATUS, RESP_CLOSE
# (1 if the server said Connection: close), RESP_BODY.
token="bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"

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

# ---- slawatch ---------------------------------------------------------------
SLAWATCH_ADMIN_TOKEN=$token "$bin" serve --listen 127.0.0.1:0 --db "sqlite:$tmp/bench.db" \
    >"$tmp/slawatch.out" 2>"$tmp/slawatch.err" &
sw_pid=$!
sw_port=""
for _ in $(seq 100); do
    sw_port=$(sed -n 's|^listening on http://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$tmp/slawatch.out")
    [ -n "$sw_port" ] && break
    kill -0 "$sw_pid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$sw_port" ]; then
    cat "$tmp/slawatch.err" >&2
    die "slawatch did not start"
fi
echo "slawatch:  pid $sw_pid on 127.0.0.1:$sw_port, database $tmp/bench.db"

# Set-up, on one keep-alive connection, which also checks the server keeps it.
tenant=bench
http_open "$sw_port"
http_send POST /api/v1/tenants "{\"id\":\"$tenant\",\"name\":\"Bench tenant\"}" ||
    die "no answer to POST /api/v1/tenants"
[ "$RESP_STATUS" = 201 ] || die "POST /api/v1/tenants answered $RESP_STATUS: $RESP_BODY"
for step in "GET /api/v1/tenants" "POST /api/v1/tenants/$tenant/projects" "GET /healthz"; do
    if [ "$RESP_CLOSE" = 1 ]; then
        problem "slawatch sent 'Connection: close' on a keep-alive request (before $step)"
        exec 3>&-
        http_open "$sw_port"
    fi
    body=""
    [ "${step%% *}" = POST ] && body='{"id":"keepalive-check","name":"keep-alive check"}'
    http_send "${step%% *}" "${step#* }" "$body" || die "no answer to $step on a kept-alive connection"
    case "$RESP_STATUS" in 2??) ;; *) die "$step answered $RESP_STATUS: $RESP_BODY" ;; esac
done
[ "$RESP_CLOSE" = 1 ] && problem "slawatch sent 'Connection: close' on a keep-alive GET /healthz"
exec 3>&-

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
    for _ in $(seq 50); do
        if (exec 4<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            nginx_port=$p
            break
        fi
        kill -0 "$nginx_pid" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$nginx_port" ] && break
    stop_pid "$nginx_pid"
    nginx_pid=""
cd "$tmp"
    grep -q "in use" "$tmp/nginx/error.log" "$tmp/nginx/stdout" 2>/dev/null ||
        { cat "$tmp/nginx/error.log" "$tmp/nginx/stdout" >&2; die "nginx did not start"; }
done
[ -n "$nginx_port" ] || die "nginx found no free port"
echo "nginx:     pid $nginx_pid on 127.0.0.1:$nginx_port (worker_processes 2, access_log off, 204)"

# ---- wrk --------------------------------------------------------------------
# A done() printing one machine-readable line; the POST script adds a request()
# making a unique project id per request from a run nonce, thread and counter.
cat >"$tmp/report.lua" <<'EOF'
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "RESULT rps=%.1f requests=%d p50_us=%.0f p90_us=%.0f p99_us=%.0f max_us=%.0f " ..
        "connect=%d read=%d write=%d status=%d timeout=%d\n",
        summary.requests / (summary.duration / 1e6), summary.requests,
        latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
        e.connect, e.read, e.write, e.status, e.timeout))
end
EOF
cat >"$tmp/post.lua" <<EOF
local nonce = "$(date +%s)-$$"
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
    wrk -t"$THREADS" -c"$CONNS" -d"$dur" --latency -H "Authorization: Bearer $token" \
        "$@" "$url" >"$tmp/wrk-$name.txt" 2>&1 || {
        cat "$tmp/wrk-$name.txt" >&2
        die "wrk failed ($name)"
    }
    local line
    line=$(grep '^RESULT ' "$tmp/wrk-$name.txt") || { cat "$tmp/wrk-$name.txt" >&2; die "no result ($name)"; }
    eval "$(echo "${line#RESULT }" | tr ' ' '\n' | sed 's/^/R_/')"
    local errs=$((R_connect + R_read + R_write + R_timeout))
    printf '  %-16s %10.0f req/s   p50 %7.3f ms   p90 %7.3f ms   p99 %7.3f ms   max %8.3f ms   non-2xx %d   socket errors %d\n' \
        "$name" "$R_rps" "$(ms "$R_p50_us")" "$(ms "$R_p90_us")" "$(ms "$R_p99_us")" \
        "$(ms "$R_max_us")" "$R_status" "$errs"
    [ "$R_status" -eq 0 ] || problem "$name: $R_status non-2xx answers out of $R_requests"
    [ "$errs" -eq 0 ] || problem "$name: socket errors connect=$R_connect read=$R_read write=$R_write timeout=$R_timeout"
    kill -0 "$sw_pid" 2>/dev/null || { cat "$tmp/slawatch.err" >&2; die "slawatch died during $name"; }
}
ms() { awk -v u="$1" 'BEGIN { printf "%.3f", u / 1000 }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

sw_get="http://127.0.0.1:$sw_port/api/v1/tenants"
ng_get="http://127.0.0.1:$nginx_port/api/v1/tenants"

echo
echo "warm-up ($WARMUP each):"
run_wrk warmup-slawatch "$WARMUP" "$sw_get" -s "$tmp/report.lua"
run_wrk warmup-nginx "$WARMUP" "$ng_get" -s "$tmp/report.lua"

sg_rps=() sg_p50=() sg_p99=() ng_rps=() ng_p50=() ng_p99=()
for round in $(seq "$ROUNDS"); do
    echo
    echo "round $round/$ROUNDS:"
    run_wrk "slawatch-GET" "$DURATION" "$sw_get" -s "$tmp/report.lua"
    sg_rps+=("$R_rps") sg_p50+=("$R_p50_us") sg_p99+=("$R_p99_us")
    run_wrk "nginx-GET" "$DURATION" "$ng_get" -s "$tmp/report.lua"
    ng_rps+=("$R_rps") ng_p50+=("$R_p50_us") ng_p99+=("$R_p99_us")
done

# Where GET's time goes: the same server, a public route (no token check, no
# store read).  Informational, once.
echo
echo "diagnostic (once):"
run_wrk "slawatch-healthz" "$DURATION" "http://127.0.0.1:$sw_port/healthz" -s "$tmp/report.lua"
hz_rps=$R_rps hz_p50=$R_p50_us hz_p99=$R_p99_us

echo
echo "writes:"
rows_before=""
command -v sqlite3 >/dev/null &&
    rows_before=$(sqlite3 "$tmp/bench.db" "select count(*) from projects" 2>/dev/null || true)
run_wrk "slawatch-POST" "$DURATION" "http://127.0.0.1:$sw_port/api/v1/tenants/$tenant/projects" \
    -H "Content-Type: application/json" -s "$tmp/post.lua"
sp_rps=$R_rps sp_p50=$R_p50_us sp_p99=$R_p99_us sp_requests=$R_requests sp_status=$R_status
if [ -n "$rows_before" ]; then
    rows_after=$(sqlite3 "$tmp/bench.db" "select count(*) from projects" 2>/dev/null || echo "?")
    echo "  rows written: $((rows_after - rows_before)) (wrk counted $sp_requests answers, $sp_status non-2xx)"
fi

# ---- after the load: still healthy? -----------------------------------------
http_open "$sw_port"
http_send GET /healthz || true
[ "$RESP_STATUS" = 200 ] || problem "GET /healthz after the load answered '${RESP_STATUS:-nothing}'"
http_send GET /metrics || true
exec 3>&-
errs5=$(printf '%s\n' "$RESP_BODY" |
    awk '/^slawatch_http_requests_total/ && /status="5/ { n += $NF } END { print n + 0 }')
[ "$errs5" -eq 0 ] || problem "slawatch counted $errs5 answers with a 5xx status (see /metrics)"
if grep -qiE ' (error|warn) ' "$tmp/slawatch.err"; then
    echo "slawatch warnings/errors in its log:"
    grep -iE ' (error|warn) ' "$tmp/slawatch.err" | sort | uniq -c | sort -rn | head -10
fi

# ---- summary ----------------------------------------------------------------
m_sg_rps=$(median "${sg_rps[@]}") m_sg_p50=$(median "${sg_p50[@]}") m_sg_p99=$(median "${sg_p99[@]}")
m_ng_rps=$(median "${ng_rps[@]}") m_ng_p50=$(median "${ng_p50[@]}") m_ng_p99=$(median "${ng_p99[@]}")
ratio=$(awk -v a="$m_sg_rps" -v b="$m_ng_rps" 'BEGIN { r = (b > 0) ? a / b : 0; printf "%.2f", r }')
yes_no() { awk "BEGIN { if ($1) print \"yes\"; else print \"NO\" }"; }
goal_ratio=$(yes_no "$ratio >= $GOAL_RATIO")
goal_get_p99=$(yes_no "$m_sg_p99 / 1000 <= $GOAL_P99_MS")
goal_post_p99=$(yes_no "$sp_p99 / 1000 <= $GOAL_P99_MS")

echo
echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the figures)"
echo
echo "summary (median of $ROUNDS rounds for GET; POST once; wrk -t$THREADS -c$CONNS -d$DURATION):"
echo
echo "| target | req/s | p50 (ms) | p99 (ms) |"
echo "|---|---:|---:|---:|"
printf '| slawatch GET /api/v1/tenants | %.0f | %s | %s |\n' "$m_sg_rps" "$(ms "$m_sg_p50")" "$(ms "$m_sg_p99")"
printf '| nginx GET (return 204) | %.0f | %s | %s |\n' "$m_ng_rps" "$(ms "$m_ng_p50")" "$(ms "$m_ng_p99")"
printf '| slawatch POST /api/v1/tenants/{tenant_id}/projects | %.0f | %s | %s |\n' "$sp_rps" "$(ms "$sp_p50")" "$(ms "$sp_p99")"
printf '| slawatch GET /healthz (no auth, no store; diagnostic) | %.0f | %s | %s |\n' "$hz_rps" "$(ms "$hz_p50")" "$(ms "$hz_p99")"
echo
echo "slawatch GET / nginx req/s: $ratio"
echo "goal: GET >= ${GOAL_RATIO} x nginx req/s ... $goal_ratio ($ratio)"
echo "goal: GET p99 <= ${GOAL_P99_MS} ms ........... $goal_get_p99 ($(ms "$m_sg_p99") ms)"
echo "goal: POST p99 <= ${GOAL_P99_MS} ms .......... $goal_post_p99 ($(ms "$sp_p99") ms)"
if [ ${#problems[@]} -gt 0 ]; then
    echo
    echo "problems seen (${#problems[@]}):"
    printf '  - %s\n' "${problems[@]}"
fi
exit 0
