/*
 * leak.c - leak checks for tests, with goleak's semantics
 * (go.uber.org/goleak: VerifyNone, IgnoreTopFunction, IgnoreCreatedBy,
 * IgnoreCurrent, VerifyTestMain), and leak scopes, which goleak lacks.
 *
 * A check looks at the live goroutines (not dead, not being made) other
 * than the caller, the ignored ones and, when the check is limited to a
 * scope, those of other scopes.  If any is left it sleeps and looks again,
 * with a backoff from 1 us doubling up to 100 ms (goleak's), until the
 * timeout; then it reports what is left, each goroutine in the dump
 * format (traceback.c).  Looking costs a walk of the all-G list and no
 * lock; only a goroutine still alive after the cheap filters (ids, scope,
 * creator) is unwound, and only when a filter needs its frames.  So a
 * check that finds nothing returns after one walk.
 *
 * Scopes: a scope id lives in struct g (leak_scope), copied from the
 * creator at spawn (one store on the spawn path, nothing elsewhere), so
 * everything a test starts, transitively, is in its scope, whichever
 * thread runs it and whatever other tests run meanwhile (goleak's issues
 * 16 and 83 ask for this).  Each scope remembers the scope its creator
 * was in (for grt_leak_scope_end, and because a scope begun inside
 * another is part of it: a check of the outer scope sees the inner
 * one's goroutines too); ids are never reused.
 *
 * GRT_LEAKCHECK=1 (goleak.VerifyTestMain): on_exit runs the check when
 * the program exits with status 0 (main returning, grt_exit(0), exit(0));
 * leaks are reported on stderr and the status becomes 3.
 * GRT_LEAKCHECK_TIMEOUT_MS sets the timeout (default 1000) and
 * GRT_LEAKCHECK_IGNORE=f,g ignores goroutines with one of these functions
 * in their stack or as their entry, or created by one of them.
 */
#include "config.h"

#include "rt.h"
#include "traceback.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BACKOFF_MIN_NS 1000LL
#define BACKOFF_MAX_NS 100000000LL
#define TIMEOUT_DEFAULT_NS 1000000000LL

#if defined(__has_attribute)
#if __has_attribute(no_sanitize)
#define LK_RACY __attribute__((no_sanitize("thread")))
#endif
#endif
#ifndef LK_RACY
#define LK_RACY
#endif
#define RACY(x) (*(volatile __typeof__(x) *)&(x))

/* ---------------------------------------------------------------------
 * Scopes
 * --------------------------------------------------------------------- */

static pthread_mutex_t scope_mu = PTHREAD_MUTEX_INITIALIZER;
static int64_t *scope_parent; /* [id]: the scope its creator was in */
static int64_t scope_cap;     /* under scope_mu */
static int64_t scope_next;    /* under scope_mu: last id given */

int64_t grt_leak_scope_begin(void)
{
    struct g *gp = getg();
    pthread_mutex_lock(&scope_mu);
    int64_t id = ++scope_next;
    if (id >= scope_cap) {
        int64_t cap = scope_cap ? scope_cap * 2 : 64;
        int64_t *p = realloc(scope_parent, (size_t)cap * sizeof *p);
        if (p) {
            scope_parent = p;
            scope_cap = cap;
        }
    }
    if (id < scope_cap)
        scope_parent[id] = gp->cold->leak_scope;
    pthread_mutex_unlock(&scope_mu);
    gp->cold->leak_scope = id;
    return id;
}

void grt_leak_scope_end(int64_t scope)
{
    struct g *gp = getg();
    int64_t parent = 0;
    pthread_mutex_lock(&scope_mu);
    if (scope > 0 && scope < scope_cap && scope <= scope_next)
        parent = scope_parent[scope];
    pthread_mutex_unlock(&scope_mu);
    gp->cold->leak_scope = parent;
}

int64_t grt_leak_scope(void)
{
    return getg()->cold->leak_scope;
}

/* Is scope s root or one begun inside it (transitively)? */
static bool scope_within(int64_t s, int64_t root)
{
    if (s == root)
        return true;
    bool in = false;
    pthread_mutex_lock(&scope_mu);
    for (int depth = 0; s > 0 && s < scope_cap && s <= scope_next &&
                        depth < 10000; depth++) {
        s = scope_parent[s];
        if (s == root) {
            in = true;
            break;
        }
    }
    pthread_mutex_unlock(&scope_mu);
    return in;
}

/* ---------------------------------------------------------------------
 * Checks
 * --------------------------------------------------------------------- */

int64_t *grt_goroutine_ids(void)
{
    getm();
    size_t n;
    struct g **v = grt__allg_snapshot(&n);
    int64_t *ids = malloc((n + 1) * sizeof *ids);
    if (ids) {
        for (size_t i = 0; i < n; i++)
            ids[i] = RACY(v[i]->goid);
        ids[n] = 0;
    }
    free(v);
    return ids;
}

static bool in_list(const char *const *list, const char *name)
{
    if (!list || !name || !*name)
        return false;
    for (; *list; list++)
        if (!strcmp(*list, name))
            return true;
    return false;
}

static bool id_in(const int64_t *ids, int64_t id)
{
    for (; ids && *ids; ids++)
        if (*ids == id)
            return true;
    return false;
}

/* The options of one check, with GRT_LEAKCHECK_IGNORE's extra names. */
struct check {
    const grt_leak_opts *o;
    const char *const *extra; /* ignore_any and ignore_created_by */
    struct g *self;
    struct grt__tb *tb;       /* made on first need */
};

/* Is gp left over, by the check's rules?  fg: its description when one
 * was made (*described). */
LK_RACY static bool leaked(struct check *c, struct g *gp,
                           struct grt__fmt_g *fg, bool *described)
{
    *described = false;
    uint32_t st = LOAD_RLX(&gp->status);
    if (gp == c->self || st == G_DEAD || st == G_IDLE)
        return false;
    const grt_leak_opts *o = c->o;
    if (o->scope && !scope_within(RACY(gp->cold->leak_scope), o->scope))
        return false;
    if (id_in(o->ignore_ids, RACY(gp->goid)))
        return false;
    const char *creator = RACY(gp->cold->caller);
    if (in_list(o->ignore_created_by, creator) || in_list(c->extra, creator))
        return false;
    const char *entry = RACY(gp->cold->fn_name);
    if (in_list(o->ignore_any, entry) || in_list(c->extra, entry))
        return false;
    if (!o->ignore_top && !o->ignore_any && !c->extra)
        return true;
    if (!c->tb && !(c->tb = grt__tb_new(false)))
        return true;
    grt__tb_describe(c->tb, gp, false, NULL, fg);
    *described = true;
    if (fg->nframes && in_list(o->ignore_top, fg->frames[0].func))
        return false;
    for (size_t i = 0; i < fg->nframes; i++)
        if (in_list(o->ignore_any, fg->frames[i].func) ||
            in_list(c->extra, fg->frames[i].func))
            return false;
    return true;
}

static void file_write(void *ctx, const char *s, size_t n)
{
    fwrite(s, 1, n, (FILE *)ctx);
}

/* One look: how many are left; written to report when not NULL. */
static int look(struct check *c, FILE *report)
{
    size_t n;
    struct g **v = grt__allg_snapshot(&n);
    int left = 0;
    struct grt__fmt_sink sink = {file_write, report};
    for (size_t i = 0; v && i < n; i++) {
        struct grt__fmt_g fg;
        bool described;
        if (!leaked(c, v[i], &fg, &described))
            continue;
        left++;
        if (!report)
            continue;
        if (left == 1)
            fputs("found unexpected goroutines:\n", report);
        if (!described) {
            if (!c->tb && !(c->tb = grt__tb_new(false)))
                continue;
            grt__tb_describe(c->tb, v[i], false, NULL, &fg);
        }
        grt__fmt_goroutine(&sink, &fg, 0);
    }
    free(v);
    if (report && left)
        fflush(report);
    return left;
}

static void nap(int64_t ns, bool on_goroutine)
{
    if (on_goroutine) {
        grt_sleep(ns);
        return;
    }
    struct timespec ts = {ns / 1000000000, ns % 1000000000};
    nanosleep(&ts, NULL);
}

static int verify(const grt_leak_opts *opts, const char *const *extra,
                  FILE *report)
{
    static const grt_leak_opts defaults;
    /* no runtime yet: no goroutine at all */
    if (!LOAD_ACQ(&grt__sched.allg))
        return 0;
    struct check c = {opts ? opts : &defaults, extra, grt__curg(), NULL};
    int64_t timeout = c.o->timeout_ns > 0 ? c.o->timeout_ns
                                          : TIMEOUT_DEFAULT_NS;
    int64_t deadline = grt_now() + timeout;
    int64_t backoff = BACKOFF_MIN_NS;
    int left;
    for (;;) {
        left = look(&c, NULL);
        if (!left)
            break;
        int64_t now = grt_now();
        if (now >= deadline) {
            left = look(&c, report);
            break;
        }
        nap(backoff < deadline - now ? backoff : deadline - now,
            c.self != NULL);
        if (backoff < BACKOFF_MAX_NS)
            backoff *= 2;
    }
    grt__tb_free(c.tb);
    return left;
}

int grt_leak_verify_none(const grt_leak_opts *opts, FILE *report)
{
    return verify(opts, NULL, report);
}

/* ---------------------------------------------------------------------
 * GRT_LEAKCHECK=1
 * --------------------------------------------------------------------- */

static void at_exit(int status, void *arg)
{
    (void)arg;
    if (status != 0)
        return; /* goleak.VerifyTestMain checks only successful runs */
    grt_leak_opts o;
    memset(&o, 0, sizeof o);
    /* main is never a leak, even when another goroutine called exit */
    static const int64_t main_id[] = {1, 0};
    o.ignore_ids = main_id;
    const char *t = getenv("GRT_LEAKCHECK_TIMEOUT_MS");
    if (t && *t) {
        char *end;
        long long ms = strtoll(t, &end, 10);
        if (*end == 0 && ms >= 0)
            o.timeout_ns = ms ? ms * 1000000LL : 1; /* 0: look once */
        else
            fprintf(stderr, "grt: ignoring GRT_LEAKCHECK_TIMEOUT_MS=%s "
                            "(want milliseconds)\n", t);
    }
    char *names = NULL;
    const char **extra = NULL;
    const char *ig = getenv("GRT_LEAKCHECK_IGNORE");
    if (ig && *ig && (names = strdup(ig))) {
        size_t n = 1;
        for (const char *p = names; *p; p++)
            n += *p == ',';
        extra = calloc(n + 1, sizeof *extra);
        size_t k = 0;
        for (char *save, *tok = strtok_r(names, ",", &save);
             extra && tok; tok = strtok_r(NULL, ",", &save))
            extra[k++] = tok;
    }
    int left = verify(&o, extra, stderr);
    free(extra);
    free(names);
    if (left) {
        fprintf(stderr, "grt: GRT_LEAKCHECK: %d goroutine%s still running "
                        "at exit\n", left, left == 1 ? "" : "s");
        fflush(NULL);
        grt__die_end(3);
    }
}

void grt__leakcheck_init(void)
{
    const char *e = getenv("GRT_LEAKCHECK");
    if (e && *e && strcmp(e, "0") != 0)
        on_exit(at_exit, NULL);
}
