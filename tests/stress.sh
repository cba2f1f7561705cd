#!/usr/bin/env bash
# stress.sh - hunt rare failures: run the Check suites' cases one at a
# time, in random order, several at once, for a while.
#
#   tests/stress.sh [-j JOBS] [-t SECONDS] [-p "1 2 4"] [BUILD_DIR]
#
# Each run is one (program, case) pair of tests/check_*.c, run as
# `GRT_MAXPROCS=P CK_RUN_CASE=case BUILD_DIR/tests/check_x` with P drawn
# from -p, JOBS of them at a time (default 4 on any machine: running more
# runs than CPUs is the point), until SECONDS (default 600) have passed.
# Failing runs keep their output in BUILD_DIR/stress/ (named
# program.case.P<n>.<k>).  A hang shows up as Check's timeout; to see it,
# rerun the case with CK_FORK=no and attach gdb, or gdump the process.
# Environment (TSAN_OPTIONS, CK_TIMEOUT_MULTIPLIER...) passes through.
# Not part of `make check`: whole-suite runs miss what this finds in
# minutes (a lost timer wake-up on 2 Ps, a stale errno on 8).
#
# Exit status: 0 when every run passed, 1 when one failed, 2 on bad usage.
set -u
jobs=4 secs=600 procs="1 2 4"
while getopts j:t:p: opt; do
    case $opt in
    j) jobs=$OPTARG ;;
    t) secs=$OPTARG ;;
    p) procs=$OPTARG ;;
    *) echo "usage: $0 [-j JOBS] [-t SECONDS] [-p \"1 2 4\"] [BUILD_DIR]" >&2
       exit 2 ;;
    esac
done
shift $((OPTIND - 1))
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src/build}" 2>/dev/null && pwd) || {
    echo "stress: no build directory ${1:-$src/build}" >&2; exit 2; }
case "$jobs$secs" in *[!0-9]*) echo "stress: -j and -t take numbers" >&2; exit 2 ;; esac
read -r -a plist <<< "$procs"
[ ${#plist[@]} -gt 0 ] || { echo "stress: -p is empty" >&2; exit 2; }

items=()
for f in "$src"/tests/check_*.c; do
    b=$(basename "$f" .c)
    [ -x "$build/tests/$b" ] || continue
    for c in $(sed -n 's/.*tcase_create("\([^"]*\)").*/\1/p' "$f"); do
        items+=("$b:$c")
    done
done
[ ${#items[@]} -gt 0 ] || { echo "stress: no test programs in $build/tests (make check first)" >&2; exit 2; }
out=$build/stress
mkdir -p "$out"
echo "stress: ${#items[@]} cases, $jobs at a time, GRT_MAXPROCS in {$procs}, ${secs}s; failures in $out" >&2
end=$(($(date +%s) + secs))

worker() {
    local id=$1 runs=0 fails=0
    while [ "$(date +%s)" -lt $end ]; do
        local it=${items[RANDOM % ${#items[@]}]}
        local b=${it%%:*} c=${it#*:} p=${plist[RANDOM % ${#plist[@]}]}
        runs=$((runs + 1))
        (cd "$build" && GRT_MAXPROCS=$p CK_RUN_CASE=$c "./tests/$b") \
            > "$out/run.$id" 2>&1
        local st=$?
        if [ $st -ne 0 ] && [ $st -ne 77 ]; then # 77: skipped
            fails=$((fails + 1))
            mv "$out/run.$id" "$out/$b.$c.P$p.$id-$runs"
            echo "stress: FAIL $b case $c GRT_MAXPROCS=$p ($out/$b.$c.P$p.$id-$runs)" >&2
        fi
    done
    rm -f "$out/run.$id"
    echo "$runs $fails"
}

total=0 failed=0
for i in $(seq 1 "$jobs"); do worker "$i" > "$out/count.$i" & done
wait
for i in $(seq 1 "$jobs"); do
    read -r r f < "$out/count.$i"
    total=$((total + r)) failed=$((failed + f))
    rm -f "$out/count.$i"
done
echo "stress: $total runs, $failed failed"
[ "$failed" -eq 0 ]
