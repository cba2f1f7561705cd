/*
 * sysmon.c - the monitor thread (Go's sysmon).
 *
 * It runs without a P, outside the scheduler, and for now keeps one
 * thing: the coarse clock grt__coarse_ns, refreshed every millisecond
 * while any P is busy and every 10 ms when all are idle (an M leaving the
 * idle state refreshes it itself).  Parks and goroutine creation stamp
 * their time from it with one plain load, instead of a clock read (23 ns
 * here) or rdtsc (9 ns), on the hottest path of the runtime; wait times
 * are therefore exact to about a millisecond.  The blocking-calls issue
 * adds retaking Ps from blocked Ms and preempting long runners here.
 */
#include "config.h"

#include "rt.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t grt__coarse_ns;

static void *sysmon(void *arg)
{
    (void)arg;
    for (;;) {
        int64_t now = grt__nanotime();
        STORE_RLX(&grt__coarse_ns, now);
        bool idle = LOAD_RLX(&grt__sched.npidle) >=
                    LOAD_RLX(&grt__sched.gomaxprocs);
        struct timespec ts = {0, idle ? 10000000 : 1000000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

void grt__sysmon_start(void)
{
    STORE_RLX(&grt__coarse_ns, grt__nanotime());
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t th;
    int err = pthread_create(&th, &attr, sysmon, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (err)
        fprintf(stderr, "runtime: cannot start sysmon (%s); wait times "
                        "will be coarse\n", strerror(err));
}
