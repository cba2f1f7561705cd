#!/usr/bin/env bash
# exporter-format.sh - grt-exporter's pages follow the exposition grammar
# (tests/expo_check.c checks HELP/TYPE lines, names, escaping, contiguous
# families, counters ending in _total, one TYPE per family, pid and name
# labels) while real grt programs run, come and go: a target parking
# goroutines and leaking some, one whose name needs escaping (a quote, a
# backslash and a line feed, through exec -a), one whose name is not
# UTF-8 (written with U+FFFD, as Prometheus needs), and demos started during
# the scrapes.  Also checks the values that must be there: Go's names
# for the goroutine counts by state, go_info's version label, the grt_
# extras (leaks, context switches, longest wait), and the allocation
# counters (go_memstats_{mallocs,frees,alloc_bytes}_total: client_golang's
# types and HELP texts, values that fit the target).
. "${top_srcdir:-..}/tests/exporter-lib.sh"

"$CHECK" selftest 2>"$tmp/selftest.log" ||
    { cat "$tmp/selftest.log" >&2; fail "the checker's self test"; }
ok "checker refuses every bad page of its self test"

start_exporter --leak-threshold 0.2
start_target exporter_target --park 50 --leak 3 --busy
main=$TGT_PID
odd=$'we"ird\\na\nme'
start_target "$odd" --park 5
weird=$TGT_PID
nonutf8=$'bad\xffname'
start_target "$nonutf8" --park 1
bad=$TGT_PID
start_target deadlocked --cycle
cyc=$TGT_PID

# main: 50 parked + 3 leaked + 2 busy + main itself
poll "goroutines of $main" 30 at_least 56 go_goroutines pid="$main"
ok "go_goroutines of the target"
[ "$(value go_info pid="$weird" name="$odd")" = 1 ] ||
    fail "go_info of the oddly named process (name escaping)"
grep -qF 'name="we\"ird\\na\nme"' "$tmp/page" ||
    fail "the odd name is not escaped as \\\" \\\\ \\n"
"$CHECK" query "$tmp/page" go_info pid="$main" version="grt$(
    sed -n 's/.*grt-exporter (grt) //p' <("$EXPORTER" --version))" \
    >/dev/null || fail "go_info's version label is not grt<version>"
[ "$(value go_info pid="$bad" name=$'bad\xef\xbf\xbdname')" = 1 ] ||
    fail "a name that is not UTF-8 is not written with U+FFFD"
ok "escaped names (quote, backslash, line feed, not UTF-8) and go_info{version}"

poll "suspected leaks of $main" 30 \
    at_least 3 grt_leak_suspected_goroutines pid="$main"
v=$(value go_sched_goroutines_waiting_goroutines pid="$main")
[ "${v:-0}" -ge 53 ] || fail "waiting goroutines: ${v:-none}, want >= 53"
v=$(value grt_waiting_goroutines pid="$main" reason="chan receive")
[ "${v:-0}" -ge 50 ] || fail "chan receive waiters: ${v:-none}, want >= 50"
v=$(value grt_waiting_goroutines pid="$main" reason="chan send")
[ "${v:-0}" -ge 3 ] || fail "chan send waiters: ${v:-none}, want >= 3"
v=$(value grt_blocked_channels pid="$main")
[ "${v:-0}" -ge 4 ] || fail "blocked channels: ${v:-none}, want >= 4"
v=$(value grt_longest_wait_seconds pid="$main")
awk -v v="${v:-0}" 'BEGIN { exit !(v > 0.2) }' ||
    fail "longest wait ${v:-none}, want > 0.2 s"
ok "goroutines by state, wait reasons, blocked channels, suspected leaks"

poll "proven leaks (a mutex cycle) of $cyc" 30 \
    at_least 2 grt_leak_proven_goroutines pid="$cyc"
v=$(value grt_waiting_goroutines pid="$cyc" reason="sync.Mutex.Lock")
[ "${v:-0}" -eq 2 ] || fail "mutex waiters of $cyc: ${v:-none}, want 2"
[ "$(value grt_leak_all_asleep pid="$cyc")" = 0 ] ||
    fail "$cyc claimed all asleep while its main sleeps on a timer"
ok "proven leaks: a wait-for cycle of two mutexes"

# every family the exporter promises, each present for the target
for fam in go_goroutines go_threads go_info go_memstats_alloc_bytes \
    go_memstats_sys_bytes go_memstats_heap_alloc_bytes \
    go_memstats_heap_sys_bytes go_memstats_heap_idle_bytes \
    go_memstats_heap_inuse_bytes go_memstats_stack_inuse_bytes \
    go_memstats_stack_sys_bytes go_memstats_alloc_bytes_total \
    go_memstats_mallocs_total go_memstats_frees_total \
    go_sched_gomaxprocs_threads \
    go_sched_goroutines_runnable_goroutines \
    go_sched_goroutines_running_goroutines \
    go_sched_goroutines_waiting_goroutines \
    go_sched_goroutines_not_in_go_goroutines \
    go_sched_goroutines_created_goroutines_total \
    grt_context_switches_total grt_steals_total grt_preemptions_total \
    grt_syscalls_total grt_blocked_channels grt_leak_suspected_goroutines \
    grt_leak_proven_goroutines grt_longest_wait_seconds \
    process_cpu_seconds_total process_open_fds process_max_fds \
    process_resident_memory_bytes process_virtual_memory_bytes \
    process_start_time_seconds; do
    "$CHECK" query "$tmp/page" "$fam" pid="$main" >/dev/null ||
        fail "no $fam for pid $main"
done
for fam in go_goroutines grt_context_switches_total process_open_fds; do
    grep -q "^# TYPE $fam " "$tmp/page" || fail "no TYPE line for $fam"
done
grep -q '^# TYPE go_sched_goroutines_created_goroutines_total counter$' \
    "$tmp/page" || fail "created goroutines is not a counter"
grep -q '^# TYPE go_goroutines gauge$' "$tmp/page" ||
    fail "go_goroutines is not a gauge"
# the allocation counters: client_golang's type and HELP text (less its
# "Equals to" note), grt's meaning added after it
for help in \
    'go_memstats_alloc_bytes_total Total number of bytes allocated in heap until now, even if released already. For grt: ' \
    'go_memstats_mallocs_total Total number of heap objects allocated, both live and gc-ed. Semantically a counter version for go_memstats_heap_objects gauge. For grt: ' \
    'go_memstats_frees_total Total number of heap objects frees. For grt: '; do
    fam=${help%% *}
    grep -q "^# TYPE $fam counter\$" "$tmp/page" || fail "$fam is not a counter"
    grep -qF "# HELP $help" "$tmp/page" || fail "$fam: not client_golang's HELP"
done
# main: 56 goroutines and its channels made, nothing freed but what
# exited; every goroutine counts its descriptor's bytes
m=$(value go_memstats_mallocs_total pid="$main")
f=$(value go_memstats_frees_total pid="$main")
b=$(value go_memstats_alloc_bytes_total pid="$main")
awk -v m="$m" -v f="$f" -v b="$b" \
    'BEGIN { exit !(m >= 56 + 4 && f <= m && m - f >= 56 && b >= 56 * 64) }' ||
    fail "objects of $main: mallocs $m, frees $f, bytes $b"
v=$(value process_start_time_seconds pid="$main")
now=$(date +%s)
awk -v v="$v" -v n="$now" 'BEGIN { exit !(v > n - 3600 && v <= n + 5) }' ||
    fail "process_start_time_seconds $v is not about now ($now)"
ok "all promised families present, typed as client_golang types them"

# counters move: the busy pair switches every millisecond
c1=$(value grt_context_switches_total pid="$main")
poll "context switches to grow past $c1" 30 \
    at_least $((c1 + 1)) grt_context_switches_total pid="$main"
ok "grt_context_switches_total grows"

# scrapes while demos start and stop: every page valid, the target in all
demos=$top_builddir/demos
n=0
for d in worker_pool producer_consumer goroutines runtime_stats; do
    [ -x "$demos/$d" ] || continue
    "$demos/$d" --quick >"$tmp/demo-$d.out" 2>&1 &
    dpid=$!
    started+=("$dpid")
    while kill -0 "$dpid" 2>/dev/null; do
        scrape
        value go_goroutines pid="$main" >/dev/null ||
            fail "target missing from a scrape while $d ran"
        n=$((n + 1))
    done
    wait "$dpid" || fail "demo $d failed: $(tail -n 3 "$tmp/demo-$d.out")"
done
[ "$n" -gt 0 ] || fail "no scrape happened while demos ran"
ok "$n scrapes during demo runs, every page valid"
finish
