#!/usr/bin/env bash
# exporter-life.sh - processes that start and stop between scrapes appear
# and disappear cleanly; damaged segments (tests/fixtures/shm images put
# under the wrong pid, truncated, of the wrong mode, garbage) are skipped
# and counted in grt_exporter_errors_total{reason}, never fatal; and a
# storm of short-lived programs during scrapes never breaks a page.
. "${top_srcdir:-..}/tests/exporter-lib.sh"

start_exporter
scrape
[ "$(value grt_exporter_errors_total reason=corrupt)" != "" ] ||
    fail "grt_exporter_errors_total{reason=\"corrupt\"} missing"

start_target life_a --park 10
a=$TGT_PID
poll "a ($a) exported" 30 has go_goroutines pid="$a" name=life_a
start_target life_b --park 20
b=$TGT_PID
poll "b ($b) exported" 30 has go_goroutines pid="$b" name=life_b
value go_goroutines pid="$a" >/dev/null || fail "a vanished when b came"
ok "processes appear"

kill "$a"
wait "$a" 2>/dev/null
poll "a ($a) gone" 30 sh -c "! \"$CHECK\" get \"$EXP_ADDR\" /metrics |
    grep -q 'pid=\"$a\"'"
scrape
value go_goroutines pid="$b" name=life_b >/dev/null ||
    fail "b vanished when a went"
kill -0 "$EXP_PID" || fail "the exporter died"
ok "a process that exits disappears, the others stay"

# damaged segments, placed after the targets started (a starting agent
# removes stale files of dead pids)
fix=$top_srcdir/tests/fixtures/shm
[ -f "$fix/seed-0.shm" ] || fail "no fixture $fix/seed-0.shm"
scrape
c0=$(value grt_exporter_errors_total reason=corrupt)
t0=$(value grt_exporter_errors_total reason=truncated)
f0=$(value grt_exporter_errors_total reason=foreign)
seg=$GRT_AGENT_DIR
install -m 600 "$fix/seed-0.shm" "$seg/999999991" # pid does not match
head -c 100 "$fix/seed-0.shm" >"$seg/999999992" && chmod 600 "$seg/999999992"
head -c 8192 /dev/urandom >"$seg/999999993" && chmod 600 "$seg/999999993"
install -m 644 "$fix/seed-1.shm" "$seg/999999994" # group/other readable
scrape
kill -0 "$EXP_PID" || fail "the exporter died on damaged segments"
value go_goroutines pid="$b" name=life_b >/dev/null ||
    fail "b missing beside damaged segments"
c1=$(value grt_exporter_errors_total reason=corrupt)
t1=$(value grt_exporter_errors_total reason=truncated)
f1=$(value grt_exporter_errors_total reason=foreign)
[ $((c1 - c0)) -ge 2 ] || fail "corrupt errors $c0 -> $c1, want +2"
[ $((t1 - t0)) -ge 1 ] || fail "truncated errors $t0 -> $t1, want +1"
[ $((f1 - f0)) -ge 1 ] || fail "foreign errors $f0 -> $f1, want +1"
for p in 999999991 999999992 999999993 999999994; do
    ! grep -q "pid=\"$p\"" "$tmp/page" || fail "damaged $p was exported"
done
ok "damaged segments skipped and counted (corrupt +$((c1 - c0)), truncated +$((t1 - t0)), foreign +$((f1 - f0)))"
rm -f "$seg"/99999999?

# a storm: programs start and exit while we scrape
storm() {
    local i
    for i in $(seq 1 20); do
        "$TARGET" --park 100 --seconds 0 >/dev/null &
        wait $!
    done
}
storm &
storm_pid=$!
started+=("$storm_pid")
n=0
while kill -0 "$storm_pid" 2>/dev/null; do
    scrape
    n=$((n + 1))
done
wait "$storm_pid"
scrape
value go_goroutines pid="$b" name=life_b >/dev/null ||
    fail "b missing after the storm"
kill -0 "$EXP_PID" || fail "the exporter died in the storm"
ok "$n valid scrapes while 20 programs came and went"

kill "$b"
wait "$b" 2>/dev/null
poll "b ($b) gone" 30 sh -c "! \"$CHECK\" get \"$EXP_ADDR\" /metrics |
    grep -q 'pid=\"$b\"'"
ok "the last target gone from the page"
finish
