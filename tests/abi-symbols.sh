#!/bin/sh
# abi-symbols.sh - libgrt exports only grt_* (STYLE.md): fails if
# `nm -D --defined-only` shows any other symbol in the built library.
lib=${top_builddir:-.}/.libs/libgrt.so
if [ ! -f "$lib" ]; then
    echo "abi-symbols: $lib not built (static-only build?); skipping"
    exit 77
fi
bad=$(nm -D --defined-only "$lib" | awk '{ print $NF }' |
    grep -v -E '^grt_[a-z0-9]' |
    grep -v -E '^(_init|_fini|_edata|_end|__bss_start)$')
if [ -n "$bad" ]; then
    echo "abi-symbols: symbols outside grt_* exported by $lib:"
    echo "$bad"
    exit 1
fi
echo "abi-symbols: $(nm -D --defined-only "$lib" | grep -c ' T grt_') grt_* functions, nothing else"
