# bench/lib.sh: what every bench/*/run.sh shares (sourced, not run).
#
# Backends.  BENCH_DB=sqlite|postgres|both (default both) says which stores
# a bench measures; bench_backends prints them in order.  A bench runs its
# measurement once per backend in the SAME run and prints the figures side
# by side, so SQLite and PostgreSQL are compared on one machine state.
#
# PostgreSQL.  bench_pg_start starts ONE throw-away durable cluster per bench
# (scripts/pg-test-cluster.sh --durable: fsync and synchronous_commit on, a
# free loopback port, its own temp directory); bench_db_url gives each
# measurement a fresh database in it.  bench_cleanup (the EXIT trap) stops
# every server it started, the cluster, and removes the temp directory, also
# when the bench fails or is interrupted.
#
# Servers.  sw_start URL [VAR=value ...] starts `slawatch serve` on a free
# loopback port with the bench's admin token; SW_PID and SW_PORT are set
# and the pid is remembered for the cleanup.
#
# Loading.  bench_sql BACKEND URL runs SQL from stdin with the backend's own
# shell (sqlite3 / psql), the fast path for millions of rows (INSERT ...
# SELECT generate_series), never a million API calls.

BENCH_DB=${BENCH_DB:-both}
bench_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bench_root=$(cd "$bench_here/.." && pwd)

bench_die() { echo "bench/${BENCH_NAME:-?}: $*" >&2; exit 1; }

bench_backends() {
    case "$BENCH_DB" in
        sqlite) echo sqlite ;;
        postgres | pg) echo postgres ;;
        both | "") echo sqlite postgres ;;
        *) bench_die "BENCH_DB must be sqlite, postgres or both (not '$BENCH_DB')" ;;
    esac
}

# bench_init NAME BUILD_DIR: checks the binary, makes the temp dir, sets the
# traps.  Sets BENCH_NAME, build, bin, tmp, token.
bench_init() {
    BENCH_NAME=$1
    build=$(cd "$2" 2>/dev/null && pwd) || bench_die "no build directory '$2'"
    bin=$build/slawatch
    [ -x "$bin" ] || bench_die "$bin not found (make build)"
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/slawatch-bench-$BENCH_NAME.XXXXXX")
    token="bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
    bench_pids=()
    sw_started=0
    bench_pg_state=""
    trap bench_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    local bt san
    bt=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
    san=$(sed -n 's/^SLAWATCH_SANITIZE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
    [ -z "$bt" ] && [ -f "$build/CMakeCache.txt" ] && bt=RelWithDebInfo
    local cpu
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
    echo "machine:   $(nproc) cores, ${cpu:-$(uname -m)}, kernel $(uname -r)"
    echo "date:      $(date -u +%Y-%m-%dT%H:%M:%SZ), load average $(bench_load) before the run"
    echo "slawatch:  $bin (CMAKE_BUILD_TYPE=${bt:-?}${san:+, SLAWATCH_SANITIZE=$san})"
    echo "backends:  $(bench_backends) (BENCH_DB=$BENCH_DB)"
    case "$bt" in
        Release | RelWithDebInfo | MinSizeRel) ;;
        *) echo "WARNING: $build is not an optimised build" ;;
    esac
    [ "$san" = ON ] && echo "WARNING: a sanitizer build: figures are meaningless"
    case " $(bench_backends) " in *" postgres "*) bench_pg_start ;; esac
    return 0
}

bench_load() { cut -d' ' -f1-3 /proc/loadavg; }

# bench_quiet: waits (at most BENCH_QUIET_WAIT seconds, default 0: not at
# all) for the 1-minute load average to fall below BENCH_QUIET_LOAD (1.5),
# so figures for the docs are taken on a quiet machine when there is one.
bench_quiet() {
    local max=${BENCH_QUIET_WAIT:-0} lim=${BENCH_QUIET_LOAD:-1.5} waited=0
    while [ "$waited" -lt "$max" ]; do
        awk -v l="$(cut -d' ' -f1 /proc/loadavg)" -v m="$lim" 'BEGIN { exit !(l < m) }' && return 0
        sleep 5
        waited=$((waited + 5))
    done
    return 0
}

bench_stop_pid() {
    local pid=$1
    [ -n "$pid" ] || return 0
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 150); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

bench_cleanup() {
    local pid
    for pid in "${bench_pids[@]}"; do bench_stop_pid "$pid"; done
    bench_pids=()
    if [ -n "$bench_pg_state" ]; then
        "$bench_root/scripts/pg-test-cluster.sh" stop "$bench_pg_state" >/dev/null 2>&1 || true
        bench_pg_state=""
    fi
    if [ -n "${BENCH_KEEP:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}

# bench_pg_start: one durable cluster for this bench (idempotent; bench_init
# calls it when postgres is among the backends: never from a subshell).  Sets
# PG_URL (postgres://postgres@127.0.0.1:PORT/postgres) and PG_DIR.
bench_pg_start() {
    [ -n "$bench_pg_state" ] && return 0
    command -v psql >/dev/null || bench_die "psql not installed (scripts/deps.sh)"
    bench_pg_state=$tmp/pg.state
    PG_URL=$("$bench_root/scripts/pg-test-cluster.sh" start "$bench_pg_state" --durable) ||
        { bench_pg_state=""; bench_die "cannot start a PostgreSQL cluster"; }
    PG_DIR=$(cat "$bench_pg_state")
    # A database that has been running recycles its WAL segments at each
    # checkpoint; a new cluster creates (and zero-fills, and fsyncs) a new
    # 16 MB file every few thousand commits, which made the same run vary
    # by a third.  Measure the steady state: 400 MB of WAL written and
    # checkpointed, its segments kept for reuse (min_wal_size).
    psql "$PG_URL" -Atq -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || bench_die "cannot warm the WAL up"
ALTER SYSTEM SET min_wal_size = '1GB';
SELECT pg_reload_conf();
CREATE TABLE bench_wal_warmup AS SELECT g, repeat('x', 900) AS pad FROM generate_series(1, 400000) g;
DROP TABLE bench_wal_warmup;
CHECKPOINT;
SQL
    echo "postgres:  $(psql "$PG_URL" -Atqc 'SELECT version()' | cut -d' ' -f1-2)," \
        "$PG_URL, fsync=$(psql "$PG_URL" -Atqc 'SHOW fsync')," \
        "synchronous_commit=$(psql "$PG_URL" -Atqc 'SHOW synchronous_commit')," \
        "shared_buffers=$(psql "$PG_URL" -Atqc 'SHOW shared_buffers')"
}

# The postmaster's pid (its children are the backends).
bench_pg_pid() { head -1 "$PG_DIR/data/postmaster.pid"; }

# bench_db_url BACKEND NAME: a fresh, empty database for one measurement.
bench_db_url() {
    local backend=$1 name=$2
    case "$backend" in
        sqlite) echo "sqlite:$tmp/$name.db" ;;
        postgres)
            [ -n "$bench_pg_state" ] || bench_die "bench_db_url: no cluster (bench_init starts it)"
            PGOPTIONS='-c client_min_messages=warning' psql "$PG_URL" -qAt -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" \
                >/dev/null || bench_die "cannot create database $name"
            echo "${PG_URL%/postgres}/$name"
            ;;
    esac
}

# bench_sql BACKEND URL: SQL on stdin with the backend's shell, stopping at
# the first error.
bench_sql() {
    case "$1" in
        sqlite) sqlite3 -bail "${2#sqlite:}" ;;
        postgres) PGOPTIONS='-c client_min_messages=warning' psql "$2" -qAt -v ON_ERROR_STOP=1 ;;
    esac
}

# sw_start URL [VAR=value ...]: starts a server, sets SW_PID and SW_PORT
# (on SW_LISTEN_PORT when set: a restarted server keeps its address).
sw_start() {
    local url=$1
    shift
    local n=$((sw_started++))
    env SLAWATCH_ADMIN_TOKEN="$token" SLAWATCH_LOG_LEVEL="${SLAWATCH_LOG_LEVEL:-warn}" "$@" \
        "$bin" serve --listen "127.0.0.1:${SW_LISTEN_PORT:-0}" --db "$url" >"$tmp/sw$n.out" 2>"$tmp/sw$n.err" &
    SW_PID=$!
    bench_pids+=("$SW_PID")
    SW_PORT=""
    for _ in $(seq 600); do
        SW_PORT=$(sed -n 's|^listening on http://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$tmp/sw$n.out")
        [ -n "$SW_PORT" ] && break
        kill -0 "$SW_PID" 2>/dev/null || break
        sleep 0.05
    done
    [ -n "$SW_PORT" ] || { cat "$tmp/sw$n.err" >&2; bench_die "slawatch did not start on $url"; }
    SW_LOG=$tmp/sw$n.err
}

# sw_stop PID: stops one server (SIGTERM, then KILL after 15 s).
sw_stop() {
    bench_stop_pid "$1"
    local keep=() p
    for p in "${bench_pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    bench_pids=("${keep[@]}")
}

# CPU seconds (user + system) a process has used so far.
cpu_s() {
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null ||
        echo 0
}
# ... and the PostgreSQL cluster's (postmaster, its live children, and the
# children that already exited: cutime/cstime of the postmaster).
pg_cpu_s() {
    local pm total=0 p
    pm=$(bench_pg_pid)
    total=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15 + $16 + $17) / hz }' \
        "/proc/$pm/stat")
    for p in $(pgrep -P "$pm"); do
        total=$(echo "$total + $(cpu_s "$p")" | bc)
    done
    echo "$total"
}

ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }
yes_no() { awk "BEGIN { if ($1) print \"yes\"; else print \"NO\" }"; }

# wrk's done(): one machine-readable RESULT line (rates and microseconds).
bench_wrk_report_lua() {
    cat <<'EOF'
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
}
