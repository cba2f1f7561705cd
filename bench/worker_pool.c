/*
 * worker_pool - the classic worker pool: a producer sends job numbers
 * 0..N-1 into a jobs channel, 8 workers hash each job and send the result
 * into a results channel, a closer closes results once every worker is
 * done, and main sums the results.
 *
 * All processors; both channels have capacity 128.  Reports ns_per_job.
 * See WORKLOADS.md for the definition this follows line for line.
 */
#include "config.h"

#include <grt.h>

#include "harness.h"

enum { WORKERS = 8, CAPACITY = 128, ROUNDS = 16 };

/* ROUNDS rounds of MurmurHash3's 64-bit finaliser (fmix64). */
static uint64_t hash(uint64_t x)
{
    for (int r = 0; r < ROUNDS; r++) {
        x ^= x >> 33;
        x *= UINT64_C(0xff51afd7ed558ccd);
        x ^= x >> 33;
        x *= UINT64_C(0xc4ceb9fe1a85ec53);
        x ^= x >> 33;
    }
    return x;
}

struct pool {
    grt_chan *jobs, *results;
    int64_t n;
    grt_wg wg;
};

static void producer(void *arg)
{
    struct pool *pl = arg;
    for (int64_t i = 0; i < pl->n; i++) {
        uint64_t v = (uint64_t)i;
        grt_chan_send(pl->jobs, &v);
    }
    grt_chan_close(pl->jobs);
}

static void worker(void *arg)
{
    struct pool *pl = arg;
    uint64_t j;
    while (grt_chan_recv(pl->jobs, &j)) {
        uint64_t h = hash(j);
        grt_chan_send(pl->results, &h);
    }
    grt_wg_done(&pl->wg);
}

static void closer(void *arg)
{
    struct pool *pl = arg;
    grt_wg_wait(&pl->wg);
    grt_chan_close(pl->results);
}

static double run(int64_t n)
{
    struct pool pl = {
        .jobs = grt_chan_make(sizeof(uint64_t), CAPACITY),
        .results = grt_chan_make(sizeof(uint64_t), CAPACITY),
        .n = n,
        .wg = GRT_WG_INIT,
    };
    uint64_t sum = 0, r;
    int64_t t0 = bench_now();
    grt_wg_add(&pl.wg, WORKERS);
    for (int w = 0; w < WORKERS; w++)
        grt_go(worker, &pl);
    grt_go(producer, &pl);
    grt_go(closer, &pl);
    while (grt_chan_recv(pl.results, &r))
        sum += r;
    double ns = bench_ns_per(t0, n);

    uint64_t want = 0;
    for (int64_t i = 0; i < n; i++)
        want += hash((uint64_t)i);
    if (sum != want)
        bench_fatalf("checksum %#llx, want %#llx", (unsigned long long)sum,
                     (unsigned long long)want);
    bench_quiesce(); /* the producer and the closer may be inside a close */
    grt_chan_free(pl.jobs);
    grt_chan_free(pl.results);
    return ns;
}

int main(int argc, char **argv)
{
    const char *w = bench_workload(argc, argv, "worker_pool");
    int p = bench_procs(0);
    int64_t n = bench_size("N", 1000000, 100000);
    int64_t reps = bench_size("R", 5, 3);
    if (hash(1) != UINT64_C(0x66b84e7ef6d82260))
        bench_fatalf("hash(1) = %#llx, want 0x66b84e7ef6d82260",
                     (unsigned long long)hash(1));
    bench_logf("%s: GOMAXPROCS=%d N=%lld R=%lld", w, p, (long long)n,
               (long long)reps);
    bench_report(w, "ns_per_job", bench_repeat(w, n / 10, n, reps, run), "ns");
    return 0;
}
