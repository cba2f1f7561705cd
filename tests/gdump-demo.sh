#!/bin/sh
# gdump-demo.sh - demos/leak_detection seen from outside (make check, from
# the build directory): the demo, started with --hold, keeps its ten
# leaked goroutines; gdump --leaks must find exactly them, grouped as one
# creation site and one blocking site, and --fail must exit 3.
set -u
gdump=./cli/gdump/gdump
demo=./demos/leak_detection
work=$(mktemp -d "${TMPDIR:-/tmp}/gdump-demo.XXXXXX") || exit 99
GRT_AGENT_DIR="$work/agent"
mkdir -m 700 "$GRT_AGENT_DIR" || exit 99
export GRT_AGENT_DIR
pid=""
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

"$demo" --hold > "$work/demo.out" 2>&1 &
pid=$!
i=0
while ! grep -q '^holding' "$work/demo.out"; do
    i=$((i + 1))
    if [ $i -gt 600 ] || ! kill -0 "$pid" 2>/dev/null; then
        echo "FAIL: leak_detection --hold did not get to its leak"
        cat "$work/demo.out"
        exit 1
    fi
    sleep 0.05
done
cat "$work/demo.out"
pid=$(sed -n 's/^holding .* \([0-9][0-9]*\)$/\1/p' "$work/demo.out")
# the leaked goroutines have been blocked at least the demo's settle time
"$gdump" --leaks --threshold 100ms --fail "$pid" > "$work/out" 2>&1
st=$?
cat "$work/out"
if [ $st -ne 3 ]; then
    echo "FAIL: gdump --leaks --fail exited $st, want 3"
    exit 1
fi
# the blocking frame needs libunwind and libdw (not in make distcheck)
at=""
if grep -q '^#define HAVE_LIBUNWIND 1' config.h 2>/dev/null &&
    grep -q '^#define HAVE_LIBDW 1' config.h 2>/dev/null; then
    at=" at searcher"
fi
if ! grep -q "^suspected leak: 10 goroutines blocked in chan send$at" "$work/out" ||
    ! grep -q 'go searcher from search' "$work/out" ||
    ! grep -q '^0 proven and 10 suspected' "$work/out"; then
    echo "FAIL: gdump did not report the ten goroutines stuck in searcher's send"
    exit 1
fi
echo "ok: gdump finds the demo's ten leaked goroutines from outside"
exit 0
