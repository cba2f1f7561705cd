/*
 * agent_read.c - what reading a big program costs (issue 5's goals): a
 * snapshot of 100,000 goroutines in under 50 ms of reader CPU, and
 * 1,000,000 goroutines published and readable.  No Go twin: Go has no
 * outside reader to compare with.
 *
 *   agent_read park N        park N goroutines on a channel, print the
 *                            pid, wait for stdin to close
 *   agent_read read PID [K]  attach, take K snapshots (default 10) and
 *                            print the median reader CPU time of one;
 *                            then ask for every goroutine's stack once
 *                            and print the answer's wall time
 *
 * bench/agent-read.sh runs the two together.  Result lines follow the
 * harness's format (workload=agent_read impl=c metric=... value=...).
 */
#include "config.h"

#include "grt.h"
#include "reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void park(void *arg)
{
    grt_chan_recv(arg, NULL);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int do_park(long n)
{
    grt_chan *c = grt_chan_make(0, 0);
    for (long i = 0; i < n; i++)
        grt_go(park, c);
    while (grt_num_goroutine() < n + 1)
        grt_sleep(1000000);
    grt_sleep(300000000); /* a few agent ticks: every record published */
    printf("%d\n", (int)getpid());
    fflush(stdout);
    char buf[16];
    grt_syscall_enter();
    while (read(0, buf, sizeof buf) > 0) {
    }
    grt_syscall_exit();
    grt_exit(0);
}

static int do_read(int pid, int k)
{
    struct rd_target *t;
    int err = rd_attach(pid, &t);
    if (err) {
        fprintf(stderr, "agent_read: attach %d: %s\n", pid, rd_strerror(err));
        return 1;
    }
    int64_t *v = calloc((size_t)k, sizeof *v);
    size_t ng = 0, ntorn = 0;
    for (int i = 0; i < k; i++) {
        struct rd_snapshot *s;
        int64_t t0 = cpu_ns();
        err = rd_snapshot_take(t, &s);
        v[i] = cpu_ns() - t0;
        if (err) {
            fprintf(stderr, "agent_read: snapshot: %s\n", rd_strerror(err));
            return 1;
        }
        ng = s->ng;
        ntorn = s->ntorn;
        rd_snapshot_free(s);
    }
    qsort(v, (size_t)k, sizeof *v, cmp_i64);
    printf("workload=agent_read impl=c metric=goroutines value=%zu "
           "unit=count\n", ng);
    printf("workload=agent_read impl=c metric=torn value=%zu unit=count\n",
           ntorn);
    printf("workload=agent_read impl=c metric=snapshot_cpu value=%.2f "
           "unit=ms\n", v[k / 2] / 1e6);
    struct timespec a, b;
    struct rd_dump *d;
    clock_gettime(CLOCK_MONOTONIC, &a);
    err = rd_dump_request(t, 0, 0, 10000, &d);
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (err == RD_OK) {
        size_t frames = 0;
        for (size_t i = 0; i < d->ng; i++)
            frames += d->g[i].npcs;
        printf("workload=agent_read impl=c metric=dump_goroutines value=%zu "
               "unit=count\n", d->ng);
        printf("workload=agent_read impl=c metric=dump_frames value=%zu "
               "unit=count\n", frames);
        printf("workload=agent_read impl=c metric=dump_wall value=%.2f "
               "unit=ms\n", ((b.tv_sec - a.tv_sec) * 1e9 +
                              (b.tv_nsec - a.tv_nsec)) / 1e6);
        printf("workload=agent_read impl=c metric=dump_agent value=%.2f "
               "unit=ms\n", d->elapsed_ns / 1e6);
        rd_dump_free(d);
    } else {
        fprintf(stderr, "agent_read: dump: %s\n", rd_strerror(err));
    }
    rd_detach(t);
    free(v);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "park"))
        return do_park(atol(argv[2]));
    if (argc >= 3 && !strcmp(argv[1], "read"))
        return do_read(atoi(argv[2]), argc > 3 ? atoi(argv[3]) : 10);
    fprintf(stderr, "usage: agent_read park N | agent_read read PID [K]\n");
    return 2;
}
