/*
 * preemption - goroutines that never call anything cannot hog a processor.
 *
 * Mirrors the Go example:
 *
 *     runtime.GOMAXPROCS(1)
 *     for i := 0; i < 3; i++ {
 *         go func() { for { } }()       // spin forever, no calls
 *     }
 *     for i := 0; i < 10; i++ {
 *         time.Sleep(time.Second)
 *         fmt.Println("main is still running", i)
 *     }
 *
 * With one processor and three goroutines spinning in loops that never
 * reach the scheduler, main would never run again under purely cooperative
 * scheduling.  The runtime's monitor thread notices a goroutine that has
 * run 10 ms while others wait, and interrupts it with a signal (SIGURG, as
 * Go since 1.14) that makes it yield at a safe point.  So main's ticks
 * keep coming; each line shows how late the tick was, measured against
 * the schedule main set itself (a timing shown, never judged).
 *
 * Asynchronous preemption is off with GRT_ASYNCPREEMPT=0, in
 * ThreadSanitizer builds and when libgrt is linked statically.  Then main
 * starves; a watchdog thread (plain pthread, outside the runtime) notices
 * after a few seconds, tells the spinners to stop, and the demo says so
 * instead of hanging.
 *
 * Ticks every second, 10 of them; --quick: every 100 ms, 5 of them.
 * Prints a line per tick and a summary; always exits 0.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <grt.h>

enum { NSPINNERS = 3 };

static int stop;                  /* set only by the watchdog */
static int64_t last_tick;         /* grt_now() of main's last tick */
static int starved;               /* the watchdog had to step in */
static uint64_t spins[NSPINNERS]; /* outer loops done, per spinner */
static volatile uint64_t sink;

/* Spin forever: the loop calls nothing, so it never enters the scheduler. */
static void spinner(void *arg)
{
    uint64_t *count = arg;
    uint64_t x = (uint64_t)(uintptr_t)arg;
    while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
        for (int i = 0; i < 1000000; i++)
            x = x * 6364136223846793005u + 1442695040888963407u;
        sink = x;
        __atomic_store_n(count, *count + 1, __ATOMIC_RELAXED);
    }
}

/* A plain thread: if main has not ticked for limit ns, stop the spinners. */
static void *watchdog(void *arg)
{
    int64_t limit = *(int64_t *)arg;
    for (;;) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
        int64_t last = __atomic_load_n(&last_tick, __ATOMIC_RELAXED);
        if (grt_now() - last > limit) {
            __atomic_store_n(&starved, 1, __ATOMIC_RELAXED);
            __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
            return NULL;
        }
    }
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    int64_t period = quick ? 100000000 : 1000000000; /* 100 ms or 1 s */
    int nticks = quick ? 5 : 10;
    static int64_t limit;
    limit = 2 * period + 2000000000; /* a tick more than 2 s late */

    printf("=== preemption: %d goroutines spin with no calls on "
           "GOMAXPROCS=1 ===\n",
           NSPINNERS);
    grt_maxprocs(1);
    __atomic_store_n(&last_tick, grt_now(), __ATOMIC_RELAXED);
    pthread_t wd;
    if (pthread_create(&wd, NULL, watchdog, &limit) == 0)
        pthread_detach(wd);
    for (int i = 0; i < NSPINNERS; i++)
        grt_go(spinner, &spins[i]);

    int64_t start = grt_now();
    double worst = 0, sum = 0;
    for (int i = 1; i <= nticks; i++) {
        int64_t due = start + i * period;
        grt_sleep(due - grt_now());
        int64_t now = grt_now();
        __atomic_store_n(&last_tick, now, __ATOMIC_RELAXED);
        double late = (double)(now - due) / 1e6;
        if (late > worst)
            worst = late;
        sum += late;
        printf(
            "tick %2d at %6.0f ms: main is still running, %5.1f ms late"
            "  (spinner loops: %llu %llu %llu)\n",
            i, (double)(now - start) / 1e6, late,
            (unsigned long long)__atomic_load_n(&spins[0], __ATOMIC_RELAXED),
            (unsigned long long)__atomic_load_n(&spins[1], __ATOMIC_RELAXED),
            (unsigned long long)__atomic_load_n(&spins[2], __ATOMIC_RELAXED));
        fflush(stdout);
    }

    grt_memstats ms;
    grt_read_memstats(&ms);
    if (__atomic_load_n(&starved, __ATOMIC_RELAXED))
        printf("main was starved until the watchdog stopped the spinners: "
               "asynchronous preemption is off here (GRT_ASYNCPREEMPT=0, "
               "a ThreadSanitizer build, or libgrt linked statically)\n");
    printf("preemptions: %llu\n", (unsigned long long)ms.preemptions);
    printf("main printed %d ticks while %d goroutines spun; lateness: "
           "mean %.1f ms, max %.1f ms\n",
           nticks, NSPINNERS, sum / nticks, worst);
    return 0; /* the spinners end with the process, as in Go */
}
