#!/bin/sh
# The README's two commands on a fresh Debian 12, as a new user would run them:
# a bookworm root made by debootstrap with only git, make and ca-certificates
# added, this repository cloned into it, then `make run` (stopped once it
# prints its listening line) and `make test`, each timed.  Not part of
# `make test`; docs/development.md explains it.  Run as root:
#   scripts/fresh-debian.sh DIR [MIRROR]
# DIR (e.g. /work/fresh-root) must not exist yet or be a root this script
# made.  The mounts (/proc, /sys, /dev, /dev/pts, /dev/shm) live in a private
# mount namespace and are unmounted at the end; nothing is mounted on the host.
# Logs and times: DIR/root/fresh-*.log.
set -eu
dir=${1:?usage: $0 DIR [MIRROR]}
mirror=${2:-http://deb.debian.org/debian}
repo=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "$0: run as root (debootstrap, chroot)" >&2; exit 1; }
command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null

if [ ! -x "$dir/usr/bin/git" ]; then
    start=$(date +%s)
    debootstrap --include=git,make,ca-certificates bookworm "$dir" "$mirror" \
        >"$dir.debootstrap.log" 2>&1 || { tail -20 "$dir.debootstrap.log" >&2; exit 1; }
    # the suites an installed Debian 12 has (debootstrap sets up the first only)
    cat >"$dir/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
    echo "debootstrap: $(( $(date +%s) - start )) s" >"$dir/root/fresh-times.log"
fi
cp /etc/resolv.conf "$dir/etc/resolv.conf"
# Certificate authorities this host's administrator added (e.g. for a proxy
# that intercepts HTTPS, as on the machine this was written on): a fresh
# machine on the same network would need them too, or npm fails with
# "self-signed certificate in certificate chain".  apt uses http: unaffected.
if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
    mkdir -p "$dir/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$dir/usr/local/share/ca-certificates/"
    chroot "$dir" update-ca-certificates >/dev/null 2>&1
fi
rm -rf "$dir/root/slawatch"
git clone -q "$repo" "$dir/root/slawatch"

# Inside: the user's commands.  make run is stopped after its listening line
# (port 0: the host's 8080 may be taken, the chroot shares its network).
cat >"$dir/root/fresh-run.sh" <<'EOF'
#!/bin/sh
set -u
cd /root/slawatch
export HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
start=$(date +%s)
# its own process group, so that make and the server stop together
setsid make run LISTEN=127.0.0.1:0 DB=sqlite:/tmp/fresh.db >/root/fresh-run.log 2>&1 &
pid=$!
while kill -0 $pid 2>/dev/null && ! grep -q '^listening on' /root/fresh-run.log; do sleep 1; done
if grep -q '^listening on' /root/fresh-run.log; then
    echo "make run: listening after $(( $(date +%s) - start )) s"
    kill -TERM -$pid; wait $pid     # dash: no "--"
else
    echo "make run: FAILED (/root/fresh-run.log)"; exit 1
fi
start=$(date +%s)
if make test >/root/fresh-test.log 2>&1; then
    echo "make test: passed in $(( $(date +%s) - start )) s: $(tail -1 /root/fresh-test.log)"
else
    echo "make test: FAILED after $(( $(date +%s) - start )) s (/root/fresh-test.log)"; exit 1
fi
EOF
chmod +x "$dir/root/fresh-run.sh"

# no pipe into tee here: the exit status is the chroot's
unshare --mount --propagation private sh -eu -c '
    d=$1
    mount -t proc proc "$d/proc"
    mount -t sysfs sys "$d/sys"
    mount --bind /dev "$d/dev"
    mount -t devpts -o newinstance,ptmxmode=0666 devpts "$d/dev/pts"
    mount -t tmpfs -o mode=1777 shm "$d/dev/shm"
    rc=0
    chroot "$d" /root/fresh-run.sh || rc=$?
    for m in dev/shm dev/pts dev sys proc; do umount "$d/$m" || umount -l "$d/$m"; done
    exit $rc' sh "$dir" >>"$dir/root/fresh-times.log" 2>&1 || rc=$?
cat "$dir/root/fresh-times.log"
exit ${rc:-0}
