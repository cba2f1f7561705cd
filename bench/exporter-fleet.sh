#!/usr/bin/env bash
# exporter-fleet.sh - issue 8's goal: a scrape of many grt programs with
# many goroutines each.  Starts P programs (default 100) that each park G
# goroutines (default 10000; tests/exporter_target), starts grt-exporter,
# scrapes /metrics S times (default 10) and prints the median and the
# worst wall time of a scrape as curl saw it, with the exporter's own
# grt_exporter_scrape_duration_seconds.
#
#   bench/exporter-fleet.sh [-p PROCS] [-g GOROUTINES] [-s SCRAPES]
#
# Uses the build in $GRT_BUILD (default build/); needs curl.  The
# programs' agents keep sampling meanwhile (10 Hz each), as in real life.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${GRT_BUILD:-$here/../build}
procs=100 gs=10000 scrapes=10
while getopts p:g:s: opt; do
    case $opt in
    p) procs=$OPTARG ;;
    g) gs=$OPTARG ;;
    s) scrapes=$OPTARG ;;
    *) echo "usage: $0 [-p PROCS] [-g GOROUTINES] [-s SCRAPES]" >&2; exit 2 ;;
    esac
done
command -v curl >/dev/null || { echo "exporter-fleet.sh: needs curl" >&2; exit 1; }
target=$build/tests/exporter_target
exporter=$build/cli/grt-exporter
[ -x "$target" ] || make -C "$build" tests/exporter_target >&2
work=$(mktemp -d)
export GRT_AGENT_DIR=$work/seg
mkdir -m 700 "$GRT_AGENT_DIR"
pids=
cleanup() {
    # shellcheck disable=SC2086
    kill $pids 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

for i in $(seq "$procs"); do
    "$target" --park "$gs" --seconds 600 >"$work/t$i.out" 2>&1 &
    pids="$pids $!"
done
for i in $(seq "$procs"); do
    until grep -q ready "$work/t$i.out" 2>/dev/null; do sleep 0.1; done
done
port=$((20000 + RANDOM % 20000))
"$exporter" --listen "127.0.0.1:$port" >"$work/exporter.out" 2>&1 &
pids="$pids $!"
until curl -s -o /dev/null "http://127.0.0.1:$port/metrics"; do sleep 0.1; done

times=()
for _ in $(seq "$scrapes"); do
    times+=("$(curl -s -o "$work/page" -w '%{time_total}' "http://127.0.0.1:$port/metrics")")
done
own=$(awk '/^grt_exporter_scrape_duration_seconds/ { print $2 }' "$work/page")
nproc_page=$(awk '/^grt_exporter_processes/ { print $2 }' "$work/page")
ngo=$(awk '/^go_goroutines\{/ { s += $2 } END { print s }' "$work/page")
printf '%s\n' "${times[@]}" | sort -g | awk -v p="$procs" -v g="$gs" \
    -v own="$own" -v np="$nproc_page" -v ngo="$ngo" '
    { t[NR] = $1 }
    END {
        med = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
        printf "# %d programs x %d goroutines (page: %s programs, %s goroutines)\n", p, g, np, ngo
        printf "scrape wall time: median %.3f s, worst %.3f s over %d scrapes; exporter-measured last %.3f s\n", med, t[NR], NR, own
    }'
