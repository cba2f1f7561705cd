# exporter-lib.sh - sourced by grt-exporter's tests (tests/exporter-*.sh).
#
# Gives each test a private segment directory ($GRT_AGENT_DIR under a
# mktemp directory, mode 0700), helpers to start the exporter on a free
# port (--listen 127.0.0.1:0; the port is read from its announce line),
# to start target programs under any name (exec -a), to scrape and check
# a page, and to poll for a condition with a generous deadline (never a
# fixed sleep as an assertion).  Everything started is killed, by pid, on
# exit.
#
# Other grt programs of this user (other tests running in parallel, in
# /dev/shm/grt-<uid>) show up in the exporter's pages too: tests only
# assert on the pids they started, and on the format of everything.

set -u

top_builddir=${top_builddir:-.}
top_srcdir=${top_srcdir:-..}
EXPORTER=$top_builddir/cli/grt-exporter
TARGET=$top_builddir/tests/exporter_target
CHECK=$top_builddir/tests/expo_check
for f in "$EXPORTER" "$TARGET" "$CHECK"; do
    if [ ! -x "$f" ]; then
        echo "SKIP: $f not built (make check builds it)" >&2
        exit 77
    fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/grt-exporter-test.XXXXXX") || exit 1
chmod 700 "$tmp"
export GRT_AGENT_DIR=$tmp/segments
mkdir -m 700 "$GRT_AGENT_DIR"
started=()

cleanup() {
    local p
    for p in "${started[@]}"; do
        kill "$p" 2>/dev/null
    done
    for p in "${started[@]}"; do
        wait "$p" 2>/dev/null
    done
    if [ -n "${KEEP_TMP:-}" ]; then
        echo "kept $tmp" >&2
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() {
    echo "FAIL: $*" >&2
    if [ -f "$tmp/exporter.err" ]; then
        echo "--- exporter's stderr:" >&2
        cat "$tmp/exporter.err" >&2
    fi
    exit 1
}

ok() {
    echo "ok: $*"
}

# poll DESCRIPTION SECONDS COMMAND...: run COMMAND every 50 ms until it
# succeeds; fail after SECONDS.
poll() {
    local what=$1 secs=$2
    shift 2
    local end=$((SECONDS + secs))
    until "$@"; do
        if [ "$SECONDS" -ge "$end" ]; then
            fail "timed out ($secs s) waiting for: $what"
        fi
        sleep 0.05
    done
}

# start_exporter [ARGS...]: sets EXP_PID and EXP_ADDR (host:port).
start_exporter() {
    : >"$tmp/exporter.err"
    "$EXPORTER" --listen 127.0.0.1:0 "$@" 2>"$tmp/exporter.err" &
    EXP_PID=$!
    started+=("$EXP_PID")
    poll "the exporter's announce line" 20 \
        grep -q 'listening on' "$tmp/exporter.err"
    EXP_ADDR=$(sed -n 's|.*listening on http://\(.*\)/metrics$|\1|p' \
        "$tmp/exporter.err")
    [ -n "$EXP_ADDR" ] || fail "no address in: $(cat "$tmp/exporter.err")"
}

# start_target NAME [ARGS...]: a target program whose argv[0] (and so its
# name in the segment) is NAME; sets TGT_PID once it is ready and its
# segment exists.
ntargets=0
start_target() {
    local name=$1
    shift
    ntargets=$((ntargets + 1))
    local out=$tmp/target.$ntargets.out
    (exec -a "$name" "$TARGET" "$@" >"$out") &
    TGT_PID=$!
    started+=("$TGT_PID")
    poll "target $TGT_PID ready" 30 grep -qs '^ready$' "$out"
    poll "segment of $TGT_PID" 30 test -s "$GRT_AGENT_DIR/$TGT_PID"
}

# scrape [FILE]: GET /metrics into FILE (default $tmp/page) and check its
# format, with pid and name labels on every per-process sample.
scrape() {
    local page=${1:-$tmp/page}
    "$CHECK" get "$EXP_ADDR" /metrics >"$page" ||
        fail "scrape of $EXP_ADDR failed"
    "$CHECK" check "$page" --labels pid,name ||
        { cp "$page" "$tmp/bad-page"; KEEP_TMP=1; fail "bad page (kept)"; }
}

# value NAME [LABEL=VALUE...]: the value of one sample of the last page.
value() {
    "$CHECK" query "$tmp/page" "$@" | head -n 1
}

# has NAME [LABEL=VALUE...]: is there such a sample in a fresh scrape?
has() {
    scrape
    "$CHECK" query "$tmp/page" "$@" >/dev/null
}

# at_least N NAME [LABEL=VALUE...]: a fresh scrape has that sample >= N.
at_least() {
    local n=$1
    shift
    scrape
    local v
    v=$("$CHECK" query "$tmp/page" "$@" | head -n 1)
    [ -n "$v" ] && awk -v v="$v" -v n="$n" 'BEGIN { exit !(v >= n) }'
}

# finish: the exporter said nothing but where it listens (a sanitizer
# report or a warning would show here), then pass.
finish() {
    if grep -v 'listening on' "$tmp/exporter.err" | grep -q .; then
        fail "the exporter wrote to stderr"
    fi
    exit 0
}
