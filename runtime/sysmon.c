/*
 * sysmon.c - the monitor thread (Go's sysmon).
 *
 * It runs without a P, outside the scheduler.  It takes Ps from threads
 * blocked in calls (grt__retake, proc.c), and keeps the coarse clock
 * grt__coarse_ns, refreshed at least every millisecond while any P is
 * busy and every 10 ms when all are idle (an M leaving the idle state
 * refreshes it itself).  Parks and goroutine creation stamp
 * their time from it with one plain load, instead of a clock read (23 ns
 * here) or rdtsc (9 ns), on the hottest path of the runtime; wait times
 * are therefore exact to about a millisecond.  Preempting long
 * runners joins here with asynchronous preemption.
 */
#include "config.h"

#include "rt.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t grt__coarse_ns;

/*
 * The loop (Go's sysmon): start at 20 us; after 50 ticks that found
 * nothing to do, double the delay up to 10 ms; never more than 1 ms while
 * a P is busy, so the coarse clock stays within a millisecond.
 */
static void *sysmon(void *arg)
{
    (void)arg;
    int64_t delay = 20000;
    int idle = 0;
    for (;;) {
        int64_t now = grt__nanotime();
        STORE_RLX(&grt__coarse_ns, now);
        int did = grt__retake(now);
        grt__preempt_check(now); /* not work that keeps sysmon fast */
        /* poll the network if nobody has for 10 ms (Go's sysmon) */
        int64_t lp = grt__netpoll_lastpoll();
        if (grt__netpoll_active() && lp != 0 && now - lp > 10000000) {
            int n;
            struct g *list = grt__netpoll(0, &n);
            if (list) {
                grt__injectglist(list, n);
                did++;
            }
        }
        if (did > 0)
            idle = 0;
        else
            idle++;
        if (idle == 0)
            delay = 20000;
        else if (idle > 50 && delay < 10000000)
            delay *= 2;
        int64_t d = delay;
        if (d > 1000000 && LOAD_RLX(&grt__sched.npidle) <
                               LOAD_RLX(&grt__sched.gomaxprocs))
            d = 1000000;
        struct timespec ts = {0, d};
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
