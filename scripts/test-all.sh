#!/bin/sh
# `make test`: every suite, each to its end even when an earlier one failed,
# then one closing line CI reads: "N passed, N failed" (exit 1 if any failed).
#   1. unit + integration tests (both backends) in build/      (make test-fast)
#   2. the dashboard in chromium                                (make test-browser)
#   3. 1 again under AddressSanitizer + UBSan in build-san/     (make test-san)
#   4. every fuzz target                                        (make fuzz)
# A stage that fails before its tests run (a build error, a missing package)
# counts as one failure.  Logs: build/test-<stage>.log.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mkdir -p build
passed=0 failed=0 report=""

# stage NAME MAKE_TARGET: runs it, shows its output, adds its counts
stage() {
    log="build/test-$1.log"
    { make --no-print-directory "$2" 2>&1; echo $? >build/.stage-rc; } | tee "$log"
    rc=$(cat build/.stage-rc 2>/dev/null || echo 1)
    p="" f=""
    case "$1" in
    fast|san)   # ctest: "97% tests passed, 2 tests failed out of 85"
        line=$(grep -E "tests passed, [0-9]+ tests? failed out of [0-9]+" "$log" | tail -1)
        if [ -n "$line" ]; then
            f=$(echo "$line" | sed -E 's/.* ([0-9]+) tests? failed out of.*/\1/')
            t=$(echo "$line" | sed -E 's/.*out of ([0-9]+).*/\1/')
            p=$((t - f))
        fi ;;
    browser)    # node --test: "# pass 9" / "# fail 0"
        p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -1)
        f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -1) ;;
    fuzz)       # scripts/fuzz.sh: "fuzz: NAME clean ..." / "fuzz: NAME FAILED ..."
        p=$(grep -c "^fuzz: .* clean" "$log")
        f=$(grep -c "^fuzz: .* FAILED" "$log") ;;
    esac
    if [ -z "$p" ] || [ -z "$f" ]; then
        p=${p:-0} f=1      # it stopped before its tests ran or reported
    elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1                # it failed after its tests (a leak at exit, a crash)
    fi
    passed=$((passed + p)) failed=$((failed + f))
    report="$report
  $1: $p passed, $f failed"
}

for s in "fast test-fast" "browser test-browser" "san test-san" "fuzz fuzz"; do
    set -- $s
    rm -f build/.stage-rc
    stage "$1" "$2"
done
rm -f build/.stage-rc
echo "suites:$report"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
