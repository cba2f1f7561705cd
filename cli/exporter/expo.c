/*
 * expo.c - Prometheus' text exposition format (version 0.0.4), written
 * into a growable buffer.
 *
 * The grammar we keep (prometheus/docs, "Exposition formats"): one
 * "# HELP" and one "# TYPE" line per family, before its samples; every
 * sample of a family follows them without another family in between;
 * label values escape backslash, double quote and line feed (\\ \" \n);
 * HELP text escapes backslash and line feed only.  Values are Go-style
 * floats: integers up to 2^53 are printed exactly, others with the
 * fewest significant digits that read back the same value, and the
 * special values as +Inf, -Inf, NaN.
 *
 * The buffer remembers an allocation failure instead of reporting each
 * one: the caller checks b->oom once when the page is complete.
 */
#include "config.h"

#include "exporter.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool reserve(struct buf *b, size_t more)
{
    if (b->oom)
        return false;
    if (b->len + more <= b->cap)
        return true;
    size_t nc = b->cap ? b->cap : 4096;
    while (nc < b->len + more) {
        if (nc > SIZE_MAX / 2) {
            b->oom = true;
            return false;
        }
        nc *= 2;
    }
    char *np = realloc(b->p, nc);
    if (!np) {
        b->oom = true;
        return false;
    }
    b->p = np;
    b->cap = nc;
    return true;
}

void buf_put(struct buf *b, const void *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

void buf_puts(struct buf *b, const char *s)
{
    buf_put(b, s, strlen(s));
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        buf_put(b, tmp, (size_t)n);
        return;
    }
    if (!reserve(b, (size_t)n + 1))
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void buf_consume(struct buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
}

void buf_free(struct buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* Escape s: backslash and line feed always, the double quote if quote. */
static void put_escaped(struct buf *b, const char *s, bool quote)
{
    const char *run = s;
    for (; *s; s++) {
        const char *rep = NULL;
        if (*s == '\\')
            rep = "\\\\";
        else if (*s == '\n')
            rep = "\\n";
        else if (*s == '"' && quote)
            rep = "\\\"";
        if (!rep)
            continue;
        buf_put(b, run, (size_t)(s - run));
        buf_puts(b, rep);
        run = s + 1;
    }
    buf_put(b, run, (size_t)(s - run));
}

void expo_family(struct buf *b, const char *name, const char *type,
                 const char *help)
{
    buf_printf(b, "# HELP %s ", name);
    put_escaped(b, help, false);
    buf_printf(b, "\n# TYPE %s %s\n", name, type);
}

void expo_label_value(struct buf *b, const char *v)
{
    put_escaped(b, v, true);
}

void expo_value(struct buf *b, double v)
{
    if (isnan(v))
        buf_puts(b, "NaN");
    else if (isinf(v))
        buf_puts(b, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) <= 9007199254740992.0)
        buf_printf(b, "%.0f", v);
    else {
        /* the shortest text that reads back as v, as Go's strconv 'g', -1 */
        char tmp[40];
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(tmp, sizeof tmp, "%.*g", prec, v);
            if (strtod(tmp, NULL) == v)
                break;
        }
        buf_puts(b, tmp);
    }
}
