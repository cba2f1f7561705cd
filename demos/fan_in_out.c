/*
 * fan_in_out - a pipeline: a generator, several squaring stages reading
 * one channel (fan-out), and a merge of their outputs (fan-in), as in the
 * Go blog's "Go Concurrency Patterns: Pipelines and cancellation":
 *
 *     func gen(nums ...int) <-chan int          // emit 1..n, close
 *     func sq(in <-chan int) <-chan int         // square each, close
 *     func merge(cs ...<-chan int) <-chan int { // one forwarder per input,
 *         var wg sync.WaitGroup                 // close out when all are done
 *         out := make(chan int)
 *         output := func(c <-chan int) {
 *             for n := range c { out <- n }
 *             wg.Done()
 *         }
 *         wg.Add(len(cs))
 *         for _, c := range cs { go output(c) }
 *         go func() { wg.Wait(); close(out) }()
 *         return out
 *     }
 *     for n := range merge(sq(in), sq(in), sq(in), sq(in)) { sum += n }
 *
 * Each stage closes its output when its input is exhausted, so the close
 * flows down the pipeline and ends main's range loop.
 *
 * Prints how many values each squarer handled and the sum.  Exits 1 if the
 * sum is not 1^2 + 2^2 + ... + n^2.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grt.h>

enum { NSQUARERS = 4 };

/* Every goroutine of the pipeline, so main knows when to free channels. */
static grt_wg pipeline = GRT_WG_INIT;

/* gen: emit 1..n on out, then close it. */
struct gen {
    grt_chan *out;
    long n;
};

static void gen(void *arg)
{
    struct gen *g = arg;

    for (long v = 1; v <= g->n; v++)
        grt_chan_send(g->out, &v);
    grt_chan_close(g->out);
    grt_wg_done(&pipeline);
}

/* sq: square what arrives on in, send it on out, close out at the end. */
struct sq {
    grt_chan *in, *out;
    long handled; /* how many values this stage squared */
};

static void sq(void *arg)
{
    struct sq *s = arg;
    long v;

    while (grt_chan_recv(s->in, &v)) {
        long r = v * v;
        grt_chan_send(s->out, &r);
        s->handled++;
    }
    grt_chan_close(s->out);
    grt_wg_done(&pipeline);
}

/* merge: one forwarder per input; a closer closes out when all are done. */
struct merge {
    grt_chan *out;
    grt_wg wg;
};

struct forward {
    grt_chan *in;
    struct merge *m;
};

static void forward(void *arg)
{
    struct forward *f = arg;
    long v;

    while (grt_chan_recv(f->in, &v))
        grt_chan_send(f->m->out, &v);
    grt_wg_done(&f->m->wg);
    grt_wg_done(&pipeline);
}

static void closer(void *arg)
{
    struct merge *m = arg;

    grt_wg_wait(&m->wg);
    grt_chan_close(m->out);
    grt_wg_done(&pipeline);
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    long n = quick ? 10000 : 1000000;

    printf("=== fan_in_out: gen -> %d x sq -> merge -> sum, n = %ld ===\n",
           NSQUARERS, n);
    struct gen g = {grt_chan_make(sizeof(long), 0), n};
    struct sq sqs[NSQUARERS];
    struct forward fwd[NSQUARERS];
    struct merge m = {.out = grt_chan_make(sizeof(long), 0)};

    grt_wg_add(&pipeline, 1 + 2 * NSQUARERS + 1);
    grt_go(gen, &g);
    grt_wg_add(&m.wg, NSQUARERS);
    for (int i = 0; i < NSQUARERS; i++) {
        /* fan-out: every squarer reads the same channel */
        sqs[i] = (struct sq){g.out, grt_chan_make(sizeof(long), 0), 0};
        grt_go(sq, &sqs[i]);
        /* fan-in: forward each squarer's output onto m.out */
        fwd[i] = (struct forward){sqs[i].out, &m};
        grt_go(forward, &fwd[i]);
    }
    grt_go(closer, &m);

    long sum = 0, v;
    while (grt_chan_recv(m.out, &v))
        sum += v;

    /* C has no GC: free the channels once no stage can touch them. */
    grt_wg_wait(&pipeline);
    grt_chan_free(g.out);
    grt_chan_free(m.out);
    for (int i = 0; i < NSQUARERS; i++) {
        grt_chan_free(sqs[i].out);
        printf("squarer %d handled %ld values\n", i, sqs[i].handled);
    }
    long want = n * (n + 1) * (2 * n + 1) / 6;
    printf("sum of squares 1..%ld = %ld (want %ld)\n", n, sum, want);
    return sum == want ? 0 : 1;
}
