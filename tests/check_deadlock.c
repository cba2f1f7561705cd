/*
 * check_deadlock.c - Go's checkdead: when no goroutine can ever run again
 * the process dies with "fatal error: all goroutines are asleep -
 * deadlock!" and status 2; when main called grt_goexit and every other
 * goroutine has ended, with "fatal error: no goroutines (main called
 * runtime.Goexit) - deadlock!".  A goroutine that sleeps, or main waiting
 * for it, is not a deadlock: a pending timer will wake someone.
 *
 * Every case runs in its own child (tu_child) so the test can read the
 * child's stderr; the first line must be Go's exactly.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <grt.h>

#include "testutil.h"

#define DEADLOCK "fatal error: all goroutines are asleep - deadlock!"
#define GOEXIT_DEADLOCK \
    "fatal error: no goroutines (main called runtime.Goexit) - deadlock!"

static void recv_forever(void *arg)
{
    grt_chan_recv(arg, NULL);
}

/* Main and a goroutine each wait on a channel nobody will use. */
static void child_chans(void)
{
    grt_chan *a = grt_chan_make(0, 0);
    grt_chan *b = grt_chan_make(sizeof(int), 1);
    grt_go(recv_forever, a);
    grt_go(recv_forever, a);
    grt_chan_recv(b, NULL);
}

/* Main alone, on an unbuffered send. */
static void child_main_send(void)
{
    grt_chan_send(grt_chan_make(sizeof(int), 0), &(int){1});
}

/* Several goroutines in a cycle of sends, main waiting for them. */
struct cyc {
    grt_chan *in, *out;
};

static void cycle_member(void *arg)
{
    struct cyc *c = arg;
    int v;
    grt_chan_recv(c->in, &v);
    grt_chan_send(c->out, &v);
}

static void child_cycle(void)
{
    static struct cyc ring[4];
    grt_chan *ch[4];
    for (int i = 0; i < 4; i++)
        ch[i] = grt_chan_make(sizeof(int), 0);
    for (int i = 0; i < 4; i++) {
        ring[i] = (struct cyc){ch[i], ch[(i + 1) % 4]};
        grt_go(cycle_member, &ring[i]);
    }
    grt_wg wg = GRT_WG_INIT;
    grt_wg_add(&wg, 1);
    grt_wg_wait(&wg);
}

/* Main on a wait group that nobody will mark done. */
static void child_wg(void)
{
    grt_wg wg = GRT_WG_INIT;
    grt_wg_add(&wg, 1);
    grt_wg_wait(&wg);
}

/* Main on select {} (Go's empty select), with a goroutine on nil. */
static void nil_recv(void *arg)
{
    (void)arg;
    grt_chan_recv(NULL, NULL);
}

static void child_select_empty(void)
{
    grt_go(nil_recv, NULL);
    grt_select(NULL, 0, false);
}

/* Main on a blocking select over channels nobody uses. */
static void child_select_blocked(void)
{
    grt_chan *a = grt_chan_make(sizeof(int), 0);
    grt_chan *b = grt_chan_make(sizeof(int), 0);
    int s = 1;
    grt_case cs[] = {{a, GRT_RECV, NULL, false}, {b, GRT_SEND, &s, false}};
    grt_select(cs, 2, false);
}

/* Main locks a mutex it already holds. */
static void child_mutex(void)
{
    grt_mutex m = GRT_MUTEX_INIT;
    grt_mutex_lock(&m);
    grt_mutex_lock(&m);
}

/* The deadlock comes after real work finished: detection is not early. */
static void worker_then_block(void *arg)
{
    grt_chan *c = arg;
    for (int i = 0; i < 100; i++) {
        grt_chan_send(c, &i);
        grt_yield();
    }
    grt_chan_recv(grt_chan_make(0, 0), NULL);
}

static void child_after_work(void)
{
    grt_chan *c = grt_chan_make(sizeof(int), 0);
    for (int g = 0; g < 4; g++)
        grt_go(worker_then_block, c);
    for (int i = 0; i < 401; i++) /* one more than will ever come */
        grt_chan_recv(c, NULL);
}

static const struct {
    const char *name;
    void (*fn)(void);
} deadlocks[] = {
    {"chans", child_chans},
    {"main-send", child_main_send},
    {"cycle", child_cycle},
    {"wg", child_wg},
    {"select-empty", child_select_empty},
    {"select-blocked", child_select_blocked},
    {"mutex", child_mutex},
    {"after-work", child_after_work},
};

START_TEST(t_deadlock)
{
    char err[8192];
    int st;
    tu_child(deadlocks[_i].fn, err, sizeof err, &st);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 2,
                  "case %s: status %#x; stderr:\n" TU_ERR,
                  deadlocks[_i].name, (unsigned)st, err);
    tu_assert_child(st, err, 2, DEADLOCK);
}
END_TEST

/* ------------------------------------------------------------------ */
/* not a deadlock                                                      */
/* ------------------------------------------------------------------ */

static void sleepy_sender(void *arg)
{
    grt_sleep(50 * 1000 * 1000);
    grt_chan_send(arg, &(int){5});
}

/* Everyone is blocked, but a timer is pending: main gets its value. */
static void child_sleeper(void)
{
    grt_chan *c = grt_chan_make(sizeof(int), 0);
    grt_go(sleepy_sender, c);
    int v = 0;
    grt_chan_recv(c, &v);
    if (v != 5)
        grt_exit(1);
}

/* Main itself sleeping while everyone else is blocked. */
static void child_main_sleeps(void)
{
    grt_go(recv_forever, grt_chan_make(0, 0));
    grt_sleep(20 * 1000 * 1000);
}

static void (*const not_deadlocks[])(void) = {
    child_sleeper,
    child_main_sleeps,
};

START_TEST(t_not_deadlock)
{
    char err[8192];
    int st;
    tu_child(not_deadlocks[_i], err, sizeof err, &st);
    tu_assert_child(st, err, 0, NULL);
}
END_TEST

/* ------------------------------------------------------------------ */
/* main called grt_goexit                                              */
/* ------------------------------------------------------------------ */

static void short_worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100; i++)
        grt_yield();
}

static void child_goexit(void)
{
    for (int i = 0; i < 4; i++)
        grt_go(short_worker, NULL);
    grt_goexit();
}

/* Main exits at once, with no other goroutine at all. */
static void child_goexit_alone(void)
{
    grt_goexit();
}

/* After main's goexit the others keep working: they can still exit 0. */
static void exit_after_work(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100; i++)
        grt_yield();
    grt_exit(0);
}

static void child_goexit_then_exit(void)
{
    grt_go(exit_after_work, NULL);
    grt_goexit();
}

/* ... and if they block instead, it is the ordinary deadlock. */
static void child_goexit_then_block(void)
{
    grt_go(recv_forever, grt_chan_make(0, 0));
    grt_goexit();
}

START_TEST(t_goexit_deadlock)
{
    char err[8192];
    int st;
    tu_child(child_goexit, err, sizeof err, &st);
    tu_assert_child(st, err, 2, GOEXIT_DEADLOCK);
    tu_child(child_goexit_alone, err, sizeof err, &st);
    tu_assert_child(st, err, 2, GOEXIT_DEADLOCK);
}
END_TEST

START_TEST(t_goexit_others_continue)
{
    char err[8192];
    int st;
    tu_child(child_goexit_then_exit, err, sizeof err, &st);
    tu_assert_child(st, err, 0, NULL);
    tu_child(child_goexit_then_block, err, sizeof err, &st);
    tu_assert_child(st, err, 2, DEADLOCK);
}
END_TEST

static Suite *deadlock_suite(void)
{
    Suite *s = suite_create("deadlock");
    TCase *tc;

    tc = tcase_create("asleep");
    tcase_add_loop_test(tc, t_deadlock, 0,
                        (int)(sizeof deadlocks / sizeof deadlocks[0]));
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);

    tc = tcase_create("not-deadlock");
    tcase_add_loop_test(tc, t_not_deadlock, 0,
                        (int)(sizeof not_deadlocks /
                              sizeof not_deadlocks[0]));
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);

    tc = tcase_create("goexit");
    tcase_add_test(tc, t_goexit_deadlock);
    tcase_add_test(tc, t_goexit_others_continue);
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);

    return s;
}

int main(void)
{
    return tu_run_suite(deadlock_suite());
}
