/*
 * spawn_join - spawn_join, spawn_join_p1: N times in a row, start one
 * goroutine that only calls grt_wg_done, and wait for it.
 *
 * Goroutine creation plus one join, strictly one at a time.  spawn_join
 * uses every usable CPU, spawn_join_p1 one processor.  Reports ns_per_op.
 * See WORKLOADS.md for the definition this follows line for line.
 */
#include "config.h"

#include <string.h>

#include <grt.h>

#include "harness.h"

static void done(void *arg)
{
    grt_wg_done(arg);
}

static double run(int64_t n)
{
    grt_wg wg = GRT_WG_INIT;
    int64_t t0 = bench_now();
    for (int64_t i = 0; i < n; i++) {
        grt_wg_add(&wg, 1);
        grt_go(done, &wg);
        grt_wg_wait(&wg);
    }
    return bench_ns_per(t0, n);
}

int main(int argc, char **argv)
{
    const char *w = bench_workload(argc, argv, "spawn_join", "spawn_join_p1");
    int p = bench_procs(strcmp(w, "spawn_join_p1") == 0 ? 1 : 0);
    int64_t n = bench_size("N", 1000000, 100000);
    int64_t reps = bench_size("R", 5, 3);
    bench_logf("%s: GOMAXPROCS=%d N=%lld R=%lld", w, p, (long long)n,
               (long long)reps);
    bench_report(w, "ns_per_op", bench_repeat(w, n / 10, n, reps, run), "ns");
    return 0;
}
