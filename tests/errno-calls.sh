#!/bin/sh
# errno-calls.sh - the runtime reads errno only through its accessors.
#
# A runtime call that parks (grt_connect, grt_read, a lock...) may resume
# on another thread, and glibc declares __errno_location const, so a
# function that used libc's errno macro could keep the first thread's
# &errno across the park: grt_connect did, and failed with a stale
# errno when the echo test ran on 8 Ps (rt.h's errno, docs/errno.md).
# This test disassembles libgrt and fails if any function other than
# the accessors calls __errno_location itself.  Allowed besides them:
# grt__fmt_fd_write (traceback's writer, in a file without rt.h; it
# never parks).
#
# Run from the top build directory (make check sets top_builddir).
# Exit 77 (skip) without a shared library or without objdump.
builddir=${top_builddir:-.}
lib=$builddir/.libs/libgrt.so
if [ ! -f "$lib" ]; then
    echo "errno-calls: $lib not built (static-only build?); skipping"
    exit 77
fi
if ! command -v objdump > /dev/null 2>&1; then
    echo "errno-calls: no objdump; skipping"
    exit 77
fi
callers=$(objdump -d --no-show-raw-insn "$lib" | awk '
    /^[0-9a-f]+ <.*>:$/ { f = $2; sub(/^</, "", f); sub(/>:$/, "", f) }
    /(call|jmp) +[0-9a-f]+ <__errno_location@plt>/ { print f }' |
    sort -u) || exit 99
if [ -z "$callers" ]; then
    echo "errno-calls: no call of __errno_location found in $lib"
    exit 1
fi
bad=$(printf '%s\n' "$callers" |
    grep -v -x -E 'grt_errno_location|grt__errno|grt__fmt_fd_write')
if [ -n "$bad" ]; then
    echo "errno-calls: these functions read errno through libc's cached"
    echo "address instead of rt.h's errno (grt__errno):"
    printf '%s\n' "$bad"
    exit 1
fi
echo "errno-calls: only the accessors call __errno_location:" $callers
