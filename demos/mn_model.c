/*
 * mn_model - the M:N model: many goroutines (G) on few threads (M),
 * limited by the number of processors (P).
 *
 * Mirrors the Go example in which a monitor goroutine prints, every 100 ms,
 * runtime.NumGoroutine(), the process's thread count and
 * runtime.GOMAXPROCS(0), while ten CPU-bound goroutines share two
 * processors:
 *
 *     runtime.GOMAXPROCS(2)
 *     go monitor(done)  // select { case <-ticker.C: ... case <-done: }
 *     for i := 0; i < 10; i++ { go busy(i) }
 *
 * The thread count comes from the kernel (entries of /proc/self/task), so it
 * shows real Ms: about GOMAXPROCS of them running Go code, plus the
 * runtime's own (sysmon, a poller) and idle ones.
 *
 * No preemption yet: a CPU-bound goroutine keeps its processor until it
 * blocks or yields, so busy() calls grt_yield() every few thousand
 * iterations (runtime.Gosched).  A later issue adds Go's asynchronous
 * preemption (a signal from sysmon), after which the yields can go.
 *
 * Prints a line per tick and each worker's result.  Exits 1 if a worker's
 * result is wrong.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include <grt.h>

enum { NWORKERS = 10, YIELD_EVERY = 4096 };

static grt_wg workers = GRT_WG_INIT; /* the busy goroutines */
static grt_wg monitors = GRT_WG_INIT; /* the monitor */
static uint64_t iterations;
static uint64_t results[NWORKERS];

/* The kernel's view: one /proc/self/task entry per thread. */
static int os_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Print the G, M and P counts every 100 ms until done is closed. */
static void monitor(void *arg)
{
    grt_chan *done = arg;
    grt_ticker *t = grt_ticker_make(100000000);
    int64_t start = grt_now();

    for (;;) {
        grt_case cases[] = {
            {.chan = grt_ticker_chan(t), .op = GRT_RECV},
            {.chan = done, .op = GRT_RECV},
        };
        if (grt_select(cases, 2, false) == 1)
            break;
        printf("t=%4lld ms  goroutines (G): %2d  OS threads (M): %d  "
               "GOMAXPROCS (P): %d\n",
               (long long)((grt_now() - start) / 1000000),
               grt_num_goroutine(), os_threads(), grt_maxprocs(0));
        fflush(stdout);
    }
    grt_ticker_free(t);
    grt_wg_done(&monitors);
}

/* A CPU-bound goroutine: a xorshift walk, yielding now and then. */
static void busy(void *arg)
{
    int id = (int)(intptr_t)arg;
    uint64_t x = 88172645463325252u;

    for (uint64_t i = 0; i < iterations; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if (i % YIELD_EVERY == 0)
            grt_yield(); /* no preemption yet: be polite */
    }
    results[id] = x;
    grt_wg_done(&workers);
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    iterations = quick ? 30000000 : 100000000;

    printf("=== mn_model: %d CPU-bound goroutines on 2 processors ===\n",
           NWORKERS);
    grt_maxprocs(2);
    grt_chan *done = grt_chan_make(0, 0); /* chan struct{} */

    grt_wg_add(&monitors, 1);
    grt_go(monitor, done);
    for (int i = 0; i < NWORKERS; i++) {
        grt_wg_add(&workers, 1);
        grt_go(busy, (void *)(intptr_t)i);
    }
    grt_wg_wait(&workers);
    grt_chan_close(done); /* stop the monitor, and wait until it has */
    grt_wg_wait(&monitors);
    grt_chan_free(done);

    /* Every worker ran the same walk, so all results are equal. */
    uint64_t want = 88172645463325252u;
    for (uint64_t i = 0; i < iterations; i++) {
        want ^= want << 13;
        want ^= want >> 7;
        want ^= want << 17;
    }
    for (int i = 0; i < NWORKERS; i++) {
        if (results[i] != want) {
            printf("FAIL: worker %d got %llx, want %llx\n", i,
                   (unsigned long long)results[i], (unsigned long long)want);
            return 1;
        }
    }
    printf("all %d workers done, result %016llx\n", NWORKERS,
           (unsigned long long)want);
    return 0;
}
