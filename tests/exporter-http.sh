#!/usr/bin/env bash
# exporter-http.sh - grt-exporter's command line and HTTP server: bad
# flags are usage errors (exit 2, one line), a taken port is one clear
# line and exit 1, --help/--version; /, /metrics, 404, 405, HEAD,
# keep-alive and pipelining, HTTP/1.0, oversized and malformed requests,
# idle and excess connections; a bad client never kills the server, and
# SIGTERM ends it with status 0.
. "${top_srcdir:-..}/tests/exporter-lib.sh"

# one_line_error STATUS ARGS...: the exporter exits with STATUS and says
# so in exactly one line on stderr.
one_line_error() {
    local want=$1
    shift
    local st=0
    "$EXPORTER" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null || st=$?
    [ "$st" -eq "$want" ] ||
        fail "grt-exporter $*: exit $st, want $want ($(cat "$tmp/err"))"
    [ "$(wc -l <"$tmp/err")" -eq 1 ] ||
        fail "grt-exporter $*: want one line on stderr, got: $(cat "$tmp/err")"
    grep -q '^grt-exporter: ' "$tmp/err" ||
        fail "grt-exporter $*: message not prefixed: $(cat "$tmp/err")"
}

one_line_error 2 --bogus
one_line_error 2 -x
one_line_error 2 --listen
one_line_error 2 --listen nonsense
one_line_error 2 --listen 127.0.0.1:99999
one_line_error 2 --listen 127.0.0.1:
one_line_error 2 --leak-threshold -1
one_line_error 2 --leak-threshold abc
one_line_error 2 extra-argument
"$EXPORTER" --help >"$tmp/out" || fail "--help exit status"
grep -q '^Usage: grt-exporter' "$tmp/out" || fail "--help prints no usage"
grep -q -- '--listen' "$tmp/out" || fail "--help does not mention --listen"
"$EXPORTER" --version >"$tmp/out" || fail "--version exit status"
grep -q '^grt-exporter (grt) [0-9]' "$tmp/out" || fail "--version output"
ok "usage errors exit 2 with one line; --help and --version"

start_target http_target --park 1
start_exporter
port=${EXP_ADDR##*:}
one_line_error 1 --listen "127.0.0.1:$port"
grep -q 'address already in use' "$tmp/err" ||
    fail "taken port message: $(cat "$tmp/err")"
ok "a taken port: $(cat "$tmp/err")"

"$CHECK" get "$EXP_ADDR" / >"$tmp/index" || fail "GET /"
grep -q 'href="/metrics"' "$tmp/index" || fail "/ does not link /metrics"
"$CHECK" get "$EXP_ADDR" /nope >/dev/null 2>"$tmp/err" &&
    fail "GET /nope succeeded"
grep -q 'status 404' "$tmp/err" || fail "GET /nope: $(cat "$tmp/err")"
"$CHECK" get "$EXP_ADDR" '/metrics?x=1' >"$tmp/page" ||
    fail "GET /metrics?query"
"$CHECK" check "$tmp/page" || fail "page with a query string"
ok "/, /metrics, 404"

# raw requests: send TEXT [keep], get the whole answer (until the server
# closes; with keep, without our half-close, so the server must close by
# itself, or the 20 s client timeout ends it and the test fails below)
send() {
    local t0=$SECONDS
    printf "$1" | "$CHECK" send "$EXP_ADDR" 20 ${2:-} >"$tmp/resp" ||
        fail "cannot send to $EXP_ADDR"
    [ $((SECONDS - t0)) -lt 15 ] ||
        fail "the server did not close: $(printf '%.80s' "$1")..."
}
count() { grep -c "$1" "$tmp/resp" || true; }

send 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' keep
[ "$(count '^HTTP/1.1 200 OK')" -eq 2 ] ||
    fail "pipelined keep-alive requests: $(grep '^HTTP' "$tmp/resp")"
grep -q '^Content-Type: text/plain; version=0.0.4' "$tmp/resp" ||
    fail "no exposition content type"
ok "keep-alive: two pipelined requests on one connection"

# 100 pipelined scrapes in one write: more answer bytes (a target runs)
# than the server buffers (256 KiB), so it holds requests back until the
# answers are read
reqs=
for i in $(seq 1 99); do reqs+='GET /metrics HTTP/1.1\r\n\r\n'; done
send "${reqs}GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n" keep
[ "$(count '^HTTP/1.1 200 OK')" -eq 100 ] ||
    fail "100 pipelined requests: $(count '^HTTP/1.1 200 OK') answers"
ok "100 pipelined scrapes answered in order on one connection"

send 'HEAD /metrics HTTP/1.0\r\n\r\n' keep
grep -q '^HTTP/1.1 200 OK' "$tmp/resp" || fail "HEAD: $(head -1 "$tmp/resp")"
grep -q '^go_\|^grt_' "$tmp/resp" && fail "HEAD answered a body"
grep -q '^Content-Length: [1-9]' "$tmp/resp" || fail "HEAD: no length"
ok "HEAD, and HTTP/1.0 closes after one answer"

send 'POST /metrics HTTP/1.1\r\nConnection: close\r\n\r\n'
grep -q '^HTTP/1.1 405' "$tmp/resp" || fail "POST: $(head -1 "$tmp/resp")"
send 'POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello'
grep -q '^HTTP/1.1 400' "$tmp/resp" || fail "body: $(head -1 "$tmp/resp")"
send 'garbage\r\n\r\n'
grep -q '^HTTP/1.1 400' "$tmp/resp" || fail "garbage: $(head -1 "$tmp/resp")"
send 'GET /metrics HTTP/9.9\r\n\r\n'
grep -q '^HTTP/1.1 400' "$tmp/resp" || fail "HTTP/9.9: $(head -1 "$tmp/resp")"
head -c 20000 /dev/zero | tr '\0' a >"$tmp/big"
printf 'GET /metrics HTTP/1.1\r\nX: %s\r\n\r\n' "$(cat "$tmp/big")" |
    "$CHECK" send "$EXP_ADDR" 20 >"$tmp/resp" || fail "cannot send big"
grep -q '^HTTP/1.1 431' "$tmp/resp" || fail "big: $(head -1 "$tmp/resp")"
head -c 4096 /dev/urandom | "$CHECK" send "$EXP_ADDR" 20 >/dev/null ||
    fail "cannot send random bytes"
kill -0 "$EXP_PID" || fail "the exporter died on bad requests"
ok "405, 400 (body, garbage, version), 431, random bytes"

# idle connections and more connections than the server keeps
exec 7<>"/dev/tcp/${EXP_ADDR%:*}/$port" || fail "cannot open an idle conn"
printf 'GET /met' >&7 # half a request, then silence
fds=()
for i in $(seq 1 80); do
    # The group keeps 2>/dev/null off the shell itself (a bare exec would
    # silence every later failure); a refused connection is no error here.
    if { exec {fd}<>"/dev/tcp/${EXP_ADDR%:*}/$port"; } 2>/dev/null; then
        fds+=("$fd")
    fi
done
for fd in "${fds[@]}"; do
    exec {fd}>&-
done
# The server frees a slot when its poll sees that close; until then a new
# connection finds the table full and is closed at once (by design), so
# give it a moment to see them before the scrape that must be answered.
for i in $(seq 1 50); do
    "$CHECK" get "$EXP_ADDR" /metrics >/dev/null 2>&1 && break
    sleep 0.1
done
scrape
ok "scrapes answered beside a stalled request and 80 extra connections"
exec 7>&-

kill -TERM "$EXP_PID"
st=0
wait "$EXP_PID" || st=$?
[ "$st" -eq 0 ] || fail "SIGTERM: exit status $st, want 0"
ok "SIGTERM ends the exporter with status 0"
finish
