#!/usr/bin/env bash
# exporter-prometheus.sh - end to end: a real Prometheus (Debian's
# prometheus package; ./dev.sh test installs it) on loopback, with a
# temporary configuration and storage, scrapes grt-exporter every 200 ms
# while a grt program runs; its HTTP API must then answer go_goroutines
# and grt_context_switches_total for that program's pid, and report the
# target up; every query of the Grafana dashboard (docs/grafana-grt.json)
# must be valid PromQL and find data.  Skips (77) only when the
# prometheus binary is missing.
#
# Ports are chosen at run time: the exporter takes a free one itself
# (--listen 127.0.0.1:0); for Prometheus a throw-away exporter finds a
# free port, which is retried if Prometheus then cannot bind it.
. "${top_srcdir:-..}/tests/exporter-lib.sh"

PROMETHEUS=${PROMETHEUS:-$(command -v prometheus || true)}
if [ -z "$PROMETHEUS" ]; then
    echo "SKIP: prometheus not installed (apt-get install prometheus, or ./dev.sh test)" >&2
    exit 77
fi

start_target 'prom demo' --park 30 --busy
tgt=$TGT_PID
# names Prometheus would refuse if they were not escaped, or not UTF-8:
# up == 1 below shows it accepts every page
start_target $'odd "\\ \xff\nname' --park 1
start_exporter
poll "target $tgt exported" 30 has go_goroutines pid="$tgt"

# a free port: ask the kernel through a short-lived exporter
free_port() {
    local f=$tmp/free.err
    "$EXPORTER" --listen 127.0.0.1:0 2>"$f" &
    local p=$!
    poll "a free port" 20 grep -q 'listening on' "$f"
    kill "$p"
    wait "$p" 2>/dev/null
    sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/metrics$|\1|p' "$f"
}

cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 200ms
  scrape_timeout: 150ms
scrape_configs:
  - job_name: grt
    static_configs:
      - targets: ['$EXP_ADDR']
EOF

prom_up() {
    "$CHECK" get "127.0.0.1:$pport" /-/ready 2 >/dev/null 2>&1
}
prom_alive() {
    kill -0 "$PROM_PID" 2>/dev/null
}
for attempt in 1 2 3; do
    pport=$(free_port)
    [ -n "$pport" ] || fail "no free port"
    "$PROMETHEUS" --config.file="$tmp/prometheus.yml" \
        --storage.tsdb.path="$tmp/data" \
        --web.listen-address="127.0.0.1:$pport" \
        --log.level=warn >"$tmp/prometheus.log" 2>&1 &
    PROM_PID=$!
    started+=("$PROM_PID")
    end=$((SECONDS + 30))
    until prom_up || ! prom_alive || [ "$SECONDS" -ge "$end" ]; do
        sleep 0.1
    done
    prom_up && break
    kill "$PROM_PID" 2>/dev/null
    wait "$PROM_PID" 2>/dev/null
    grep -q 'address already in use' "$tmp/prometheus.log" || {
        cat "$tmp/prometheus.log" >&2
        fail "prometheus did not start"
    }
done
prom_up || fail "prometheus could not get a free port in 3 attempts"
ok "prometheus $("$PROMETHEUS" --version 2>&1 | sed -n '1s/.*version \([^ ]*\).*/\1/p') ready on 127.0.0.1:$pport"

urlencode() {
    local s=$1 i c h out=
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        case $c in
        [a-zA-Z0-9._~-]) out+=$c ;;
        *)
            printf -v h '%%%02X' "'$c"
            out+=$h
            ;;
        esac
    done
    printf '%s' "$out"
}
# query EXPR: Prometheus' instant query API
query() {
    "$CHECK" get "127.0.0.1:$pport" "/api/v1/query?query=$(urlencode "$1")" \
        5 >"$tmp/answer" 2>/dev/null
}
# answered EXPR: the query returns a series of the target's pid
answered() {
    query "$1" && grep -q '"status":"success"' "$tmp/answer" &&
        grep -q "\"pid\":\"$tgt\"" "$tmp/answer"
}

poll "Prometheus to have go_goroutines of $tgt" 45 \
    answered "go_goroutines{pid=\"$tgt\"}"
grep -q '"__name__":"go_goroutines"' "$tmp/answer" ||
    fail "unexpected answer: $(cat "$tmp/answer")"
grep -q '"name":"prom demo"' "$tmp/answer" ||
    fail "no name label: $(cat "$tmp/answer")"
# 30 parked + 2 busy + main
grep -q '"value":\[[0-9.]*,"33"\]' "$tmp/answer" ||
    fail "go_goroutines is not 33: $(cat "$tmp/answer")"
ok "go_goroutines{pid=\"$tgt\"} = 33 through Prometheus"

poll "Prometheus to have grt_context_switches_total of $tgt" 45 \
    answered "grt_context_switches_total{pid=\"$tgt\"}"
ok "grt_context_switches_total{pid=\"$tgt\"} through Prometheus"

poll "the target's up to be 1" 45 sh -c \
    "\"$CHECK\" get 127.0.0.1:$pport '/api/v1/query?query=up' 5 |
     grep -q '\"value\":\[[0-9.]*,\"1\"\]'"
ok "Prometheus scrapes the exporter without errors (up == 1)"

# the Grafana dashboard: valid JSON, and every panel's query valid PromQL
# that finds data (its variables set to this target)
dash=$top_srcdir/docs/grafana-grt.json
"$CHECK" json "$dash" || fail "$dash is not valid JSON"
"$CHECK" json "$dash" expr >"$tmp/exprs"
[ "$(wc -l <"$tmp/exprs")" -ge 20 ] || fail "too few queries in $dash"
has_data() {
    query "$1" && grep -q '"status":"success"' "$tmp/answer" &&
        grep -q '"result":\[{' "$tmp/answer"
}
nq=0
while IFS= read -r e; do
    q=${e//\$__rate_interval/5s}
    q=${q//\$job/grt}
    q=${q//\$instance/.*}
    q=${q//\$name/prom demo}
    q=${q//\$pid/$tgt}
    poll "data for the dashboard's query: $q" 45 has_data "$q"
    nq=$((nq + 1))
done <"$tmp/exprs"
ok "dashboard: valid JSON; its $nq queries all answer with data"
finish
