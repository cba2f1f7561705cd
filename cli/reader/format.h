/*
 * format.h - the one writer of goroutine dumps, in Go's traceback
 * grammar.  Compiled into libgrt (panics, fatal errors, grt_dump,
 * grt_stack, leak reports) and into the reader library (gdump, gtop), so
 * that every dump a user sees has one shape:
 *
 *     goroutine 7 [chan receive, 2 minutes]:
 *     main.worker(...)
 *     \t/src/app/main.c:41 +0x2a
 *     created by main.main in goroutine 1
 *     \t/src/app/main.c:88 +0x51
 *     <blank line>
 *
 * It formats a plain model (struct grt__fmt_g) that each side fills from
 * what it has: the runtime from struct g and its own unwinder, the
 * reader from a snapshot and a symbolised dump.  It knows nothing of
 * either, allocates nothing, takes no lock and calls only the sink, so
 * the runtime may use it on its fatal paths (a fd sink with write(2) is
 * async-signal-safe).
 */
#ifndef GRT_FORMAT_H
#define GRT_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where the text goes: called with pieces of it, in order. */
struct grt__fmt_sink {
    void (*write)(void *ctx, const char *s, size_t n);
    void *ctx;
};

/* One frame, innermost first.  Strings may be NULL when unknown. */
struct grt__fmt_frame {
    uint64_t pc;
    const char *func;   /* symbol; NULL: "?" */
    uint64_t offset;    /* pc - start of func: Go's "+0x.." */
    const char *file;   /* source file; NULL: module (or "?") and line 0 */
    int line;
    const char *module; /* object file, printed when file is NULL */
};

/* One goroutine.  state is Go's word: "running", "runnable", "syscall",
 * or the wait reason ("chan receive", "select", "sync.Mutex.Lock", ...). */
struct grt__fmt_g {
    int64_t goid;
    const char *state;
    int64_t wait_ns;          /* time waiting so far; < 0 unknown */
    bool locked;              /* ", locked to thread" */
    const struct grt__fmt_frame *frames;
    size_t nframes;
    const char *no_frames;    /* when nframes is 0: why, printed as
                                 "\t(no frames: <why>)"; NULL: nothing */
    /* "created by" line; omitted when created_fn is NULL (goroutine 1) */
    const char *created_fn;
    int64_t created_goid;
    const char *created_file; /* NULL: "?" */
    int created_line;
    uint64_t created_off;     /* 0: no " +0x.." */
    /* grt's extras, printed only with GRT__FMT_EXTRAS, inside the header's
     * brackets after Go's own items (Go parsers split that list on ", "
     * and skip items they do not know):
     *   [chan receive, 2 minutes, wait 2m3.5s, on chan jobs 0x7f..,
     *    name "worker", stack 8KiB/16MiB, m 3, p 1] */
    const char *name;         /* grt_go_named label; NULL */
    const char *wait_obj_kind; /* "chan", "mutex", ...; NULL */
    uint64_t wait_obj;        /* its address; 0 */
    const char *wait_obj_name; /* channel name; NULL */
    uint64_t stack_committed, stack_reserved; /* 0: not printed */
    int32_t m_id, p_id;       /* -1: not printed */
};

/* Flags of grt__fmt_goroutine. */
#define GRT__FMT_EXTRAS 0x1u   /* grt's extras in the header (above) */
#define GRT__FMT_NO_BLANK 0x2u /* no blank line after the goroutine */
#define GRT__FMT_NO_HEADER 0x4u /* no "goroutine N [...]:" line (a caller
                                  prints its own: gdump --group) */

/* Write one goroutine.  Go's ", N minutes" appears from 1 minute on. */
void grt__fmt_goroutine(const struct grt__fmt_sink *out,
                        const struct grt__fmt_g *g, unsigned flags);

/* Human duration as Go's time.Duration.String prints it ("1m2.5s",
 * "350ms", "12us"), at most 3 significant decimals; returns buf. */
char *grt__fmt_duration(char *buf, size_t len, int64_t ns);

/* Sinks: a fixed buffer (grt_stack: truncates silently, as Go does; used
 * counts what fitted) and a file descriptor (ctx points to the int fd;
 * write(2) retried on EINTR and short writes; async-signal-safe). */
struct grt__fmt_buf {
    char *buf;
    size_t len, used;
};
void grt__fmt_buf_write(void *ctx, const char *s, size_t n);
void grt__fmt_fd_write(void *ctx, const char *s, size_t n);

#endif /* GRT_FORMAT_H */
