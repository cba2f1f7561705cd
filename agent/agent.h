/*
 * agent.h - the runtime's hooks into the agent (agent/), which publishes
 * live state to the shared-memory segment (include/grt/shm_abi.h,
 * docs/shm-abi.md).
 *
 * Every G struct owns one record in the segment's G table (or, when the
 * agent is off or the table is full, a private dummy record that nobody
 * reads), so the hot hook, agent_g_state, is the same straight-line code
 * whether publishing is on or off: one to three relaxed stores into gp's
 * own record and a release store of its state word, no lock, no
 * read-modify-write, no allocation, no branch on "agent on".  Everything
 * else (threads, processors, channels, samples) is refreshed by the
 * agent's own thread at 10 Hz, reading the runtime's structures the way
 * grt_read_memstats does.
 *
 * Measured (pingpong_p1, 2M round trips, 6 hook calls per round trip):
 * the hooks cost about 5 ns per round trip (84 -> 89 ns) whether the
 * agent is on or off (GRT_AGENT=0 writes into the dummy record).
 */
#ifndef GRT_AGENT_H
#define GRT_AGENT_H

#include "rt.h"
#include "chan.h"

#include "grt/shm_abi.h"

/* Once, at runtime start-up, on the initial thread, after the Ps, M0 and
 * goroutine 1 exist and before any other thread starts.  Creates the
 * segment and starts the agent's thread unless GRT_AGENT=0.  Never fails:
 * on error it says so once on stderr and leaves publishing off. */
HIDDEN void grt__agent_init(void);

/* At exit: remove the segment.  Async-signal-safe (also called from the
 * fatal-signal path); does nothing in a forked child or when called
 * again. */
HIDDEN void grt__agent_fini(void);

HIDDEN void grt__agent_g_alloc(struct g *gp);
HIDDEN void grt__agent_g_start(struct g *gp);
HIDDEN void grt__agent_chan_register(grt_chan *c);
HIDDEN void grt__agent_chan_free(grt_chan *c);

/* A G struct was just allocated (never freed; it may be reused for many
 * goroutines).  Called under no lock, on the creating goroutine (or at
 * start-up for goroutine 1).  Gives gp its G slot (or the dummy record):
 * takes the agent's grow lock briefly and, once per 512 slots, makes a
 * system call (fallocate) to back the next chunk of the table. */
static inline void agent_g_alloc(struct g *gp) { grt__agent_g_alloc(gp); }

/* gp->agent_flags: what gp's record already holds (publish.c) */
#define AGENT_F_NAME 0x1u  /* a non-empty name */
#define AGENT_F_STACK 0x2u /* stack_reserved of gp's stack */

/*
 * A goroutine was created in gp (goid, creation site, name, parent set;
 * status G_RUNNABLE).  Spawn path.  When gp's previous goroutine came from
 * the same site and neither has a name (a worker pool, a spawn loop),
 * only goid, parent, start time and the state change: four stores here.
 * Otherwise publish.c looks the site up (a hash probe; a copy of its
 * strings the first time) and writes the whole record.
 */
static inline void agent_g_start(struct g *gp)
{
    const struct g_cold *c = gp->cold;
    if (likely(c->agent_site_file == c->file && c->agent_site_line == c->line &&
               c->agent_site_fn == c->fn_name && c->agent_site != 0 &&
               gp->agent_flags == AGENT_F_STACK && c->name[0] == 0)) {
        struct grt_shm_g *r = gp->agent_rec;
        uint32_t gen = gp->agent_gen + 0x10000u;
        gp->agent_gen = gen;
        /* the record is DEAD or IDLE: none of these is in use */
        __atomic_thread_fence(__ATOMIC_RELEASE); /* (G1) */
        STORE_RLX(&r->goid, gp->goid);
        STORE_RLX(&r->parent_goid, c->parent_goid);
        STORE_RLX(&r->start_ns, c->start_ns);
        STORE_REL(&r->state, gen | (uint32_t)gp->wait_reason << 8 |
                                 LOAD_RLX(&gp->status)); /* (G2) */
        return;
    }
    grt__agent_g_start(gp);
}

/* An 8-byte store over the two int32 fields m_id and p_id. */
typedef uint64_t __attribute__((may_alias)) agent_u64_alias;

/*
 * gp's status, wait reason, wait object or M/P changed: parked
 * (G_WAITING), readied (G_RUNNABLE), running (G_RUNNING on gp->m), in a
 * blocking call (G_SYSCALL), exited (G_DEAD).  Hot: called twice per
 * switch.  Called by whoever owns gp at that moment (the scheduler never
 * lets two threads change one goroutine at once), so one writer per
 * record holds.
 *
 * The record's state word is its sequence word (shm_abi.h, grt_shm_g):
 * a field is written only while the published status does not use it,
 * then the new state is store-released.  The record is only written,
 * never read, here (the generation is kept in gp), so a record that
 * left the cache costs no stall.  Cost: readied, exited, yielding
 * one relaxed store and a release store of the state word (plain movs on
 * x86); running one more store (M and P ids, one 8-byte word); parking
 * two more (wait since, wait object), a new generation, and the saved pc
 * cleared (the context switch writes it again: a stack dump, dump.c,
 * thereby tells a goroutine whose registers are saved from one still on
 * its way out).  No lock, no read-modify-write, no allocation.
 */
/* The three shapes of agent_g_state, for callers that know the new
 * status: the hot paths (park, ready, execute) call these directly and
 * so skip the dispatch on a status they just stored. */

/* gp is now G_WAITING (wait_reason, wait_obj, wait_since set) or
 * G_SYSCALL (blocking call). */
static inline void agent_g_publish_wait(struct g *gp, uint32_t st)
{
    struct grt_shm_g *r = gp->agent_rec;
    uint32_t gen = gp->agent_gen + 0x10000u;
    gp->agent_gen = gen;
    __atomic_thread_fence(__ATOMIC_RELEASE); /* (G1) pairs with the
                                                reader's acquire fence */
    STORE_RLX(&r->wait_since, gp->wait_since);
    STORE_RLX(&r->wait_obj, (uint64_t)(uintptr_t)gp->wait_obj);
    if (st == G_WAITING)
        STORE_RLX(&gp->ctx.pc, (void *)0);
    /* (G2) the fields before the state; pairs with the reader's
     * load-acquire of state */
    STORE_REL(&r->state, gen | (uint32_t)gp->wait_reason << 8 | st);
}

/* gp now runs on mp, holding pp (NULL: none, as after a blocking call). */
static inline void agent_g_publish_running(struct g *gp, struct m *mp,
                                           struct p *pp)
{
    struct grt_shm_g *r = gp->agent_rec;
    uint64_t where = (uint32_t)mp->id |
                     (uint64_t)(uint32_t)(pp ? pp->id : -1) << 32;
    __atomic_thread_fence(__ATOMIC_RELEASE); /* (G1) */
    STORE_RLX((agent_u64_alias *)(void *)&r->m_id, where);
    STORE_REL(&r->state, gp->agent_gen | (uint32_t)gp->wait_reason << 8 |
                             G_RUNNING); /* (G2) */
}

/* gp's status is now st, one that uses no other field (G_RUNNABLE,
 * G_DEAD). */
static inline void agent_g_publish_plain(struct g *gp, uint32_t st)
{
    STORE_REL(&gp->agent_rec->state,
              gp->agent_gen | (uint32_t)gp->wait_reason << 8 | st); /* (G2) */
}

static inline void agent_g_state(struct g *gp)
{
    uint32_t st = LOAD_RLX(&gp->status);
    if (st == G_WAITING || st == G_SYSCALL)
        agent_g_publish_wait(gp, st);
    else if (st == G_RUNNING)
        agent_g_publish_running(gp, gp->m, gp->m->p);
    else
        agent_g_publish_plain(gp, st);
}

/*
 * gp (running, about to park on a mutex: sync.c's slow paths only) saw
 * owner as the mutex's holder (0: unknown).  Publishes it as the
 * record's wait_owner, and the time of gp's own last unlock of a mutex
 * with waiters as its unlock_ns (docs/shm-abi.md, "Mutex owners"): wait
 * fields, stored now, while the record's status is RUNNING, and made
 * visible by the release of the parking state word (G1, G2 in
 * agent_g_state).  Two relaxed stores, on the path that parks.
 */
static inline void agent_g_wait_owner(struct g *gp, int64_t owner)
{
    struct grt_shm_g *r = gp->agent_rec;
    STORE_RLX(&r->wait_owner, owner);
    STORE_RLX(&r->unlock_ns, gp->agent_unlock_ns);
}

/*
 * gp unlocked a mutex that had waiters (sync.c's unlock slow paths).
 * Kept in gp and published only when gp parks on a mutex: a reader needs
 * it only for a holder that is itself parked on one (a cycle).  One
 * relaxed load of the coarse clock and a store into gp; the fast unlock
 * path pays nothing.
 */
static inline void agent_g_unlocked(struct g *gp)
{
    gp->agent_unlock_ns = coarse_now();
}

/* An M was created (before its thread starts).  Nothing to do: the
 * sampler finds Ms on grt__sched.allm. */
static inline void agent_m_new(struct m *mp) { (void)mp; }

/*
 * A goroutine is about to block on c (chan.c, slow path, c->lock held).
 * The first time, c is registered in the channel table (takes the
 * agent's channel lock, which is only ever taken inside a channel lock,
 * never around one); after that it is one load and a predicted branch.
 */
static inline void agent_chan_block(grt_chan *c)
{
    if (unlikely(c->agent_slot == 0))
        grt__agent_chan_register(c);
}

/* c is being freed (grt_chan_free, before free()): drop its record.  No
 * lock held by the caller; takes the agent's channel lock. */
static inline void agent_chan_free(grt_chan *c)
{
    if (unlikely(c->agent_slot != 0))
        grt__agent_chan_free(c);
}

#endif /* GRT_AGENT_H */
