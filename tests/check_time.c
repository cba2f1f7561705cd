/*
 * check_time.c - sleep, grt_after, tickers and timers: Go's time package
 * semantics (API.md, "Time"), with Go 1.23's timer channels (no stale
 * value after stop or reset; stop reports a fired but unreceived timer
 * as stopped).
 *
 * Durations are checked from below only (a sleep lasts at least its
 * duration); nothing asserts an upper bound, since a loaded machine or a
 * sanitizer build may be arbitrarily late.  "Nothing arrives" is checked
 * after generous sleeps with non-blocking receives, never by timing.
 * Only main asserts with ck_assert*; goroutines use tu_check.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include <grt.h>

#include "testutil.h"

#define MS 1000000LL

/* A non-blocking receive: true if a value was there. */
static bool try_recv(grt_chan *c, int64_t *out)
{
    grt_case rc = {.chan = c, .op = GRT_RECV, .elem = out};
    return grt_select(&rc, 1, true) == 0;
}

/* ---- sleep ---- */

START_TEST(t_sleep_at_least)
{
    int64_t t0 = grt_now();
    grt_sleep(20 * MS);
    ck_assert_int_ge(grt_now() - t0, 20 * MS);
    grt_sleep(0);  /* at most a yield */
    grt_sleep(-5); /* likewise */
    t0 = grt_now();
    grt_sleep(1); /* 1 ns still parks on a timer */
    ck_assert_int_ge(grt_now() - t0, 1);
}
END_TEST

static grt_wg sleep_wg;

static void timed_sleeper(void *arg)
{
    int64_t ns = (int64_t)(intptr_t)arg;
    int64_t t0 = grt_now();
    grt_sleep(ns);
    tu_check(grt_now() - t0 >= ns);
    grt_wg_done(&sleep_wg);
}

/* Sleepers of different lengths on every P; each lasts its duration. */
START_TEST(t_sleep_goroutines)
{
    grt_wg_add(&sleep_wg, 100);
    for (int i = 0; i < 100; i++)
        grt_go(timed_sleeper, (void *)(intptr_t)((i % 10 + 1) * MS));
    grt_wg_wait(&sleep_wg);
    tu_wait_goroutines(1);
}
END_TEST

/*
 * A timer fires while its P does nothing but switch between two
 * goroutines (one P, so only that P's own checks can run it).  The
 * switches ask "is the earliest timer due?" from a cached tick count
 * (proc.c's timer_due); were the cache never to expire, the ping-pong
 * below would never end.  The sleeps here wait out sysmon's first
 * calibration of the tick rate (10 ms), so the cache is in use.
 */
static atomic_int woke;

static void flag_sleeper(void *arg)
{
    grt_sleep((int64_t)(intptr_t)arg);
    atomic_store(&woke, 1);
}

struct bounce {
    grt_chan *in, *out;
    grt_wg *wg;
};

static void bouncer(void *arg)
{
    struct bounce *b = arg;
    int v;
    while (grt_chan_recv(b->in, &v))
        grt_chan_send(b->out, &v);
    grt_wg_done(b->wg);
}

START_TEST(t_timer_amid_switches)
{
    int old = grt_maxprocs(1);
    grt_sleep(30 * MS);
    grt_chan *c1 = grt_chan_make(sizeof(int), 0);
    grt_chan *c2 = grt_chan_make(sizeof(int), 0);
    grt_wg wg = GRT_WG_INIT;
    struct bounce b = {c1, c2, &wg};
    grt_wg_add(&wg, 1);
    grt_go(bouncer, &b);
    for (int round = 0; round < 3; round++) {
        atomic_store(&woke, 0);
        /* a far timer first, so the cache holds a due time that the
         * near one must replace */
        grt_timer *far = grt_timer_make(1000 * MS);
        grt_go(flag_sleeper, (void *)(intptr_t)((round + 1) * MS));
        long n = 0;
        int v = 0;
        while (!atomic_load(&woke)) {
            grt_chan_send(c1, &v);
            grt_chan_recv(c2, &v);
            n++;
        }
        ck_assert_int_gt(n, 0);
        grt_timer_stop(far);
        grt_timer_free(far);
    }
    grt_chan_close(c1);
    grt_wg_wait(&wg);
    grt_chan_free(c1);
    grt_chan_free(c2);
    grt_maxprocs(old);
}
END_TEST

/* A timer that falls due while its P's run queue is long waits for the
 * queue to drain below half (time.c's TIMERS_RUNQ_LIMIT) instead of
 * jumping it; it still fires before the queue is empty.  On one P the
 * sleeper's turn among QUEUED workers shows which: first means it jumped
 * the queue, last means it waited for all of it. */
enum { QUEUED = 200 };
static grt_wg turn_wg;
static atomic_int turn_next;
static int sleeper_turn;

static void turn_sleeper(void *arg)
{
    (void)arg;
    grt_sleep(1 * MS);
    sleeper_turn = atomic_fetch_add(&turn_next, 1);
    grt_wg_done(&turn_wg);
}

static void turn_worker(void *arg)
{
    (void)arg;
    atomic_fetch_add(&turn_next, 1);
    grt_wg_done(&turn_wg);
}

START_TEST(t_timer_behind_long_queue)
{
    int old = grt_maxprocs(1);
    grt_sleep(30 * MS);
    atomic_store(&turn_next, 0);
    sleeper_turn = -1;
    grt_wg_add(&turn_wg, 1 + QUEUED);
    grt_go(turn_sleeper, NULL);
    grt_yield(); /* the sleeper arms its timer and parks */
    for (int i = 0; i < QUEUED; i++)
        grt_go(turn_worker, NULL);
    /* spin (no scheduling point) until the timer is due, with every
     * worker queued behind us */
    int64_t until = grt_now() + 3 * MS;
    while (grt_now() < until)
        ;
    grt_wg_wait(&turn_wg);
    ck_assert_int_gt(sleeper_turn, 0);
    ck_assert_int_lt(sleeper_turn, QUEUED);
    grt_maxprocs(old);
}
END_TEST

/* ...but a ring that never drains (goroutines yielding to each other)
 * does not hold a due timer back for ever. */
static atomic_int yield_stop;

static void yielder(void *arg)
{
    (void)arg;
    while (!atomic_load(&yield_stop))
        grt_yield();
    grt_wg_done(&turn_wg);
}

START_TEST(t_timer_behind_yielders)
{
    int old = grt_maxprocs(1);
    grt_sleep(30 * MS);
    atomic_store(&yield_stop, 0);
    grt_wg_add(&turn_wg, QUEUED);
    for (int i = 0; i < QUEUED; i++)
        grt_go(yielder, NULL);
    grt_sleep(5 * MS); /* hangs if the timer waits for the ring */
    atomic_store(&yield_stop, 1);
    grt_wg_wait(&turn_wg);
    grt_maxprocs(old);
}
END_TEST

/* Two goroutines woken by one timer (a context's deadline closes the
 * channel both wait on), the one run first spinning without scheduling
 * points until the other has run: the M that runs the timers holds back
 * their wake-ups of idle Ms (it runs the first itself) but must still
 * wake one for the second (proc.c's run_own_timers).  Were that wake-up
 * lost, the spinner would wait for ever; it gives up after 10 s and the
 * test fails.  The close readies the waiters last first (chan.c), so the
 * spinner, which waits first, is readied last, into runnext: it runs
 * first. */
static atomic_int pair_flag;
static atomic_int pair_stranded;
static grt_wg pair_wg;

static void pair_setter(void *arg)
{
    grt_chan_recv(grt_ctx_done(arg), NULL);
    atomic_store(&pair_flag, 1);
    grt_wg_done(&pair_wg);
}

static void pair_spinner(void *arg)
{
    grt_chan_recv(grt_ctx_done(arg), NULL);
    grt_preempt_disable();
    int64_t give_up = grt_now() + 10000 * MS;
    while (!atomic_load(&pair_flag))
        if (grt_now() > give_up) {
            atomic_store(&pair_stranded, 1);
            break;
        }
    grt_preempt_enable();
    grt_wg_done(&pair_wg);
}

START_TEST(t_timer_batch_wakes_idle_m)
{
    int old = grt_maxprocs(2);
    for (int round = 0; round < 5; round++) {
        atomic_store(&pair_flag, 0);
        grt_ctx *ctx = grt_ctx_with_timeout(grt_ctx_background(), 20 * MS);
        grt_wg_add(&pair_wg, 2);
        grt_go(pair_spinner, ctx);
        grt_sleep(2 * MS); /* the spinner waits first */
        grt_go(pair_setter, ctx);
        grt_wg_wait(&pair_wg);
        ck_assert_msg(!atomic_load(&pair_stranded),
                      "round %d: the second woken goroutine was stranded",
                      round);
        grt_ctx_free(ctx);
    }
    grt_maxprocs(old);
}
END_TEST

/* A goroutine asleep is not a deadlock: main blocks on a channel that a
 * sleeper sends on once it wakes. */
static void late_sender(void *arg)
{
    grt_sleep(10 * MS);
    int v = 42;
    grt_chan_send(arg, &v);
}

START_TEST(t_sleep_not_deadlock)
{
    grt_chan *c = grt_chan_make(sizeof(int), 0);
    grt_go(late_sender, c);
    int v = 0;
    ck_assert(grt_chan_recv(c, &v));
    ck_assert_int_eq(v, 42);
    tu_wait_goroutines(1);
    grt_chan_free(c);
}
END_TEST

/* ---- many ---- */

static grt_wg many_wg;
static atomic_long many_done;

static void many_sleeper(void *arg)
{
    (void)arg;
    for (int i = 0; i < 5; i++)
        grt_sleep(2 * MS + (int64_t)(grt_self() % 3) * MS);
    atomic_fetch_add(&many_done, 1);
    grt_wg_done(&many_wg);
}

START_TEST(t_many_sleepers)
{
    grt_wg_add(&many_wg, 1000);
    for (int i = 0; i < 1000; i++)
        grt_go(many_sleeper, NULL);
    grt_wg_wait(&many_wg);
    ck_assert_int_eq(atomic_load(&many_done), 1000);
    tu_wait_goroutines(1);
}
END_TEST

/* Timers move when a P is retired (grt_maxprocs shrinking): every
 * sleeper still wakes. */
START_TEST(t_many_sleepers_maxprocs)
{
    int old = grt_maxprocs(4);
    grt_wg_add(&many_wg, 1000);
    for (int i = 0; i < 1000; i++)
        grt_go(many_sleeper, NULL);
    for (int i = 0; i < 10; i++) {
        grt_maxprocs(i % 2 ? 4 : 1);
        grt_sleep(1 * MS);
    }
    grt_maxprocs(1);
    grt_wg_wait(&many_wg);
    ck_assert_int_eq(atomic_load(&many_done), 1000);
    grt_maxprocs(old);
    tu_wait_goroutines(1);
}
END_TEST

/*
 * Short sleeps on two Ps with nothing else to run: each sleeper's M adds
 * its timer and goes idle while the other M may be taking the timer
 * sleeper's role.  The adder publishes its timer then reads whether a
 * sleeper needs waking; the sleeper publishes itself then reads the
 * timers.  Without a full barrier between each side's store and load
 * (x86 lets a load pass an earlier store) both can miss the other: the
 * sleeper sleeps with no deadline, the adder wakes nobody, and the
 * program hangs (it did in about half of this test's runs, before
 * time.c's T3 and T4 were made seq-cst).
 */
#define RACE_SLEEPS 20000

static grt_wg race_wg;

static void short_sleeper(void *arg)
{
    (void)arg;
    for (int i = 0; i < RACE_SLEEPS; i++)
        grt_sleep(1000);
    grt_wg_done(&race_wg);
}

START_TEST(t_sleep_wake_race)
{
    int old = grt_maxprocs(2);
    grt_wg_add(&race_wg, 2);
    grt_go(short_sleeper, NULL);
    grt_go(short_sleeper, NULL);
    grt_wg_wait(&race_wg);
    grt_maxprocs(old);
    tu_wait_goroutines(1);
}
END_TEST

/* ---- after ---- */

START_TEST(t_after)
{
    int64_t t0 = grt_now();
    grt_chan *c = grt_after(10 * MS);
    ck_assert_uint_eq(grt_chan_cap(c), 1);
    int64_t fired = 0;
    ck_assert(grt_chan_recv(c, &fired));
    ck_assert_int_ge(fired - t0, 10 * MS); /* the time it fired */
    ck_assert_int_ge(grt_now(), fired);
    int64_t again;
    grt_sleep(5 * MS);
    ck_assert(!try_recv(c, &again)); /* once only */
    grt_chan_free(c);
}
END_TEST

/* Zero and negative durations fire at once; a huge one saturates and
 * does not fire; freeing the channel cancels its timer. */
START_TEST(t_after_durations)
{
    int64_t v;
    grt_chan *z = grt_after(0);
    grt_chan *n = grt_after(-1000 * MS);
    grt_chan *huge = grt_after(INT64_MAX);
    ck_assert(grt_chan_recv(z, &v));
    ck_assert(grt_chan_recv(n, &v));
    grt_sleep(5 * MS);
    ck_assert(!try_recv(huge, &v));
    grt_chan_free(huge);
    grt_chan_free(z);
    grt_chan_free(n);
    /* freed before firing: cancelled, nothing touches it afterwards */
    for (int i = 0; i < 100; i++)
        grt_chan_free(grt_after((i % 3) * MS));
    grt_sleep(10 * MS);
}
END_TEST

START_TEST(t_after_in_select)
{
    grt_chan *never = grt_chan_make(sizeof(int), 0);
    grt_chan *to = grt_after(5 * MS);
    int v;
    int64_t when;
    grt_case cs[2] = {{never, GRT_RECV, &v, false},
                      {to, GRT_RECV, &when, false}};
    ck_assert_int_eq(grt_select(cs, 2, false), 1);
    ck_assert(cs[1].ok);
    grt_chan_free(to);
    grt_chan_free(never);
}
END_TEST

/* ---- ticker ---- */

START_TEST(t_ticker)
{
    grt_ticker *tk = grt_ticker_make(2 * MS);
    int64_t t0 = grt_now();
    int64_t prev = 0, v;
    for (int i = 0; i < 5; i++) {
        ck_assert(grt_chan_recv(grt_ticker_chan(tk), &v));
        ck_assert_int_gt(v, prev); /* ticks in order */
        prev = v;
    }
    ck_assert_int_ge(prev - t0, 2 * MS);
    grt_ticker_stop(tk);
    /* stopped: no stale tick, nothing new, the channel stays open */
    for (int i = 0; i < 3; i++) {
        grt_sleep(5 * MS);
        ck_assert_uint_eq(grt_chan_len(grt_ticker_chan(tk)), 0);
        ck_assert(!try_recv(grt_ticker_chan(tk), &v));
    }
    grt_ticker_stop(tk); /* again: no effect */
    int64_t r0 = grt_now();
    grt_ticker_reset(tk, 1 * MS);
    ck_assert(grt_chan_recv(grt_ticker_chan(tk), &v));
    ck_assert_int_ge(v - r0, 1 * MS);
    ck_assert(grt_chan_recv(grt_ticker_chan(tk), &v));
    grt_ticker_free(tk);
}
END_TEST

START_TEST(t_ticker_slow_receiver_drops)
{
    grt_ticker *tk = grt_ticker_make(1 * MS);
    grt_sleep(20 * MS); /* many ticks due, at most one buffered */
    ck_assert_uint_le(grt_chan_len(grt_ticker_chan(tk)), 1);
    int64_t a, b;
    ck_assert(grt_chan_recv(grt_ticker_chan(tk), &a));
    ck_assert(grt_chan_recv(grt_ticker_chan(tk), &b));
    ck_assert_int_gt(b, a);
    grt_ticker_free(tk); /* free without stop */
}
END_TEST

/* Stop, reset and free race with ticks firing on other Ps. */
static grt_wg tick_wg;

static void ticker_churn(void *arg)
{
    (void)arg;
    for (int i = 0; i < 200; i++) {
        grt_ticker *tk = grt_ticker_make(1 + (int64_t)(i % 7) * 100000);
        int64_t v;
        if (i % 2)
            grt_chan_recv(grt_ticker_chan(tk), &v);
        if (i % 3 == 0)
            grt_ticker_reset(tk, 50000);
        if (i % 5 == 0) {
            grt_ticker_stop(tk);
            tu_check(!try_recv(grt_ticker_chan(tk), &v));
        }
        grt_ticker_free(tk);
    }
    grt_wg_done(&tick_wg);
}

START_TEST(t_ticker_churn)
{
    grt_wg_add(&tick_wg, 8);
    for (int i = 0; i < 8; i++)
        grt_go(ticker_churn, NULL);
    grt_wg_wait(&tick_wg);
    tu_wait_goroutines(1);
}
END_TEST

START_TEST(t_ticker_zero_exits)
{
    grt_ticker_make(0);
}
END_TEST

START_TEST(t_ticker_negative_exits)
{
    grt_ticker_make(-1 * MS);
}
END_TEST

START_TEST(t_ticker_reset_zero_exits)
{
    grt_ticker *tk = grt_ticker_make(1 * MS);
    grt_ticker_reset(tk, 0);
}
END_TEST

static void bad_ticker(void)
{
    grt_ticker_make(-1);
}

static void bad_ticker_reset(void)
{
    grt_ticker_reset(grt_ticker_make(1 * MS), -1);
}

START_TEST(t_ticker_panic_words)
{
    char err[4096];
    int st;
    tu_child(bad_ticker, err, sizeof err, &st);
    tu_assert_child(st, err, 2, "panic: non-positive interval for NewTicker");
    tu_child(bad_ticker_reset, err, sizeof err, &st);
    tu_assert_child(st, err, 2,
                    "panic: non-positive interval for Ticker.Reset");
}
END_TEST

/* ---- timer ---- */

START_TEST(t_timer_stop)
{
    int64_t v;
    grt_timer *tm = grt_timer_make(50 * MS);
    ck_assert(grt_timer_stop(tm));  /* stopped before firing */
    ck_assert(!grt_timer_stop(tm)); /* already stopped */
    grt_sleep(60 * MS);
    ck_assert(!try_recv(grt_timer_chan(tm), &v)); /* never fired */
    grt_timer_free(tm);

    /* fired and received: stop has nothing to stop */
    tm = grt_timer_make(1 * MS);
    ck_assert(grt_chan_recv(grt_timer_chan(tm), &v));
    ck_assert(!grt_timer_stop(tm));
    grt_timer_free(tm);

    /* huge durations saturate: pending until stopped */
    tm = grt_timer_make(INT64_MAX);
    grt_sleep(2 * MS);
    ck_assert(grt_timer_stop(tm));
    grt_timer_free(tm);
}
END_TEST

/* Go 1.23: a value not yet received is never seen after stop, and stop
 * reports the timer as stopped (the channel is logically unbuffered). */
START_TEST(t_timer_no_stale_after_stop)
{
    int64_t v;
    grt_timer *tm = grt_timer_make(1 * MS);
    grt_sleep(10 * MS); /* fired; its value waits in the channel */
    ck_assert(grt_timer_stop(tm));
    ck_assert(!try_recv(grt_timer_chan(tm), &v));
    ck_assert(!grt_timer_stop(tm));
    grt_timer_free(tm);
}
END_TEST

START_TEST(t_timer_reset)
{
    int64_t v;
    grt_timer *tm = grt_timer_make(50 * MS);
    ck_assert(grt_timer_reset(tm, 1 * MS)); /* was pending */
    ck_assert(grt_chan_recv(grt_timer_chan(tm), &v));
    ck_assert(!grt_timer_reset(tm, 1 * MS)); /* had fired, received */
    ck_assert(grt_chan_recv(grt_timer_chan(tm), &v));

    /* reset of a fired, unreceived timer: the old value is gone, the
     * next one is from after the reset */
    grt_sleep(2 * MS);
    grt_timer_reset(tm, 1 * MS);
    grt_sleep(10 * MS);
    int64_t r0 = grt_now();
    ck_assert(grt_timer_reset(tm, 5 * MS));
    ck_assert(grt_chan_recv(grt_timer_chan(tm), &v));
    ck_assert_int_ge(v - r0, 5 * MS);

    /* stopped, then reset: fires again */
    ck_assert(!grt_timer_stop(tm));
    ck_assert(!grt_timer_reset(tm, 0)); /* zero: at once */
    ck_assert(grt_chan_recv(grt_timer_chan(tm), &v));
    grt_timer_free(tm);

    tm = grt_timer_make(-5); /* negative: at once */
    ck_assert(grt_chan_recv(grt_timer_chan(tm), &v));
    grt_timer_free(tm);
}
END_TEST

/* A receiver blocked on the channel gets the value straight from the
 * firing timer. */
static void timer_receiver(void *arg)
{
    int64_t v = 0;
    tu_check(grt_chan_recv(grt_timer_chan(arg), &v));
    tu_check(v > 0);
    grt_wg_done(&sleep_wg);
}

START_TEST(t_timer_blocked_receiver)
{
    grt_timer *tm = grt_timer_make(5 * MS);
    grt_wg_add(&sleep_wg, 1);
    grt_go(timer_receiver, tm);
    grt_wg_wait(&sleep_wg);
    ck_assert(!grt_timer_stop(tm)); /* it was received */
    tu_wait_goroutines(1);
    grt_timer_free(tm);
}
END_TEST

/* Stop, reset and free race with firing on other Ps: nothing stale is
 * received after a stop, and freeing never races a running callback. */
static grt_wg churn_wg;

static void timer_churn(void *arg)
{
    (void)arg;
    int64_t v;
    for (int i = 0; i < 300; i++) {
        int64_t d = (int64_t)(i % 5) * 50000; /* 0 to 0.2 ms */
        grt_timer *tm = grt_timer_make(d);
        if (i % 4 == 1)
            grt_yield();
        if (i % 2) {
            grt_timer_stop(tm);
            tu_check(!try_recv(grt_timer_chan(tm), &v));
        } else if (i % 3 == 0) {
            grt_timer_reset(tm, d);
            tu_check(grt_chan_recv(grt_timer_chan(tm), &v));
        }
        grt_timer_free(tm);
        grt_chan_free(grt_after(d));
    }
    grt_wg_done(&churn_wg);
}

START_TEST(t_timer_churn)
{
    grt_wg_add(&churn_wg, 8);
    for (int i = 0; i < 8; i++)
        grt_go(timer_churn, NULL);
    grt_wg_wait(&churn_wg);
    tu_wait_goroutines(1);
}
END_TEST

static Suite *time_suite(void)
{
    Suite *s = suite_create("time");
    TCase *tc = tcase_create("sleep");
    tcase_add_test(tc, t_sleep_at_least);
    tcase_add_test(tc, t_sleep_goroutines);
    tcase_add_test(tc, t_sleep_not_deadlock);
    tcase_add_test(tc, t_timer_amid_switches);
    tcase_add_test(tc, t_timer_behind_long_queue);
    tcase_add_test(tc, t_timer_behind_yielders);
    tcase_add_test(tc, t_timer_batch_wakes_idle_m);
    suite_add_tcase(s, tc);

    tc = tcase_create("many");
    tcase_set_timeout(tc, TU_TIMEOUT);
    tcase_add_test(tc, t_many_sleepers);
    tcase_add_test(tc, t_many_sleepers_maxprocs);
    tcase_add_test(tc, t_sleep_wake_race);
    suite_add_tcase(s, tc);

    tc = tcase_create("after");
    tcase_add_test(tc, t_after);
    tcase_add_test(tc, t_after_durations);
    tcase_add_test(tc, t_after_in_select);
    suite_add_tcase(s, tc);

    tc = tcase_create("ticker");
    tcase_set_timeout(tc, TU_TIMEOUT);
    tcase_add_test(tc, t_ticker);
    tcase_add_test(tc, t_ticker_slow_receiver_drops);
    tcase_add_test(tc, t_ticker_churn);
    tcase_add_exit_test(tc, t_ticker_zero_exits, 2);
    tcase_add_exit_test(tc, t_ticker_negative_exits, 2);
    tcase_add_exit_test(tc, t_ticker_reset_zero_exits, 2);
    tcase_add_test(tc, t_ticker_panic_words);
    suite_add_tcase(s, tc);

    tc = tcase_create("timer");
    tcase_set_timeout(tc, TU_TIMEOUT);
    tcase_add_test(tc, t_timer_stop);
    tcase_add_test(tc, t_timer_no_stale_after_stop);
    tcase_add_test(tc, t_timer_reset);
    tcase_add_test(tc, t_timer_blocked_receiver);
    tcase_add_test(tc, t_timer_churn);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(time_suite());
}
