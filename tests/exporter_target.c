/*
 * exporter_target.c - a grt program for grt-exporter's tests and its
 * performance measurement: it parks goroutines, leaks some, keeps a pair
 * of goroutines switching, and lives until killed (or --seconds pass, so
 * a test that dies never leaves it behind).
 *
 *   exporter_target [--park N] [--leak N] [--busy] [--cycle] [--seconds S]
 *
 *   --park N    N goroutines blocked receiving from one channel that is
 *               never sent to (wait reason "chan receive")
 *   --leak N    N goroutines blocked sending on channels nobody reads
 *               (wait reason "chan send"): suspected leaks once they have
 *               waited longer than the exporter's threshold
 *   --busy      two goroutines ping-pong a message every millisecond, so
 *               context-switch counters move
 *   --cycle     two goroutines deadlock on two mutexes (each holds one and
 *               waits for the other): proven leaks, while main sleeps
 *   --seconds S exit after S seconds (default 300)
 *
 * Prints "ready" on stdout once every goroutine has been started.  Started
 * through `exec -a NAME`, the program name in its segment is NAME (the
 * agent takes argv[0]'s base name), which is how the tests make names that
 * need escaping.
 */
#include "config.h"

#include <grt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static grt_chan *gate; /* never sent to: --park goroutines wait here */
static grt_chan *ping, *pong;

static void parked(void *arg)
{
    (void)arg;
    int v;
    grt_chan_recv(gate, &v);
}

static void leaked(void *arg)
{
    grt_chan *c = arg; /* unbuffered, never read */
    int v = 1;
    grt_chan_send(c, &v);
}

static grt_mutex m1 = GRT_MUTEX_INIT, m2 = GRT_MUTEX_INIT;
static grt_wg both_locked = GRT_WG_INIT;

/* Lock one mutex, wait until the other goroutine holds the other, then
 * lock that one: a wait-for cycle neither can leave. */
static void cycler(void *arg)
{
    bool first = arg != NULL;
    grt_mutex_lock(first ? &m1 : &m2);
    grt_wg_done(&both_locked);
    grt_wg_wait(&both_locked);
    grt_mutex_lock(first ? &m2 : &m1);
}

static void pinger(void *arg)
{
    (void)arg;
    for (int v = 0;; v++) {
        grt_chan_send(ping, &v);
        grt_chan_recv(pong, &v);
        grt_sleep(1000000);
    }
}

static void ponger(void *arg)
{
    (void)arg;
    int v;
    while (grt_chan_recv(ping, &v))
        grt_chan_send(pong, &v);
}

int main(int argc, char **argv)
{
    long npark = 0, nleak = 0, seconds = 300;
    int busy = 0, cycle = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--park") == 0 && i + 1 < argc)
            npark = atol(argv[++i]);
        else if (strcmp(argv[i], "--leak") == 0 && i + 1 < argc)
            nleak = atol(argv[++i]);
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atol(argv[++i]);
        else if (strcmp(argv[i], "--busy") == 0)
            busy = 1;
        else if (strcmp(argv[i], "--cycle") == 0)
            cycle = 1;
        else {
            fprintf(stderr,
                    "usage: exporter_target [--park N] [--leak N] [--busy] "
                    "[--cycle] [--seconds S]\n");
            return 2;
        }
    }
    gate = grt_chan_make(sizeof(int), 0);
    grt_chan_set_name(gate, "gate");
    for (long i = 0; i < npark; i++)
        grt_go(parked, NULL);
    for (long i = 0; i < nleak; i++)
        grt_go(leaked, grt_chan_make(sizeof(int), 0));
    if (busy) {
        ping = grt_chan_make(sizeof(int), 0);
        pong = grt_chan_make(sizeof(int), 0);
        grt_go(pinger, NULL);
        grt_go(ponger, NULL);
    }
    if (cycle) {
        grt_wg_add(&both_locked, 2);
        grt_go(cycler, &m1);
        grt_go(cycler, NULL);
    }
    printf("ready\n");
    fflush(stdout);
    grt_sleep((int64_t)seconds * 1000000000);
    return 0;
}
