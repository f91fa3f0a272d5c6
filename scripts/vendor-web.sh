#!/bin/sh
# Copies the dashboard's front-end libraries from npm (web/package.json, with
# its lockfile) into src/web/vendor/, where they are committed: the C build
# embeds them and needs no npm.  Run after changing a version in web/.
set -e
cd "$(dirname "$0")/../web"
[ -d node_modules ] || npm ci --no-audit --no-fund
out=../src/web/vendor
mkdir -p "$out"
cp node_modules/uplot/dist/uPlot.iife.min.js node_modules/uplot/dist/uPlot.min.css "$out/"
cp node_modules/uplot/LICENSE "$out/uPlot.LICENSE"
echo "vendored: $(ls "$out" | tr '\n' ' ')"
