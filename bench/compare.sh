#!/usr/bin/env bash
# Runs the C suite (bench/run.sh) and the Go suite (run-go.sh) interleaved,
# workload by workload (C then Go), ROUNDS times, and prints a Markdown table
# of the medians over the rounds with the c/go ratio and the project's goal.
#
#   compare.sh                          every workload both suites have
#   compare.sh select2 chan_mpmc        only these
#   ROUNDS=5 compare.sh                 rounds (default 3)
#   QUICK=1 compare.sh                  small sizes (passed to both suites)
#   compare.sh --write docs/benchmarks.md
#                                       also write the table, the machine,
#                                       the date and notes to that file
#   GO_BENCH=/path/to/run-go.sh         the Go suite (default: the shared
#                                       bench directory beside the repo)
#
# Without `go` in PATH (or without the Go suite) only the C column is
# filled, and a note says so. BENCH_* overrides pass through to both.
# The raw result lines of every run are kept with --keep DIR.
#
# Exit status: 0 when every run passed, 1 otherwise (the table is printed
# all the same).
set -u -o pipefail

self=$(readlink -f -- "${BASH_SOURCE[0]}") || exit 1
here=$(dirname -- "$self")
repo=$(dirname -- "$here")
go_bench=${GO_BENCH:-$repo/../shared/bench/run-go.sh}
rounds=${ROUNDS:-3}
write=
keep=

usage() {
	sed -n '2,21p' "$self" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

args=()
while [ $# -gt 0 ]; do
	case $1 in
	--write) [ $# -ge 2 ] || usage; write=$2; shift 2 ;;
	--write=*) write=${1#--write=}; shift ;;
	--keep) [ $# -ge 2 ] || usage; keep=$2; shift 2 ;;
	-h | --help) usage ;;
	-*) echo "compare.sh: unknown option $1" >&2; usage ;;
	*) args+=("$1"); shift ;;
	esac
done
case $rounds in '' | *[!0-9]* | 0) echo "compare.sh: ROUNDS=$rounds: want a positive integer" >&2; exit 2 ;; esac

# Both suites' order.
workloads='spawn_join spawn_join_p1 spawn_100k pingpong_p1 pingpong_cross
ctxswitch_seed chan_mpmc worker_pool fan_in_out mutex_contended select2
timers_sleep park_mem_100k park_mem_1m preempt_latency tcp_echo'
pending=''

list=()
for w in $workloads; do
	if [ ${#args[@]} -gt 0 ]; then
		printf '%s\n' "${args[@]}" | grep -qx -- "$w" || continue
	fi
	if [ "${QUICK:-0}" = 1 ] && [ "$w" = park_mem_1m ]; then
		echo "# $w: skipped under QUICK=1" >&2
		continue
	fi
	list+=("$w")
done
for a in ${args[@]+"${args[@]}"}; do
	case " $(printf '%s' "$workloads" | tr '\n' ' ') " in *" $a "*) continue ;; esac
	case " $pending " in
	*" $a "*) echo "# $a: no C program yet (later issue); not compared" >&2 ;;
	*) echo "compare.sh: unknown workload '$a'" >&2; exit 2 ;;
	esac
done
[ ${#list[@]} -gt 0 ] || { echo "compare.sh: nothing to run" >&2; exit 2; }

have_go=1
go_note=
if ! command -v go >/dev/null 2>&1; then
	have_go=0
	go_note="no 'go' in PATH (Debian: apt-get install -y golang-go): only the C suite ran"
elif [ ! -f "$go_bench" ]; then
	have_go=0
	go_note="no Go suite at $go_bench (set GO_BENCH): only the C suite ran"
fi
[ -z "$go_note" ] || echo "compare.sh: $go_note" >&2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/grtcompare.XXXXXX") || exit 1
trap 'rm -rf -- "$tmp"' EXIT
: >"$tmp/c.txt"
: >"$tmp/go.txt"
: >"$tmp/log.txt"
if [ "$have_go" = 1 ]; then
	# run-go.sh builds on every call: give it one warm cache for the session
	case "$(go env GOCACHE 2>/dev/null)" in "" | off) export GOCACHE="$tmp/gocache" ;; esac
fi

load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)
# The cross-CPU cache line latency: the host's placement of the CPUs
# moves it fivefold here, and the workloads that move goroutines between
# CPUs with it (bench/missed-goals.md).  "?" when the probe is missing.
cpu_latency() {
	"${GRT_BUILD:-$repo/build}/bench/cpu_latency" 2>/dev/null |
		sed -n 's/^cpu_latency: .*one-way \([0-9.]*\) ns.*/\1 ns/p;s/^cpu_latency: \(n\/a.*\)/\1/p' |
		grep . || echo "?"
}
lat_before=$(cpu_latency)
echo "# cross-CPU latency (one way) before: $lat_before" >&2
failed=0
for ((r = 1; r <= rounds; r++)); do
	for w in "${list[@]}"; do
		"$here/run.sh" "$w" >>"$tmp/c.txt" 2>>"$tmp/log.txt"
		c_rc=$?
		[ "$c_rc" -eq 0 ] || failed=1
		go_rc=-
		if [ "$have_go" = 1 ]; then
			bash "$go_bench" "$w" >>"$tmp/go.txt" 2>>"$tmp/log.txt"
			go_rc=$?
			[ "$go_rc" -eq 0 ] || failed=1
		fi
		echo "# round $r/$rounds $w: c exit $c_rc, go exit $go_rc" >&2
	done
done
if [ -n "$keep" ]; then
	mkdir -p -- "$keep" && cp -- "$tmp/c.txt" "$tmp/go.txt" "$tmp/log.txt" "$keep/"
fi
[ "$failed" = 0 ] || echo "compare.sh: some runs failed; their chatter:" \
	"$(grep -h '^FAIL\|exit [1-9]' "$tmp/log.txt" | head -20)" >&2

# The table. Median as summarize.sh computes it: sort, then the middle value
# or the mean of the two middle ones. Goals are ratios c/go of the medians.
table() {
	awk -v have_go="$have_go" '
function field(line, name,   n, i, kv) {
	n = split(line, kv, " ")
	for (i = 1; i <= n; i++)
		if (index(kv[i], name "=") == 1)
			return substr(kv[i], length(name) + 2)
	return ""
}
function fmt(v,   a) {
	a = (v < 0) ? -v : v
	if (a >= 1000 || v == int(v)) return sprintf("%.0f", v)
	if (a >= 1) return sprintf("%.1f", v)
	return sprintf("%.3g", v)
}
function median(key,   n, i, j, t, v) {
	n = count[key]
	for (i = 1; i <= n; i++) v[i] = vals[key, i]
	for (i = 2; i <= n; i++)            # insertion sort, n is small
		for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
	return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
BEGIN {
	goal["spawn_join", "ns_per_op"] = 0.30
	goal["spawn_100k", "ns_per_goroutine"] = 0.30
	goal["spawn_join_p1", "ns_per_op"] = 0.15
	goal["pingpong_p1", "ns_per_switch"] = 0.25
	goal["ctxswitch_seed", "ns_per_msg"] = 0.25
	goal["select2", "ns_per_select"] = 0.50
	goal["fan_in_out", "ns_per_value"] = 0.50
	goal["chan_mpmc", "ns_per_msg"] = 0.80
	goal["worker_pool", "ns_per_job"] = 0.80
	goal["mutex_contended", "ns_per_lock"] = 0.80
	goal["timers_sleep", "wall_ms"] = 1.0
	goal["timers_sleep", "p99_oversleep_us"] = 1.0
	goal["park_mem_100k", "rss_per_goroutine"] = 1.65
	goal["park_mem_1m", "rss_per_goroutine"] = 1.65
	goal["park_mem_100k", "create_ns_per_goroutine"] = 0.50
	goal["park_mem_1m", "create_ns_per_goroutine"] = 0.50
	goal["preempt_latency", "p50_late_us"] = 0.50
	goal["preempt_latency", "max_late_us"] = 0.50
	goal["tcp_echo", "ns_per_roundtrip"] = 0.80
}
$1 ~ /^workload=/ {
	wm = field($0, "workload") SUBSEP field($0, "metric")
	impl = field($0, "impl")
	if (!(wm in seen)) { seen[wm] = 1; order[++rows] = wm; unit[wm] = field($0, "unit") }
	key = wm SUBSEP impl
	vals[key, ++count[key]] = field($0, "value") + 0
}
END {
	print "| workload | metric | c median | go median | c/go ratio | goal | met? |"
	print "|---|---|---:|---:|---:|---:|---|"
	for (r = 1; r <= rows; r++) {
		wm = order[r]; split(wm, k, SUBSEP)
		c = "-"; g = "-"; ratio = "-"; met = "-"
		if ((wm SUBSEP "c") in count) { cm = median(wm SUBSEP "c"); c = fmt(cm) }
		if ((wm SUBSEP "go") in count) { gm = median(wm SUBSEP "go"); g = fmt(gm) }
		if (c != "-" && g != "-" && gm != 0) ratio = sprintf("%.3f", cm / gm)
		gl = (wm in goal) ? sprintf("<= %.2f", goal[wm]) : "-"
		if (wm in goal && ratio != "-") met = (cm / gm <= goal[wm]) ? "yes" : "**no**"
		u = (unit[wm] == "fraction" || unit[wm] == "count") ? "" : " " unit[wm]
		if (c != "-") c = c u
		if (g != "-") g = g u
		printf "| %s | %s | %s | %s | %s | %s | %s |\n", k[1], k[2], c, g, ratio, gl, met
	}
}' "$tmp/c.txt" "$tmp/go.txt"
}

# The spread of every (workload, metric, impl) over the rounds, as
# summarize.sh prints it.
spread() {
	awk '
function field(line, name,   n, i, kv) {
	n = split(line, kv, " ")
	for (i = 1; i <= n; i++)
		if (index(kv[i], name "=") == 1)
			return substr(kv[i], length(name) + 2)
	return ""
}
function fmt(v,   a) {
	a = (v < 0) ? -v : v
	if (a >= 1000 || v == int(v)) return sprintf("%.0f", v)
	if (a >= 1) return sprintf("%.1f", v)
	return sprintf("%.3g", v)
}
$1 ~ /^workload=/ {
	key = field($0, "workload") SUBSEP field($0, "metric") SUBSEP field($0, "impl")
	if (!(key in count)) { order[++rows] = key; unit[key] = field($0, "unit") }
	vals[key, ++count[key]] = field($0, "value") + 0
}
END {
	print "| workload | metric | impl | median | min - max | spread | unit | runs |"
	print "|---|---|---|---:|---:|---:|---|---:|"
	for (r = 1; r <= rows; r++) {
		key = order[r]; n = count[key]
		for (i = 1; i <= n; i++) v[i] = vals[key, i]
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
		med = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
		sp = (med != 0) ? sprintf("%.0f%%", 100 * (v[n] - v[1]) / med) : "-"
		split(key, k, SUBSEP)
		printf "| %s | %s | %s | %s | %s - %s | %s | %s | %d |\n", k[1], k[2], k[3], fmt(med), fmt(v[1]), fmt(v[n]), sp, unit[key], n
	}
}' "$tmp/c.txt" "$tmp/go.txt"
}

table
[ -z "$go_note" ] || printf '\nNote: %s.\n' "$go_note"

lat_after=$(cpu_latency)
echo "# cross-CPU latency (one way) after: $lat_after" >&2

if [ -n "$write" ]; then
	model=$(LC_ALL=C lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
	govers=$([ "$have_go" = 1 ] && go version || echo "none")
	mkdir -p -- "$(dirname -- "$write")" || exit 1
	{
		echo "# Benchmarks: libgrt (C) against Go"
		echo
		echo "Generated by \`bench/compare.sh --write\`; do not edit by hand, run it again."
		echo "The workloads are defined in the shared bench directory's WORKLOADS.md; the C programs are in \`bench/\`."
		echo
		echo "- Machine: ${model:-unknown CPU}, $(nproc) CPUs usable (nproc), Linux $(uname -r) ($(uname -m))"
		echo "- Date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
		echo "- Go: $govers"
		echo "- Load average (1, 5, 15 min) before: ${load_before:-?}; after: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
		echo "- Cross-CPU cache line latency, one way (bench/cpu_latency): before: $lat_before; after: $lat_after"
		echo "- C compiler: $(${CC:-cc} --version 2>/dev/null | head -1)"
		echo "- Rounds: $rounds, interleaved per workload (C, then Go); QUICK=${QUICK:-0}$(env | grep '^BENCH_' | tr '\n' ' ' | sed 's/^/; overrides: /;s/ $//')"
		echo
		echo "Each cell is the median over the rounds of the value one run reports (itself a median over that run's repeats)."
		echo "The ratio is c/go of those medians: below 1, C is faster or smaller; the goal is the ratio the project aims for."
		echo
		table
		echo
		echo "## Spread over the rounds"
		echo
		spread
		echo
		echo "## Notes"
		echo
		[ -z "$go_note" ] || echo "- $go_note."
		echo "- pingpong_cross: Go's \`runnext\` keeps both goroutines on one CPU almost always (see cross_cpu_fraction); a runtime that crosses CPUs pays cache-line transfers and wake-ups and looks slower."
		echo "- timers_sleep is bimodal in Go (p50 below 1 us, p99 some ms): compare p50 and p99 as well as the mean."
		echo "- Go's garbage collector runs inside timed regions when the heap grows (park_mem_1m especially); C frees its channels and arrays after the closing clock read."
		echo "- Where goroutines end without a final wait-group call (senders, closers), the C programs wait for them to exit after the closing clock read and before freeing channels; Go needs no such step."
		echo "- park_mem: Go's settle step collects garbage first; C has none, it only sleeps before reading VmRSS."
		echo "- park_mem: VmRSS does not count page tables; the C program logs VmPTE to stderr (kept with --keep), which matters when stacks are spread far apart in the address space."
		[ "$failed" = 0 ] || echo "- Some runs failed (non-zero exit); their values are missing from the medians."
		if [ -f "$here/watching-costs.md" ]; then
			echo
			cat -- "$here/watching-costs.md"
		fi
		if [ -f "$here/missed-goals.md" ]; then
			echo
			cat -- "$here/missed-goals.md"
		fi
	} >"$write" || exit 1
	echo "# wrote $write" >&2
fi
exit "$failed"
