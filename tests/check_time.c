/*
 * check_time.c - sleep, grt_after, tickers and timers: Go's time package
 * semantics (API.md, "Time").  Durations are checked from below only
 * (a sleep lasts at least its duration); nothing asserts an upper bound.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include <grt.h>

#include "testutil.h"

#define MS 1000000LL

START_TEST(t_sleep_at_least)
{
    int64_t t0 = grt_now();
    grt_sleep(20 * MS);
    ck_assert_int_ge(grt_now() - t0, 20 * MS);
    grt_sleep(0);
    grt_sleep(-5);
}
END_TEST

static grt_wg many_wg;
static atomic_long many_done;

static void many_sleeper(void *arg)
{
    (void)arg;
    for (int i = 0; i < 5; i++)
        grt_sleep(2 * MS);
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
}
END_TEST

START_TEST(t_after)
{
    int64_t t0 = grt_now();
    grt_chan *c = grt_after(10 * MS);
    int64_t fired = 0;
    ck_assert(grt_chan_recv(c, &fired));
    ck_assert_int_ge(fired - t0, 10 * MS);
    ck_assert_int_ge(grt_now(), fired);
    grt_chan_free(c);
    /* freed before firing: cancelled, nothing touches it afterwards */
    grt_chan_free(grt_after(5 * MS));
    grt_sleep(10 * MS);
}
END_TEST

START_TEST(t_after_in_select)
{
    grt_chan *never = grt_chan_make(sizeof(int), 0);
    grt_chan *to = grt_after(5 * MS);
    int v;
    int64_t when;
    grt_case cs[2] = {{never, GRT_RECV, &v, false}, {to, GRT_RECV, &when, false}};
    ck_assert_int_eq(grt_select(cs, 2, false), 1);
    ck_assert(cs[1].ok);
    grt_chan_free(to);
    grt_chan_free(never);
}
END_TEST

START_TEST(t_ticker)
{
    grt_ticker *tk = grt_ticker_make(2 * MS);
    int64_t prev = 0, v;
    for (int i = 0; i < 5; i++) {
        ck_assert(grt_chan_recv(grt_ticker_chan(tk), &v));
        ck_assert_int_gt(v, prev);
        prev = v;
    }
    grt_ticker_stop(tk);
    grt_sleep(10 * MS);
    /* stopped: no stale tick, nothing new */
    ck_assert_uint_eq(grt_chan_len(grt_ticker_chan(tk)), 0);
    grt_case cs[1] = {{grt_ticker_chan(tk), GRT_RECV, &v, false}};
    ck_assert_int_eq(grt_select(cs, 1, true), -1);
    grt_ticker_reset(tk, 1 * MS);
    ck_assert(grt_chan_recv(grt_ticker_chan(tk), &v));
    grt_ticker_free(tk);
}
END_TEST

START_TEST(t_ticker_slow_receiver_drops)
{
    grt_ticker *tk = grt_ticker_make(1 * MS);
    grt_sleep(20 * MS); /* ~20 ticks due, at most one buffered */
    ck_assert_uint_le(grt_chan_len(grt_ticker_chan(tk)), 1);
    grt_ticker_free(tk);
}
END_TEST

static void bad_ticker(void)
{
    grt_ticker_make(0);
}

START_TEST(t_ticker_nonpositive_panics)
{
    char err[4096];
    int st;
    tu_child(bad_ticker, err, sizeof err, &st);
    tu_assert_child(st, err, 2, "panic: non-positive interval for NewTicker");
}
END_TEST

START_TEST(t_timer_stop_reset)
{
    grt_timer *tm = grt_timer_make(50 * MS);
    ck_assert(grt_timer_stop(tm));  /* stopped before firing */
    ck_assert(!grt_timer_stop(tm)); /* already stopped */
    grt_timer_reset(tm, 1 * MS);
    int64_t v;
    ck_assert(grt_chan_recv(grt_timer_chan(tm), &v));
    ck_assert(!grt_timer_stop(tm)); /* already fired */
    /* fired but not received: stop drains it (Go 1.23: no stale value) */
    grt_timer_reset(tm, 1 * MS);
    grt_sleep(10 * MS);
    ck_assert(!grt_timer_stop(tm));
    grt_case cs[1] = {{grt_timer_chan(tm), GRT_RECV, &v, false}};
    ck_assert_int_eq(grt_select(cs, 1, true), -1);
    grt_timer_free(tm);
}
END_TEST

static Suite *time_suite(void)
{
    Suite *s = suite_create("time");
    TCase *tc = tcase_create("sleep");
    tcase_add_test(tc, t_sleep_at_least);
    suite_add_tcase(s, tc);
    tc = tcase_create("many");
    tcase_set_timeout(tc, TU_TIMEOUT);
    tcase_add_test(tc, t_many_sleepers);
    suite_add_tcase(s, tc);
    tc = tcase_create("after");
    tcase_add_test(tc, t_after);
    tcase_add_test(tc, t_after_in_select);
    suite_add_tcase(s, tc);
    tc = tcase_create("ticker");
    tcase_add_test(tc, t_ticker);
    tcase_add_test(tc, t_ticker_slow_receiver_drops);
    tcase_add_test(tc, t_ticker_nonpositive_panics);
    suite_add_tcase(s, tc);
    tc = tcase_create("timer");
    tcase_add_test(tc, t_timer_stop_reset);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(time_suite());
}
