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
 * Unwinding another thread's goroutine without stopping it.  The agent
 * unwinds a goroutine only while it is off its CPU (WAITING, or RUNNABLE
 * in a run queue) and proves afterwards that it stayed so:
 *   1. read the goroutine's record consistently (its state word s);
 *   2. read the saved pc: agent_g_state clears it when a goroutine parks
 *      and the context switch writes it again, so 0 means "registers not
 *      saved yet" (it is treated as running); a RUNNABLE goroutine whose
 *      gp->m is still set is yielding, and treated the same way;
 *   3. copy the saved registers and unwind;
 *   4. re-read the state word and the saved registers: any change means
 *      the goroutine ran meanwhile, and its frames are dropped (flag
 *      CHANGED; one retry).
 * The goroutine may thus resume while being unwound, so the unwinder's
 * memory reads go through our own accessor, which only reads inside
 * [saved sp, stack top) of that goroutine (always mapped: stacks are
 * never unmapped) and inside the loaded modules' segments (eh_frame,
 * text for signal-frame detection).  A stack that changes under the
 * unwinder yields garbage frames at worst, which step 4 discards, never a
 * fault.  Rejected: stopping the goroutine with a per-G flag the
 * scheduler would test on every switch (a cost on the hot path for a
 * rare event); a stop-the-world (no such thing in grt).
 *
 * A goroutine on a CPU (RUNNING) is caught by SIGURG to its thread: the
 * preemption handler answers a catch request (grt__preempt_catch,
 * runtime/preempt.c) by unwinding the interrupted context, and the frames
 * come back flagged GRT_SHM_DG_CAUGHT.  Where that handler is not
 * installed (TSan builds, libgrt linked statically, GRT_ASYNCPREEMPT=0)
 * or the thread does not answer within 10 ms, and for goroutines in a
 * blocking call (SYSCALL: a signal would interrupt their call), they are
 * listed without frames (GRT_SHM_DG_RUNNING).
 *
 * The local libunwind.so exports some of the generic library's names
 * (see uw_begin), which is why the address space is set up the way it
 * is.
 *
 * Without libunwind (configure --without-libunwind) requests are still
 * answered, with every goroutine listed and no frames
 * (GRT_SHM_DS_NOUNWIND).
 */
#include "config.h"

#include "agent_int.h"

#include <elf.h>
#include <errno.h>
#include <link.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef HAVE_LIBUNWIND
#include <libunwind.h>
#endif

#define MAX_FRAMES_CAP 256
#define MAX_FRAMES_DEFAULT 64
#define CLAIM_TIMEOUT_NS 1000000000LL
#define CATCH_TIMEOUT_NS 10000000LL /* a running goroutine's signal */
#define MAX_MODULES 1024
#define MAX_RANGES 4096

static uint64_t answered;     /* atomic: requests answered */
static int64_t claimed_since; /* sampler only: CLAIMED first seen */

/* Loaded modules, collected at the start of each dump (sampler only). */
struct module {
    uint64_t bias, lo, hi; /* load bias; executable range */
    char path[PATH_MAX];
    unsigned char build_id[64];
    uint32_t build_id_len;
};
struct range {
    uintptr_t lo, hi; /* a readable PT_LOAD segment */
};
static struct module *modules;
static int nmodules;
static struct range ranges[MAX_RANGES];
static int nranges;

/* Output being built (private buffers, copied into the area at the end). */
static struct grt_shm_dump_g *out_g;
static size_t out_ng, out_gcap;
static uint64_t *out_pc;
static size_t out_npc;
#ifdef HAVE_LIBUNWIND
static size_t out_pccap;
#endif

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
            if ((ph->p_flags & PF_R) && nranges < MAX_RANGES) {
                ranges[nranges].lo = lo;
                ranges[nranges].hi = lo + ph->p_memsz;
                nranges++;
            }
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
    nranges = 0;
    dl_iterate_phdr(module_cb, NULL);
}

#ifdef HAVE_LIBUNWIND
static bool readable(uintptr_t addr, size_t n)
{
    for (int i = 0; i < nranges; i++)
        if (addr >= ranges[i].lo && addr <= ranges[i].hi - n &&
            ranges[i].hi - ranges[i].lo >= n)
            return true;
    return false;
}
#endif

/* ---------------------------------------------------------------------
 * Unwinding one goroutine
 * --------------------------------------------------------------------- */

struct uw {
    uintptr_t lo, hi; /* the stack window we may read */
    struct ctx regs;  /* the saved context */
};

#ifdef HAVE_LIBUNWIND
static unw_addr_space_t uw_as;

AGENT_RAW static int uw_access_mem(unw_addr_space_t as, unw_word_t addr,
                                   unw_word_t *val, int write, void *arg)
{
    (void)as;
    struct uw *u = arg;
    if (write)
        return -UNW_EINVAL;
    if (addr & (sizeof *val - 1))
        return -UNW_EINVAL; /* libunwind asks for aligned words only */
    if ((addr >= u->lo && addr <= u->hi - sizeof *val && u->hi > u->lo) ||
        readable(addr, sizeof *val)) {
        *val = *(const volatile unw_word_t *)(uintptr_t)addr;
        return 0;
    }
    return -UNW_EINVAL;
}

static int uw_access_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val,
                         int write, void *arg)
{
    (void)as;
    struct uw *u = arg;
    if (write)
        return -UNW_EINVAL;
    const struct ctx *c = &u->regs;
    switch (reg) {
#if defined(__x86_64__)
    case UNW_X86_64_RIP:
        *val = (unw_word_t)(uintptr_t)c->pc;
        return 0;
    case UNW_X86_64_RSP:
        *val = (unw_word_t)(uintptr_t)c->sp;
        return 0;
    case UNW_X86_64_RBX:
        *val = (unw_word_t)(uintptr_t)c->rbx;
        return 0;
    case UNW_X86_64_RBP:
        *val = (unw_word_t)(uintptr_t)c->rbp;
        return 0;
    case UNW_X86_64_R12:
        *val = (unw_word_t)(uintptr_t)c->r12;
        return 0;
    case UNW_X86_64_R13:
        *val = (unw_word_t)(uintptr_t)c->r13;
        return 0;
    case UNW_X86_64_R14:
        *val = (unw_word_t)(uintptr_t)c->r14;
        return 0;
    case UNW_X86_64_R15:
        *val = (unw_word_t)(uintptr_t)c->r15;
        return 0;
#elif defined(__aarch64__)
    case UNW_AARCH64_PC:
    case UNW_AARCH64_X30:
        *val = (unw_word_t)(uintptr_t)c->pc;
        return 0;
    case UNW_AARCH64_SP:
        *val = (unw_word_t)(uintptr_t)c->sp;
        return 0;
#endif
    default:
#if defined(__aarch64__)
        if (reg >= UNW_AARCH64_X19 && reg <= UNW_AARCH64_X29) {
            *val = (unw_word_t)(uintptr_t)c->x19_x29[reg - UNW_AARCH64_X19];
            return 0;
        }
#endif
        *val = 0; /* caller-saved: dead at a switch */
        return 0;
    }
}

static int uw_access_fpreg(unw_addr_space_t as, unw_regnum_t reg,
                           unw_fpreg_t *val, int write, void *arg)
{
    (void)as;
    (void)reg;
    (void)val;
    (void)write;
    (void)arg;
    return -UNW_EBADREG;
}

static int uw_resume(unw_addr_space_t as, unw_cursor_t *c, void *arg)
{
    (void)as;
    (void)c;
    (void)arg;
    return -UNW_EINVAL;
}

/*
 * The address space of one dump: the local accessors (find_proc_info
 * reads the loaded modules' unwind tables) with our memory, register and
 * resume accessors.  The local libunwind.so (which libunwind-generic
 * itself needs) exports some of the same _Ux86_64_ names, with its own
 * lazily initialised state; so the generic library's state is initialised
 * first with a generic-only call (unw_init_local), and the address space
 * is made afresh per dump rather than flushed (unw_flush_cache is one of
 * the names both export).
 */
static bool uw_begin(void)
{
    static unw_accessors_t acc;
    static int ready; /* 0 not tried, 1 usable, -1 not usable */
    if (ready == 0) {
        unw_context_t uc;
        unw_cursor_t c;
        ready = -1;
        if (unw_getcontext(&uc) != 0 || unw_init_local(&c, &uc) != 0)
            return false;
        acc = *unw_get_accessors(unw_local_addr_space);
        if (!acc.find_proc_info || !acc.put_unwind_info ||
            !acc.get_dyn_info_list_addr)
            return false;
        acc.access_mem = uw_access_mem;
        acc.access_reg = uw_access_reg;
        acc.access_fpreg = uw_access_fpreg;
        acc.resume = uw_resume;
        acc.get_proc_name = NULL;
        ready = 1;
    }
    if (ready < 0)
        return false;
    uw_as = unw_create_addr_space(&acc, 0);
    if (!uw_as)
        return false;
    unw_set_caching_policy(uw_as, UNW_CACHE_GLOBAL);
    return true;
}

static void uw_end(void)
{
    if (uw_as)
        unw_destroy_addr_space(uw_as);
    uw_as = NULL;
}

/* Unwind from u->regs into pcs (at most max); returns the count, sets
 * *err when the unwinder stopped on an error, *more when it was cut. */
static uint32_t uw_frames(struct uw *u, uint64_t *pcs, uint32_t max, bool *err,
                          bool *more)
{
    unw_cursor_t cur;
    *err = *more = false;
    if (unw_init_remote(&cur, uw_as, u) != 0) {
        *err = true;
        return 0;
    }
    uint32_t n = 0;
    for (;;) {
        unw_word_t ip = 0;
        if (unw_get_reg(&cur, UNW_REG_IP, &ip) != 0 || ip == 0)
            break;
        if (n == max) {
            *more = true;
            break;
        }
        pcs[n++] = ip;
        int r = unw_step(&cur);
        if (r < 0)
            *err = true;
        if (r <= 0)
            break;
    }
    return n;
}
#endif /* HAVE_LIBUNWIND */

#ifdef HAVE_LIBUNWIND
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
#endif

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

/* Dump the goroutine of slot i (its record already read as v, with
 * state word s). */
AGENT_RACY static void dump_one(struct g *gp, const struct grt_shm_g *r,
                                const struct grt_shm_g *v, uint32_t s,
                                uint32_t maxf)
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
        }
#endif
        e->flags |= GRT_SHM_DG_RUNNING;
        return;
    }
#ifdef HAVE_LIBUNWIND
    for (int attempt = 0; attempt < 2; attempt++) {
        /* a yielding or preempted goroutine is RUNNABLE before it leaves
         * its CPU; gp->m is cleared just before its registers are saved
         * (a readied one has none) */
        if (RACY(gp->m)) {
            e->flags |= GRT_SHM_DG_RUNNING;
            return;
        }
        void *pc = __atomic_load_n(&gp->ctx.pc, __ATOMIC_ACQUIRE);
        if (!pc) {
            e->flags |= GRT_SHM_DG_RUNNING; /* registers not saved yet */
            return;
        }
        if (pc == (void *)grt__ctx_trampoline) {
            e->flags |= GRT_SHM_DG_NOT_STARTED;
            return;
        }
        struct uw u;
        grt_shm_copy_words(&u.regs, &gp->ctx, sizeof u.regs);
        u.regs.pc = pc;
        u.lo = (uintptr_t)u.regs.sp;
        u.hi = (uintptr_t)RACY(gp->stack_hi);
        if (u.lo < (uintptr_t)RACY(gp->stack_lo) || u.hi <= u.lo) {
            e->flags |= GRT_SHM_DG_UNWIND_ERR;
            return;
        }
        if (!out_frames_room(maxf))
            return;
        bool err, more;
        uint32_t n = uw_frames(&u, out_pc + out_npc, maxf, &err, &more);
        /* step 4: did it stay parked? */
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        struct ctx now;
        grt_shm_copy_words(&now, &gp->ctx, sizeof now);
        if (LOAD_RLX(&r->state) == s && now.pc == pc && now.sp == u.regs.sp) {
            e->nframes = n;
            out_npc += n;
            if (err)
                e->flags |= GRT_SHM_DG_UNWIND_ERR;
            if (more)
                e->flags |= GRT_SHM_DG_TRUNCATED;
            return;
        }
        uint32_t s2;
        struct grt_shm_g v2;
        if (!read_record(r, &v2, &s2) || v2.goid != v->goid ||
            ((v2.state & 0xff) != G_WAITING &&
             (v2.state & 0xff) != G_RUNNABLE)) {
            break;
        }
        s = s2;
        e->state = v2.state;
        e->wait_since = v2.wait_since;
    }
    e->flags |= GRT_SHM_DG_CHANGED;
#else
    (void)gp;
    (void)r;
    (void)s;
    (void)maxf;
#endif
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
#ifdef HAVE_LIBUNWIND
    bool can_unwind = uw_begin();
#else
    bool can_unwind = false;
#endif
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
            dump_one(gp, r, &v, s, maxf);
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
#ifdef HAVE_LIBUNWIND
    uw_end();
#endif
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
