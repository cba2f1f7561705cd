#!/bin/sh
# run-p.sh - automake LOG_COMPILER for tests/: runs each Check program
# (tests/check_*) once per processor count, GRT_MAXPROCS=1 then =2, so
# every suite is exercised both on one P (deterministic interleavings,
# runnext hand-offs) and on two (real parallelism, stealing).  Other tests
# (scripts, demos) run once, unchanged.
#
#   GRT_TEST_PROCS="1 2 4" make check     other processor counts
#   tests/run-p.sh ./tests/check_chan     by hand
#
# Exit status, as automake's test driver reads it: 0 when every run
# passed (or some passed and the others skipped), 77 when every run
# skipped, 99 (hard error) if any run returned 99, else 1.
procs=${GRT_TEST_PROCS-"1 2"}

case ${1##*/} in
check_*) ;;
*.sh) if [ -x "$1" ]; then exec "$@"; else exec /bin/sh "$@"; fi ;;
*) exec "$@" ;;
esac

rc=77
for n in $procs; do
    echo "=== $1: GRT_MAXPROCS=$n"
    GRT_MAXPROCS=$n "$@"
    st=$?
    echo "=== $1: GRT_MAXPROCS=$n: exit status $st"
    case $st in
    0) if [ $rc -eq 77 ]; then rc=0; fi ;;
    77) ;;
    99) rc=99 ;;
    *) if [ $rc -ne 99 ]; then rc=1; fi ;;
    esac
done
exit $rc
