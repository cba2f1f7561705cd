/*
 * mutex_contended - 4 goroutines each do K lock / increment / unlock on
 * one grt_mutex, on all processors.
 *
 * Reports ns_per_lock (one lock + unlock pair).  See WORKLOADS.md for the
 * definition this follows line for line.
 */
#include "config.h"

#include <grt.h>

#include "harness.h"

enum { LOCKERS = 4 };

struct counter {
    grt_mutex mu;
    uint64_t n;
};

struct locker_arg {
    struct counter *ctr;
    int64_t k;
    grt_wg *wg;
};

static void locker(void *arg)
{
    const struct locker_arg *a = arg;
    struct counter *ctr = a->ctr;
    for (int64_t i = 0; i < a->k; i++) {
        grt_mutex_lock(&ctr->mu);
        ctr->n++;
        grt_mutex_unlock(&ctr->mu);
    }
    grt_wg_done(a->wg);
}

static double run(int64_t k)
{
    struct counter ctr = {.mu = GRT_MUTEX_INIT, .n = 0};
    grt_wg wg = GRT_WG_INIT;
    struct locker_arg a = {&ctr, k, &wg};
    int64_t t0 = bench_now();
    grt_wg_add(&wg, LOCKERS);
    for (int i = 0; i < LOCKERS; i++)
        grt_go(locker, &a);
    grt_wg_wait(&wg);
    double ns = bench_ns_per(t0, LOCKERS * k);
    if (ctr.n != (uint64_t)(LOCKERS * k))
        bench_fatalf("counter %llu, want %lld", (unsigned long long)ctr.n,
                     (long long)(LOCKERS * k));
    return ns;
}

int main(int argc, char **argv)
{
    const char *w = bench_workload(argc, argv, "mutex_contended");
    int p = bench_procs(0);
    int64_t k = bench_size("K", 2500000, 250000);
    int64_t reps = bench_size("R", 5, 3);
    bench_logf("%s: GOMAXPROCS=%d K=%lld R=%lld", w, p, (long long)k,
               (long long)reps);
    bench_report(w, "ns_per_lock", bench_repeat(w, k / 10, k, reps, run), "ns");
    return 0;
}
