/*
 * producer_consumer - a buffered channel between one producer and two
 * consumers; closing the channel ends the consumers' range loops.
 *
 * Mirrors the Go example:
 *
 *     ch := make(chan int, 10)
 *     go func() {
 *         for i := 1; i <= n; i++ { ch <- i }
 *         close(ch)
 *     }()
 *     for c := 0; c < 2; c++ {
 *         wg.Add(1)
 *         go func(id int) {
 *             defer wg.Done()
 *             for v := range ch { count[id]++; sum[id] += v }
 *         }(c)
 *     }
 *     wg.Wait()
 *
 * The buffer lets the producer run ahead of the consumers by up to ten
 * items; when it is full the producer blocks, when it is empty the
 * consumers do.  How the items split between the consumers varies.
 *
 * Prints each consumer's count and sum and the totals.  Exits 1 if an item
 * was lost or duplicated.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <grt.h>

enum { NCONSUMERS = 2, BUFFER = 10 };

struct consumer {
    int id;
    grt_chan *items;
    long count, sum;
};

static grt_wg wg = GRT_WG_INIT;
static int nitems;

static void producer(void *arg)
{
    grt_chan *items = arg;

    for (int i = 1; i <= nitems; i++)
        grt_chan_send(items, &i);
    grt_chan_close(items); /* no more items: the range loops end */
    grt_wg_done(&wg);
}

static void consumer(void *arg)
{
    struct consumer *c = arg;
    int v;

    while (grt_chan_recv(c->items, &v)) { /* for v := range items */
        c->count++;
        c->sum += v;
    }
    grt_wg_done(&wg);
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    nitems = quick ? 1000 : 100000;

    printf("=== producer_consumer: 1 producer, %d consumers, buffer %d ===\n",
           NCONSUMERS, BUFFER);
    grt_chan *items = grt_chan_make(sizeof(int), BUFFER);
    struct consumer cons[NCONSUMERS];

    grt_wg_add(&wg, 1);
    grt_go(producer, items);
    for (int i = 0; i < NCONSUMERS; i++) {
        cons[i] = (struct consumer){.id = i, .items = items};
        grt_wg_add(&wg, 1);
        grt_go(consumer, &cons[i]);
    }
    grt_wg_wait(&wg); /* all three are out of the channel: free it */
    grt_chan_free(items);

    long count = 0, sum = 0;
    for (int i = 0; i < NCONSUMERS; i++) {
        printf("consumer %d: %ld items, sum %ld\n", i, cons[i].count,
               cons[i].sum);
        count += cons[i].count;
        sum += cons[i].sum;
    }
    long want = (long)nitems * (nitems + 1) / 2;
    printf("total: %ld items, sum %ld (want %d items, sum %ld)\n", count, sum,
           nitems, want);
    return count == nitems && sum == want ? 0 : 1;
}
