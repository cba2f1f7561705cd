# go-traceback.awk - a parser of Go's goroutine traceback grammar, to
# check that grt's dumps (cli/reader/format.c: gdump, grt_dump, panics)
# read as Go's do.  It accepts the Go runtime's own dumps
# (tests/fixtures/go-dumps: runtime.Stack, panics, SIGQUIT, deadlock,
# Go 1.19 and hand-written 1.21+ forms) and rejects anything else.
#
#   awk -f go-traceback.awk FILE...    prints "FILE: N goroutines" per
#                                      file; exit 1 at the first error,
#                                      printed as "FILE:LINE: why: text"
#
# The grammar (one goroutine; goroutines separated by blank lines):
#   header    goroutine ID [STATE(, N minutes)?(, locked to thread)?(, X)*]:
#             (Go 1.23's " gp=0x.. m=.. mp=0x.." after ID is accepted);
#             STATE is one of Go's wait reasons or statuses (below); X are
#             further items, which Go parsers skip (grt's extras);
#   frames    FUNC(ARGS)  then  \tFILE:LINE( +0xOFF)?( fp=0x.. sp=0x.. pc=0x..)?
#             or "...additional frames elided..."; with no frame, one
#             note line "\tTEXT" may follow the header (Go's "goroutine
#             running on other thread; stack unavailable");
#   creator   created by FUNC( in goroutine N)?  then a FILE:LINE line.
# Before the first goroutine: "panic: ", "fatal error: ", "SIGQUIT: ",
# "PC=0x.." and "[signal ..." lines and blank lines.  After the last, the
# runtime detail of a crash that is not goroutine grammar: a register
# dump ("rax    0x0").
#
# grt's own form for a frame whose function is unknown, "\tMODULE:0
# pc=0xPC", is accepted as the one extension (Go prints pc= only after
# fp= and sp=).

BEGIN {
    split("idle runnable running syscall waiting dead copystack preempted " \
          "enqueue", a, " ")
    for (i in a)
        known[a[i]] = 1
    n = split("GC assist marking|IO wait|chan receive (nil chan)|" \
              "chan send (nil chan)|dumping heap|garbage collection|" \
              "garbage collection scan|panicwait|select|select (no cases)|" \
              "GC assist wait|GC sweep wait|GC scavenge wait|chan receive|" \
              "chan send|finalizer wait|force gc (idle)|semacquire|sleep|" \
              "sync.Cond.Wait|sync.Mutex.Lock|sync.RWMutex.RLock|" \
              "sync.RWMutex.Lock|sync.WaitGroup.Wait|" \
              "timer goroutine (idle)|trace reader (blocking)|" \
              "wait for GC cycle|GC worker (idle)|GC worker (active)|" \
              "debug call|GC mark termination|stopping the world|" \
              "flushing proc caches|trace goroutine status|" \
              "trace proc status|page trace flush|coroutine|" \
              "GC weak to strong wait|synctest|chan receive (synctest)|" \
              "chan send (synctest)|select (synctest)|" \
              "sync.WaitGroup.Wait (synctest)|cleanup wait", b, "|")
    for (i = 1; i <= n; i++)
        known[b[i]] = 1
    bad = 0
}

function fail(why) {
    printf "%s:%d: %s: %s\n", FILENAME, FNR, why, $0 > "/dev/stderr"
    bad = 1
    exit 1
}

function header_ok(line,    inner, items, k, i, s) {
    if (line !~ /^goroutine [0-9]+( gp=0x[0-9a-f]+ m=[0-9a-z]+( mp=0x[0-9a-f]+)?)? \[[^]]*\]:$/)
        return 0
    inner = line
    sub(/^[^[]*\[/, "", inner)
    sub(/\]:$/, "", inner)
    k = split(inner, items, ", ")
    if (!(items[1] in known))
        return 0
    i = 2
    if (i <= k && items[i] ~ /^[0-9]+ minutes$/)
        i++
    if (i <= k && items[i] == "locked to thread")
        i++
    for (; i <= k; i++) {
        s = items[i]
        # further items: Go parsers skip them; they must not fake ours
        if (s == "" || s ~ /^[0-9]+ minutes$/ || s == "locked to thread")
            return 0
    }
    return 1
}

function file_ok(line) {
    return line ~ /^\t[^ \t].*:[0-9]+( \+0x[0-9a-f]+)?( fp=0x[0-9a-f]+ sp=0x[0-9a-f]+ pc=0x[0-9a-f]+)?$/ ||
           line ~ /^\t[^ \t].*:0 pc=0x[0-9a-f]+$/
}

function func_ok(line) {
    return line ~ /^[^ \t][^ \t]*\(.*\)$/
}

FNR == 1 {
    if (NR > 1)
        finish()
    st = "pre"
    ng = 0
    prevfile = FILENAME
}

# states: pre (before the first goroutine), hdr (just after a header),
# file (a FILE:LINE line must come), frames (after a frame), cfile (the
# creator's FILE:LINE), done (after the creator), gap (after a blank
# line), trailer (register dump)
{
    line = $0
    if (st == "file" || st == "cfile") {
        if (!file_ok(line))
            fail("expected \\tFILE:LINE( +0xOFF)")
        st = st == "file" ? "frames" : "done"
        next
    }
    if (line ~ /^goroutine /) {
        if (st != "pre" && st != "gap")
            fail("goroutine header without a blank line before it")
        if (!header_ok(line))
            fail("bad goroutine header")
        ng++
        st = "hdr"
        next
    }
    if (line == "") {
        if (st == "hdr")
            fail("goroutine with no frame, note or creator")
        if (st != "pre" && st != "trailer")
            st = "gap"
        next
    }
    if (st == "pre") {
        if (line ~ /^(panic: |fatal error: |[A-Z]+: |PC=0x|\[signal |\[recovered\])/ ||
            line ~ /^\t/)
            next
        fail("unexpected line before the first goroutine")
    }
    if (st == "gap" || st == "trailer") {
        if (line ~ /^[a-z0-9]+ +0x[0-9a-f]+$/) {
            st = "trailer"
            next
        }
        fail("expected a goroutine header after a blank line")
    }
    if (st == "done")
        fail("text after the creator line")
    if (line ~ /^created by [^ ]+( in goroutine [0-9]+)?$/) {
        st = "cfile"
        next
    }
    if (line == "...additional frames elided...") {
        if (st != "frames")
            fail("elision mark before any frame")
        next
    }
    if (st == "hdr" && line ~ /^\t/ && !file_ok(line)) {
        st = "done_note"
        next
    }
    if (st == "done_note")
        fail("text after the no-frames note")
    if (func_ok(line)) {
        st = "file"
        next
    }
    fail("expected FUNC(ARGS), created by, or a blank line")
}

function finish() {
    if (st == "file" || st == "cfile")
        fail("file ends inside a frame")
    if (st == "hdr")
        fail("file ends after a header")
    if (ng == 0)
        fail("no goroutine")
    printf "%s: %d goroutines\n", prevfile, ng
}

END {
    if (bad)
        exit 1
    if (NR == 0) {
        print "go-traceback.awk: no input" > "/dev/stderr"
        exit 1
    }
    finish()
}
