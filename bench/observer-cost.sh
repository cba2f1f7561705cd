#!/usr/bin/env bash
# observer-cost.sh - what watching a program costs it: each workload run
# alone and with an observer attached at 10 refreshes a second, rounds
# interleaved, then the ratio (attached / alone) of the medians.
#
#   bench/observer-cost.sh [-r ROUNDS] [-o gtop|exporter] [WORKLOAD...]
#
# Default: 5 rounds, gtop (batch mode, -d 0.1, every view built), and
# pingpong_p1 spawn_join chan_mpmc.  "exporter" scrapes grt-exporter's
# /metrics ten times a second instead.  Uses the build in $GRT_BUILD
# (default build/).  A ratio near 1 within the rounds' spread means the
# observer costs nothing measurable beyond the agent's own publishing
# (which runs either way).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${GRT_BUILD:-$here/../build}
rounds=5
observer=gtop
while getopts r:o: opt; do
    case $opt in
    r) rounds=$OPTARG ;;
    o) observer=$OPTARG ;;
    *) echo "usage: $0 [-r ROUNDS] [-o gtop|exporter] [WORKLOAD...]" >&2
       exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- pingpong_p1 spawn_join chan_mpmc
case $observer in gtop | exporter) ;; *)
    echo "observer-cost.sh: unknown observer '$observer'" >&2; exit 2 ;;
esac

program_of() { # workload -> bench program
    case $1 in
    spawn_join*) echo spawn_join ;;
    pingpong*) echo pingpong ;;
    park_mem*) echo park_mem ;;
    *) echo "$1" ;;
    esac
}

# run WORKLOAD MODE: print the first metric's value of one run
run() {
    local w=$1 mode=$2 prog out pid obs=
    prog=$build/bench/$(program_of "$w")
    out=$(mktemp)
    "$prog" "$w" >"$out" 2>/dev/null &
    pid=$!
    if [ "$mode" = attached ]; then
        # the segment appears when the runtime starts (milliseconds)
        for _ in $(seq 200); do
            "$build/cli/gdump/gdump" 2>/dev/null | awk '{print $1}' |
                grep -qx "$pid" && break
            sleep 0.01
        done
        if [ "$observer" = gtop ]; then
            "$build/cli/gtop/gtop" -b -d 0.1 -n 100000 -p "$pid" \
                -v goroutines,procs,chans,leaks >/dev/null 2>&1 &
            obs=$!
        else
            (while kill -0 "$pid" 2>/dev/null; do
                curl -s -o /dev/null "http://127.0.0.1:$port/metrics"
                sleep 0.1
            done) &
            obs=$!
        fi
    fi
    wait "$pid"
    [ -n "$obs" ] && { kill "$obs" 2>/dev/null || true; wait "$obs" 2>/dev/null || true; }
    awk -F'[ =]' '/^workload=/ { for (i = 1; i < NF; i++) if ($i == "value") { print $(i + 1); exit } }' "$out"
    rm -f "$out"
}

if [ "$observer" = exporter ]; then
    port=$((20000 + RANDOM % 20000))
    "$build/cli/grt-exporter" --listen "127.0.0.1:$port" >/dev/null 2>&1 &
    exp=$!
    trap 'kill $exp 2>/dev/null || true' EXIT
    sleep 0.3
fi

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

printf '# observer=%s rounds=%s nproc=%s %s\n' "$observer" "$rounds" "$(nproc)" "$(date -u +%FT%TZ)"
printf '%-16s %12s %12s %8s\n' workload alone attached ratio
for w in "$@"; do
    alone=() attached=()
    for _ in $(seq "$rounds"); do
        alone+=("$(run "$w" alone)")
        attached+=("$(run "$w" attached)")
    done
    a=$(printf '%s\n' "${alone[@]}" | median)
    b=$(printf '%s\n' "${attached[@]}" | median)
    printf '%-16s %12s %12s %8.3f   (alone %s; attached %s)\n' "$w" "$a" "$b" \
        "$(awk -v a="$a" -v b="$b" 'BEGIN { print b / a }')" "${alone[*]}" "${attached[*]}"
done
