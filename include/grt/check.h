/*
 * grt/check.h - leak assertions for test suites written with Check
 * (libcheck), in the spirit of goleak.VerifyNone at the end of each Go
 * test.  Header-only; include it after <check.h> and <grt.h>.
 *
 *     TCase *tc = tcase_create("workers");
 *     GRT_CHECK_NO_LEAKS(tc);          // every test of tc, at its end
 *     tcase_add_test(tc, t_pool);
 *
 * The fixture is a checked one: it runs in the test's own process (fork
 * mode), starting the runtime there, which is where grt's tests must
 * start it.  Before each test it begins a leak scope
 * (grt_leak_scope_begin); after the test it waits up to 1 s for the
 * goroutines of that scope to end (grt_leak_verify_none with .scope) and
 * fails the test if any is left, with goleak's report on stderr.  The
 * scope makes the check blame only goroutines the test started, directly
 * or not, even when other tests share the process (CK_FORK=no, or a
 * runner of its own that runs tests in parallel goroutines).
 *
 * Within a test, GRT_CK_ASSERT_NO_LEAKS(opts) asserts the same at any
 * point, with options of your choosing (NULL: every goroutine but the
 * caller, default timeout).
 */
#ifndef GRT_CHECK_H
#define GRT_CHECK_H

#include <check.h>
#include <stdio.h>

#include <grt.h>

/* The scope of the test running now (one test at a time per process). */
static inline int64_t *grt_check_scope_(void)
{
    static int64_t scope;
    return &scope;
}

/* Checked setup: a leak scope for the test. */
static inline void grt_check_leaks_setup(void)
{
    *grt_check_scope_() = grt_leak_scope_begin();
}

/* Checked teardown: none of the test's goroutines may be left. */
static inline void grt_check_leaks_teardown(void)
{
    grt_leak_opts o = {0};
    o.scope = *grt_check_scope_();
    int left = grt_leak_verify_none(&o, stderr);
    grt_leak_scope_end(o.scope);
    ck_assert_msg(left == 0,
                  "%d goroutine%s leaked by this test (listed on stderr)",
                  left, left == 1 ? "" : "s");
}

/* Check every test of TCase tc for leaks at its end. */
#define GRT_CHECK_NO_LEAKS(tc)                                   \
    tcase_add_checked_fixture((tc), grt_check_leaks_setup,       \
                              grt_check_leaks_teardown)

/* Assert now that no goroutine is left (opts: a grt_leak_opts *, or
 * NULL), with the report on stderr. */
#define GRT_CK_ASSERT_NO_LEAKS(opts)                                       \
    do {                                                                   \
        int grt_left_ = grt_leak_verify_none((opts), stderr);             \
        ck_assert_msg(grt_left_ == 0, "%d goroutine%s leaked", grt_left_, \
                      grt_left_ == 1 ? "" : "s");                          \
    } while (0)

#endif /* GRT_CHECK_H */
