/*
 * check_ctx.c - cancellation scopes (Go's context): cancel closes done,
 * children follow their parent, a timeout reports DEADLINE_EXCEEDED, and
 * free keeps the other contexts of the tree valid.
 *
 * Durations are checked from below only; only main asserts with
 * ck_assert*, goroutines use tu_check.
 */
#include "config.h"

#include <stdint.h>

#include <grt.h>

#include "testutil.h"

#define MS 1000000LL

/* True if done is closed now (a non-blocking receive that sees close). */
static bool is_done(grt_ctx *c)
{
    grt_case rc = {.chan = grt_ctx_done(c), .op = GRT_RECV};
    return grt_select(&rc, 1, true) == 0 && !rc.ok;
}

/* ---- cancel ---- */

START_TEST(t_cancel_closes_done)
{
    grt_ctx *c = grt_ctx_with_cancel(grt_ctx_background());
    ck_assert_ptr_nonnull(grt_ctx_done(c));
    ck_assert_int_eq(grt_ctx_err(c), 0);
    ck_assert(!is_done(c));
    grt_ctx_cancel(c);
    ck_assert(!grt_chan_recv(grt_ctx_done(c), NULL));
    ck_assert_int_eq(grt_ctx_err(c), GRT_CANCELED);
    grt_ctx_cancel(c); /* idempotent */
    ck_assert_int_eq(grt_ctx_err(c), GRT_CANCELED);
    grt_ctx_free(c);
}
END_TEST

static grt_wg wait_wg;

static void wait_done(void *arg)
{
    grt_ctx *c = arg;
    tu_check(!grt_chan_recv(grt_ctx_done(c), NULL));
    tu_check(grt_ctx_err(c) != 0);
    grt_wg_done(&wait_wg);
}

/* Goroutines blocked on done all wake when it is cancelled. */
START_TEST(t_cancel_wakes_waiters)
{
    grt_ctx *c = grt_ctx_with_cancel(grt_ctx_background());
    grt_wg_add(&wait_wg, 50);
    for (int i = 0; i < 50; i++)
        grt_go(wait_done, c);
    grt_sleep(2 * MS);
    grt_ctx_cancel(c);
    grt_wg_wait(&wait_wg);
    tu_wait_goroutines(1);
    grt_ctx_free(c);
}
END_TEST

START_TEST(t_background)
{
    grt_ctx *b = grt_ctx_background();
    ck_assert_ptr_eq(b, grt_ctx_background());
    ck_assert_ptr_null(grt_ctx_done(b)); /* a nil channel: never ready */
    ck_assert_int_eq(grt_ctx_err(b), 0);
    grt_ctx_cancel(b); /* no effect */
    grt_ctx_free(b);   /* no effect */
    ck_assert_int_eq(grt_ctx_err(b), 0);
    grt_case rc = {.chan = grt_ctx_done(b), .op = GRT_RECV};
    ck_assert_int_eq(grt_select(&rc, 1, true), -1);
}
END_TEST

/* ---- tree ---- */

START_TEST(t_children_follow)
{
    grt_ctx *p = grt_ctx_with_cancel(grt_ctx_background());
    grt_ctx *k = grt_ctx_with_cancel(p);
    grt_ctx *k2 = grt_ctx_with_cancel(p);
    grt_ctx *kk = grt_ctx_with_timeout(k, 1000 * MS);
    grt_ctx_cancel(p);
    ck_assert(!grt_chan_recv(grt_ctx_done(kk), NULL));
    ck_assert(is_done(k));
    ck_assert(is_done(k2));
    ck_assert_int_eq(grt_ctx_err(k), GRT_CANCELED);
    ck_assert_int_eq(grt_ctx_err(k2), GRT_CANCELED);
    ck_assert_int_eq(grt_ctx_err(kk), GRT_CANCELED);
    /* a child of a cancelled parent is born cancelled */
    grt_ctx *late = grt_ctx_with_cancel(p);
    ck_assert_int_eq(grt_ctx_err(late), GRT_CANCELED);
    ck_assert(is_done(late));
    grt_ctx *late2 = grt_ctx_with_timeout(p, 1000 * MS);
    ck_assert_int_eq(grt_ctx_err(late2), GRT_CANCELED);
    grt_ctx_free(late2);
    grt_ctx_free(late);
    grt_ctx_free(kk);
    grt_ctx_free(k2);
    grt_ctx_free(k);
    grt_ctx_free(p);
}
END_TEST

/* Cancelling a child leaves its parent and siblings alone. */
START_TEST(t_child_cancel_isolated)
{
    grt_ctx *p = grt_ctx_with_cancel(grt_ctx_background());
    grt_ctx *a = grt_ctx_with_cancel(p);
    grt_ctx *b = grt_ctx_with_cancel(p);
    grt_ctx *aa = grt_ctx_with_cancel(a);
    grt_ctx_cancel(a);
    ck_assert_int_eq(grt_ctx_err(a), GRT_CANCELED);
    ck_assert_int_eq(grt_ctx_err(aa), GRT_CANCELED);
    ck_assert_int_eq(grt_ctx_err(p), 0);
    ck_assert_int_eq(grt_ctx_err(b), 0);
    ck_assert(!is_done(p));
    ck_assert(!is_done(b));
    grt_ctx_cancel(p);
    ck_assert_int_eq(grt_ctx_err(b), GRT_CANCELED);
    grt_ctx_free(aa);
    grt_ctx_free(a);
    grt_ctx_free(b);
    grt_ctx_free(p);
}
END_TEST

/* A long chain cancelled from its root by a timeout: the cancellation
 * runs in a timer callback (possibly on a small scheduler stack). */
#define CHAIN 10000

START_TEST(t_deep_chain)
{
    static grt_ctx *chain[CHAIN];
    chain[0] = grt_ctx_with_timeout(grt_ctx_background(), 5 * MS);
    for (int i = 1; i < CHAIN; i++)
        chain[i] = grt_ctx_with_cancel(chain[i - 1]);
    ck_assert(!grt_chan_recv(grt_ctx_done(chain[CHAIN - 1]), NULL));
    for (int i = 0; i < CHAIN; i++)
        ck_assert_int_eq(grt_ctx_err(chain[i]), GRT_DEADLINE_EXCEEDED);
    for (int i = 0; i < CHAIN; i++) /* parents first */
        grt_ctx_free(chain[i]);
}
END_TEST

/* ---- timeout ---- */

START_TEST(t_timeout)
{
    int64_t t0 = grt_now();
    grt_ctx *c = grt_ctx_with_timeout(grt_ctx_background(), 5 * MS);
    ck_assert_int_eq(grt_ctx_err(c), 0);
    ck_assert(!grt_chan_recv(grt_ctx_done(c), NULL));
    ck_assert_int_ge(grt_now() - t0, 5 * MS);
    ck_assert_int_eq(grt_ctx_err(c), GRT_DEADLINE_EXCEEDED);
    grt_ctx_cancel(c); /* too late: the error stays */
    ck_assert_int_eq(grt_ctx_err(c), GRT_DEADLINE_EXCEEDED);
    grt_ctx_free(c);

    grt_ctx *z = grt_ctx_with_timeout(grt_ctx_background(), 0);
    ck_assert_int_eq(grt_ctx_err(z), GRT_DEADLINE_EXCEEDED);
    ck_assert(is_done(z));
    grt_ctx_free(z);
    grt_ctx *n = grt_ctx_with_timeout(grt_ctx_background(), -1);
    ck_assert_int_eq(grt_ctx_err(n), GRT_DEADLINE_EXCEEDED);
    grt_ctx_free(n);
}
END_TEST

/* Cancelled before its deadline: CANCELED, for good. */
START_TEST(t_timeout_cancelled_first)
{
    grt_ctx *c = grt_ctx_with_timeout(grt_ctx_background(), 5 * MS);
    grt_ctx_cancel(c);
    ck_assert_int_eq(grt_ctx_err(c), GRT_CANCELED);
    grt_sleep(10 * MS);
    ck_assert_int_eq(grt_ctx_err(c), GRT_CANCELED);
    grt_ctx_free(c);
}
END_TEST

/* The earlier deadline wins, in both directions. */
START_TEST(t_timeout_nested)
{
    grt_ctx *p = grt_ctx_with_timeout(grt_ctx_background(), 5 * MS);
    grt_ctx *k = grt_ctx_with_timeout(p, 10000 * MS);
    ck_assert(!grt_chan_recv(grt_ctx_done(k), NULL));
    ck_assert_int_eq(grt_ctx_err(k), GRT_DEADLINE_EXCEEDED);
    ck_assert_int_eq(grt_ctx_err(p), GRT_DEADLINE_EXCEEDED);
    grt_ctx_free(k);
    grt_ctx_free(p);

    p = grt_ctx_with_timeout(grt_ctx_background(), 10000 * MS);
    k = grt_ctx_with_timeout(p, 5 * MS);
    grt_ctx *kc = grt_ctx_with_cancel(k);
    ck_assert(!grt_chan_recv(grt_ctx_done(kc), NULL));
    ck_assert_int_eq(grt_ctx_err(k), GRT_DEADLINE_EXCEEDED);
    ck_assert_int_eq(grt_ctx_err(kc), GRT_DEADLINE_EXCEEDED);
    ck_assert_int_eq(grt_ctx_err(p), 0);
    ck_assert(!is_done(p));
    grt_ctx_free(kc);
    grt_ctx_free(k);
    grt_ctx_free(p);
}
END_TEST

/* select on done with a timeout, as Go's "select { case <-ctx.Done() }". */
START_TEST(t_timeout_in_select)
{
    grt_ctx *c = grt_ctx_with_timeout(grt_ctx_background(), 3 * MS);
    grt_chan *work = grt_chan_make(sizeof(int), 0);
    int v;
    grt_case cs[2] = {{work, GRT_RECV, &v, false},
                      {grt_ctx_done(c), GRT_RECV, NULL, false}};
    ck_assert_int_eq(grt_select(cs, 2, false), 1);
    ck_assert(!cs[1].ok);
    ck_assert_int_eq(grt_ctx_err(c), GRT_DEADLINE_EXCEEDED);
    grt_chan_free(work);
    grt_ctx_free(c);
}
END_TEST

/* ---- free ---- */

START_TEST(t_free_parent_first)
{
    grt_ctx *p = grt_ctx_with_cancel(grt_ctx_background());
    grt_ctx *k = grt_ctx_with_cancel(p);
    grt_ctx *kk = grt_ctx_with_timeout(k, 1000 * MS);
    grt_ctx_free(p); /* cancels p; children stay valid, cancelled */
    ck_assert_int_eq(grt_ctx_err(k), GRT_CANCELED);
    ck_assert_int_eq(grt_ctx_err(kk), GRT_CANCELED);
    ck_assert(is_done(k));
    grt_ctx_cancel(k); /* no effect, no access to p */
    grt_ctx *late = grt_ctx_with_cancel(k);
    ck_assert_int_eq(grt_ctx_err(late), GRT_CANCELED);
    grt_ctx_free(k);
    grt_ctx_free(late);
    grt_ctx_free(kk);
}
END_TEST

START_TEST(t_free_child_first)
{
    grt_ctx *p = grt_ctx_with_timeout(grt_ctx_background(), 5 * MS);
    grt_ctx *a = grt_ctx_with_cancel(p);
    grt_ctx *b = grt_ctx_with_timeout(p, 2 * MS);
    grt_ctx *c = grt_ctx_with_cancel(p);
    grt_ctx_free(b); /* live, with a pending timer */
    grt_ctx_free(a);
    ck_assert_int_eq(grt_ctx_err(p), 0);
    ck_assert(!grt_chan_recv(grt_ctx_done(p), NULL)); /* timer fires */
    ck_assert_int_eq(grt_ctx_err(c), GRT_DEADLINE_EXCEEDED);
    grt_ctx_free(p);
    grt_ctx_free(c);
    grt_sleep(5 * MS); /* nothing fires into freed memory */
}
END_TEST

/* Contexts made, cancelled, timed out and freed on every P at once. */
static grt_wg churn_wg;

static void ctx_churn(void *arg)
{
    grt_ctx *root = arg;
    for (int i = 0; i < 500; i++) {
        grt_ctx *a = grt_ctx_with_timeout(root, (int64_t)(i % 4) * 50000);
        grt_ctx *b = grt_ctx_with_cancel(a);
        grt_ctx *c = grt_ctx_with_timeout(b, (int64_t)(i % 3) * 70000);
        if (i % 2)
            grt_chan_recv(grt_ctx_done(c), NULL);
        if (i % 3 == 0)
            grt_ctx_cancel(b);
        if (i % 5 == 0)
            grt_yield();
        switch (i % 3) {
        case 0:
            grt_ctx_free(a);
            grt_ctx_free(b);
            grt_ctx_free(c);
            break;
        case 1:
            grt_ctx_free(c);
            grt_ctx_free(b);
            grt_ctx_free(a);
            break;
        default:
            grt_ctx_free(b);
            grt_ctx_free(a);
            grt_ctx_free(c);
            break;
        }
    }
    grt_wg_done(&churn_wg);
}

START_TEST(t_free_churn)
{
    grt_ctx *root = grt_ctx_with_cancel(grt_ctx_background());
    grt_wg_add(&churn_wg, 8);
    for (int i = 0; i < 8; i++)
        grt_go(ctx_churn, root);
    grt_wg_wait(&churn_wg);
    ck_assert_int_eq(grt_ctx_err(root), 0);
    grt_ctx_free(root);
    tu_wait_goroutines(1);
}
END_TEST

static Suite *ctx_suite(void)
{
    Suite *s = suite_create("ctx");
    TCase *tc = tcase_create("cancel");
    tcase_add_test(tc, t_cancel_closes_done);
    tcase_add_test(tc, t_cancel_wakes_waiters);
    tcase_add_test(tc, t_background);
    suite_add_tcase(s, tc);

    tc = tcase_create("tree");
    tcase_set_timeout(tc, TU_TIMEOUT);
    tcase_add_test(tc, t_children_follow);
    tcase_add_test(tc, t_child_cancel_isolated);
    tcase_add_test(tc, t_deep_chain);
    suite_add_tcase(s, tc);

    tc = tcase_create("timeout");
    tcase_add_test(tc, t_timeout);
    tcase_add_test(tc, t_timeout_cancelled_first);
    tcase_add_test(tc, t_timeout_nested);
    tcase_add_test(tc, t_timeout_in_select);
    suite_add_tcase(s, tc);

    tc = tcase_create("free");
    tcase_set_timeout(tc, TU_TIMEOUT);
    tcase_add_test(tc, t_free_parent_first);
    tcase_add_test(tc, t_free_child_first);
    tcase_add_test(tc, t_free_churn);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(ctx_suite());
}
