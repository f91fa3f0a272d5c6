#!/bin/sh
# Installs what slawatch builds and tests with, if anything is missing: Debian
# packages from the machine's apt sources, and for the browser tests
# playwright-core from npm (the version pinned in tests/browser/package-lock.json).
# Fast and silent when everything is present.
#   scripts/deps.sh            the build, the unit and integration tests (make run, make test)
#   scripts/deps.sh --browser  + Debian's chromium, node and npm, tests/browser/node_modules
#   scripts/deps.sh --fuzz     + clang and libFuzzer
#   scripts/deps.sh --bench    + wrk, nginx, bc, python3 (bench/receiver.py, bench/soak)
set -e
root=$(cd "$(dirname "$0")/.." && pwd)

# One list per purpose; add a package to the list that needs it.
pkgs_build="cmake make gcc pkg-config libmicrohttpd-dev libjansson-dev libsqlite3-dev
            libsodium-dev libcurl4-openssl-dev libcmocka-dev libwslay-dev libicu-dev libpq-dev libssl-dev
            libcairo2-dev libpango1.0-dev"
# the tests call sqlite3 and openssl; the analytics tests need glibc's zone
# data; the README's first steps use curl; every store test runs on
# PostgreSQL too, on a throw-away cluster of its own (initdb + pg_ctl, never
# the system service: see below), prlimit (util-linux) fills a disk, the
# people test's SMTP server is Debian's python3-aiosmtpd (run with
# /usr/bin/python3, whatever python3 comes first in PATH), the real
# Prometheus Alertmanager posts to slawatch (test_ingest_alertmanager runs
# its own on a free port: the system service is stopped, see below), and the
# statement tests read the PDF back with pdftotext (poppler-utils) and need a
# font (fonts-dejavu-core)
pkgs_test="sqlite3 openssl tzdata curl postgresql util-linux python3-aiosmtpd prometheus-alertmanager
           poppler-utils fonts-dejavu-core"
pkgs_browser="chromium"
# libFuzzer's runtime is in libclang-rt-dev, which clang only recommends
pkgs_fuzz="clang libclang-rt-dev"
pkgs_bench="wrk nginx-light bc python3"

pkgs="$pkgs_build $pkgs_test"
case "${1:-}" in
    --browser)
        pkgs="$pkgs $pkgs_browser"
        # node and npm: Debian's (nodejs 18 on Debian 12) unless the machine
        # has its own; playwright-core is pinned to a version that runs on it
        command -v node >/dev/null 2>&1 || pkgs="$pkgs nodejs"
        command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm"
        ;;
    --fuzz) pkgs="$pkgs $pkgs_fuzz" ;;
    --bench) pkgs="$pkgs $pkgs_bench" ;;
    "") ;;
    *) echo "usage: $0 [--browser|--fuzz|--bench]" >&2; exit 2 ;;
esac

missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "installing:$missing" >&2
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    # PostgreSQL for the tests only: they start throw-away clusters of their
    # own, so Debian need not create and start its system cluster ("main")
    case " $missing " in
    *" postgresql "*)
        if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
            $sudo mkdir -p /etc/postgresql-common
            echo "create_main_cluster = false" |
                $sudo tee /etc/postgresql-common/createcluster.conf >/dev/null
        fi
        ;;
    esac
    $sudo apt-get update -qq >/dev/null
    $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
    # Debian starts Alertmanager as a service (ports 9093 and 9094): the
    # tests need only its binary
    case " $missing " in
    *" prometheus-alertmanager "*)
        if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
            $sudo systemctl disable --now prometheus-alertmanager >/dev/null 2>&1 || true
        fi
        ;;
    esac
fi

[ "${1:-}" = "--browser" ] || exit 0

# The node that will run the tests must satisfy playwright-core's engines
# (npm ci --engine-strict below would refuse too, less clearly).
cd "$root/tests/browser"
pw_version=$(node -p 'require("./package-lock.json").packages["node_modules/playwright-core"].version')
pw_engines=$(node -p 'require("./package-lock.json").packages["node_modules/playwright-core"].engines.node')
need=$(echo "$pw_engines" | sed -n 's/^>=\([0-9][0-9]*\).*/\1/p')
have=$(node -p 'process.versions.node.split(".")[0]')
if [ -n "$need" ] && [ "$have" -lt "$need" ]; then
    echo "deps: $(command -v node) is node $(node --version); playwright-core $pw_version" \
         "(tests/browser/package-lock.json) needs node $pw_engines." >&2
    echo "deps: put a newer node first in PATH, or pin a playwright-core that runs on" \
         "this one (docs/development.md, \"Node and playwright-core\")." >&2
    exit 1
fi
# node_modules as the lockfile says (again when the pin changed)
installed=$(node -p 'try { require("./node_modules/playwright-core/package.json").version } catch (e) { "" }')
if [ "$installed" != "$pw_version" ]; then
    echo "installing: playwright-core $pw_version from npm (tests/browser)" >&2
    npm ci --engine-strict --no-audit --no-fund --loglevel=error >/dev/null
fi
