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

/* Read by every park and spawn, written only by sysmon and Ms leaving
 * idle: a cache line that no lock shares (the linker had put ctx.c's
 * tree_lock on it). */
_Alignas(CACHELINE) int64_t grt__coarse_ns;
uint64_t grt__ticks_per_ns_q32;

#if defined(__x86_64__)
#include <cpuid.h>

/*
 * Can the tick counter stand in for the clock in "not yet" tests?  It
 * must run at one constant rate in every power state (CPUID 0x80000007
 * EDX bit 8, "invariant TSC") and be cheap: a hypervisor or a recorder
 * that traps rdtsc makes a read cost microseconds, worse than the clock
 * it replaces.
 */
static bool ticks_usable(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(0x80000000, &a, &b, &c, &d) || a < 0x80000007)
        return false;
    __get_cpuid(0x80000007, &a, &b, &c, &d);
    if (!((d >> 8) & 1))
        return false;
    enum { N = 64 };
    volatile uint64_t sink = 0;
    int64_t t0 = grt__nanotime();
    for (int i = 0; i < N; i++)
        sink += cpu_ticks();
    (void)sink;
    return grt__nanotime() - t0 < N * 100; /* 100 ns a read at most */
}
#else
static bool ticks_usable(void) { return false; }
#endif

/*
 * Ticks per ns over the whole life of the process so far (one sample at
 * start, one now), once at least 10 ms have passed, less 1/256: the rate
 * NTP may slew the clock is 500 ppm, so the bound stays below the true
 * rate, and a "not due before tick t" computed from it errs early (then
 * the clock is read), never late.  Re-measured every tick: the estimate
 * only gets better.
 */
static void ticks_calibrate(int64_t now)
{
    static int64_t ns0;
    static uint64_t t0;
    static bool usable;
    if (ns0 == 0) {
        usable = ticks_usable();
        ns0 = now;
        t0 = usable ? cpu_ticks() : 0;
        return;
    }
    if (!usable || now - ns0 < 10000000)
        return;
    uint64_t t = cpu_ticks();
    if (t <= t0)
        return;
    unsigned __int128 q = ((unsigned __int128)(t - t0) << 32) /
                          (uint64_t)(now - ns0);
    uint64_t f = (uint64_t)q;
    STORE_RLX(&grt__ticks_per_ns_q32, f - f / 256);
}

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
        ticks_calibrate(now);
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
