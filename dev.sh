#!/usr/bin/env bash
# dev.sh - the commands a new user runs (README.md), also used by CI.
#
#   ./dev.sh demo         install what is missing, build, show grt at work
#   ./dev.sh test         install what is missing, build, run the test suite
#   ./dev.sh sanitizers   the suite under ASan+UBSan (build-asan/) and TSan
#                         (build-tsan/, clang)
#   ./dev.sh distcheck    make distcheck
#   ./dev.sh build        install what is missing and build only
#
# Builds out of tree in build/.  Each step is skipped when its output is
# up to date, so a second run costs seconds.
set -euo pipefail
cd "$(dirname "$0")"
top=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)

pkgs=(autoconf automake libtool pkg-config make gcc libncurses-dev
      libunwind-dev check libdw-dev)

say() { printf '%s\n' "dev.sh: $*" >&2; }

install_missing() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        say "missing packages: ${missing[*]}"
        say "install them as root: apt-get install -y ${missing[*]}"
        exit 1
    fi
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

bootstrap() {
    if [ ! -x configure ] || [ configure -ot configure.ac ] ||
        [ -n "$(find . -name '*.mk' -newer configure -not -path './build*' | head -n 1)" ] ||
        [ Makefile.am -nt configure ]; then
        say "autoreconf"
        ./autogen.sh >&2
    fi
}

configure_in() { # dir, configure arguments...
    local dir=$1
    shift
    mkdir -p "$dir"
    if [ ! -f "$dir/Makefile" ] || [ "$dir/Makefile" -ot configure ]; then
        say "configuring $dir $*"
        (cd "$dir" && "$top/configure" -q "$@") >&2
    fi
}

build() {
    install_missing "${pkgs[@]}"
    bootstrap
    configure_in build
    make -C build -s -j"$jobs" >&2
}

check_in() { # dir, make arguments...
    local dir=$1
    shift
    if ! make -C "$dir" -s -j"$jobs" check "$@"; then
        find "$dir" -name 'test-suite.log' -exec cat {} + >&2 || true
        say "tests FAILED in $dir"
        return 1
    fi
}

case "${1:-}" in
demo)
    build
    say "grt at work: goroutines demo, then the M:N model"
    build/demos/goroutines --quick
    build/demos/mn_model --quick
    ;;
test)
    build
    check_in build
    say "all tests passed"
    ;;
build)
    build
    ;;
distcheck)
    build
    make -C build -s -j"$jobs" distcheck >&2
    ;;
sanitizers)
    install_missing "${pkgs[@]}" clang
    bootstrap
    configure_in build-asan --enable-sanitizers=address,undefined
    make -C build-asan -s -j"$jobs" >&2
    ASAN_OPTIONS=detect_leaks=0 CK_TIMEOUT_MULTIPLIER=4 check_in build-asan
    configure_in build-tsan --enable-sanitizers=thread CC=clang
    make -C build-tsan -s -j"$jobs" >&2
    TSAN_OPTIONS=halt_on_error=1 CK_TIMEOUT_MULTIPLIER=8 check_in build-tsan
    say "sanitizer suites passed"
    ;;
*)
    echo "usage: ./dev.sh demo|test|build|distcheck|sanitizers" >&2
    exit 2
    ;;
esac
