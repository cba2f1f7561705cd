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
 * A timer's life, and who may touch it:
 *
 *   t->pp    the heap it is in, NULL when in none.  Written only under
 *            that heap's lock, and never NULL while the timer is still
 *            queued: a ticker is re-armed in place, a P's timers move
 *            straight from heap to heap.  So grt__timer_del may read it
 *            without a lock to find which lock to take.
 *   t->running  1 while its callback runs (Go's timerRunning).  Set under
 *            the heap lock *before* t->pp is cleared (release), cleared
 *            with release after the callback returns.  A del that finds
 *            t->pp NULL therefore also finds running set if a callback
 *            is about to run or running, and waits for it.
 *
 * Ownership rule: a timer's memory stays valid until grt__timer_del has
 * returned; after it returns the callback neither runs nor will run, and
 * nothing in the runtime refers to the timer.  A ticker whose callback is
 * still running when it comes due again skips that tick, so one timer's
 * callback never runs twice at once and ticks arrive in order.
 * Callbacks run with no lock held and must not park.
 *
 * Timer channels (grt_after, tickers, timers) have a one-element buffer.
 * Go 1.23 made them unbuffered; we get the same guarantees by draining:
 * stop and reset remove the timer (waiting for a running send), then
 * drain the buffer, so no value from before the call is received after
 * it; and a value drained that way was never received, so stop and reset
 * report the timer as having been pending, as Go 1.23 does.
 */
#include "config.h"

#include "rt.h"

#include <sched.h>
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

/* now + ns, saturating at INT64_MAX; ns <= 0 is now. */
static int64_t deadline(int64_t ns)
{
    int64_t now = grt__nanotime();
    if (ns <= 0)
        return now;
    if (ns > INT64_MAX - now)
        return INT64_MAX;
    return now + ns;
}

/* ---------------------------------------------------------------------
 * The per-P heap (pp->tlock held)
 * --------------------------------------------------------------------- */

static inline void heap_set(struct p *pp, int i, struct tent e)
{
    pp->theap[i] = e;
    e.t->idx = i;
}

static void sift_up(struct p *pp, int i)
{
    struct tent *h = pp->theap, e = h[i];
    while (i > 0) {
        int parent = (i - 1) / 4;
        if (h[parent].when <= e.when)
            break;
        heap_set(pp, i, h[parent]);
        i = parent;
    }
    heap_set(pp, i, e);
}

static void sift_down(struct p *pp, int i)
{
    struct tent *h = pp->theap, e = h[i];
    int n = pp->tlen;
    for (;;) {
        int c = 4 * i + 1;
        if (c >= n)
            break;
        int best = c;
        for (int k = c + 1; k < c + 4 && k < n; k++)
            if (h[k].when < h[best].when)
                best = k;
        if (h[best].when >= e.when)
            break;
        heap_set(pp, i, h[best]);
        i = best;
    }
    heap_set(pp, i, e);
}

/* Mirror the heap top in timer0_when (0: empty). */
static inline void update_t0(struct p *pp)
{
    STORE_RLX(&pp->timer0_when, pp->tlen ? pp->theap[0].when : 0);
}

/* Entry 0 is placed 48 bytes into a cache line: then the children of
 * entry i, 4i+1 to 4i+4, start at 64 + 64i bytes, one line per group. */
#define THEAP_SKEW 3

static void heap_grow(struct p *pp)
{
    int cap = pp->tcap ? pp->tcap * 2 : 64;
    void *mem = NULL;
    if (posix_memalign(&mem, CACHELINE,
                       (size_t)(cap + THEAP_SKEW) * sizeof(struct tent)) != 0)
        grt__throw("runtime: out of memory growing a timer heap");
    struct tent *h = (struct tent *)mem + THEAP_SKEW;
    if (pp->tlen)
        memcpy(h, pp->theap, (size_t)pp->tlen * sizeof *h);
    free(pp->theap_mem);
    pp->theap_mem = mem;
    pp->theap = h;
    pp->tcap = cap;
}

static void heap_push(struct p *pp, struct timer *t)
{
    if (pp->tlen == pp->tcap)
        heap_grow(pp);
    STORE_REL(&t->pp, pp);
    int i = pp->tlen++;
    heap_set(pp, i, (struct tent){t->when, t});
    sift_up(pp, i);
}

static void heap_remove(struct p *pp, struct timer *t)
{
    int i = t->idx;
    int last = --pp->tlen;
    if (i != last) {
        heap_set(pp, i, pp->theap[last]);
        sift_down(pp, i);
        sift_up(pp, i);
    }
    t->idx = -1;
    STORE_REL(&t->pp, NULL); /* after any store to t->running */
}

/* A ticker's next deadline after now: missed periods are skipped (their
 * ticks dropped), saturating at INT64_MAX. */
static int64_t next_tick(int64_t when, int64_t period, int64_t now)
{
    int64_t k = (now - when) / period + 1; /* now >= when */
    if (k > (INT64_MAX - when) / period)
        return INT64_MAX;
    return when + k * period;
}

/* ---------------------------------------------------------------------
 * Internal API (rt.h)
 * --------------------------------------------------------------------- */

/*
 * Queue t (in no heap, its callback not running) to fire at when
 * (monotonic ns; <= 0 means at once) on the caller's P, or on allp[0]
 * when the caller holds none.  Wakes the idle M that sleeps until the
 * next timer if t is earlier.  Takes pp->tlock; never parks.
 */
void grt__timer_add(struct timer *t, int64_t when)
{
    struct m *mp = getm();
    struct p *pp = mp->p ? mp->p : grt__sched.allp[0];
    if (when <= 0)
        when = 1; /* 0 means "none" in timer0_when */
    lock(&pp->tlock);
    t->when = when;
    heap_push(pp, t);
    /* (T3) seq-cst, pairs with (T1) in proc.c's stopm: the sleeper
     * publishes itself then reads timer0_when; we publish timer0_when
     * then read whether a sleeper needs waking (T2).  Were this store
     * relaxed, x86 could let T2's load pass it and both sides miss the
     * other: the sleeper sleeps with no deadline, nobody wakes it. */
    __atomic_store_n(&pp->timer0_when, pp->theap[0].when, __ATOMIC_SEQ_CST);
    unlock(&pp->tlock);
    grt__wake_timer_sleeper(when);
}

/*
 * Remove t from whichever heap holds it and wait until its callback, if
 * one is running on another M, has returned.  Returns true if t was
 * queued (it had not fired, or it is a ticker).  After it returns the
 * runtime holds no reference to t.  Must not be called from t's own
 * callback.  Never parks (spins briefly on a running callback).
 */
bool grt__timer_del(struct timer *t)
{
    bool pending = false;
    __atomic_add_fetch(&t->seq, 1, __ATOMIC_RELAXED);
    for (;;) {
        struct p *pp = LOAD_ACQ(&t->pp);
        if (!pp)
            break;
        lock(&pp->tlock);
        if (LOAD_RLX(&t->pp) == pp) {
            heap_remove(pp, t);
            update_t0(pp);
            unlock(&pp->tlock);
            pending = true;
            break;
        }
        unlock(&pp->tlock); /* moved meanwhile (grt__timers_move) */
    }
    /* A callback running on another M finishes before we return; it
     * runs no user code and never parks, so this wait is short, unless
     * that M was preempted, often by the thread its wakep woke, which may
     * be ours on the same CPU: so after ~1 us of PAUSEs (40 here), yield.
     * Spinning 1,000 PAUSEs first made a 1 ms ticker spin 25 us a tick. */
    for (int spins = 0; LOAD_ACQ(&t->running); spins++) {
        if (spins < 40)
            cpu_relax();
        else
            sched_yield();
    }
    return pending;
}

/*
 * Run every timer of pp whose deadline is <= now: one-shot timers leave
 * the heap, tickers are re-armed in place for their next period after
 * now.  Each callback runs with pp->tlock released.  Returns pp's next
 * deadline (0: none).  Any M with a P may call it for any P.
 *
 * Firing stops while the caller's own ring holds TIMERS_RUNQ_LIMIT Gs or
 * more (what the callbacks ready lands there): the due timers wait in
 * the heap, in deadline order, until the ring drains.  Fired anyway, the
 * readied Gs would spill the ring's oldest half to the global queue,
 * which a busy P serves once per 61 schedules while later wake-ups
 * overtake them (10,000 sleepers: p99 lateness 18 ms).  After
 * RUNQ_SIZE schedules held back (the ring had a full turn) one due timer
 * fires all the same, so timers still fire behind a ring that never
 * drains (goroutines that yield to each other).
 */
#define TIMERS_RUNQ_LIMIT (RUNQ_SIZE / 2)

static inline bool runq_long(const struct p *mine)
{
    return LOAD_RLX(&mine->runq_tail) - LOAD_RLX(&mine->runq_head) >=
           TIMERS_RUNQ_LIMIT;
}

int64_t grt__timers_run(struct p *pp, int64_t now)
{
    struct m *mp = grt__tls_m;
    struct p *mine = mp->p;
    bool jump = false;
    if (runq_long(mine)) {
        if (++mine->timers_held < RUNQ_SIZE)
            return LOAD_RLX(&pp->timer0_when); /* held back */
        jump = true; /* one fires; the rest wait again */
    }
    mine->timers_held = 0;
    lock(&pp->tlock);
    while (pp->tlen && pp->theap[0].when <= now) {
        if (!jump && runq_long(mine))
            break;
        jump = false;
        struct timer *t = pp->theap[0].t;
        bool busy = LOAD_RLX(&t->running) != 0;
        if (!busy)
            STORE_RLX(&t->running, 1); /* before t->pp may go NULL */
        if (t->period > 0) {
            t->when = next_tick(t->when, t->period, now);
            pp->theap[0].when = t->when;
            sift_down(pp, 0);
        } else {
            heap_remove(pp, t); /* one-shot: busy is impossible */
        }
        update_t0(pp);
        if (busy)
            continue; /* a ticker still in its last callback: skip */
        unlock(&pp->tlock);
        t->f(t, now);
        STORE_REL(&t->running, 0); /* pairs with grt__timer_del */
        if (unlikely(mp->timer_spin) &&
            LOAD_RLX(&mine->runq_head) != LOAD_RLX(&mine->runq_tail))
            grt__timer_spin_end(mp); /* a second G: another M for it now */
        lock(&pp->tlock);
    }
    update_t0(pp);
    int64_t next = pp->tlen ? pp->theap[0].when : 0;
    unlock(&pp->tlock);
    return next;
}

/*
 * The earliest deadline over the Ps in use (0: none).  Lock-free: reads
 * each P's timer0_when, so it may be stale by the time it returns; but
 * it sees every timer whose grt__timer_add did not see the caller
 * become the timer sleeper (T1-T4).
 */
int64_t grt__timers_next(void)
{
    int64_t next = 0;
    int procs = LOAD_RLX(&grt__sched.gomaxprocs);
    for (int i = 0; i < procs; i++) {
        struct p *pp = LOAD_ACQ(&grt__sched.allp[i]);
        if (!pp)
            continue;
        /* seq-cst: (T4), after (T1) in stopm; a plain load on x86 */
        int64_t w = __atomic_load_n(&pp->timer0_when, __ATOMIC_SEQ_CST);
        if (w && (!next || w < next))
            next = w;
    }
    return next;
}

/*
 * Move every timer of from (a P being retired) to to.  Each timer's pp
 * changes from one heap to the other under both locks and is never NULL
 * in between, so a concurrent grt__timer_del finds it in one of them.
 * Takes only the two tlocks (the caller may hold sched.lock), so it does
 * not wake the timer sleeper: the caller does, once sched.lock is free.
 */
void grt__timers_move(struct p *from, struct p *to)
{
    if (from == to)
        return;
    struct p *a = from->id < to->id ? from : to;
    struct p *b = a == from ? to : from;
    lock(&a->tlock);
    lock(&b->tlock);
    for (int i = 0; i < from->tlen; i++) {
        struct tent e = from->theap[i];
        if (to->tlen == to->tcap)
            heap_grow(to);
        STORE_REL(&e.t->pp, to);
        int j = to->tlen++;
        heap_set(to, j, e);
        sift_up(to, j);
    }
    from->tlen = 0;
    update_t0(from);
    update_t0(to);
    unlock(&b->tlock);
    unlock(&a->tlock);
}

/* ---------------------------------------------------------------------
 * Sleep
 * --------------------------------------------------------------------- */

/*
 * A sleeping goroutine's timer is *gp->sleep (rt.h).  lk is held from
 * before the timer is armed until the goroutine is off its stack
 * (grt__park releases it there), and the callback takes it before
 * readying the goroutine: so the ready can never precede the park.
 */
static void sleep_fire(struct timer *t, int64_t now)
{
    (void)now;
    struct sleep_timer *s = (struct sleep_timer *)t;
    lock(&s->lk); /* succeeds once the sleeper is parked */
    struct g *gp = t->gp;
    unlock(&s->lk);
    grt__ready(gp);
}

void grt_sleep(int64_t ns)
{
    struct m *mp = getm();
    if (ns <= 0) {
        grt_yield();
        return;
    }
    struct g *gp = mp->curg;
    struct sleep_timer *s = gp->sleep;
    if (unlikely(!s)) {
        s = malloc(sizeof *s);
        if (!s)
            grt__throw("runtime: out of memory making a sleep timer");
        gp->sleep = s; /* kept for every later goroutine of this G */
    }
    memset(s, 0, sizeof *s);
    s->t.f = sleep_fire;
    s->t.gp = gp;
    s->t.idx = -1;
    lock(&s->lk);
    grt__timer_add(&s->t, deadline(ns));
    grt__park(WAIT_SLEEP, NULL, &s->lk);
    /* Fired: sleep_fire may still be returning; wait until it is done
     * with s before the next sleep (or exit) reuses it. */
    grt__timer_del(&s->t);
}

/* ---------------------------------------------------------------------
 * Channel timers: grt_after, tickers, timers
 * --------------------------------------------------------------------- */

/* The callback of every timer channel: a non-blocking send of the time. */
static void send_time(struct timer *t, int64_t now)
{
    grt__chan_trysend((grt_chan *)t->arg, &now);
}

/*
 * Remove a value left in a timer channel's buffer (a non-blocking
 * receive); true if there was one.  Called once the timer is deleted,
 * so nothing refills it.
 */
static bool drain(grt_chan *c)
{
    grt_case rc = {.chan = c, .op = GRT_RECV, .elem = NULL};
    return grt_select(&rc, 1, true) == 0;
}

static grt_chan *time_chan_make(void)
{
    return grt_chan_make(sizeof(int64_t), 1);
}

grt_chan *grt_after(int64_t ns)
{
    getm();
    grt_chan *c = time_chan_make();
    struct timer *t = calloc(1, sizeof *t);
    if (!t)
        grt__throw("runtime: out of memory in grt_after");
    objstat_alloc(sizeof *t); /* freed with the channel */
    t->f = send_time;
    t->arg = c;
    t->idx = -1;
    grt__chan_set_timer(c, t); /* grt_chan_free deletes and frees it */
    grt__timer_add(t, deadline(ns));
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
    objstat_alloc(sizeof *tk);
    tk->c = time_chan_make();
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
    drain(tk->c);
}

void grt_ticker_reset(grt_ticker *tk, int64_t ns)
{
    if (ns <= 0)
        grt__panic_str("non-positive interval for Ticker.Reset");
    if (!tk)
        grt__panic_str("time: Reset called on uninitialized Ticker");
    grt__timer_del(&tk->t);
    drain(tk->c);
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
    objstat_free();
}

grt_timer *grt_timer_make(int64_t ns)
{
    getm();
    grt_timer *tm = calloc(1, sizeof *tm);
    if (!tm)
        grt__throw("runtime: out of memory in grt_timer_make");
    objstat_alloc(sizeof *tm);
    tm->c = time_chan_make();
    tm->t.f = send_time;
    tm->t.arg = tm->c;
    tm->t.idx = -1;
    grt__timer_add(&tm->t, deadline(ns));
    return tm;
}

grt_chan *grt_timer_chan(grt_timer *tm)
{
    return tm ? tm->c : NULL;
}

/* Go 1.23's Timer.Stop: pending, or fired but its value not received. */
bool grt_timer_stop(grt_timer *tm)
{
    if (!tm)
        return false;
    bool pending = grt__timer_del(&tm->t);
    if (drain(tm->c))
        pending = true;
    return pending;
}

bool grt_timer_reset(grt_timer *tm, int64_t ns)
{
    if (!tm)
        grt__panic_str("time: Reset called on uninitialized Timer");
    bool pending = grt_timer_stop(tm);
    grt__timer_add(&tm->t, deadline(ns));
    return pending;
}

void grt_timer_free(grt_timer *tm)
{
    if (!tm)
        return;
    grt__timer_del(&tm->t);
    grt_chan_free(tm->c);
    free(tm);
    objstat_free();
}
