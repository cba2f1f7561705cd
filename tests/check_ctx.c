/*
 * check_ctx.c - cancellation scopes (Go's context): cancel closes done,
 * children follow their parent, a timeout reports DEADLINE_EXCEEDED, free
 * keeps children valid.
 */
#include "config.h"

#include <grt.h>

#include "testutil.h"

#define MS 1000000LL

START_TEST(t_cancel_closes_done)
{
    grt_ctx *c = grt_ctx_with_cancel(grt_ctx_background());
    ck_assert_int_eq(grt_ctx_err(c), 0);
    grt_ctx_cancel(c);
    ck_assert(!grt_chan_recv(grt_ctx_done(c), NULL));
    ck_assert_int_eq(grt_ctx_err(c), GRT_CANCELED);
    grt_ctx_cancel(c); /* idempotent */
    grt_ctx_free(c);
}
END_TEST

START_TEST(t_children_follow)
{
    grt_ctx *p = grt_ctx_with_cancel(grt_ctx_background());
    grt_ctx *k = grt_ctx_with_cancel(p);
    grt_ctx *kk = grt_ctx_with_timeout(k, 1000 * MS);
    grt_ctx_cancel(p);
    ck_assert(!grt_chan_recv(grt_ctx_done(kk), NULL));
    ck_assert_int_eq(grt_ctx_err(k), GRT_CANCELED);
    ck_assert_int_eq(grt_ctx_err(kk), GRT_CANCELED);
    /* a child of a cancelled parent is born cancelled */
    grt_ctx *late = grt_ctx_with_cancel(p);
    ck_assert_int_eq(grt_ctx_err(late), GRT_CANCELED);
    grt_ctx_free(late);
    grt_ctx_free(p); /* children stay valid */
    ck_assert_int_eq(grt_ctx_err(k), GRT_CANCELED);
    grt_ctx_free(kk);
    grt_ctx_free(k);
}
END_TEST

START_TEST(t_timeout)
{
    int64_t t0 = grt_now();
    grt_ctx *c = grt_ctx_with_timeout(grt_ctx_background(), 5 * MS);
    ck_assert(!grt_chan_recv(grt_ctx_done(c), NULL));
    ck_assert_int_ge(grt_now() - t0, 5 * MS);
    ck_assert_int_eq(grt_ctx_err(c), GRT_DEADLINE_EXCEEDED);
    grt_ctx_free(c);
    grt_ctx *z = grt_ctx_with_timeout(grt_ctx_background(), 0);
    ck_assert_int_eq(grt_ctx_err(z), GRT_DEADLINE_EXCEEDED);
    grt_ctx_free(z);
}
END_TEST

START_TEST(t_background)
{
    grt_ctx *b = grt_ctx_background();
    ck_assert_ptr_null(grt_ctx_done(b));
    ck_assert_int_eq(grt_ctx_err(b), 0);
    grt_ctx_cancel(b); /* no effect */
    ck_assert_int_eq(grt_ctx_err(b), 0);
}
END_TEST

static Suite *ctx_suite(void)
{
    Suite *s = suite_create("ctx");
    TCase *tc = tcase_create("cancel");
    tcase_add_test(tc, t_cancel_closes_done);
    tcase_add_test(tc, t_children_follow);
    tcase_add_test(tc, t_background);
    suite_add_tcase(s, tc);
    tc = tcase_create("timeout");
    tcase_add_test(tc, t_timeout);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(ctx_suite());
}
