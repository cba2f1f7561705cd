/*
 * exporter_target.c - a grt program for grt-exporter's tests and its
 * performance measurement: it parks goroutines, leaks some, keeps a pair
 * of goroutines switching, and lives until killed (or --seconds pass, so
 * a test that dies never leaves it behind).
 *
 *   exporter_target [--park N] [--leak N] [--busy] [--seconds S]
 *
 *   --park N    N goroutines blocked receiving from one channel that is
 *               never sent to (wait reason "chan receive")
 *   --leak N    N goroutines blocked sending on channels nobody reads
 *               (wait reason "chan send"): suspected leaks once they have
 *               waited longer than the exporter's threshold
 *   --busy      two goroutines ping-pong a message every millisecond, so
 *               context-switch counters move
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

static grt_chan *gate;     /* never sent to: --park goroutines wait here */
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
    int busy = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--park") == 0 && i + 1 < argc)
            npark = atol(argv[++i]);
        else if (strcmp(argv[i], "--leak") == 0 && i + 1 < argc)
            nleak = atol(argv[++i]);
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atol(argv[++i]);
        else if (strcmp(argv[i], "--busy") == 0)
            busy = 1;
        else {
            fprintf(stderr,
                    "usage: exporter_target [--park N] [--leak N] [--busy] "
                    "[--seconds S]\n");
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
    printf("ready\n");
    fflush(stdout);
    grt_sleep((int64_t)seconds * 1000000000);
    return 0;
}
