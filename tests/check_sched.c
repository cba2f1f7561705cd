/*
 * check_sched.c - the scheduler as user code sees it: goroutine ids,
 * grt_yield, mass spawning, grt_maxprocs and grt_num_cpu, the goroutine
 * count, grt_goexit, the end of the process when main returns while
 * goroutines run, and parallelism with two processors.
 *
 * "parallel" proves two goroutines ran at once without looking at a
 * clock: they pass a token back and forth by spinning (never yielding),
 * which only completes promptly if both run simultaneously, and each
 * records the OS thread it saw the token on: simultaneous runs are on
 * different threads.  The Check timeout bounds the run; no assertion
 * measures time.
 */
#include "config.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <grt.h>

#include "testutil.h"

static void yield_n(int n)
{
    for (int i = 0; i < n; i++)
        grt_yield();
}

/* ------------------------------------------------------------------ */
/* ids                                                                 */
/* ------------------------------------------------------------------ */

#define NIDS 16

struct id_msg {
    int idx;
    int64_t self;
};

struct id_arg {
    grt_chan *c;
    int idx;
};

static void id_reporter(void *arg)
{
    struct id_arg *a = arg;
    struct id_msg m = {a->idx, grt_self()};
    grt_chan_send(a->c, &m);
}

START_TEST(t_ids)
{
    ck_assert_int_eq(grt_self(), 1);
    grt_chan *c = grt_chan_make(sizeof(struct id_msg), 0);
    struct id_arg args[NIDS];
    int64_t ids[NIDS], prev = 1;
    for (int i = 0; i < NIDS; i++) {
        args[i] = (struct id_arg){c, i};
        ids[i] = i % 2 ? grt_go(id_reporter, &args[i])
                       : grt_go_named("reporter", id_reporter, &args[i]);
        ck_assert_int_gt(ids[i], prev);
        prev = ids[i];
    }
    for (int i = 0; i < NIDS; i++) {
        struct id_msg m;
        ck_assert(grt_chan_recv(c, &m));
        ck_assert(m.idx >= 0 && m.idx < NIDS);
        ck_assert_int_eq(m.self, ids[m.idx]);
    }
    ck_assert_int_eq(grt_self(), 1);
    tu_wait_goroutines(1);
    /* Ids are never reused: a goroutine made after others exited. */
    args[0].idx = 0;
    int64_t later = grt_go(id_reporter, &args[0]);
    ck_assert_int_gt(later, prev);
    struct id_msg m;
    ck_assert(grt_chan_recv(c, &m));
    ck_assert_int_eq(m.self, later);
    tu_wait_goroutines(1);
    grt_chan_free(c);
}
END_TEST

/* ------------------------------------------------------------------ */
/* yield                                                               */
/* ------------------------------------------------------------------ */

#define YIELD_N 1000
static char yl_log[2 * YIELD_N];
static atomic_int yl_len;
static grt_wg yl_wg;

static void yl_worker(void *arg)
{
    char me = (char)(intptr_t)arg;
    for (int i = 0; i < YIELD_N; i++) {
        yl_log[atomic_fetch_add(&yl_len, 1)] = me;
        grt_yield();
    }
    grt_wg_done(&yl_wg);
}

/*
 * On one P, two goroutines that yield after each step alternate.  Allow a
 * run of up to 3 (a preemption between a step and its yield can repeat
 * one step); without working yields each would run all 1000 in a row.
 */
START_TEST(t_yield_interleaves)
{
    grt_maxprocs(1);
    grt_wg_add(&yl_wg, 2);
    grt_go(yl_worker, (void *)(intptr_t)'a');
    grt_go(yl_worker, (void *)(intptr_t)'b');
    grt_wg_wait(&yl_wg);
    ck_assert_int_eq(atomic_load(&yl_len), 2 * YIELD_N);
    int run = 1, maxrun = 1, switches = 0, na = 0;
    for (int i = 0; i < 2 * YIELD_N; i++) {
        na += yl_log[i] == 'a';
        if (i == 0)
            continue;
        if (yl_log[i] == yl_log[i - 1]) {
            run++;
        } else {
            run = 1;
            switches++;
        }
        if (run > maxrun)
            maxrun = run;
    }
    ck_assert_int_eq(na, YIELD_N);
    ck_assert_int_le(maxrun, 3);
    ck_assert_int_ge(switches, YIELD_N);
    tu_wait_goroutines(1);
}
END_TEST

static atomic_int ym_counter;

static void ym_spinner(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100; i++) {
        atomic_fetch_add(&ym_counter, 1);
        grt_yield();
    }
}

/* grt_yield in main lets the others run, and main keeps running too. */
START_TEST(t_yield_main)
{
    grt_maxprocs(1);
    for (int i = 0; i < 4; i++)
        grt_go(ym_spinner, NULL);
    while (atomic_load(&ym_counter) < 400)
        grt_yield();
    tu_wait_goroutines(1);
    ck_assert_int_eq(atomic_load(&ym_counter), 400);
}
END_TEST

/* ------------------------------------------------------------------ */
/* many                                                                */
/* ------------------------------------------------------------------ */

#define MANY 100000
static atomic_long many_ran;
static grt_wg many_wg;

static void many_fn(void *arg)
{
    atomic_fetch_add(&many_ran, (long)(intptr_t)arg);
    grt_wg_done(&many_wg);
}

START_TEST(t_many)
{
    grt_wg_add(&many_wg, MANY);
    for (long i = 0; i < MANY; i++)
        grt_go(many_fn, (void *)(intptr_t)(i + 1));
    grt_wg_wait(&many_wg);
    ck_assert_int_eq(atomic_load(&many_ran), (long)MANY * (MANY + 1) / 2);
    tu_wait_goroutines(1);
    grt_memstats ms;
    grt_read_memstats(&ms);
    ck_assert_uint_ge(ms.goroutines_created, MANY);
    ck_assert_uint_eq(ms.goroutines_created - ms.goroutines_exited,
                      ms.num_goroutine);
    /* A spawner whose run queue fills lets the queued goroutines run, so
     * a burst of short ones recycles a few hundred Gs and stacks instead
     * of making one each (16 MiB reserved and a page touched apiece). */
    ck_assert_msg(ms.stack_sys < 4096ull * (17u << 20),
                  "%llu bytes of stacks reserved for a burst of %d",
                  (unsigned long long)ms.stack_sys, MANY);
}
END_TEST

/* ------------------------------------------------------------------ */
/* maxprocs                                                            */
/* ------------------------------------------------------------------ */

static grt_wg mb_wg;
static atomic_long mb_sum;

static void mb_worker(void *arg)
{
    grt_chan *c = arg;
    long v;
    while (grt_chan_recv(c, &v)) {
        atomic_fetch_add(&mb_sum, v);
        grt_yield();
    }
    grt_wg_done(&mb_wg);
}

/* Goroutines still run: 8 workers take 1000 values through a channel. */
static void run_batch(void)
{
    grt_chan *c = grt_chan_make(sizeof(long), 4);
    atomic_store(&mb_sum, 0);
    grt_wg_add(&mb_wg, 8);
    for (int i = 0; i < 8; i++)
        grt_go(mb_worker, c);
    for (long v = 1; v <= 1000; v++)
        grt_chan_send(c, &v);
    grt_chan_close(c);
    grt_wg_wait(&mb_wg);
    ck_assert_int_eq(atomic_load(&mb_sum), 1000L * 1001 / 2);
    grt_chan_free(c);
}

START_TEST(t_maxprocs)
{
    int cur = grt_maxprocs(0);
    ck_assert_int_ge(cur, 1);
    const char *env = getenv("GRT_MAXPROCS");
    if (env && atoi(env) >= 1 && atoi(env) <= 1024)
        ck_assert_int_eq(cur, atoi(env));
    ck_assert_int_eq(grt_maxprocs(0), cur);
    ck_assert_int_eq(grt_maxprocs(-1), cur);
    ck_assert_int_eq(grt_maxprocs(1), cur);
    ck_assert_int_eq(grt_maxprocs(0), 1);
    run_batch();
    ck_assert_int_eq(grt_maxprocs(2), 1);
    run_batch();
    ck_assert_int_eq(grt_maxprocs(4), 2);
    run_batch();
    grt_memstats ms;
    grt_read_memstats(&ms);
    ck_assert_uint_eq(ms.maxprocs, 4);
    ck_assert_int_eq(grt_maxprocs(cur), 4);
    run_batch();
    ck_assert_int_eq(grt_maxprocs(0), cur);
    tu_wait_goroutines(1);
}
END_TEST

static atomic_int mf_stop;

static void mf_flipper(void *arg)
{
    (void)arg;
    for (int i = 0; i < 200; i++) {
        grt_maxprocs(1 + i % 3);
        grt_yield();
    }
    atomic_store(&mf_stop, 1);
}

/* Changing maxprocs from a goroutine while others work. */
START_TEST(t_maxprocs_while_running)
{
    grt_go(mf_flipper, NULL);
    int rounds = 0;
    while (!atomic_load(&mf_stop) || rounds < 5) {
        run_batch();
        rounds++;
    }
    tu_wait_goroutines(1);
    int n = grt_maxprocs(0);
    ck_assert(n >= 1 && n <= 3);
}
END_TEST

START_TEST(t_num_cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    ck_assert_int_eq(sched_getaffinity(0, sizeof set, &set), 0);
    int n = grt_num_cpu();
    ck_assert_int_ge(n, 1);
    ck_assert_int_eq(n, CPU_COUNT(&set));
}
END_TEST

/* ------------------------------------------------------------------ */
/* num_goroutine                                                       */
/* ------------------------------------------------------------------ */

static grt_wg ng_wg;

static void ng_parked(void *arg)
{
    tu_check(!grt_chan_recv(arg, NULL));
    grt_wg_done(&ng_wg);
}

START_TEST(t_num_goroutine)
{
    ck_assert_int_eq(grt_num_goroutine(), 1);
    grt_chan *c = grt_chan_make(0, 0);
    grt_wg_add(&ng_wg, 10);
    for (int i = 0; i < 10; i++) {
        grt_go(ng_parked, c);
        ck_assert_int_eq(grt_num_goroutine(), 2 + i);
    }
    yield_n(100);
    ck_assert_int_eq(grt_num_goroutine(), 11);
    grt_memstats ms;
    grt_read_memstats(&ms);
    ck_assert_uint_eq(ms.num_goroutine, 11);
    grt_chan_close(c);
    grt_wg_wait(&ng_wg);
    tu_wait_goroutines(1);
    ck_assert_int_eq(grt_num_goroutine(), 1);
    grt_read_memstats(&ms);
    ck_assert_uint_eq(ms.num_goroutine, 1);
    grt_chan_free(c);
}
END_TEST

/* ------------------------------------------------------------------ */
/* goexit                                                              */
/* ------------------------------------------------------------------ */

static atomic_int ge_before, ge_after, ge_other;

static volatile int ge_skip; /* always 0; hides the end from gcc */

/* Goexit from 20 frames down: none of them returns. */
TU_NOINLINE static void ge_deep(int depth)
{
    if (depth > 0)
        ge_deep(depth - 1);
    else if (!ge_skip)
        grt_goexit();
    atomic_store(&ge_after, 1); /* never reached */
}

static void ge_exiter(void *arg)
{
    atomic_store(&ge_before, 1);
    grt_chan_send(arg, NULL);
    ge_deep(20);
    atomic_store(&ge_after, 1);
}

static void ge_other_fn(void *arg)
{
    for (int i = 0; i < 100; i++) {
        grt_yield();
        atomic_fetch_add(&ge_other, 1);
    }
    grt_chan_send(arg, NULL);
}

START_TEST(t_goexit)
{
    grt_chan *c = grt_chan_make(0, 0);
    grt_chan *done = grt_chan_make(0, 0);
    grt_go(ge_other_fn, done);
    grt_go(ge_exiter, c);
    ck_assert(grt_chan_recv(c, NULL));
    ck_assert(grt_chan_recv(done, NULL));
    tu_wait_goroutines(1);
    ck_assert_int_eq(atomic_load(&ge_before), 1);
    ck_assert_int_eq(atomic_load(&ge_after), 0);
    ck_assert_int_eq(atomic_load(&ge_other), 100);
    grt_memstats ms;
    grt_read_memstats(&ms);
    ck_assert_uint_eq(ms.goroutines_created - ms.goroutines_exited, 1);
    /* The runtime goes on: new goroutines run normally. */
    grt_go(ge_other_fn, done);
    ck_assert(grt_chan_recv(done, NULL));
    tu_wait_goroutines(1);
    grt_chan_free(c);
    grt_chan_free(done);
}
END_TEST

/* ------------------------------------------------------------------ */
/* main-exit                                                           */
/* ------------------------------------------------------------------ */

static void spin_forever(void *arg)
{
    (void)arg;
    volatile unsigned long n = 0;
    for (;;) {
        n++;
#ifdef GRT_TSAN
        /* no asynchronous preemption under TSan (preempt.c): spin
         * cooperatively or main never runs again on one P */
        if ((n & 1023) == 0)
            grt_yield();
#endif
    }
}

static void yield_forever(void *arg)
{
    (void)arg;
    for (;;)
        grt_yield();
}

static void park_forever(void *arg)
{
    grt_chan_recv(arg, NULL);
}

/* main returns while goroutines spin, yield and park: exit status 0. */
static void child_main_returns(void)
{
    grt_chan *c = grt_chan_make(0, 0);
    for (int i = 0; i < 4; i++) {
        grt_go(spin_forever, NULL);
        grt_go(yield_forever, NULL);
        grt_go(park_forever, c);
    }
    yield_n(10);
}

static void exiter(void *arg)
{
    (void)arg;
    grt_exit(3);
}

/* grt_exit from a goroutine ends the process with its code. */
static void child_goroutine_exits(void)
{
    for (int i = 0; i < 2; i++)
        grt_go(spin_forever, NULL);
    grt_go(exiter, NULL);
    grt_chan_recv(grt_chan_make(0, 0), NULL);
}

START_TEST(t_main_returns)
{
    char err[4096];
    int st;
    tu_child(child_main_returns, err, sizeof err, &st);
    tu_assert_child(st, err, 0, NULL);
    ck_assert_msg(!strstr(err, "panic") && !strstr(err, "fatal"),
                  "stderr:\n" TU_ERR, err);
}
END_TEST

START_TEST(t_goroutine_exits_process)
{
    char err[4096];
    int st;
    tu_child(child_goroutine_exits, err, sizeof err, &st);
    tu_assert_child(st, err, 3, NULL);
}
END_TEST

/* ------------------------------------------------------------------ */
/* parallel                                                            */
/* ------------------------------------------------------------------ */

#define PP_ROUNDS 1000
static atomic_int pp_turn;
static pid_t pp_tid[2][PP_ROUNDS];
static grt_wg pp_wg;

/* Spin (never yield) for the token, note our thread, pass the token. */
static void pp_player(void *arg)
{
    int me = (int)(intptr_t)arg;
    for (int r = 0; r < PP_ROUNDS; r++) {
        while (atomic_load(&pp_turn) != me)
            tu_spin_pause();
        pp_tid[me][r] = gettid();
        atomic_store(&pp_turn, 1 - me);
    }
    grt_wg_done(&pp_wg);
}

START_TEST(t_parallel)
{
    grt_maxprocs(2);
    grt_wg_add(&pp_wg, 2);
    grt_go(pp_player, (void *)(intptr_t)0);
    grt_go(pp_player, (void *)(intptr_t)1);
    grt_wg_wait(&pp_wg);
    /*
     * Player 1 records round r just after player 0 recorded it and passed
     * the token, while player 0 spins for the next one: two running
     * goroutines, two threads.  Allow preemption to blur some rounds.
     */
    int differ = 0;
    for (int r = 0; r < PP_ROUNDS; r++)
        differ += pp_tid[0][r] != pp_tid[1][r];
    ck_assert_int_gt(differ, PP_ROUNDS / 2);
    tu_wait_goroutines(1);
}
END_TEST

static atomic_long par_count[2];
static atomic_int par_stop;

/* Each spins until it has seen the other's counter advance 1000 times. */
static void par_counter(void *arg)
{
    int me = (int)(intptr_t)arg;
    long seen = 0, last = atomic_load(&par_count[1 - me]);
    while (seen < 1000 && !atomic_load(&par_stop)) {
        atomic_fetch_add(&par_count[me], 1);
        long now = atomic_load(&par_count[1 - me]);
        if (now != last) {
            seen++;
            last = now;
        }
    }
    atomic_store(&par_stop, 1);
    grt_wg_done(&pp_wg);
}

START_TEST(t_parallel_progress)
{
    grt_maxprocs(2);
    grt_wg_add(&pp_wg, 2);
    grt_go(par_counter, (void *)(intptr_t)0);
    grt_go(par_counter, (void *)(intptr_t)1);
    grt_wg_wait(&pp_wg);
    ck_assert_int_gt(atomic_load(&par_count[0]), 0);
    ck_assert_int_gt(atomic_load(&par_count[1]), 0);
    tu_wait_goroutines(1);
}
END_TEST

/*
 * Work queued by a goroutine that then spins is run by the other P.  The
 * spinner never reaches the scheduler (preemption off), so only a woken M
 * can run what it queued: a lost wake-up hangs the test.  Each round
 * queues by spawning one (into an empty runnext), by a send that readies
 * a parked receiver, and by spawning two (the second swaps runnext, and
 * the swap is wakep's fence), each time when the other M has just run
 * out of work and is going idle: the moment when the submitter's wake-up
 * and the idle M's last look at the queues cross.  Before wakep had a full
 * fence, x86's store buffer let both miss: it hung within ~1,000 rounds.
 * Before needspinning (proc.c, pidleget_spinning), the two-spawn step
 * hung 3 runs in 4 when started with GRT_MAXPROCS=1.
 */
#define WAKE_ROUNDS 20000
static atomic_int wake_flag;

static void wake_setter(void *arg)
{
    (void)arg;
    atomic_store(&wake_flag, 1);
}

static void wake_receiver(void *arg)
{
    grt_chan *c = arg;
    int v;
    while (grt_chan_recv(c, &v) && v)
        atomic_store(&wake_flag, 1);
}

static void spin_for_wake_flag(void)
{
    while (!atomic_load(&wake_flag))
        tu_spin_pause();
    atomic_store(&wake_flag, 0);
}

static atomic_int wake_count;

static void wake_counter(void *arg)
{
    (void)arg;
    atomic_fetch_add(&wake_count, 1);
}

START_TEST(t_queued_work_wakes_idle_p)
{
    grt_maxprocs(2);
    grt_chan *c = grt_chan_make(sizeof(int), 0);
    grt_go(wake_receiver, c);
    grt_preempt_disable();
    for (int r = 0; r < WAKE_ROUNDS; r++) {
        grt_go(wake_setter, NULL);
        spin_for_wake_flag();
        int one = 1;
        grt_chan_send(c, &one);
        spin_for_wake_flag();
        atomic_store(&wake_count, 0);
        grt_go(wake_counter, NULL);
        grt_go(wake_counter, NULL);
        while (atomic_load(&wake_count) < 2)
            tu_spin_pause();
    }
    grt_preempt_enable();
    grt_chan_close(c);
    tu_wait_goroutines(1);
}
END_TEST

static Suite *sched_suite(void)
{
    Suite *s = suite_create("sched");
    TCase *tc;

    tc = tcase_create("ids");
    tcase_add_test(tc, t_ids);
    suite_add_tcase(s, tc);

    tc = tcase_create("yield");
    tcase_add_test(tc, t_yield_interleaves);
    tcase_add_test(tc, t_yield_main);
    suite_add_tcase(s, tc);

    tc = tcase_create("many");
    tcase_add_test(tc, t_many);
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);

    tc = tcase_create("maxprocs");
    tcase_add_test(tc, t_maxprocs);
    tcase_add_test(tc, t_maxprocs_while_running);
    tcase_add_test(tc, t_num_cpu);
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);

    tc = tcase_create("num_goroutine");
    tcase_add_test(tc, t_num_goroutine);
    suite_add_tcase(s, tc);

    tc = tcase_create("goexit");
    tcase_add_test(tc, t_goexit);
    suite_add_tcase(s, tc);

    tc = tcase_create("main-exit");
    tcase_add_test(tc, t_main_returns);
    tcase_add_test(tc, t_goroutine_exits_process);
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);

    tc = tcase_create("parallel");
    tcase_add_test(tc, t_parallel);
    tcase_add_test(tc, t_parallel_progress);
    tcase_add_test(tc, t_queued_work_wakes_idle_p);
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);

    return s;
}

int main(void)
{
    return tu_run_suite(sched_suite());
}
