/*
 * goroutine_creation - how much does `go f()` cost?
 *
 * Mirrors the Go example:
 *
 *     start := time.Now()
 *     for i := 0; i < 100000; i++ {
 *         wg.Add(1)
 *         go func() { atomic.AddInt64(&ran, 1); wg.Done() }()
 *     }
 *     elapsed := time.Since(start)
 *     wg.Wait()
 *     fmt.Printf("average creation time: %v\n", elapsed/100000)
 *
 * Creating a goroutine takes a descriptor and a stack from per-processor
 * caches and puts the goroutine on a run queue; no system call, no thread.
 * Go spends a few hundred nanoseconds per goroutine; compare with
 * pthread_create, which costs tens of microseconds.
 *
 * Prints the number created, the total and average creation time.  Exits 1
 * if not every goroutine ran.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <grt.h>

static grt_wg wg = GRT_WG_INIT;
static atomic_long ran;

static void tiny(void *arg)
{
    (void)arg;
    atomic_fetch_add_explicit(&ran, 1, memory_order_relaxed);
    grt_wg_done(&wg);
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    long n = quick ? 10000 : 100000;

    printf("=== goroutine_creation: %ld goroutines ===\n", n);
    int64_t start = grt_now();
    for (long i = 0; i < n; i++) {
        grt_wg_add(&wg, 1);
        grt_go(tiny, NULL);
    }
    int64_t created = grt_now();
    grt_wg_wait(&wg);
    int64_t finished = grt_now();

    printf("created %ld goroutines in %.2f ms\n", n,
           (double)(created - start) / 1e6);
    printf("average creation time: %.1f ns\n",
           (double)(created - start) / (double)n);
    printf("all finished after %.2f ms\n", (double)(finished - start) / 1e6);
    long got = atomic_load(&ran);
    if (got != n) {
        printf("FAIL: %ld goroutines ran, want %ld\n", got, n);
        return 1;
    }
    return 0;
}
