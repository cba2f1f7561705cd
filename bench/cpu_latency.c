/*
 * cpu_latency.c - how long a cache line takes to go from one CPU to
 * another, measured without the runtime: what every goroutine that moves
 * between processors pays, several times over.
 *
 *     bench/cpu_latency [round_trips]      (default 200000)
 *
 * Two threads, pinned to the first two CPUs this process may use, pass
 * a counter back and forth in one cache line; the time per one-way
 * hand-over is printed as "cpu_latency: cpus A,B one-way <ns> ns
 * (round_trips=<n>)", or "cpu_latency: n/a (<why>)" with fewer than two
 * CPUs.  compare.sh records it before and after a run: on this
 * project's 2-vCPU guest it is 26-34 ns in one placement of the vCPUs
 * and about 170 ns in another, and every workload that moves goroutines
 * between the two (spawn_100k, tcp_echo) follows it
 * (bench/missed-goals.md).  Exit status 0; 1 when a thread cannot be
 * started or pinned; 2 for a bad argument.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static _Alignas(64) uint64_t baton; /* atomic (acquire/release: plain movs on x86) */
static _Alignas(64) int64_t trips;
static int cpu_b;
static int pin_err; /* the other side's pinning error; it answers anyway */

static int pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The other side: answers each odd value with the next even one. */
static void *answer(void *arg)
{
    (void)arg;
    pin_err = pin(cpu_b);
    for (uint64_t v = 1; v < 2 * (uint64_t)trips; v += 2) {
        while (__atomic_load_n(&baton, __ATOMIC_ACQUIRE) != v)
            ;
        __atomic_store_n(&baton, v + 1, __ATOMIC_RELEASE);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    trips = 200000;
    if (argc == 2) {
        char *end;
        errno = 0;
        trips = strtoll(argv[1], &end, 10);
        if (errno || *end || end == argv[1])
            trips = 0;
    }
    if (argc > 2 || trips < 1) {
        fprintf(stderr, "usage: cpu_latency [round_trips >= 1]\n");
        return 2;
    }
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) {
        fprintf(stderr, "cpu_latency: sched_getaffinity: %s\n", strerror(errno));
        return 1;
    }
    int cpus[2], n = 0;
    for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
        if (CPU_ISSET(c, &set))
            cpus[n++] = c;
    if (n < 2) {
        printf("cpu_latency: n/a (one CPU)\n");
        return 0;
    }
    cpu_b = cpus[1];
    int err = pin(cpus[0]);
    pthread_t th;
    if (err == 0)
        err = pthread_create(&th, NULL, answer, NULL);
    if (err != 0) {
        fprintf(stderr, "cpu_latency: %s\n", strerror(err));
        return 1;
    }
    int64_t t0 = now_ns();
    for (uint64_t v = 0; v < 2 * (uint64_t)trips; v += 2) {
        __atomic_store_n(&baton, v + 1, __ATOMIC_RELEASE);
        while (__atomic_load_n(&baton, __ATOMIC_ACQUIRE) != v + 2)
            ;
    }
    int64_t dt = now_ns() - t0;
    pthread_join(th, NULL);
    if (pin_err) {
        fprintf(stderr, "cpu_latency: cannot pin a thread to CPU %d: %s\n",
                cpu_b, strerror(pin_err));
        return 1;
    }
    printf("cpu_latency: cpus %d,%d one-way %.1f ns (round_trips=%lld)\n",
           cpus[0], cpus[1], (double)dt / (2.0 * (double)trips),
           (long long)trips);
    return 0;
}
