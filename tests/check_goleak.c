/*
 * check_goleak.c - leak checks with goleak's semantics
 * (grt_leak_verify_none: retries until the goroutines end, the caller
 * excluded, each ignore option; grt_goroutine_ids), leak scopes (a scope
 * is inherited transitively and blames leaks on the right test when
 * tests run in parallel), GRT_LEAKCHECK=1 at exit (status 3), and the
 * Check fixture of <grt/check.h>, which every case here runs under (so
 * each test also proves it leaks nothing itself).
 *
 * Leakers block on a channel nobody uses; they are global functions, so
 * that ignore_top and ignore_any can name them (the program is linked
 * with -rdynamic).  Options that look at frames need libunwind.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grt.h>
#include <grt/check.h>

#include "testutil.h"

#define MS 1000000LL
#define HOUR (3600LL * 1000000000LL)
#define BUF (64 * 1024)

static int lk_sink; /* written after blocking calls: no tail calls */
#define TOUCH() __atomic_store_n(&lk_sink, 1, __ATOMIC_RELAXED)

void lk_leaker(void *arg);
void lk_inner(grt_chan *c);
void lk_outer(void *arg);
int64_t lk_spawn(grt_chan *c);
void lk_short(void *arg);
void lk_napper(void *arg);

/* Blocks for ever on c (arg); never a tail call. */
TU_NOINLINE void lk_leaker(void *arg)
{
    grt_chan_recv(arg, NULL);
    TOUCH();
}

TU_NOINLINE void lk_inner(grt_chan *c)
{
    grt_chan_recv(c, NULL);
    TOUCH();
}

TU_NOINLINE void lk_outer(void *arg)
{
    lk_inner(arg);
    TOUCH();
}

/* Creates a leaker: its creator ("created by") is lk_spawn. */
TU_NOINLINE int64_t lk_spawn(grt_chan *c)
{
    int64_t id = grt_go(lk_leaker, c);
    TOUCH();
    return id;
}

/* Ends when its wait group says so. */
TU_NOINLINE void lk_short(void *arg)
{
    grt_wg_done(arg);
}

/* Ends after a nap: a check must wait for it. */
TU_NOINLINE void lk_napper(void *arg)
{
    (void)arg;
    grt_sleep(50 * MS);
}

/* Wait until n goroutines are parked in chan receive, as a dump shows
 * them (the frame-based options need them parked, not just created). */
static void settle(int n)
{
    static char buf[BUF];
    for (int tries = 0; tries < 10000; tries++) {
        grt_stack(buf, sizeof buf, true);
        int k = 0;
        for (const char *p = buf; (p = strstr(p, " [chan receive]:\n"));
             p++)
            k++;
        if (k >= n)
            return;
        grt_sleep(MS);
    }
}

/* The check's report, written to a temporary file, read back. */
static int check_into(const grt_leak_opts *o, char *buf, size_t len)
{
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    int n = grt_leak_verify_none(o, f);
    rewind(f);
    size_t got = fread(buf, 1, len - 1, f);
    buf[got] = 0;
    fclose(f);
    return n;
}

#define assert_has(hay, needle)                                           \
    ck_assert_msg(strstr((hay), (needle)) != NULL,                        \
                  "no \"%s\" in:\n" TU_ERR, (needle), (hay))

/* Unblock the leakers of c (the fixture then finds nothing). */
static void release(grt_chan *c)
{
    grt_chan_close(c);
}

/* ------------------------------------------------------------------ */

START_TEST(t_none)
{
    ck_assert_int_eq(grt_leak_verify_none(NULL, stderr), 0);
    /* goroutines that end soon are waited for, not reported: with an hour
     * of timeout the check returns as soon as they are gone */
    grt_wg wg = GRT_WG_INIT;
    for (int i = 0; i < 10; i++) {
        grt_wg_add(&wg, 1);
        grt_go(lk_short, &wg);
    }
    grt_go(lk_napper, NULL);
    grt_leak_opts o = {.timeout_ns = HOUR};
    ck_assert_int_eq(grt_leak_verify_none(&o, stderr), 0);
    grt_wg_wait(&wg);
}
END_TEST

START_TEST(t_leak_reported)
{
    static char buf[BUF];
    grt_chan *c = grt_chan_make(0, 0);
    int line = __LINE__; int64_t id = grt_go(lk_leaker, c);
    settle(1);
    grt_leak_opts o = {.timeout_ns = 20 * MS};
    ck_assert_int_eq(check_into(&o, buf, sizeof buf), 1);
    ck_assert_msg(strncmp(buf, "found unexpected goroutines:\n", 29) == 0,
                  TU_ERR, buf);
    char want[256];
    snprintf(want, sizeof want, "\ngoroutine %lld [", (long long)id);
    assert_has(buf, want);
    snprintf(want, sizeof want, "created by t_leak_reported_fn in goroutine "
             "1\n\t%s:%d\n", __FILE__, line);
    assert_has(buf, want);
#ifdef HAVE_LIBUNWIND
    snprintf(want, sizeof want, "goroutine %lld [chan receive]:\n"
             "lk_leaker(...)\n\t", (long long)id);
    assert_has(buf, want);
#endif
    /* the caller is never reported */
    ck_assert_ptr_null(strstr(buf, "goroutine 1 ["));
    /* NULL report: just the count */
    ck_assert_int_eq(grt_leak_verify_none(&o, NULL), 1);
    release(c);
}
END_TEST

START_TEST(t_ignore_ids)
{
    grt_chan *c = grt_chan_make(0, 0);
    grt_go(lk_leaker, c);
    grt_go(lk_leaker, c);
    int64_t *ids = grt_goroutine_ids();
    ck_assert_ptr_nonnull(ids);
    grt_leak_opts o = {.ignore_ids = ids, .timeout_ns = 10 * MS};
    ck_assert_int_eq(grt_leak_verify_none(&o, stderr), 0);
    grt_go(lk_leaker, c);
    ck_assert_int_eq(grt_leak_verify_none(&o, NULL), 1);
    free(ids);
    release(c);
}
END_TEST

START_TEST(t_goroutine_ids)
{
    grt_chan *c = grt_chan_make(0, 0);
    int64_t a = grt_go(lk_leaker, c), b = grt_go(lk_leaker, c);
    int64_t *ids = grt_goroutine_ids();
    ck_assert_ptr_nonnull(ids);
    int n = 0;
    bool seen1 = false, seena = false, seenb = false;
    for (; ids[n]; n++) {
        if (n)
            ck_assert_int_gt(ids[n], ids[n - 1]);
        seen1 |= ids[n] == 1;
        seena |= ids[n] == a;
        seenb |= ids[n] == b;
    }
    ck_assert_int_eq(n, 3);
    ck_assert(seen1 && seena && seenb);
    free(ids);
    release(c);
}
END_TEST

START_TEST(t_ignore_created_by)
{
    grt_chan *c = grt_chan_make(0, 0);
    lk_spawn(c);
    static const char *const by[] = {"lk_spawn", NULL};
    static const char *const other[] = {"main", NULL};
    grt_leak_opts o = {.ignore_created_by = by, .timeout_ns = 10 * MS};
    ck_assert_int_eq(grt_leak_verify_none(&o, stderr), 0);
    o.ignore_created_by = other;
    ck_assert_int_eq(grt_leak_verify_none(&o, NULL), 1);
    release(c);
}
END_TEST

START_TEST(t_ignore_top)
{
    grt_chan *c = grt_chan_make(0, 0);
    grt_go(lk_outer, c); /* top: lk_inner */
    grt_go(lk_leaker, c); /* top: lk_leaker */
    settle(2);
    static const char *const both[] = {"lk_inner", "lk_leaker", NULL};
    static const char *const inner[] = {"lk_inner", NULL};
    static const char *const outer[] = {"lk_outer", NULL};
    grt_leak_opts o = {.timeout_ns = 10 * MS};
#ifdef HAVE_LIBUNWIND
    o.ignore_top = both;
    ck_assert_int_eq(grt_leak_verify_none(&o, stderr), 0);
    o.ignore_top = inner;
    ck_assert_int_eq(grt_leak_verify_none(&o, NULL), 1);
    /* lk_outer is in the stack, not on top of it */
    o.ignore_top = outer;
    ck_assert_int_eq(grt_leak_verify_none(&o, NULL), 2);
#else
    /* no frames, no top function: nothing is ignored by it */
    (void)inner;
    (void)outer;
    o.ignore_top = both;
    ck_assert_int_eq(grt_leak_verify_none(&o, NULL), 2);
#endif
    release(c);
}
END_TEST

START_TEST(t_ignore_any)
{
    grt_chan *c = grt_chan_make(0, 0);
    grt_go(lk_outer, c);
    grt_go(lk_leaker, c);
    settle(2);
    static const char *const outer[] = {"lk_outer", NULL};
    static const char *const none[] = {"nothing_here", NULL};
    grt_leak_opts o = {.ignore_any = outer, .timeout_ns = 10 * MS};
    /* lk_outer is the entry of one: ignored with or without frames */
    ck_assert_int_eq(grt_leak_verify_none(&o, stderr), 1);
    o.ignore_any = none;
    ck_assert_int_eq(grt_leak_verify_none(&o, NULL), 2);
#ifdef HAVE_LIBUNWIND
    static const char *const inner[] = {"lk_inner", NULL};
    o.ignore_any = inner; /* inside the stack of the lk_outer one */
    ck_assert_int_eq(grt_leak_verify_none(&o, NULL), 1);
#endif
    release(c);
}
END_TEST

/* ------------------------------------------------------------------ */
/* scopes                                                             */
/* ------------------------------------------------------------------ */

START_TEST(t_scope_nesting)
{
    int64_t outer = grt_leak_scope();
    int64_t s1 = grt_leak_scope_begin();
    ck_assert_int_gt(s1, 0);
    ck_assert_int_eq(grt_leak_scope(), s1);
    int64_t s2 = grt_leak_scope_begin();
    ck_assert_int_gt(s2, s1);
    ck_assert_int_eq(grt_leak_scope(), s2);
    grt_leak_scope_end(s2);
    ck_assert_int_eq(grt_leak_scope(), s1);
    grt_leak_scope_end(s1);
    ck_assert_int_eq(grt_leak_scope(), outer);
}
END_TEST

/*
 * Two "tests" run at once, each in its own goroutine and scope: A leaks
 * a goroutine two levels down (A -> worker -> leaker), B's goroutines
 * all end.  Each checks its own scope while the other's goroutines
 * still exist: A must find exactly its leaker, B nothing.
 */
struct ptest {
    bool leak;
    grt_wg *spawned;        /* both tests have started everything */
    grt_wg *done;
    grt_chan *never;
    int64_t scope;
    int leaked_once;        /* A: one worker made the grandchild */
    int64_t leaker_id;      /* A: the grandchild */
    int64_t leaker_scope;   /* its scope as it saw it */
    int found;
    char report[8192];
};

static void ptest_grandchild(void *arg)
{
    struct ptest *t = arg;
    __atomic_store_n(&t->leaker_scope, grt_leak_scope(), __ATOMIC_RELEASE);
    grt_chan_recv(t->never, NULL);
    TOUCH();
}

static void ptest_worker(void *arg)
{
    struct ptest *t = arg;
    if (t->leak && !__atomic_exchange_n(&t->leaked_once, 1, __ATOMIC_ACQ_REL))
        __atomic_store_n(&t->leaker_id, grt_go(ptest_grandchild, t),
                         __ATOMIC_RELEASE);
    grt_sleep(MS);
}

static void ptest_run(void *arg)
{
    struct ptest *t = arg;
    t->scope = grt_leak_scope_begin();
    for (int i = 0; i < 4; i++)
        grt_go(ptest_worker, t);
    grt_wg_done(t->spawned);
    grt_wg_wait(t->spawned);
    grt_leak_opts o = {.scope = t->scope, .timeout_ns = 200 * MS};
    FILE *f = tmpfile();
    t->found = grt_leak_verify_none(&o, f);
    if (f) {
        rewind(f);
        size_t n = fread(t->report, 1, sizeof t->report - 1, f);
        t->report[n] = 0;
        fclose(f);
    }
    grt_leak_scope_end(t->scope);
    grt_wg_done(t->done);
}

START_TEST(t_scope_parallel)
{
    grt_wg spawned = GRT_WG_INIT, done = GRT_WG_INIT;
    grt_chan *never = grt_chan_make(0, 0);
    static struct ptest a, b;
    a = (struct ptest){.leak = true, .spawned = &spawned, .done = &done,
                       .never = never};
    b = (struct ptest){.leak = false, .spawned = &spawned, .done = &done,
                       .never = never};
    grt_wg_add(&spawned, 2);
    grt_wg_add(&done, 2);
    grt_go(ptest_run, &a);
    grt_go(ptest_run, &b);
    grt_wg_wait(&done);
    ck_assert_int_gt(a.scope, 0);
    ck_assert_int_gt(b.scope, 0);
    ck_assert_int_ne(a.scope, b.scope);
    /* inherited two levels down; the grandchild may not have run yet */
    while (!__atomic_load_n(&a.leaker_scope, __ATOMIC_ACQUIRE))
        grt_yield();
    ck_assert_int_eq(a.leaker_scope, a.scope);
    ck_assert_int_eq(a.found, 1);
    ck_assert_int_eq(b.found, 0);
    char want[64];
    snprintf(want, sizeof want, "\ngoroutine %lld [",
             (long long)__atomic_load_n(&a.leaker_id, __ATOMIC_ACQUIRE));
    assert_has(a.report, want);
    ck_assert_str_eq(b.report, "");
    /* unscoped, the leaker is everybody's */
    grt_leak_opts o = {.timeout_ns = 10 * MS};
    ck_assert_int_eq(grt_leak_verify_none(&o, NULL), 1);
    release(never);
}
END_TEST

/* ------------------------------------------------------------------ */
/* GRT_LEAKCHECK=1                                                    */
/* ------------------------------------------------------------------ */

static void leakcheck_env(void)
{
    setenv("GRT_LEAKCHECK", "1", 1);
    setenv("GRT_LEAKCHECK_TIMEOUT_MS", "20", 1);
}

static void child_exit_leaking(void)
{
    leakcheck_env();
    grt_go(lk_leaker, grt_chan_make(0, 0));
    printf("buffered output is still written\n");
}

static void child_exit_clean(void)
{
    leakcheck_env();
    grt_wg wg = GRT_WG_INIT;
    grt_wg_add(&wg, 1);
    grt_go(lk_short, &wg);
    grt_wg_wait(&wg);
}

static void child_exit_ignored(void)
{
    leakcheck_env();
    setenv("GRT_LEAKCHECK_IGNORE", "something,lk_leaker", 1);
    grt_go(lk_leaker, grt_chan_make(0, 0));
}

static void child_exit_failing(void)
{
    leakcheck_env();
    grt_go(lk_leaker, grt_chan_make(0, 0));
    grt_exit(1); /* a failed run keeps its status (goleak's) */
}

static void child_grt_exit_leaking(void)
{
    leakcheck_env();
    grt_go(lk_leaker, grt_chan_make(0, 0));
    grt_exit(0);
}

START_TEST(t_leakcheck_exit)
{
    static char err[BUF];
    int st;
    tu_child(child_exit_leaking, err, sizeof err, &st);
    tu_assert_child(st, err, 3, "found unexpected goroutines:");
    assert_has(err, "\ngoroutine ");
    assert_has(err, "created by child_exit_leaking in goroutine 1\n");
#ifdef HAVE_LIBUNWIND
    assert_has(err, "[chan receive]:\nlk_leaker(...)\n");
#endif
    assert_has(err, "GRT_LEAKCHECK: 1 goroutine still running at exit\n");
    tu_child(child_grt_exit_leaking, err, sizeof err, &st);
    tu_assert_child(st, err, 3, "found unexpected goroutines:");
    tu_child(child_exit_clean, err, sizeof err, &st);
    tu_assert_child(st, err, 0, NULL);
    ck_assert_str_eq(err, "");
    tu_child(child_exit_ignored, err, sizeof err, &st);
    tu_assert_child(st, err, 0, NULL);
    tu_child(child_exit_failing, err, sizeof err, &st);
    tu_assert_child(st, err, 1, NULL);
    ck_assert_str_eq(err, "");
}
END_TEST

/* ------------------------------------------------------------------ */
/* <grt/check.h>: the fixture fails a leaking test                    */
/* ------------------------------------------------------------------ */

START_TEST(t_inner_leaks)
{
    grt_go(lk_leaker, grt_chan_make(0, 0));
}
END_TEST

START_TEST(t_inner_clean)
{
    grt_wg wg = GRT_WG_INIT;
    grt_wg_add(&wg, 1);
    grt_go(lk_short, &wg);
    grt_wg_wait(&wg);
}
END_TEST

/* A suite of its own, run in a child (the runtime must not start in the
 * process that forks the tests): exits with the number of failures. */
static void child_fixture_suite(void)
{
    unsetenv("CK_RUN_CASE"); /* the outer run's selection is not ours */
    unsetenv("CK_RUN_SUITE");
    Suite *s = suite_create("inner");
    TCase *tc = tcase_create("inner");
    GRT_CHECK_NO_LEAKS(tc);
    tcase_add_test(tc, t_inner_leaks);
    tcase_add_test(tc, t_inner_clean);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    TestResult **r = srunner_failures(sr);
    for (int i = 0; i < failed; i++)
        fprintf(stderr, "FAILED %s: %s\n", tr_tcname(r[i]), tr_msg(r[i]));
    free(r);
    srunner_free(sr);
    exit(failed);
}

START_TEST(t_fixture)
{
    static char err[BUF];
    int st;
    tu_child(child_fixture_suite, err, sizeof err, &st);
    tu_assert_child(st, err, 1, NULL);
    assert_has(err, "found unexpected goroutines:\n");
    assert_has(err, "created by t_inner_leaks_fn in goroutine 1\n");
    assert_has(err, "1 goroutine leaked by this test");
}
END_TEST

static Suite *leak_suite(void)
{
    Suite *s = suite_create("leak");
    TCase *tc = tcase_create("verify");
    GRT_CHECK_NO_LEAKS(tc);
    tcase_add_test(tc, t_none);
    tcase_add_test(tc, t_leak_reported);
    tcase_add_test(tc, t_ignore_ids);
    tcase_add_test(tc, t_goroutine_ids);
    tcase_add_test(tc, t_ignore_created_by);
    tcase_add_test(tc, t_ignore_top);
    tcase_add_test(tc, t_ignore_any);
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);
    tc = tcase_create("scope");
    GRT_CHECK_NO_LEAKS(tc);
    tcase_add_test(tc, t_scope_nesting);
    tcase_add_test(tc, t_scope_parallel);
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);
    tc = tcase_create("exit");
    tcase_add_test(tc, t_leakcheck_exit);
    tcase_add_test(tc, t_fixture);
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(leak_suite());
}
