/*
 * check_sync.c - tests of WaitGroup, Mutex, RWMutex, Once and Cond
 * (runtime/sync.c over runtime/sema.c), after Go's sync tests.
 *
 * Every test runs in its own forked child, where the runtime starts on
 * the first grt call: main() never calls into grt, and tu_run_suite
 * refuses CK_FORK=no unless CK_RUN_CASE names one case (for gdb).  Only
 * main asserts with ck_assert*; goroutines count errors in atomics that
 * main checks (testutil.h, tu_check).  Run it with GRT_MAXPROCS=1 and =2:
 * with one processor, goroutines interleave only where they block or
 * yield, so the tests yield inside critical sections to create contention.
 *
 * No test asserts on time.  Where a test must wait for another goroutine
 * to reach a state, it yields until it sees the state (YIELD_UNTIL); a
 * broken implementation shows as Check's timeout.
 */
#include <check.h>
#include <grt.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "testutil.h"

#define YIELD_UNTIL(cond)                                                      \
    do {                                                                       \
        while (!(cond))                                                        \
            grt_yield();                                                       \
    } while (0)

/* Let other goroutines run a little (they may block meanwhile). */
static void yield_n(int n)
{
    for (int i = 0; i < n; i++)
        grt_yield();
}

/* ---------------------------------------------------------------------
 * waitgroup
 * --------------------------------------------------------------------- */

START_TEST(t_wg_zero)
{
    grt_wg wg = GRT_WG_INIT;
    grt_wg_wait(&wg); /* counter 0: returns at once */
    grt_wg_add(&wg, 0);
    grt_wg_wait(&wg);
}
END_TEST

struct flags {
    grt_wg wg;
    atomic_int set[64];
};

static void set_flag(void *arg)
{
    int i = (int)(intptr_t)((void **)arg)[1];
    struct flags *f = ((void **)arg)[0];
    grt_yield();
    atomic_store(&f->set[i], 1);
    grt_wg_done(&f->wg);
}

START_TEST(t_wg_basic)
{
    static struct flags f;
    static void *args[64][2];
    grt_wg_add(&f.wg, 64);
    for (int i = 0; i < 64; i++) {
        args[i][0] = &f;
        args[i][1] = (void *)(intptr_t)i;
        grt_go(set_flag, args[i]);
    }
    grt_wg_wait(&f.wg);
    for (int i = 0; i < 64; i++)
        ck_assert_int_eq(atomic_load(&f.set[i]), 1);
}
END_TEST

/* Go's testWaitGroup: a barrier that must not release early. */
struct barrier {
    grt_wg wg1, wg2, exited_wg;
    atomic_int exited;
};

static void barrier_worker(void *arg)
{
    struct barrier *b = arg;
    grt_wg_done(&b->wg1);
    grt_wg_wait(&b->wg2);
    atomic_fetch_add(&b->exited, 1);
    grt_wg_done(&b->exited_wg);
}

START_TEST(t_wg_barrier)
{
    static struct barrier b; /* reused across rounds, as Go's test */
    enum { N = 16 };
    for (int round = 0; round < 8; round++) {
        atomic_store(&b.exited, 0);
        grt_wg_add(&b.wg1, N);
        grt_wg_add(&b.wg2, N);
        grt_wg_add(&b.exited_wg, N);
        for (int i = 0; i < N; i++)
            grt_go(barrier_worker, &b);
        grt_wg_wait(&b.wg1);
        for (int i = 0; i < N; i++) {
            yield_n(2);
            ck_assert_msg(atomic_load(&b.exited) == 0,
                          "WaitGroup released group too soon");
            grt_wg_done(&b.wg2);
        }
        grt_wg_wait(&b.exited_wg);
        ck_assert_int_eq(atomic_load(&b.exited), N);
    }
}
END_TEST

struct many_waiters {
    grt_wg gate, done;
    atomic_int woken;
};

static void gate_waiter(void *arg)
{
    struct many_waiters *s = arg;
    grt_wg_wait(&s->gate);
    atomic_fetch_add(&s->woken, 1);
    grt_wg_done(&s->done);
}

START_TEST(t_wg_many_waiters)
{
    static struct many_waiters s;
    grt_wg_add(&s.gate, 1);
    grt_wg_add(&s.done, 8);
    for (int i = 0; i < 8; i++)
        grt_go(gate_waiter, &s);
    yield_n(20);
    ck_assert_int_eq(atomic_load(&s.woken), 0);
    grt_wg_done(&s.gate);
    grt_wg_wait(&s.done);
    ck_assert_int_eq(atomic_load(&s.woken), 8);
    /* Reusable once every Wait has returned. */
    grt_wg_add(&s.gate, 1);
    grt_wg_done(&s.gate);
    grt_wg_wait(&s.gate);
}
END_TEST

/* Waiters racing the Add that releases them: some push their record
 * before the wake, some count themselves in but are still switching out
 * when it comes and must take a wake-up owed to them.  Every round must
 * wake all of them and leave nothing owed for the next round. */
static void gate_opener(void *arg)
{
    grt_wg *gate = arg;
    /* Open the moment the last waiter has counted itself in (the low
     * half of the private state is Go's waiter count), while it may
     * still be on its way off its stack on the other processor. */
    for (unsigned i = 1;
         (uint32_t)__atomic_load_n(&gate->state_, __ATOMIC_ACQUIRE) < 3; i++)
        if (i % 4096 == 0)
            grt_yield(); /* let waiters on our own processor in */
    grt_wg_done(gate);
}

START_TEST(t_wg_waiters_race_wake)
{
    static struct many_waiters s;
    enum { ROUNDS = 20000, W = 3 };
    for (int round = 0; round < ROUNDS; round++) {
        atomic_store(&s.woken, 0);
        grt_wg_add(&s.gate, 1);
        grt_wg_add(&s.done, W);
        if (round % 2)
            grt_go(gate_opener, &s.gate);
        for (int i = 0; i < W; i++)
            grt_go(gate_waiter, &s);
        if (round % 2 == 0)
            grt_wg_done(&s.gate);
        _Static_assert(W == 3, "gate_opener waits for W waiters");
        grt_wg_wait(&s.done);
        ck_assert_int_eq(atomic_load(&s.woken), W);
        ck_assert_msg((s.gate.wait_ | 1) == 1,
                      "round %d left wait_ = %#llx", round,
                      (unsigned long long)s.gate.wait_);
    }
}
END_TEST

/* A wait group on a goroutine's stack, gone as soon as Wait returns. */
static void stack_wg_child(void *arg)
{
    grt_yield();
    grt_wg_done(arg);
}

static void stack_wg_parent(void *arg)
{
    grt_wg wg = GRT_WG_INIT;
    grt_wg_add(&wg, 2);
    grt_go(stack_wg_child, &wg);
    grt_go(stack_wg_child, &wg);
    grt_wg_wait(&wg);
    grt_wg_done(arg);
}

START_TEST(t_wg_on_stack)
{
    grt_wg outer = GRT_WG_INIT;
    grt_wg_add(&outer, 50);
    for (int i = 0; i < 50; i++)
        grt_go(stack_wg_parent, &outer);
    grt_wg_wait(&outer);
}
END_TEST

/* ---------------------------------------------------------------------
 * mutex
 * --------------------------------------------------------------------- */

START_TEST(t_mutex_basic)
{
    grt_mutex mu = GRT_MUTEX_INIT;
    grt_mutex_lock(&mu);
    ck_assert(!grt_mutex_trylock(&mu));
    grt_mutex_unlock(&mu);
    ck_assert(grt_mutex_trylock(&mu));
    ck_assert(!grt_mutex_trylock(&mu));
    grt_mutex_unlock(&mu);
    grt_mutex_lock(&mu);
    grt_mutex_unlock(&mu);

    grt_mutex *heap = calloc(1, sizeof *heap); /* all zeros: unlocked */
    ck_assert_ptr_nonnull(heap);
    grt_mutex_lock(heap);
    grt_mutex_unlock(heap);
    free(heap);
}
END_TEST

struct blocked {
    grt_mutex mu;
    grt_wg wg;
    atomic_int state; /* 1 trying, 2 locked */
};

static void lock_then_flag(void *arg)
{
    struct blocked *b = arg;
    atomic_store(&b->state, 1);
    grt_mutex_lock(&b->mu);
    atomic_store(&b->state, 2);
    grt_mutex_unlock(&b->mu);
    grt_wg_done(&b->wg);
}

START_TEST(t_mutex_blocks)
{
    static struct blocked b;
    grt_mutex_lock(&b.mu);
    grt_wg_add(&b.wg, 1);
    grt_go(lock_then_flag, &b);
    YIELD_UNTIL(atomic_load(&b.state) == 1);
    yield_n(20);
    ck_assert_int_eq(atomic_load(&b.state), 1); /* still blocked */
    grt_mutex_unlock(&b.mu);
    grt_wg_wait(&b.wg);
    ck_assert_int_eq(atomic_load(&b.state), 2);
}
END_TEST

static void unlock_other(void *arg)
{
    struct blocked *b = arg;
    grt_mutex_unlock(&b->mu); /* locked by main: allowed, as Go */
    grt_wg_done(&b->wg);
}

START_TEST(t_mutex_unlock_by_other)
{
    static struct blocked b;
    grt_mutex_lock(&b.mu);
    grt_wg_add(&b.wg, 1);
    grt_go(unlock_other, &b);
    grt_wg_wait(&b.wg);
    ck_assert(grt_mutex_trylock(&b.mu));
    grt_mutex_unlock(&b.mu);
}
END_TEST

/* Go's HammerMutex: contention with parking (yield inside the lock). */
struct counter {
    grt_mutex mu;
    grt_wg wg;
    long n;
    int iters;
    int yield_every;
    atomic_int inside;
    atomic_int errors;
};

static void hammer_mutex(void *arg)
{
    struct counter *c = arg;
    for (int i = 0; i < c->iters; i++) {
        if (i % 3 == 0 && grt_mutex_trylock(&c->mu)) {
            /* taken without waiting */
        } else {
            grt_mutex_lock(&c->mu);
        }
        if (atomic_fetch_add(&c->inside, 1) != 0)
            atomic_fetch_add(&c->errors, 1);
        c->n++;
        if (c->yield_every && i % c->yield_every == 0)
            grt_yield();
        atomic_fetch_sub(&c->inside, 1);
        grt_mutex_unlock(&c->mu);
    }
    grt_wg_done(&c->wg);
}

START_TEST(t_mutex_hammer)
{
    static struct counter c = {.iters = 1000, .yield_every = 7};
    grt_wg_add(&c.wg, 10);
    for (int i = 0; i < 10; i++)
        grt_go(hammer_mutex, &c);
    grt_wg_wait(&c.wg);
    ck_assert_int_eq(atomic_load(&c.errors), 0);
    ck_assert_int_eq(c.n, 10 * 1000);
}
END_TEST

/* ---------------------------------------------------------------------
 * starvation (Go's TestMutexFairness): a goroutine that holds the mutex
 * almost all the time must not keep another out for ever.
 * --------------------------------------------------------------------- */

struct fairness {
    grt_mutex mu;
    grt_wg hog_done, done;
    atomic_int stop;
};

static void hog(void *arg)
{
    struct fairness *f = arg;
    while (!atomic_load(&f->stop)) {
        grt_mutex_lock(&f->mu);
        grt_sleep(100 * 1000);
        grt_mutex_unlock(&f->mu);
    }
    grt_wg_done(&f->hog_done);
}

static void polite(void *arg)
{
    struct fairness *f = arg;
    for (int i = 0; i < 10; i++) {
        grt_sleep(100 * 1000);
        grt_mutex_lock(&f->mu);
        grt_mutex_unlock(&f->mu);
    }
    grt_wg_done(&f->done);
}

START_TEST(t_mutex_fairness)
{
    static struct fairness f;
    grt_wg_add(&f.hog_done, 1);
    grt_wg_add(&f.done, 1);
    grt_go(hog, &f);
    grt_go(polite, &f);
    /* Without starvation mode this never returns (Check's timeout). */
    grt_wg_wait(&f.done);
    atomic_store(&f.stop, 1);
    grt_wg_wait(&f.hog_done);
}
END_TEST

/* Busy lockers that yield while holding it: waiters starve for > 1 ms
 * and hand-offs happen; nothing may be lost. */
START_TEST(t_mutex_starving_handoff)
{
    static struct counter c = {.iters = 3000, .yield_every = 1};
    grt_wg_add(&c.wg, 4);
    for (int i = 0; i < 4; i++)
        grt_go(hammer_mutex, &c);
    grt_wg_wait(&c.wg);
    ck_assert_int_eq(atomic_load(&c.errors), 0);
    ck_assert_int_eq(c.n, 4 * 3000);
}
END_TEST

/* ---------------------------------------------------------------------
 * rwmutex
 * --------------------------------------------------------------------- */

START_TEST(t_rw_basic)
{
    grt_rwmutex rw = GRT_RWMUTEX_INIT;
    grt_rwmutex_rlock(&rw);
    ck_assert(grt_rwmutex_tryrlock(&rw)); /* readers share */
    ck_assert(!grt_rwmutex_trylock(&rw));
    grt_rwmutex_runlock(&rw);
    grt_rwmutex_runlock(&rw);
    ck_assert(grt_rwmutex_trylock(&rw));
    ck_assert(!grt_rwmutex_tryrlock(&rw));
    ck_assert(!grt_rwmutex_trylock(&rw));
    grt_rwmutex_unlock(&rw);
    grt_rwmutex_lock(&rw);
    grt_rwmutex_unlock(&rw);
    grt_rwmutex_rlock(&rw);
    grt_rwmutex_runlock(&rw);
}
END_TEST

struct rw_state {
    grt_rwmutex rw;
    grt_wg wg;
    atomic_int phase;
};

static void rw_writer(void *arg)
{
    struct rw_state *s = arg;
    atomic_store(&s->phase, 1);
    grt_rwmutex_lock(&s->rw);
    atomic_store(&s->phase, 2);
    grt_yield();
    grt_rwmutex_unlock(&s->rw);
    grt_wg_done(&s->wg);
}

static void rw_late_reader(void *arg)
{
    struct rw_state *s = arg;
    grt_rwmutex_rlock(&s->rw);
    /* Only after the pending writer has been in and out. */
    if (atomic_load(&s->phase) != 2)
        atomic_store(&s->phase, -1);
    grt_rwmutex_runlock(&s->rw);
    grt_wg_done(&s->wg);
}

/* True when a reader could not get in now (a writer is pending). */
static bool writer_pending(grt_rwmutex *rw)
{
    if (!grt_rwmutex_tryrlock(rw))
        return true;
    grt_rwmutex_runlock(rw);
    return false;
}

START_TEST(t_rw_writer_waits)
{
    static struct rw_state s;
    grt_rwmutex_rlock(&s.rw);
    grt_wg_add(&s.wg, 2);
    grt_go(rw_writer, &s);
    /* Once the writer is pending, new readers are kept out. */
    YIELD_UNTIL(writer_pending(&s.rw));
    ck_assert_int_eq(atomic_load(&s.phase), 1);
    grt_go(rw_late_reader, &s);
    yield_n(20);
    ck_assert_int_eq(atomic_load(&s.phase), 1); /* writer still waits */
    grt_rwmutex_runlock(&s.rw); /* the last reader lets the writer in */
    grt_wg_wait(&s.wg);
    ck_assert_int_eq(atomic_load(&s.phase), 2);
}
END_TEST

/* Go's HammerRWMutex: readers add 1, writers 10000, to one activity. */
struct rw_hammer {
    grt_rwmutex rw;
    grt_wg wg;
    atomic_int activity;
    atomic_int errors;
    int iters;
};

static void hammer_reader(void *arg)
{
    struct rw_hammer *h = arg;
    for (int i = 0; i < h->iters; i++) {
        if (i % 5 == 0 && grt_rwmutex_tryrlock(&h->rw)) {
            /* shared without waiting */
        } else {
            grt_rwmutex_rlock(&h->rw);
        }
        int n = atomic_fetch_add(&h->activity, 1) + 1;
        if (n < 1 || n >= 10000)
            atomic_fetch_add(&h->errors, 1);
        if (i % 3 == 0)
            grt_yield();
        atomic_fetch_sub(&h->activity, 1);
        grt_rwmutex_runlock(&h->rw);
    }
    grt_wg_done(&h->wg);
}

static void hammer_writer(void *arg)
{
    struct rw_hammer *h = arg;
    for (int i = 0; i < h->iters; i++) {
        if (i % 5 == 0 && grt_rwmutex_trylock(&h->rw)) {
            /* exclusive without waiting */
        } else {
            grt_rwmutex_lock(&h->rw);
        }
        int n = atomic_fetch_add(&h->activity, 10000) + 10000;
        if (n != 10000)
            atomic_fetch_add(&h->errors, 1);
        if (i % 3 == 0)
            grt_yield();
        atomic_fetch_sub(&h->activity, 10000);
        grt_rwmutex_unlock(&h->rw);
    }
    grt_wg_done(&h->wg);
}

static void rw_hammer_run(struct rw_hammer *h, int readers, int writers)
{
    int n = readers + writers, stride = n / writers;
    grt_wg_add(&h->wg, n);
    for (int i = 0; i < n; i++) {
        /* writers spread among the readers */
        if (i % stride == 0 && writers-- > 0)
            grt_go(hammer_writer, h);
        else
            grt_go(hammer_reader, h);
    }
    grt_wg_wait(&h->wg);
    ck_assert_int_eq(atomic_load(&h->errors), 0);
    ck_assert_int_eq(atomic_load(&h->activity), 0);
}

START_TEST(t_rw_hammer)
{
    static struct rw_hammer h = {.iters = 500};
    rw_hammer_run(&h, 8, 2);
}
END_TEST

/* ---------------------------------------------------------------------
 * once
 * --------------------------------------------------------------------- */

struct once_state {
    grt_once once;
    grt_wg wg;
    atomic_int runs;
    atomic_int finished;
    atomic_int early; /* callers that returned before fn finished */
};

static void once_fn(void *arg)
{
    struct once_state *s = arg;
    atomic_fetch_add(&s->runs, 1);
    yield_n(10); /* let the other callers pile up behind us */
    atomic_store(&s->finished, 1);
}

static void once_caller(void *arg)
{
    struct once_state *s = arg;
    grt_once_do(&s->once, once_fn, s);
    if (!atomic_load(&s->finished))
        atomic_fetch_add(&s->early, 1);
    grt_wg_done(&s->wg);
}

START_TEST(t_once_basic)
{
    static struct once_state s;
    grt_once_do(&s.once, once_fn, &s);
    grt_once_do(&s.once, once_fn, &s);
    ck_assert_int_eq(atomic_load(&s.runs), 1);
}
END_TEST

START_TEST(t_once_concurrent)
{
    static struct once_state s;
    grt_wg_add(&s.wg, 16);
    for (int i = 0; i < 16; i++)
        grt_go(once_caller, &s);
    grt_wg_wait(&s.wg);
    ck_assert_int_eq(atomic_load(&s.runs), 1);
    ck_assert_int_eq(atomic_load(&s.early), 0);
}
END_TEST

/* ---------------------------------------------------------------------
 * cond
 * --------------------------------------------------------------------- */

enum { NCOND = 8 };

struct cond_state;

struct cond_arg {
    struct cond_state *s;
    int i;
};

struct cond_state {
    grt_mutex mu;
    grt_cond cv;
    grt_wg wg;
    int entered;      /* under mu */
    int woken;        /* under mu */
    int order[NCOND]; /* under mu */
    struct cond_arg args[NCOND];
};

static void cond_waiter(void *arg)
{
    struct cond_arg *a = arg;
    struct cond_state *s = a->s;
    grt_mutex_lock(&s->mu);
    s->entered++;
    grt_cond_wait(&s->cv, &s->mu);
    s->order[s->woken++] = a->i;
    grt_mutex_unlock(&s->mu);
    grt_wg_done(&s->wg);
}

static int locked_read(grt_mutex *mu, const int *p)
{
    grt_mutex_lock(mu);
    int v = *p;
    grt_mutex_unlock(mu);
    return v;
}

/* Start NCOND waiters one after another, each queued before the next. */
static void start_cond_waiters(struct cond_state *s)
{
    grt_wg_add(&s->wg, NCOND);
    for (int i = 0; i < NCOND; i++) {
        s->args[i] = (struct cond_arg){s, i};
        grt_go(cond_waiter, &s->args[i]);
        /* Seen under mu, entered == i + 1 means waiter i has its ticket
         * (cond_wait takes it before unlocking). */
        YIELD_UNTIL(locked_read(&s->mu, &s->entered) == i + 1);
    }
}

START_TEST(t_cond_signal_order)
{
    static struct cond_state s;
    grt_cond_signal(&s.cv); /* nobody waits: not remembered */
    start_cond_waiters(&s);
    yield_n(20);
    ck_assert_int_eq(locked_read(&s.mu, &s.woken), 0);
    for (int k = 0; k < NCOND; k++) {
        grt_cond_signal(&s.cv);
        YIELD_UNTIL(locked_read(&s.mu, &s.woken) == k + 1);
        yield_n(5);
        ck_assert_int_eq(locked_read(&s.mu, &s.woken), k + 1);
    }
    grt_wg_wait(&s.wg);
    for (int k = 0; k < NCOND; k++)
        ck_assert_int_eq(s.order[k], k); /* oldest waiter first */
}
END_TEST

START_TEST(t_cond_broadcast)
{
    static struct cond_state s;
    start_cond_waiters(&s);
    grt_mutex_lock(&s.mu);
    grt_cond_broadcast(&s.cv); /* may be called with the mutex held */
    grt_mutex_unlock(&s.mu);
    grt_wg_wait(&s.wg);
    ck_assert_int_eq(s.woken, NCOND);
    grt_cond_broadcast(&s.cv); /* nobody waits: no-op */
    grt_cond_signal(&s.cv);
}
END_TEST

/* A bounded queue with two conditions (producer/consumer). */
struct bqueue {
    grt_mutex mu;
    grt_cond not_empty, not_full;
    int buf[4];
    int head, len;
    long sum;
    grt_wg wg;
};

enum { BQ_ITEMS = 2000, BQ_PRODUCERS = 3 };

static void producer(void *arg)
{
    struct bqueue *q = arg;
    for (int i = 1; i <= BQ_ITEMS; i++) {
        grt_mutex_lock(&q->mu);
        while (q->len == 4)
            grt_cond_wait(&q->not_full, &q->mu);
        q->buf[(q->head + q->len++) % 4] = i;
        grt_cond_signal(&q->not_empty);
        grt_mutex_unlock(&q->mu);
    }
    grt_wg_done(&q->wg);
}

static void consumer(void *arg)
{
    struct bqueue *q = arg;
    for (int i = 0; i < BQ_ITEMS * BQ_PRODUCERS; i++) {
        grt_mutex_lock(&q->mu);
        while (q->len == 0)
            grt_cond_wait(&q->not_empty, &q->mu);
        q->sum += q->buf[q->head];
        q->head = (q->head + 1) % 4;
        q->len--;
        grt_cond_signal(&q->not_full);
        grt_mutex_unlock(&q->mu);
    }
    grt_wg_done(&q->wg);
}

START_TEST(t_cond_queue)
{
    static struct bqueue q;
    grt_wg_add(&q.wg, BQ_PRODUCERS + 1);
    grt_go(consumer, &q);
    for (int i = 0; i < BQ_PRODUCERS; i++)
        grt_go(producer, &q);
    grt_wg_wait(&q.wg);
    ck_assert_int_eq(q.len, 0);
    ck_assert_int_eq(q.sum, (long)BQ_PRODUCERS * BQ_ITEMS * (BQ_ITEMS + 1) / 2);
}
END_TEST

/* ---------------------------------------------------------------------
 * misuse: Go's words, exit status 2
 * --------------------------------------------------------------------- */

static void wg_negative(void)
{
    grt_wg wg = GRT_WG_INIT;
    grt_yield(); /* the runtime is up, as in a real program */
    grt_wg_add(&wg, 1);
    grt_wg_done(&wg);
    grt_wg_done(&wg);
}

static void mutex_unlock_unlocked(void)
{
    grt_mutex mu = GRT_MUTEX_INIT;
    grt_yield();
    grt_mutex_lock(&mu);
    grt_mutex_unlock(&mu);
    grt_mutex_unlock(&mu);
}

static void rw_runlock_unlocked(void)
{
    grt_rwmutex rw = GRT_RWMUTEX_INIT;
    grt_yield();
    grt_rwmutex_runlock(&rw);
}

static void rw_unlock_unlocked(void)
{
    grt_rwmutex rw = GRT_RWMUTEX_INIT;
    grt_yield();
    grt_rwmutex_unlock(&rw);
}

static void rw_runlock_write_locked(void)
{
    grt_rwmutex rw = GRT_RWMUTEX_INIT;
    grt_rwmutex_lock(&rw);
    grt_rwmutex_runlock(&rw);
}

/* The exit tests check the status; t_misuse_messages checks the words,
 * so the expected fatal errors stay out of the test log. */
static void quiet(void)
{
    if (!freopen("/dev/null", "w", stderr))
        ck_abort_msg("cannot silence stderr");
}

START_TEST(t_exit_wg_negative)
{
    quiet();
    wg_negative();
}
END_TEST

START_TEST(t_exit_mutex_unlock)
{
    quiet();
    mutex_unlock_unlocked();
}
END_TEST

START_TEST(t_exit_rw_runlock)
{
    quiet();
    rw_runlock_unlocked();
}
END_TEST

START_TEST(t_exit_rw_unlock)
{
    quiet();
    rw_unlock_unlocked();
}
END_TEST

START_TEST(t_exit_rw_runlock_w)
{
    quiet();
    rw_runlock_write_locked();
}
END_TEST

/* Run fn as a child program: exit status 2 and Go's words first. */
static void expect_death(void (*fn)(void), const char *want)
{
    char err[4096];
    int st = 0;
    tu_child(fn, err, sizeof err, &st);
    tu_assert_child(st, err, 2, want);
}

START_TEST(t_misuse_messages)
{
    expect_death(wg_negative, "panic: sync: negative WaitGroup counter");
    expect_death(mutex_unlock_unlocked,
                 "fatal error: sync: unlock of unlocked mutex");
    expect_death(rw_runlock_unlocked,
                 "fatal error: sync: RUnlock of unlocked RWMutex");
    expect_death(rw_unlock_unlocked,
                 "fatal error: sync: Unlock of unlocked RWMutex");
    expect_death(rw_runlock_write_locked,
                 "fatal error: sync: RUnlock of unlocked RWMutex");
}
END_TEST

/* ---------------------------------------------------------------------
 * stress
 * --------------------------------------------------------------------- */

START_TEST(t_stress_mutex)
{
    /* 8 goroutines x 10,000 increments lose nothing. */
    static struct counter c = {.iters = 10000, .yield_every = 97};
    grt_wg_add(&c.wg, 8);
    for (int i = 0; i < 8; i++)
        grt_go(hammer_mutex, &c);
    grt_wg_wait(&c.wg);
    ck_assert_int_eq(atomic_load(&c.errors), 0);
    ck_assert_int_eq(c.n, 8 * 10000);
}
END_TEST

START_TEST(t_stress_rwmutex)
{
    static struct rw_hammer h = {.iters = 5000};
    rw_hammer_run(&h, 12, 4);
}
END_TEST

/* Many short-lived wait groups and conds: sema roots shared by many
 * addresses, waiters of different addresses in one root. */
struct ping {
    grt_mutex mu;
    grt_cond cv;
    int turn; /* under mu */
    grt_wg wg;
};

static void pinger(void *arg)
{
    struct ping *p = arg;
    for (int i = 0; i < 1000; i++) {
        grt_mutex_lock(&p->mu);
        while (p->turn != 0)
            grt_cond_wait(&p->cv, &p->mu);
        p->turn = 1;
        grt_cond_broadcast(&p->cv);
        grt_mutex_unlock(&p->mu);
    }
    grt_wg_done(&p->wg);
}

static void ponger(void *arg)
{
    struct ping *p = arg;
    for (int i = 0; i < 1000; i++) {
        grt_mutex_lock(&p->mu);
        while (p->turn != 1)
            grt_cond_wait(&p->cv, &p->mu);
        p->turn = 0;
        grt_cond_signal(&p->cv);
        grt_mutex_unlock(&p->mu);
    }
    grt_wg_done(&p->wg);
}

START_TEST(t_stress_pingpong)
{
    enum { PAIRS = 16 };
    static struct ping p[PAIRS];
    for (int i = 0; i < PAIRS; i++) {
        grt_wg_add(&p[i].wg, 2);
        grt_go(pinger, &p[i]);
        grt_go(ponger, &p[i]);
    }
    for (int i = 0; i < PAIRS; i++)
        grt_wg_wait(&p[i].wg);
}
END_TEST

/* --------------------------------------------------------------------- */

static Suite *sync_suite(void)
{
    Suite *s = suite_create("sync");
    TCase *tc;

    tc = tcase_create("waitgroup");
    tcase_add_test(tc, t_wg_zero);
    tcase_add_test(tc, t_wg_basic);
    tcase_add_test(tc, t_wg_barrier);
    tcase_add_test(tc, t_wg_many_waiters);
    tcase_add_test(tc, t_wg_waiters_race_wake);
    tcase_add_test(tc, t_wg_on_stack);
    suite_add_tcase(s, tc);

    tc = tcase_create("mutex");
    tcase_add_test(tc, t_mutex_basic);
    tcase_add_test(tc, t_mutex_blocks);
    tcase_add_test(tc, t_mutex_unlock_by_other);
    tcase_add_test(tc, t_mutex_hammer);
    suite_add_tcase(s, tc);

    tc = tcase_create("starvation");
    tcase_set_timeout(tc, TU_TIMEOUT);
    tcase_add_test(tc, t_mutex_fairness);
    tcase_add_test(tc, t_mutex_starving_handoff);
    suite_add_tcase(s, tc);

    tc = tcase_create("rwmutex");
    tcase_add_test(tc, t_rw_basic);
    tcase_add_test(tc, t_rw_writer_waits);
    tcase_add_test(tc, t_rw_hammer);
    suite_add_tcase(s, tc);

    tc = tcase_create("once");
    tcase_add_test(tc, t_once_basic);
    tcase_add_test(tc, t_once_concurrent);
    suite_add_tcase(s, tc);

    tc = tcase_create("cond");
    tcase_add_test(tc, t_cond_signal_order);
    tcase_add_test(tc, t_cond_broadcast);
    tcase_add_test(tc, t_cond_queue);
    suite_add_tcase(s, tc);

    tc = tcase_create("misuse");
    tcase_add_exit_test(tc, t_exit_wg_negative, 2);
    tcase_add_exit_test(tc, t_exit_mutex_unlock, 2);
    tcase_add_exit_test(tc, t_exit_rw_runlock, 2);
    tcase_add_exit_test(tc, t_exit_rw_unlock, 2);
    tcase_add_exit_test(tc, t_exit_rw_runlock_w, 2);
    tcase_add_test(tc, t_misuse_messages);
    suite_add_tcase(s, tc);

    tc = tcase_create("stress");
    tcase_set_timeout(tc, TU_TIMEOUT);
    tcase_add_test(tc, t_stress_mutex);
    tcase_add_test(tc, t_stress_rwmutex);
    tcase_add_test(tc, t_stress_pingpong);
    suite_add_tcase(s, tc);

    return s;
}

int main(void)
{
    /* No grt call here: each test starts its own runtime in its child. */
    return tu_run_suite(sync_suite());
}
