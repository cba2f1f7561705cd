/*
 * maxprocs_scaling - more processors, more parallelism (up to the cores).
 *
 * Mirrors the Go example that times one CPU-bound job at several
 * GOMAXPROCS settings:
 *
 *     for _, procs := range []int{1, 2, 4} {
 *         runtime.GOMAXPROCS(procs)
 *         start := time.Now()
 *         for w := 0; w < workers; w++ {
 *             wg.Add(1)
 *             go func(w int) { defer wg.Done(); partial[w] = work(w) }(w)
 *         }
 *         wg.Wait()
 *         fmt.Printf("GOMAXPROCS=%d: %v\n", procs, time.Since(start))
 *     }
 *
 * The job (a sum of hashes over a range, split into eight slices) is the
 * same each time.  One processor runs the slices one after another; two
 * run two at once; four cannot beat two on a two-core machine.  The
 * workers call grt_yield() now and then because grt cannot preempt them
 * yet (a later issue adds asynchronous preemption).
 *
 * Prints the time and speed-up per setting.  Exits 1 if a setting
 * computes a different sum from the plain loop.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <grt.h>

enum { NWORKERS = 8, YIELD_EVERY = 4096 };

static grt_wg wg = GRT_WG_INIT;
static uint64_t n;                  /* size of the whole job */
static uint64_t partial[NWORKERS];  /* slot w written by worker w */

/* splitmix64: a cheap, well-mixed hash of i. */
static uint64_t mix(uint64_t i)
{
    uint64_t z = i + 0x9e3779b97f4a7c15u;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Sum mix(i) over [lo, hi), yielding now and then (no preemption yet). */
static uint64_t slice_sum(uint64_t lo, uint64_t hi)
{
    uint64_t sum = 0;

    for (uint64_t i = lo; i < hi; i++) {
        sum += mix(i);
        if (i % YIELD_EVERY == 0)
            grt_yield();
    }
    return sum;
}

/* Worker w sums its slice, [w*n/8, (w+1)*n/8). */
static void work(void *arg)
{
    int w = (int)(intptr_t)arg;

    partial[w] = slice_sum(w * n / NWORKERS, (w + 1) * n / NWORKERS);
    grt_wg_done(&wg);
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    static const int settings[] = {1, 2, 4};
    n = quick ? 20000000 : 200000000;

    printf("=== maxprocs_scaling: %llu hashes in %d goroutines, "
           "NumCPU=%d ===\n",
           (unsigned long long)n, NWORKERS, grt_num_cpu());

    /* The reference: the same slices one after another, no goroutines. */
    int64_t start = grt_now();
    uint64_t want = 0;
    for (int w = 0; w < NWORKERS; w++)
        want += slice_sum(w * n / NWORKERS, (w + 1) * n / NWORKERS);
    printf("plain loop:    %8.1f ms\n", (double)(grt_now() - start) / 1e6);

    int failed = 0;
    double base_ms = 0;
    for (size_t s = 0; s < sizeof settings / sizeof settings[0]; s++) {
        grt_maxprocs(settings[s]);
        start = grt_now();
        for (int w = 0; w < NWORKERS; w++) {
            grt_wg_add(&wg, 1);
            grt_go(work, (void *)(intptr_t)w);
        }
        grt_wg_wait(&wg);
        double ms = (double)(grt_now() - start) / 1e6;

        uint64_t sum = 0;
        for (int w = 0; w < NWORKERS; w++)
            sum += partial[w];
        if (s == 0)
            base_ms = ms;
        printf("GOMAXPROCS=%d: %8.1f ms  speed-up x%.2f%s\n", settings[s], ms,
               base_ms / ms, sum == want ? "" : "  WRONG SUM");
        failed |= sum != want;
    }
    return failed;
}
