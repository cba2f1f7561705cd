#!/usr/bin/env bash
# dev.sh - the commands a new user runs (README.md), also used by CI.
#
#   ./dev.sh demo         install what is missing, build, open gtop on a
#                         running demo (batch output without a terminal)
#   ./dev.sh test         install what is missing, build, run the test suite
#   ./dev.sh sanitizers   the suite under ASan+UBSan (build-asan/) and TSan
#                         (build-tsan/; gcc, or clang if gcc's TSan fails)
#   ./dev.sh distcheck    make distcheck (in build/)
#   ./dev.sh build        install what is missing and build only
#
# Installing needs root (apt-get, Debian's archive only); as another user
# dev.sh names the missing packages and stops.  Builds are out of tree:
# build/ and the sanitizer directories.  Every step is skipped when its
# output is up to date (packages installed, configure newer than its
# inputs, a build directory configured with the same arguments), so a
# second run costs only make's own checks.
set -euo pipefail
cd "$(dirname "$0")"
top=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)

# The build's dependencies (Debian 12 names).  libc6-dev is named because
# it is only a Recommends of gcc, and apt runs with --no-install-recommends.
pkgs=(autoconf automake libtool pkg-config make gcc libc6-dev libncurses-dev
      libunwind-dev check libdw-dev)
# For tests only: dot checks gdump --graph, python3 its --json (each check
# skips with a message when its tool is missing).
pkgs+=(graphviz python3)

# What the tests need beyond the build: tmux drives gtop's screen in
# tests/gtop-tmux.sh (skipped without it); a real Prometheus for
# grt-exporter's end-to-end test (tests/exporter-prometheus.sh).
test_pkgs=(tmux prometheus)

say() { printf 'dev.sh: %s\n' "$*" >&2; }

installed() { # package
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

install_missing() { # packages...
    local missing=() p
    for p in "$@"; do
        installed "$p" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        say "missing packages: ${missing[*]}"
        say "install them as root:" \
            "apt-get install -y --no-install-recommends ${missing[*]}"
        exit 1
    fi
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# configure is generated (never committed): run autoreconf when it is
# missing or older than any of its inputs.
bootstrap() {
    local stale=
    if [ ! -x configure ]; then
        stale=yes
    else
        stale=$(find . \( -path './build*' -o -path ./.git \) -prune -o \
            \( -name configure.ac -o -name Makefile.am -o -name '*.mk' \) \
            -newer configure -print -quit)
    fi
    if [ -n "$stale" ]; then
        say "autoreconf"
        ./autogen.sh >/dev/null 2>"$top/autogen.log" || {
            cat "$top/autogen.log" >&2
            say "autogen.sh failed"
            exit 1
        }
        rm -f "$top/autogen.log"
    fi
}

# Configure an out-of-tree build directory unless it is already configured,
# with these same arguments (config.status --config), by the current
# configure.  A change of arguments (another compiler, say) cleans the
# directory first, so no object built the old way survives.
configure_in() { # dir, configure arguments...
    local dir=$1 old=
    shift
    mkdir -p "$dir"
    if [ -f "$dir/Makefile" ] && [ -x "$dir/config.status" ]; then
        old=$(cd "$dir" && ./config.status --config)
        if [ "$old" = "$*" ] && [ "$dir/Makefile" -nt configure ]; then
            return 0
        fi
        if [ "$old" != "$*" ]; then
            say "cleaning $dir (was configured with: $old)"
            make -C "$dir" -s clean >/dev/null 2>&1 || true
        fi
    fi
    say "configuring $dir${*:+ ($*)}"
    (cd "$dir" && "$top/configure" -q "$@") >&2
}

build_in() { # dir
    make -C "$1" -s -j"$jobs" >&2
}

build() {
    install_missing "${pkgs[@]}"
    bootstrap
    configure_in build
    build_in build
}

# make check; on failure print the test log, which holds each failed
# test's output, and fail.
check_in() { # dir, make arguments...
    local dir=$1
    shift
    if ! make -C "$dir" -s -j"$jobs" check "$@"; then
        [ -f "$dir/test-suite.log" ] && cat "$dir/test-suite.log" >&2
        say "tests FAILED in $dir (log: $dir/test-suite.log)"
        return 1
    fi
}

# Does gcc's ThreadSanitizer work for grt?  Under TSan every goroutine is
# a fiber, and TSan counts fibers as threads: the runtime that gcc 12
# ships (the old TSan) dies past 8128 of them, while the tests park
# thousands of goroutines at once; clang 14's newer TSan has no such
# limit.  So: gcc if it survives 10000 live fibers, else clang.
gcc_tsan_works() {
    local d rc=0
    d=$(mktemp -d)
    cat >"$d/t.c" <<'EOF'
#include <pthread.h>
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
void __tsan_destroy_fiber(void *fiber);
enum { N = 10000 };
static void *fibers[N];
static void *run(void *arg)
{
    void *self = __tsan_get_current_fiber();
    for (int i = 0; i < N; i++) {
        fibers[i] = __tsan_create_fiber(0);
        __tsan_switch_to_fiber(fibers[i], 0);
        __tsan_switch_to_fiber(self, 0);
    }
    for (int i = 0; i < N; i++)
        __tsan_destroy_fiber(fibers[i]);
    return arg;
}
int main(void)
{
    pthread_t t;
    if (pthread_create(&t, 0, run, 0))
        return 1;
    return pthread_join(t, 0);
}
EOF
    gcc -fsanitize=thread -pthread -o "$d/t" "$d/t.c" >/dev/null 2>&1 &&
        "$d/t" >/dev/null 2>&1 || rc=1
    rm -rf "$d"
    return $rc
}

case "${1:-}" in
demo)
    build
    # A lively demo with a leak (leak_detection --forever: 10 leaked
    # goroutines, a producer and a consumer) watched by gtop: the screen
    # on a terminal (q quits), one batch-mode report otherwise.
    if [ ! -x build/cli/gtop/gtop ]; then
        say "built, but without gtop (configure found no ncursesw)"
        exit 1
    fi
    log=$(mktemp "${TMPDIR:-/tmp}/grt-demo.XXXXXX")
    build/demos/leak_detection --forever >"$log" 2>&1 &
    demo_pid=$!
    trap 'kill $demo_pid 2>/dev/null; rm -f "$log"' EXIT
    for _ in $(seq 100); do
        grep -q 'working with' "$log" && break
        kill -0 $demo_pid 2>/dev/null || break
        sleep 0.1
    done
    if ! grep -q 'working with' "$log"; then
        cat "$log" >&2
        say "the demo did not start"
        exit 1
    fi
    cat "$log" >&2
    if [ -t 0 ] && [ -t 1 ]; then
        say "gtop on the leak_detection demo (pid $demo_pid); q quits"
        build/cli/gtop/gtop -p $demo_pid -L 1
    else
        sleep 1.5 # a second of samples for the rates and leak threshold
        say "no terminal: gtop's batch mode on the leak_detection demo"
        build/cli/gtop/gtop -b -n 1 -p $demo_pid -L 1 -v goroutines,leaks
    fi
    ;;
test)
    install_missing "${pkgs[@]}" "${test_pkgs[@]}"
    build
    check_in build
    say "all tests passed"
    ;;
build)
    build
    ;;
distcheck)
    build
    say "make distcheck (log: build/distcheck.log)"
    if ! make -C build -s -j"$jobs" distcheck >build/distcheck.log 2>&1; then
        tail -n 60 build/distcheck.log >&2
        say "distcheck FAILED (full log: build/distcheck.log)"
        exit 1
    fi
    grep -A2 'archives ready' build/distcheck.log >&2 || true
    say "distcheck passed"
    ;;
sanitizers)
    install_missing "${pkgs[@]}" "${test_pkgs[@]}"
    bootstrap
    configure_in build-asan --enable-sanitizers=address,undefined
    build_in build-asan
    # LeakSanitizer is off: a test's forked child ends with exit() while
    # Check's own allocations are live, and LSan's report would change the
    # exit status some tests assert.  Goroutine leaks are checked by
    # grt_leak_verify_none at the end of each test instead.
    ASAN_OPTIONS=detect_leaks=0 CK_TIMEOUT_MULTIPLIER=4 check_in build-asan
    if gcc_tsan_works; then
        configure_in build-tsan --enable-sanitizers=thread
    else
        say "gcc's ThreadSanitizer cannot run grt here; using clang"
        # clang's sanitizer runtimes are only a Recommends of clang
        install_missing clang libclang-rt-dev
        configure_in build-tsan --enable-sanitizers=thread CC=clang
    fi
    build_in build-tsan
    # TSan runs the suite several times slower than ASan: a larger margin.
    TSAN_OPTIONS=halt_on_error=1 CK_TIMEOUT_MULTIPLIER=8 check_in build-tsan
    say "sanitizer suites passed"
    ;;
*)
    echo "usage: ./dev.sh demo|test|build|distcheck|sanitizers" >&2
    exit 2
    ;;
esac
