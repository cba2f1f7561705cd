/*
 * leaks.h - goroutine leak analysis of a snapshot, shared by gdump
 * --leaks, gtop's leaks view and grt-exporter's leak gauges.
 *
 * suspected: blocked on a channel, select, mutex, cond or wait group for
 *            longer than the threshold;
 * proven:    every goroutine is asleep with nothing pending (no runnable,
 *            running or in-call goroutine, no timer, no I/O wait: the
 *            program can never make progress), or the goroutine is part
 *            of a wait-for cycle of mutex owners (the cycle is reported),
 *            or waits for a mutex held by a goroutine that is.
 *
 * How much a snapshot proves (leaks.c says why):
 *   - "all asleep" needs the agent's sampler to have refreshed the
 *     processors (run queues, timers) and threads at least 10 ms after
 *     the last goroutine parked, and no torn record; until then it is
 *     not claimed.
 *   - a mutex edge "W waits for X" is the holder W saw as it parked
 *     (rd_g.wait_owner), taken as current only while X has unlocked no
 *     mutex with waiters since (rd_g.unlock_ns older than W.wait_since
 *     by 10 ms); a mutex unlocked by a goroutine other than the one that
 *     locked it (legal, as in Go) can still mislead it.
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
/* Margin for the runtime's coarse clock (wait_since, unlock_ns) and the
 * sampler's refresh in the proofs above. */
#define RD_LEAK_SLACK_NS (10LL * 1000000LL)

enum rd_leak_kind {
    RD_LEAK_SUSPECTED = 1, /* blocked longer than the threshold */
    RD_LEAK_ASLEEP = 2,    /* proven: the whole program is asleep */
    RD_LEAK_CYCLE = 3      /* proven: in a wait-for cycle of mutexes */
};

/* One wait-for cycle of mutex owners. */
struct rd_leak_cycle {
    int64_t *goids;          /* a waits for a mutex held by b, ..., the
                                last for one held by the first; starts at
                                the smallest goid */
    size_t n;                /* 1: a goroutine locking a mutex it holds */
};

struct rd_leak_group {
    int kind;                /* enum rd_leak_kind */
    uint32_t site;           /* creation site: index + 1 into
                                rd_snapshot.site; 0 unknown */
    int wait_reason;         /* GRT_SHM_WAIT_* */
    uint64_t wait_obj;       /* channel / mutex address when every
                                goroutine of the group waits on the same
                                one; 0 otherwise */
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
    /* added after the first version: */
    struct rd_leak_cycle *cycles; /* every cycle found (cycles[0] is
                                     cycle/ncycle); NULL */
    size_t ncycles;
    size_t ng;                    /* s->ng of the snapshot analysed */
    int *kind;                    /* ng entries, by index into s->g: its
                                     enum rd_leak_kind, 0 not a leak */
    int64_t *owner;               /* ng entries: rd_leak_owner of each */
};

/* Analyse s with threshold_ns (<= 0: RD_LEAK_THRESHOLD_NS) at time now
 * (CLOCK_MONOTONIC ns; s->taken_mono_ns is usual).  *out: rd_leaks_free. */
int rd_leaks_find(const struct rd_snapshot *s, int64_t threshold_ns,
                  int64_t now, struct rd_leaks **out);
void rd_leaks_free(struct rd_leaks *l);

/* What rd_leaks_find counts, without the groups and the per-goroutine
 * arrays (added after the first version). */
struct rd_leak_counts {
    size_t nsuspected, nproven;   /* goroutines, as in rd_leaks */
    bool all_asleep;
    int64_t longest_wait_ns;
    size_t ncycles;               /* wait-for cycles of mutexes found */
};

/*
 * The counts of rd_leaks_find(s, threshold_ns, now) alone, for callers
 * that need no list (grt-exporter's gauges): the same analysis, but no
 * goroutine is sorted or grouped, so it costs one pass over s->g plus the
 * mutex waiters' edges.  Errors: RD_EINVAL, RD_ENOMEM.
 */
int rd_leaks_count(const struct rd_snapshot *s, int64_t threshold_ns,
                   int64_t now, struct rd_leak_counts *out);

/*
 * The goid of the goroutine that s->g[gidx] waits for, through a mutex
 * it blocks on, when the snapshot shows that edge as current: the holder
 * is in s, parked on a mutex itself, and has unlocked no mutex with
 * waiters since (see above); 0 otherwise.  (rd_g.wait_owner is the raw
 * holder seen, current or not.)
 */
int64_t rd_leak_owner(const struct rd_snapshot *s, size_t gidx);

/* Is reason one a goroutine can leak in (channel, select, mutex,
 * RWMutex, cond, wait group)? */
bool rd_leak_reason(int reason);

/* "suspected", "all asleep", "mutex cycle". */
const char *rd_leak_kind_name(int kind);

#ifdef __cplusplus
}
#endif

#endif /* GRT_READER_LEAKS_H */
