/*
 * leaks.h - goroutine leak analysis of a snapshot, shared by gdump
 * --leaks, gtop's leaks view and grt-exporter's leak gauges.
 *
 * suspected: blocked on a channel, select, mutex, cond or wait group for
 *            longer than the threshold;
 * proven:    every goroutine is asleep with nothing pending (no runnable,
 *            running or in-call goroutine, no timer, no I/O wait: the
 *            program can never make progress), or the goroutine is part
 *            of a wait-for cycle of mutex owners (the cycle is reported).
 * Leaks are grouped by creation site and blocking site (wait reason and
 * the object waited on; gdump refines the blocking site with the top
 * frame of an unwound stack when it has one).
 */
#ifndef GRT_READER_LEAKS_H
#define GRT_READER_LEAKS_H

#include "reader.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RD_LEAK_THRESHOLD_NS (10LL * 1000000000LL) /* gdump's default */

enum rd_leak_kind {
    RD_LEAK_SUSPECTED = 1, /* blocked longer than the threshold */
    RD_LEAK_ASLEEP = 2,    /* proven: the whole program is asleep */
    RD_LEAK_CYCLE = 3      /* proven: in a wait-for cycle of mutexes */
};

struct rd_leak_group {
    int kind;                /* enum rd_leak_kind */
    uint32_t site;           /* creation site: index + 1 into
                                rd_snapshot.site; 0 unknown */
    int wait_reason;         /* GRT_SHM_WAIT_* */
    uint64_t wait_obj;       /* channel / mutex address; 0 */
    size_t n;                /* goroutines in the group */
    int64_t *goids;          /* n ids, ascending */
    size_t *gidx;            /* n indexes into rd_snapshot.g */
    int64_t min_wait_ns, max_wait_ns;
};

struct rd_leaks {
    struct rd_leak_group *groups; /* proven first, then by size, desc */
    size_t ngroups;
    size_t nsuspected, nproven;   /* goroutines, not groups */
    bool all_asleep;
    int64_t *cycle;               /* goids of the first mutex cycle found,
                                     in wait-for order (a waits for a
                                     mutex held by b, ...); NULL */
    size_t ncycle;
    int64_t longest_wait_ns;      /* of any blocked goroutine */
};

/* Analyse s with threshold_ns (<= 0: RD_LEAK_THRESHOLD_NS) at time now
 * (CLOCK_MONOTONIC ns; s->taken_mono_ns is usual).  *out: rd_leaks_free. */
int rd_leaks_find(const struct rd_snapshot *s, int64_t threshold_ns,
                  int64_t now, struct rd_leaks **out);
void rd_leaks_free(struct rd_leaks *l);

#ifdef __cplusplus
}
#endif

#endif /* GRT_READER_LEAKS_H */
