/*
 * preempt_latency - asynchronous preemption on one processor: a goroutine
 * spins about SPIN_MS ms in a loop with no calls while another sleeps 1 ms
 * in a loop and records how late each wake-up is.  Without preemption the
 * sleeper cannot run until the spin ends.
 *
 * Reports p50_late_us and max_late_us of the wake-ups that overlap the
 * spin, and their number (wakeups).  See WORKLOADS.md for the definition
 * this follows line for line; Go's sysmon needs two 10 ms ticks, so Go
 * reports about 20 ms (p50) and 40 ms (max) there.
 */
#include "config.h"

#include <stdlib.h>

#include <grt.h>

#include "harness.h"

#define REQUEST_NS INT64_C(1000000) /* each sleep asks for 1 ms */
#define MS INT64_C(1000000)

/*
 * n steps of a 64-bit LCG: no calls, no memory traffic.  Out of line so
 * that calibration and the spinner run the same code; gcc -O2 keeps the
 * loop (an imul and an add per step; it has no closed form for it).
 */
__attribute__((noinline)) static uint64_t spin(uint64_t n)
{
    uint64_t x = 1;
    for (uint64_t i = 0; i < n; i++)
        x = x * 6364136223846793005u + 1442695040888963407u;
    return x;
}

static volatile uint64_t sink;
static int64_t spin_start, spin_end; /* written by the spinner */
static uint32_t stop;                /* set by the spinner when it is done */
static grt_wg wg = GRT_WG_INIT;

/* start and end of every sleep, appended by the sleeper alone */
static struct span {
    int64_t t0, t1;
} * sleeps;
static size_t nsleeps, cap_sleeps;

static void sleeper(void *arg)
{
    (void)arg;
    while (__atomic_load_n(&stop, __ATOMIC_ACQUIRE) == 0) {
        int64_t t0 = bench_now();
        grt_sleep(REQUEST_NS);
        int64_t t1 = bench_now();
        if (nsleeps == cap_sleeps) {
            cap_sleeps = cap_sleeps ? 2 * cap_sleeps : 4096;
            sleeps = realloc(sleeps, cap_sleeps * sizeof *sleeps);
            if (!sleeps)
                bench_fatalf("out of memory");
        }
        sleeps[nsleeps++] = (struct span){t0, t1};
    }
    grt_wg_done(&wg);
}

static void spinner(void *arg)
{
    uint64_t steps = *(uint64_t *)arg;
    __atomic_store_n(&spin_start, bench_now(), __ATOMIC_RELAXED);
    sink = spin(steps);
    __atomic_store_n(&spin_end, bench_now(), __ATOMIC_RELAXED);
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    grt_wg_done(&wg);
}

int main(int argc, char **argv)
{
    const char *w = bench_workload(argc, argv, "preempt_latency");
    int p = bench_procs(1);
    int64_t spin_ms = bench_size("SPIN_MS", 2000, 500);
    const int64_t cal_ms = 100;

    /* Calibrate: double the step count until one call takes cal_ms. */
    uint64_t n = 1u << 20;
    int64_t took;
    for (;;) {
        int64_t t0 = bench_now();
        sink += spin(n);
        took = bench_now() - t0;
        if (took >= cal_ms * MS)
            break;
        n *= 2;
    }
    static uint64_t steps;
    steps = (uint64_t)((double)n * (double)(spin_ms * MS) / (double)took);
    bench_logf("%s: GOMAXPROCS=%d spin=%lldms: %llu steps (%.3f ns/step)", w, p,
               (long long)spin_ms, (unsigned long long)steps,
               (double)took / (double)n);

    grt_wg_add(&wg, 2);
    grt_go(sleeper, NULL);
    grt_sleep(10 * MS); /* the sleeper is now in its loop */
    grt_go(spinner, &steps);
    grt_wg_wait(&wg);

    /* Every sleep that overlaps the spin counts, also one that began
     * before it. */
    double *late = bench_calloc(nsleeps ? nsleeps : 1, sizeof(double));
    size_t nlate = 0;
    for (size_t i = 0; i < nsleeps; i++)
        if (sleeps[i].t1 > spin_start && sleeps[i].t0 < spin_end)
            late[nlate++] =
                (double)(sleeps[i].t1 - sleeps[i].t0 - REQUEST_NS) / 1e3;
    if (nlate == 0)
        bench_fatalf("%s: no wake-up overlapped the spin", w);
    bench_sort(late, nlate);
    grt_memstats ms;
    grt_read_memstats(&ms);
    bench_logf("%s: spun %.0f ms; %zu wake-ups during the spin; p50=%.0fus "
               "p99=%.0fus max=%.0fus; preemptions=%llu",
               w, (double)(spin_end - spin_start) / 1e6, nlate,
               bench_percentile(late, nlate, 50),
               bench_percentile(late, nlate, 99), late[nlate - 1],
               (unsigned long long)ms.preemptions);
    bench_report(w, "p50_late_us", bench_percentile(late, nlate, 50), "us");
    bench_report(w, "max_late_us", late[nlate - 1], "us");
    bench_report(w, "wakeups", (double)nlate, "count");
    free(late);
    free(sleeps);
    return 0;
}
