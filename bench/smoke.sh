#!/usr/bin/env bash
# Smoke test of the C benchmark programs (run by `make check` from the top
# build directory): every workload runs through bench/run.sh at tiny sizes,
# must exit 0 and must print exactly its metrics as well-formed result lines
#   workload=<name> impl=c metric=<metric> value=<number> unit=<unit>
# and nothing else on stdout. Misuse must fail the Go way: an unknown
# workload or a bad BENCH_ override is "FAIL: ..." and exit status 1.
# Never a timing gate: the values themselves are not judged.
#
# GRT_BUILD names the build directory (default: the current directory).
set -u -o pipefail

self=$(readlink -f -- "${BASH_SOURCE[0]}") || exit 99
here=$(dirname -- "$self")
export GRT_BUILD=${GRT_BUILD:-$PWD}
export QUICK=1
bin=$GRT_BUILD/bench

tmp=$(mktemp -d "${TMPDIR:-/tmp}/grtsmoke.XXXXXX") || exit 99
trap 'rm -rf -- "$tmp"' EXIT
fails=0

fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}

# workload | metrics it must print | tiny sizes
cases='
spawn_join|ns_per_op|BENCH_N=2000 BENCH_R=1
spawn_join_p1|ns_per_op|BENCH_N=2000 BENCH_R=1
spawn_100k|ns_per_goroutine|BENCH_G=2000 BENCH_R=1
pingpong_p1|ns_per_switch ns_per_roundtrip cross_cpu_fraction|BENCH_N=3000 BENCH_R=1
pingpong_cross|ns_per_roundtrip cross_cpu_fraction|BENCH_N=3000 BENCH_R=1
ctxswitch_seed|ns_per_msg|BENCH_S=10 BENCH_M=100 BENCH_R=1
chan_mpmc|ns_per_msg|BENCH_M=8000 BENCH_R=1
worker_pool|ns_per_job|BENCH_N=2000 BENCH_R=1
fan_in_out|ns_per_value|BENCH_N=2000 BENCH_R=1
mutex_contended|ns_per_lock|BENCH_K=2000 BENCH_R=1
select2|ns_per_select|BENCH_M=4000 BENCH_R=1
timers_sleep|wall_ms mean_oversleep_us p50_oversleep_us p99_oversleep_us|BENCH_G=100 BENCH_K=3 BENCH_R=1
park_mem_100k|rss_per_goroutine create_ns_per_goroutine total_rss|BENCH_G=2000 BENCH_SETTLE_MS=10
park_mem_1m|rss_per_goroutine create_ns_per_goroutine total_rss|BENCH_G=2000 BENCH_SETTLE_MS=10
preempt_latency|p50_late_us max_late_us wakeups|BENCH_SPIN_MS=100
tcp_echo|ns_per_roundtrip|BENCH_N=1600 BENCH_R=1
'

num='-?[0-9]+(\.[0-9]+)?(e[-+][0-9]+)?'
units='(ns|us|ms|bytes|fraction|count)'

while IFS='|' read -r w metrics sizes; do
	[ -n "$w" ] || continue
	out=$tmp/$w.out
	err=$tmp/$w.err
	# park_mem_1m is skipped by run.sh under QUICK=1: run it without QUICK
	q=1
	[ "$w" = park_mem_1m ] && q=0
	# shellcheck disable=SC2086 # sizes is a list of assignments
	env QUICK=$q $sizes "$here/run.sh" "$w" >"$out" 2>"$err" </dev/null
	rc=$?
	if [ "$rc" -ne 0 ]; then
		fail "$w: exit $rc"
		sed 's/^/    /' "$err" >&2
		continue
	fi
	bad=$(grep -Evx "workload=$w impl=c metric=[a-z0-9_]+ value=$num unit=$units" "$out")
	[ -z "$bad" ] || fail "$w: malformed stdout line(s): $bad"
	got=$(sed -n 's/.* metric=\([^ ]*\) .*/\1/p' "$out" | tr '\n' ' ')
	[ "$got" = "$metrics " ] || fail "$w: metrics '$got', want '$metrics '"
	echo "ok $w: $(tr '\n' ';' <"$out")"
done <<<"$cases"

# page_costs (no Go twin): three well-formed lines, and a bad count refused.
if "$bin/page_costs" 256 >"$tmp/o" 2>"$tmp/e"; then
	n=$(grep -Ecx "page_costs: (touch_dense|touch_stride|guard) ($num ns|n/a) (per slot )?\(count=256\)" "$tmp/o")
	[ "$n" -eq 3 ] || fail "page_costs: output: $(cat "$tmp/o")"
	echo "ok page_costs: $(tr '\n' ';' <"$tmp/o")"
else
	fail "page_costs 256: exit $?, stderr: $(cat "$tmp/e")"
fi
"$bin/page_costs" 0 >"$tmp/o" 2>"$tmp/e"
rc=$?
{ [ "$rc" -eq 2 ] && grep -q '^usage: page_costs' "$tmp/e"; } ||
	fail "page_costs 0: exit $rc, want 2 and a usage line"

# cpu_latency (no Go twin): one well-formed line, and a bad count refused.
if "$bin/cpu_latency" 1000 >"$tmp/o" 2>"$tmp/e"; then
	grep -Eqx "cpu_latency: (cpus [0-9]+,[0-9]+ one-way $num ns \(round_trips=1000\)|n/a \(one CPU\))" "$tmp/o" ||
		fail "cpu_latency: output: $(cat "$tmp/o")"
	echo "ok $(cat "$tmp/o")"
else
	fail "cpu_latency 1000: exit $?, stderr: $(cat "$tmp/e")"
fi
for bad in 0 x 12x; do
	"$bin/cpu_latency" "$bad" >"$tmp/o" 2>"$tmp/e"
	rc=$?
	{ [ "$rc" -eq 2 ] && grep -q '^usage: cpu_latency' "$tmp/e"; } ||
		fail "cpu_latency $bad: exit $rc, want 2 and a usage line"
done

# Misuse: an unknown workload, a bad size, an unknown name for run.sh.
"$bin/select2" no_such_workload >"$tmp/o" 2>"$tmp/e"
rc=$?
{ [ "$rc" -eq 1 ] && grep -q '^FAIL: unknown workload' "$tmp/e" && [ ! -s "$tmp/o" ]; } ||
	fail "unknown workload: exit $rc, stderr: $(cat "$tmp/e")"
for bad in 0 -3 x12 12x ''; do
	[ -n "$bad" ] || continue
	BENCH_N=$bad "$bin/spawn_join" spawn_join >"$tmp/o" 2>"$tmp/e"
	rc=$?
	{ [ "$rc" -eq 1 ] && grep -q "^FAIL: BENCH_N=" "$tmp/e" && [ ! -s "$tmp/o" ]; } ||
		fail "BENCH_N=$bad: exit $rc, stderr: $(cat "$tmp/e")"
done
"$here/run.sh" no_such_workload >"$tmp/o" 2>"$tmp/e"
rc=$?
[ "$rc" -eq 1 ] || fail "run.sh no_such_workload: exit $rc, want 1"

[ "$fails" -eq 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
echo "bench smoke: all ok"
