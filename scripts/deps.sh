#!/bin/sh
# Installs the Debian packages slawatch builds and tests with, if any is missing.
# Fast and silent when everything is present.
set -e
pkgs="cmake make gcc pkg-config libmicrohttpd-dev libjansson-dev libsqlite3-dev
      libsodium-dev libcurl4-openssl-dev libcmocka-dev libwslay-dev sqlite3 openssl
      libicu-dev tzdata libpq-dev"
[ "${1:-}" = "--bench" ] && pkgs="$pkgs wrk nginx-light curl bc"
# libFuzzer's runtime is in libclang-rt-dev, which clang only recommends
[ "${1:-}" = "--fuzz" ] && pkgs="$pkgs clang libclang-rt-dev"
# the dashboard's browser tests: Debian's chromium, driven by playwright-core
# from npm (tests/browser); node and npm come with the machine, else Debian's
if [ "${1:-}" = "--browser" ]; then
    pkgs="$pkgs chromium"
    command -v npm >/dev/null 2>&1 || pkgs="$pkgs nodejs npm"
fi
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
