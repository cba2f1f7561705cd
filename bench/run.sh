#!/usr/bin/env bash
# Runs the C side of the benchmark suite (see WORKLOADS.md in the shared
# bench directory, the definition of every workload). stdout carries only
# result lines:
#   workload=<name> impl=c metric=<metric> value=<number> unit=<unit>
# everything else goes to stderr. Same interface as run-go.sh:
#
#   run.sh                     every workload, default sizes
#   QUICK=1 run.sh             small sizes (park_mem_1m is skipped)
#   run.sh select2 ...         only the named workloads
#   BENCH_N=... BENCH_R=...    override one size (see WORKLOADS.md)
#
# The programs are taken from ${GRT_BUILD:-<repo>/build}/bench/ and built
# there with make when missing.
#
# Exit status: 0 when every workload ran and passed its checks, 1 otherwise.
set -u -o pipefail

self=$(readlink -f -- "${BASH_SOURCE[0]}") || exit 1 # also through a symlink
here=$(dirname -- "$self")
repo=$(dirname -- "$here")
build=${GRT_BUILD:-$repo/build}

# workload program (in the order they run)
runs='
spawn_join      spawn_join
spawn_join_p1   spawn_join
spawn_100k      spawn_100k
pingpong_p1     pingpong
pingpong_cross  pingpong
ctxswitch_seed  ctxswitch_seed
chan_mpmc       chan_mpmc
worker_pool     worker_pool
fan_in_out      fan_in_out
mutex_contended mutex_contended
select2         select2
timers_sleep    timers_sleep
park_mem_100k   park_mem
park_mem_1m     park_mem
preempt_latency preempt_latency
tcp_echo        tcp_echo
'
# workloads whose C program comes with a later issue
pending=' '

known=$(printf '%s\n' "$runs" | awk 'NF { print $1 }')
for want in "$@"; do
	printf '%s\n' "$known" | grep -qx -- "$want" || {
		echo "run.sh: unknown workload '$want'; known: $(printf '%s\n' "$known" | tr '\n' ' ')" >&2
		exit 1
	}
done

selected() { # workload -> true when it is to run
	[ $# -gt 0 ] || return 1
	local w=$1
	shift
	[ $# -eq 0 ] && return 0
	printf '%s\n' "$@" | grep -qx -- "$w"
}

# Build what is missing (only the programs of the selected workloads).
missing=
while read -r workload program; do
	[ -n "$workload" ] || continue
	selected "$workload" "$@" || continue
	case $pending in *" $workload "*) continue ;; esac
	[ -x "$build/bench/$program" ] && continue
	case " $missing " in *" bench/$program "*) ;; *) missing="$missing bench/$program" ;; esac
done <<<"$runs"
if [ -n "$missing" ]; then
	[ -f "$build/Makefile" ] || {
		echo "run.sh: no $build/Makefile; configure a build there (./dev.sh) or set GRT_BUILD" >&2
		exit 1
	}
	echo "# building:$missing" >&2
	# shellcheck disable=SC2086 # one word per program
	make -C "$build" $missing >&2 || {
		echo "run.sh: build failed" >&2
		exit 1
	}
fi

echo "# grt (C); nproc=$(nproc); QUICK=${QUICK:-0}; $(date -u +%Y-%m-%dT%H:%M:%SZ)" >&2

failed=0
while read -r workload program; do
	[ -n "$workload" ] || continue
	selected "$workload" "$@" || continue
	case $pending in *" $workload "*)
		echo "# $workload: skipped: the C program comes with a later issue" >&2
		continue
		;;
	esac
	if [ "${QUICK:-0}" = 1 ] && [ "$workload" = park_mem_1m ]; then
		echo "# $workload: skipped under QUICK=1" >&2
		continue
	fi
	echo "# $workload" >&2
	t0=$(date +%s.%N)
	"$build/bench/$program" "$workload" </dev/null
	rc=$?
	t1=$(date +%s.%N)
	awk -v w="$workload" -v a="$t0" -v b="$t1" -v rc="$rc" \
		'BEGIN { printf "# %s: exit %d, %.1f s\n", w, rc, b - a }' >&2
	[ "$rc" -eq 0 ] || failed=1
done <<<"$runs"
exit "$failed"
