/*
 * pingpong - pingpong_p1, pingpong_cross: two goroutines bounce a value
 * over two unbuffered channels N round trips; main only waits.
 *
 * pingpong_p1 runs on one processor (every hand-off is a goroutine switch
 * on one thread), pingpong_cross on two.  Every 1024th round trip each
 * side notes the CPU its thread is on (the pinger just before it sends,
 * the ponger just after it receives that value), which gives
 * cross_cpu_fraction.  Reports ns_per_switch (p1 only), ns_per_roundtrip
 * and cross_cpu_fraction.  See WORKLOADS.md for the definition this
 * follows line for line.
 */
#include "config.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include <grt.h>

#include "harness.h"

enum { SAMPLE_EVERY = 1024 };

struct game {
    grt_chan *c1, *c2;
    int64_t n;
    int32_t *cpu_a, *cpu_b;
    grt_wg wg;
};

static void pinger(void *arg)
{
    struct game *g = arg;
    for (int64_t i = 0; i < g->n; i++) {
        if (i % SAMPLE_EVERY == 0)
            g->cpu_a[i / SAMPLE_EVERY] = sched_getcpu();
        uint64_t v = (uint64_t)i;
        grt_chan_send(g->c1, &v);
        grt_chan_recv(g->c2, &v);
        if (v != (uint64_t)i)
            bench_fatalf("pinger got %llu, want %lld", (unsigned long long)v,
                         (long long)i);
    }
    grt_wg_done(&g->wg);
}

static void ponger(void *arg)
{
    struct game *g = arg;
    for (int64_t i = 0; i < g->n; i++) {
        uint64_t v;
        grt_chan_recv(g->c1, &v);
        if (i % SAMPLE_EVERY == 0)
            g->cpu_b[i / SAMPLE_EVERY] = sched_getcpu();
        grt_chan_send(g->c2, &v);
    }
    grt_wg_done(&g->wg);
}

static int64_t samples, crossed;

static double run(int64_t n)
{
    int64_t ns = (n + SAMPLE_EVERY - 1) / SAMPLE_EVERY;
    struct game g = {
        .c1 = grt_chan_make(sizeof(uint64_t), 0),
        .c2 = grt_chan_make(sizeof(uint64_t), 0),
        .n = n,
        .cpu_a = bench_calloc((size_t)ns, sizeof(int32_t)),
        .cpu_b = bench_calloc((size_t)ns, sizeof(int32_t)),
        .wg = GRT_WG_INIT,
    };
    int64_t t0 = bench_now();
    grt_wg_add(&g.wg, 2);
    grt_go(pinger, &g);
    grt_go(ponger, &g);
    grt_wg_wait(&g.wg);
    double per_rt = bench_ns_per(t0, n);
    for (int64_t k = 0; k < ns; k++) {
        samples++;
        if (g.cpu_a[k] != g.cpu_b[k])
            crossed++;
    }
    grt_chan_free(g.c1);
    grt_chan_free(g.c2);
    free(g.cpu_a);
    free(g.cpu_b);
    return per_rt;
}

int main(int argc, char **argv)
{
    const char *w = bench_workload(argc, argv, "pingpong_p1", "pingpong_cross");
    bool p1 = strcmp(w, "pingpong_p1") == 0;
    int p = bench_procs(p1 ? 1 : 2);
    int64_t n = bench_size("N", 2000000, 200000);
    int64_t reps = bench_size("R", 5, 3);
    bench_logf("%s: GOMAXPROCS=%d N=%lld R=%lld", w, p, (long long)n,
               (long long)reps);
    if (n / 10 > 0)
        run(n / 10); /* warm-up; its CPU samples are not counted */
    samples = crossed = 0;
    double per_rt = bench_repeat(w, 0, n, reps, run);
    if (p1)
        bench_report(w, "ns_per_switch", per_rt / 2, "ns");
    bench_report(w, "ns_per_roundtrip", per_rt, "ns");
    bench_report(w, "cross_cpu_fraction", (double)crossed / (double)samples,
                 "fraction");
    return 0;
}
