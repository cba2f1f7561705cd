/*
 * threads - goroutines run on a few OS threads (the M in M:N).
 *
 * Mirrors the Go example:
 *
 *     runtime.GOMAXPROCS(4)
 *     var wg sync.WaitGroup
 *     for i := 0; i < 10; i++ {
 *         wg.Add(1)
 *         go func(id int) {
 *             defer wg.Done()
 *             fmt.Printf("goroutine %d on thread %d\n", id, syscall.Gettid())
 *         }(i)
 *     }
 *     wg.Wait()
 *
 * With four processors (P) the runtime runs goroutines on at most four
 * threads at once, so the ten goroutines share a handful of thread ids.
 * Which goroutine lands on which thread changes from run to run.
 *
 * Prints one line per goroutine, then how many distinct threads were seen.
 * Exits 1 if a goroutine did not report.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <grt.h>

enum { NGOROUTINES = 10 };

static grt_wg wg = GRT_WG_INIT;
static pid_t tids[NGOROUTINES];  /* each slot written by one goroutine */

static void worker(void *arg)
{
    int id = (int)(intptr_t)arg;

    /*
     * A millisecond or so of work first: long enough for idle processors
     * to wake up and steal goroutines, so they spread over threads.
     */
    volatile unsigned long spin = 0;
    for (int i = 0; i < 3000000; i++)
        spin += (unsigned long)i;
    (void)spin;
    tids[id] = gettid();
    printf("goroutine %d running on OS thread %d\n", id, (int)tids[id]);
    grt_wg_done(&wg);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv; /* already quick */
    printf("=== threads: 10 goroutines on GOMAXPROCS=4 ===\n");
    grt_maxprocs(4);
    printf("main goroutine on OS thread %d, GOMAXPROCS=%d\n", (int)gettid(),
           grt_maxprocs(0));

    for (int i = 0; i < NGOROUTINES; i++) {
        grt_wg_add(&wg, 1);
        grt_go(worker, (void *)(intptr_t)i);
    }
    grt_wg_wait(&wg);

    /* Count distinct thread ids (and check that everyone reported). */
    int distinct = 0;
    for (int i = 0; i < NGOROUTINES; i++) {
        if (tids[i] == 0) {
            printf("goroutine %d never ran\n", i);
            return 1;
        }
        int seen = 0;
        for (int j = 0; j < i; j++)
            seen |= tids[j] == tids[i];
        distinct += !seen;
    }
    printf("%d goroutines ran on %d distinct OS threads\n", NGOROUTINES,
           distinct);
    return 0;
}
