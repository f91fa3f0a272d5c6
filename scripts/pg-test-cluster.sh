#!/bin/sh
# A throw-away PostgreSQL cluster for tests and benchmarks: Debian's
# postgresql binaries, initdb and pg_ctl in a temporary directory, a free
# loopback port, no system service.  Run as root, the server runs as the
# unprivileged `postgres` user (PostgreSQL refuses to run as root).
#
#   pg-test-cluster.sh start STATE [--durable]   prints the URL; STATE is a file
#                                                that remembers the cluster
#   pg-test-cluster.sh stop STATE                stops it and removes everything
#   pg-test-cluster.sh pause STATE               stops the server, keeps its data
#   pg-test-cluster.sh resume STATE              starts it again on the same port
#
# The URL (postgres://postgres@127.0.0.1:PORT/postgres) is also written to
# STATE.url.  Without --durable, fsync is off: the tests kill slawatch, never
# the database server, so they lose nothing by it and run faster.
# --durable keeps fsync and synchronous_commit on (benchmarks).
set -eu

cmd=${1:-}
state=${2:-}
[ -n "$cmd" ] && [ -n "$state" ] || { echo "usage: $0 start|stop STATE [--durable]" >&2; exit 2; }

bindir=""
if command -v pg_config >/dev/null 2>&1; then
    bindir=$(pg_config --bindir 2>/dev/null || true)
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/initdb" ] && bindir=$d
    done
fi

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case "$cmd" in
start)
    durable=0
    [ "${3:-}" = "--durable" ] && durable=1
    [ -x "$bindir/initdb" ] || { echo "pg-test-cluster: PostgreSQL's initdb not found (apt-get install postgresql)" >&2; exit 1; }
    if [ -f "$state" ]; then
        "$0" stop "$state" >/dev/null 2>&1 || true
    fi
    dir=$(mktemp -d /tmp/slawatch-pg.XXXXXX)
    chmod 700 "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
    echo "$dir" > "$state"
    as_owner "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C \
        --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    if [ $durable -eq 1 ]; then
        sync_opts="-c fsync=on -c synchronous_commit=on"
    else
        sync_opts="-c fsync=off -c synchronous_commit=on -c full_page_writes=off"
    fi
    # a free port: try a few random ones (pg_ctl -w fails when it is taken)
    tries=0
    while :; do
        port=$(( 20000 + ( $(od -An -N2 -tu2 /dev/urandom) % 30000 ) ))
        if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
            -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir \
                -c max_connections=400 -c shared_buffers=128MB $sync_opts" \
            start >/dev/null 2>&1; then
            break
        fi
        tries=$((tries + 1))
        if [ $tries -ge 8 ]; then
            echo "pg-test-cluster: the server did not start:" >&2
            tail -20 "$dir/server.log" >&2 || true
            exit 1
        fi
    done
    url="postgres://postgres@127.0.0.1:$port/postgres"
    echo "$url" > "$state.url"
    echo "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir \
          -c max_connections=400 -c shared_buffers=128MB $sync_opts" > "$dir/options"
    echo "$url"
    ;;
stop)
    [ -f "$state" ] || exit 0
    dir=$(cat "$state")
    if [ -d "$dir/data" ]; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    case "$dir" in
    /tmp/slawatch-pg.*) rm -rf "$dir" ;;
    esac
    rm -f "$state" "$state.url"
    ;;
pause)
    dir=$(cat "$state")
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
resume)
    dir=$(cat "$state")
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
        -o "$(cat "$dir/options")" start >/dev/null
    ;;
*)
    echo "usage: $0 start|stop|pause|resume STATE [--durable]" >&2
    exit 2
    ;;
esac
