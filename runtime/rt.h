/*
 * rt.h - the runtime's model: struct g, m, p, sched and waiter, their
 * states, and the internal calls between runtime files (grt's runtime2.go).
 *
 * The scheduler. Names and model follow Go's runtime/proc.go.
 *   G  a goroutine: stack, saved context, status, wait record.
 *   M  an OS thread; runs one G at a time, and only while holding a P.
 *      Each M also has a g0: a small context on its own stack where the
 *      scheduler loop runs when there is nothing to switch to directly.
 *   P  a processor: runq ring (256) + runnext, timers, counters.
 *      Exactly grt_maxprocs() are in use.
 *
 * Invariants:
 *   I1  A G is in exactly one place: running on one M, in one run queue
 *       (a runq, a runnext or the global queue), in one wait queue, in a
 *       timer, or free.
 *   I2  status == G_RUNNING  <=>  gp->m && gp->m->curg == gp && gp->m->p.
 *   I3  Only the owner P pushes onto p->runq or sets p->runnext; others
 *       only steal (CAS on runq_head) or take runnext with a CAS.
 *   I4  A P on sched.pidle has an empty runq and no M.
 *   I5  A G is never put where another M can find it before its own M is
 *       off its stack: every "park then release" runs in after_switch()
 *       on the next context (Go's park_m/unlockf done on g0).
 *
 * Lock order: sched.lock, then p->timers lock, then chan->lock (select
 * takes several chan locks in address order), then sema root locks.
 *
 * Rejected: one global run queue (does not scale); direct hand-off of a
 * readied G to a woken thread (thrashes threads; see Go's design doc).
 *
 * | state      | user code? | where        | owns stack? | M?  | P?    |
 * |------------|------------|--------------|-------------|-----|-------|
 * | G_IDLE     | no         | being made   | no          | no  | no    |
 * | G_RUNNABLE | no         | a run queue  | no          | no  | no    |
 * | G_RUNNING  | yes        | nowhere      | yes         | yes | yes   |
 * | G_WAITING  | no         | a wait queue | no          | no  | no    |
 * | G_DEAD     | no         | free list    | -           | -   | -     |
 */
#ifndef GRT_RT_H
#define GRT_RT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GRT_NO_ERRNO_OVERRIDE 1 /* rt.h makes its own, below */
#include "grt.h"

#include <errno.h>

#define HIDDEN __attribute__((visibility("hidden")))

/* errno in the runtime: the current thread's at each use, as <grt.h>
 * makes it for users (docs/errno.md).  A runtime call that parks (a
 * read, a connect, a lock) may resume on another thread, and glibc's
 * __errno_location is const, so with libc's macro the compiler kept
 * the first thread's &errno: grt_connect read a stale errno after its
 * park and failed with the error it should have retried.  grt__errno
 * (lock.c) is an opaque call, so it cannot be cached. */
HIDDEN int *grt__errno(void);
#undef errno
#define errno (*grt__errno())

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define CACHELINE 64

#define MAXPROCS_LIMIT 1024
#define RUNQ_SIZE 256

/* Relaxed/acquire/release shorthands over the GCC builtins. */
#define LOAD_RLX(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define LOAD_ACQ(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE_RLX(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define STORE_REL(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define CAS(p, o, n) \
    __atomic_compare_exchange_n((p), (o), (n), false, __ATOMIC_ACQ_REL, \
                                __ATOMIC_ACQUIRE)
#define XADD(p, v) __atomic_fetch_add((p), (v), __ATOMIC_ACQ_REL)
#define XCHG(p, v) __atomic_exchange_n((p), (v), __ATOMIC_ACQ_REL)

/* A full (StoreLoad) barrier: no later load runs before an earlier store is
 * visible to other threads.  On x86-64, a locked no-op on the stack (2 ns
 * here, MFENCE 16).  TSan rejects fences (-Wtsan), so under it the
 * barrier is a seq-cst RMW, which it models and x86 makes a full one. */
#if defined(__SANITIZE_THREAD__)
#define GRT_FENCE_RMW 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GRT_FENCE_RMW 1
#endif
#endif
#if defined(GRT_FENCE_RMW)
HIDDEN extern int grt__fence_word;
#define FULL_FENCE() \
    ((void)__atomic_fetch_or(&grt__fence_word, 0, __ATOMIC_SEQ_CST))
#elif defined(__x86_64__)
#define FULL_FENCE() \
    __asm__ __volatile__("lock orl $0, (%%rsp)" ::: "memory", "cc")
#else
#define FULL_FENCE() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif

/* ---- spin locks (short critical sections only; never held across park
 * except through park's own release).  Unlock is a plain release store:
 * no read-modify-write, which matters on the channel hand-off path (four
 * lock/unlock pairs per round trip).  A contended locker spins with pause,
 * then yields its thread (lock.c); sections are a few dozen instructions,
 * so a futex would only add an RMW to every unlock. ---- */

typedef struct spinlock {
    uint32_t v; /* 0 free, 1 held */
} spinlock;

HIDDEN void grt__lock_slow(spinlock *l);
HIDDEN void grt__lock_calibrate(int64_t ns, int pauses); /* ns for pauses PAUSEs */

static inline void lock(spinlock *l)
{
    uint32_t z = 0;
    if (likely(__atomic_compare_exchange_n(&l->v, &z, 1, false,
                                           __ATOMIC_ACQUIRE,
                                           __ATOMIC_RELAXED)))
        return;
    grt__lock_slow(l);
}

static inline bool trylock(spinlock *l)
{
    uint32_t z = 0;
    return __atomic_compare_exchange_n(&l->v, &z, 1, false, __ATOMIC_ACQUIRE,
                                       __ATOMIC_RELAXED);
}

static inline void unlock(spinlock *l)
{
    __atomic_store_n(&l->v, 0, __ATOMIC_RELEASE);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield" ::: "memory");
#endif
}

/* ---- saved contexts (arch/<cpu>/switch.S) ---- */

struct ctx {
#if defined(__x86_64__)
    void *sp, *pc, *rbx, *rbp, *r12, *r13, *r14, *r15;
#elif defined(__aarch64__)
    void *sp, *pc; /* pc is x30 at the switch */
    void *x19_x29[11];
    uint64_t d8_d15[8];
#endif
};

/*
 * Save the callee-saved registers and stack of the running code into
 * *from and resume *to.  Returns (into from's caller) when something
 * switches back to from.  No system call, no FP control words (they are
 * per-M state, as Go and libaco treat them).
 */
HIDDEN void grt__ctx_switch(struct ctx *from, struct ctx *to);
/* First code a new context runs: calls grt__g_entry() with nothing set,
 * then resumes the context it returns (the goroutine has ended). */
HIDDEN void grt__ctx_trampoline(void);

/* ---- wait reasons (Go's exact strings in grt__wait_reason_str) ---- */

enum wait_reason {
    WAIT_NONE = 0,
    WAIT_CHAN_RECV,
    WAIT_CHAN_SEND,
    WAIT_CHAN_RECV_NIL,
    WAIT_CHAN_SEND_NIL,
    WAIT_SELECT,
    WAIT_SELECT_NO_CASES,
    WAIT_SLEEP,
    WAIT_IO,
    WAIT_MUTEX_LOCK,
    WAIT_RWMUTEX_RLOCK,
    WAIT_RWMUTEX_LOCK,
    WAIT_WAITGROUP,
    WAIT_COND,
    WAIT_SYSCALL,
    WAIT_PREEMPTED,
    WAIT_MAX /* not ABI */
};
HIDDEN extern const char *const grt__wait_reason_str[WAIT_MAX];

enum gstatus {
    G_IDLE = 0,
    G_RUNNABLE,
    G_RUNNING,
    G_WAITING,
    G_SYSCALL,
    G_DEAD,
};

/* ---- stacks (stack.c) ---- */

struct stack {
    char *lo;   /* lowest usable byte (just above the guard) */
    char *hi;   /* one past the highest byte */
};

/* ---- timers (time.c) ---- */

struct timer;
typedef void (*timer_fn)(struct timer *t, int64_t now);

struct timer {
    int64_t when;          /* under the heap's lock */
    int64_t period;        /* > 0: ticker */
    timer_fn f;            /* called with no lock held, on a scheduler path */
    void *arg;
    struct p *pp;          /* heap it is in; NULL when not queued */
    int32_t idx;           /* index in pp->timers.heap; -1 none */
    uint32_t seq;          /* bumped by grt__timer_del */
    uint32_t running;      /* atomic: its callback runs now (del waits) */
    struct g *gp;          /* sleep: the goroutine */
};

/* A goroutine's timer for grt_sleep (time.c), allocated on its first
 * sleep and kept with its G: the timer heap writes a timer's index
 * whenever it moves, and these small blocks lie close together, unlike
 * stacks (where the timer used to live).  Not in the G itself, whose
 * size every parked goroutine pays in memory. */
struct sleep_timer {
    struct timer t; /* first: the callback gets &s->t */
    spinlock lk;    /* held from arming until the G is off its stack */
};

/* ---- goroutine ---- */

struct waiter;

struct g {
    struct ctx ctx;        /* saved registers while not running */
    struct stack *stack;   /* NULL for goroutine 1 (runs on the OS stack) */
    char *stack_lo, *stack_hi; /* bounds, also for g1 and g0 */
    struct g *schedlink;   /* run-queue / free-list link; owner of the queue */
    struct g_cold *cold;   /* the rest, on its stack's top page; never NULL;
                              beside schedlink, which gfget reads */
    struct m *m;           /* M running it, NULL when not running */
    int64_t goid;          /* immutable after creation */
    uint32_t status;       /* enum gstatus; atomic, via g_set_status */
    uint8_t wait_reason;   /* enum wait_reason; written by the G itself */
    uint8_t is_g0;         /* scheduler context of an M */
    int64_t wait_since;    /* grt__coarse_ns when it parked (monotonic ns,
                              within ~1 ms); 0 when not waiting */
    void *wait_obj;        /* channel, mutex... it waits on; NULL */
    uint32_t select_done;  /* select: 0 until a case wins; CAS 0->1 */
    struct waiter *wake_w; /* the waiter that woke it (select) */
    union {
        struct {               /* entry, valid until first run */
            void (*fn)(void *);
            void *arg;
        };
        struct {               /* while free: head of a batch of */
            struct g *gfree_next; /* sched.gfree: the next batch, */
            int32_t gfree_n;   /* and its own size (proc.c) */
        };
    };
    struct g *allnext;     /* all-G list (Gs are never freed); under
                              sched.allg_lock */
    struct m *lockedm;     /* M it is locked to (grt_lock_os_thread) */
    uint32_t lock_count;   /* grt_lock_os_thread nesting depth */
    uint32_t preempt_off;  /* grt_preempt_disable depth; owner only */
    /* ---- agent (agent/publish.c; append-only) ---- */
    struct grt_shm_g *agent_rec; /* its record in the segment, or a private
                                    dummy when not publishing; set by
                                    agent_g_alloc, never NULL after it */
    uint32_t agent_gen;          /* generation bits of the record's state
                                    word; whoever owns the G */
    uint32_t agent_flags;        /* what its record already holds
                                    (agent/publish.c); owner of the G */
    /* These two share agent_rec's line, which every park and wake-up
     * touches: in the cold part they cost a cache line per sleep or
     * contended unlock (timers_sleep wall 72 -> 78 ms, mutex_contended
     * 9.4 -> 10.2 ns per lock) */
    int64_t agent_unlock_ns;     /* coarse ns of its last unlock of a mutex
                                    with waiters (sync.c), published when
                                    it parks on a mutex; owner of the G */
    struct sleep_timer *sleep; /* grt_sleep's timer (time.c), made on the
                                  G's first sleep and kept with it */
};

/*
 * The cold part of a G: what only its creator, the goroutine itself, a
 * dump or the agent's site lookup touch; never a walk over many Gs, a
 * sleep, or the switch path of a build without sanitizers.  It lives on
 * the top page of the G's stack, just below struct stack, a page the
 * goroutine touches first anyway, so a parked goroutine costs a 240-byte
 * G instead of 384 (park_mem).  Goroutine 1 and each M's g0, which run
 * on stacks that are not ours, have one beside their G.  Whole Gs on
 * their stack pages were measured and rejected (docs/scheduler.md):
 * walks over Gs (a close waking 10,000, due timers) became a page walk
 * per G.
 */
struct g_cold {
    /* what the spawn path writes or compares: the first two lines */
    const char *fn_name, *file, *caller; /* creation site, then immutable */
    int32_t line;
    int32_t agent_site_line;
    int64_t parent_goid;
    int64_t start_ns;      /* grt__coarse_ns at creation */
    int64_t leak_scope;    /* grt_leak_scope_begin id, 0 none (leak.c);
                              copied from the creator at spawn, then
                              written by the G itself */
    /* agent: the creation-site key cached with agent_site, to skip the
     * site lookup when a G is reused for the same site; owner of the G */
    const char *agent_site_fn, *agent_site_file, *agent_site_caller;
    uint32_t agent_site;   /* site index + 1, 0 unknown */
    uint32_t pad;
    char name[32];         /* grt_go_named label, "" if none */
    void *asan_fake_stack; /* sanitizer fiber handles */
    /* ---- the third line ---- */
    void *tsan_fiber;
};

/* ---- machine (OS thread) ---- */

/* One dump's request to unwind the goroutine an M runs, answered by the
 * M's own SIGURG handler (preempt.c, grt__preempt_catch): any thread may
 * claim it with a CAS on state; pcs are written only by the handler that
 * took the request and read only by the dumper that claimed it. */
#define CATCH_MAX 256
struct m_catch {
    uint32_t state;          /* atomic, futex word: CATCH_* (preempt.c) */
    uint32_t max, n;         /* frames asked for; unwound */
    int64_t goid;            /* the goroutine expected on the M */
    uint64_t pcs[CATCH_MAX];
};

struct m {
    struct g g0;            /* scheduler context on this thread's own stack */
    struct g_cold g0_cold;  /* its cold part (g0.cold) */
    struct g *curg;         /* G running now (g0 while scheduling) */
    struct p *p;            /* attached P; NULL when idle */
    struct p *nextp;        /* P handed over by startm */
    struct m *schedlink;    /* idle list; under sched.lock */
    struct m *alllink;      /* all Ms; immutable once linked */
    int64_t id;
    int32_t tid;            /* OS thread id */
    uint32_t park;          /* futex word: 0 sleeping, 1 woken */
    bool spinning;          /* looking for work without a G */
    bool on_midle;          /* on sched.midle; under sched.lock */
    bool blocked;           /* in a blocking call (grt_syscall_enter) */
    struct g *lockedg;      /* G locked to this M, or NULL */
    struct p *oldp;         /* P it held when entering a blocking call */
    bool exiting;           /* its locked G exited: the thread ends */
    bool timer_spin;        /* counted in nmspinning while it runs its own
                               P's timers (proc.c's run_own_timers) */
    bool idlelocked;        /* counted in sched.nmidlelocked; (L) */
    uint32_t in_poll;       /* atomic: blocked in grt__netpoll */
    uint32_t preempt_tick;  /* atomic: schedtick sysmon wants ended */
    /* work for after_switch() on the next context */
    struct g *prevg;
    int after;              /* AFTER_* */
    spinlock *after_lock;   /* lock to release after a park */
    void (*after_fn)(void *); /* or a function to call after a park */
    void *after_arg;
    uint64_t fastrand;      /* per-M random state */
    char *g0_stack;         /* mmap'd stack of g0 (not for m0's? see proc.c) */
    size_t g0_stack_size;
    struct m_catch catch_slot; /* a dump's request to unwind curg */
};

enum {
    AFTER_NONE = 0,
    AFTER_PARK,       /* release after_lock or call after_fn */
    AFTER_YIELD,      /* back to the local queue's tail */
    AFTER_DEAD,       /* to the free list */
    AFTER_GLOBAL,     /* to the global queue */
    AFTER_EXITSYSCALL /* find a P for it, or queue it globally */
};


/* A timer heap entry: the deadline is kept beside the pointer, so sifting
 * compares within the heap's own (contiguous) memory and touches a timer
 * (on some goroutine's stack, far from the others) only to store its
 * index when it moves. */
struct tent {
    int64_t when;
    struct timer *t;
};

/* ---- processor ---- */

enum pstatus { P_IDLE = 0, P_RUNNING, P_SYSCALL, P_GCSTOP, P_DEAD };

struct p {
    int32_t id;
    uint32_t status;        /* enum pstatus; under sched.lock for idle */
    struct m *m;            /* M that holds it */
    struct p *link;         /* sched.pidle link */
    uint32_t schedtick;     /* incremented on every schedule() */
    uint32_t runnext_streak; /* consecutive runnext picks; owner only */
    int64_t goid_next, goid_end; /* cached batch of goroutine ids; owner */
    int64_t tcheck_t0;      /* timer_due's cache: timer0_when it saw */
    uint64_t tcheck_tsc;    /* and the tick count before which that
                               timer is not due; owner only */
    uint32_t timers_held;   /* schedules since due timers last fired
                               here (grt__timers_run); owner only */
    /* run queue: owner writes tail (release); consumers CAS head */
    _Alignas(CACHELINE) uint32_t runq_head;
    _Alignas(CACHELINE) uint32_t runq_tail;
    struct g *runnext;      /* owner sets; anyone may CAS it to NULL */
    struct g *runq[RUNQ_SIZE];
    /* free G cache (owner only) */
    struct g *gfree;
    int32_t ngfree;
    /* timers: a 4-ary heap under tlock */
    _Alignas(CACHELINE) spinlock tlock;
    struct tent *theap;     /* entries; theap[0] sits 48 bytes into a
                               cache line, so each group of 4 siblings
                               (4i+1..4i+4) fills exactly one line */
    void *theap_mem;        /* theap's allocation */
    int32_t tlen, tcap;
    int64_t timer0_when;    /* atomic: earliest when, 0 none */
    /* counters: owner writes, readers load relaxed */
    _Alignas(CACHELINE) uint64_t ctxswitches;
    uint64_t steals;
    uint64_t created;
    uint64_t exited;
    uint64_t preemptions;
    uint64_t syscalls;
    uint64_t mallocs;       /* objstat_*: objects made for the program */
    uint64_t frees;         /* (not goroutines: created and exited count */
    uint64_t alloc_bytes;   /* those), objects freed, bytes made */
    /* blocking calls: sysmon's view */
    uint32_t syscalltick;   /* bumped on every syscall_enter; owner */
    uint32_t sysmon_tick;   /* syscalltick sysmon saw last; sysmon only */
    int64_t syscall_when;   /* coarse ns of the last syscall_enter */
    uint32_t sysmon_schedtick; /* schedtick sysmon saw last; sysmon only */
    int64_t sysmon_schedwhen;  /* when it saw it change; sysmon only */
};

/* ---- the global scheduler ---- */

struct sched {
    spinlock lock;            /* guards the fields marked (L) */
    struct g *runq_head;      /* (L) global run queue */
    struct g *runq_tail;      /* (L) */
    int32_t runq_size;        /* (L), read racily as a hint */
    struct p *pidle;          /* (L) idle Ps */
    int32_t npidle;           /* atomic; written under L */
    int32_t nmspinning;       /* atomic */
    bool needspinning;        /* (L) a spinner was wanted but no P was idle */
    struct m *midle;          /* (L) idle Ms */
    int32_t nmidle;           /* (L) */
    int32_t nmidlelocked;     /* (L) Ms waiting for their locked G */
    int32_t mcount;           /* atomic; written under L: Ms alive */
    int32_t nmsys;            /* (L) Ms not counted for deadlock (sysmon) */
    int32_t gomaxprocs;       /* atomic; (L) to change */
    int32_t ncpu;
    struct p *allp[MAXPROCS_LIMIT]; /* allp[0..gomaxprocs-1] in use */
    struct m *allm;           /* list via alllink */
    int64_t goidgen;          /* atomic */
    int64_t mgen;             /* (L) */
    int64_t ngoroutines;      /* atomic: live goroutines */
    bool main_exited;         /* main called grt_goexit */
    struct m *tsleeper;       /* (L) the idle M sleeping until a timer */
    int64_t sleep_until;      /* atomic: its deadline; 0 no timer sleeper,
                                 INT64_MAX sleeping with none known yet */
    int32_t nallg;            /* written under allg_lock, read relaxed */
    /* global free Gs (under gflock), each with its stack: a stack of
     * batches, each a schedlink chain headed by a G whose gfree_next
     * links the next batch and gfree_n counts its own (struct g) */
    spinlock gflock;
    struct g *gfree;
    int32_t ngfree;           /* Gs in all batches; read relaxed */
    /* all goroutines, for dumps and the agent */
    spinlock allg_lock;
    struct g *allg;
    /* counters of dead Ps and exited Ms */
    uint64_t old_ctxswitches, old_steals, old_created, old_exited;
    /* objstat_* by a caller whose M has no P of its own (atomic) */
    uint64_t nop_mallocs, nop_frees, nop_alloc_bytes;
};

HIDDEN extern struct sched grt__sched;

/* The M running on this thread; NULL before the runtime starts or on a
 * foreign thread.  initial-exec: a plain %fs-relative load, re-read after
 * every switch (never cache &grt__tls_m across a park). */
HIDDEN extern __thread struct m *grt__tls_m
    __attribute__((tls_model("initial-exec")));

/*
 * Returning from a blocking half (docs/scheduler.md, "A switch").  A
 * goroutine resumed by a switch returns to its own caller while the CPU's
 * return-stack buffer (RSB) holds the caller of the goroutine that parked
 * just before: where the two differ (a sender and a receiver), a `ret`
 * mispredicts.  A function marked RETURN_VIA_THUNK returns through
 * switch.S's __x86_return_thunk instead, which uses `ret` when the return
 * address is grt__park_ra, the one the last goroutine to park in such a
 * function left on the RSB (set just before it parked), else an indirect
 * `jmp`, which the branch target buffer predicts from the history of
 * targets.  GCC on x86-64 only (function_return is GCC's; the kernel's
 * retpoline thunk has the same name and contract); elsewhere a plain ret.
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__CET__)
#define RETURN_VIA_THUNK __attribute__((function_return("thunk-extern")))
#define GRT_PARK_RA 1
#else
#define RETURN_VIA_THUNK
#define GRT_PARK_RA 0
#endif
HIDDEN extern __thread void *grt__park_ra /* switch.S reads it */
    __attribute__((tls_model("initial-exec")));

HIDDEN void grt__init(void);
HIDDEN extern struct g grt__g1;

/* Scheduler internals shared with other runtime files. */
HIDDEN _Noreturn void grt__g0_loop(struct m *mp);
HIDDEN _Noreturn void grt__goexit1(void);
HIDDEN void grt__gfput(struct p *pp, struct g *gp);
HIDDEN void grt__gfree_flush(struct p *pp);
/* Monotonic ns, refreshed by sysmon every ms (sysmon.c); one load. */
HIDDEN extern int64_t grt__coarse_ns;
static inline int64_t coarse_now(void) { return LOAD_RLX(&grt__coarse_ns); }

/*
 * The CPU's tick counter (rdtsc, 9 ns here against clock_gettime's 26)
 * and a lower bound on ticks per ns in 32.32 fixed point, measured by
 * sysmon against the monotonic clock; 0 until measured, and for ever
 * where the counter is not invariant, slow (trapped) or not x86
 * (sysmon.c's ticks_usable).  The scheduler reads cpu_ticks() only
 * once that is non-zero, and only for "certainly not yet" tests
 * (proc.c's timer_due): never as a clock.
 */
HIDDEN extern uint64_t grt__ticks_per_ns_q32;
static inline uint64_t cpu_ticks(void)
{
#if defined(__x86_64__)
    return __builtin_ia32_rdtsc();
#else
    return 0;
#endif
}
HIDDEN void grt__sysmon_start(void);
/* Wake the idle M that sleeps until the next timer if when is earlier. */
HIDDEN void grt__wake_timer_sleeper(int64_t when);
/* A timer callback readied a second G while mp->timer_spin: stop
 * counting as a spinner and wake an idle M for it (proc.c). */
HIDDEN void grt__timer_spin_end(struct m *mp);
/* Set by later subsystems (poller, blocking calls): false when something
 * may still wake a goroutine although every M is idle. */
HIDDEN extern bool (*grt__checkdead_hook)(void);

/* ---- network poller (netpoll_epoll.c) ---- */

/* Poll once, waiting at most ns (< 0 for ever, 0 not at all); returns the
 * goroutines made ready, linked by schedlink, and their count in *n. */
HIDDEN struct g *grt__netpoll(int64_t ns, int *n);
/* Wake an M blocked in grt__netpoll. */
HIDDEN void grt__netpoll_break(void);
/* True when goroutines wait on the poller. */
HIDDEN bool grt__netpoll_active(void);
/* Monotonic ns of the last poll; 0 while an M blocks in epoll_wait. */
HIDDEN int64_t grt__netpoll_lastpoll(void);
/* Make a list of goroutines (schedlink) runnable from anywhere (sysmon,
 * an M without a P): global queue, and Ms for idle Ps. */
HIDDEN void grt__injectglist(struct g *list, int n);

/* ---- asynchronous preemption (preempt.c) ---- */
HIDDEN void grt__preempt_init(void);
/* sysmon: signal Ms whose goroutine ran a quantum; returns how many. */
HIDDEN int grt__preempt_check(int64_t now);
/* The preempted goroutine gives its P away (proc.c). */
HIDDEN void grt__preempt_yield(void);
/* Called by the preemption stub with every register saved (preempt.S). */
HIDDEN void grt__preempt_park(void);
/* For dumps (the agent's, grt_dump's): the pcs of goroutine goid running
 * on mp, caught by SIGURG to its thread and unwound there from the
 * interrupted context (innermost first, the first one the interrupted
 * instruction; at most max).  Returns how many; 0 when goid was not
 * running on mp when the signal landed (it parked, entered a blocking
 * call, or mp runs another); -1 when not possible (no handler: TSan, not
 * x86-64; mp is the caller's own thread) or not answered within about
 * timeout_ns (the thread has SIGURG blocked, is stopped, or another
 * dumper held mp's slot all that time).  Any thread, any number at once,
 * also in a signal handler: claims mp's slot with a CAS, waits with
 * futexes, allocates nothing; never parks. */
HIDDEN int grt__preempt_catch(struct m *mp, int64_t goid, uint64_t *pcs,
                              uint32_t max, int64_t timeout_ns);
/* The dumpers' timeout: a thread that spins is answering within one
 * scheduling period of a loaded machine (CFS: up to tens of ms), and the
 * wait is paid only for one that does not answer at all. */
#define CATCH_TIMEOUT_NS 50000000LL

/* sysmon: take Ps from Ms blocked in calls for a whole tick (Go's
 * retake); returns how many were taken. */
HIDDEN int grt__retake(int64_t now);

struct sched_counters {
    uint64_t created, exited, ctxswitches, steals, preemptions, syscalls;
    uint64_t threads;
    uint64_t mallocs, frees, total_alloc; /* grt.h's, objstat_finish */
};
HIDDEN void grt__sched_counters(struct sched_counters *c);

static inline struct m *getm(void)
{
    struct m *mp = grt__tls_m;
    if (unlikely(!mp)) {
        grt__init();
        mp = grt__tls_m;
    }
    return mp;
}

/* The running goroutine (starts the runtime if needed). */
static inline struct g *getg(void) { return getm()->curg; }

/* ---- objects made for the program: grt_memstats' mallocs, frees and
 * total_alloc (grt.h defines which).  A plain increment of a counter of
 * the caller's P, as the scheduler's counters: its M owns the P, and
 * libgrt's code is never preempted.  In a blocking call
 * (grt_syscall_enter) sysmon may have handed the P to another M, so such
 * a caller, one with no P, or a thread that is no M (grt_chan_free never
 * needed one) adds to global atomics instead.
 * Goroutines are not counted here: created and exited count them. ---- */

static inline struct p *objstat_p(void)
{
    struct m *mp = grt__tls_m;
    return likely(mp && mp->p && !LOAD_RLX(&mp->blocked)) ? mp->p : NULL;
}

static inline void objstat_alloc(uint64_t bytes)
{
    struct p *pp = objstat_p();
    if (likely(pp)) {
        STORE_RLX(&pp->mallocs, pp->mallocs + 1);
        STORE_RLX(&pp->alloc_bytes, pp->alloc_bytes + bytes);
    } else {
        __atomic_fetch_add(&grt__sched.nop_mallocs, 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&grt__sched.nop_alloc_bytes, bytes,
                           __ATOMIC_RELAXED);
    }
}

static inline void objstat_free(void)
{
    struct p *pp = objstat_p();
    if (likely(pp))
        STORE_RLX(&pp->frees, pp->frees + 1);
    else
        __atomic_fetch_add(&grt__sched.nop_frees, 1, __ATOMIC_RELAXED);
}

/*
 * Complete c's mallocs, frees and total_alloc, summed over the Ps by the
 * caller: add the goroutines (one object of sizeof(struct g) each, made
 * when created and freed when exited) and the global counters.  The Ps
 * are read one after the other, so an object made on one P and freed on
 * another can show its free without its allocation for a moment: frees
 * is capped at mallocs, which keeps both monotonic from one reading to
 * the next.
 */
static inline void objstat_finish(struct sched_counters *c)
{
    c->mallocs += c->created + LOAD_RLX(&grt__sched.nop_mallocs);
    c->frees += c->exited + LOAD_RLX(&grt__sched.nop_frees);
    c->total_alloc += c->created * (uint64_t)sizeof(struct g) +
                      LOAD_RLX(&grt__sched.nop_alloc_bytes);
    if (c->frees > c->mallocs)
        c->frees = c->mallocs;
}

/* ---- scheduler entry points (proc.c) ---- */

/*
 * Park the running G with reason r on obj.  If lk is not NULL it is held
 * by the caller and is released only once the G is off its stack, so a
 * waker that takes lk cannot run the G too early (Go's gopark+unlockf).
 * Returns when someone calls grt__ready(gp).  Must run on a G, not g0.
 */
HIDDEN void grt__park(enum wait_reason r, void *obj, spinlock *lk);

/*
 * Make gp (G_WAITING) runnable: it goes to the caller's P runnext (Go's
 * ready with next=true) and an idle P is woken if one exists.  Safe from
 * any G or g0 holding any runtime lock.  Never blocks.
 */
HIDDEN void grt__ready(struct g *gp);

/*
 * As grt__park, but instead of one lock, fn(arg) runs once the G is off
 * its stack (select releases all its channel locks this way).
 */
HIDDEN void grt__park_fn(enum wait_reason r, void *obj, void (*fn)(void *),
                         void *arg);
/* grt__park_fn returning through the thunk (RETURN_VIA_THUNK): select's.
 * grt__park and grt__park_fn (WaitGroup's) return plainly (proc.c). */
HIDDEN void grt__park_fn_thunk(enum wait_reason r, void *obj,
                               void (*fn)(void *), void *arg);

/* Random number (per M, xorshift); cheap. */
HIDDEN uint32_t grt__fastrand(void);
/* grt__fastrand for a caller that has its M at hand (xorshift64, then a
 * multiply for the high bits) */
static inline uint32_t m_fastrand(struct m *mp)
{
    uint64_t x = mp->fastrand;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    mp->fastrand = x;
    return (uint32_t)((x * UINT64_C(2685821657736338717)) >> 32);
}
/* Uniform in [0, n) */
static inline uint32_t m_fastrandn(struct m *mp, uint32_t n)
{
    return (uint32_t)(((uint64_t)m_fastrand(mp) * n) >> 32);
}

/* Futex helpers. */
HIDDEN void grt__futex_wait(uint32_t *addr, uint32_t val, int64_t ns);
HIDDEN void grt__futex_wake(uint32_t *addr, int n);

/* ---- semaphores by address (sema.c), Go's runtime/sema.go ---- */

/*
 * Go's semacquire1: if *addr > 0 decrement it and return; otherwise park
 * (reason r, object obj) until a grt__sema_release hands one over.
 * lifo puts the caller at the head of the queue (sync.Mutex re-waiters).
 */
HIDDEN void grt__sema_acquire(uint32_t *addr, bool lifo, enum wait_reason r,
                              void *obj);
/*
 * Go's semrelease1: increment *addr and wake one waiter if any; handoff
 * passes the count directly to the woken waiter and yields to it (starving
 * mutex).
 */
HIDDEN void grt__sema_release(uint32_t *addr, bool handoff);

/* ---- time (time.c) ---- */

HIDDEN int64_t grt__nanotime(void);
HIDDEN void grt__timer_add(struct timer *t, int64_t when);
HIDDEN bool grt__timer_del(struct timer *t);
/* Run expired timers of pp; returns the next when (0 none). */
HIDDEN int64_t grt__timers_run(struct p *pp, int64_t now);
/* Earliest pending timer over all Ps (0 none). */
HIDDEN int64_t grt__timers_next(void);
/* Move timers of a P being destroyed to the caller's P. */
HIDDEN void grt__timers_move(struct p *from, struct p *to);

/* ---- stacks (stack.c) ---- */

HIDDEN extern size_t grt__stack_size; /* usable bytes per goroutine stack */
/* A stack for a new G (Gs keep theirs when recycled).  Never NULL. */
HIDDEN struct stack *grt__stack_alloc(void);
/* Return the pages of s below its top few KiB (G leaving a P's cache). */
HIDDEN void grt__stack_trim(struct stack *s);
/* Check the canary of an unguarded stack (throws on overflow). */
HIDDEN void grt__stack_check(struct stack *s);
HIDDEN void grt__stack_init(void);
HIDDEN void grt__sync_init(void); /* sync.c: calibrates mutex spinning */
HIDDEN void grt__stack_usage(uint64_t *inuse, uint64_t *sys);
/* Address space reserved for goroutine stacks (stack_sys): cheap, no
 * /proc read, for the agent's sampler. */
HIDDEN uint64_t grt__stack_reserved(void);
HIDDEN void grt__signals_init(void);

/* ---- channels (chan.c, select.c) ---- */

/* Non-blocking send from the scheduler (timer channels): true if sent. */
HIDDEN bool grt__chan_trysend(grt_chan *c, const void *elem);
/* Drop a buffered value, if any (timer stop/reset, Go 1.23). */
HIDDEN void grt__chan_drain(grt_chan *c);
/*
 * Only for grt_after: c owns t (malloc'd); grt_chan_free(c) deletes the
 * timer with grt__timer_del and free()s it.  Timer and ticker channels
 * are not tied this way: grt_timer_free/grt_ticker_free delete their
 * timer first, then call grt_chan_free on their channel.
 */
HIDDEN void grt__chan_set_timer(grt_chan *c, struct timer *t);

/* ---- errors (panic.c) ---- */

/* Go's throw: "fatal error: msg", traceback, exit 2.  Never returns. */
HIDDEN _Noreturn void grt__throw(const char *msg);
/* Go's panic for runtime errors: "panic: msg" (+ " [recovered]" never). */
HIDDEN _Noreturn void grt__panic_str(const char *msg);
/* Go's fatal for sync misuse: "fatal error: msg", exit 2. */
HIDDEN _Noreturn void grt__fatal(const char *msg);

/* ---- added for sync ---- */

/*
 * As n calls of grt__sema_release(addr, false), except that *addr is
 * written only once, first: no waiter woken can find the semaphore's
 * memory touched after it returns (WaitGroup, whose waiter may free it).
 */
HIDDEN void grt__sema_release_n(uint32_t *addr, uint32_t n);

#endif /* GRT_RT_H */
