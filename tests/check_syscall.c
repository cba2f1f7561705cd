/*
 * check_syscall.c - blocking calls bracketed by grt_syscall_enter/exit
 * (Go's entersyscall/exitsyscall).
 *
 * "handoff": on one processor, a goroutine blocks in read(2) on an empty
 * pipe inside the brackets; another goroutine must still run (the monitor
 * thread hands the processor to a second thread), make progress, and only
 * then write the byte that ends the read.  Without the hand-off the test
 * never finishes and Check's timeout fails it; no clock is read.
 * "handoff-main" is the same with main (goroutine 1, on the process's own
 * thread) as the blocked one.
 *
 * "threads": the runtime starts a thread only for a processor whose
 * thread is blocked, so while K goroutines block the thread count stays
 * within K + GOMAXPROCS + a small constant, and many rounds of short
 * blocking calls reuse idle threads instead of piling up new ones.
 *
 * "not-deadlock": main waiting on a channel while the only other
 * goroutine sits in a long blocking call is not "all goroutines are
 * asleep".
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <grt.h>

#include "testutil.h"

/* Threads the runtime may have beyond blocked + GOMAXPROCS ones: the
 * process's first thread when main is parked, one spare idle M, and
 * one M in transit between a blocking call and the idle list. */
#define SPARE_THREADS 3

static int ld(const int *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void st(int *p, int v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Threads of this process, from /proc/self/task. */
static int task_count(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static uint64_t num_thread(void)
{
    grt_memstats ms;
    grt_read_memstats(&ms);
    return ms.num_thread;
}

/* ------------------------------------------------------------------ */
/* handoff                                                             */
/* ------------------------------------------------------------------ */

#define STEPS 100

struct handoff {
    int fds[2];
    int entered;  /* the reader is about to block */
    int progress; /* steps the worker made */
    int seen;     /* progress when the read returned */
    ssize_t got;  /* the read's result */
    char byte;
    grt_chan *done;
};

/* Block the thread in read(2) on the empty pipe, inside the brackets. */
static void blocking_reader(struct handoff *h)
{
    st(&h->entered, 1);
    grt_syscall_enter();
    ssize_t n = read(h->fds[0], &h->byte, 1);
    grt_syscall_exit();
    h->got = n;
    h->seen = ld(&h->progress);
}

static void reader_g(void *arg)
{
    struct handoff *h = arg;
    blocking_reader(h);
    grt_chan_send(h->done, NULL);
}

/* Wait for the reader to block, make STEPS steps, then feed it. */
static void worker_g(void *arg)
{
    struct handoff *h = arg;
    while (!ld(&h->entered))
        grt_yield();
    for (int i = 0; i < STEPS; i++) {
        st(&h->progress, ld(&h->progress) + 1);
        grt_yield();
    }
    char c = 'x';
    tu_check(write(h->fds[1], &c, 1) == 1);
    grt_chan_send(h->done, NULL);
}

START_TEST(t_handoff)
{
    static struct handoff h;
    grt_maxprocs(1);
    ck_assert_int_eq(pipe(h.fds), 0);
    h.done = grt_chan_make(0, 0);
    grt_go(reader_g, &h);
    grt_go(worker_g, &h);
    grt_chan_recv(h.done, NULL);
    grt_chan_recv(h.done, NULL);
    ck_assert_int_eq(h.got, 1);
    ck_assert_int_eq(h.byte, 'x');
    /* every step happened while the reader's thread was blocked */
    ck_assert_int_eq(h.seen, STEPS);
    grt_memstats ms;
    grt_read_memstats(&ms);
    ck_assert_uint_ge(ms.syscalls, 1);
    close(h.fds[0]);
    close(h.fds[1]);
    grt_chan_free(h.done);
}
END_TEST

/* Main is the blocked one; the worker runs on another thread. */
START_TEST(t_handoff_main)
{
    static struct handoff h;
    grt_maxprocs(1);
    ck_assert_int_eq(pipe(h.fds), 0);
    h.done = grt_chan_make(0, 1);
    grt_go(worker_g, &h);
    blocking_reader(&h);
    grt_chan_recv(h.done, NULL);
    ck_assert_int_eq(h.got, 1);
    ck_assert_int_eq(h.byte, 'x');
    ck_assert_int_eq(h.seen, STEPS);
    close(h.fds[0]);
    close(h.fds[1]);
    grt_chan_free(h.done);
}
END_TEST

/* ------------------------------------------------------------------ */
/* threads                                                             */
/* ------------------------------------------------------------------ */

#define NBLOCK 8
#define ROUNDS 200

static int pipes[NBLOCK][2];
static int nentered;
static grt_wg blocked_wg;

static void block_on_pipe(void *arg)
{
    int i = (int)(intptr_t)arg;
    char c;
    __atomic_fetch_add(&nentered, 1, __ATOMIC_ACQ_REL);
    grt_syscall_enter();
    ssize_t n = read(pipes[i][0], &c, 1);
    grt_syscall_exit();
    tu_check(n == 1);
    grt_wg_done(&blocked_wg);
}

static void short_call(void *arg)
{
    grt_syscall_enter();
    usleep(200);
    grt_syscall_exit();
    grt_wg_done(arg);
}

START_TEST(t_threads)
{
    int procs = grt_maxprocs(0);
    for (int i = 0; i < NBLOCK; i++)
        ck_assert_int_eq(pipe(pipes[i]), 0);

    /* K goroutines block at once: one thread each, plus the Ps' */
    grt_wg_add(&blocked_wg, NBLOCK);
    for (int i = 0; i < NBLOCK; i++)
        grt_go(block_on_pipe, (void *)(intptr_t)i);
    while (ld(&nentered) < NBLOCK)
        grt_yield();
    grt_sleep(20 * 1000 * 1000); /* let sysmon take every blocked P */
    uint64_t t_blocked = num_thread();
    int tasks_blocked = task_count();
    for (int i = 0; i < NBLOCK; i++)
        ck_assert_int_eq(write(pipes[i][1], "x", 1), 1);
    grt_wg_wait(&blocked_wg);
    fprintf(stderr,
            "threads: %d blocked on %d P: num_thread %llu, "
            "/proc tasks %d\n",
            NBLOCK, procs, (unsigned long long)t_blocked, tasks_blocked);
    ck_assert_uint_le(t_blocked, NBLOCK + procs + SPARE_THREADS);

    /* many rounds of short calls: idle threads are reused */
    for (int r = 0; r < ROUNDS; r++) {
        grt_wg wg = GRT_WG_INIT;
        grt_wg_add(&wg, NBLOCK);
        for (int i = 0; i < NBLOCK; i++)
            grt_go(short_call, &wg);
        grt_wg_wait(&wg);
    }
    grt_memstats ms;
    grt_read_memstats(&ms);
    fprintf(stderr,
            "threads: after %d short calls: num_thread %llu, /proc tasks "
            "%d, syscalls %llu\n",
            ROUNDS * NBLOCK, (unsigned long long)ms.num_thread, task_count(),
            (unsigned long long)ms.syscalls);
    ck_assert_uint_le(ms.num_thread, NBLOCK + procs + SPARE_THREADS);
    ck_assert_uint_ge(ms.syscalls, ROUNDS * NBLOCK + NBLOCK);
    for (int i = 0; i < NBLOCK; i++) {
        close(pipes[i][0]);
        close(pipes[i][1]);
    }
}
END_TEST

/* ------------------------------------------------------------------ */
/* not a deadlock                                                      */
/* ------------------------------------------------------------------ */

static void long_call_then_send(void *arg)
{
    grt_syscall_enter();
    usleep(100 * 1000);
    grt_syscall_exit();
    grt_chan_send(arg, &(int){7});
}

static void child_wait_for_call(void)
{
    grt_maxprocs(1);
    grt_chan *c = grt_chan_make(sizeof(int), 0);
    grt_go(long_call_then_send, c);
    int v = 0;
    grt_chan_recv(c, &v);
    if (v != 7)
        grt_exit(1);
}

START_TEST(t_not_deadlock)
{
    char err[4096];
    int status;
    tu_child(child_wait_for_call, err, sizeof err, &status);
    tu_assert_child(status, err, 0, NULL);
}
END_TEST

static Suite *syscall_suite(void)
{
    Suite *s = suite_create("syscall");
    TCase *tc = tcase_create("handoff");
    tcase_add_test(tc, t_handoff);
    tcase_add_test(tc, t_handoff_main);
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);

    tc = tcase_create("threads");
    tcase_add_test(tc, t_threads);
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);

    tc = tcase_create("not-deadlock");
    tcase_add_test(tc, t_not_deadlock);
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(syscall_suite());
}
