#!/bin/sh
# Prints the closing line of `make test`: every suite before it passed (make
# stops at the first failure), so this counts what ran.
#   scripts/test-summary.sh BUILD BUILD_SAN BROWSER_COUNT FUZZ_COUNT
count() { (cd "$1" && ctest -N 2>/dev/null | sed -n 's/^Total Tests: //p'); }
fast=$(count "$1"); san=$(count "$2")
total=$(( ${fast:-0} + ${san:-0} + $3 + $4 ))
echo "suites: ${fast:-0} ctest, ${san:-0} ctest under ASan+UBSan, $3 browser, $4 fuzz targets"
echo "$total passed, 0 failed"
