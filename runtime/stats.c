/*
 * stats.c - grt_read_memstats: MemStats-style counters, read without
 * stopping anything.  Scheduler counters are per-P sums (proc.c); stack
 * bytes are measured (stack.c); the heap figures are glibc's mallinfo2,
 * the best the platform can tell about the C heap; "runtime-owned" memory
 * is what libgrt mapped or allocated for its own structures; mallocs,
 * frees and total_alloc count the objects it made for the program
 * (goroutines, channels, timers, contexts: objstat_* in rt.h).
 */
#include "config.h"

#include "rt.h"

#include <malloc.h>
#include <string.h>

void grt_read_memstats(grt_memstats *ms)
{
    getm();
    memset(ms, 0, sizeof *ms);
    struct sched_counters c;
    grt__sched_counters(&c);
    grt__stack_usage(&ms->stack_inuse, &ms->stack_sys);
    struct mallinfo2 mi = mallinfo2();
    ms->heap_alloc = mi.uordblks + mi.hblkhd;
    ms->heap_sys = mi.arena + mi.hblkhd;
    ms->heap_inuse = mi.uordblks + mi.hblkhd;
    int32_t nallg = LOAD_RLX(&grt__sched.nallg);
    uint64_t gbytes = (uint64_t)nallg * sizeof(struct g);
    uint64_t pbytes = 0;
    for (int i = 0; i < MAXPROCS_LIMIT && LOAD_ACQ(&grt__sched.allp[i]); i++)
        pbytes += sizeof(struct p);
    uint64_t mbytes = c.threads * sizeof(struct m);
    ms->alloc = gbytes + pbytes + mbytes + ms->stack_inuse;
    ms->sys = ms->stack_sys + gbytes + pbytes + mbytes;
    ms->mallocs = c.mallocs;
    ms->frees = c.frees;
    ms->total_alloc = c.total_alloc;
    ms->num_goroutine = c.created - c.exited;
    ms->num_thread = c.threads;
    ms->maxprocs = (uint64_t)grt_maxprocs(0);
    ms->goroutines_created = c.created;
    ms->goroutines_exited = c.exited;
    ms->context_switches = c.ctxswitches;
    ms->steals = c.steals;
    ms->preemptions = c.preemptions;
    ms->syscalls = c.syscalls;
}
