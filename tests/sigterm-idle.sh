#!/bin/sh
# sigterm-idle.sh - SIGTERM ends an idle grt program at once.
#
# The target parks its goroutines and sleeps in main, so every M idles in
# the runtime's futex wait.  The agent's handler (installed for SIGTERM
# when the program has none) removes the segment and re-raises the
# signal: the status is the signal's (143) and no segment is left.  Under
# ThreadSanitizer the handler only runs once the thread it landed on
# leaves an intercepted call, which an M parked in the raw futex call
# never did (lock.c): the program lived on after SIGTERM.
#
# Ends each target by pid; never waits on a fixed sleep for an assertion.
set -u
top_builddir=${top_builddir:-.}
TARGET=$top_builddir/tests/exporter_target
if [ ! -x "$TARGET" ]; then
    echo "SKIP: $TARGET not built (make check builds it)" >&2
    exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/grt-sigterm-test.XXXXXX") || exit 1
pid=
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
GRT_AGENT_DIR=$tmp/segments
export GRT_AGENT_DIR
mkdir -m 700 "$GRT_AGENT_DIR"

fail() {
    echo "FAIL: $*" >&2
    [ -f "$tmp/out" ] && { echo "--- target's output:" >&2; cat "$tmp/out" >&2; }
    exit 1
}

for round in 1 2 3; do
    "$TARGET" --park 4 --seconds 600 >"$tmp/out" 2>&1 &
    pid=$!
    i=0
    until grep -q '^ready$' "$tmp/out"; do
        i=$((i + 1))
        [ $i -gt 600 ] && fail "round $round: the target did not start"
        kill -0 "$pid" 2>/dev/null || fail "round $round: the target died"
        sleep 0.1
    done
    [ -e "$GRT_AGENT_DIR/$pid" ] ||
        fail "round $round: no segment $GRT_AGENT_DIR/$pid"
    sleep 0.$round # let every M go idle (not an assertion)
    kill -TERM "$pid"
    i=0
    while kill -0 "$pid" 2>/dev/null && [ -z "$(ps -o stat= -p "$pid" | grep Z)" ]; do
        i=$((i + 1))
        [ $i -gt 300 ] && fail "round $round: still running 30 s after SIGTERM"
        sleep 0.1
    done
    wait "$pid"
    st=$?
    p=$pid
    pid=
    [ "$st" -eq 143 ] || fail "round $round: exit status $st, want 143 (SIGTERM)"
    [ -e "$GRT_AGENT_DIR/$p" ] &&
        fail "round $round: segment $GRT_AGENT_DIR/$p left behind"
    echo "ok: round $round: SIGTERM ended the idle program (status 143, segment removed)"
done
echo "PASS: sigterm-idle"
