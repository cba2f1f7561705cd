/*
 * unwind.c - goroutine stacks with libunwind, for the agent's dumps
 * (dump.c) and the runtime's tracebacks (runtime/traceback.c); the
 * contract is in unwind.h.
 *
 * Unwinding another goroutine without stopping it.  A goroutine is
 * unwound only while it is off its CPU (WAITING, or RUNNABLE in a run
 * queue), and is proven afterwards to have stayed so:
 *   1. read its status, its generation (gp->agent_gen, bumped by every
 *      park, agent.h) and its M;
 *   2. read the saved pc: agent_g_state clears it when a goroutine parks
 *      and the context switch writes it again, so 0 means "registers not
 *      saved yet" (it is treated as running); a RUNNABLE goroutine whose
 *      gp->m is still set is yielding, and treated the same way;
 *   3. copy the saved registers and unwind;
 *   4. re-read status, generation and the saved registers: any change
 *      means the goroutine ran meanwhile, and its frames are dropped
 *      (GRT__UW_CHANGED).
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
 * The local libunwind.so exports some of the generic library's names,
 * with its own lazily initialised state; so the generic library's state
 * is initialised first with a generic-only call (unw_init_local), and an
 * address space is made afresh per session rather than flushed
 * (unw_flush_cache is one of the names both export).
 */
#include "config.h"

#include "unwind.h"
#include "agent_int.h"

#include <link.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_LIBUNWIND
#include <libunwind.h>

#define MAX_RANGES 4096

struct range {
    uintptr_t lo, hi; /* a readable PT_LOAD segment */
};

struct grt__uw {
    unw_addr_space_t as;
    int nranges;
    struct range ranges[MAX_RANGES];
};

/* What the accessors see of one goroutine being unwound. */
struct uw_arg {
    const struct grt__uw *u;
    uintptr_t lo, hi; /* the stack window we may read */
    struct ctx regs;  /* the saved context */
};

static bool readable(const struct grt__uw *u, uintptr_t addr, size_t n)
{
    for (int i = 0; i < u->nranges; i++)
        if (addr >= u->ranges[i].lo && addr <= u->ranges[i].hi - n &&
            u->ranges[i].hi - u->ranges[i].lo >= n)
            return true;
    return false;
}

AGENT_RAW static int uw_access_mem(unw_addr_space_t as, unw_word_t addr,
                                   unw_word_t *val, int write, void *arg)
{
    (void)as;
    const struct uw_arg *a = arg;
    if (write)
        return -UNW_EINVAL;
    if (addr & (sizeof *val - 1))
        return -UNW_EINVAL; /* libunwind asks for aligned words only */
    if ((addr >= a->lo && addr <= a->hi - sizeof *val && a->hi > a->lo) ||
        readable(a->u, addr, sizeof *val)) {
        *val = *(const volatile unw_word_t *)(uintptr_t)addr;
        return 0;
    }
    return -UNW_EINVAL;
}

static int uw_access_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val,
                         int write, void *arg)
{
    (void)as;
    const struct uw_arg *a = arg;
    if (write)
        return -UNW_EINVAL;
    const struct ctx *c = &a->regs;
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

static unw_accessors_t acc;
static bool acc_ok;
static pthread_once_t acc_once = PTHREAD_ONCE_INIT;

/* The local accessors (find_proc_info reads the loaded modules' unwind
 * tables) with our memory, register and resume accessors. */
static void acc_init(void)
{
    unw_context_t uc;
    unw_cursor_t c;
    if (unw_getcontext(&uc) != 0 || unw_init_local(&c, &uc) != 0)
        return;
    acc = *unw_get_accessors(unw_local_addr_space);
    if (!acc.find_proc_info || !acc.put_unwind_info ||
        !acc.get_dyn_info_list_addr)
        return;
    acc.access_mem = uw_access_mem;
    acc.access_reg = uw_access_reg;
    acc.access_fpreg = uw_access_fpreg;
    acc.resume = uw_resume;
    acc.get_proc_name = NULL;
    acc_ok = true;
}

static int range_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct grt__uw *u = arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_R))
            continue;
        if (u->nranges == MAX_RANGES)
            return 1;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        u->ranges[u->nranges].lo = lo;
        u->ranges[u->nranges].hi = lo + ph->p_memsz;
        u->nranges++;
    }
    return 0;
}

void grt__uw_init(void)
{
    pthread_once(&acc_once, acc_init);
}

struct grt__uw *grt__uw_open(void)
{
    pthread_once(&acc_once, acc_init);
    if (!acc_ok)
        return NULL;
    struct grt__uw *u = malloc(sizeof *u);
    if (!u)
        return NULL;
    u->nranges = 0;
    dl_iterate_phdr(range_cb, u);
    u->as = unw_create_addr_space(&acc, 0);
    if (!u->as) {
        free(u);
        return NULL;
    }
    unw_set_caching_policy(u->as, UNW_CACHE_GLOBAL);
    return u;
}

void grt__uw_close(struct grt__uw *u)
{
    if (!u)
        return;
    unw_destroy_addr_space(u->as);
    free(u);
}

/* Copy a saved context the owner may be rewriting: volatile word loads
 * (an atomic load would be instrumented by TSan and seen racing the
 * switch's plain stores; agent_int.h, AGENT_RACY). */
AGENT_RACY static void ctx_copy(struct ctx *dst, const struct ctx *src)
{
    const volatile uint64_t *s = (const volatile uint64_t *)(const void *)src;
    union {
        struct ctx c;
        uint64_t w[sizeof(struct ctx) / 8];
    } u;
    for (size_t i = 0; i < sizeof u.w / sizeof u.w[0]; i++)
        u.w[i] = s[i];
    *dst = u.c;
}

/* Walk cur into pcs (at most max); returns the count, sets *err when
 * the unwinder stopped on an error, *more when max cut it. */
static uint32_t walk(unw_cursor_t *cur, uint64_t *pcs, uint32_t max,
                     bool *err, bool *more)
{
    uint32_t n = 0;
    for (;;) {
        unw_word_t ip = 0;
        if (unw_get_reg(cur, UNW_REG_IP, &ip) != 0 || ip == 0)
            break;
        if (n == max) {
            *more = true;
            break;
        }
        pcs[n++] = ip;
        int r = unw_step(cur);
        if (r < 0)
            *err = true;
        if (r <= 0)
            break;
    }
    return n;
}

/* Unwind from a->regs into pcs (at most max); returns the count. */
static uint32_t uw_frames(const struct grt__uw *u, struct uw_arg *a,
                          uint64_t *pcs, uint32_t max, bool *err, bool *more)
{
    unw_cursor_t cur;
    *err = *more = false;
    if (unw_init_remote(&cur, u->as, a) != 0) {
        *err = true;
        return 0;
    }
    return walk(&cur, pcs, max, err, more);
}

AGENT_RACY int grt__uw_parked(struct grt__uw *u, struct g *gp, uint64_t *pcs,
                              uint32_t max, uint32_t *n, bool *err,
                              bool *more)
{
    *n = 0;
    *err = *more = false;
    /* step 1 */
    uint32_t st = LOAD_RLX(&gp->status);
    uint32_t gen = RACY(gp->agent_gen);
    if (st != G_WAITING && st != G_RUNNABLE)
        return GRT__UW_RUNNING;
    /* a yielding or preempted goroutine is RUNNABLE before it leaves its
     * CPU; gp->m is cleared just before its registers are saved (a
     * readied one has none) */
    if (RACY(gp->m))
        return GRT__UW_RUNNING;
    /* step 2 */
    void *pc = RACY(gp->ctx.pc);
    __atomic_thread_fence(__ATOMIC_ACQUIRE); /* the registers after it */
    if (!pc)
        return GRT__UW_RUNNING; /* registers not saved yet */
    if (pc == (void *)grt__ctx_trampoline)
        return GRT__UW_NOT_STARTED;
    /* step 3 */
    struct uw_arg a;
    a.u = u;
    ctx_copy(&a.regs, &gp->ctx);
    a.regs.pc = pc;
    a.lo = (uintptr_t)a.regs.sp;
    a.hi = (uintptr_t)RACY(gp->stack_hi);
    if (a.lo < (uintptr_t)RACY(gp->stack_lo) || a.hi <= a.lo)
        return GRT__UW_BAD_STACK;
    uint32_t got = uw_frames(u, &a, pcs, max, err, more);
    /* step 4: did it stay parked? */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    struct ctx now;
    ctx_copy(&now, &gp->ctx);
    if (LOAD_RLX(&gp->status) != st || RACY(gp->agent_gen) != gen ||
        now.pc != pc || now.sp != a.regs.sp) {
        *err = *more = false;
        return GRT__UW_CHANGED;
    }
    *n = got;
    return GRT__UW_OK;
}

uint32_t grt__uw_local(void *uc, uint64_t *pcs, uint32_t max, bool *more)
{
    unw_context_t here;
    unw_cursor_t cur;
    bool err = false;
    *more = false;
    if (uc) {
        if (unw_init_local2(&cur, (unw_context_t *)uc,
                            UNW_INIT_SIGNAL_FRAME) != 0)
            return 0;
    } else {
        pthread_once(&acc_once, acc_init); /* not in a signal handler */
        if (unw_getcontext(&here) != 0 || unw_init_local(&cur, &here) != 0)
            return 0;
    }
    return walk(&cur, pcs, max, &err, more);
}

#else /* !HAVE_LIBUNWIND */

void grt__uw_init(void)
{
}

struct grt__uw *grt__uw_open(void)
{
    return NULL;
}

void grt__uw_close(struct grt__uw *u)
{
    (void)u;
}

int grt__uw_parked(struct grt__uw *u, struct g *gp, uint64_t *pcs,
                   uint32_t max, uint32_t *n, bool *err, bool *more)
{
    (void)u;
    (void)gp;
    (void)pcs;
    (void)max;
    *n = 0;
    *err = true;
    *more = false;
    return GRT__UW_BAD_STACK;
}

uint32_t grt__uw_local(void *uc, uint64_t *pcs, uint32_t max, bool *more)
{
    (void)uc;
    (void)pcs;
    (void)max;
    *more = false;
    return 0;
}

#endif /* HAVE_LIBUNWIND */
