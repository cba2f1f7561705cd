/*
 * goroutines - goroutines are cheap: start a thousand of them.
 *
 * Mirrors the Go example:
 *
 *     fmt.Println("NumCPU:", runtime.NumCPU())
 *     fmt.Println("GOMAXPROCS:", runtime.GOMAXPROCS(0))
 *     fmt.Println("goroutines before:", runtime.NumGoroutine())
 *     for i := 0; i < 1000; i++ {
 *         wg.Add(1)
 *         go func() { defer wg.Done(); time.Sleep(time.Second) }()
 *     }
 *     fmt.Println("goroutines while sleeping:", runtime.NumGoroutine())
 *     wg.Wait()
 *     fmt.Println("goroutines after:", runtime.NumGoroutine())
 *
 * A sleeping goroutine holds no thread: a thousand of them sleep on the
 * few threads GOMAXPROCS allows.
 *
 * Prints the counts.  Exits 1 if the count does not go back to where it
 * started once every sleeper has finished.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <grt.h>

enum { NGOROUTINES = 1000 };

static grt_wg wg = GRT_WG_INIT;
static int64_t nap_ns;

static void sleeper(void *arg)
{
    (void)arg;
    grt_sleep(nap_ns);
    grt_wg_done(&wg);
}

/*
 * grt_wg_done is the sleeper's last call, but it has not quite exited when
 * grt_wg_wait returns, so give the stragglers a moment (up to a second).
 */
static int settled_count(int want)
{
    int64_t deadline = grt_now() + 1000000000;
    int n;
    while ((n = grt_num_goroutine()) != want && grt_now() < deadline)
        grt_sleep(1000000);
    return n;
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    nap_ns = quick ? 100000000 : 1000000000; /* 100 ms or 1 s */

    printf("=== goroutines: %d sleeping goroutines ===\n", NGOROUTINES);
    printf("NumCPU: %d\n", grt_num_cpu());
    printf("GOMAXPROCS: %d\n", grt_maxprocs(0));
    int before = grt_num_goroutine();
    printf("goroutines before: %d\n", before);

    for (int i = 0; i < NGOROUTINES; i++) {
        grt_wg_add(&wg, 1);
        grt_go(sleeper, NULL);
    }
    printf("goroutines while sleeping: %d\n", grt_num_goroutine());
    grt_wg_wait(&wg);

    int after = settled_count(before);
    printf("goroutines after: %d\n", after);
    if (after != before) {
        printf("FAIL: %d goroutines still alive\n", after - before);
        return 1;
    }
    return 0;
}
