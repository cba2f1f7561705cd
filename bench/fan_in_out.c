/*
 * fan_in_out - the pipeline of the Go blog's "Pipelines and cancellation":
 * gen -> fan-out to 4 squaring workers reading one shared channel ->
 * fan-in (one forwarding goroutine per worker onto one merged channel,
 * plus a closer) -> main sums.
 *
 * All channels unbuffered; all processors; 10 goroutines besides main.
 * Channel creation is inside the timed region, as in the blog's shape.
 * Each value crosses three unbuffered channels.  Reports ns_per_value.
 * See WORKLOADS.md for the definition this follows line for line.
 */
#include "config.h"

#include <grt.h>

#include "harness.h"

enum { SQUARERS = 4 };

struct gen_arg {
    grt_chan *out;
    int64_t n;
};

struct pipe_arg {
    grt_chan *in, *out;
    grt_wg *wg;
};

static void gen(void *arg)
{
    const struct gen_arg *a = arg;
    for (uint64_t v = 1; v <= (uint64_t)a->n; v++)
        grt_chan_send(a->out, &v);
    grt_chan_close(a->out);
}

static void square(void *arg)
{
    const struct pipe_arg *a = arg;
    uint64_t v;
    while (grt_chan_recv(a->in, &v)) {
        uint64_t sq = v * v;
        grt_chan_send(a->out, &sq);
    }
    grt_chan_close(a->out);
}

static void forward(void *arg)
{
    const struct pipe_arg *a = arg;
    uint64_t v;
    while (grt_chan_recv(a->in, &v))
        grt_chan_send(a->out, &v);
    grt_wg_done(a->wg);
}

static void closer(void *arg)
{
    const struct pipe_arg *a = arg;
    grt_wg_wait(a->wg);
    grt_chan_close(a->out);
}

static double run(int64_t n)
{
    uint64_t sum = 0, v;
    grt_wg wg = GRT_WG_INIT;
    struct gen_arg ga;
    struct pipe_arg sqa[SQUARERS], fwa[SQUARERS], cla;
    grt_chan *sq[SQUARERS];

    int64_t t0 = bench_now();
    grt_chan *in = grt_chan_make(sizeof(uint64_t), 0);
    ga = (struct gen_arg){in, n};
    grt_go(gen, &ga);
    grt_chan *merged = grt_chan_make(sizeof(uint64_t), 0);
    grt_wg_add(&wg, SQUARERS);
    for (int i = 0; i < SQUARERS; i++) {
        sq[i] = grt_chan_make(sizeof(uint64_t), 0);
        sqa[i] = (struct pipe_arg){in, sq[i], NULL};
        grt_go(square, &sqa[i]);
        fwa[i] = (struct pipe_arg){sq[i], merged, &wg};
        grt_go(forward, &fwa[i]);
    }
    cla = (struct pipe_arg){NULL, merged, &wg};
    grt_go(closer, &cla);
    while (grt_chan_recv(merged, &v))
        sum += v;
    double ns = bench_ns_per(t0, n);

    uint64_t want = 0;
    for (uint64_t x = 1; x <= (uint64_t)n; x++)
        want += x * x;
    if (sum != want)
        bench_fatalf("sum %llu, want %llu", (unsigned long long)sum,
                     (unsigned long long)want);
    bench_quiesce(); /* gen, the squarers and the closer end with a close */
    grt_chan_free(in);
    for (int i = 0; i < SQUARERS; i++)
        grt_chan_free(sq[i]);
    grt_chan_free(merged);
    return ns;
}

int main(int argc, char **argv)
{
    const char *w = bench_workload(argc, argv, "fan_in_out");
    int p = bench_procs(0);
    int64_t n = bench_size("N", 1000000, 100000);
    int64_t reps = bench_size("R", 5, 3);
    bench_logf("%s: GOMAXPROCS=%d N=%lld R=%lld", w, p, (long long)n,
               (long long)reps);
    bench_report(w, "ns_per_value", bench_repeat(w, n / 10, n, reps, run),
                 "ns");
    return 0;
}
