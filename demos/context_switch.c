/*
 * context_switch - what a channel hand-off between goroutines costs.
 *
 * Mirrors the Go example:
 *
 *     ch := make(chan int)
 *     for s := 0; s < 100; s++ {
 *         go func() { for i := 0; i < 1000; i++ { ch <- i } }()
 *     }
 *     start := time.Now()
 *     for k := 0; k < 100*1000; k++ { sum += <-ch }
 *     fmt.Printf("%v per message\n", time.Since(start)/(100*1000))
 *
 * The channel is unbuffered, so every message is a rendezvous: a sender
 * blocks until main takes its value, and main blocks until a sender
 * arrives.  Each message therefore costs at least one switch from one
 * goroutine to another, done in user space, without the kernel.
 *
 * Prints the time per message.  Exits 1 if the sum is wrong.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <grt.h>

enum { NSENDERS = 100 };

static int nmessages; /* per sender */
static grt_wg senders = GRT_WG_INIT;

static void sender(void *arg)
{
    grt_chan *ch = arg;

    for (long i = 0; i < nmessages; i++)
        grt_chan_send(ch, &i);
    grt_wg_done(&senders);
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    nmessages = quick ? 100 : 1000;
    long total = (long)NSENDERS * nmessages;

    printf("=== context_switch: %d senders x %d messages, "
           "unbuffered channel, GOMAXPROCS=%d ===\n",
           NSENDERS, nmessages, grt_maxprocs(0));
    grt_chan *ch = grt_chan_make(sizeof(long), 0);

    int64_t start = grt_now();
    for (int s = 0; s < NSENDERS; s++) {
        grt_wg_add(&senders, 1);
        grt_go(sender, ch);
    }
    long sum = 0, v;
    for (long k = 0; k < total; k++) {
        grt_chan_recv(ch, &v);
        sum += v;
    }
    int64_t elapsed = grt_now() - start;
    grt_wg_wait(&senders); /* nobody may be inside a send when we free */
    grt_chan_free(ch);

    printf("%ld messages in %.2f ms\n", total, (double)elapsed / 1e6);
    printf("time per message: %.1f ns\n", (double)elapsed / (double)total);
    long want = (long)NSENDERS * nmessages * (nmessages - 1) / 2;
    if (sum != want) {
        printf("FAIL: sum %ld, want %ld\n", sum, want);
        return 1;
    }
    return 0;
}
