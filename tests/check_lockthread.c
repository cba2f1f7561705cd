/*
 * check_lockthread.c - grt_lock_os_thread / grt_unlock_os_thread (Go's
 * runtime.LockOSThread).
 *
 * "same-thread": a locked goroutine sees one gettid() across channel
 * operations, sleeps and yields, however often it parks.
 * "exclusive": while one goroutine is locked, other goroutines record the
 * thread they run on; none ever equals the locked one's.  Each sample is
 * taken between two reads of the locked goroutine's published tid, so a
 * sample counts only if the lock was held for its whole duration.
 * "nesting": two locks and one unlock stay locked (same thread, still
 * exclusive); a goroutine that exits locked takes its thread with it (its
 * /proc/self/task/<tid> entry goes away), while one that unlocked as often
 * as it locked leaves its thread to the runtime; an unlock without a lock
 * does nothing, as in Go.
 *
 * The checks hold for any processor count; run-p.sh runs them on one and
 * two.  No assertion reads a clock.
 */
#include "config.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <grt.h>

#include "testutil.h"

#define ITERS 200
#define NOTHERS 4

static int ld(const int *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void st(int *p, int v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Does thread tid of this process still exist? */
static int thread_alive(pid_t tid)
{
    char path[64];
    struct stat sb;
    snprintf(path, sizeof path, "/proc/self/task/%d", (int)tid);
    return stat(path, &sb) == 0;
}

/*
 * The shared state of one scenario: the locked goroutine publishes its
 * tid in `locked_tid` (0 while not locked); the others count samples and
 * violations.
 */
struct scene {
    int locked_tid;
    int stop;       /* the others stop sampling */
    int moved;      /* the locked goroutine saw another tid */
    int violations; /* another goroutine ran on the locked thread */
    int samples;    /* samples taken while it was locked */
    int final_tid;  /* the locked goroutine's tid, kept after it ends */
    grt_chan *ping; /* unbuffered: partner for channel operations */
    grt_wg others;  /* the sampling goroutines */
    grt_chan *done; /* the locked goroutine finished */
};

/* Park the calling goroutine in every way it can: channel operations
 * with a partner, a sleep, yields.  Return true if gettid() changed. */
static bool churn(struct scene *s, pid_t tid, int i)
{
    bool moved = false;
    grt_chan_send(s->ping, &i);
    moved |= gettid() != tid;
    int v;
    grt_chan_recv(s->ping, &v);
    moved |= gettid() != tid;
    if (i % 10 == 0) {
        grt_sleep(100 * 1000);
        moved |= gettid() != tid;
    }
    grt_yield();
    moved |= gettid() != tid;
    return moved;
}

/* The channel partner of the locked goroutine: echo until closed. */
static void partner(void *arg)
{
    struct scene *s = arg;
    int v;
    while (grt_chan_recv(s->ping, &v))
        grt_chan_send(s->ping, &v);
}

/* Sample the thread this goroutine runs on while the other is locked. */
static void sampler(void *arg)
{
    struct scene *s = arg;
    while (!ld(&s->stop)) {
        int before = ld(&s->locked_tid);
        int me = gettid();
        int after = ld(&s->locked_tid);
        if (before && before == after) {
            __atomic_fetch_add(&s->samples, 1, __ATOMIC_RELAXED);
            if (me == before)
                __atomic_fetch_add(&s->violations, 1, __ATOMIC_RELAXED);
        }
        if (me % 3 == 0)
            grt_sleep(50 * 1000);
        else
            grt_yield();
    }
    grt_wg_done(&s->others);
}

static void scene_start(struct scene *s)
{
    memset(s, 0, sizeof *s);
    s->ping = grt_chan_make(sizeof(int), 0);
    s->done = grt_chan_make(0, 1);
    grt_go(partner, s);
    grt_wg_add(&s->others, NOTHERS);
    for (int i = 0; i < NOTHERS; i++)
        grt_go(sampler, s);
}

static void scene_end(struct scene *s)
{
    grt_chan_recv(s->done, NULL);
    st(&s->stop, 1);
    grt_wg_wait(&s->others);
    grt_chan_close(s->ping);
    tu_wait_goroutines(1);
    grt_chan_free(s->ping);
    grt_chan_free(s->done);
}

/* lock `locks` times, churn, unlock `unlocks` times, then return. */
struct locker {
    struct scene *s;
    int locks, unlocks;
};

static void locked_g(void *arg)
{
    struct locker *l = arg;
    struct scene *s = l->s;
    for (int i = 0; i < l->locks; i++)
        grt_lock_os_thread();
    pid_t tid = gettid();
    s->final_tid = tid;
    st(&s->locked_tid, tid);
    bool moved = false;
    for (int i = 0; i < ITERS; i++)
        moved |= churn(s, tid, i);
    st(&s->locked_tid, 0);
    st(&s->moved, moved);
    for (int i = 0; i < l->unlocks; i++)
        grt_unlock_os_thread();
    grt_chan_send(s->done, NULL);
}

static void run_locker(struct scene *s, int locks, int unlocks)
{
    static struct locker l;
    l = (struct locker){s, locks, unlocks};
    scene_start(s);
    grt_go(locked_g, &l);
    scene_end(s);
    fprintf(stderr,
            "lock x%d unlock x%d: %d samples by other goroutines while "
            "locked, %d on the locked thread\n",
            locks, unlocks, s->samples, s->violations);
}

/* ------------------------------------------------------------------ */

START_TEST(t_same_thread)
{
    static struct scene s;
    run_locker(&s, 1, 1);
    ck_assert_int_eq(s.moved, 0);
}
END_TEST

START_TEST(t_exclusive)
{
    static struct scene s;
    run_locker(&s, 1, 1);
    ck_assert_int_eq(s.moved, 0);
    ck_assert_int_eq(s.violations, 0);
}
END_TEST

/* main itself locked: it runs on the process's first thread. */
START_TEST(t_main_locked)
{
    static struct scene s;
    scene_start(&s);
    grt_lock_os_thread();
    pid_t tid = gettid();
    st(&s.locked_tid, tid);
    bool moved = false;
    for (int i = 0; i < ITERS; i++)
        moved |= churn(&s, tid, i);
    st(&s.locked_tid, 0);
    grt_unlock_os_thread();
    grt_chan_send(s.done, NULL);
    scene_end(&s);
    ck_assert_int_eq(moved, 0);
    ck_assert_int_eq(s.violations, 0);
}
END_TEST

/* Two locks, one unlock: still locked while it churns (and exits). */
START_TEST(t_nested)
{
    static struct scene s;
    run_locker(&s, 2, 1);
    ck_assert_int_eq(s.moved, 0);
    ck_assert_int_eq(s.violations, 0);
}
END_TEST

/* Locked inside a locked region: the inner unlock keeps it locked. */
static void nested_inner_g(void *arg)
{
    struct scene *s = arg;
    grt_lock_os_thread();
    pid_t tid = gettid();
    grt_lock_os_thread();
    grt_unlock_os_thread(); /* inner pair: still locked */
    st(&s->locked_tid, tid);
    bool moved = false;
    for (int i = 0; i < ITERS; i++)
        moved |= churn(s, tid, i);
    st(&s->locked_tid, 0);
    st(&s->moved, moved);
    grt_unlock_os_thread();
    grt_chan_send(s->done, NULL);
}

START_TEST(t_nested_inner)
{
    static struct scene s;
    scene_start(&s);
    grt_go(nested_inner_g, &s);
    scene_end(&s);
    ck_assert_int_eq(s.moved, 0);
    ck_assert_int_eq(s.violations, 0);
}
END_TEST

/* Unlock without lock is a no-op; a later lock still works. */
static void stray_unlock_g(void *arg)
{
    struct scene *s = arg;
    grt_unlock_os_thread();
    grt_unlock_os_thread();
    grt_lock_os_thread();
    pid_t tid = gettid();
    bool moved = false;
    for (int i = 0; i < ITERS / 4; i++)
        moved |= churn(s, tid, i);
    st(&s->moved, moved);
    grt_unlock_os_thread();
    grt_chan_send(s->done, NULL);
}

START_TEST(t_stray_unlock)
{
    static struct scene s;
    scene_start(&s);
    grt_go(stray_unlock_g, &s);
    scene_end(&s);
    ck_assert_int_eq(s.moved, 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* exiting locked                                                      */
/* ------------------------------------------------------------------ */

struct exiter {
    int locks, unlocks;
    bool goexit; /* end with grt_goexit instead of returning */
    pid_t tid;
    grt_chan *done;
};

static void exiter_g(void *arg)
{
    struct exiter *e = arg;
    for (int i = 0; i < e->locks; i++)
        grt_lock_os_thread();
    grt_yield();
    grt_sleep(1000 * 1000);
    e->tid = gettid();
    for (int i = 0; i < e->unlocks; i++)
        grt_unlock_os_thread();
    grt_chan_send(e->done, NULL);
    if (e->goexit)
        grt_goexit();
}

/*
 * Start an exiter; return its thread's id after it ended.  The caller
 * (main) has locked itself to the process's first thread, so the exiter
 * never runs there: that thread cannot end without ending the process
 * (Go then parks it for ever), so an exit there would prove nothing.
 */
static pid_t run_exiter(int locks, int unlocks, bool goexit)
{
    static struct exiter e;
    e = (struct exiter){locks, unlocks, goexit, 0, grt_chan_make(0, 0)};
    grt_go(exiter_g, &e);
    grt_chan_recv(e.done, NULL);
    tu_wait_goroutines(1);
    grt_chan_free(e.done);
    return e.tid;
}

/* Wait (yielding, sleeping) until thread tid is gone; Check's timeout
 * fails the test if it never goes. */
static void wait_thread_gone(pid_t tid)
{
    while (thread_alive(tid))
        grt_sleep(1000 * 1000);
}

START_TEST(t_exit_locked)
{
    grt_lock_os_thread();
    pid_t tid = run_exiter(1, 0, false);
    ck_assert_int_ne(tid, getpid());
    wait_thread_gone(tid);
    ck_assert(!thread_alive(tid));
}
END_TEST

START_TEST(t_goexit_locked)
{
    grt_lock_os_thread();
    pid_t tid = run_exiter(1, 0, true);
    wait_thread_gone(tid);
    ck_assert(!thread_alive(tid));
}
END_TEST

/* Locked twice, unlocked once: still locked at exit, the thread goes. */
START_TEST(t_exit_nested)
{
    grt_lock_os_thread();
    pid_t tid = run_exiter(2, 1, false);
    wait_thread_gone(tid);
    ck_assert(!thread_alive(tid));
}
END_TEST

/* Fully unlocked before exit: the thread stays with the runtime, and
 * the runtime goes on working on it. */
START_TEST(t_exit_unlocked)
{
    grt_lock_os_thread();
    pid_t tid = run_exiter(2, 2, false);
    for (int i = 0; i < 20; i++)
        grt_sleep(1000 * 1000);
    ck_assert(thread_alive(tid));
    /* a series of exits that take their threads (maybe that one too:
     * a later goroutine may lock it), then the runtime still has
     * threads to run on, and an unlocked exit still leaves its own */
    for (int i = 0; i < 5; i++)
        wait_thread_gone(run_exiter(1, 0, i % 2 == 0));
    tid = run_exiter(1, 1, false);
    for (int i = 0; i < 20; i++)
        grt_sleep(1000 * 1000);
    ck_assert(thread_alive(tid));
}
END_TEST

static Suite *lockthread_suite(void)
{
    Suite *s = suite_create("lockthread");
    TCase *tc = tcase_create("same-thread");
    tcase_add_test(tc, t_same_thread);
    tcase_add_test(tc, t_main_locked);
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);

    tc = tcase_create("exclusive");
    tcase_add_test(tc, t_exclusive);
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);

    tc = tcase_create("nesting");
    tcase_add_test(tc, t_nested);
    tcase_add_test(tc, t_nested_inner);
    tcase_add_test(tc, t_stray_unlock);
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);

    tc = tcase_create("exit-locked");
    tcase_add_test(tc, t_exit_locked);
    tcase_add_test(tc, t_goexit_locked);
    tcase_add_test(tc, t_exit_nested);
    tcase_add_test(tc, t_exit_unlocked);
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(lockthread_suite());
}
