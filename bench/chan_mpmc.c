/*
 * chan_mpmc - 4 producers and 4 consumers share one buffered channel of
 * capacity 128; M values in all, on all processors.
 *
 * Reports ns_per_msg.  See WORKLOADS.md for the definition this follows
 * line for line.
 */
#include "config.h"

#include <grt.h>

#include "harness.h"

enum { PRODUCERS = 4, CONSUMERS = 4, CAPACITY = 128 };

struct producer_arg {
    grt_chan *c;
    uint64_t first, n;
    grt_wg *wg;
};

struct consumer_arg {
    grt_chan *c;
    uint64_t *sum;
    grt_wg *wg;
};

static void producer(void *arg)
{
    const struct producer_arg *a = arg;
    for (uint64_t v = a->first; v < a->first + a->n; v++)
        grt_chan_send(a->c, &v);
    grt_wg_done(a->wg);
}

static void consumer(void *arg)
{
    const struct consumer_arg *a = arg;
    uint64_t s = 0, v;
    while (grt_chan_recv(a->c, &v))
        s += v;
    *a->sum = s;
    grt_wg_done(a->wg);
}

/* 0 + 1 + ... + (n-1) modulo 2^64 */
static uint64_t triangle(uint64_t n)
{
    return n % 2 == 0 ? n / 2 * (n - 1) : (n - 1) / 2 * n;
}

static double run(int64_t m)
{
    uint64_t per = (uint64_t)m / PRODUCERS;
    uint64_t total = per * PRODUCERS;
    grt_chan *c = grt_chan_make(sizeof(uint64_t), CAPACITY);
    uint64_t sums[CONSUMERS] = {0};
    grt_wg pwg = GRT_WG_INIT, cwg = GRT_WG_INIT;
    struct producer_arg pa[PRODUCERS];
    struct consumer_arg ca[CONSUMERS];
    for (int i = 0; i < PRODUCERS; i++)
        pa[i] = (struct producer_arg){c, (uint64_t)i * per, per, &pwg};
    for (int j = 0; j < CONSUMERS; j++)
        ca[j] = (struct consumer_arg){c, &sums[j], &cwg};

    int64_t t0 = bench_now();
    grt_wg_add(&cwg, CONSUMERS);
    for (int j = 0; j < CONSUMERS; j++)
        grt_go(consumer, &ca[j]);
    grt_wg_add(&pwg, PRODUCERS);
    for (int i = 0; i < PRODUCERS; i++)
        grt_go(producer, &pa[i]);
    grt_wg_wait(&pwg);
    grt_chan_close(c);
    grt_wg_wait(&cwg);
    double ns = bench_ns_per(t0, (int64_t)total);

    uint64_t sum = 0;
    for (int j = 0; j < CONSUMERS; j++)
        sum += sums[j];
    if (sum != triangle(total))
        bench_fatalf("sum %llu, want %llu", (unsigned long long)sum,
                     (unsigned long long)triangle(total));
    grt_chan_free(c);
    return ns;
}

int main(int argc, char **argv)
{
    const char *w = bench_workload(argc, argv, "chan_mpmc");
    int p = bench_procs(0);
    int64_t m = bench_size("M", 4000000, 400000);
    int64_t reps = bench_size("R", 5, 3);
    bench_logf("%s: GOMAXPROCS=%d M=%lld R=%lld", w, p, (long long)m,
               (long long)reps);
    bench_report(w, "ns_per_msg", bench_repeat(w, m / 10, m, reps, run), "ns");
    return 0;
}
