/*
 * runtime_stats - watching the runtime from the inside.
 *
 * Mirrors the Go example:
 *
 *     for i := 0; i < 100; i++ {
 *         wg.Add(1)
 *         go func() { defer wg.Done(); time.Sleep(time.Second) }()
 *     }
 *     go func() { wg.Wait(); close(done) }()
 *     ticker := time.NewTicker(100 * time.Millisecond)
 *     for {
 *         select {
 *         case <-ticker.C:
 *             runtime.ReadMemStats(&ms)
 *             fmt.Println(runtime.NumGoroutine(), ms.StackInuse, ...)
 *         case <-done:
 *             return
 *         }
 *     }
 *
 * grt_read_memstats is runtime.ReadMemStats plus the scheduler's own
 * counters (threads, context switches), which Go keeps for its tracer.
 * While the sleepers sleep the goroutine count stays up and the switch
 * count barely moves; when they wake it drops back.
 *
 * Prints a line per tick and one after the sleepers are done.  Exits 1 if
 * the goroutine count does not go back to one.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <grt.h>

enum { NSLEEPERS = 100 };

static grt_wg wg = GRT_WG_INIT;
static int64_t nap_ns;

static void sleeper(void *arg)
{
    (void)arg;
    grt_sleep(nap_ns);
    grt_wg_done(&wg);
}

/* Close done once every sleeper has called grt_wg_done. */
static void closer(void *arg)
{
    grt_wg_wait(&wg);
    grt_chan_close(arg);
}

static void print_stats(const char *when)
{
    grt_memstats ms;

    grt_read_memstats(&ms);
    printf("%-8s goroutines %4llu  threads %2llu  stack in use %6llu KiB  "
           "context switches %llu\n",
           when, (unsigned long long)ms.num_goroutine,
           (unsigned long long)ms.num_thread,
           (unsigned long long)(ms.stack_inuse >> 10),
           (unsigned long long)ms.context_switches);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    nap_ns = quick ? 300000000 : 1000000000; /* 300 ms or 1 s */

    printf("=== runtime_stats: memstats every 100 ms, %d sleepers ===\n",
           NSLEEPERS);
    print_stats("start");
    grt_chan *done = grt_chan_make(0, 0);
    for (int i = 0; i < NSLEEPERS; i++) {
        grt_wg_add(&wg, 1);
        grt_go(sleeper, NULL);
    }
    grt_go(closer, done);

    grt_ticker *ticker = grt_ticker_make(100000000);
    for (;;) {
        grt_case cases[] = {
            {.chan = grt_ticker_chan(ticker), .op = GRT_RECV},
            {.chan = done, .op = GRT_RECV},
        };
        if (grt_select(cases, 2, false) == 1)
            break;
        print_stats("tick");
    }
    grt_ticker_free(ticker);

    /* The sleepers and the closer are on their way out; let them finish. */
    int64_t deadline = grt_now() + 1000000000;
    while (grt_num_goroutine() > 1 && grt_now() < deadline)
        grt_sleep(1000000);
    print_stats("end");
    if (grt_num_goroutine() != 1) {
        printf("FAIL: %d goroutines left\n", grt_num_goroutine() - 1);
        return 1;
    }
    grt_chan_free(done); /* the closer is gone: nobody uses done now */
    return 0;
}
