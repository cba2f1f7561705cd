/*
 * format.c - goroutine dumps in Go's traceback grammar (format.h).
 *
 * No stdio, no allocation: numbers are formatted by hand so that the
 * runtime can print from a signal handler through a fd sink.
 */
#include "config.h"

#include "format.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static void put(const struct grt__fmt_sink *o, const char *s)
{
    o->write(o->ctx, s, strlen(s));
}

/* Unsigned n in base 10 or 16 (lower case, no prefix) into buf[32]. */
static const char *utoa(char buf[32], uint64_t n, unsigned base)
{
    char *p = buf + 31;
    *p = 0;
    do {
        *--p = "0123456789abcdef"[n % base];
        n /= base;
    } while (n);
    return p;
}

static void put_u(const struct grt__fmt_sink *o, uint64_t n)
{
    char b[32];
    put(o, utoa(b, n, 10));
}

static void put_i(const struct grt__fmt_sink *o, int64_t n)
{
    if (n < 0) {
        put(o, "-");
        put_u(o, (uint64_t)0 - (uint64_t)n);
    } else {
        put_u(o, (uint64_t)n);
    }
}

static void put_x(const struct grt__fmt_sink *o, uint64_t n)
{
    char b[32];
    put(o, "0x");
    put(o, utoa(b, n, 16));
}

/* Append s to buf at *at (bounded, always NUL-terminated). */
static void cat(char *buf, size_t len, size_t *at, const char *s)
{
    while (*s && *at + 1 < len)
        buf[(*at)++] = *s++;
    if (len)
        buf[*at < len ? *at : len - 1] = 0;
}

/* v (< 1000) with up to 3 decimals of frac/div, trailing zeros cut. */
static void cat_dec(char *buf, size_t len, size_t *at, uint64_t whole,
                    uint64_t frac, uint64_t div)
{
    char b[32];
    cat(buf, len, at, utoa(b, whole, 10));
    /* three decimals, truncated as Go's String does (it prints all
     * digits; three keep lines short and are exact enough for waits) */
    uint64_t milli = div >= 1000 ? frac / (div / 1000) : frac * (1000 / div);
    if (milli == 0)
        return;
    char d[5] = {'.', (char)('0' + milli / 100), (char)('0' + milli / 10 % 10),
                 (char)('0' + milli % 10), 0};
    int end = 3;
    while (end > 1 && d[end] == '0')
        d[end--] = 0;
    cat(buf, len, at, d);
}

char *grt__fmt_duration(char *buf, size_t len, int64_t ns)
{
    size_t at = 0;
    if (len)
        buf[0] = 0;
    uint64_t u = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
    if (ns < 0)
        cat(buf, len, &at, "-");
    char b[32];
    if (u == 0) {
        cat(buf, len, &at, "0s");
    } else if (u < 1000) {
        cat(buf, len, &at, utoa(b, u, 10));
        cat(buf, len, &at, "ns");
    } else if (u < 1000000) {
        cat_dec(buf, len, &at, u / 1000, u % 1000, 1000);
        cat(buf, len, &at, "us");
    } else if (u < 1000000000) {
        cat_dec(buf, len, &at, u / 1000000, u % 1000000, 1000000);
        cat(buf, len, &at, "ms");
    } else {
        uint64_t s = u / 1000000000, frac = u % 1000000000;
        if (s >= 3600) {
            cat(buf, len, &at, utoa(b, s / 3600, 10));
            cat(buf, len, &at, "h");
            s %= 3600;
        }
        if (u >= 60000000000ULL) {
            cat(buf, len, &at, utoa(b, s / 60, 10));
            cat(buf, len, &at, "m");
            s %= 60;
        }
        cat_dec(buf, len, &at, s, frac, 1000000000);
        cat(buf, len, &at, "s");
    }
    return buf;
}

/* "8KiB", "16MiB": binary units, whole numbers (stack sizes are pages). */
static void put_bytes(const struct grt__fmt_sink *o, uint64_t n)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (n >= 1024 && n % 1024 == 0 && u < 4) {
        n /= 1024;
        u++;
    }
    put_u(o, n);
    put(o, unit[u]);
}

static void put_extras(const struct grt__fmt_sink *o,
                       const struct grt__fmt_g *g)
{
    char d[48];
    if (g->wait_ns >= 0) {
        put(o, ", wait ");
        put(o, grt__fmt_duration(d, sizeof d, g->wait_ns));
    }
    if (g->wait_obj || g->wait_obj_name) {
        put(o, ", on ");
        put(o, g->wait_obj_kind ? g->wait_obj_kind : "object");
        if (g->wait_obj_name && *g->wait_obj_name) {
            put(o, " ");
            put(o, g->wait_obj_name);
        }
        if (g->wait_obj) {
            put(o, " ");
            put_x(o, g->wait_obj);
        }
    }
    if (g->name && *g->name) {
        put(o, ", name \"");
        put(o, g->name);
        put(o, "\"");
    }
    if (g->stack_committed || g->stack_reserved) {
        put(o, ", stack ");
        put_bytes(o, g->stack_committed);
        put(o, "/");
        put_bytes(o, g->stack_reserved);
    }
    if (g->m_id >= 0) {
        put(o, ", m ");
        put_i(o, g->m_id);
    }
    if (g->p_id >= 0) {
        put(o, ", p ");
        put_i(o, g->p_id);
    }
}

static void put_frame(const struct grt__fmt_sink *o,
                      const struct grt__fmt_frame *f)
{
    put(o, f->func && *f->func ? f->func : "?");
    put(o, "(...)\n\t");
    if (f->file && *f->file) {
        put(o, f->file);
        put(o, ":");
        put_i(o, f->line);
    } else {
        /* no line information: the object file, line 0, so that Go's
         * "\tfile:line +0xoff" grammar still holds */
        put(o, f->module && *f->module ? f->module : "?");
        put(o, ":0");
    }
    if (f->func && *f->func) {
        put(o, " +");
        put_x(o, f->offset);
    } else {
        put(o, " pc=");
        put_x(o, f->pc);
    }
    put(o, "\n");
}

void grt__fmt_goroutine(const struct grt__fmt_sink *o,
                        const struct grt__fmt_g *g, unsigned flags)
{
    if (!(flags & GRT__FMT_NO_HEADER)) {
        put(o, "goroutine ");
        put_i(o, g->goid);
        put(o, " [");
        put(o, g->state && *g->state ? g->state : "unknown");
        if (g->wait_ns >= 60000000000LL) {
            put(o, ", ");
            put_i(o, g->wait_ns / 60000000000LL);
            put(o, " minutes");
        }
        if (g->locked)
            put(o, ", locked to thread");
        if (flags & GRT__FMT_EXTRAS)
            put_extras(o, g);
        put(o, "]:\n");
    }
    for (size_t i = 0; i < g->nframes; i++)
        put_frame(o, &g->frames[i]);
    if (!g->nframes && g->no_frames) {
        put(o, "\t(no frames: ");
        put(o, g->no_frames);
        put(o, ")\n");
    }
    if (g->created_fn) {
        put(o, "created by ");
        put(o, g->created_fn);
        put(o, " in goroutine ");
        put_i(o, g->created_goid);
        put(o, "\n\t");
        put(o, g->created_file && *g->created_file ? g->created_file : "?");
        put(o, ":");
        put_i(o, g->created_line);
        if (g->created_off) {
            put(o, " +");
            put_x(o, g->created_off);
        }
        put(o, "\n");
    }
    if (!(flags & GRT__FMT_NO_BLANK))
        put(o, "\n");
}

void grt__fmt_buf_write(void *ctx, const char *s, size_t n)
{
    struct grt__fmt_buf *b = ctx;
    size_t room = b->len - b->used;
    if (n > room)
        n = room;
    memcpy(b->buf + b->used, s, n);
    b->used += n;
}

void grt__fmt_fd_write(void *ctx, const char *s, size_t n)
{
    int fd = *(const int *)ctx;
    int saved = errno;
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        s += w;
        n -= (size_t)w;
    }
    errno = saved;
}
