/*
 * timers_sleep - G goroutines, released together, each sleep 1 ms K times
 * in a row and record how late every wake-up is; all processors.
 *
 * With 10,000 goroutines this is a timer throughput test as much as a
 * latency test: 10,000 wake-ups are due every millisecond.  Reports the
 * median over R runs of wall_ms, mean_oversleep_us, p50_oversleep_us and
 * p99_oversleep_us.  See WORKLOADS.md for the definition this follows
 * line for line.
 */
#include "config.h"

#include <stdlib.h>

#include <grt.h>

#include "harness.h"

#define REQUEST_NS INT64_C(1000000) /* each sleep asks for 1 ms */

/* One run's shared state; sleeper i owns over[i*k .. i*k+k-1]. */
static struct trial {
    grt_chan *start;
    grt_wg ready, done;
    int64_t k;
    double *over; /* oversleep of every sleep, ns */
} trial;

static void sleeper(void *arg)
{
    int64_t i = (int64_t)(intptr_t)arg;
    struct trial *t = &trial;
    grt_wg_done(&t->ready);
    grt_chan_recv(t->start, NULL); /* returns when main closes start */
    double *rec = t->over + i * t->k;
    for (int64_t j = 0; j < t->k; j++) {
        int64_t t0 = bench_now();
        grt_sleep(REQUEST_NS);
        rec[j] = (double)(bench_now() - t0 - REQUEST_NS);
    }
    grt_wg_done(&t->done);
}

/* Returns the wall time in ms; trial.over holds the sorted oversleeps. */
static double run(int64_t g, int64_t k)
{
    struct trial *t = &trial;
    t->over = bench_calloc((size_t)(g * k), sizeof(double));
    t->start = grt_chan_make(sizeof(uint64_t), 0);
    t->k = k;
    grt_wg_add(&t->ready, g);
    grt_wg_add(&t->done, g);
    for (int64_t i = 0; i < g; i++)
        grt_go(sleeper, (void *)(intptr_t)i);
    grt_wg_wait(&t->ready); /* every sleeper has started */
    int64_t t0 = bench_now();
    grt_chan_close(t->start);
    grt_wg_wait(&t->done);
    double wall = (double)(bench_now() - t0) / 1e6;
    grt_chan_free(t->start);
    bench_sort(t->over, (size_t)(g * k));
    return wall;
}

int main(int argc, char **argv)
{
    const char *w = bench_workload(argc, argv, "timers_sleep");
    int p = bench_procs(0);
    int64_t g = bench_size("G", 10000, 1000);
    int64_t k = bench_size("K", 20, 20);
    int64_t reps = bench_size("R", 5, 3);
    bench_logf("%s: GOMAXPROCS=%d G=%lld K=%lld R=%lld", w, p, (long long)g,
               (long long)k, (long long)reps);
    if (g / 10 > 0) {
        run(g / 10, k); /* warm-up */
        free(trial.over);
    }
    double *walls = bench_calloc((size_t)reps, sizeof(double));
    double *means = bench_calloc((size_t)reps, sizeof(double));
    double *p50s = bench_calloc((size_t)reps, sizeof(double));
    double *p99s = bench_calloc((size_t)reps, sizeof(double));
    for (int64_t r = 0; r < reps; r++) {
        double wall = run(g, k);
        size_t n = (size_t)(g * k);
        double sum = 0;
        for (size_t i = 0; i < n; i++)
            sum += trial.over[i];
        walls[r] = wall;
        means[r] = sum / (double)n / 1e3;
        p50s[r] = bench_percentile(trial.over, n, 50) / 1e3;
        p99s[r] = bench_percentile(trial.over, n, 99) / 1e3;
        bench_logf("%s: repeat %lld: wall=%.1fms mean=%.1fus p50=%.1fus "
                   "p99=%.1fus max=%.1fus",
                   w, (long long)r, wall, means[r], p50s[r], p99s[r],
                   trial.over[n - 1] / 1e3);
        free(trial.over);
    }
    size_t n = (size_t)reps;
    bench_report(w, "wall_ms", bench_median(walls, n), "ms");
    bench_report(w, "mean_oversleep_us", bench_median(means, n), "us");
    bench_report(w, "p50_oversleep_us", bench_median(p50s, n), "us");
    bench_report(w, "p99_oversleep_us", bench_median(p99s, n), "us");
    free(walls);
    free(means);
    free(p50s);
    free(p99s);
    return 0;
}
