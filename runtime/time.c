/*
 * time.c - timers, after Go 1.19's per-P timers (runtime/time.go), and the
 * time API on them: grt_now, grt_sleep, grt_after, tickers and timers.
 *
 * Each P keeps a 4-ary min-heap of struct timer under its tlock, with the
 * earliest deadline mirrored in p->timer0_when so the scheduler can check
 * "is a timer due?" with one load.  Timers run on a scheduler path: the
 * P's own M in findrunnable or at a switch, a thief that finds another
 * P's timers due, never a dedicated thread.  An idle M sleeps until the
 * earliest timer of any P (proc.c's timer sleeper), and grt__timer_add
 * wakes it when a new timer is earlier.
 *
 * Ownership rule: a timer's memory stays valid until grt__timer_del has
 * returned; del waits for a callback that is running on another M, so
 * after it returns the callback neither runs nor will run.  Callbacks run
 * with no lock held and must not park.
 *
 * Timer channels (grt_after, tickers, timers) have a one-element buffer;
 * stop and reset drain it, so no stale value is received afterwards (Go
 * 1.23's guarantee).  Tickers drop ticks for a slow receiver.
 */
#include "config.h"

#include "rt.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t grt__nanotime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t grt_now(void)
{
    return grt__nanotime();
}

/* ---------------------------------------------------------------------
 * The per-P heap (pp->tlock held)
 * --------------------------------------------------------------------- */

static void heap_set(struct p *pp, int i, struct timer *t)
{
    pp->theap[i] = t;
    t->idx = i;
}

static void sift_up(struct p *pp, int i)
{
    struct timer *t = pp->theap[i];
    while (i > 0) {
        int parent = (i - 1) / 4;
        if (pp->theap[parent]->when <= t->when)
            break;
        heap_set(pp, i, pp->theap[parent]);
        i = parent;
    }
    heap_set(pp, i, t);
}

static void sift_down(struct p *pp, int i)
{
    struct timer *t = pp->theap[i];
    int n = pp->tlen;
    for (;;) {
        int c = 4 * i + 1;
        if (c >= n)
            break;
        int best = c;
        for (int k = c + 1; k < c + 4 && k < n; k++)
            if (pp->theap[k]->when < pp->theap[best]->when)
                best = k;
        if (pp->theap[best]->when >= t->when)
            break;
        heap_set(pp, i, pp->theap[best]);
        i = best;
    }
    heap_set(pp, i, t);
}

static void update_t0(struct p *pp)
{
    STORE_RLX(&pp->timer0_when, pp->tlen ? pp->theap[0]->when : 0);
}

static void heap_push(struct p *pp, struct timer *t)
{
    if (pp->tlen == pp->tcap) {
        int cap = pp->tcap ? pp->tcap * 2 : 64;
        struct timer **h = realloc(pp->theap, (size_t)cap * sizeof *h);
        if (!h)
            grt__throw("runtime: out of memory growing a timer heap");
        pp->theap = h;
        pp->tcap = cap;
    }
    t->pp = pp;
    heap_set(pp, pp->tlen++, t);
    sift_up(pp, t->idx);
}

static void heap_remove(struct p *pp, struct timer *t)
{
    int i = t->idx;
    int last = --pp->tlen;
    if (i != last) {
        heap_set(pp, i, pp->theap[last]);
        sift_down(pp, i);
        sift_up(pp, pp->theap[i]->idx);
    }
    t->pp = NULL;
    t->idx = -1;
}

/* ---------------------------------------------------------------------
 * Internal API (rt.h)
 * --------------------------------------------------------------------- */

void grt__timer_add(struct timer *t, int64_t when)
{
    struct m *mp = getm();
    struct p *pp = mp->p ? mp->p : grt__sched.allp[0];
    if (when <= 0)
        when = 1;
    lock(&pp->tlock);
    t->when = when;
    STORE_RLX(&t->running, 0);
    heap_push(pp, t);
    update_t0(pp);
    unlock(&pp->tlock);
    grt__wake_timer_sleeper(when);
}

bool grt__timer_del(struct timer *t)
{
    bool pending = false;
    for (;;) {
        struct p *pp = LOAD_ACQ(&t->pp);
        if (!pp)
            break;
        lock(&pp->tlock);
        if (t->pp == pp) {
            heap_remove(pp, t);
            update_t0(pp);
            unlock(&pp->tlock);
            pending = true;
            break;
        }
        unlock(&pp->tlock); /* moved meanwhile (grt__timers_move) */
    }
    t->seq++;
    /* a callback running on another M finishes before we return */
    while (LOAD_ACQ(&t->running))
        cpu_relax();
    return pending;
}

int64_t grt__timers_run(struct p *pp, int64_t now)
{
    lock(&pp->tlock);
    while (pp->tlen && pp->theap[0]->when <= now) {
        struct timer *t = pp->theap[0];
        heap_remove(pp, t);
        if (t->period > 0) {
            /* next tick after now; missed ticks are dropped */
            int64_t missed = (now - t->when) / t->period;
            t->when += (missed + 1) * t->period;
            heap_push(pp, t);
        }
        STORE_RLX(&t->running, 1);
        update_t0(pp);
        unlock(&pp->tlock);
        t->f(t, now);
        STORE_REL(&t->running, 0); /* pairs with grt__timer_del's load */
        lock(&pp->tlock);
    }
    update_t0(pp);
    int64_t next = pp->tlen ? pp->theap[0]->when : 0;
    unlock(&pp->tlock);
    return next;
}

int64_t grt__timers_next(void)
{
    int64_t next = 0;
    int procs = LOAD_RLX(&grt__sched.gomaxprocs);
    for (int i = 0; i < procs; i++) {
        struct p *pp = LOAD_ACQ(&grt__sched.allp[i]);
        if (!pp)
            continue;
        int64_t w = LOAD_RLX(&pp->timer0_when);
        if (w && (!next || w < next))
            next = w;
    }
    return next;
}

void grt__timers_move(struct p *from, struct p *to)
{
    if (from == to || !from->tlen)
        return;
    struct p *a = from->id < to->id ? from : to;
    struct p *b = a == from ? to : from;
    lock(&a->tlock);
    lock(&b->tlock);
    while (from->tlen) {
        struct timer *t = from->theap[from->tlen - 1];
        heap_remove(from, t);
        heap_push(to, t);
    }
    update_t0(from);
    update_t0(to);
    unlock(&b->tlock);
    unlock(&a->tlock);
}

/* ---------------------------------------------------------------------
 * Sleep
 * --------------------------------------------------------------------- */

struct sleeper {
    struct timer t;
    spinlock lk; /* held from arming to parking: the callback waits */
};

static void sleep_fire(struct timer *t, int64_t now)
{
    (void)now;
    struct sleeper *s = (struct sleeper *)t;
    lock(&s->lk); /* the sleeper is parked once this succeeds */
    struct g *gp = t->gp;
    unlock(&s->lk);
    grt__ready(gp);
}

static int64_t deadline(int64_t ns)
{
    int64_t now = grt__nanotime();
    if (ns > INT64_MAX - now)
        return INT64_MAX;
    return now + ns;
}

void grt_sleep(int64_t ns)
{
    struct m *mp = getm();
    if (ns <= 0) {
        grt_yield();
        return;
    }
    struct sleeper s;
    memset(&s, 0, sizeof s);
    s.t.f = sleep_fire;
    s.t.gp = mp->curg;
    s.t.idx = -1;
    lock(&s.lk);
    grt__timer_add(&s.t, deadline(ns));
    grt__park(WAIT_SLEEP, NULL, &s.lk);
    grt__timer_del(&s.t); /* waits for sleep_fire to be done with s */
}

/* ---------------------------------------------------------------------
 * Channel timers: grt_after, tickers, timers
 * --------------------------------------------------------------------- */

static void send_time(struct timer *t, int64_t now)
{
    grt__chan_trysend((grt_chan *)t->arg, &now);
}

grt_chan *grt_after(int64_t ns)
{
    getm();
    grt_chan *c = grt_chan_make(sizeof(int64_t), 1);
    struct timer *t = calloc(1, sizeof *t);
    if (!t)
        grt__throw("runtime: out of memory in grt_after");
    t->f = send_time;
    t->arg = c;
    t->idx = -1;
    grt__chan_set_timer(c, t);
    grt__timer_add(t, deadline(ns > 0 ? ns : 0));
    return c;
}

struct grt_ticker {
    struct timer t;
    grt_chan *c;
};

struct grt_timer {
    struct timer t;
    grt_chan *c;
};

grt_ticker *grt_ticker_make(int64_t ns)
{
    getm();
    if (ns <= 0)
        grt__panic_str("non-positive interval for NewTicker");
    grt_ticker *tk = calloc(1, sizeof *tk);
    if (!tk)
        grt__throw("runtime: out of memory in grt_ticker_make");
    tk->c = grt_chan_make(sizeof(int64_t), 1);
    tk->t.f = send_time;
    tk->t.arg = tk->c;
    tk->t.period = ns;
    tk->t.idx = -1;
    grt__timer_add(&tk->t, deadline(ns));
    return tk;
}

grt_chan *grt_ticker_chan(grt_ticker *tk)
{
    return tk ? tk->c : NULL;
}

void grt_ticker_stop(grt_ticker *tk)
{
    if (!tk)
        return;
    grt__timer_del(&tk->t);
    grt__chan_drain(tk->c);
}

void grt_ticker_reset(grt_ticker *tk, int64_t ns)
{
    if (ns <= 0)
        grt__panic_str("non-positive interval for Ticker.Reset");
    grt__timer_del(&tk->t);
    grt__chan_drain(tk->c);
    tk->t.period = ns;
    grt__timer_add(&tk->t, deadline(ns));
}

void grt_ticker_free(grt_ticker *tk)
{
    if (!tk)
        return;
    grt__timer_del(&tk->t);
    grt_chan_free(tk->c);
    free(tk);
}

grt_timer *grt_timer_make(int64_t ns)
{
    getm();
    grt_timer *tm = calloc(1, sizeof *tm);
    if (!tm)
        grt__throw("runtime: out of memory in grt_timer_make");
    tm->c = grt_chan_make(sizeof(int64_t), 1);
    tm->t.f = send_time;
    tm->t.arg = tm->c;
    tm->t.idx = -1;
    grt__timer_add(&tm->t, deadline(ns > 0 ? ns : 0));
    return tm;
}

grt_chan *grt_timer_chan(grt_timer *tm)
{
    return tm ? tm->c : NULL;
}

bool grt_timer_stop(grt_timer *tm)
{
    if (!tm)
        return false;
    bool pending = grt__timer_del(&tm->t);
    grt__chan_drain(tm->c);
    return pending;
}

bool grt_timer_reset(grt_timer *tm, int64_t ns)
{
    bool pending = grt__timer_del(&tm->t);
    grt__chan_drain(tm->c);
    grt__timer_add(&tm->t, deadline(ns > 0 ? ns : 0));
    return pending;
}

void grt_timer_free(grt_timer *tm)
{
    if (!tm)
        return;
    grt__timer_del(&tm->t);
    grt_chan_free(tm->c);
    free(tm);
}
