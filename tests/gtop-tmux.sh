#!/bin/sh
# gtop-tmux.sh - gtop's screen end to end: a demo runs (leak_detection
# --forever: 13 goroutines, 10 of them leaked on "reply" channels, a
# producer and a consumer on "jobs"), gtop runs in a detached tmux
# session of 160x50, keys are sent with send-keys and the screen is read
# with capture-pane.  Checked: the counts match the demo, each view, sort
# and invert, filter, search, tree, the stack of a leaked goroutine with
# file:line, help, pause, a resize, a stopped (wedged) program, the
# monochrome screen, the target exiting (gtop says so and keeps the
# screen), quitting, and the picker.
#
# Every check polls the screen until the text appears, with a generous
# deadline (GTOP_TMUX_DEADLINE seconds, default 30): no fixed sleeps, no
# timing assertions.  Needs tmux (exit 77, skipped, without it).  Run from
# the top build directory by make check.
set -u
if ! command -v tmux >/dev/null 2>&1; then
    echo "gtop-tmux.sh: tmux is not installed (apt-get install tmux): skipped"
    exit 77
fi
gtop=$PWD/cli/gtop/gtop
demo=$PWD/demos/leak_detection
deadline=${GTOP_TMUX_DEADLINE:-30}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gtop-tmux.XXXXXX") || exit 1
export GRT_AGENT_DIR="$tmp/segments"
mkdir -m 700 "$GRT_AGENT_DIR"
printf 'set -g default-terminal screen\nset -g status off\n' >"$tmp/tmux.conf"
T() { tmux -S "$tmp/tmux.sock" -f "$tmp/tmux.conf" "$@"; }
pids=
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    T kill-server 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
    echo "FAIL: $*"
    echo "--- screen of $sess:"
    T capture-pane -p -t "$sess" 2>/dev/null
    exit 1
}
screen() { T capture-pane -p -t "$sess"; }
keys() { T send-keys -t "$sess" "$@"; }
# wait_for ERE [what]: poll the screen until a line matches
wait_for() {
    end=$(($(date +%s) + deadline))
    while ! screen | grep -Eq -- "$1"; do
        [ "$(date +%s)" -ge "$end" ] && fail "no /$1/ on screen${2:+ ($2)}"
        sleep 0.1
    done
    echo "ok: $1${2:+ ($2)}"
}
# wait_gone ERE: poll until no line matches
wait_gone() {
    end=$(($(date +%s) + deadline))
    while screen | grep -Eq -- "$1"; do
        [ "$(date +%s)" -ge "$end" ] && fail "/$1/ still on screen"
        sleep 0.1
    done
    echo "ok: gone /$1/"
}
# first_row: the first row under the column headings
first_row() { screen | awk '/ GID +STATE/ { getline; print; exit }'; }
# the largest goroutine id on screen (goroutine ids come in per-processor
# batches, as Go's do: they are not 1..13)
max_gid() {
    screen | awk '/ GID +STATE/ { on = 1; next }
        on && $1 ~ /^[0-9]+$/ { if ($1 + 0 > m) m = $1 + 0 } END { print m }'
}
wait_first_row() { # ERE
    end=$(($(date +%s) + deadline))
    while ! first_row | grep -Eq -- "$1"; do
        [ "$(date +%s)" -ge "$end" ] && fail "first row not /$1/: $(first_row)"
        sleep 0.1
    done
    echo "ok: first row /$1/"
}
start_demo() {
    out=$tmp/demo.$$.$1
    "$demo" --forever >"$out" 2>&1 &
    dpid=$!
    pids="$pids $dpid"
    end=$(($(date +%s) + deadline))
    while ! grep -q 'working with 10 leaked goroutines' "$out"; do
        [ "$(date +%s)" -ge "$end" ] && { cat "$out"; sess=none; fail "demo did not start"; }
        sleep 0.1
    done
}

# ---- attached with -p ----
start_demo 1
sess=gtop
T new-session -d -x 160 -y 50 -s "$sess" \
    "GRT_AGENT_DIR='$GRT_AGENT_DIR' '$gtop' -p $dpid -d 0.2 -L 0.5; sleep 60"

wait_for "gtop  pid $dpid  leak_detection" "title"
wait_for 'Goroutines: 13 total, [01] running' "13 goroutines, as the demo says"
wait_for 'Leaks: 10 suspected' "the ten leaked searchers"
wait_for ' producer' "named goroutine"
wait_for 'chan reply +[0-9.KMB]* *g1 leak_detection\.c:[0-9]+ +searcher' "waiting on, created by"
wait_for 'F1Help +F2View' "F-key bar"

# sort and invert
wait_first_row '^ +1 '
keys I
wait_for '\[sort: gid desc\]'
wait_first_row "^ +$(max_gid) "
keys I '>'
wait_for '\[sort: state\]'
keys '<'
wait_for '\[sort: gid\]'
wait_first_row '^ +1 '
keys F6
wait_for 'Sort by \(Enter: choose' "sort menu"
keys j Enter
wait_for '\[sort: state\]' "chosen in the menu"
keys F6 k Enter
wait_for '\[sort: gid\]'

# filter: several terms, any case
keys '\' 'SEND rep'
wait_for 'filter: SEND rep, 10 shown' "filter"
keys Enter
wait_gone ' producer'
keys Escape
wait_for 'producer' "filter cleared"

# Stacks need libunwind in the program, file:line libdw in gtop (make
# distcheck builds without both): there gtop says why a stack is missing.
stacks=; lines=
if grep -q '^#define HAVE_LIBUNWIND 1' config.h 2>/dev/null; then
    stacks=yes
    grep -q '^#define HAVE_LIBDW 1' config.h 2>/dev/null && lines=yes
fi
[ -n "$stacks" ] || echo "note: built without libunwind: stacks checked as missing"
[ -n "$lines" ] || echo "note: built without libdw: file:line not checked"
nostack='no stack: the program cannot dump stacks \(built without libunwind\)'
# stack_for REGEX WHAT: REGEX on a stack screen, or gtop's reason for none
stack_for() {
    if [ -n "$stacks" ]; then wait_for "$1" "${2:-}"; else wait_for "$nostack" "${2:-}"; fi
}
line_for() {
    [ -z "$lines" ] || wait_for "$1" "${2:-}"
}

# incremental search, then Enter: the stack of what it found
keys / consum Enter Enter
stack_for 'goroutine [0-9]+ \[(chan receive|running|runnable)' "stack of the consumer"
stack_for 'consumer'
keys Escape
wait_for ' GID +STATE'

# tree: collapsed by default; open and close main
keys t
wait_for '\+ main \(12\)' "tree, collapsed"
wait_gone ' producer'
keys gg +
wait_for '- main' "tree, main open"
wait_for '^ +[0-9]+ .*   producer' "children indented"
keys -
wait_for '\+ main \(12\)' "tree, closed again"
keys t
wait_for ' producer'

# digits jump to a goroutine; Enter: its stack with file:line
keys 2 Enter
stack_for 'goroutine 2 \[chan send' "stack of leaked goroutine 2"
line_for 'leak_detection\.c:[0-9]+' "file:line in the stack"
stack_for 'created by search in goroutine 1' "created by"
keys Escape

# tags: Enter shows the stacks of every tagged goroutine
keys gg Space Space
wait_for '\[2 tagged\]' "two tagged"
keys Enter
stack_for 'goroutine 1 \[' "stack of tagged goroutine 1"
stack_for 'goroutine 2 \[chan send' "and of tagged goroutine 2"
keys Escape U
wait_gone 'tagged\]'

# the other views
keys p
wait_for 'gomaxprocs=[0-9]+ idleprocs=' "processors view"
wait_for '^ +0 (running|idle|syscall) '
keys c
wait_for 'CHANNEL +ADDRESS' "channels view"
wait_for '^jobs ' "channel jobs"
wait_for '^reply ' "channel reply"
keys l
wait_for 'suspected +10 chan send ' "leaks view"
keys Enter
stack_for 'goroutine [0-9]+ \[chan send' "stack of a leak"
stack_for 'searcher' "the leaked function"
line_for 'leak_detection\.c:[0-9]+'
keys Escape
keys s
wait_for '^ +10 chan send ' "groups view: 10 identical"
if [ -n "$stacks" ]; then
    keys S
    wait_for 'groups of the same stack and state' "grouped by unwound stack"
    if [ -n "$lines" ]; then
        wait_for '^ +10 chan send .*searcher \(leak_detection\.c:[0-9]+\)' "10 identical stacks"
    else
        wait_for '^ +10 chan send .*searcher' "10 identical stacks"
    fi
    keys S
    wait_for 'groups of the same creation site' "back to sites"
fi
keys o
wait_for ' GID +STATE' "back to goroutines"

# help, pause
keys F1
wait_for 'Help \(Esc: back\)'
wait_for 'incremental search'
keys Escape
wait_gone 'incremental search'
keys Z
wait_for 'PAUSED'
keys Z
wait_gone 'PAUSED'

# resize
T resize-window -t "$sess" -x 100 -y 30
end=$(($(date +%s) + deadline))
while :; do
    n=$(screen | wc -l)
    w=$(screen | LC_ALL=C.UTF-8 wc -L)
    last=$(screen | tail -n 1)
    if [ "$n" -eq 30 ] && [ "$w" -le 100 ] && echo "$last" | grep -q 'F1Help'; then
        break
    fi
    [ "$(date +%s)" -ge "$end" ] && fail "not redrawn at 100x30 ($n lines, width $w)"
    sleep 0.1
done
echo "ok: resized to 100x30"
wait_for 'Goroutines: 13' "header after resize"
T resize-window -t "$sess" -x 160 -y 50
wait_for 'F1Help +F2View +F3Search'

# a wedged program is still shown: stopped, it cannot cooperate
kill -STOP "$dpid"
"$gtop" -b -n 1 -p "$dpid" >"$tmp/wedged.out" 2>&1 ||
    fail "batch mode on a stopped program: $(cat "$tmp/wedged.out")"
grep -q 'Goroutines: 13 total' "$tmp/wedged.out" ||
    fail "stopped program not shown: $(cat "$tmp/wedged.out")"
echo "ok: a stopped program is shown"
kill -CONT "$dpid"

# monochrome, side by side
T new-session -d -x 120 -y 40 -s mono \
    "GRT_AGENT_DIR='$GRT_AGENT_DIR' '$gtop' -M -p $dpid; sleep 60"
sess=mono
wait_for 'Goroutines: 13 total' "monochrome screen"
keys q
sess=gtop

# the target exits: said in the header, last screen kept
kill "$dpid"
wait_for 'program exited' "exit noticed"
wait_for 'Goroutines: 13 total' "last screen kept"
wait_for ' producer'
keys j k
wait_for 'program exited' "still running after keys"
keys q
wait_gone 'program exited'

# ---- the picker ----
start_demo 2
sess=picker
T new-session -d -x 160 -y 50 -s "$sess" \
    "GRT_AGENT_DIR='$GRT_AGENT_DIR' sh -c 'echo \$\$ >$tmp/gtop.pid; exec $gtop -d 0.2'; echo gtop exit status \$?; sleep 60"
wait_for 'choose a grt process' "picker"
wait_for "^ +$dpid +leak_detection +13 " "the demo listed with 13 goroutines"
keys / "$dpid" Enter Enter
wait_for "gtop  pid $dpid  leak_detection" "opened from the picker"
wait_for 'Goroutines: 13 total'
# SIGTERM: gtop restores the terminal and exits 0
kill -TERM "$(cat "$tmp/gtop.pid")"
wait_for '^gtop exit status 0$' "SIGTERM ends gtop cleanly"
echo "all gtop screen checks passed"
exit 0
