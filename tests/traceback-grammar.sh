#!/bin/sh
# traceback-grammar.sh - the runtime's own dumps read as Go's: every kind
# tests/tb_target prints (grt_dump, grt_stack, a panic, a crash report,
# SIGQUIT, a deadlock under GRT_TRACEBACK=all, a leak report) is parsed
# with Go's traceback grammar (tests/go-traceback.awk, the parser gdump's
# tests use; skipped, status 77, where it is not in the tree).  The leak
# report's first line, goleak's "found unexpected goroutines:", is not
# Go's and is checked, then cut.  Each run is bounded by timeout(1).
set -u
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
awkp="$top_srcdir/tests/go-traceback.awk"
target=./tests/tb_target
if [ ! -f "$awkp" ]; then
    echo "SKIP: no $awkp"
    exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/tb-grammar.XXXXXX") || exit 99
trap 'rm -rf "$work"' EXIT
GRT_AGENT=0
export GRT_AGENT
fails=0

# run MODE WANT_STATUS STREAM(out|err) [ENV=VALUE...]
run() {
    mode=$1 want=$2 stream=$3
    shift 3
    env "$@" timeout 120 "$target" "$mode" >"$work/$mode.out" \
        2>"$work/$mode.err"
    st=$?
    if [ "$st" -ne "$want" ]; then
        echo "FAIL: $mode: status $st, want $want"
        cat "$work/$mode.err"
        fails=$((fails + 1))
        return
    fi
    f="$work/$mode.$stream"
    if [ "$mode" = leak ]; then
        if [ "$(head -n 1 "$f")" != "found unexpected goroutines:" ]; then
            echo "FAIL: leak: no goleak header"
            fails=$((fails + 1))
            return
        fi
        tail -n +2 "$f" >"$f.go"
        f="$f.go"
    fi
    if out=$(awk -f "$awkp" "$f" 2>&1); then
        echo "ok: $mode: $out"
    else
        echo "FAIL: $mode: $out"
        cat "$f"
        fails=$((fails + 1))
    fi
}

run dump 0 out
run stack 0 out
run panic 2 err GRT_TRACEBACK=all
# ThreadSanitizer keeps fatal signals to itself (see check_traceback.c)
if grep -q '^#define GRT_TSAN 1' "$top_builddir/config.h" 2>/dev/null; then
    echo "skip: segv, quit (ThreadSanitizer)"
else
    run segv 2 err GRT_TRACEBACK=all
    run quit 2 err
fi
run deadlock 2 err
run leak 0 out
[ "$fails" -eq 0 ]
