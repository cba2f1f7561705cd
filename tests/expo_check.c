/*
 * expo_check.c - the test tool of grt-exporter's shell tests: a checker
 * of Prometheus' text exposition format (0.0.4), a query over a checked
 * page, and a minimal HTTP client (the tests need neither curl nor
 * python, which a fresh Debian machine may lack).
 *
 *   expo_check check FILE [--labels L1,L2]
 *       validate FILE; with --labels, every sample of a family not named
 *       grt_exporter_* must carry those labels.  Exit 0 valid, 1 not (one
 *       line per problem on stderr), 2 usage.
 *   expo_check query FILE NAME [LABEL=VALUE...]
 *       print the value of every sample NAME whose labels match (VALUE
 *       unescaped), one per line; exit 1 if none.
 *   expo_check get HOST:PORT PATH [TIMEOUT_S]
 *       GET http://HOST:PORT/PATH; print the body; exit 0 on 200, 1 on
 *       another status or a connection failure (a message on stderr).
 *   expo_check send HOST:PORT [TIMEOUT_S [keep]]
 *       send stdin as is and half-close (unless "keep": then the server
 *       must close by itself), print everything the server answers until
 *       it closes (or the timeout); exit 1 when it cannot connect.
 *   expo_check json FILE [KEY]
 *       exit 0 if FILE is valid JSON (RFC 8259, strictly), 1 if not; with
 *       KEY, print every string member named KEY (the dashboard's PromQL
 *       "expr"s), unescaped, one per line.
 *   expo_check selftest
 *       run the checkers on built-in valid and invalid pages and JSON
 *       texts: every invalid one must be refused, every valid one
 *       accepted.
 *
 * The grammar checked (prometheus/docs "Exposition formats", and what
 * Prometheus' own text parser accepts, stricter where grt-exporter
 * promises more):
 *   - "# HELP name text" and "# TYPE name type" at most once per family,
 *     TYPE before the family's first sample; HELP text escapes only \\
 *     and \n; type one of counter gauge histogram summary untyped;
 *   - metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label names
 *     [a-zA-Z_][a-zA-Z0-9_]* not starting with __, no label twice;
 *   - label values in double quotes with only \\ \" \n escapes, and
 *     valid UTF-8 (Prometheus refuses the whole scrape otherwise);
 *   - a value Go's ParseFloat reads (or +Inf -Inf NaN), an optional
 *     integer timestamp;
 *   - families contiguous: once another family starts, an earlier one
 *     never comes back; every sample has a TYPE (stricter);
 *   - a counter's name ends in _total and its samples carry that name;
 *     a gauge's samples carry its name (stricter than untyped rules);
 *   - no series twice; no blank lines; the page ends with a newline.
 */
#include "config.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- reading a page ---- */

struct label {
    char name[128];
    char *value; /* unescaped */
};

struct sample {
    char name[256];
    struct label *l;
    int nl;
    double value;
    char *key; /* name{sorted labels} for duplicate checks */
};

struct family {
    char name[256];
    char type[16];
    bool help, typed, closed;
};

struct page {
    struct sample *s;
    int ns;
    struct family *f;
    int nf;
    int errors;
};

static void problem(struct page *pg, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(struct page *pg, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "expo_check: line %d: ", line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    pg->errors++;
}

static bool name_ok(const char *s, size_t n, bool label)
{
    if (!n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  c == '_' || (!label && c == ':') ||
                  (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return true;
}

static size_t name_len(const char *s, bool label)
{
    size_t n = 0;
    while (s[n] && name_ok(s, n + 1, label))
        n++;
    return n;
}

/* Go's strconv.ParseFloat as Prometheus uses it, roughly: a decimal or
 * hex float, Inf/NaN spelled as Go spells them. */
static bool value_ok(const char *s, double *v)
{
    if (!strcmp(s, "+Inf") || !strcmp(s, "Inf") || !strcmp(s, "+inf") ||
        !strcmp(s, "inf")) {
        *v = INFINITY;
        return true;
    }
    if (!strcmp(s, "-Inf") || !strcmp(s, "-inf")) {
        *v = -INFINITY;
        return true;
    }
    if (!strcmp(s, "NaN") || !strcmp(s, "nan")) {
        *v = NAN;
        return true;
    }
    if (!*s || strpbrk(s, "iInN"))
        return false;
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return *end == 0 && end != s;
}

static struct family *family_get(struct page *pg, const char *name)
{
    for (int i = 0; i < pg->nf; i++)
        if (!strcmp(pg->f[i].name, name))
            return &pg->f[i];
    return NULL;
}

/* The family a sample named name belongs to. */
static struct family *family_of(struct page *pg, const char *name)
{
    struct family *f = family_get(pg, name);
    if (f)
        return f;
    static const char *const suf[] = {"_bucket", "_sum", "_count"};
    for (int k = 0; k < 3; k++) {
        size_t n = strlen(name), m = strlen(suf[k]);
        if (n > m && !strcmp(name + n - m, suf[k])) {
            char base[256];
            snprintf(base, sizeof base, "%.*s", (int)(n - m), name);
            f = family_get(pg, base);
            if (f &&
                (!strcmp(f->type, "histogram") || !strcmp(f->type, "summary")))
                return f;
        }
    }
    return NULL;
}

static struct family *family_add(struct page *pg, const char *name)
{
    pg->f = realloc(pg->f, (size_t)(pg->nf + 1) * sizeof *pg->f);
    struct family *f = &pg->f[pg->nf++];
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name);
    return f;
}

static int current = -1; /* index of the family being read (pg->f moves) */

/* Make f the current family; a family left earlier must not return. */
static void enter(struct page *pg, int line, struct family *f)
{
    int i = (int)(f - pg->f);
    if (i == current)
        return;
    if (f->closed)
        problem(pg, line, "family %s is not contiguous", f->name);
    if (current >= 0)
        pg->f[current].closed = true;
    current = i;
}

static void parse_comment(struct page *pg, int line, const char *l)
{
    bool help = !strncmp(l, "# HELP ", 7), type = !strncmp(l, "# TYPE ", 7);
    if (!help && !type)
        return; /* other comments are allowed */
    const char *n = l + 7;
    size_t len = name_len(n, false);
    if (!len || (n[len] != ' ' && n[len] != 0)) {
        problem(pg, line, "bad metric name in '%s'", l);
        return;
    }
    char name[256];
    snprintf(name, sizeof name, "%.*s", (int)len, n);
    struct family *f = family_get(pg, name);
    if (!f)
        f = family_add(pg, name);
    enter(pg, line, f);
    const char *rest = n[len] ? n + len + 1 : "";
    if (help) {
        if (f->help)
            problem(pg, line, "second HELP for %s", name);
        f->help = true;
        for (const char *p = rest; *p; p++)
            if (*p == '\\') {
                if (p[1] != '\\' && p[1] != 'n')
                    problem(pg, line, "bad escape \\%c in HELP of %s",
                            p[1] ? p[1] : '0', name);
                else
                    p++;
            }
    } else {
        if (f->typed)
            problem(pg, line, "second TYPE for %s", name);
        f->typed = true;
        static const char *const types[] = {"counter", "gauge", "histogram",
                                            "summary", "untyped"};
        bool ok = false;
        for (int i = 0; i < 5; i++)
            ok |= !strcmp(rest, types[i]);
        if (!ok)
            problem(pg, line, "bad TYPE '%s' for %s", rest, name);
        snprintf(f->type, sizeof f->type, "%s", rest);
        if (!strcmp(rest, "counter") &&
            (strlen(name) < 6 || strcmp(name + strlen(name) - 6, "_total")))
            problem(pg, line, "counter %s does not end in _total", name);
        for (int i = 0; i < pg->ns; i++)
            if (family_of(pg, pg->s[i].name) == f)
                problem(pg, line, "TYPE of %s after its samples", name);
    }
}

static int cmp_label(const void *a, const void *b)
{
    return strcmp(((const struct label *)a)->name,
                  ((const struct label *)b)->name);
}

static void parse_sample(struct page *pg, int line, const char *l,
                         const char *need_labels)
{
    struct sample s;
    memset(&s, 0, sizeof s);
    size_t len = name_len(l, false);
    if (!len || len >= sizeof s.name) {
        problem(pg, line, "bad metric name in '%s'", l);
        return;
    }
    snprintf(s.name, sizeof s.name, "%.*s", (int)len, l);
    const char *p = l + len;
    if (*p == '{') {
        p++;
        while (*p != '}') {
            size_t ln = name_len(p, true);
            if (!ln || p[ln] != '=' || p[ln + 1] != '"') {
                problem(pg, line, "bad label in '%s'", l);
                goto fail;
            }
            struct label lb;
            memset(&lb, 0, sizeof lb);
            snprintf(lb.name, sizeof lb.name, "%.*s", (int)ln, p);
            if (!strncmp(lb.name, "__", 2))
                problem(pg, line, "reserved label name %s", lb.name);
            for (int i = 0; i < s.nl; i++)
                if (!strcmp(s.l[i].name, lb.name))
                    problem(pg, line, "label %s twice", lb.name);
            p += ln + 2;
            lb.value = malloc(strlen(p) + 1);
            size_t vn = 0;
            while (*p && *p != '"') {
                if (*p == '\\') {
                    if (p[1] == '\\' || p[1] == '"')
                        lb.value[vn++] = p[1];
                    else if (p[1] == 'n')
                        lb.value[vn++] = '\n';
                    else {
                        problem(pg, line, "bad escape in label value of %s",
                                lb.name);
                        free(lb.value);
                        goto fail;
                    }
                    p += 2;
                } else {
                    lb.value[vn++] = *p++;
                }
            }
            lb.value[vn] = 0;
            if (mbstowcs(NULL, lb.value, 0) == (size_t)-1)
                problem(pg, line, "label value of %s is not UTF-8", lb.name);
            if (*p != '"') {
                problem(pg, line, "unterminated label value in '%s'", l);
                free(lb.value);
                goto fail;
            }
            p++;
            s.l = realloc(s.l, (size_t)(s.nl + 1) * sizeof *s.l);
            s.l[s.nl++] = lb;
            if (*p == ',')
                p++;
            else if (*p != '}') {
                problem(pg, line, "expected , or } in '%s'", l);
                goto fail;
            }
        }
        p++;
    }
    if (*p != ' ') {
        problem(pg, line, "expected a space before the value in '%s'", l);
        goto fail;
    }
    p++;
    char val[64], ts[64];
    int nf = sscanf(p, "%63s %63s", val, ts);
    if (nf < 1 || !value_ok(val, &s.value)) {
        problem(pg, line, "bad value in '%s'", l);
        goto fail;
    }
    if (nf == 2 && strspn(ts + (ts[0] == '-'), "0123456789") !=
                       strlen(ts + (ts[0] == '-')))
        problem(pg, line, "bad timestamp in '%s'", l);
    struct family *f = family_of(pg, s.name);
    if (!f || !f->typed) {
        problem(pg, line, "sample %s has no TYPE before it", s.name);
        if (!f)
            f = family_add(pg, s.name);
    }
    enter(pg, line, f);
    if ((!strcmp(f->type, "counter") || !strcmp(f->type, "gauge")) &&
        strcmp(s.name, f->name))
        problem(pg, line, "sample %s in %s family %s", s.name, f->type,
                f->name);
    if (need_labels && strncmp(f->name, "grt_exporter_", 13)) {
        char want[256];
        snprintf(want, sizeof want, "%s", need_labels);
        for (char *t = strtok(want, ","); t; t = strtok(NULL, ",")) {
            bool has = false;
            for (int i = 0; i < s.nl; i++)
                has |= !strcmp(s.l[i].name, t);
            if (!has)
                problem(pg, line, "sample %s lacks label %s", s.name, t);
        }
    }
    /* duplicate series */
    if (s.nl > 1)
        qsort(s.l, (size_t)s.nl, sizeof *s.l, cmp_label);
    size_t klen = strlen(s.name) + 3;
    for (int i = 0; i < s.nl; i++)
        klen += strlen(s.l[i].name) + strlen(s.l[i].value) + 3;
    s.key = malloc(klen);
    strcpy(s.key, s.name);
    for (int i = 0; i < s.nl; i++) {
        strcat(s.key, "\x01");
        strcat(s.key, s.l[i].name);
        strcat(s.key, "\x02");
        strcat(s.key, s.l[i].value);
    }
    for (int i = 0; i < pg->ns; i++)
        if (!strcmp(pg->s[i].key, s.key)) {
            problem(pg, line, "series %s twice", s.name);
            break;
        }
    pg->s = realloc(pg->s, (size_t)(pg->ns + 1) * sizeof *pg->s);
    pg->s[pg->ns++] = s;
    return;
fail:
    for (int i = 0; i < s.nl; i++)
        free(s.l[i].value);
    free(s.l);
}

/* Parse and check text (n bytes). */
static void parse(struct page *pg, const char *text, size_t n,
                  const char *need_labels)
{
    memset(pg, 0, sizeof *pg);
    current = -1;
    if (n == 0) {
        problem(pg, 0, "empty page");
        return;
    }
    if (text[n - 1] != '\n')
        problem(pg, 0, "the page does not end with a newline");
    if (memchr(text, 0, n))
        problem(pg, 0, "NUL byte in the page");
    char *copy = malloc(n + 1);
    memcpy(copy, text, n);
    copy[n] = 0;
    int line = 0;
    char *save = NULL;
    char *l = copy;
    while (l && *l) {
        char *nl = strchr(l, '\n');
        if (nl)
            *nl = 0;
        line++;
        if (!*l)
            problem(pg, line, "blank line");
        else if (*l == '#')
            parse_comment(pg, line, l);
        else
            parse_sample(pg, line, l, need_labels);
        l = nl ? nl + 1 : NULL;
    }
    (void)save;
    free(copy);
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        fprintf(stderr, "expo_check: %s: %s\n", path, strerror(errno));
        exit(2);
    }
    size_t cap = 65536, len = 0;
    char *b = malloc(cap);
    size_t r;
    while ((r = fread(b + len, 1, cap - len, f)) > 0) {
        len += r;
        if (len == cap)
            b = realloc(b, cap *= 2);
    }
    if (f != stdin)
        fclose(f);
    *n = len;
    return b;
}

/* ---- JSON (the Grafana dashboard) ---- */

/* A strict RFC 8259 syntax check by recursive descent; with want_key,
 * print the value of every string member of that name (unescaped, one
 * per line).  Depth is bounded. */
struct json {
    const char *p, *end;
    const char *want_key;
    bool bad;
};

static void j_ws(struct json *j)
{
    while (j->p < j->end &&
           (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

/* Parse a string; into out (malloc'd, unescaped, \uXXXX kept as is) if
 * out is not NULL. */
static void j_string(struct json *j, char **out)
{
    if (j->p >= j->end || *j->p != '"') {
        j->bad = true;
        return;
    }
    j->p++;
    char *o = out ? malloc((size_t)(j->end - j->p) + 1) : NULL;
    size_t n = 0;
    while (j->p < j->end && *j->p != '"') {
        unsigned char c = (unsigned char)*j->p;
        if (c < 0x20) {
            j->bad = true;
            break;
        }
        if (c == '\\') {
            if (j->p + 1 >= j->end) {
                j->bad = true;
                break;
            }
            char e = j->p[1];
            const char *map = strchr("\"\\/bfnrtu", e);
            if (!e || !map) {
                j->bad = true;
                break;
            }
            if (e == 'u') {
                for (int k = 2; k < 6; k++)
                    if (j->p + k >= j->end ||
                        !strchr("0123456789abcdefABCDEF", j->p[k]) || !j->p[k])
                        j->bad = true;
                if (o)
                    for (int k = 0; k < 6 && j->p + k < j->end; k++)
                        o[n++] = j->p[k];
                j->p += 6;
                continue;
            }
            if (o)
                o[n++] = e == 'n'   ? '\n'
                         : e == 't' ? '\t'
                         : e == 'r' ? '\r'
                         : e == 'b' ? '\b'
                         : e == 'f' ? '\f'
                                    : e;
            j->p += 2;
            continue;
        }
        if (o)
            o[n++] = (char)c;
        j->p++;
    }
    if (j->p >= j->end)
        j->bad = true;
    else
        j->p++;
    if (o) {
        o[n] = 0;
        *out = o;
    }
}

static void j_value(struct json *j, int depth, const char *key);

static void j_number(struct json *j)
{
    const char *p = j->p;
    if (p < j->end && *p == '-')
        p++;
    if (p < j->end && *p == '0')
        p++;
    else if (p < j->end && *p >= '1' && *p <= '9')
        while (p < j->end && *p >= '0' && *p <= '9')
            p++;
    else
        j->bad = true;
    if (p < j->end && *p == '.') {
        p++;
        if (p >= j->end || *p < '0' || *p > '9')
            j->bad = true;
        while (p < j->end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < j->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < j->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= j->end || *p < '0' || *p > '9')
            j->bad = true;
        while (p < j->end && *p >= '0' && *p <= '9')
            p++;
    }
    j->p = p;
}

static void j_value(struct json *j, int depth, const char *key)
{
    j_ws(j);
    if (depth > 200 || j->p >= j->end) {
        j->bad = true;
        return;
    }
    char c = *j->p;
    if (c == '{' || c == '[') {
        bool obj = c == '{';
        j->p++;
        j_ws(j);
        if (j->p < j->end && *j->p == (obj ? '}' : ']')) {
            j->p++;
            return;
        }
        for (;;) {
            char *k = NULL;
            if (obj) {
                j_ws(j);
                j_string(j, &k);
                j_ws(j);
                if (j->bad || j->p >= j->end || *j->p != ':') {
                    j->bad = true;
                    free(k);
                    return;
                }
                j->p++;
            }
            j_value(j, depth + 1, k);
            free(k);
            if (j->bad)
                return;
            j_ws(j);
            if (j->p < j->end && *j->p == ',') {
                j->p++;
                continue;
            }
            if (j->p < j->end && *j->p == (obj ? '}' : ']')) {
                j->p++;
                return;
            }
            j->bad = true;
            return;
        }
    } else if (c == '"') {
        bool want = key && j->want_key && !strcmp(key, j->want_key);
        char *v = NULL;
        j_string(j, want ? &v : NULL);
        if (v && !j->bad)
            printf("%s\n", v);
        free(v);
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        j_number(j);
    } else {
        static const char *const lit[] = {"true", "false", "null"};
        for (int i = 0; i < 3; i++) {
            size_t n = strlen(lit[i]);
            if ((size_t)(j->end - j->p) >= n && !strncmp(j->p, lit[i], n)) {
                j->p += n;
                return;
            }
        }
        j->bad = true;
    }
}

/* Is text valid JSON?  Prints the want_key members on the way. */
static bool json_ok(const char *text, size_t n, const char *want_key)
{
    struct json j = {text, text + n, want_key, false};
    j_value(&j, 0, NULL);
    j_ws(&j);
    return !j.bad && j.p == j.end;
}

/* ---- the self test ---- */

static int selftest(void)
{
    static const char *const good[] = {
        "# HELP a_total x\n# TYPE a_total counter\na_total 1\n",
        "# HELP g h \\\\ and \\n ok\n# TYPE g gauge\ng{a=\"x\\\"y\\\\z\\n\"} "
        "1.5e+10\ng{a=\"\"} -Inf\n",
        "# TYPE g gauge\ng NaN\n# TYPE h gauge\nh{x=\"1\",y=\"2\"} +Inf 12\n",
    };
    static const char *const bad[] = {
        "",                                      /* empty */
        "# TYPE g gauge\ng 1",                   /* no final newline */
        "g 1\n",                                 /* no TYPE */
        "# TYPE a counter\na 1\n",               /* counter w/o _total */
        "# TYPE g gauge\n# TYPE g gauge\ng 1\n", /* TYPE twice */
        "# HELP g x\n# HELP g y\n# TYPE g gauge\ng 1\n", /* HELP twice */
        "# TYPE g gauge\ng 1\n# TYPE h gauge\nh 1\ng{a=\"b\"} 2\n",
        "# TYPE g gauge\ng{a=\"x\\y\"} 1\n", /* bad escape */
        "# TYPE g gauge\ng{a=\"x\"y\"} 1\n", /* raw quote */
        "# TYPE g gauge\ng{a=\"x} 1\n",      /* unterminated */
        "# HELP g bad \\q escape\n# TYPE g gauge\ng 1\n",
        "# TYPE g gauge\ng{a=\"1\"} 1\ng{a=\"1\"} 2\n", /* duplicate */
        "# TYPE g gauge\ng{a=\"1\",a=\"2\"} 1\n",       /* label twice */
        "# TYPE g gauge\ng{1a=\"1\"} 1\n",              /* label name */
        "# TYPE g gauge\ng{__x=\"1\"} 1\n",             /* reserved */
        "# TYPE 1g gauge\n",                            /* metric name */
        "# TYPE g gauge\ng one\n",                      /* value */
        "# TYPE g gauge\ng 1 12x\n",                    /* timestamp */
        "# TYPE g gauges\ng 1\n",                       /* type */
        "# TYPE g gauge\ng 1\n\n",                      /* blank line */
        "# TYPE g gauge\ng_x 1\n",                      /* not its name */
        "# TYPE g gauge\ng{a=\"1\"}1\n",                /* no space */
        "# TYPE g gauge\ng{a=\"\xff\"} 1\n",            /* not UTF-8 */
        "# TYPE g gauge\ng{a=\"\xed\xa0\x80\"} 1\n",    /* surrogate */
        "g 1\n# TYPE g gauge\n",                        /* TYPE after */
    };
    int fails = 0;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        struct page pg;
        parse(&pg, good[i], strlen(good[i]), NULL);
        if (pg.errors) {
            fprintf(stderr, "selftest: good page %zu refused\n", i);
            fails++;
        }
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct page pg;
        parse(&pg, bad[i], strlen(bad[i]), NULL);
        if (!pg.errors) {
            fprintf(stderr, "selftest: bad page %zu accepted\n", i);
            fails++;
        }
    }
    /* a sample without a required label */
    struct page pg;
    const char *nolab = "# TYPE g gauge\ng{pid=\"1\"} 1\n";
    parse(&pg, nolab, strlen(nolab), "pid,name");
    if (!pg.errors) {
        fprintf(stderr, "selftest: missing label accepted\n");
        fails++;
    }
    static const char *const jgood[] = {"{}",
                                        "[1,-2.5e3,\"a\\n\\u00e9\",true,null]",
                                        " {\"a\": {\"b\": [false]}} "};
    static const char *const jbad[] = {
        "",      "{",     "[1,]",     "{\"a\" 1}", "[01]", "\"a\\x\"",
        "[1] 2", "{a:1}", "[\"\t\"]", "tru",       "[1.]"};
    for (size_t i = 0; i < sizeof jgood / sizeof jgood[0]; i++)
        if (!json_ok(jgood[i], strlen(jgood[i]), NULL)) {
            fprintf(stderr, "selftest: good JSON %zu refused\n", i);
            fails++;
        }
    for (size_t i = 0; i < sizeof jbad / sizeof jbad[0]; i++)
        if (json_ok(jbad[i], strlen(jbad[i]), NULL)) {
            fprintf(stderr, "selftest: bad JSON %zu accepted\n", i);
            fails++;
        }
    fprintf(stderr, "selftest: %s (%zu good, %zu bad pages)\n",
            fails ? "FAILED" : "ok", sizeof good / sizeof good[0],
            sizeof bad / sizeof bad[0] + 1);
    return fails ? 1 : 0;
}

/* ---- HTTP ---- */

static int dial(const char *hostport, int timeout_s)
{
    char host[256];
    const char *colon = strrchr(hostport, ':');
    if (!colon) {
        fprintf(stderr, "expo_check: want HOST:PORT, not %s\n", hostport);
        exit(2);
    }
    snprintf(host, sizeof host, "%.*s", (int)(colon - hostport), hostport);
    if (host[0] == '[') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = 0;
    }
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, colon + 1, &hints, &res) != 0) {
        fprintf(stderr, "expo_check: cannot resolve %s\n", hostport);
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv = {.tv_sec = timeout_s};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
        fprintf(stderr, "expo_check: cannot connect to %s: %s\n", hostport,
                strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* Read until EOF or timeout into a malloc'd buffer. */
static char *read_all(int fd, size_t *n)
{
    size_t cap = 65536, len = 0;
    char *b = malloc(cap + 1);
    for (;;) {
        if (len == cap)
            b = realloc(b, (cap *= 2) + 1);
        ssize_t r = read(fd, b + len, cap - len);
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    b[len] = 0;
    *n = len;
    return b;
}

static int http_get(const char *hostport, const char *path, int timeout_s)
{
    int fd = dial(hostport, timeout_s);
    if (fd < 0)
        return 1;
    char req[4096];
    int rl = snprintf(req, sizeof req,
                      "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n"
                      "\r\n",
                      path, hostport);
    if (write(fd, req, (size_t)rl) != rl) {
        fprintf(stderr, "expo_check: write: %s\n", strerror(errno));
        close(fd);
        return 1;
    }
    size_t n;
    char *resp = read_all(fd, &n);
    close(fd);
    char *body = strstr(resp, "\r\n\r\n");
    int code = 0;
    if (sscanf(resp, "HTTP/1.%*d %d", &code) != 1 || !body) {
        fprintf(stderr, "expo_check: no HTTP answer from %s\n", hostport);
        free(resp);
        return 1;
    }
    body += 4;
    fwrite(body, 1, n - (size_t)(body - resp), stdout);
    free(resp);
    if (code != 200) {
        fprintf(stderr, "expo_check: GET %s: status %d\n", path, code);
        return 1;
    }
    return 0;
}

static int http_send(const char *hostport, int timeout_s, bool keep)
{
    int fd = dial(hostport, timeout_s);
    if (fd < 0)
        return 1;
    size_t n;
    char *in = slurp("-", &n);
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, in + off, n - off);
        if (w <= 0)
            break; /* the server may close early (431): read what it said */
        off += (size_t)w;
    }
    free(in);
    if (!keep)
        shutdown(fd, SHUT_WR); /* our end: the server sees EOF */
    char *resp = read_all(fd, &n);
    close(fd);
    fwrite(resp, 1, n, stdout);
    free(resp);
    return 0;
}

/* Read and check the page in path; returns its number of problems. */
static int load_page(const char *path, const char *labels, struct page *pg)
{
    size_t n;
    char *t = slurp(path, &n);
    parse(pg, t, n, labels);
    free(t);
    return pg->errors;
}

int main(int argc, char **argv)
{
    /* mbstowcs checks UTF-8 (an oracle independent of the exporter's) */
    if (!setlocale(LC_CTYPE, "C.UTF-8")) {
        fprintf(stderr, "expo_check: no C.UTF-8 locale\n");
        return 2;
    }
    if (argc >= 2 && !strcmp(argv[1], "selftest"))
        return selftest();
    if (argc >= 3 && !strcmp(argv[1], "check")) {
        const char *labels = NULL;
        if (argc == 5 && !strcmp(argv[3], "--labels"))
            labels = argv[4];
        else if (argc != 3)
            goto usage;
        struct page pg;
        if (load_page(argv[2], labels, &pg) == 0)
            return 0;
        fprintf(stderr, "expo_check: %s: %d problem(s)\n", argv[2], pg.errors);
        return 1;
    }
    if (argc >= 4 && !strcmp(argv[1], "query")) {
        struct page pg;
        if (load_page(argv[2], NULL, &pg))
            return 1;
        int found = 0;
        for (int i = 0; i < pg.ns; i++) {
            if (strcmp(pg.s[i].name, argv[3]))
                continue;
            bool ok = true;
            for (int k = 4; k < argc && ok; k++) {
                const char *eq = strchr(argv[k], '=');
                if (!eq)
                    goto usage;
                bool m = false;
                for (int j = 0; j < pg.s[i].nl; j++)
                    m |= strlen(pg.s[i].l[j].name) == (size_t)(eq - argv[k]) &&
                         !strncmp(pg.s[i].l[j].name, argv[k],
                                  (size_t)(eq - argv[k])) &&
                         !strcmp(pg.s[i].l[j].value, eq + 1);
                ok = m;
            }
            if (ok) {
                printf("%.17g\n", pg.s[i].value);
                found++;
            }
        }
        return found ? 0 : 1;
    }
    if ((argc == 3 || argc == 4) && !strcmp(argv[1], "json")) {
        size_t n;
        char *t = slurp(argv[2], &n);
        bool ok = json_ok(t, n, argc == 4 ? argv[3] : NULL);
        free(t);
        if (!ok)
            fprintf(stderr, "expo_check: %s: not valid JSON\n", argv[2]);
        return ok ? 0 : 1;
    }
    if ((argc == 4 || argc == 5) && !strcmp(argv[1], "get"))
        return http_get(argv[2], argv[3], argc == 5 ? atoi(argv[4]) : 10);
    if ((argc >= 3 && argc <= 5) && !strcmp(argv[1], "send"))
        return http_send(argv[2], argc >= 4 ? atoi(argv[3]) : 10,
                         argc == 5 && !strcmp(argv[4], "keep"));
usage:
    fprintf(stderr, "usage: expo_check check FILE [--labels L,..] | query "
                    "FILE NAME [L=V..] | get HOST:PORT PATH [T] | send "
                    "HOST:PORT [T [keep]] | json FILE [KEY] | selftest\n");
    return 2;
}
