#!/bin/sh
# run-demos.sh - smoke-run every demo with --quick.
#
# For each demo: run it, require exit status 0, and require one line of
# output that shows it did its job (a grep pattern below).  Run by
# `make check` from the top build directory; by hand:
#
#     cd build && ../demos/run-demos.sh [name...]
#
# The programs are looked for in $DEMOS_DIR, else ./demos.  Each run's
# output is kept in $DEMOS_LOG_DIR (default: a temporary directory, removed
# on success) so a failure can be read in full.  No timing is checked.
# A demo that runs longer than $DEMOS_TIMEOUT seconds (120) fails.
# Exit status: 0 all passed, 1 some failed, 77 (skip) no demos built.

set -u

dir=${DEMOS_DIR:-./demos}
if [ ! -x "$dir/processes" ]; then
    echo "run-demos.sh: no demos in $dir (build them with make first)" >&2
    exit 77
fi

keep_logs=${DEMOS_LOG_DIR+yes}
logs=${DEMOS_LOG_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/grt-demos.XXXXXX")}
mkdir -p "$logs" || exit 1

# A hung demo fails instead of hanging the test suite.
timeout=
if command -v timeout >/dev/null 2>&1; then
    timeout="timeout ${DEMOS_TIMEOUT:-120}"
fi

# name | extended regular expression one output line must match
expectations='
processes|^exit status: 0$
threads|^10 goroutines ran on [0-9]+ distinct OS threads$
goroutines|^goroutines after: 1$
mn_model|^all 10 workers done, result
scheduling|^60 steps completed \(want 60\)$
stack_growth|^depth 10000: stack in use +[0-9]+ KiB$
producer_consumer|^total: 1000 items, sum 500500 \(want
goroutine_creation|^average creation time: [0-9.]+ ns$
context_switch|^time per message: [0-9.]+ ns$
worker_pool|^20 jobs done in [0-9]+ ms, sum of results 420 \(want 420\)$
fan_in_out|^sum of squares 1\.\.10000 = 333383335000 \(want 333383335000\)$
runtime_stats|^end +goroutines +1 
leak_detection|^leaky: unbuffered reply .*leaked 10$
maxprocs_scaling|^GOMAXPROCS=4: .*speed-up x[0-9.]+$
goroutine_pool|^pool ran 1000 tasks in [0-9.]+ ms, sum 499500
preemption|^main printed 5 ticks while 3 goroutines spun; lateness: mean [0-9.]+ ms, max [0-9.]+ ms$
blocking_io|^10 goroutines fetched 10 pages, all bodies verified$
lock_os_thread|^locked goroutine: 10 iterations, all on thread [0-9]+$
'

pass=0
fail=0
failed=
while IFS='|' read -r name pattern; do
    [ -n "$name" ] || continue
    if [ $# -gt 0 ]; then
        case " $* " in *" $name "*) ;; *) continue ;; esac
    fi
    log="$logs/$name.log"
    $timeout "$dir/$name" --quick >"$log" 2>&1
    status=$?
    if [ $status -ne 0 ]; then
        why="exit status $status"
    elif ! grep -Eq -- "$pattern" "$log"; then
        why="no line matching /$pattern/"
    else
        echo "PASS: $name"
        pass=$((pass + 1))
        continue
    fi
    echo "FAIL: $name ($why); output:"
    sed 's/^/    /' "$log"
    fail=$((fail + 1))
    failed="$failed $name"
done <<EOF
$expectations
EOF

echo "demos: $pass passed, $fail failed${failed:+ (}${failed# }${failed:+)}"
if [ $fail -eq 0 ] && [ -z "$keep_logs" ]; then
    rm -rf "$logs"
fi
[ $fail -eq 0 ]
