/*
 * preempt.c - asynchronous preemption (Go's preempt.go and signal
 * handling for SIGURG), for goroutines that run 10 ms without reaching
 * the scheduler.
 *
 * 1. sysmon sees a P whose schedtick has not moved for a quantum (10 ms;
 *    sooner when one of the P's timers is overdue by a millisecond and
 *    the goroutine has run 2 ms) and sends SIGURG to the P's thread,
 *    recording the tick it wants to end (m->preempt_tick).
 * 2. The handler preempts only at a safe point: the thread runs a
 *    goroutine (not g0), not in a blocking call, not locked to the
 *    thread, not opted out (grt_preempt_disable), the tick still matches,
 *    and the interrupted pc lies in code that is neither libgrt, libc,
 *    the dynamic loader, the vdso nor a sanitizer runtime (ranges from
 *    dl_iterate_phdr at start-up; an unknown object counts as unsafe).
 *    Code holding a runtime lock is always inside libgrt.  Otherwise it
 *    does nothing: the goroutine is asked again at the next sysmon tick.
 * 3. At a safe point it rewrites the signal frame so that, when the
 *    handler returns, the goroutine runs grt__async_preempt
 *    (arch/x86_64/preempt.S) with the red zone skipped; the stub saves
 *    every register and calls grt__preempt_park, which puts the goroutine
 *    on the global queue (as Go) and switches.
 *
 * errno is saved and restored around the park, since the goroutine may
 * come back on another thread between a failing call and its read of
 * errno.  The addresses of thread-local variables are not: code that
 * keeps one in a register across a long loop must opt out
 * (grt_preempt_disable) or the program must set GRT_ASYNCPREEMPT=0.
 *
 * When libgrt is linked statically into the executable, its code cannot
 * be told from the application's, and asynchronous preemption is off; so
 * it is with GRT_ASYNCPREEMPT=0.  aarch64 has no stub yet: preemption
 * there is cooperative only.
 *
 * The same signal catches a running goroutine's stack for dumps
 * (grt__preempt_catch): the agent's (agent/dump.c) and the program's own
 * (grt_dump, grt_stack, SIGQUIT, panics: runtime/traceback.c).  The
 * dumper claims the target M's catch slot with a CAS, writes the
 * goroutine it expects, and signals the thread; the handler, on the
 * target's own thread, unwinds the interrupted context with libunwind
 * (local, signal-safe: the shared unwinder's grt__uw_local,
 * agent/unwind.c) into the slot, before anything else, and only if that
 * goroutine still runs there on its own stack.  One slot per M, so
 * dumpers of different threads do not wait for each other; a second
 * dumper of the same thread waits for the slot within its own timeout.
 * A request the handler has not taken in time (SIGURG blocked there, the
 * thread stopped) is withdrawn with a CAS; one it took but has not
 * finished (libunwind waiting for the loader's lock) is abandoned, and
 * the handler frees the slot when done: frames are copied out only by
 * the dumper that still waits for them, and a dumper never waits beyond
 * its timeout.  A dumper's own thread is never signalled (its goroutine
 * is unwound locally).  The handler is installed for catches even where
 * preemption is off (GRT_ASYNCPREEMPT=0, static link; then it passes
 * every other SIGURG to the application's handler, as without it), and
 * not at all with ThreadSanitizer or off x86-64: there running
 * goroutines are dumped without frames.  The signal is sent only to a
 * thread whose goroutine is RUNNING outside a blocking call
 * (grt_syscall_enter), as sysmon's; SA_RESTART restarts most calls it
 * lands in.
 */
#include "config.h"

#include "rt.h"
#include "agent.h"
#include "unwind.h"

#include <linux/futex.h>
#include <time.h>

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define QUANTUM_NS 10000000
#define MAX_RANGES 64

uint32_t grt__xsave_size;
static bool preempt_on; /* sysmon asks, the handler preempts */
static bool catch_on;   /* the handler answers catches (dumps) */
static pid_t pid;

struct range {
    uintptr_t lo, hi;
};
static struct range safe[MAX_RANGES]; /* executable segments of user code */
static int nsafe;
static struct sigaction old_urg;

HIDDEN void grt__async_preempt(void);

/* Which objects hold unsafe code, by file name. */
static __attribute__((unused)) bool unsafe_object(const char *name, uintptr_t base, uintptr_t self)
{
    if (base == self)
        return true; /* libgrt itself */
    if (!name || !*name)
        return false; /* the main executable */
    static const char *const deny[] = {
        "libc.so", "ld-linux", "linux-vdso", "libpthread", "libdl.so",
        "librt.so", "libasan", "libtsan", "libubsan", "liblsan",
        "libgcc_s", "libunwind", "libdw", "libelf", "libcheck",
        "libgrt", NULL};
    for (int i = 0; deny[i]; i++)
        if (strstr(name, deny[i]))
            return true;
    return false;
}

static __attribute__((unused)) int add_ranges(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    uintptr_t self = *(uintptr_t *)data;
    if (unsafe_object(info->dlpi_name, info->dlpi_addr, self))
        return 0;
    for (int i = 0; i < info->dlpi_phnum && nsafe < MAX_RANGES; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        safe[nsafe].lo = info->dlpi_addr + ph->p_vaddr;
        safe[nsafe].hi = safe[nsafe].lo + ph->p_memsz;
        nsafe++;
    }
    return 0;
}

static __attribute__((unused)) bool pc_safe(uintptr_t pc)
{
    for (int i = 0; i < nsafe; i++)
        if (pc >= safe[i].lo && pc < safe[i].hi)
            return true;
    return false;
}

static __attribute__((unused)) void cpuid_count(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
#if defined(__x86_64__)
    __asm__ volatile("cpuid"
                     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "a"(leaf), "c"(sub));
#else
    (void)leaf;
    (void)sub;
    memset(r, 0, 4 * sizeof r[0]);
#endif
}

/* ---- catching a running goroutine's stack (dumps) ---- */

/* The states of an M's catch slot (rt.h, struct m_catch).  A dumper
 * owns the slot from its claim until it returns it to IDLE, except that
 * once it abandons a request the handler working on it returns it. */
enum {
    CATCH_IDLE,      /* free: any dumper may claim it */
    CATCH_CLAIMED,   /* a dumper writes its request */
    CATCH_ASKED,     /* posted and signalled; the dumper may withdraw it */
    CATCH_BUSY,      /* the handler took it and unwinds */
    CATCH_DONE,      /* answered: the dumper copies the frames out */
    CATCH_ABANDONED, /* given up while BUSY: the handler frees the slot */
};

static bool catch_cas(struct m_catch *c, uint32_t from, uint32_t to)
{
    return __atomic_compare_exchange_n(&c->state, &from, to, false,
                                       __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/* Every state change a dumper may wait for (its answer, a free slot). */
static void catch_wake(struct m_catch *c)
{
    syscall(SYS_futex, &c->state, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL,
            0);
}

/* Sleep while c->state is st, until deadline; false once it passed. */
static bool catch_wait(struct m_catch *c, uint32_t st, int64_t deadline)
{
    int64_t left = deadline - grt__nanotime();
    if (left <= 0)
        return false;
    struct timespec ts = {left / 1000000000, left % 1000000000};
    syscall(SYS_futex, &c->state, FUTEX_WAIT_PRIVATE, st, &ts, NULL, 0);
    return true;
}

#if defined(__x86_64__)
/* switch.S: where rsp is already the next context's but its return
 * address is not where the CFI says */
extern const char grt__ctx_switch_jmp[], grt__ctx_switch_ret[],
    grt__ctx_exit_jmp[], grt__ctx_exit_ret[];
#endif

/* Was the interrupted context gp's own, on its own stack?  Not when the
 * signal landed in the middle of a context switch (sp still on another
 * stack; or, on the switch's resuming instruction, on gp's stack with the
 * return address elsewhere than its CFI says: unwound, that gave a frame
 * at pc 0x2) or in a handler on the signal stack: nothing worth
 * unwinding, and a local unwind from there could read anywhere. */
static bool on_own_stack(struct g *gp, ucontext_t *uc)
{
#if defined(__x86_64__)
    uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
    uintptr_t ip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    return sp >= (uintptr_t)gp->stack_lo && sp < (uintptr_t)gp->stack_hi &&
           ip != (uintptr_t)grt__ctx_switch_jmp &&
           ip != (uintptr_t)grt__ctx_switch_ret &&
           ip != (uintptr_t)grt__ctx_exit_jmp &&
           ip != (uintptr_t)grt__ctx_exit_ret;
#else
    (void)gp;
    (void)uc;
    return false;
#endif
}

/* In the handler: answer a pending request for this thread.  True when
 * there was one (answered, with frames or none).  Async-signal-safe: a
 * CAS, libunwind's local unwinder (which blocks signals around its own
 * locks) and a futex wake. */
static bool catch_answer(struct m *mp, ucontext_t *uc)
{
    struct m_catch *c = &mp->catch_slot;
    if (LOAD_ACQ(&c->state) != CATCH_ASKED ||
        !catch_cas(c, CATCH_ASKED, CATCH_BUSY))
        return false;
    uint32_t n = 0;
    struct g *gp = mp->curg;
    /* the goroutine asked for, still running here (not parked, not in a
     * blocking call, not another one since): else "not caught" */
    if (gp && !gp->is_g0 && gp->goid == c->goid &&
        LOAD_RLX(&gp->status) == G_RUNNING && !LOAD_RLX(&mp->blocked) &&
        on_own_stack(gp, uc)) {
        bool more; /* the shared unwinder: local, signal-safe */
        n = grt__uw_local(uc, c->pcs, c->max, &more);
    }
    c->n = n;
    if (!catch_cas(c, CATCH_BUSY, CATCH_DONE))
        STORE_REL(&c->state, CATCH_IDLE); /* abandoned: nobody reads them */
    catch_wake(c);
    return true;
}

int grt__preempt_catch(struct m *mp, int64_t goid, uint64_t *pcs,
                       uint32_t max, int64_t timeout_ns)
{
    /* the caller's own thread: its goroutine is unwound locally, and
     * no other one runs there */
    if (!catch_on || !mp || max == 0 || mp == grt__tls_m)
        return -1;
    int32_t tid = LOAD_RLX(&mp->tid);
    if (!tid)
        return -1;
    if (LOAD_RLX(&mp->blocked))
        return 0; /* in a blocking call: a signal would interrupt it */
    struct m_catch *c = &mp->catch_slot;
    int64_t deadline = grt__nanotime() + timeout_ns;
    uint32_t st;
    /* another dumper may hold the slot: wait for it, within our time */
    while (!catch_cas(c, CATCH_IDLE, CATCH_CLAIMED)) {
        st = LOAD_ACQ(&c->state);
        if (st != CATCH_IDLE && !catch_wait(c, st, deadline))
            return -1;
    }
    c->goid = goid;
    c->max = max < CATCH_MAX ? max : CATCH_MAX;
    c->n = 0;
    STORE_REL(&c->state, CATCH_ASKED);
    /* (a SIGURG already pending there, sysmon's or another dumper's,
     * may answer it first: as good) */
    if (syscall(SYS_tgkill, pid, tid, SIGURG) != 0 &&
        catch_cas(c, CATCH_ASKED, CATCH_IDLE)) {
        catch_wake(c);
        return -1;
    }
    while ((st = LOAD_ACQ(&c->state)) != CATCH_DONE) {
        if (catch_wait(c, st, deadline))
            continue;
        if (st == CATCH_ASKED && catch_cas(c, CATCH_ASKED, CATCH_IDLE)) {
            catch_wake(c);
            return -1; /* never taken (signal blocked, thread stopped) */
        }
        if (st == CATCH_BUSY && catch_cas(c, CATCH_BUSY, CATCH_ABANDONED))
            return -1; /* taken, not finished: the handler frees the slot */
        /* it moved on meanwhile: look again */
    }
    uint32_t n = c->n;
    memcpy(pcs, c->pcs, (size_t)n * sizeof *pcs);
    STORE_REL(&c->state, CATCH_IDLE);
    catch_wake(c);
    return (int)n;
}

static __attribute__((unused)) void on_urg(int sig, siginfo_t *si, void *ucv)
{
    int saved = errno;
    struct m *mp = grt__tls_m;
    ucontext_t *uc = ucv;
    if (!mp)
        goto chain;
    bool answered = catch_answer(mp, uc);
    if (!preempt_on) {
        /* installed for catches only: the rest is the application's */
        if (answered)
            goto out;
        goto chain;
    }
    struct g *gp = mp->curg;
    struct p *pp = mp->p;
    if (!gp || gp->is_g0 || !pp || LOAD_RLX(&mp->blocked) || mp->lockedg ||
        gp->preempt_off || LOAD_RLX(&gp->status) != G_RUNNING)
        goto out;
    if (LOAD_RLX(&pp->schedtick) != LOAD_RLX(&mp->preempt_tick))
        goto out;
#if defined(__x86_64__)
    uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    if (!pc_safe(pc))
        goto out;
    /* "call" the stub: skip the red zone, push the interrupted pc */
    uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
    sp -= 128 + 8;
    *(uintptr_t *)sp = pc;
    uc->uc_mcontext.gregs[REG_RSP] = (greg_t)sp;
    uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)grt__async_preempt;
    STORE_RLX(&mp->preempt_tick, UINT32_MAX);
#else
    (void)uc;
#endif
out:
    errno = saved;
    return;
chain:
    errno = saved;
    if (old_urg.sa_flags & SA_SIGINFO) {
        if (old_urg.sa_sigaction)
            old_urg.sa_sigaction(sig, si, ucv);
    } else if (old_urg.sa_handler != SIG_DFL &&
               old_urg.sa_handler != SIG_IGN) {
        old_urg.sa_handler(sig);
    }
}

/* Called by the stub on the goroutine's stack, all registers saved. */
void grt__preempt_park(void)
{
    int saved = errno;
    grt__preempt_yield();
    errno = saved;
}

void grt__preempt_init(void)
{
    pid = getpid();
    /* libunwind's local unwinder set up now, single-threaded: the catch
     * handler may be its first user on a thread, where a lazy set-up
     * would not be signal-safe */
    grt__uw_init();
    const char *e = getenv("GRT_ASYNCPREEMPT");
    bool want = !(e && !strcmp(e, "0"));
#if defined(GRT_TSAN)
    /* ThreadSanitizer defers asynchronous signals to its own safe points
     * and hands the handler a context it does not resume from: rewriting
     * it would be lost or worse, and unwinding it would read a stack
     * that has moved on.  Cooperative scheduling only, and no catches. */
    (void)want;
    return;
#endif
#if defined(__x86_64__)
    uint32_t r[4];
    cpuid_count(1, 0, r);
    if (r[2] & (1u << 27)) { /* OSXSAVE */
        cpuid_count(0xD, 0, r);
        grt__xsave_size = r[1] + 64; /* enabled features' size; slack */
    }
    Dl_info di;
    uintptr_t self = 0;
    if (dladdr((void *)grt__preempt_init, &di) && di.dli_fbase)
        self = (uintptr_t)di.dli_fbase;
    Dl_info mi;
    /* statically linked into the executable: cannot tell our code apart
     * (catching needs no such thing) */
    if (dladdr((void *)grt__preempt_init, &mi) && mi.dli_fname &&
        !strstr(mi.dli_fname, "libgrt"))
        want = false;
    if (want)
        dl_iterate_phdr(add_ranges, &self);
    preempt_on = want;
    catch_on = true;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_urg;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigfillset(&sa.sa_mask);
    sigaction(SIGURG, &sa, &old_urg);
#else
    (void)want;
#endif
}

/*
 * sysmon: ask Ms whose goroutine has run a quantum to yield.  Returns how
 * many were signalled.
 */
int grt__preempt_check(int64_t now)
{
    if (!preempt_on)
        return 0;
    int n = 0;
    int procs = LOAD_RLX(&grt__sched.gomaxprocs);
    for (int i = 0; i < procs; i++) {
        struct p *pp = LOAD_ACQ(&grt__sched.allp[i]);
        if (!pp || LOAD_RLX(&pp->status) != P_RUNNING)
            continue;
        uint32_t tick = LOAD_RLX(&pp->schedtick);
        if (tick != pp->sysmon_schedtick) {
            pp->sysmon_schedtick = tick;
            pp->sysmon_schedwhen = now;
            continue;
        }
        int64_t ran = now - pp->sysmon_schedwhen;
        int64_t t0 = LOAD_RLX(&pp->timer0_when);
        bool overdue = t0 != 0 && now - t0 > 1000000 && ran > 2000000;
        bool waiting = !((LOAD_RLX(&pp->runq_head) == LOAD_RLX(&pp->runq_tail)) &&
                         LOAD_RLX(&pp->runnext) == NULL) ||
                       LOAD_RLX(&grt__sched.runq_size) > 0;
        if (ran < QUANTUM_NS && !overdue)
            continue;
        if (!waiting && !overdue)
            continue; /* nobody waits for this P: let it run on */
        struct m *mp = LOAD_RLX(&pp->m);
        if (!mp || LOAD_RLX(&mp->blocked) || !mp->tid)
            continue;
        STORE_RLX(&mp->preempt_tick, tick);
        syscall(SYS_tgkill, pid, mp->tid, SIGURG);
        /* at most one request per quantum: if the goroutine was in
         * runtime code it is asked again a quantum later, not every
         * sysmon tick (a signal costs microseconds) */
        pp->sysmon_schedwhen = now;
        n++;
    }
    return n;
}

void grt_preempt_disable(void)
{
    getg()->preempt_off++;
}

void grt_preempt_enable(void)
{
    struct g *gp = getg();
    if (gp->preempt_off > 0)
        gp->preempt_off--;
}
