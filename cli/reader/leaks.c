/*
 * leaks.c - goroutine leak analysis of one snapshot (leaks.h): suspected
 * leaks by how long a goroutine has been blocked, proven ones by "the
 * whole program is asleep" and by wait-for cycles of mutex owners, all
 * grouped by creation site and blocking site.
 *
 * What one snapshot can prove.  G records are read one after the other,
 * not at one instant, so "every goroutine is parked" in a snapshot may be
 * false for a moment (A read parked, then woken by B, which parks before
 * it is read).  The claim is therefore made only when the agent's sampler
 * has refreshed every processor and thread after the last of those parks
 * (plus RD_LEAK_SLACK_NS for the coarse clock) and then found no
 * goroutine in a run queue or on a thread and no timer: A, woken by B
 * before B parked, would be in a run queue or running at that refresh
 * (or parked again, which the refresh's timers and the records' states
 * then describe).  Goroutines asleep in a sleep, an I/O wait or a
 * blocking call are pending work, not a deadlock.
 *
 * Mutex cycles.  A goroutine that parks on a mutex publishes the holder
 * it saw (rd_g.wait_owner); one that unlocks a mutex with waiters stamps
 * the time, published as rd_g.unlock_ns when it parks on a mutex in turn
 * (runtime/sync.c).  Any unlock of the mutex after the waiter looked
 * goes through that stamp, so the edge W -> X, X parked on a mutex, is
 * current while X.unlock_ns is older than W's park (W.wait_since, less the slack
 * for the coarse clock and the instants between W's look and its park).
 * Each waiter has at most one edge, so the graph is functional and its
 * cycles are found with one colouring walk.  Goroutines whose chain of
 * edges ends in a cycle wait for ever too, and are reported with it.
 * Rejected: asking the agent to read the mutexes at dump time (the
 * analysis must work from a snapshot alone, for gtop and the exporter).
 *
 * Pure computation on the snapshot: no I/O, no segment access.
 */
#include "config.h"

#include "leaks.h"

#include <stdlib.h>
#include <string.h>

bool rd_leak_reason(int reason)
{
    switch (reason) {
    case GRT_SHM_WAIT_CHAN_RECV:
    case GRT_SHM_WAIT_CHAN_SEND:
    case GRT_SHM_WAIT_CHAN_RECV_NIL:
    case GRT_SHM_WAIT_CHAN_SEND_NIL:
    case GRT_SHM_WAIT_SELECT:
    case GRT_SHM_WAIT_SELECT_NO_CASES:
    case GRT_SHM_WAIT_MUTEX_LOCK:
    case GRT_SHM_WAIT_RWMUTEX_RLOCK:
    case GRT_SHM_WAIT_RWMUTEX_LOCK:
    case GRT_SHM_WAIT_WAITGROUP:
    case GRT_SHM_WAIT_COND:
        return true;
    default:
        return false;
    }
}

const char *rd_leak_kind_name(int kind)
{
    switch (kind) {
    case RD_LEAK_SUSPECTED:
        return "suspected";
    case RD_LEAK_ASLEEP:
        return "all asleep";
    case RD_LEAK_CYCLE:
        return "mutex cycle";
    default:
        return "none";
    }
}

static bool mutex_reason(int reason)
{
    return reason == GRT_SHM_WAIT_MUTEX_LOCK ||
           reason == GRT_SHM_WAIT_RWMUTEX_LOCK ||
           reason == GRT_SHM_WAIT_RWMUTEX_RLOCK;
}

static bool parked(const struct rd_g *g)
{
    return !g->torn && g->status == GRT_SHM_G_WAITING;
}

/* Is the edge from waiter w to holder x current (file comment)? */
static bool edge_current(const struct rd_g *w, const struct rd_g *x)
{
    if (!parked(w) || !mutex_reason(w->wait_reason) || w->wait_owner == 0 ||
        !parked(x) || !mutex_reason(x->wait_reason) ||
        x->goid != w->wait_owner)
        return false;
    if (x->unlock_ns == 0)
        return true;
    return w->wait_since > 0 && x->unlock_ns < w->wait_since - RD_LEAK_SLACK_NS;
}

int64_t rd_leak_owner(const struct rd_snapshot *s, size_t gidx)
{
    if (!s || gidx >= s->ng)
        return 0;
    const struct rd_g *w = &s->g[gidx];
    if (!parked(w) || !mutex_reason(w->wait_reason) || w->wait_owner == 0)
        return 0;
    for (size_t j = 0; j < s->ng; j++)
        if (!s->g[j].torn && s->g[j].goid == w->wait_owner)
            return edge_current(w, &s->g[j]) ? w->wait_owner : 0;
    return 0;
}

/* ---- all asleep ---- */

static bool all_asleep(const struct rd_snapshot *s)
{
    if (s->ng == 0 || s->ntorn || s->ntorn_other || s->np == 0 ||
        (s->flags & GRT_SHM_F_EXITING))
        return false;
    int64_t last_park = 0;
    for (size_t i = 0; i < s->ng; i++) {
        const struct rd_g *g = &s->g[i];
        if (!parked(g) || !rd_leak_reason(g->wait_reason) || g->wait_since <= 0)
            return false;
        if (g->wait_since > last_park)
            last_park = g->wait_since;
    }
    int64_t after = last_park + RD_LEAK_SLACK_NS;
    size_t live_ps = 0;
    for (size_t i = 0; i < s->np; i++) {
        const struct rd_p *p = &s->p[i];
        if (p->status == GRT_SHM_P_DEAD)
            continue;
        live_ps++;
        if (p->updated_ns < after || p->status == GRT_SHM_P_RUNNING ||
            p->status == GRT_SHM_P_SYSCALL || p->runq || p->runnext ||
            p->ntimers || p->timer0_when)
            return false;
    }
    if (live_ps == 0)
        return false;
    for (size_t i = 0; i < s->nm; i++) {
        const struct rd_m *m = &s->m[i];
        if (m->flags & GRT_SHM_MF_EXITED)
            continue;
        if (m->updated_ns < after || m->curg != 0 ||
            (m->flags & GRT_SHM_MF_BLOCKED))
            return false;
    }
    if (s->have_stats &&
        (s->stats.mono_ns < after || s->stats.global_runq != 0))
        return false;
    return true;
}

/* ---- cycles ---- */

/* goid -> index into s->g, sorted by goid for bsearch */
struct byid {
    int64_t goid;
    size_t gidx;
};

static int cmp_byid(const void *pa, const void *pb)
{
    const struct byid *a = pa, *b = pb;
    return a->goid < b->goid ? -1 : a->goid > b->goid;
}

static size_t find_goid(const struct byid *byid, size_t n, int64_t goid)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (byid[mid].goid == goid)
            return byid[mid].gidx;
        if (byid[mid].goid < goid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return SIZE_MAX;
}

/* Walk the functional graph next[]: mark cycle members and those whose
 * chain ends in one in kind[] (RD_LEAK_CYCLE), record each cycle. */
static int find_cycles(const struct rd_snapshot *s, const size_t *next,
                       int *kind, struct rd_leaks *l)
{
    size_t n = s->ng;
    /* state: 0 new, 1 on the current walk (walk stamp in mark), 2 done
     * and not leading to a cycle, 3 done and in or into a cycle */
    unsigned char *state = calloc(n ? n : 1, 1);
    size_t *mark = calloc(n ? n : 1, sizeof *mark);
    size_t *path = malloc((n ? n : 1) * sizeof *path);
    if (!state || !mark || !path)
        goto fail;
    for (size_t start = 0; start < n; start++) {
        if (state[start])
            continue;
        size_t len = 0, v = start;
        while (v != SIZE_MAX && state[v] == 0) {
            state[v] = 1;
            mark[v] = start;
            path[len++] = v;
            v = next[v];
        }
        bool deadly = false;
        if (v != SIZE_MAX && state[v] == 1 && mark[v] == start) {
            /* a new cycle: path from v's position to the end */
            size_t at = 0;
            while (path[at] != v)
                at++;
            size_t clen = len - at;
            struct rd_leak_cycle *nc =
                realloc(l->cycles, (l->ncycles + 1) * sizeof *nc);
            if (!nc)
                goto fail;
            l->cycles = nc;
            int64_t *ids = malloc(clen * sizeof *ids);
            if (!ids)
                goto fail;
            /* rotate to start at the smallest goid */
            size_t best = 0;
            for (size_t k = 1; k < clen; k++)
                if (s->g[path[at + k]].goid < s->g[path[at + best]].goid)
                    best = k;
            for (size_t k = 0; k < clen; k++)
                ids[k] = s->g[path[at + (best + k) % clen]].goid;
            nc[l->ncycles].goids = ids;
            nc[l->ncycles].n = clen;
            l->ncycles++;
            deadly = true;
        } else if (v != SIZE_MAX && state[v] == 3) {
            deadly = true;
        }
        for (size_t k = 0; k < len; k++) {
            state[path[k]] = deadly ? 3 : 2;
            if (deadly)
                kind[path[k]] = RD_LEAK_CYCLE;
        }
    }
    free(state);
    free(mark);
    free(path);
    return RD_OK;
fail:
    free(state);
    free(mark);
    free(path);
    return RD_ENOMEM;
}

/* ---- grouping ---- */

struct item {
    size_t gidx;
    int kind;
    int64_t wait;
};

static int kind_rank(int kind)
{
    return kind == RD_LEAK_CYCLE ? 0 : kind == RD_LEAK_ASLEEP ? 1 : 2;
}

/* qsort has no context argument (qsort_r is not portable); one per
 * thread, so that threads may analyse different snapshots at once */
static __thread const struct rd_snapshot *group_snap;

static int cmp_item(const void *pa, const void *pb)
{
    const struct item *a = pa, *b = pb;
    const struct rd_g *ga = &group_snap->g[a->gidx],
                      *gb = &group_snap->g[b->gidx];
    if (a->kind != b->kind)
        return kind_rank(a->kind) - kind_rank(b->kind);
    if (ga->site != gb->site)
        return ga->site < gb->site ? -1 : 1;
    if (ga->wait_reason != gb->wait_reason)
        return ga->wait_reason - gb->wait_reason;
    return ga->goid < gb->goid ? -1 : ga->goid > gb->goid;
}

static int cmp_group(const void *pa, const void *pb)
{
    const struct rd_leak_group *a = pa, *b = pb;
    if (a->kind != b->kind)
        return kind_rank(a->kind) - kind_rank(b->kind);
    if (a->n != b->n)
        return a->n > b->n ? -1 : 1;
    if (a->site != b->site)
        return a->site < b->site ? -1 : 1;
    if (a->wait_reason != b->wait_reason)
        return a->wait_reason - b->wait_reason;
    return a->goids[0] < b->goids[0] ? -1 : a->goids[0] > b->goids[0];
}

static bool same_key(const struct rd_snapshot *s, const struct item *a,
                     const struct item *b)
{
    return a->kind == b->kind && s->g[a->gidx].site == s->g[b->gidx].site &&
           s->g[a->gidx].wait_reason == s->g[b->gidx].wait_reason;
}

/*
 * Everything but the groups: the mutex edges (l->owner), the cycles,
 * "all asleep", each goroutine's kind (l->kind) and the counts.  l comes
 * zeroed with l->ng = s->ng and kind and owner allocated; with items not
 * NULL (s->ng entries) the leaked goroutines are listed there too
 * (*nitems), for grouping.
 */
static int classify(const struct rd_snapshot *s, int64_t threshold_ns,
                    int64_t now, struct rd_leaks *l, struct item *items,
                    size_t *nitems)
{
    size_t n = s->ng;
    /* The wait-for edges through mutexes.  An edge only leads to a
     * goroutine parked on a mutex (edge_current), so only those are
     * looked up: the sort is over them, not over every goroutine. */
    size_t nid = 0, nwaiters = 0;
    for (size_t i = 0; i < n; i++)
        if (parked(&s->g[i]) && mutex_reason(s->g[i].wait_reason)) {
            nid++;
            nwaiters += s->g[i].wait_owner != 0;
        }
    if (nwaiters) {
        struct byid *byid = malloc(nid * sizeof *byid);
        size_t *next = malloc(n * sizeof *next);
        if (!byid || !next) {
            free(byid);
            free(next);
            return RD_ENOMEM;
        }
        nid = 0;
        for (size_t i = 0; i < n; i++)
            if (parked(&s->g[i]) && mutex_reason(s->g[i].wait_reason))
                byid[nid++] = (struct byid){.goid = s->g[i].goid, .gidx = i};
        qsort(byid, nid, sizeof *byid, cmp_byid);
        for (size_t i = 0; i < n; i++) {
            next[i] = SIZE_MAX;
            const struct rd_g *w = &s->g[i];
            if (!parked(w) || !mutex_reason(w->wait_reason) || !w->wait_owner)
                continue;
            size_t j = find_goid(byid, nid, w->wait_owner);
            if (j != SIZE_MAX && edge_current(w, &s->g[j])) {
                l->owner[i] = w->wait_owner;
                next[i] = j;
            }
        }
        int rc = find_cycles(s, next, l->kind, l);
        free(byid);
        free(next);
        if (rc != RD_OK)
            return rc;
        if (l->ncycles) {
            l->cycle = l->cycles[0].goids;
            l->ncycle = l->cycles[0].n;
        }
    }

    l->all_asleep = all_asleep(s);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const struct rd_g *g = &s->g[i];
        if (!parked(g))
            continue;
        int64_t wait = g->wait_since > 0 && now > g->wait_since
                           ? now - g->wait_since
                           : 0;
        if (rd_leak_reason(g->wait_reason) && wait > l->longest_wait_ns)
            l->longest_wait_ns = wait;
        int kind = l->kind[i];
        if (!kind && l->all_asleep)
            kind = RD_LEAK_ASLEEP;
        if (!kind && rd_leak_reason(g->wait_reason) && g->wait_since > 0 &&
            wait >= threshold_ns)
            kind = RD_LEAK_SUSPECTED;
        l->kind[i] = kind;
        if (!kind)
            continue;
        if (kind == RD_LEAK_SUSPECTED)
            l->nsuspected++;
        else
            l->nproven++;
        if (items)
            items[k++] = (struct item){.gidx = i, .kind = kind, .wait = wait};
    }
    if (nitems)
        *nitems = k;
    return RD_OK;
}

/* A zeroed analysis of s with its per-goroutine arrays; NULL: no memory. */
static struct rd_leaks *leaks_new(const struct rd_snapshot *s)
{
    struct rd_leaks *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->ng = s->ng;
    l->kind = calloc(s->ng ? s->ng : 1, sizeof *l->kind);
    l->owner = calloc(s->ng ? s->ng : 1, sizeof *l->owner);
    if (!l->kind || !l->owner) {
        rd_leaks_free(l);
        return NULL;
    }
    return l;
}

int rd_leaks_find(const struct rd_snapshot *s, int64_t threshold_ns,
                  int64_t now, struct rd_leaks **out)
{
    if (!s || !out)
        return RD_EINVAL;
    *out = NULL;
    if (threshold_ns <= 0)
        threshold_ns = RD_LEAK_THRESHOLD_NS;
    size_t n = s->ng;
    struct rd_leaks *l = leaks_new(s);
    struct item *items = malloc((n ? n : 1) * sizeof *items);
    size_t nitems = 0;
    if (!l || !items)
        goto fail_nomem;
    if (classify(s, threshold_ns, now, l, items, &nitems) != RD_OK)
        goto fail_nomem;

    /* group by (kind, creation site, wait reason) */
    group_snap = s;
    qsort(items, nitems, sizeof *items, cmp_item);
    size_t ngroups = 0;
    for (size_t i = 0; i < nitems; i++)
        if (i == 0 || !same_key(s, &items[i - 1], &items[i]))
            ngroups++;
    l->groups = calloc(ngroups ? ngroups : 1, sizeof *l->groups);
    if (!l->groups)
        goto fail_nomem;
    for (size_t i = 0; i < nitems;) {
        size_t j = i + 1;
        while (j < nitems && same_key(s, &items[i], &items[j]))
            j++;
        struct rd_leak_group *gr = &l->groups[l->ngroups];
        const struct rd_g *g0 = &s->g[items[i].gidx];
        gr->kind = items[i].kind;
        gr->site = g0->site;
        gr->wait_reason = g0->wait_reason;
        gr->n = j - i;
        gr->goids = malloc(gr->n * sizeof *gr->goids);
        gr->gidx = malloc(gr->n * sizeof *gr->gidx);
        if (!gr->goids || !gr->gidx) {
            free(gr->goids);
            free(gr->gidx);
            goto fail_nomem;
        }
        l->ngroups++;
        gr->wait_obj = g0->wait_obj;
        gr->min_wait_ns = gr->max_wait_ns = items[i].wait;
        for (size_t k = i; k < j; k++) {
            const struct rd_g *g = &s->g[items[k].gidx];
            gr->goids[k - i] = g->goid;
            gr->gidx[k - i] = items[k].gidx;
            if (g->wait_obj != gr->wait_obj)
                gr->wait_obj = 0;
            if (items[k].wait < gr->min_wait_ns)
                gr->min_wait_ns = items[k].wait;
            if (items[k].wait > gr->max_wait_ns)
                gr->max_wait_ns = items[k].wait;
        }
        i = j;
    }
    qsort(l->groups, l->ngroups, sizeof *l->groups, cmp_group);
    free(items);
    *out = l;
    return RD_OK;

fail_nomem:
    free(items);
    rd_leaks_free(l);
    return RD_ENOMEM;
}

int rd_leaks_count(const struct rd_snapshot *s, int64_t threshold_ns,
                   int64_t now, struct rd_leak_counts *out)
{
    if (!s || !out)
        return RD_EINVAL;
    memset(out, 0, sizeof *out);
    if (threshold_ns <= 0)
        threshold_ns = RD_LEAK_THRESHOLD_NS;
    struct rd_leaks *l = leaks_new(s);
    if (!l)
        return RD_ENOMEM;
    int rc = classify(s, threshold_ns, now, l, NULL, NULL);
    if (rc == RD_OK) {
        out->nsuspected = l->nsuspected;
        out->nproven = l->nproven;
        out->all_asleep = l->all_asleep;
        out->longest_wait_ns = l->longest_wait_ns;
        out->ncycles = l->ncycles;
    }
    rd_leaks_free(l);
    return rc;
}

void rd_leaks_free(struct rd_leaks *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->ngroups; i++) {
        free(l->groups[i].goids);
        free(l->groups[i].gidx);
    }
    free(l->groups);
    for (size_t i = 0; i < l->ncycles; i++)
        free(l->cycles[i].goids);
    free(l->cycles);
    free(l->kind);
    free(l->owner);
    free(l);
}
