/*
 * expo.c - Prometheus' text exposition format (version 0.0.4), written
 * into a growable buffer.
 *
 * The grammar we keep (prometheus/docs, "Exposition formats"): one
 * "# HELP" and one "# TYPE" line per family, before its samples; every
 * sample of a family follows them without another family in between;
 * label values escape backslash, double quote and line feed (\\ \" \n);
 * HELP text escapes backslash and line feed only; label values must be
 * UTF-8 (a byte that is not becomes U+FFFD).  Values are Go-style
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
    if (n == 0 || !reserve(b, n))
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

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
    if (n == 0 || s[0] > 0xf4)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    uint32_t c = s[0] & (0x7f >> n);
    for (size_t i = 1; i < n; i++)
        c = c << 6 | (s[i] & 0x3f);
    if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
        (c >= 0xd800 && c <= 0xdfff))
        return 0; /* overlong, beyond Unicode, or a surrogate */
    return n;
}

void expo_label_value(struct buf *b, const char *v)
{
    /* Prometheus refuses a whole scrape over one label value that is not
     * UTF-8, and names come from argv[0]: each invalid byte becomes
     * U+FFFD, as Go's strings.ToValidUTF8 would write it. */
    const unsigned char *s = (const unsigned char *)v;
    bool valid = true;
    for (size_t i = 0; s[i];) {
        size_t n = utf8_len(s + i);
        if (!n) {
            valid = false;
            break;
        }
        i += n;
    }
    if (valid) {
        put_escaped(b, v, true);
        return;
    }
    struct buf fixed = {0};
    for (size_t i = 0; s[i];) {
        size_t n = utf8_len(s + i);
        if (n) {
            buf_put(&fixed, s + i, n);
            i += n;
        } else {
            buf_puts(&fixed, "\xef\xbf\xbd");
            i++;
        }
    }
    buf_put(&fixed, "", 1);
    if (fixed.oom)
        b->oom = true;
    else
        put_escaped(b, fixed.p, true);
    buf_free(&fixed);
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
