#!/usr/bin/env bash
# agent-read.sh - reader cost of a big program: park N goroutines (default
# 100000) in one process and time snapshots of it from another.
#   bench/agent-read.sh [N]     (from the build directory)
set -euo pipefail
n=${1:-100000}
bin=${AGENT_READ:-bench/agent_read} # run from the build directory
exec 3< <(sleep infinity)
holder=$!
coproc P { "$bin" park "$n" <&3; }
read -r pid <&"${P[0]}"
"$bin" read "$pid" 10
kill "$P_PID" "$holder" 2>/dev/null || true
