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
 * be told from the application's, and asynchronous preemption is off.
 * aarch64 has no stub yet: preemption there is cooperative only.
 *
 * The same signal catches a running goroutine's stack for the agent's
 * dumps (grt__preempt_catch): the agent posts a request naming the M and
 * the goroutine, signals the thread, and the handler unwinds the
 * interrupted context with libunwind (local, signal-safe) into the
 * agent's buffer before anything else.  One request at a time (the agent
 * is one thread); a request the handler has not taken within the timeout
 * is withdrawn with a CAS, so the handler never writes into a buffer the
 * agent gave up on.
 */
#include "config.h"

#include "rt.h"
#include "agent.h"

#ifdef HAVE_LIBUNWIND
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#endif
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
static bool enabled;
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

/* ---- catching a running goroutine's stack (agent dumps) ---- */

#define CATCH_MAX 256

enum { CATCH_IDLE, CATCH_ASKED, CATCH_BUSY, CATCH_DONE };

/* The request.  The frames go to a buffer of our own, copied out by the
 * agent, so that a handler finishing after the agent gave up (it may
 * block inside libunwind if the thread was interrupted holding the
 * loader's lock) writes nowhere that matters. */
static struct {
    uint32_t state;  /* atomic: CATCH_*; futex word */
    struct m *m;     /* the thread asked */
    int64_t goid;    /* the goroutine expected on it */
    uint32_t max, n;
    uint64_t pcs[CATCH_MAX];
} catch_req;

/* In the handler: answer a pending request for this thread. */
static void catch_answer(struct m *mp, ucontext_t *uc)
{
    if (LOAD_ACQ(&catch_req.state) != CATCH_ASKED ||
        LOAD_RLX(&catch_req.m) != mp)
        return;
    uint32_t want = CATCH_ASKED;
    if (!__atomic_compare_exchange_n(&catch_req.state, &want, CATCH_BUSY,
                                     false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_RELAXED))
        return;
    uint32_t n = 0;
    struct g *gp = mp->curg;
#ifdef HAVE_LIBUNWIND
    if (gp && !gp->is_g0 && gp->goid == catch_req.goid) {
        unw_cursor_t cur;
        if (unw_init_local2(&cur, (unw_context_t *)uc,
                            UNW_INIT_SIGNAL_FRAME) == 0) {
            do {
                unw_word_t ip;
                if (unw_get_reg(&cur, UNW_REG_IP, &ip) < 0 || ip == 0)
                    break;
                catch_req.pcs[n++] = ip;
            } while (n < catch_req.max && unw_step(&cur) > 0);
        }
    }
#else
    (void)gp;
    (void)uc;
#endif
    catch_req.n = n;
    STORE_REL(&catch_req.state, CATCH_DONE);
    syscall(SYS_futex, &catch_req.state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL,
            0);
}

int grt__preempt_catch(struct m *mp, int64_t goid, uint64_t *pcs,
                       uint32_t max, int64_t timeout_ns)
{
    if (!enabled || !mp || max == 0)
        return -1;
    int32_t tid = LOAD_RLX(&mp->tid);
    if (!tid)
        return -1;
    uint32_t st = LOAD_ACQ(&catch_req.state);
    if (st == CATCH_DONE) /* answered after we gave up on it */
        STORE_REL(&catch_req.state, st = CATCH_IDLE);
    if (st != CATCH_IDLE)
        return -1; /* an abandoned handler is still unwinding */
    catch_req.m = mp;
    catch_req.goid = goid;
    catch_req.max = max < CATCH_MAX ? max : CATCH_MAX;
    catch_req.n = 0;
    STORE_REL(&catch_req.state, CATCH_ASKED);
    if (syscall(SYS_tgkill, pid, tid, SIGURG) != 0) {
        st = CATCH_ASKED;
        if (__atomic_compare_exchange_n(&catch_req.state, &st, CATCH_IDLE,
                                        false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED))
            return -1;
    }
    int64_t deadline = grt__nanotime() + timeout_ns;
    while ((st = LOAD_ACQ(&catch_req.state)) != CATCH_DONE) {
        int64_t left = deadline - grt__nanotime();
        if (left <= 0) {
            if (st == CATCH_ASKED &&
                __atomic_compare_exchange_n(&catch_req.state, &st,
                                            CATCH_IDLE, false,
                                            __ATOMIC_ACQ_REL,
                                            __ATOMIC_RELAXED))
                return -1; /* never taken: withdrawn */
            if (st == CATCH_BUSY)
                return -1; /* taken, not finished: abandoned */
            continue;      /* it just finished */
        }
        struct timespec ts = {left / 1000000000, left % 1000000000};
        syscall(SYS_futex, &catch_req.state, FUTEX_WAIT_PRIVATE, st, &ts,
                NULL, 0);
    }
    int n = (int)catch_req.n;
    memcpy(pcs, catch_req.pcs, (size_t)n * sizeof *pcs);
    STORE_REL(&catch_req.state, CATCH_IDLE);
    return n;
}

static __attribute__((unused)) void on_urg(int sig, siginfo_t *si, void *ucv)
{
    int saved = errno;
    struct m *mp = grt__tls_m;
    ucontext_t *uc = ucv;
    if (!mp || !enabled)
        goto chain;
    catch_answer(mp, uc);
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
    const char *e = getenv("GRT_ASYNCPREEMPT");
    if (e && !strcmp(e, "0"))
        return;
#if defined(GRT_TSAN)
    /* ThreadSanitizer defers asynchronous signals to its own safe points
     * and hands the handler a context it does not resume from: rewriting
     * it would be lost or worse.  Cooperative scheduling only. */
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
    /* statically linked into the executable: cannot tell our code apart */
    if (dladdr((void *)grt__preempt_init, &mi) && mi.dli_fname &&
        !strstr(mi.dli_fname, "libgrt"))
        return;
    dl_iterate_phdr(add_ranges, &self);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_urg;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigfillset(&sa.sa_mask);
    sigaction(SIGURG, &sa, &old_urg);
    enabled = true;
#endif
}

/*
 * sysmon: ask Ms whose goroutine has run a quantum to yield.  Returns how
 * many were signalled.
 */
int grt__preempt_check(int64_t now)
{
    if (!enabled)
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
