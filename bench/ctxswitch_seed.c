/*
 * ctxswitch_seed - the classic context-switch test,
 * contextSwitchTest(100, 1000): on one processor, S senders each send M
 * values on one unbuffered channel and main receives them all.
 *
 * The timed region includes starting the senders.  The warm-up is one
 * full-size run.  Reports ns_per_msg, the median of R=21 runs.  See
 * WORKLOADS.md for the definition this follows line for line.
 */
#include "config.h"

#include <grt.h>

#include "harness.h"

static int64_t senders;

struct sender_arg {
    grt_chan *c;
    int64_t m;
};

static void sender(void *arg)
{
    const struct sender_arg *a = arg;
    for (int64_t i = 0; i < a->m; i++) {
        uint64_t v = (uint64_t)i;
        grt_chan_send(a->c, &v);
    }
}

static double run(int64_t m)
{
    grt_chan *c = grt_chan_make(sizeof(uint64_t), 0);
    int64_t total = senders * m;
    uint64_t sum = 0;
    /* shared by every sender and read-only; kept until they have exited */
    struct sender_arg a = {.c = c, .m = m};
    int64_t t0 = bench_now();
    for (int64_t s = 0; s < senders; s++)
        grt_go(sender, &a);
    for (int64_t k = 0; k < total; k++) {
        uint64_t v;
        grt_chan_recv(c, &v);
        sum += v;
    }
    double ns = bench_ns_per(t0, total);
    uint64_t want = (uint64_t)senders * (uint64_t)m * (uint64_t)(m - 1) / 2;
    if (sum != want)
        bench_fatalf("sum %llu, want %llu", (unsigned long long)sum,
                     (unsigned long long)want);
    bench_quiesce(); /* the last senders may not have returned yet */
    grt_chan_free(c);
    return ns;
}

int main(int argc, char **argv)
{
    const char *w = bench_workload(argc, argv, "ctxswitch_seed");
    int p = bench_procs(1);
    senders = bench_size("S", 100, 100);
    int64_t m = bench_size("M", 1000, 1000);
    int64_t reps = bench_size("R", 21, 5);
    bench_logf("%s: GOMAXPROCS=%d S=%lld M=%lld R=%lld", w, p,
               (long long)senders, (long long)m, (long long)reps);
    bench_report(w, "ns_per_msg", bench_repeat(w, m, m, reps, run), "ns");
    return 0;
}
