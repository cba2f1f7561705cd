/*
 * publish.c - the segment's tables: G records written by the scheduler's
 * hooks, creation sites, channel registration, and the sampler's refresh
 * of M, P and channel records.
 *
 * G records.  Each G struct gets a slot when it is allocated
 * (agent_g_alloc) and keeps it for ever, so a record is found by slot,
 * not searched for.  The record is then written only by whoever changes
 * the goroutine (agent_g_start, agent_g_state in agent.h), one writer at
 * a time; its state word serves as its sequence word (shm_abi.h,
 * grt_shm_g).  When the agent is off, or the table is full, the G writes
 * into a private dummy record instead: the hot path has no "is
 * publishing on" branch, only a store target.
 * Slots are handed out under grow_lock, which also backs (fallocate) the
 * table a chunk at a time before the published count covers a new slot.
 *
 * Creation sites are interned: (fn, file, line, caller) pointer keys in a
 * private open-addressing table with lock-free lookups (an entry's id is
 * store-released after its key), inserts under grow_lock; each site's
 * strings are copied once into the site table.  A G struct remembers its
 * last site, so a worker pool re-spawning the same function never looks.
 *
 * Channels.  A channel is registered the first time a goroutine blocks on
 * it (agent_chan_block, under the channel's lock) and dropped by
 * grt_chan_free.  The registry (chan_lock) maps slots to channels; the
 * sampler walks it under chan_lock, and refreshes each channel only if
 * trylock on its lock succeeds, so the sampler never waits inside
 * chan_lock for a channel lock while a blocking goroutine waits for
 * chan_lock inside that channel lock.
 *
 * M and P records are the sampler's alone: it walks grt__sched.allm and
 * grt__sched.allp (structures that are never freed) as grt_read_memstats
 * does.  Those reads race with the scheduler by
 * design: they are marked AGENT_RACY and read through RACY() (see
 * agent_int.h).
 */
#include "config.h"

#include "agent_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SITE_HASH (2 * AGENT_SITECAP) /* power of two */
#define STACKS_PER_TICK 256 /* committed-stack refreshes (a mincore each:
                               10,000 goroutines are refreshed every 4 s
                               for ~1% of a CPU) */
#define STACK_PROBE (256 * 1024)      /* mincore window, from the top */

#define SAME(a, b) ((int)(a) == (int)(b))
_Static_assert(SAME(GRT_SHM_G_IDLE, G_IDLE) &&
                   SAME(GRT_SHM_G_RUNNABLE, G_RUNNABLE) &&
                   SAME(GRT_SHM_G_RUNNING, G_RUNNING) &&
                   SAME(GRT_SHM_G_WAITING, G_WAITING) &&
                   SAME(GRT_SHM_G_SYSCALL, G_SYSCALL) &&
                   SAME(GRT_SHM_G_DEAD, G_DEAD),
               "G status values are ABI");
_Static_assert(SAME(GRT_SHM_WAIT_NONE, WAIT_NONE) &&
                   SAME(GRT_SHM_WAIT_CHAN_RECV, WAIT_CHAN_RECV) &&
                   SAME(GRT_SHM_WAIT_CHAN_SEND, WAIT_CHAN_SEND) &&
                   SAME(GRT_SHM_WAIT_CHAN_RECV_NIL, WAIT_CHAN_RECV_NIL) &&
                   SAME(GRT_SHM_WAIT_CHAN_SEND_NIL, WAIT_CHAN_SEND_NIL) &&
                   SAME(GRT_SHM_WAIT_SELECT, WAIT_SELECT) &&
                   SAME(GRT_SHM_WAIT_SELECT_NO_CASES, WAIT_SELECT_NO_CASES) &&
                   SAME(GRT_SHM_WAIT_SLEEP, WAIT_SLEEP) &&
                   SAME(GRT_SHM_WAIT_IO, WAIT_IO) &&
                   SAME(GRT_SHM_WAIT_MUTEX_LOCK, WAIT_MUTEX_LOCK) &&
                   SAME(GRT_SHM_WAIT_RWMUTEX_RLOCK, WAIT_RWMUTEX_RLOCK) &&
                   SAME(GRT_SHM_WAIT_RWMUTEX_LOCK, WAIT_RWMUTEX_LOCK) &&
                   SAME(GRT_SHM_WAIT_WAITGROUP, WAIT_WAITGROUP) &&
                   SAME(GRT_SHM_WAIT_COND, WAIT_COND) &&
                   SAME(GRT_SHM_WAIT_SYSCALL, WAIT_SYSCALL) &&
                   SAME(GRT_SHM_WAIT_PREEMPTED, WAIT_PREEMPTED) &&
                   WAIT_MAX <= GRT_SHM_NWAIT,
               "wait reasons are ABI");
_Static_assert(SAME(GRT_SHM_P_IDLE, P_IDLE) &&
                   SAME(GRT_SHM_P_RUNNING, P_RUNNING) &&
                   SAME(GRT_SHM_P_SYSCALL, P_SYSCALL) &&
                   SAME(GRT_SHM_P_GCSTOP, P_GCSTOP) &&
                   SAME(GRT_SHM_P_DEAD, P_DEAD),
               "P status values are ABI");

/* The record of G structs that have none in the segment.  Written by many
 * threads at once (relaxed atomics, so not a data race); never read. */
static struct grt_shm_g dummy_g __attribute__((aligned(CACHELINE)));

static spinlock grow_lock; /* slot allocation and table backing */
static uint32_t g_next;    /* (grow_lock) next G slot */
static size_t g_backed;    /* (grow_lock) bytes of the G table backed */
static bool g_full;        /* atomic: no more G slots, don't try */
static uint32_t site_next; /* (grow_lock) next site slot */
static size_t site_backed; /* (grow_lock) bytes of the site table */
static uint64_t dropped_g, dropped_chan, dropped_site; /* atomic */

struct site_key {
    const char *fn, *file, *caller; /* immutable once id is set */
    int32_t line;
    uint32_t id; /* site index + 1; store-release */
};
static struct site_key site_hash[SITE_HASH];

static spinlock chan_lock;                    /* the channel registry */
static grt_chan *chan_of[AGENT_CHANCAP];      /* (chan_lock) NULL: free */
static uint32_t chan_freelist[AGENT_CHANCAP]; /* (chan_lock) stack */
static uint32_t chan_nfree;                   /* (chan_lock) */
static uint32_t chan_next;                    /* (chan_lock) high-water */
static size_t chan_backed;                    /* (chan_lock) bytes backed */

static uint32_t stack_cursor; /* sampler only */

/* Back [0, need) of table t (under the caller's lock); *backed grows by
 * whole chunks. */
static bool back_table(int t, size_t *backed, size_t need)
{
    if (need <= *backed)
        return true;
    const struct grt_shm_table *e = &grt__agent.hdr->tables[t];
    size_t to = (need + AGENT_CHUNK - 1) / AGENT_CHUNK * AGENT_CHUNK;
    if (to > e->size)
        to = e->size;
    if (need > to || !grt__agent_commit(e->offset + *backed, to - *backed))
        return false;
    *backed = to;
    return true;
}

static void publish_count(int t, uint64_t n)
{
    /* (C1) the slot's backing and gtab entry come first; pairs with the
     * readers' load-acquire of count */
    STORE_REL(&grt__agent.hdr->tables[t].count, n);
}

/* Copy a string into a fixed field, NUL-padded; keep_tail keeps the end
 * of a string too long for it (file paths). */
static void put_str(char *dst, size_t len, const char *src, bool keep_tail)
{
    memset(dst, 0, len);
    if (!src)
        return;
    size_t n = strlen(src);
    if (n >= len) {
        if (keep_tail)
            src += n - (len - 1);
        n = len - 1;
    }
    memcpy(dst, src, n);
}

/* ---------------------------------------------------------------------
 * G slots and records
 * --------------------------------------------------------------------- */

void grt__agent_g_alloc(struct g *gp)
{
    struct agent *a = &grt__agent;
    struct grt_shm_g *r = &dummy_g;
    if (a->on && !LOAD_RLX(&g_full)) {
        lock(&grow_lock);
        uint32_t i = g_next;
        if (i < a->gcap &&
            back_table(GRT_SHM_T_G, &g_backed,
                       (size_t)(i + 1) * sizeof(struct grt_shm_g))) {
            g_next = i + 1;
            r = &a->g[i];
            STORE_REL(&a->gtab[i], gp);
            publish_count(GRT_SHM_T_G, i + 1);
        } else {
            STORE_RLX(&g_full, true);
        }
        unlock(&grow_lock);
    }
    if (r == &dummy_g && a->on)
        __atomic_fetch_add(&dropped_g, 1, __ATOMIC_RELAXED);
    gp->agent_rec = r;
}

uint32_t grt__agent_gcount(void)
{
    return (uint32_t)LOAD_ACQ(&grt__agent.hdr->tables[GRT_SHM_T_G].count);
}

static uint64_t hash_site(const struct g *gp)
{
    const struct g_cold *c = gp->cold;
    uint64_t h = (uint64_t)(uintptr_t)c->fn_name * UINT64_C(0x9E3779B97F4A7C15);
    h ^= (uint64_t)(uintptr_t)c->file * UINT64_C(0xC2B2AE3D27D4EB4F);
    h ^= (uint64_t)(uintptr_t)c->caller * UINT64_C(0x165667B19E3779F9);
    h ^= (uint64_t)(uint32_t)c->line * UINT64_C(0x27D4EB2F165667C5);
    return h ^ (h >> 29);
}

static bool key_is(const struct site_key *k, const struct g *gp)
{
    const struct g_cold *c = gp->cold;
    return k->fn == c->fn_name && k->file == c->file &&
           k->caller == c->caller && k->line == c->line;
}

/* Find or make the site of gp's creation; 0 when the table is full. */
static uint32_t site_lookup(const struct g *gp)
{
    uint64_t h = hash_site(gp);
    for (uint32_t n = 0; n < SITE_HASH; n++) {
        struct site_key *k = &site_hash[(h + n) & (SITE_HASH - 1)];
        uint32_t id = LOAD_ACQ(&k->id); /* (S2) pairs with (S1) */
        if (id == 0)
            break;
        if (key_is(k, gp))
            return id;
    }
    struct agent *a = &grt__agent;
    uint32_t id = 0;
    lock(&grow_lock);
    for (uint32_t n = 0; n < SITE_HASH; n++) {
        struct site_key *k = &site_hash[(h + n) & (SITE_HASH - 1)];
        if (k->id != 0) {
            if (key_is(k, gp)) {
                id = k->id;
                break;
            }
            continue;
        }
        uint32_t i = site_next;
        if (i >= AGENT_SITECAP ||
            !back_table(GRT_SHM_T_SITE, &site_backed,
                        (size_t)(i + 1) * sizeof(struct grt_shm_site)))
            break;
        site_next = i + 1;
        struct grt_shm_site rec;
        memset(&rec, 0, sizeof rec);
        rec.line = gp->cold->line;
        put_str(rec.fn, sizeof rec.fn, gp->cold->fn_name, false);
        put_str(rec.caller, sizeof rec.caller, gp->cold->caller, false);
        put_str(rec.file, sizeof rec.file, gp->cold->file, true);
        struct grt_shm_site *r = &a->site[i];
        uint32_t s = grt_shm_seq_write_begin(&r->seq);
        grt_shm_copy_words((char *)r + 8, (char *)&rec + 8, sizeof rec - 8);
        STORE_RLX(&r->line, rec.line);
        grt_shm_seq_write_end(&r->seq, s);
        publish_count(GRT_SHM_T_SITE, i + 1);
        k->fn = gp->cold->fn_name;
        k->file = gp->cold->file;
        k->caller = gp->cold->caller;
        k->line = gp->cold->line;
        id = i + 1;
        STORE_REL(&k->id, id); /* (S1) the key is complete */
        break;
    }
    unlock(&grow_lock);
    if (id == 0)
        __atomic_fetch_add(&dropped_site, 1, __ATOMIC_RELAXED);
    return id;
}

static uint32_t site_of(struct g *gp)
{
    struct g_cold *c = gp->cold;
    if (c->agent_site && c->agent_site_fn == c->fn_name &&
        c->agent_site_file == c->file && c->agent_site_caller == c->caller &&
        c->agent_site_line == c->line)
        return c->agent_site;
    /* off: no table to look in; remember the site anyway, with an id
     * nobody reads (the record is the private dummy), so that the next
     * goroutine from this site takes agent_g_start's short path */
    uint32_t id = grt__agent.on ? site_lookup(gp) : UINT32_MAX;
    c->agent_site_fn = c->fn_name;
    c->agent_site_file = c->file;
    c->agent_site_caller = c->caller;
    c->agent_site_line = c->line;
    c->agent_site = id;
    return id;
}

#define AF_NAME AGENT_F_NAME /* (agent.h) */
#define AF_STACK AGENT_F_STACK

static uint32_t next_gen(struct g *gp)
{
    uint32_t gen = gp->agent_gen + 0x10000u;
    if (gen == 0)
        gen = 0x10000u; /* a state word is never 0 once written */
    gp->agent_gen = gen;
    return gen;
}

/*
 * A goroutine starts in gp: write its creation fields, then the state
 * (RUNNABLE) with a new generation.  The record's published status is
 * DEAD or IDLE here (a fresh or recycled G struct), so no field written
 * is in use (shm_abi.h).  Spawn path: six stores, more only for a named
 * goroutine or a G struct's first goroutine; the wait and M/P fields are
 * not meaningful for RUNNABLE and are left for agent_g_state.
 */
static void write_start(struct g *gp, uint32_t site)
{
    struct grt_shm_g *r = gp->agent_rec;
    uint32_t gen = next_gen(gp);
    bool named = gp->cold->name[0] != 0;
    uint32_t flags =
        (named ? GRT_SHM_GF_NAMED : 0) | (gp == &grt__g1 ? GRT_SHM_GF_MAIN : 0);
    __atomic_thread_fence(__ATOMIC_RELEASE); /* (G1) */
    STORE_RLX(&r->flags, flags);
    STORE_RLX(&r->goid, gp->goid);
    STORE_RLX(&r->parent_goid, gp->cold->parent_goid);
    STORE_RLX(&r->start_ns, gp->cold->start_ns);
    STORE_RLX(&r->site, site);
    if (unlikely(named || (gp->agent_flags & AF_NAME))) {
        uint64_t name[4];
        memcpy(name, gp->cold->name, sizeof name);
        uint64_t *rn = (uint64_t *)r->name;
        for (int i = 0; i < 4; i++)
            STORE_RLX(&rn[i], name[i]);
        gp->agent_flags = (gp->agent_flags & ~AF_NAME) | (named ? AF_NAME : 0);
    }
    if (unlikely(!(gp->agent_flags & AF_STACK))) {
        /* a G struct keeps its stack for ever */
        uintptr_t pg = 4096, hi = ((uintptr_t)gp->stack_hi + pg - 1) & ~(pg - 1);
        uint64_t reserved = gp->stack_hi > gp->stack_lo
                                ? (uint64_t)(hi - (uintptr_t)gp->stack_lo)
                                : 0; /* the whole mapping, page-rounded */
        STORE_RLX(&r->stack_reserved, reserved);
        gp->agent_flags |= AF_STACK;
    }
    /* (G2) */
    STORE_REL(&r->state,
              gen | (uint32_t)gp->wait_reason << 8 | LOAD_RLX(&gp->status));
}

/* The whole record, for goroutine 1 at start-up (RUNNING on M0). */
static void write_all(struct g *gp, uint32_t site)
{
    struct grt_shm_g *r = gp->agent_rec;
    struct m *mp = gp->m;
    int32_t mid = -1, pid = -1;
    if (mp) {
        mid = (int32_t)mp->id;
        if (mp->p)
            pid = mp->p->id;
    }
    gp->agent_flags = 0;
    STORE_RLX(&r->wait_since, gp->wait_since);
    STORE_RLX(&r->wait_obj, (uint64_t)(uintptr_t)gp->wait_obj);
    STORE_RLX(&r->m_id, mid);
    STORE_RLX(&r->p_id, pid);
    STORE_RLX(&r->stack_committed, 0);
    write_start(gp, site);
}

void grt__agent_g_start(struct g *gp)
{
    write_start(gp, site_of(gp));
}

void grt__agent_publish_init(void)
{
    /* G structs made before the segment (goroutine 1): give them slots
     * and records now.  Start-up, one thread: no other G exists yet. */
    for (struct g *gp = LOAD_ACQ(&grt__sched.allg); gp; gp = gp->allnext) {
        grt__agent_g_alloc(gp);
        if (grt__agent.on) {
            gp->cold->agent_site = 0;
            write_all(gp, site_of(gp));
        }
    }
}

void grt__agent_publish_atfork_child(void)
{
    /* another thread may have held them at the fork; it is gone */
    STORE_RLX(&grow_lock.v, 0);
    STORE_RLX(&chan_lock.v, 0);
}

void grt__agent_dropped(uint64_t *g, uint64_t *chan, uint64_t *site)
{
    *g = LOAD_RLX(&dropped_g);
    *chan = LOAD_RLX(&dropped_chan);
    *site = LOAD_RLX(&dropped_site);
}

/* ---------------------------------------------------------------------
 * Channels
 * --------------------------------------------------------------------- */

/* Write a channel record; chan_lock held (one writer). */
static void write_chan(struct grt_shm_chan *r, const struct grt_shm_chan *v)
{
    uint32_t s = grt_shm_seq_write_begin(&r->seq);
    grt_shm_copy_words((char *)r + 8, (const char *)v + 8, sizeof *v - 8);
    STORE_RLX(&r->flags, v->flags);
    grt_shm_seq_write_end(&r->seq, s);
}

void grt__agent_chan_register(grt_chan *c)
{
    struct agent *a = &grt__agent;
    if (!a->on) {
        c->agent_slot = UINT32_MAX;
        return;
    }
    lock(&chan_lock);
    uint32_t slot = UINT32_MAX;
    if (chan_nfree) {
        slot = chan_freelist[--chan_nfree];
    } else if (chan_next < AGENT_CHANCAP &&
               back_table(GRT_SHM_T_CHAN, &chan_backed,
                          (size_t)(chan_next + 1) *
                              sizeof(struct grt_shm_chan))) {
        slot = chan_next++;
        publish_count(GRT_SHM_T_CHAN, chan_next);
    }
    if (slot == UINT32_MAX) {
        unlock(&chan_lock);
        c->agent_slot = UINT32_MAX;
        __atomic_fetch_add(&dropped_chan, 1, __ATOMIC_RELAXED);
        return;
    }
    chan_of[slot] = c;
    c->agent_slot = slot + 1;
    struct grt_shm_chan v;
    memset(&v, 0, sizeof v);
    v.flags = GRT_SHM_CF_LIVE | (c->closed ? GRT_SHM_CF_CLOSED : 0);
    v.addr = (uint64_t)(uintptr_t)c;
    v.elem_size = c->elem_size;
    v.cap = c->cap;
    v.len = c->qcount;
    v.updated_ns = coarse_now();
    memcpy(v.name, c->name, sizeof v.name);
    v.name[sizeof v.name - 1] = 0;
    write_chan(&a->chan[slot], &v);
    unlock(&chan_lock);
}

void grt__agent_chan_free(grt_chan *c)
{
    uint32_t slot = c->agent_slot;
    c->agent_slot = 0;
    if (slot == UINT32_MAX || slot == 0 || slot > AGENT_CHANCAP)
        return;
    slot--;
    lock(&chan_lock);
    if (chan_of[slot] == c) {
        chan_of[slot] = NULL;
        chan_freelist[chan_nfree++] = slot;
        struct grt_shm_chan v;
        memset(&v, 0, sizeof v);
        write_chan(&grt__agent.chan[slot], &v);
    }
    unlock(&chan_lock);
}

/* The waiters of a queue (c->lock held) and the oldest one's wait start.
 * The queue keeps its own count, so this reads only its head: the first
 * waiter that has not been won by another select case is the oldest
 * (FIFO).  Select waiters already won are still counted until they leave
 * (a moment later). */
AGENT_RACY static uint32_t count_waiters(struct waitq *q, int64_t *oldest)
{
    int k = 0;
    for (struct waiter *w = q->first; w && k < 8; w = w->next, k++) {
        struct g *gp = w->g;
        if (w->is_select && RACY(gp->select_done))
            continue; /* won by another case; leaves the queue soon */
        int64_t since = LOAD_RLX(&gp->agent_rec->wait_since);
        if (since && (*oldest == 0 || since < *oldest))
            *oldest = since;
        break;
    }
    return q->n;
}

AGENT_RACY void grt__agent_refresh_chans(int64_t now)
{
    struct agent *a = &grt__agent;
    lock(&chan_lock);
    for (uint32_t i = 0; i < chan_next; i++) {
        grt_chan *c = chan_of[i];
        if (!c)
            continue;
        struct grt_shm_chan v;
        struct grt_shm_chan *r = &a->chan[i];
        grt_shm_copy_words(&v, r, sizeof v); /* we are its only writer */
        if (!trylock(&c->lock)) {
            v.flags |= GRT_SHM_CF_STALE;
            write_chan(r, &v);
            continue;
        }
        int64_t oldest = 0;
        v.nrecv = count_waiters(&c->recvq, &oldest);
        v.nsend = count_waiters(&c->sendq, &oldest);
        v.len = c->qcount;
        v.flags = GRT_SHM_CF_LIVE | (c->closed ? GRT_SHM_CF_CLOSED : 0);
        memcpy(v.name, c->name, sizeof v.name);
        unlock(&c->lock);
        v.name[sizeof v.name - 1] = 0;
        v.oldest_wait = oldest;
        v.updated_ns = now;
        write_chan(r, &v);
    }
    unlock(&chan_lock);
}

/* ---------------------------------------------------------------------
 * M and P records (sampler)
 * --------------------------------------------------------------------- */

static void write_words(uint32_t *seq, const void *v, size_t size)
{
    uint32_t s = grt_shm_seq_write_begin(seq);
    grt_shm_copy_words((char *)seq + 8, (const char *)v + 8, size - 8);
    STORE_RLX(seq + 1, ((const uint32_t *)v)[1]);
    grt_shm_seq_write_end(seq, s);
}

AGENT_RACY void grt__agent_refresh_mp(int64_t now)
{
    struct agent *a = &grt__agent;
    uint64_t mcount = 0;
    struct m *head = RACY(grt__sched.allm);
    __atomic_thread_fence(__ATOMIC_ACQUIRE); /* pairs with newm's release */
    for (struct m *mp = head; mp; mp = RACY(mp->alllink)) {
        int64_t id = RACY(mp->id);
        if (id < 0 || id >= AGENT_MCAP)
            continue;
        struct grt_shm_m v;
        memset(&v, 0, sizeof v);
        struct g *cg = RACY(mp->curg);
        struct g *lg = RACY(mp->lockedg);
        struct p *pp = RACY(mp->p);
        v.flags = (RACY(mp->spinning) ? GRT_SHM_MF_SPINNING : 0) |
                  (RACY(mp->blocked) ? GRT_SHM_MF_BLOCKED : 0) |
                  (RACY(mp->on_midle) ? GRT_SHM_MF_IDLE : 0) |
                  (RACY(mp->exiting) ? GRT_SHM_MF_EXITED : 0) |
                  (lg ? GRT_SHM_MF_LOCKED : 0);
        v.id = id;
        v.tid = RACY(mp->tid);
        v.p_id = pp ? RACY(pp->id) : -1;
        v.curg = cg && !RACY(cg->is_g0) ? RACY(cg->goid) : 0;
        v.lockedg = lg ? RACY(lg->goid) : 0;
        v.updated_ns = now;
        write_words(&a->m[id].seq, &v, sizeof v);
        if ((uint64_t)id + 1 > mcount)
            mcount = (uint64_t)id + 1;
    }
    if (mcount > LOAD_RLX(&a->hdr->tables[GRT_SHM_T_M].count))
        publish_count(GRT_SHM_T_M, mcount);

    uint64_t pcount = 0;
    for (int i = 0; i < MAXPROCS_LIMIT && i < (int)AGENT_PCAP; i++) {
        struct p *pp = RACY(grt__sched.allp[i]);
        if (!pp)
            break;
        __atomic_thread_fence(__ATOMIC_ACQUIRE); /* pairs with p_alloc's */
        struct grt_shm_p v;
        memset(&v, 0, sizeof v);
        struct m *pm = RACY(pp->m);
        uint32_t h = RACY(pp->runq_head), t = RACY(pp->runq_tail);
        v.status = RACY(pp->status);
        v.id = RACY(pp->id);
        v.runq = t - h <= RUNQ_SIZE ? t - h : 0;
        v.m_id = pm ? RACY(pm->id) : -1;
        v.runnext = RACY(pp->runnext) != NULL;
        v.ntimers = (uint32_t)RACY(pp->tlen);
        v.schedtick = RACY(pp->schedtick);
        v.ctxswitches = RACY(pp->ctxswitches);
        v.steals = RACY(pp->steals);
        v.created = RACY(pp->created);
        v.exited = RACY(pp->exited);
        v.preemptions = RACY(pp->preemptions);
        v.syscalls = RACY(pp->syscalls);
        v.timer0_when = RACY(pp->timer0_when);
        v.ngfree = (uint32_t)RACY(pp->ngfree);
        v.updated_ns = now;
        write_words(&a->p[i].seq, &v, sizeof v);
        pcount = (uint64_t)i + 1;
    }
    if (pcount > LOAD_RLX(&a->hdr->tables[GRT_SHM_T_P].count))
        publish_count(GRT_SHM_T_P, pcount);
}

/* ---------------------------------------------------------------------
 * Committed stack bytes (sampler): a few thousand goroutines per tick,
 * round robin.  Stacks grow down from their top and are committed as they
 * are touched, so mincore looks at windows from the top down and stops at
 * the first window that is not wholly resident.
 * --------------------------------------------------------------------- */

static uint64_t resident_from_top(char *lo, char *hi)
{
    static unsigned char vec[STACK_PROBE / 4096];
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    /* hi need not be page aligned (the top of a stack holds a few words
     * of the runtime's): round up, or the page with the first frames,
     * often the only one touched, is never counted */
    uintptr_t top = ((uintptr_t)hi + page - 1) & ~(uintptr_t)(page - 1);
    uintptr_t bottom = ((uintptr_t)lo + page - 1) & ~(uintptr_t)(page - 1);
    uint64_t total = 0;
    size_t win = page * (sizeof vec < STACK_PROBE / page ? sizeof vec
                                                         : STACK_PROBE / page);
    while (top > bottom) {
        uintptr_t from = top - bottom > win ? top - win : bottom;
        size_t pages = (top - from) / page;
        if (mincore((void *)from, top - from, vec) != 0) {
            /* ENOMEM: part of the window is not mapped (the main
             * thread's stack grows its mapping on demand); look closer */
            if (errno == ENOMEM && win > page) {
                win /= 2;
                continue;
            }
            break;
        }
        size_t n = 0;
        for (size_t i = 0; i < pages; i++)
            n += vec[i] & 1;
        total += (uint64_t)n * page;
        if (n < pages)
            break; /* the touched part ends in this window: no second
                      mincore for the usual one-page stack */
        top = from;
    }
    return total;
}

AGENT_RACY void grt__agent_refresh_stacks(void)
{
    struct agent *a = &grt__agent;
    uint32_t n = grt__agent_gcount();
    if (n == 0)
        return;
    for (uint32_t k = 0; k < STACKS_PER_TICK && k < n; k++) {
        uint32_t i = stack_cursor++ % n;
        struct g *gp = LOAD_ACQ(&a->gtab[i]);
        struct grt_shm_g *r = &a->g[i];
        if (!gp)
            continue;
        uint32_t st = LOAD_ACQ(&r->state) & 0xff;
        if (st == G_DEAD || st == G_IDLE)
            continue;
        char *lo = RACY(gp->stack_lo), *hi = RACY(gp->stack_hi);
        if (!lo || hi <= lo)
            continue;
        STORE_RLX(&r->stack_committed, resident_from_top(lo, hi));
    }
    stack_cursor %= n;
}
