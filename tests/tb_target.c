/*
 * tb_target.c - a program that prints the runtime's own dumps, one kind
 * per run, for tests/traceback-grammar.sh to parse with Go's traceback
 * grammar (tests/go-traceback.awk):
 *
 *   tb_target dump|stack|panic|segv|quit|leak|deadlock
 *
 * Every run first starts goroutines parked in several ways (a channel,
 * select, a mutex, a sleep, one not started yet) and, but for leak and
 * deadlock, one spinning on a second processor (caught by a signal where
 * the build can, else listed without frames), then: dump and stack
 * print grt_dump / grt_stack(all) on stdout; panic panics, segv
 * dereferences a bad pointer, quit sends itself SIGQUIT, deadlock blocks
 * main for ever (all with GRT_TRACEBACK as set); leak prints a leak
 * report on stdout.
 */
#include "config.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <grt.h>

static grt_chan *never;
static grt_mutex held = GRT_MUTEX_INIT;
static int sink;

static void on_chan(void *arg)
{
    (void)arg;
    grt_chan_recv(never, NULL);
    __atomic_store_n(&sink, 1, __ATOMIC_RELAXED);
}

static void on_select(void *arg)
{
    (void)arg;
    grt_case cs[1] = {{never, GRT_RECV, NULL, false}};
    grt_select(cs, 1, false);
    __atomic_store_n(&sink, 1, __ATOMIC_RELAXED);
}

static void on_mutex(void *arg)
{
    (void)arg;
    grt_mutex_lock(&held);
    __atomic_store_n(&sink, 1, __ATOMIC_RELAXED);
}

static void on_sleep(void *arg)
{
    (void)arg;
    grt_sleep(3600LL * 1000000000LL);
    __atomic_store_n(&sink, 1, __ATOMIC_RELAXED);
}

static int spinning; /* the spinner runs */

static void on_cpu(void *arg)
{
    (void)arg;
    __atomic_store_n(&spinning, 1, __ATOMIC_RELEASE);
    for (;;)
        __asm__ volatile("" ::: "memory");
}

static void quitter(void *arg)
{
    (void)arg;
    grt_sleep(20000000);
    kill(getpid(), SIGQUIT);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "dump";
    never = grt_chan_make(0, 0);
    grt_mutex_lock(&held);
    grt_go(on_chan, NULL);
    grt_go(on_select, NULL);
    grt_go(on_mutex, NULL);
    if (strcmp(mode, "deadlock") != 0) /* a sleeper is no deadlock */
        grt_go_named("sleeper", on_sleep, NULL);
    if (strcmp(mode, "deadlock") != 0 && strcmp(mode, "leak") != 0) {
        grt_maxprocs(2); /* main keeps one without preemption (TSan) */
        grt_go(on_cpu, NULL);
        while (!__atomic_load_n(&spinning, __ATOMIC_ACQUIRE))
            grt_sleep(1000000);
    }
    grt_sleep(20000000);
    if (strcmp(mode, "deadlock") != 0)
        grt_go(on_chan, NULL); /* maybe not started yet */
    if (!strcmp(mode, "dump")) {
        grt_dump(stdout);
    } else if (!strcmp(mode, "stack")) {
        static char buf[1 << 16];
        size_t n = grt_stack(buf, sizeof buf, true);
        fwrite(buf, 1, n, stdout);
    } else if (!strcmp(mode, "panic")) {
        grt_panic("tb_target: %s", mode);
    } else if (!strcmp(mode, "segv")) {
        static volatile uintptr_t bad = 16;
        *(volatile int *)bad = 1;
    } else if (!strcmp(mode, "quit")) {
        grt_go(quitter, NULL);
        grt_sleep(10LL * 1000000000LL);
    } else if (!strcmp(mode, "leak")) {
        grt_leak_opts o = {.timeout_ns = 10000000};
        return grt_leak_verify_none(&o, stdout) > 0 ? 0 : 1;
    } else if (!strcmp(mode, "deadlock")) {
        grt_mutex_unlock(&held); /* wakes on_mutex, which then parks */
        grt_chan_send(never, NULL); /* on_chan takes it */
        grt_chan_recv(grt_chan_make(0, 0), NULL);
    } else {
        fprintf(stderr, "tb_target: unknown mode %s\n", mode);
        return 2;
    }
    fflush(stdout);
    return 0;
}
