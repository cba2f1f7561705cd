/*
 * park_mem - park_mem_100k, park_mem_1m: start G goroutines that each
 * block forever receiving from one shared channel (never sent on, never
 * closed); report resident memory per goroutine, creation time per
 * goroutine and the process's total VmRSS.
 *
 * One run, no warm-up, no repeats; all processors.  The creation time
 * includes each goroutine's first run up to its grt_wg_done, so a runtime
 * that builds stacks lazily on first run pays for it here.  The program
 * exits with the G goroutines still parked.  See WORKLOADS.md for the
 * definition this follows line for line.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <grt.h>

#include "harness.h"

static grt_chan *c;
static grt_wg started = GRT_WG_INIT;

/* The line `key` ("VmRSS:") of /proc/self/status, in bytes; -1 if none. */
static int64_t status_bytes(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        bench_fatalf("/proc/self/status: %s", strerror(errno));
    char line[256], name[32], unit[8];
    long long kb;
    int64_t bytes = -1;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "%31s %lld %7s", name, &kb, unit) == 3 &&
            strcmp(name, key) == 0 && strcmp(unit, "kB") == 0) {
            bytes = (int64_t)kb * 1024;
            break;
        }
    }
    fclose(f);
    return bytes;
}

/* The VmRSS line of /proc/self/status, in bytes. */
static int64_t vmrss(void)
{
    int64_t b = status_bytes("VmRSS:");
    if (b < 0)
        bench_fatalf("no VmRSS in /proc/self/status");
    return b;
}

/* Go collects garbage here; C has none: wait, then read VmRSS. */
static int64_t settle(int64_t ms)
{
    grt_sleep(ms * 1000000);
    return vmrss();
}

static void parker(void *arg)
{
    (void)arg;
    grt_wg_done(&started);
    grt_chan_recv(c, NULL); /* never sent on, never closed */
}

int main(int argc, char **argv)
{
    const char *w = bench_workload(argc, argv, "park_mem_100k", "park_mem_1m");
    int64_t def = strcmp(w, "park_mem_1m") == 0 ? 1000000 : 100000;
    int p = bench_procs(0);
    int64_t g = bench_size("G", def, def);
    int64_t pause = bench_size("SETTLE_MS", 100, 100);
    bench_logf("%s: GOMAXPROCS=%d G=%lld settle=%lldms", w, p, (long long)g,
               (long long)pause);

    c = grt_chan_make(0, 0);
    int64_t before = settle(pause);
    int64_t t0 = bench_now();
    grt_wg_add(&started, g);
    for (int64_t i = 0; i < g; i++)
        grt_go(parker, NULL);
    grt_wg_wait(&started);
    double create = bench_ns_per(t0, g);
    int64_t after = settle(pause);

    grt_memstats ms;
    grt_read_memstats(&ms);
    /* page tables are not in VmRSS but are memory the goroutines cost */
    bench_logf("%s: VmPTE after=%lld", w, (long long)status_bytes("VmPTE:"));
    bench_logf("%s: VmRSS before=%lld after=%lld; goroutines=%llu "
               "stack_inuse=%llu stack_sys=%llu sys=%llu heap_inuse=%llu "
               "threads=%llu",
               w, (long long)before, (long long)after,
               (unsigned long long)ms.num_goroutine,
               (unsigned long long)ms.stack_inuse,
               (unsigned long long)ms.stack_sys, (unsigned long long)ms.sys,
               (unsigned long long)ms.heap_inuse,
               (unsigned long long)ms.num_thread);
    bench_report(w, "rss_per_goroutine", (double)(after - before) / (double)g,
                 "bytes");
    bench_report(w, "create_ns_per_goroutine", create, "ns");
    bench_report(w, "total_rss", (double)after, "bytes");
    grt_exit(0); /* the parked goroutines are left blocked */
}
