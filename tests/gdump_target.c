/*
 * gdump_target.c - a grt program in a known state, for tests/gdump.sh to
 * look at from outside with gdump.  It sets the state up, prints
 * "ready <pid>" on stdout, and then sleeps until it is killed.
 *
 *   gdump_target leak N    N goroutines blocked for ever receiving from
 *                          one channel named "jobs" (suspected leaks),
 *                          each two frames below its entry
 *   gdump_target cycle     goroutines A and B deadlocked on two mutexes
 *                          (a proven cycle) and C queued behind A's mutex
 *   gdump_target clean     workers that sleep and wake in a loop, a
 *                          locked-to-thread sleeper: nothing leaks
 *   gdump_target many N    as leak N, for timing gdump by hand
 *   gdump_target tail      a goroutine blocked sending on "outbox" and one
 *                          receiving from "inbox", each from an entry
 *                          function whose only call is a tail call: no
 *                          frame of the user's is left, the public call
 *                          stands for it
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <grt.h>

#define MS 1000000LL

static grt_chan *jobs;
static grt_mutex ma = GRT_MUTEX_INIT, mb = GRT_MUTEX_INIT;
static grt_wg both;

#if defined(__clang__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE __attribute__((noinline, noclone))
#endif

static void NOINLINE wait_for_job(int depth)
{
    if (depth > 0) {
        wait_for_job(depth - 1);
        __asm__ volatile("" ::: "memory"); /* not a tail call */
        return;
    }
    grt_chan_recv(jobs, NULL);
    __asm__ volatile("" ::: "memory");
}

static void leaker(void *arg)
{
    (void)arg;
    wait_for_job(2);
    __asm__ volatile("" ::: "memory");
}

static void lock_a_then_b(void *arg)
{
    (void)arg;
    grt_mutex_lock(&ma);
    grt_wg_done(&both);
    grt_wg_wait(&both);
    grt_mutex_lock(&mb);
    __asm__ volatile("" ::: "memory"); /* not a tail call: a frame */
}

static void lock_b_then_a(void *arg)
{
    (void)arg;
    grt_mutex_lock(&mb);
    grt_wg_done(&both);
    grt_wg_wait(&both);
    grt_mutex_lock(&ma);
    __asm__ volatile("" ::: "memory");
}

static void queued_on_a(void *arg)
{
    (void)arg;
    grt_sleep(50 * MS);
    grt_mutex_lock(&ma); /* a tail call: grt_mutex_lock is the top */
}

static grt_chan *outbox, *inbox;
static const int one = 1;

static void tail_sender(void *arg)
{
    (void)arg;
    grt_chan_send(outbox, &one); /* a tail call (when optimised) */
}

static void tail_receiver(void *arg)
{
    grt_chan_recv(inbox, arg); /* a tail call (when optimised) */
}

static void napper(void *arg)
{
    (void)arg;
    for (;;)
        grt_sleep(20 * MS);
}

static void locked_napper(void *arg)
{
    (void)arg;
    grt_lock_os_thread();
    for (;;)
        grt_sleep(30 * MS);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    long n = argc > 2 ? atol(argv[2]) : 10;
    if (!strcmp(mode, "leak") || !strcmp(mode, "many")) {
        jobs = grt_chan_make(0, 0);
        grt_chan_set_name(jobs, "jobs");
        for (long i = 0; i < n; i++)
            grt_go(leaker, NULL);
    } else if (!strcmp(mode, "cycle")) {
        grt_wg_add(&both, 2);
        grt_go(lock_a_then_b, NULL);
        grt_go(lock_b_then_a, NULL);
        grt_go(queued_on_a, NULL);
    } else if (!strcmp(mode, "tail")) {
        static int slot;
        outbox = grt_chan_make(sizeof one, 0);
        inbox = grt_chan_make(sizeof one, 0);
        grt_chan_set_name(outbox, "outbox");
        grt_chan_set_name(inbox, "inbox");
        grt_go(tail_sender, NULL);
        grt_go(tail_receiver, &slot);
    } else if (!strcmp(mode, "clean")) {
        for (int i = 0; i < 3; i++)
            grt_go_named("napper", napper, NULL);
        grt_go(locked_napper, NULL);
    } else {
        fprintf(stderr, "usage: gdump_target leak|cycle|clean|many|tail [N]\n");
        return 2;
    }
    grt_sleep(200 * MS); /* let them all block */
    printf("ready %ld\n", (long)getpid());
    fflush(stdout);
    for (;;)
        grt_sleep(1000 * MS);
}
