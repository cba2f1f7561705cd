#!/bin/sh
# gtop-batch.sh - gtop's batch mode (gtop -b) on a fixed segment image
# against golden files, and its answers to bad input.
#
# The image is the "shop" program of tests/gtop_image.c, written by
# tests/gtop_mkimage; `gtop -b --image FILE` reads it instead of a live
# process, and its "now" is the image's heartbeat, so the output depends
# on the file alone.  To accept new output after a deliberate change:
#
#     GTOP_UPDATE_GOLDEN=1 make check TESTS=tests/gtop-batch.sh
#
# (writes $top_srcdir/tests/golden/gtop/*.txt).  Run from the top build
# directory by make check.  Exit status: 0 pass, 1 fail.
set -u
top_srcdir=${top_srcdir:-..}
gtop=./cli/gtop/gtop
golden=$top_srcdir/tests/golden/gtop
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gtop-batch.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
img=$tmp/shop.img
./tests/gtop_mkimage "$img" || exit 1
fail=0

golden() { # name, gtop arguments...
    name=$1
    shift
    "$gtop" -b --image "$img" "$@" >"$tmp/$name.out" 2>&1
    st=$?
    if [ $st -ne 0 ]; then
        echo "FAIL $name: exit status $st"
        cat "$tmp/$name.out"
        fail=1
        return
    fi
    if [ -n "${GTOP_UPDATE_GOLDEN:-}" ]; then
        cp "$tmp/$name.out" "$golden/$name.txt"
        echo "updated $golden/$name.txt"
    elif diff -u "$golden/$name.txt" "$tmp/$name.out"; then
        echo "ok $name"
    else
        echo "FAIL $name: output differs from $golden/$name.txt"
        fail=1
    fi
}

golden all -v all
golden sort-wait -s wait -r
golden sort-state -s STATE
golden filter -f "chan SEND"
golden filter-terms -f "handler g4"
golden tree -t
golden tree-filter -t -f worker
golden groups -v groups
golden groups-by-stack -v groups --stack-groups
golden procs-chans -v procs,chans
golden leaks -v leaks -L 30

# Not a terminal: batch mode without -b, once.
"$gtop" --image "$img" -v procs </dev/null >"$tmp/notty.out" 2>&1
if grep -q '^gomaxprocs=2 idleprocs=1' "$tmp/notty.out"; then
    echo "ok not-a-terminal"
else
    echo "FAIL not-a-terminal: no batch output"
    cat "$tmp/notty.out"
    fail=1
fi

# Bad input: one line on standard error, the documented exit status.
bad() { # name, expected status, stderr pattern, gtop arguments...
    name=$1 want=$2 pat=$3
    shift 3
    "$gtop" "$@" </dev/null >"$tmp/bad.out" 2>"$tmp/bad.err"
    st=$?
    lines=$(wc -l <"$tmp/bad.err")
    if [ $st -ne "$want" ] || [ "$lines" -ne 1 ] ||
        ! grep -q "$pat" "$tmp/bad.err"; then
        echo "FAIL $name: status $st (want $want), $lines lines on stderr:"
        cat "$tmp/bad.err"
        fail=1
    else
        echo "ok $name: $(cat "$tmp/bad.err")"
    fi
}

sleep 0 &
dead=$!
wait $dead
bad unknown-option 2 '^gtop: unknown option --bogus' --bogus
bad bad-pid 2 '^gtop: bad pid' -p 12x
bad bad-delay 2 '^gtop: bad delay' -d -1
bad bad-view 2 '^gtop: no view "nosuch"' -b -v nosuch
bad bad-sort 2 '^gtop: no column "nosuch"' -b -s nosuch
bad extra-arg 2 '^gtop: unexpected argument' -b stray
bad dead-pid 1 "^gtop: pid $dead: " -b -p "$dead"
bad missing-image 1 '^gtop: /nonexistent: ' -b --image /nonexistent
head -c 5000 "$img" >"$tmp/short.img"
bad short-image 1 '^gtop: .*short.img: ' -b --image "$tmp/short.img"
printf 'XXXXXXXX' | dd of="$img" conv=notrunc 2>/dev/null
bad corrupt-image 1 '^gtop: .*shop.img: ' -b --image "$img"

exit $fail
