/*
 * spawn_100k - a burst: start G goroutines back to back, each stores 1
 * into its own slot and calls grt_wg_done; then wait for all of them.
 *
 * All processors.  Reports ns_per_goroutine, the median of R=11 runs.
 * See WORKLOADS.md for the definition this follows line for line.
 */
#include "config.h"

#include <stdlib.h>

#include <grt.h>

#include "harness.h"

static grt_wg wg = GRT_WG_INIT;
static uint64_t *slots; /* G of them, allocated once before any run */

static void work(void *arg)
{
    uint64_t *slot = arg;
    *slot = 1;
    grt_wg_done(&wg);
}

static double run(int64_t g)
{
    for (int64_t i = 0; i < g; i++)
        slots[i] = 0;
    int64_t t0 = bench_now();
    grt_wg_add(&wg, g);
    for (int64_t i = 0; i < g; i++)
        grt_go(work, &slots[i]);
    grt_wg_wait(&wg);
    double ns = bench_ns_per(t0, g);
    for (int64_t i = 0; i < g; i++)
        if (slots[i] != 1)
            bench_fatalf("slot %lld not written", (long long)i);
    return ns;
}

int main(int argc, char **argv)
{
    const char *w = bench_workload(argc, argv, "spawn_100k");
    int p = bench_procs(0);
    int64_t g = bench_size("G", 100000, 100000);
    int64_t reps = bench_size("R", 11, 3);
    slots = bench_calloc((size_t)g, sizeof *slots);
    bench_logf("%s: GOMAXPROCS=%d G=%lld R=%lld", w, p, (long long)g,
               (long long)reps);
    bench_report(w, "ns_per_goroutine", bench_repeat(w, g / 10, g, reps, run),
                 "ns");
    free(slots);
    return 0;
}
