/*
 * select2 - main selects over two unbuffered channels, each fed by its own
 * producer, until both are closed; all processors.
 *
 * A closed channel's case is switched off by setting it to NULL (Go's nil
 * channel, never ready).  The two selects that see a close are not
 * counted.  Reports ns_per_select.  See WORKLOADS.md for the definition
 * this follows line for line.
 */
#include "config.h"

#include <grt.h>

#include "harness.h"

struct producer_arg {
    grt_chan *c;
    int64_t n;
};

static void producer(void *arg)
{
    const struct producer_arg *a = arg;
    for (int64_t i = 0; i < a->n; i++) {
        uint64_t v = (uint64_t)i;
        grt_chan_send(a->c, &v);
    }
    grt_chan_close(a->c);
}

static double run(int64_t m)
{
    int64_t per = m / 2;
    grt_chan *a = grt_chan_make(sizeof(uint64_t), 0);
    grt_chan *b = grt_chan_make(sizeof(uint64_t), 0);
    struct producer_arg pa = {a, per}, pb = {b, per};
    uint64_t sum = 0, va, vb;
    int64_t got = 0;
    grt_case cases[2] = {
        {.chan = a, .op = GRT_RECV, .elem = &va},
        {.chan = b, .op = GRT_RECV, .elem = &vb},
    };

    int64_t t0 = bench_now();
    grt_go(producer, &pa);
    grt_go(producer, &pb);
    while (cases[0].chan || cases[1].chan) {
        int i = grt_select(cases, 2, false);
        if (!cases[i].ok) {
            cases[i].chan = NULL;
            continue;
        }
        sum += *(uint64_t *)cases[i].elem;
        got++;
    }
    double ns = bench_ns_per(t0, got);

    if (got != 2 * per || sum != (uint64_t)per * (uint64_t)(per - 1))
        bench_fatalf("got %lld values summing to %llu, want %lld summing "
                     "to %llu",
                     (long long)got, (unsigned long long)sum,
                     (long long)(2 * per),
                     (unsigned long long)((uint64_t)per * (uint64_t)(per - 1)));
    bench_quiesce(); /* the producers end with a close */
    grt_chan_free(a);
    grt_chan_free(b);
    return ns;
}

int main(int argc, char **argv)
{
    const char *w = bench_workload(argc, argv, "select2");
    int p = bench_procs(0);
    int64_t m = bench_size("M", 2000000, 200000);
    int64_t reps = bench_size("R", 5, 3);
    bench_logf("%s: GOMAXPROCS=%d M=%lld R=%lld", w, p, (long long)m,
               (long long)reps);
    bench_report(w, "ns_per_select", bench_repeat(w, m / 10, m, reps, run),
                 "ns");
    return 0;
}
