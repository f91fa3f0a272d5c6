#!/bin/sh
# Flake hunt (not part of `make test`): builds build and build-san once, then
# runs the normal and the sanitizer ctest suites N times each under
# `ctest -j 2`, as make test does, and prints how many runs passed:
#   scripts/soak-tests.sh N          e.g. "normal 10/10, sanitizer 10/10"
# A run also fails if it leaves a process of ours behind (a server or test
# binary of these build trees still alive after ctest returned).  Each failed
# run's log is kept as BUILD/soak-N.log.
set -u
n=${1:?usage: $0 N}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${BUILD:-build}
san=${BUILD_SAN:-build-san}
jobs=${JOBS:-2}

scripts/deps.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
    cmake --build "$build" -j "$jobs" >/dev/null || exit 1
cmake -S . -B "$san" -DCMAKE_BUILD_TYPE=Debug -DSLAWATCH_SANITIZE=ON >/dev/null &&
    cmake --build "$san" -j "$jobs" >/dev/null || exit 1

# pids of processes running a binary of this tree's build directories
leftovers() {
    for p in /proc/[0-9]*; do
        exe=$(readlink "$p/exe" 2>/dev/null) || continue
        case "$exe" in
            "$root/$build/"* | "$root/$san/"*) echo "${p#/proc/} $exe" ;;
        esac
    done
}

# run DIR I: one ctest run; 0 when it passed and left nothing behind
run() {
    dir=$1 i=$2
    start=$(date +%s)
    (cd "$dir" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
        ctest --output-on-failure -j 2 >soak-current.log 2>&1)
    rc=$?
    left=$(leftovers)
    # a child killed as its test ended (PR_SET_PDEATHSIG) may take a moment
    [ -z "$left" ] || { sleep 1; left=$(leftovers); }
    if [ -n "$left" ]; then
        echo "left behind:" >>"$dir/soak-current.log"
        echo "$left" >>"$dir/soak-current.log"
        rc=1
    fi
    secs=$(( $(date +%s) - start ))
    if [ $rc -eq 0 ]; then
        echo "  $dir run $i: passed in $secs s"
        rm -f "$dir/soak-current.log"
    else
        mv "$dir/soak-current.log" "$dir/soak-$i.log"
        echo "  $dir run $i: FAILED in $secs s ($dir/soak-$i.log):" \
             "$(grep -E '^ *[0-9]+ - |left behind' "$dir/soak-$i.log" | tr -s ' ' | tr '\n' ' ')"
    fi
    return $rc
}

ok_normal=0 ok_san=0
for i in $(seq 1 "$n"); do
    run "$build" "$i" && ok_normal=$((ok_normal + 1))
    run "$san" "$i" && ok_san=$((ok_san + 1))
done
echo "normal $ok_normal/$n, sanitizer $ok_san/$n"
[ "$ok_normal" -eq "$n" ] && [ "$ok_san" -eq "$n" ]
