/*
 * dump.c - stacks on request: the agent answers a reader's request (the
 * request page, shm_abi.h) by unwinding goroutines' saved contexts with
 * libunwind and writing their program counters, plus the loaded modules
 * a reader needs to symbolise them, into the dump area.
 *
 * The request page is written by readers, so it is hostile input: the
 * agent copies the request out with single loads, checks every field,
 * answers nonsense with GRT_SHM_DS_BADREQ, and only ever trusts its own
 * sizes.  A slot left CLAIMED by a reader that died is reset after 1 s.
 *
 * Goroutines are unwound by the shared unwinder (unwind.c, which says
 * how a goroutine is unwound safely while it may resume), one session
 * per dump.
 *
 * A goroutine on a CPU (RUNNING) is caught by SIGURG to its thread: the
 * preemption handler answers a catch request (grt__preempt_catch,
 * runtime/preempt.c) by unwinding the interrupted context, and the frames
 * come back flagged GRT_SHM_DG_CAUGHT.  The program's own dumps
 * (grt_dump) catch the same way at the same time: each M has its own
 * catch slot, claimed with a CAS.  Where that handler is not installed
 * (TSan builds, not x86-64) or the thread does not answer within 50 ms,
 * and for goroutines in a blocking call (SYSCALL: a signal would
 * interrupt their call), they are listed without frames
 * (GRT_SHM_DG_RUNNING).
 *
 * Without libunwind (configure --without-libunwind) requests are still
 * answered, with every goroutine listed and no frames
 * (GRT_SHM_DS_NOUNWIND).
 */
#include "config.h"

#include "agent_int.h"
#include "unwind.h"

#include <elf.h>
#include <errno.h>
#include <link.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_FRAMES_CAP 256
#define MAX_FRAMES_DEFAULT 64
#define CLAIM_TIMEOUT_NS 1000000000LL
#define MAX_MODULES 1024

static uint64_t answered;     /* atomic: requests answered */
static int64_t claimed_since; /* sampler only: CLAIMED first seen */

/* Loaded modules, collected at the start of each dump (sampler only). */
struct module {
    uint64_t bias, lo, hi; /* load bias; executable range */
    char path[PATH_MAX];
    unsigned char build_id[64];
    uint32_t build_id_len;
};
static struct module *modules;
static int nmodules;

/* Output being built (private buffers, copied into the area at the end). */
static struct grt_shm_dump_g *out_g;
static size_t out_ng, out_gcap;
static uint64_t *out_pc;
static size_t out_npc;
static size_t out_pccap;

bool grt__agent_dump_available(void)
{
#ifdef HAVE_LIBUNWIND
    return true;
#else
    return false;
#endif
}

uint64_t grt__agent_dumps_answered(void)
{
    return LOAD_RLX(&answered);
}

/* ---------------------------------------------------------------------
 * Modules
 * --------------------------------------------------------------------- */

static void note_build_id(struct module *m, const ElfW(Phdr) * ph,
                          uintptr_t bias)
{
    const unsigned char *p = (const unsigned char *)(bias + ph->p_vaddr);
    size_t left = ph->p_memsz;
    while (left >= sizeof(ElfW(Nhdr))) {
        const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
        size_t namesz = (nh->n_namesz + 3) & ~(size_t)3;
        size_t descsz = (nh->n_descsz + 3) & ~(size_t)3;
        size_t total = sizeof *nh + namesz + descsz;
        if (namesz > left || descsz > left || total > left)
            return;
        if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
            memcmp(p + sizeof *nh, "GNU", 4) == 0 &&
            nh->n_descsz <= sizeof m->build_id) {
            memcpy(m->build_id, p + sizeof *nh + namesz, nh->n_descsz);
            m->build_id_len = nh->n_descsz;
            return;
        }
        p += total;
        left -= total;
    }
}

static int module_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    (void)arg;
    if (nmodules >= MAX_MODULES)
        return 1;
    struct module *m = &modules[nmodules];
    memset(m, 0, sizeof *m);
    m->bias = info->dlpi_addr;
    m->lo = UINT64_MAX;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD) {
            if (ph->p_flags & PF_X) {
                if (lo < m->lo)
                    m->lo = lo;
                if (lo + ph->p_memsz > m->hi)
                    m->hi = lo + ph->p_memsz;
            }
        } else if (ph->p_type == PT_NOTE && !m->build_id_len) {
            note_build_id(m, ph, info->dlpi_addr);
        }
    }
    if (m->lo == UINT64_MAX)
        return 0; /* nothing executable */
    const char *name = info->dlpi_name;
    if (!name || !*name) {
        if (nmodules == 0) /* the main program comes first */
            snprintf(m->path, sizeof m->path, "%s", grt__agent.info->exe);
    } else {
        snprintf(m->path, sizeof m->path, "%s", name);
    }
    nmodules++;
    return 0;
}

static void collect_modules(void)
{
    if (!modules) {
        modules = calloc(MAX_MODULES, sizeof *modules);
        if (!modules)
            return;
    }
    nmodules = 0;
    dl_iterate_phdr(module_cb, NULL);
}

static bool out_frames_room(size_t n)
{
    if (out_npc + n <= out_pccap)
        return true;
    size_t cap = out_pccap ? out_pccap * 2 : 4096;
    while (cap < out_npc + n)
        cap *= 2;
    uint64_t *p = realloc(out_pc, cap * sizeof *p);
    if (!p)
        return false;
    out_pc = p;
    out_pccap = cap;
    return true;
}

static struct grt_shm_dump_g *out_g_new(void)
{
    if (out_ng == out_gcap) {
        size_t cap = out_gcap ? out_gcap * 2 : 1024;
        struct grt_shm_dump_g *p = realloc(out_g, cap * sizeof *p);
        if (!p)
            return NULL;
        out_g = p;
        out_gcap = cap;
    }
    struct grt_shm_dump_g *e = &out_g[out_ng++];
    memset(e, 0, sizeof *e);
    return e;
}

/* Read the record of slot i consistently; false if unused or torn. */
static bool read_record(const struct grt_shm_g *r, struct grt_shm_g *v,
                        uint32_t *state)
{
    if (grt_shm_g_read(r, v, sizeof *v) != 1)
        return false;
    *state = v->state;
    return true;
}

/* Dump the goroutine of slot i (its record already read as v). */
AGENT_RACY static void dump_one(struct grt__uw *uw, struct g *gp,
                                const struct grt_shm_g *r,
                                const struct grt_shm_g *v, uint32_t maxf)
{
    struct grt_shm_dump_g *e = out_g_new();
    if (!e)
        return;
    uint32_t status = v->state & 0xff;
    e->goid = v->goid;
    e->state = v->state;
    e->wait_since = v->wait_since;
    e->first_frame = (uint32_t)out_npc;
    if (status == G_RUNNING || status == G_SYSCALL) {
#ifdef HAVE_LIBUNWIND
        struct m *mp = RACY(gp->m);
        if (status == G_RUNNING && mp && out_frames_room(maxf)) {
            int n = grt__preempt_catch(mp, v->goid, out_pc + out_npc, maxf,
                                       CATCH_TIMEOUT_NS);
            if (n > 0) {
                e->nframes = (uint32_t)n;
                out_npc += (size_t)n;
                e->flags |= GRT_SHM_DG_CAUGHT;
                if ((uint32_t)n == maxf)
                    e->flags |= GRT_SHM_DG_TRUNCATED;
                return;
            }
            /* it stopped running before the signal landed: if it
             * parked, it is unwound as parked ones are */
            uint32_t s2;
            struct grt_shm_g v2;
            if (n == 0 && read_record(r, &v2, &s2) && v2.goid == v->goid &&
                ((v2.state & 0xff) == G_WAITING ||
                 (v2.state & 0xff) == G_RUNNABLE)) {
                e->state = v2.state;
                e->wait_since = v2.wait_since;
                goto parked;
            }
        }
#endif
        e->flags |= GRT_SHM_DG_RUNNING;
        return;
    }
#ifdef HAVE_LIBUNWIND
parked:
#endif
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!out_frames_room(maxf))
            return;
        uint32_t n;
        bool err, more;
        int r2 = grt__uw_parked(uw, gp, out_pc + out_npc, maxf, &n, &err,
                                &more);
        switch (r2) {
        case GRT__UW_RUNNING:
            e->flags |= GRT_SHM_DG_RUNNING;
            return;
        case GRT__UW_NOT_STARTED:
            e->flags |= GRT_SHM_DG_NOT_STARTED;
            return;
        case GRT__UW_BAD_STACK:
            e->flags |= GRT_SHM_DG_UNWIND_ERR;
            return;
        case GRT__UW_OK:
            e->nframes = n;
            out_npc += n;
            if (err)
                e->flags |= GRT_SHM_DG_UNWIND_ERR;
            if (more)
                e->flags |= GRT_SHM_DG_TRUNCATED;
            return;
        default:
            break;
        }
        /* it ran meanwhile: if it is parked again, once more */
        uint32_t s2;
        struct grt_shm_g v2;
        if (!read_record(r, &v2, &s2) || v2.goid != v->goid ||
            ((v2.state & 0xff) != G_WAITING &&
             (v2.state & 0xff) != G_RUNNABLE)) {
            break;
        }
        e->state = v2.state;
        e->wait_since = v2.wait_since;
    }
    e->flags |= GRT_SHM_DG_CHANGED;
}

/* ---------------------------------------------------------------------
 * Writing the answer
 * --------------------------------------------------------------------- */

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* Lay the answer out in the dump area; returns GRT_SHM_DS_*. */
static uint32_t write_answer(uint64_t id, uint32_t status, int64_t t0)
{
    struct agent *a = &grt__agent;
    struct grt_shm_dump *d = a->dump;
    size_t area = a->dump_size;
again:;
    size_t off = align8(sizeof *d);
    size_t mods_off = off;
    off += (size_t)nmodules * sizeof(struct grt_shm_dump_module);
    size_t str_off = off;
    size_t str_size = 0;
    for (int i = 0; i < nmodules; i++)
        str_size += strlen(modules[i].path) + modules[i].build_id_len;
    off = align8(off + str_size);
    size_t g_off = off;
    size_t ng = out_ng;
    size_t npc = out_npc;
    /* shrink to fit: drop goroutines (and their frames) from the end */
    while (ng > 0 &&
           g_off + ng * sizeof(struct grt_shm_dump_g) + npc * sizeof(uint64_t) >
               area) {
        ng--;
        npc = out_g[ng].first_frame;
        status = GRT_SHM_DS_TRUNCATED;
    }
    if (g_off > area) { /* absurdly many modules: leave them out */
        nmodules = 0;
        status = GRT_SHM_DS_TRUNCATED;
        goto again;
    }
    size_t pc_off = g_off + ng * sizeof(struct grt_shm_dump_g);
    size_t used = pc_off + npc * sizeof(uint64_t);
    if (!grt__agent_commit(a->hdr->tables[GRT_SHM_T_DUMP].offset, used)) {
        ng = npc = 0;
        used = pc_off = g_off;
        status = GRT_SHM_DS_TRUNCATED;
        if (!grt__agent_commit(a->hdr->tables[GRT_SHM_T_DUMP].offset, used))
            return GRT_SHM_DS_TRUNCATED; /* the header page is backed */
    }

    uint32_t s = grt_shm_seq_write_begin(&d->seq);
    char *base = (char *)d;
    size_t so = 0;
    for (int i = 0; i < nmodules; i++) {
        struct grt_shm_dump_module dm;
        memset(&dm, 0, sizeof dm);
        const struct module *m = &modules[i];
        dm.bias = m->bias;
        dm.lo = m->lo;
        dm.hi = m->hi;
        size_t pl = strlen(m->path);
        dm.path_off = (uint32_t)so;
        dm.path_len = (uint32_t)pl;
        memcpy(base + str_off + so, m->path, pl);
        so += pl;
        dm.build_id_off = (uint32_t)so;
        dm.build_id_len = m->build_id_len;
        memcpy(base + str_off + so, m->build_id, m->build_id_len);
        so += m->build_id_len;
        grt_shm_copy_words(base + mods_off + (size_t)i * sizeof dm, &dm,
                           sizeof dm);
    }
    if (ng)
        grt_shm_copy_words(base + g_off, out_g,
                           ng * sizeof(struct grt_shm_dump_g));
    if (npc)
        grt_shm_copy_words(base + pc_off, out_pc, npc * sizeof(uint64_t));
    struct grt_shm_dump h;
    memset(&h, 0, sizeof h);
    h.status = status;
    h.id = id;
    h.mono_ns = grt__agent_mono();
    h.used = used;
    h.ngoroutines = (uint32_t)ng;
    h.goroutine_size = sizeof(struct grt_shm_dump_g);
    h.goroutines_off = g_off;
    h.nframes = (uint32_t)npc;
    h.frames_off = pc_off;
    h.nmodules = (uint32_t)nmodules;
    h.module_size = sizeof(struct grt_shm_dump_module);
    h.modules_off = mods_off;
    h.strings_off = str_off;
    h.strings_size = str_size;
    h.elapsed_ns = (uint64_t)(h.mono_ns - t0);
    grt_shm_copy_words((char *)d + 8, (char *)&h + 8, sizeof h - 8);
    STORE_RLX(&d->status, status);
    grt_shm_seq_write_end(&d->seq, s);
    return status;
}

/* Answer with no goroutines (a bad request). */
static void answer_bad(uint64_t id, int64_t t0)
{
    out_ng = out_npc = 0;
    nmodules = 0;
    write_answer(id, GRT_SHM_DS_BADREQ, t0);
}

static void do_dump(uint32_t kind, uint64_t id, int64_t goid, uint32_t maxf,
                    int64_t t0)
{
    struct agent *a = &grt__agent;
    out_ng = out_npc = 0;
    collect_modules();
    struct grt__uw *uw = grt__uw_open();
    bool can_unwind = uw != NULL;
    uint32_t n = grt__agent_gcount();
    for (uint32_t i = 0; i < n; i++) {
        struct g *gp = LOAD_ACQ(&a->gtab[i]);
        const struct grt_shm_g *r = &a->g[i];
        struct grt_shm_g v;
        uint32_t s;
        if (!gp || !read_record(r, &v, &s))
            continue;
        uint32_t status = v.state & 0xff;
        if (status == G_DEAD || status == G_IDLE)
            continue;
        if (kind == GRT_SHM_DUMP_ONE && v.goid != goid)
            continue;
        if (can_unwind) {
            dump_one(uw, gp, r, &v, maxf);
        } else {
            struct grt_shm_dump_g *e = out_g_new();
            if (e) {
                e->goid = v.goid;
                e->state = v.state;
                e->wait_since = v.wait_since;
                e->first_frame = (uint32_t)out_npc;
                if (status == G_RUNNING || status == G_SYSCALL)
                    e->flags = GRT_SHM_DG_RUNNING;
            }
        }
        if (kind == GRT_SHM_DUMP_ONE)
            break;
    }
    grt__uw_close(uw);
    write_answer(id, can_unwind ? GRT_SHM_DS_OK : GRT_SHM_DS_NOUNWIND, t0);
}

bool grt__agent_dump_poll(int64_t now)
{
    struct agent *a = &grt__agent;
    struct grt_shm_request *q = a->req;
    uint32_t st = LOAD_ACQ(&q->state);
    switch (st) {
    case GRT_SHM_REQ_IDLE:
        claimed_since = 0;
        return false;
    case GRT_SHM_REQ_CLAIMED:
        if (!claimed_since) {
            claimed_since = now;
        } else if (now - claimed_since > CLAIM_TIMEOUT_NS) {
            __atomic_compare_exchange_n(&q->state, &st, GRT_SHM_REQ_IDLE, false,
                                        __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
            claimed_since = 0;
        }
        return false;
    case GRT_SHM_REQ_POSTED:
        break;
    default: /* TAKEN (not ours any more) or garbage */
        STORE_REL(&q->state, GRT_SHM_REQ_IDLE);
        claimed_since = 0;
        return false;
    }
    claimed_since = 0;
    /* copy the request out once; from here on only the copy is used */
    uint32_t kind = LOAD_RLX(&q->kind);
    uint64_t id = LOAD_RLX(&q->id);
    int64_t goid = LOAD_RLX(&q->goid);
    uint32_t maxf = LOAD_RLX(&q->max_frames);
    if (!__atomic_compare_exchange_n(&q->state, &st, GRT_SHM_REQ_TAKEN, false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
        return false;
    if (maxf == 0)
        maxf = MAX_FRAMES_DEFAULT;
    if (maxf > MAX_FRAMES_CAP)
        maxf = MAX_FRAMES_CAP;
    if (id == 0 || (kind != GRT_SHM_DUMP_ALL && kind != GRT_SHM_DUMP_ONE) ||
        (kind == GRT_SHM_DUMP_ONE && goid <= 0))
        answer_bad(id, now);
    else
        do_dump(kind, id, goid, maxf, now);
    __atomic_fetch_add(&answered, 1, __ATOMIC_RELAXED);
    STORE_REL(&q->state, GRT_SHM_REQ_IDLE);
    /* readers may sleep on the dump's seq */
    syscall(SYS_futex, &a->dump->seq, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
    return true;
}
