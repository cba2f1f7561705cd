/*
 * goroutine_pool - a reusable pool of worker goroutines with Submit and
 * Close, the shape of libraries such as ants or pond:
 *
 *     type Pool struct{ tasks chan func(); wg sync.WaitGroup }
 *     func New(n int) *Pool {
 *         p := &Pool{tasks: make(chan func())}
 *         p.wg.Add(n)
 *         for i := 0; i < n; i++ {
 *             go func() { defer p.wg.Done(); for t := range p.tasks { t() } }()
 *         }
 *         return p
 *     }
 *     func (p *Pool) Submit(t func()) { p.tasks <- t }
 *     func (p *Pool) Close()          { close(p.tasks); p.wg.Wait() }
 *
 * A task is a function and its argument (C's closure), sent by value on the
 * pool's channel.  Submit blocks while every worker is busy and the small
 * buffer is full: that is the pool's back-pressure.  Close lets the workers
 * finish what was submitted, then waits for them.
 *
 * Prints how many tasks each worker ran and the total.  Exits 1 if a task
 * was lost or ran twice.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grt.h>

enum { NWORKERS = 10, NTASKS = 1000 };

/* ---- the pool ---- */

struct task {
    void (*fn)(void *);
    void *arg;
};

struct pool {
    grt_chan *tasks;      /* of struct task; closed by pool_close */
    grt_wg wg;            /* the workers */
    int nworkers;
    long ran[NWORKERS];   /* tasks run, per worker (slot i: worker i) */
};

struct pool_worker {
    struct pool *p;
    int id;
};

static void pool_worker(void *arg)
{
    struct pool_worker *w = arg;
    struct pool *p = w->p;
    int id = w->id;
    struct task t;

    free(w);
    while (grt_chan_recv(p->tasks, &t)) {
        t.fn(t.arg);
        p->ran[id]++;
    }
    grt_wg_done(&p->wg);
}

/* A pool of n (<= NWORKERS) workers, started now. */
static struct pool *pool_new(int n)
{
    struct pool *p = calloc(1, sizeof *p);

    p->tasks = grt_chan_make(sizeof(struct task), (size_t)n);
    p->nworkers = n;
    grt_wg_add(&p->wg, n);
    for (int i = 0; i < n; i++) {
        struct pool_worker *w = malloc(sizeof *w);
        *w = (struct pool_worker){p, i};
        grt_go(pool_worker, w);
    }
    return p;
}

/* Queue fn(arg); blocks while the pool is saturated. */
static void pool_submit(struct pool *p, void (*fn)(void *), void *arg)
{
    struct task t = {fn, arg};
    grt_chan_send(p->tasks, &t);
}

/* No more tasks: return once every submitted task has run. */
static void pool_close(struct pool *p)
{
    grt_chan_close(p->tasks);
    grt_wg_wait(&p->wg);
}

/* Release a closed pool. */
static void pool_free(struct pool *p)
{
    grt_chan_free(p->tasks);
    free(p);
}

/* ---- the demo ---- */

static atomic_long sum, count;

static void task(void *arg)
{
    atomic_fetch_add(&sum, (long)(intptr_t)arg);
    atomic_fetch_add(&count, 1);
    grt_sleep(100000); /* 0.1 ms of "I/O" */
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv; /* already quick: 1,000 tasks of 0.1 ms on 10 workers */
    printf("=== goroutine_pool: %d workers, %d tasks ===\n", NWORKERS,
           NTASKS);
    int64_t start = grt_now();
    struct pool *p = pool_new(NWORKERS);
    for (long i = 0; i < NTASKS; i++)
        pool_submit(p, task, (void *)(intptr_t)i);
    pool_close(p);
    double ms = (double)(grt_now() - start) / 1e6;

    long total = 0;
    for (int i = 0; i < p->nworkers; i++) {
        printf("worker %d ran %ld tasks\n", i, p->ran[i]);
        total += p->ran[i];
    }
    pool_free(p);
    long want = (long)NTASKS * (NTASKS - 1) / 2;
    printf("pool ran %ld tasks in %.1f ms, sum %ld (want %d tasks, sum %ld)\n",
           total, ms, atomic_load(&sum), NTASKS, want);
    return total == NTASKS && atomic_load(&count) == NTASKS &&
                   atomic_load(&sum) == want
               ? 0
               : 1;
}
