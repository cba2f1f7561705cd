#!/bin/sh
# gdump.sh - gdump end to end (make check, from the build directory):
#   - the grammar parser accepts Go's own dumps and rejects broken ones;
#   - the formatter's output for a hand-built model is the golden text and
#     parses;
#   - gdump on tests/gdump_target: text, -v, --group, --filter, --match
#     parse and select what they should; --json is valid JSON with the
#     documented fields; --leaks --fail exits 3 on leaks (chan, mutex
#     cycle, printed) and 0 on a clean program; --graph is valid DOT;
#   - every bad input gives one line on stderr, nothing on stdout and the
#     documented status: bad usage 2; dead pid, non-grt pid, stale,
#     truncated, foreign, insecure, not-grt and newer-version segments 1.
# Segments go to a private GRT_AGENT_DIR.  python3 (JSON) and dot
# (graphviz) are used when installed; a missing one skips its check with
# a message.
set -u
srcdir=${srcdir:-.}
gdump=./cli/gdump/gdump
target=./tests/gdump_target
awkp="$srcdir/tests/go-traceback.awk"
fails=0
pids=""
# frames need libunwind in the program, names and lines libdw in gdump
# (make distcheck builds without both): checks of them skip otherwise
syms=no
if grep -q '^#define HAVE_LIBUNWIND 1' config.h 2>/dev/null &&
    grep -q '^#define HAVE_LIBDW 1' config.h 2>/dev/null; then
    syms=yes
else
    echo "SKIP: frame names and lines not checked: built without libunwind or libdw"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/gdump-test.XXXXXX") || exit 99
GRT_AGENT_DIR="$work/agent"
mkdir -m 700 "$GRT_AGENT_DIR" || exit 99
export GRT_AGENT_DIR
cleanup() {
    for p in $pids; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ok() { echo "ok: $*"; }
bad() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}

# start MODE [N]: run the target, wait for "ready PID"; sets $tp
start() {
    # a fresh file each time: the background job's redirection truncates
    # it only when that job runs, after the loop below may have read it
    nstart=$((${nstart:-0} + 1))
    out="$work/target.$1.$nstart.out"
    "$target" "$@" > "$out" 2>&1 &
    tp=$!
    pids="$pids $tp"
    i=0
    while ! grep -q '^ready' "$out" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 600 ] || ! kill -0 "$tp" 2>/dev/null; then
            echo "FAIL: gdump_target $* did not start"; cat "$out"
            exit 1
        fi
        sleep 0.05
    done
    # the pid of the program (the libtool wrapper may exec it)
    tp=$(sed -n 's/^ready //p' "$out")
    pids="$pids $tp"
}

# expect STATUS CMD...: run gdump, keep stdout/stderr in $work/out, err
expect() {
    want=$1
    shift
    "$gdump" "$@" > "$work/out" 2> "$work/err"
    st=$?
    if [ "$st" -ne "$want" ]; then
        bad "gdump $*: exit $st, want $want"
        sed 's/^/    /' "$work/err"
        return 1
    fi
    return 0
}

# one_error STATUS PATTERN CMD...: exactly one stderr line matching
# PATTERN, empty stdout
one_error() {
    want=$1
    pat=$2
    shift 2
    expect "$want" "$@" || return
    if [ -s "$work/out" ]; then
        bad "gdump $*: printed on stdout as well"
    elif [ "$(wc -l < "$work/err")" -ne 1 ]; then
        bad "gdump $*: $(wc -l < "$work/err") lines on stderr, want 1"
        sed 's/^/    /' "$work/err"
    elif ! grep -q -- "$pat" "$work/err"; then
        bad "gdump $*: stderr '$(cat "$work/err")' lacks '$pat'"
    else
        ok "gdump $* -> $want: $(cat "$work/err")"
    fi
}

parses() { # FILE WHAT
    if awk -f "$awkp" "$1" > "$work/parse" 2>&1; then
        ok "$2 parses as Go's traceback grammar ($(cat "$work/parse"))"
    else
        bad "$2 does not parse: $(cat "$work/parse")"
        head -40 "$1" | sed 's/^/    /'
    fi
}

# ---- the parser itself ----
for f in "$srcdir"/tests/fixtures/go-dumps/*.txt; do
    parses "$f" "Go dump $(basename "$f")"
done
for f in "$srcdir"/tests/fixtures/go-dumps/bad/*.txt; do
    if awk -f "$awkp" "$f" > /dev/null 2>&1; then
        bad "the parser accepts the broken dump $(basename "$f")"
    else
        ok "the parser rejects $(basename "$f")"
    fi
done

# ---- the formatter on a hand-built model ----
{ ./tests/fmt_model; ./tests/fmt_model extras; } > "$work/model.txt"
if cmp -s "$work/model.txt" "$srcdir/tests/fixtures/format-golden.txt"; then
    ok "format.c output equals tests/fixtures/format-golden.txt"
else
    bad "format.c output differs from the golden text:"
    diff "$srcdir/tests/fixtures/format-golden.txt" "$work/model.txt" |
        sed 's/^/    /'
fi
parses "$work/model.txt" "format.c's output for the model"

# ---- a program with 25 leaked goroutines ----
start leak 25
leak=$tp
if expect 0 "$leak"; then
    parses "$work/out" "gdump PID"
    n=$(grep -c '^goroutine .* \[chan receive' "$work/out")
    [ "$n" -eq 25 ] && ok "25 goroutines in chan receive" ||
        bad "$n goroutines in chan receive, want 25"
    if [ $syms = no ]; then
        :
    elif grep -q '^wait_for_job(' "$work/out" && grep -q '^leaker(' "$work/out" &&
        grep -q '^created by main in goroutine 1$' "$work/out" &&
        ! grep -q '^grt_chan_recv(' "$work/out"; then
        ok "frames are unwound and symbolised, created by main; grt calls hidden"
    else
        bad "missing frames (wait_for_job, leaker, created by) or grt_chan_recv shown"
        head -20 "$work/out" | sed 's/^/    /'
    fi
    if grep -q '^grt__\|^grt_ctx_switch\|trampoline' "$work/out"; then
        bad "runtime-internal frames shown"
    else
        ok "runtime-internal frames hidden"
    fi
fi
if expect 0 -v "$leak"; then
    parses "$work/out" "gdump -v PID"
    grep -q '\[chan receive, wait [^]]*, on chan jobs 0x[0-9a-f]*, stack ' \
        "$work/out" && ok "-v shows the wait, the channel's name, the stack" ||
        bad "-v lacks its extras"
fi
if expect 0 --group "$leak"; then
    grep -q '^25 goroutines \[chan receive, wait [^]]*\]: [0-9 ]*$' \
        "$work/out" && ok "--group folds the 25 into one entry" ||
        { bad "--group did not fold"; sed 's/^/    /' "$work/out"; }
fi
if expect 0 --filter 'chan receive' "$leak"; then
    n=$(grep -c '^goroutine ' "$work/out")
    [ "$n" -eq 25 ] && ok "--filter 'chan receive' keeps 25" ||
        bad "--filter 'chan receive' kept $n"
fi
if expect 0 -f sleep "$leak"; then
    n=$(grep -c '^goroutine ' "$work/out")
    [ "$n" -eq 1 ] && ok "--filter sleep keeps main only" ||
        bad "--filter sleep kept $n"
fi
if expect 0 -f running -f waiting "$leak"; then
    n=$(grep -c '^goroutine ' "$work/out")
    [ "$n" -eq 26 ] && ok "--filter running -f waiting keeps all 26" ||
        bad "-f running -f waiting kept $n"
fi
if [ $syms = yes ] && expect 0 --match '^wait_for_' "$leak"; then
    n=$(grep -c '^goroutine ' "$work/out")
    [ "$n" -eq 25 ] && ok "--match ^wait_for_ keeps 25" ||
        bad "--match kept $n"
fi
if expect 0 --match 'no_such_function' "$leak"; then
    [ -s "$work/out" ] && bad "--match with no match printed something" ||
        ok "--match with no match prints nothing"
fi
if expect 0 --leaks "$leak"; then
    grep -q '^no leaks' "$work/out" &&
        ok "--leaks with the default 10s threshold: none yet" ||
        bad "--leaks at 10s found something"
fi
if expect 3 --leaks --threshold 50ms --fail "$leak"; then
    at=""
    [ $syms = yes ] && at=" at wait_for_job"
    grep -q "^suspected leak: 25 goroutines blocked in chan receive$at" \
        "$work/out" && grep -q '^0 proven and 25 suspected' "$work/out" &&
        ok "--leaks --fail: 25 suspected, grouped, exit 3" ||
        { bad "--leaks output"; sed 's/^/    /' "$work/out"; }
    parses_leaks=$(grep -c '^goroutine ' "$work/out")
    [ "$parses_leaks" -eq 0 ] || bad "--leaks printed goroutine headers"
fi
if command -v python3 > /dev/null 2>&1; then
    for args in "" "--group" "--leaks --threshold 50ms" "-f sleep"; do
        # shellcheck disable=SC2086
        if expect 0 --json $args "$leak"; then
            if python3 -m json.tool "$work/out" > /dev/null 2> "$work/jerr"; then
                ok "--json $args is valid JSON"
            else
                bad "--json $args: $(cat "$work/jerr")"
            fi
        fi
    done
    expect 0 --json --leaks --threshold 50ms "$leak"
    python3 - "$work/out" $syms << 'EOF' && ok "--json fields as documented" || bad "--json fields"
import json, sys
syms = sys.argv[2] == "yes"
d = json.load(open(sys.argv[1]))
assert d["gdump"] == 1 and d["name"] == "gdump_target"
gs = d["goroutines"]
assert len(gs) == 25, len(gs)
g = gs[0]
for k in ("id", "state", "status", "wait_reason", "wait_ns", "frames",
          "created_by", "leak", "wait_obj", "chan_name", "locked_to_thread"):
    assert k in g, k
assert g["state"] == "chan receive" and g["status"] == "waiting"
assert g["leak"] == "suspected" and g["chan_name"] == "jobs"
if syms:
    assert d["stacks"] is True
    funcs = [f["func"] for f in g["frames"]]
    assert funcs[0] == "wait_for_job" and "leaker" in funcs, funcs
    assert not any(f.startswith("grt_") for f in funcs), funcs
assert g["created_by"]["func"] == "main" and g["created_by"]["goroutine"] == 1
l = d["leaks"]
assert l["suspected"] == 25 and l["proven"] == 0 and l["cycles"] == []
assert l["groups"][0]["count"] == 25 and l["groups"][0]["kind"] == "suspected"
EOF
else
    echo "SKIP: --json not validated: python3 is not installed"
fi

# ---- channel operations called as tail calls ----
# A blocked send or receive tail-calls its blocking half, grt__chan_block;
# with no frame of the user's left, that frame shows as the public call
# (or the user's function shows, where the compiler kept a frame).
if [ $syms = yes ]; then
    start tail
    if expect 0 "$tp"; then
        if ! grep -q 'grt__' "$work/out" &&
            grep -A1 '^goroutine [0-9]* \[chan send' "$work/out" |
                grep -q '^\(grt_chan_send\|tail_sender\)(' &&
            grep -A1 '^goroutine [0-9]* \[chan receive' "$work/out" |
                grep -q '^\(grt_chan_recv\|tail_receiver\)('; then
            ok "a send and a receive tail-called show the public call"
        else
            bad "tail-called channel operations: frames missing or internal"
            sed 's/^/    /' "$work/out"
        fi
    fi
fi

# ---- a mutex cycle ----
start cycle
cyc=$tp
if expect 3 --leaks --fail "$cyc"; then
    if grep -q '^mutex cycle: goroutine \([0-9]*\) -> goroutine [0-9]* -> goroutine \1$' \
        "$work/out" &&
        grep -q 'waits for mutex 0x[0-9a-f]* held by goroutine' "$work/out" &&
        [ "$(grep -c '^proven leak: 1 goroutine blocked in sync.Mutex.Lock' "$work/out")" -eq 3 ] &&
        { [ $syms = no ] ||
          # the user's function first (grt_mutex_lock hidden); only
          # queued_on_a shows grt_mutex_lock, where the compiler made its
          # call a tail call (not under the sanitizers)
          { [ "$(grep -A1 '^1 goroutine \[sync.Mutex.Lock' "$work/out" |
                 grep -c '^lock_[ab]_then_[ab](')" -eq 2 ] &&
            [ "$(grep -c '^grt_mutex_lock(' "$work/out")" -le 1 ]; }; }; then
        ok "--leaks: the mutex cycle, and the goroutine behind it, proven"
    else
        bad "--leaks did not show the cycle"
        sed 's/^/    /' "$work/out"
    fi
fi
if expect 0 --graph "$cyc"; then
    grep -q 'held by.*color=red' "$work/out" &&
        ok "--graph marks the cycle's edges" || bad "--graph: no cycle edges"
    if command -v dot > /dev/null 2>&1; then
        if dot -Tsvg "$work/out" > "$work/g.svg" 2> "$work/derr"; then
            ok "--graph is valid DOT (dot -Tsvg)"
        else
            bad "dot -Tsvg rejects --graph: $(cat "$work/derr")"
        fi
    else
        echo "SKIP: --graph not checked with dot: graphviz is not installed"
    fi
fi
if expect 0 --graph "$leak" && command -v dot > /dev/null 2>&1; then
    dot -Tsvg "$work/out" > /dev/null 2>&1 &&
        ok "--graph of 25 goroutines on a channel is valid DOT" ||
        bad "dot rejects the channel graph"
fi

# ---- a program without leaks ----
start clean
clean=$tp
if expect 0 --leaks --threshold 1ms --fail "$clean"; then
    grep -q '^no leaks' "$work/out" && ok "--leaks --fail on a clean program: 0" ||
        bad "clean program: $(cat "$work/out")"
fi
if expect 0 "$clean"; then
    parses "$work/out" "gdump of sleepers"
    # (sleeping, or just woken: a locked goroutine's wake-up is a
    # hand-over to its thread, slow under the sanitizers)
    grep -q '^goroutine [0-9]* \[[^]]*, locked to thread\]:$' "$work/out" &&
        ok "locked to thread shown" ||
        { bad "no 'locked to thread'"; sed 's/^/    /' "$work/out"; }
fi

# ---- the process list ----
if expect 0; then
    grep -q "^ *$leak  gdump_target " "$work/out" &&
        ok "the process list shows the target" ||
        { bad "process list"; cat "$work/out"; }
fi

# ---- bad input ----
one_error 2 "unknown option" --bogus "$leak"
one_error 2 "unknown option" -Z "$leak"
one_error 2 "needs an argument" "$leak" --threshold
one_error 2 "not a number" notapid
one_error 2 "not a number" 0
one_error 2 "one PID at a time" "$leak" "$leak"
one_error 2 "positive duration" --leaks --threshold 10parsecs "$leak"
one_error 2 "goes with --leaks" --fail "$leak"
one_error 2 "not with --json" --graph --json "$leak"
one_error 2 "need a PID" --json
one_error 2 "--match" --match '(' "$leak"
one_error 2 "--frames" --frames 1000 "$leak"

sleep 600 &
other=$!
pids="$pids $other"
one_error 1 "not a grt program" "$other"
dead=$other
kill -9 "$other"
wait "$other" 2>/dev/null
one_error 1 "no such process" "$dead"

# a stale segment: the writer killed without a chance to remove it
start leak 3
stale=$tp
kill -9 "$stale"
sleep 0.2
if [ -e "$GRT_AGENT_DIR/$stale" ]; then
    one_error 1 "stale\|gone\|exited" "$stale"
else
    echo "SKIP: the killed target left no segment to find stale"
fi

# damaged segments, named after a live non-grt process
sleep 600 &
host=$!
pids="$pids $host"
seg="$GRT_AGENT_DIR/$host"
img="$srcdir/tests/fixtures/shm/seed-1.shm"
put() { rm -f "$seg"; cat > "$seg"; chmod 600 "$seg"; }
put < "$img"
one_error 1 "pid $host" "$host" # a valid image of another pid
head -c 3000 "$img" | put
one_error 1 "truncated\|short\|corrupt" "$host"
{ printf 'NOTGRT!!'; tail -c +9 "$img"; } | put
one_error 1 "not a grt segment" "$host"
{ head -c 12 "$img"; printf '\011\000\000\000'; tail -c +17 "$img"; } | put
one_error 1 "newer" "$host"
put < "$img"
chmod 666 "$seg"
one_error 1 "safety\|insecure\|writable" "$host"
if [ "$(id -u)" = 0 ] && id nobody > /dev/null 2>&1; then
    put < "$img"
    chown nobody "$seg"
    one_error 1 "another user\|belongs" "$host"
else
    echo "SKIP: foreign segment: needs root to chown"
fi
rm -f "$seg"

if [ $fails -ne 0 ]; then
    echo "gdump.sh: $fails failures"
    exit 1
fi
echo "gdump.sh: all passed"
exit 0
