#!/bin/sh
# abi-symbols.sh - the library's ABI surface, checked by `make check`.
#
# 1. libgrt exports only grt_* (STYLE.md): the library is built with
#    -fvisibility=hidden and GRT_API marks the exports, so any other
#    dynamic symbol (an internal grt__ function, a helper that lost its
#    `static`) is a leak into users' namespace and fails the test.
#    The linker's own markers (_init, _edata...) are allowed.
# 2. The libtool version in runtime/local.mk (-version-info C:R:A) matches
#    GRT_ABI_CURRENT/REVISION/AGE in include/grt.h: libtool names the
#    file libgrt.so.(C-A).A.R, so that file must exist.
#
# Run from the top build directory (make check sets top_builddir and
# top_srcdir).  Exit 77 (skip) when no shared library was built.
builddir=${top_builddir:-.}
srcdir=${top_srcdir:-.}
lib=$builddir/.libs/libgrt.so
if [ ! -f "$lib" ]; then
    echo "abi-symbols: $lib not built (static-only build?); skipping"
    exit 77
fi

syms=$(nm -D --defined-only "$lib" | awk '{ print $NF }') || exit 99
bad=$(printf '%s\n' "$syms" | grep -v -E '^grt_[a-z0-9]' |
    grep -v -E '^(_init|_fini|_edata|_end|__bss_start|_DYNAMIC|_GLOBAL_OFFSET_TABLE_)$')
if [ -n "$bad" ]; then
    echo "abi-symbols: symbols outside grt_* exported by $lib:"
    printf '%s\n' "$bad"
    exit 1
fi
echo "abi-symbols: $(printf '%s\n' "$syms" | grep -c '^grt_') grt_* symbols, nothing else"

abi() { sed -n "s/^#define GRT_ABI_$1 *\([0-9][0-9]*\).*/\1/p" \
    "$srcdir/include/grt.h"; }
c=$(abi CURRENT) r=$(abi REVISION) a=$(abi AGE)
if [ -z "$c" ] || [ -z "$r" ] || [ -z "$a" ]; then
    echo "abi-symbols: GRT_ABI_CURRENT/REVISION/AGE not found in grt.h"
    exit 1
fi
want=$lib.$((c - a)).$a.$r
if [ ! -f "$want" ]; then
    echo "abi-symbols: grt.h says ABI $c:$r:$a, so $want should exist;"
    echo "abi-symbols: built: $(cd "$builddir/.libs" && ls libgrt.so.*.*.* 2>/dev/null)"
    echo "abi-symbols: keep -version-info in runtime/local.mk in step with grt.h"
    exit 1
fi
echo "abi-symbols: ABI $c:$r:$a matches $(basename "$want")"
