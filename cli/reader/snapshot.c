/*
 * snapshot.c - a consistent copy of a target's state in plain structs,
 * and the sample ring read incrementally.
 *
 * Each record is copied under its seqlock (rd__read_record; G records
 * under their state word, grt_shm_g_read): at most GRT_SHM_READ_TRIES
 * attempts, never a wait, then "torn".  Records of one
 * table are not consistent with each other (there is no global lock: the
 * program never stops for us), but each one is: a goroutine is never
 * shown with the state of one moment and the wait reason of another.
 * Torn records get a second chance after the whole table was read, so
 * only one that is being written at both moments stays torn.
 *
 * Cost: one pass over each table's slots up to its count, 8-byte loads
 * only; no system call but the fstat that checks the file did not
 * shrink.  100,000 goroutines take a few milliseconds.
 */
#include "config.h"

#include "reader_int.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A growable array of n elements of size sz. */
static void *grow(void *p, size_t *cap, size_t n, size_t sz)
{
    if (n < *cap)
        return p;
    size_t nc = *cap ? *cap * 2 : 64;
    if (nc > SIZE_MAX / sz)
        return NULL;
    void *q = realloc(p, nc * sz);
    if (q)
        *cap = nc;
    return q;
}

static void fill_g(struct rd_g *o, const struct grt_shm_g *r, uint32_t slot)
{
    memset(o, 0, sizeof *o);
    o->slot = slot;
    o->status = (int)(r->state & 0xff);
    o->wait_reason = (int)((r->state >> 8) & 0xff);
    o->goid = r->goid;
    o->wait_since = r->wait_since;
    o->wait_obj = r->wait_obj;
    o->m_id = r->m_id;
    o->p_id = r->p_id;
    o->parent_goid = r->parent_goid;
    o->start_ns = r->start_ns;
    o->site = r->site;
    o->flags = r->flags;
    o->stack_reserved = r->stack_reserved;
    o->stack_committed = r->stack_committed;
    rd__copy_str(o->name, r->name, sizeof o->name);
    o->wait_owner = r->wait_owner;
    o->unlock_ns = r->unlock_ns;
}

static int read_goroutines(const struct rd_layout *lay, struct rd_snapshot *s)
{
    uint64_t count;
    int rc = rd__table_count(lay, GRT_SHM_T_G, &count);
    if (rc != RD_OK)
        return rc;
    size_t cap = 0;
    uint32_t *torn = NULL;
    size_t ntorn = 0, torncap = 0;
    for (uint64_t i = 0; i < count; i++) {
        struct grt_shm_g r;
        int ok = grt_shm_g_read((const void *)rd__rec(lay, GRT_SHM_T_G, i), &r,
                                sizeof r);
        if (ok == 0)
            continue;
        if (ok < 0) {
            uint32_t *nt = grow(torn, &torncap, ntorn, sizeof *torn);
            if (!nt)
                goto fail_nomem;
            torn = nt;
            torn[ntorn++] = (uint32_t)i;
            continue;
        }
        uint32_t st = r.state & 0xff;
        if (st == GRT_SHM_G_DEAD || st == GRT_SHM_G_IDLE)
            continue;
        struct rd_g *ng = grow(s->g, &cap, s->ng, sizeof *ng);
        if (!ng)
            goto fail_nomem;
        s->g = ng;
        fill_g(&s->g[s->ng++], &r, (uint32_t)i);
    }
    /* second chance for the torn ones */
    for (size_t k = 0; k < ntorn; k++) {
        struct grt_shm_g r;
        int ok = grt_shm_g_read(
            (const void *)rd__rec(lay, GRT_SHM_T_G, torn[k]), &r, sizeof r);
        uint32_t st = r.state & 0xff;
        if (ok == 1 && (st == GRT_SHM_G_DEAD || st == GRT_SHM_G_IDLE))
            continue;
        if (ok == 0)
            continue;
        struct rd_g *ng = grow(s->g, &cap, s->ng, sizeof *ng);
        if (!ng)
            goto fail_nomem;
        s->g = ng;
        struct rd_g *o = &s->g[s->ng++];
        if (ok == 1) {
            fill_g(o, &r, torn[k]);
        } else {
            memset(o, 0, sizeof *o);
            o->slot = torn[k];
            o->torn = true;
            s->ntorn++;
        }
    }
    free(torn);
    return RD_OK;
fail_nomem:
    free(torn);
    return RD_ENOMEM;
}

static int read_ms(const struct rd_layout *lay, struct rd_snapshot *s)
{
    uint64_t count;
    int rc = rd__table_count(lay, GRT_SHM_T_M, &count);
    if (rc != RD_OK)
        return rc;
    s->m = calloc(count ? count : 1, sizeof *s->m);
    if (!s->m)
        return RD_ENOMEM;
    for (uint64_t i = 0; i < count; i++) {
        struct grt_shm_m r;
        int ok = rd__read_record(rd__rec(lay, GRT_SHM_T_M, i), &r,
                                 sizeof r);
        s->ntorn_other += ok < 0;
        if (ok != 1)
            continue;
        struct rd_m *o = &s->m[s->nm++];
        o->id = r.id;
        o->tid = r.tid;
        o->p_id = r.p_id;
        o->curg = r.curg;
        o->lockedg = r.lockedg;
        o->flags = r.flags;
        o->updated_ns = r.updated_ns;
    }
    return RD_OK;
}

static int read_ps(const struct rd_layout *lay, struct rd_snapshot *s)
{
    uint64_t count;
    int rc = rd__table_count(lay, GRT_SHM_T_P, &count);
    if (rc != RD_OK)
        return rc;
    s->p = calloc(count ? count : 1, sizeof *s->p);
    if (!s->p)
        return RD_ENOMEM;
    for (uint64_t i = 0; i < count; i++) {
        struct grt_shm_p r;
        int ok = rd__read_record(rd__rec(lay, GRT_SHM_T_P, i), &r,
                                 sizeof r);
        s->ntorn_other += ok < 0;
        if (ok != 1)
            continue;
        struct rd_p *o = &s->p[s->np++];
        o->id = r.id;
        o->status = (int)r.status;
        o->m_id = r.m_id;
        o->runq = r.runq;
        o->runnext = r.runnext;
        o->ntimers = r.ntimers;
        o->ngfree = r.ngfree;
        o->schedtick = r.schedtick;
        o->ctxswitches = r.ctxswitches;
        o->steals = r.steals;
        o->created = r.created;
        o->exited = r.exited;
        o->preemptions = r.preemptions;
        o->syscalls = r.syscalls;
        o->timer0_when = r.timer0_when;
        o->updated_ns = r.updated_ns;
    }
    return RD_OK;
}

static int read_chans(const struct rd_layout *lay, struct rd_snapshot *s)
{
    uint64_t count;
    int rc = rd__table_count(lay, GRT_SHM_T_CHAN, &count);
    if (rc != RD_OK)
        return rc;
    s->chan = calloc(count ? count : 1, sizeof *s->chan);
    if (!s->chan)
        return RD_ENOMEM;
    for (uint64_t i = 0; i < count; i++) {
        struct grt_shm_chan r;
        int ok = rd__read_record(rd__rec(lay, GRT_SHM_T_CHAN, i), &r,
                                 sizeof r);
        s->ntorn_other += ok < 0;
        if (ok != 1 || !(r.flags & GRT_SHM_CF_LIVE))
            continue;
        struct rd_chan *o = &s->chan[s->nchan++];
        o->addr = r.addr;
        o->flags = r.flags;
        o->elem_size = r.elem_size;
        o->cap = r.cap;
        o->len = r.len;
        o->nsend = r.nsend;
        o->nrecv = r.nrecv;
        o->oldest_wait = r.oldest_wait;
        o->updated_ns = r.updated_ns;
        rd__copy_str(o->name, r.name, sizeof o->name);
    }
    return RD_OK;
}

static int read_sites(const struct rd_layout *lay, struct rd_snapshot *s)
{
    uint64_t count;
    int rc = rd__table_count(lay, GRT_SHM_T_SITE, &count);
    if (rc != RD_OK)
        return rc;
    /* indexed by site - 1: keep every slot, empty when unreadable */
    s->site = calloc(count ? count : 1, sizeof *s->site);
    if (!s->site)
        return RD_ENOMEM;
    s->nsite = count;
    for (uint64_t i = 0; i < count; i++) {
        struct grt_shm_site r;
        int ok = rd__read_record(rd__rec(lay, GRT_SHM_T_SITE, i), &r,
                                 sizeof r);
        s->ntorn_other += ok < 0;
        if (ok != 1)
            continue;
        struct rd_site *o = &s->site[i];
        o->line = r.line;
        rd__copy_str(o->fn, r.fn, sizeof o->fn);
        rd__copy_str(o->caller, r.caller, sizeof o->caller);
        rd__copy_str(o->file, r.file, sizeof o->file);
    }
    return RD_OK;
}

static void fill_sample(struct rd_sample *o, const struct grt_shm_sample *r,
                        uint32_t version)
{
    o->index = r->index;
    o->mono_ns = r->mono_ns;
    o->real_ns = r->real_ns;
    o->goroutines = r->goroutines;
    o->threads = r->threads;
    o->maxprocs = r->maxprocs;
    o->ncpu = r->ncpu;
    o->created = r->created;
    o->exited = r->exited;
    o->ctxswitches = r->ctxswitches;
    o->steals = r->steals;
    o->preemptions = r->preemptions;
    o->syscalls = r->syscalls;
    o->stack_inuse = r->stack_inuse;
    o->stack_sys = r->stack_sys;
    o->heap_alloc = r->heap_alloc;
    o->heap_sys = r->heap_sys;
    o->idle_ps = r->idle_ps;
    o->spinning_ms = r->spinning_ms;
    o->global_runq = r->global_runq;
    o->states_ns = r->states_ns;
    memcpy(o->nstate, r->nstate, sizeof o->nstate);
    memcpy(o->nwait, r->nwait, sizeof o->nwait);
    o->dropped_g = r->dropped_g;
    o->dropped_chan = r->dropped_chan;
    o->dropped_site = r->dropped_site;
    o->dumps = r->dumps;
    o->tick_ns = r->tick_ns;
    /* zero is a valid frees: the version says whether they are there */
    o->have_objects = version >= 3;
    o->mallocs = o->have_objects ? r->mallocs : 0;
    o->frees = o->have_objects ? r->frees : 0;
    o->total_alloc = o->have_objects ? r->total_alloc : 0;
}

/* Read sample index i; 1 ok, 0 lapped or unwritten, -1 torn. */
static int read_sample(const struct rd_layout *lay, uint64_t i,
                       struct rd_sample *out)
{
    uint32_t cap = lay->t[GRT_SHM_T_SAMPLES].cap;
    struct grt_shm_sample r;
    int ok = rd__read_record(rd__rec(lay, GRT_SHM_T_SAMPLES, i & (cap - 1)),
                             &r, sizeof r);
    if (ok != 1)
        return ok;
    if (r.index != i)
        return 0;
    fill_sample(out, &r, lay->hdr.version);
    return 1;
}

static int read_info(const struct rd_layout *lay, struct rd_snapshot *s)
{
    struct grt_shm_info *info = malloc(sizeof *info);
    if (!info)
        return RD_ENOMEM;
    grt_shm_copy_words(info, rd__rec(lay, GRT_SHM_T_INFO, 0), sizeof *info);
    rd__copy_str(s->name, info->name, sizeof s->name);
    rd__copy_str(s->exe, info->exe, sizeof s->exe);
    rd__copy_str(s->grt_version, info->version, sizeof s->grt_version);
    for (int i = 0; i < 8; i++)
        rd__copy_str(s->status_name[i], info->status_name[i],
                     sizeof s->status_name[i]);
    for (int i = 0; i < 32; i++)
        rd__copy_str(s->wait_name[i], info->wait_name[i],
                     sizeof s->wait_name[i]);
    /* argv: count the arguments ourselves, within the field */
    size_t len = info->cmdline_len;
    if (len > sizeof info->cmdline)
        len = sizeof info->cmdline;
    int argc = 0;
    for (size_t i = 0; i < len; i++)
        if (info->cmdline[i] == 0)
            argc++;
    s->argv = calloc((size_t)argc + 1, sizeof *s->argv);
    char *strs = malloc(len + 1);
    if (!s->argv || !strs) {
        free(strs);
        free(info);
        return RD_ENOMEM;
    }
    memcpy(strs, info->cmdline, len);
    strs[len] = 0;
    size_t at = 0;
    for (int k = 0; k < argc; k++) {
        s->argv[k] = strs + at;
        at += strlen(strs + at) + 1;
    }
    if (argc == 0)
        free(strs); /* argv[0] == NULL: nothing owns strs */
    s->argc = argc;
    free(info);
    return RD_OK;
}

int rd_snapshot_take(struct rd_target *t, struct rd_snapshot **out)
{
    *out = NULL;
    if (!t)
        return RD_EINVAL;
    if (t->fd >= 0) {
        struct stat st;
        if (fstat(t->fd, &st) != 0)
            return RD_ESYS;
        if ((size_t)st.st_size < t->map_size)
            return RD_ETRUNCATED;
    }
    struct rd_snapshot *s = calloc(1, sizeof *s);
    if (!s)
        return RD_ENOMEM;
    const struct rd_layout *lay = &t->lay;
    const struct grt_shm_header *live = (const void *)lay->base;
    s->pid = (int)lay->hdr.pid;
    s->version = lay->hdr.version;
    s->flags = __atomic_load_n(&live->flags, __ATOMIC_ACQUIRE);
    s->start_ticks = lay->hdr.start_ticks;
    s->created_mono_ns = lay->hdr.created_mono_ns;
    s->created_real_ns = lay->hdr.created_real_ns;
    s->heartbeat_ns = __atomic_load_n(&live->heartbeat_ns, __ATOMIC_RELAXED);
    s->taken_mono_ns = rd__mono();
    int rc = read_info(lay, s);
    if (rc == RD_OK) {
        uint64_t head;
        rc = rd__table_count(lay, GRT_SHM_T_SAMPLES, &head);
        if (rc == RD_OK && head > 0)
            s->have_stats = read_sample(lay, head - 1, &s->stats) == 1;
    }
    if (rc == RD_OK)
        rc = read_goroutines(lay, s);
    if (rc == RD_OK)
        rc = read_ms(lay, s);
    if (rc == RD_OK)
        rc = read_ps(lay, s);
    if (rc == RD_OK)
        rc = read_chans(lay, s);
    if (rc == RD_OK)
        rc = read_sites(lay, s);
    if (rc != RD_OK) {
        rd_snapshot_free(s);
        return rc;
    }
    *out = s;
    return RD_OK;
}

void rd_snapshot_free(struct rd_snapshot *s)
{
    if (!s)
        return;
    if (s->argv) {
        free(s->argv[0]);
        free(s->argv);
    }
    free(s->g);
    free(s->m);
    free(s->p);
    free(s->chan);
    free(s->site);
    free(s);
}

const char *rd_status_name(const struct rd_snapshot *s, int status)
{
    if (!s || status < 0 || status >= 8 || !s->status_name[status][0])
        return "?";
    return s->status_name[status];
}

const char *rd_wait_name(const struct rd_snapshot *s, int reason)
{
    if (!s || reason < 0 || reason >= 32)
        return "?";
    return s->wait_name[reason];
}

const char *rd_public_call(const char *func, int reason)
{
    if (!func || strcmp(func, "grt__chan_block") != 0)
        return NULL;
    return reason == GRT_SHM_WAIT_CHAN_SEND ? "grt_chan_send" : "grt_chan_recv";
}

const char *rd_wait_obj_kind(int reason)
{
    switch (reason) {
    case GRT_SHM_WAIT_CHAN_RECV:
    case GRT_SHM_WAIT_CHAN_SEND:
    case GRT_SHM_WAIT_SELECT:
        return "chan";
    case GRT_SHM_WAIT_MUTEX_LOCK:
        return "mutex";
    case GRT_SHM_WAIT_RWMUTEX_LOCK:
    case GRT_SHM_WAIT_RWMUTEX_RLOCK:
        return "rwmutex";
    case GRT_SHM_WAIT_WAITGROUP:
        return "waitgroup";
    case GRT_SHM_WAIT_COND:
        return "cond";
    case GRT_SHM_WAIT_IO:
        return "fd";
    default:
        return NULL;
    }
}

int rd_samples_read(struct rd_target *t, uint64_t *cursor,
                    struct rd_sample *out, size_t max, size_t *n,
                    uint64_t *lost)
{
    *n = 0;
    if (!t || !cursor || (!out && max))
        return RD_EINVAL;
    const struct rd_layout *lay = &t->lay;
    uint64_t head;
    int rc = rd__table_count(lay, GRT_SHM_T_SAMPLES, &head);
    if (rc != RD_OK)
        return rc;
    uint64_t cap = lay->t[GRT_SHM_T_SAMPLES].cap;
    uint64_t oldest = head > cap ? head - cap : 0;
    if (*cursor > head)
        *cursor = head; /* a cursor from the future: start over */
    if (*cursor < oldest) {
        if (lost)
            *lost += oldest - *cursor;
        *cursor = oldest;
    }
    while (*cursor < head && *n < max) {
        int ok = read_sample(lay, *cursor, &out[*n]);
        if (ok == 1)
            (*n)++;
        else if (lost)
            (*lost)++; /* overwritten (lapped) while we read */
        (*cursor)++;
    }
    return RD_OK;
}
