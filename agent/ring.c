/*
 * ring.c - the agent's thread: ten times a second it writes one sample
 * into the ring (counters, goroutines per state and per wait reason) and
 * refreshes the M, P and channel records; in between it sleeps on the
 * request slot's futex, so a stack-dump request is answered at once.
 *
 * The ring follows perf's overwrite mode: `count` in the ring's directory
 * entry is the head, which only grows; sample i goes to slot
 * i & (capacity - 1) under the slot's seqlock, carries i in its index
 * field, and the head is store-released after it.  The agent never waits
 * for a reader; a reader that falls behind by more than the capacity
 * counts the gap as lost.
 *
 * Cost control.  Counting goroutines per state reads every G record (one
 * cache line each); with many goroutines that walk is done less often so
 * that it takes at most about 2% of one CPU (a sample carries states_ns,
 * the time of the counts it holds).  The heap and committed-stack figures
 * (mallinfo2, /proc/self/smaps) are refreshed once a second.
 *
 * The thread is not an M: it has no P, runs no goroutine, never calls a
 * grt_* function (getm() would take it for a foreign thread) and blocks
 * every signal, so the application's signals and the runtime's preemption
 * signal never land on it.
 */
#include "config.h"

#include "agent_int.h"

#include <errno.h>
#include <linux/futex.h>
#include <malloc.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define TICK_NS 100000000LL /* 10 Hz */
#define SLOW_EVERY 10       /* heap and stack figures: once a second */
#define STATES_BUDGET 50    /* walk at most 1/50 of the time (2%) */

struct counts {
    uint32_t nstate[8];
    uint32_t nwait[32];
    uint64_t stack_committed; /* sum over goroutine stacks (not main's,
                                 which is the thread's own) */
};

static struct counts last_counts; /* sampler only */
static int64_t last_counts_ns;
static int64_t states_next_ns;
static uint64_t heap_alloc, heap_sys, stack_sys;
static size_t samples_backed; /* bytes of the ring backed so far */

/* Goroutines per state, read from the published records (relaxed, no
 * seqlock: a count needs no consistent record). */
static void count_states(struct counts *c)
{
    struct agent *a = &grt__agent;
    memset(c, 0, sizeof *c);
    uint32_t n = grt__agent_gcount();
    for (uint32_t i = 0; i < n; i++) {
        const struct grt_shm_g *r = &a->g[i];
        uint32_t st = LOAD_RLX(&r->state);
        if (st == 0)
            continue;
        uint32_t status = st & 0xff, reason = (st >> 8) & 0xff;
        if (!(LOAD_RLX(&r->flags) & GRT_SHM_GF_MAIN))
            c->stack_committed += LOAD_RLX(&r->stack_committed);
        if (status < 8)
            c->nstate[status]++;
        if (status == G_WAITING && reason < 32)
            c->nwait[reason]++;
    }
}

/* grt__sched_counters, read the agent's way (agent_int.h, AGENT_RACY). */
AGENT_RACY static void counters(struct sched_counters *c)
{
    memset(c, 0, sizeof *c);
    for (int i = 0; i < MAXPROCS_LIMIT; i++) {
        struct p *pp = RACY(grt__sched.allp[i]);
        if (!pp)
            break;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        c->created += RACY(pp->created);
        c->exited += RACY(pp->exited);
        c->ctxswitches += RACY(pp->ctxswitches);
        c->steals += RACY(pp->steals);
        c->preemptions += RACY(pp->preemptions);
        c->syscalls += RACY(pp->syscalls);
        c->mallocs += RACY(pp->mallocs);
        c->frees += RACY(pp->frees);
        c->total_alloc += RACY(pp->alloc_bytes);
    }
    c->threads = (uint64_t)RACY(grt__sched.mcount);
    objstat_finish(c);
}

AGENT_RACY static void tick(uint64_t nticks, int64_t now)
{
    struct agent *a = &grt__agent;
    struct timespec cpu0, cpu1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu0);

    grt__agent_refresh_mp(now);
    grt__agent_refresh_chans(now);
    grt__agent_refresh_stacks();

    if (now >= states_next_ns) {
        count_states(&last_counts);
        int64_t t1 = grt__agent_mono();
        last_counts_ns = now;
        int64_t spent = t1 - now;
        states_next_ns =
            now + (spent * STATES_BUDGET > TICK_NS ? spent * STATES_BUDGET : 0);
    }
    if (nticks % SLOW_EVERY == 0) {
        struct mallinfo2 mi = mallinfo2();
        heap_alloc = mi.uordblks + mi.hblkhd;
        heap_sys = mi.arena + mi.hblkhd;
        /* Committed stack bytes: the sum of the records' own figures
         * (refreshed by mincore, publish.c), kept by count_states; not
         * /proc/self/smaps, whose walk over every reserved stack cost
         * each of 100 programs of 10,000 goroutines 2% of a CPU. */
        stack_sys = grt__stack_reserved();
    }

    struct sched_counters sc;
    counters(&sc);
    struct grt_shm_sample v;
    memset(&v, 0, sizeof v);
    uint64_t head = LOAD_RLX(&a->hdr->tables[GRT_SHM_T_SAMPLES].count);
    v.index = head;
    v.mono_ns = now;
    v.real_ns = grt__agent_real();
    v.goroutines = sc.created >= sc.exited ? sc.created - sc.exited : 0;
    v.threads = sc.threads;
    v.maxprocs = (uint32_t)RACY(grt__sched.gomaxprocs);
    v.ncpu = (uint32_t)grt__sched.ncpu;
    v.created = sc.created;
    v.exited = sc.exited;
    v.ctxswitches = sc.ctxswitches;
    v.steals = sc.steals;
    v.preemptions = sc.preemptions;
    v.syscalls = sc.syscalls;
    v.mallocs = sc.mallocs;
    v.frees = sc.frees;
    v.total_alloc = sc.total_alloc;
    v.stack_inuse = last_counts.stack_committed;
    v.stack_sys = stack_sys;
    v.heap_alloc = heap_alloc;
    v.heap_sys = heap_sys;
    v.idle_ps = (uint64_t)RACY(grt__sched.npidle);
    v.spinning_ms = (uint64_t)RACY(grt__sched.nmspinning);
    v.global_runq = (uint64_t)RACY(grt__sched.runq_size);
    v.states_ns = last_counts_ns;
    memcpy(v.nstate, last_counts.nstate, sizeof v.nstate);
    memcpy(v.nwait, last_counts.nwait, sizeof v.nwait);
    grt__agent_dropped(&v.dropped_g, &v.dropped_chan, &v.dropped_site);
    v.dumps = grt__agent_dumps_answered();
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu1);
    v.tick_ns = (uint64_t)((cpu1.tv_sec - cpu0.tv_sec) * 1000000000LL +
                           (cpu1.tv_nsec - cpu0.tv_nsec));

    /* the first lap backs the ring a chunk at a time */
    size_t need = (size_t)((head & (AGENT_SAMPLES - 1)) + 1) * sizeof v;
    if (need > samples_backed) {
        size_t to = (need + AGENT_CHUNK - 1) / AGENT_CHUNK * AGENT_CHUNK;
        const struct grt_shm_table *e = &a->hdr->tables[GRT_SHM_T_SAMPLES];
        if (to > e->size)
            to = e->size;
        if (!grt__agent_commit(e->offset + samples_backed, to - samples_backed))
            return; /* no space: no sample this tick */
        samples_backed = to;
    }
    struct grt_shm_sample *r = &a->samples[head & (AGENT_SAMPLES - 1)];
    uint32_t s = grt_shm_seq_write_begin(&r->seq);
    grt_shm_copy_words((char *)r + 8, (char *)&v + 8, sizeof v - 8);
    STORE_RLX(&r->flags, 0u);
    grt_shm_seq_write_end(&r->seq, s);
    /* (R1) the slot first, then the head; pairs with the reader's
     * load-acquire of count */
    STORE_REL(&a->hdr->tables[GRT_SHM_T_SAMPLES].count, head + 1);
    STORE_RLX(&a->hdr->heartbeat_ns, now);
}

/* Sleep until deadline (monotonic ns) or until the request word leaves
 * the value it had (a reader posted a request and woke us). */
static void wait_request(int64_t deadline)
{
    uint32_t *word = &grt__agent.req->state;
    uint32_t v = LOAD_ACQ(word);
    if (v == GRT_SHM_REQ_POSTED)
        return;
    int64_t now = grt__agent_mono();
    if (now >= deadline)
        return;
    int64_t d = deadline - now;
    struct timespec ts = {d / 1000000000, d % 1000000000};
    /* shared futex: the word is in a file mapping other processes map */
    syscall(SYS_futex, word, FUTEX_WAIT, v, &ts, NULL, 0);
}

static void *sampler_main(void *arg)
{
    (void)arg;
    uint64_t nticks = 0;
    int64_t next = grt__agent_mono();
    for (;;) {
        int64_t now = grt__agent_mono();
        grt__agent_dump_poll(now);
        if (now >= next) {
            tick(nticks++, now);
            next += TICK_NS;
            if (next <= now) /* fell behind (a long dump): skip ahead */
                next = now + TICK_NS;
        }
        wait_request(next);
    }
    return NULL;
}

bool grt__agent_sampler_start(void)
{
    struct agent *a = &grt__agent;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 1 << 20);
    int err = pthread_create(&a->thread, &attr, sampler_main, NULL);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err != 0)
        return false;
    pthread_setname_np(a->thread, "grt-agent");
    a->thread_started = true;
    return true;
}
