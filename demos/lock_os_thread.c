/*
 * lock_os_thread - pin a goroutine to its OS thread.
 *
 * Mirrors the Go example:
 *
 *     go func() {
 *         runtime.LockOSThread()
 *         defer runtime.UnlockOSThread()
 *         for i := 0; i < 10; i++ {
 *             fmt.Println("iteration", i, "thread", C.gettid())
 *             time.Sleep(100 * time.Millisecond)
 *         }
 *     }()
 *
 * Some C libraries keep per-thread state (OpenGL contexts, thread-local
 * errno-like state, a UI toolkit's main thread), so a goroutine that uses
 * them must stay on one thread.  grt_lock_os_thread wires the goroutine
 * to its current thread: whenever it parks (sleep, channel, yield) the
 * thread waits for it alone, and no other goroutine runs there.
 *
 * The locked goroutine prints gettid() (read from C) on every iteration,
 * parking three ways in between, while eight busy goroutines on
 * GOMAXPROCS=2 keep the scheduler moving work between threads.  For
 * contrast an unlocked goroutine does the same and reports how many
 * threads it was seen on (often more than one).
 *
 * Prints a line per iteration and a summary.  Exits 1 if the locked
 * goroutine ever saw another thread id.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <grt.h>

enum { NBUSY = 8, MAXTIDS = 64 };

static int iterations;
static int64_t nap_ns;
static int stop;
static grt_wg busy_wg = GRT_WG_INIT;

/* Keep the processors busy: work, yield, sleep a little. */
static void busy(void *arg)
{
    (void)arg;
    volatile uint64_t x = 0;
    while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
        for (int i = 0; i < 20000; i++)
            x += (uint64_t)i;
        if (x % 3 == 0)
            grt_sleep(100000);
        else
            grt_yield();
    }
    grt_wg_done(&busy_wg);
}

/* An echo partner for channel operations, until the channel closes. */
struct echo {
    grt_chan *c;
    grt_wg done;
};

static void partner(void *arg)
{
    struct echo *e = arg;
    int v;
    while (grt_chan_recv(e->c, &v))
        grt_chan_send(e->c, &v);
    grt_wg_done(&e->done);
}

struct report {
    int changes; /* times gettid() differed from the first */
    int ntids;   /* distinct thread ids seen */
    pid_t tids[MAXTIDS];
    grt_chan *done;
};

static void note(struct report *r, pid_t tid)
{
    if (tid != r->tids[0])
        r->changes++;
    for (int i = 0; i < r->ntids; i++)
        if (r->tids[i] == tid)
            return;
    if (r->ntids < MAXTIDS)
        r->tids[r->ntids++] = tid;
}

/* Iterate, parking three ways per iteration; print when `locked`. */
static void worker(struct report *r, bool locked)
{
    struct echo e = {grt_chan_make(sizeof(int), 0), GRT_WG_INIT};
    grt_chan *c = e.c;
    grt_wg_add(&e.done, 1);
    grt_go(partner, &e);
    r->tids[0] = gettid();
    r->ntids = 1;
    for (int i = 0; i < iterations; i++) {
        pid_t tid = gettid();
        note(r, tid);
        if (locked)
            printf("locked goroutine %lld, iteration %2d: OS thread %d%s\n",
                   (long long)grt_self(), i, (int)tid,
                   tid == r->tids[0] ? "" : "  <-- CHANGED");
        grt_sleep(nap_ns);
        note(r, gettid());
        grt_chan_send(c, &i);
        grt_chan_recv(c, NULL);
        note(r, gettid());
        grt_yield();
    }
    grt_chan_close(c);
    grt_wg_wait(&e.done); /* the partner is out of every call on c */
    grt_chan_free(c);
    grt_chan_send(r->done, NULL);
}

static void locked_worker(void *arg)
{
    grt_lock_os_thread();
    worker(arg, true);
    grt_unlock_os_thread();
}

static void unlocked_worker(void *arg)
{
    worker(arg, false);
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    iterations = quick ? 10 : 20;
    nap_ns = quick ? 5000000 : 100000000; /* 5 ms or 100 ms */

    printf("=== lock_os_thread: one goroutine locked to its thread, "
           "GOMAXPROCS=2 ===\n");
    grt_maxprocs(2);
    grt_wg_add(&busy_wg, NBUSY);
    for (int i = 0; i < NBUSY; i++)
        grt_go(busy, NULL);

    static struct report locked, unlocked;
    locked.done = unlocked.done = grt_chan_make(0, 2);
    grt_go(locked_worker, &locked);
    grt_go(unlocked_worker, &unlocked);
    grt_chan_recv(locked.done, NULL);
    grt_chan_recv(locked.done, NULL);
    __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
    grt_wg_wait(&busy_wg);

    printf("unlocked goroutine: %d iterations on %d distinct OS thread%s\n",
           iterations, unlocked.ntids, unlocked.ntids == 1 ? "" : "s");
    if (locked.changes) {
        printf("locked goroutine: thread id changed %d times (of %d "
               "iterations)\n",
               locked.changes, iterations);
        return 1;
    }
    printf("locked goroutine: %d iterations, all on thread %d\n", iterations,
           (int)locked.tids[0]);
    return 0;
}
