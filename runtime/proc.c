/*
 * proc.c - the scheduler: start-up, goroutine creation and exit, park and
 * ready, the per-P run queues, work stealing, idle threads, GOMAXPROCS and
 * deadlock detection.  Model and names follow Go's runtime/proc.go; read
 * rt.h first for the invariants.
 *
 * Switching.  A goroutine that stops running (park, yield, exit) first
 * tries to switch *directly* to the next G of its P's run queue; only when
 * the queue is empty (or timers are due, or the P must be given up) does it
 * switch to its M's g0, where the full scheduler loop runs and an idle M
 * sleeps.  Either way, what must happen once the old G is off its stack
 * (release the lock it parked under, queue it again, free it) is recorded
 * in the M (prevg/after/after_lock) and done by after_switch() in the
 * context that runs next (rt.h, I5).  Go always goes through g0 (mcall);
 * the direct switch saves one switch and keeps caches warm.
 *
 * Idle Ms and timers.  An M with nothing to do releases its P and sleeps
 * on its own futex word.  One idle M at a time, the timer sleeper, sleeps
 * with a timeout: the earliest timer of any P.  grt__wake_timer_sleeper()
 * wakes it when an earlier timer appears.  Go does this with the netpoller;
 * the poller joins this path with the blocking-calls issue.
 *
 * Spinning (Go's protocol, abridged).  Submitter: 1. put work in a queue
 * 2. full fence (wakep's FULL_FENCE) 3. if an idle P exists and nobody
 * spins, start a spinning M (wakep).  Spinner about to sleep: 1. decrement
 * nmspinning 2. full fence 3. re-check every run queue and the global
 * one.  One of the two sees the other, so no work is stranded.  Step 2 on
 * the submitter's side must be a real fence: the put is a plain store (an
 * empty runnext, a ring slot, a spin lock's release), and x86 lets a load
 * pass an earlier store, so without it the submitter can read "a spinner
 * exists" while the spinner's re-check reads the queue still empty.
 *
 * Left out here: preemption, blocking-call hand-off, the poller and
 * lock_os_thread (the blocking-calls issue), and stack traces (the dump
 * issue).  grt_maxprocs shrinking takes effect on a P when its M next
 * schedules (there is no stop-the-world).
 */
#include "config.h"

#include "rt.h"
#include "san.h"
#include "agent.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct sched grt__sched;
#if defined(GRT_FENCE_RMW)
int grt__fence_word; /* FULL_FENCE's target under TSan (rt.h) */
#endif
__thread struct m *grt__tls_m __attribute__((tls_model("initial-exec")));
__thread void *grt__park_ra __attribute__((tls_model("initial-exec")));

const char *const grt__wait_reason_str[WAIT_MAX] = {
    [WAIT_NONE] = "",
    [WAIT_CHAN_RECV] = "chan receive",
    [WAIT_CHAN_SEND] = "chan send",
    [WAIT_CHAN_RECV_NIL] = "chan receive (nil chan)",
    [WAIT_CHAN_SEND_NIL] = "chan send (nil chan)",
    [WAIT_SELECT] = "select",
    [WAIT_SELECT_NO_CASES] = "select (no cases)",
    [WAIT_SLEEP] = "sleep",
    [WAIT_IO] = "IO wait",
    [WAIT_MUTEX_LOCK] = "sync.Mutex.Lock",
    [WAIT_RWMUTEX_RLOCK] = "sync.RWMutex.RLock",
    [WAIT_RWMUTEX_LOCK] = "sync.RWMutex.Lock",
    [WAIT_WAITGROUP] = "sync.WaitGroup.Wait",
    [WAIT_COND] = "sync.Cond.Wait",
    [WAIT_SYSCALL] = "syscall",
    [WAIT_PREEMPTED] = "preempted",
};

static struct m m0;             /* the initial thread */
HIDDEN struct g grt__g1;        /* goroutine 1: main, on the OS stack */
bool (*grt__checkdead_hook)(void);
static pthread_mutex_t init_mu = PTHREAD_MUTEX_INITIALIZER;
static bool started;

#define G0_STACK_M0 (256 * 1024)
/* Signal stacks hold crash reports (libunwind, libdw: panic.c); only
 * touched pages cost memory. */
#define SIGSTACK_SIZE (1024 * 1024)
#define GOID_BATCH 16
#define RUNNEXT_STREAK 64       /* runnext picks before the runq gets a turn */

static struct g *findrunnable(struct m *mp);
static inline void wakep(void);
static inline void after_switch(struct m *mp);
HIDDEN struct ctx *grt__g_entry(void);

static inline uint64_t seed_bits(void)
{
#if defined(__x86_64__)
    return __builtin_ia32_rdtsc();
#else
    return (uint64_t)grt__nanotime();
#endif
}

/* ---------------------------------------------------------------------
 * Random numbers (per M, xorshift64*)
 * --------------------------------------------------------------------- */

uint32_t grt__fastrand(void)
{
    return m_fastrand(getm());
}

/* ---------------------------------------------------------------------
 * Local run queues: Go's runqput/runqget/runqgrab.  Owner writes tail with
 * release; consumers read tail with acquire and claim slots with a CAS on
 * head.  Slots are accessed relaxed (a stealer may read a slot the owner
 * is overwriting; its CAS on head then fails and it retries).
 * --------------------------------------------------------------------- */

static inline bool runq_empty(struct p *pp)
{
    uint32_t h = LOAD_ACQ(&pp->runq_head);
    uint32_t t = LOAD_ACQ(&pp->runq_tail);
    return h == t && LOAD_RLX(&pp->runnext) == NULL;
}

static void globrunqput_batch(struct g *head, struct g *tail, int n)
{
    lock(&grt__sched.lock);
    tail->schedlink = NULL;
    if (grt__sched.runq_tail)
        grt__sched.runq_tail->schedlink = head;
    else
        grt__sched.runq_head = head;
    grt__sched.runq_tail = tail;
    STORE_RLX(&grt__sched.runq_size, grt__sched.runq_size + n);
    unlock(&grt__sched.lock);
}

/* Move half the local queue plus gp to the global queue (queue full). */
static bool runqputslow(struct p *pp, struct g *gp, uint32_t h, uint32_t t)
{
    struct g *batch[RUNQ_SIZE / 2 + 1];
    uint32_t n = (t - h) / 2;
    for (uint32_t i = 0; i < n; i++)
        batch[i] = LOAD_RLX(&pp->runq[(h + i) % RUNQ_SIZE]);
    if (!__atomic_compare_exchange_n(&pp->runq_head, &h, h + n, false,
                                     __ATOMIC_RELEASE, __ATOMIC_RELAXED))
        return false;
    batch[n] = gp;
    for (uint32_t i = 0; i < n; i++)
        batch[i]->schedlink = batch[i + 1];
    globrunqput_batch(batch[0], batch[n], (int)n + 1);
    return true;
}

/* runqput's result: bits */
#define RUNQ_FULL 1u   /* the ring is now full or spilled (newproc backs off) */
#define RUNQ_FENCED 2u /* a locked swap made the work visible: wakep's fence
                        * is done (wakep_put) */

/* runqput's work but for filling an empty runnext (below). */
static unsigned runqput_slow(struct p *pp, struct g *gp, bool next)
{
    unsigned fenced = 0;
    if (next) {
        struct g *old =
            __atomic_exchange_n(&pp->runnext, gp, __ATOMIC_ACQ_REL);
        if (!old)
            return RUNQ_FENCED;
        gp = old;
        fenced = RUNQ_FENCED;
    }
    for (;;) {
        uint32_t h = LOAD_ACQ(&pp->runq_head); /* pairs with stealers' CAS */
        uint32_t t = pp->runq_tail;
        if (t - h < RUNQ_SIZE) {
            STORE_RLX(&pp->runq[t % RUNQ_SIZE], gp);
            STORE_REL(&pp->runq_tail, t + 1); /* pairs with LOAD_ACQ(tail) */
            return fenced | (t + 1 - h == RUNQ_SIZE ? RUNQ_FULL : 0);
        }
        if (runqputslow(pp, gp, h, t))
            return fenced | RUNQ_FULL;
    }
}

/*
 * Put gp on pp's queue; next puts it in runnext (kicking the old one to
 * the tail).  Only the owner of pp calls this (I3).  Returns RUNQ_ bits.
 * Stealers only ever CAS runnext from non-NULL to NULL, so an empty
 * runnext is filled with a plain store, inline (every channel hand-off);
 * a full one is swapped and the old G goes to the tail.
 */
static inline unsigned runqput(struct p *pp, struct g *gp, bool next)
{
    if (next && !LOAD_RLX(&pp->runnext)) {
        STORE_REL(&pp->runnext, gp);
        return 0;
    }
    return runqput_slow(pp, gp, next);
}

/*
 * Take a G from pp's queue (owner only).  *inherit tells whether it came
 * from runnext (it inherits the time slice, as in Go).  After
 * RUNNEXT_STREAK consecutive runnext picks with work waiting in the ring,
 * the ring gets a turn: without preemption two goroutines handing off to
 * each other through runnext would otherwise starve the rest.
 */
static struct g *runqget_ring(struct p *pp, bool *inherit);

static inline struct g *runqget(struct p *pp, bool *inherit)
{
    struct g *next = LOAD_RLX(&pp->runnext);
    if (next && (pp->runnext_streak < RUNNEXT_STREAK ||
                 LOAD_RLX(&pp->runq_tail) == LOAD_RLX(&pp->runq_head))) {
        if (__atomic_compare_exchange_n(&pp->runnext, &next, NULL, false,
                                        __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
            pp->runnext_streak++;
            *inherit = true;
            return next;
        }
    }
    return runqget_ring(pp, inherit);
}

/* runqget past runnext: the ring, else runnext after all. */
static struct g *runqget_ring(struct p *pp, bool *inherit)
{
    struct g *next;
    pp->runnext_streak = 0;
    *inherit = false;
    for (;;) {
        uint32_t h = LOAD_ACQ(&pp->runq_head);
        uint32_t t = pp->runq_tail;
        if (t == h) {
            next = LOAD_RLX(&pp->runnext);
            if (next && __atomic_compare_exchange_n(
                            &pp->runnext, &next, NULL, false,
                            __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
                *inherit = true;
                return next;
            }
            return NULL;
        }
        struct g *gp = LOAD_RLX(&pp->runq[h % RUNQ_SIZE]);
        if (__atomic_compare_exchange_n(&pp->runq_head, &h, h + 1, false,
                                        __ATOMIC_RELEASE, __ATOMIC_RELAXED))
            return gp;
    }
}

/*
 * Grab half of victim's queue into batch (a ring of RUNQ_SIZE starting at
 * bh).  With steal_next, also take victim's runnext when the ring is empty
 * (after a short pause if its owner is running: it is probably about to
 * run it itself, Go's usleep(3); and not at all if the owner switched
 * goroutines during the pause).  Returns how many were taken.
 */
static uint32_t runqgrab(struct p *victim, struct g **batch, uint32_t bh,
                         bool steal_next)
{
    for (;;) {
        uint32_t h = LOAD_ACQ(&victim->runq_head);
        uint32_t t = LOAD_ACQ(&victim->runq_tail);
        uint32_t n = t - h;
        n = n - n / 2;
        if (n == 0) {
            if (steal_next) {
                struct g *next = LOAD_RLX(&victim->runnext);
                if (next) {
                    if (LOAD_RLX(&victim->status) == P_RUNNING) {
                        uint64_t sw = LOAD_RLX(&victim->ctxswitches);
                        struct timespec ts = {0, 3000};
                        nanosleep(&ts, NULL);
                        /* The owner switched meanwhile: it is scheduling,
                         * so what runnext holds now is new work it is
                         * about to run, even when the pointer is the
                         * same (Gs are recycled: Go's CAS alone takes
                         * the next goroutine of a spawn-and-wait loop
                         * and moves the loop to this P) */
                        if (LOAD_RLX(&victim->ctxswitches) != sw) {
                            /* what it displaced from runnext meanwhile
                             * is in the ring now: take that instead */
                            if (LOAD_ACQ(&victim->runq_tail) !=
                                LOAD_ACQ(&victim->runq_head))
                                continue;
                            return 0;
                        }
                    }
                    if (!__atomic_compare_exchange_n(
                            &victim->runnext, &next, NULL, false,
                            __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
                        continue;
                    STORE_RLX(&batch[bh % RUNQ_SIZE], next);
                    return 1;
                }
            }
            return 0;
        }
        if (n > RUNQ_SIZE / 2)
            continue; /* read an inconsistent h and t */
        for (uint32_t i = 0; i < n; i++) {
            struct g *gp = LOAD_RLX(&victim->runq[(h + i) % RUNQ_SIZE]);
            STORE_RLX(&batch[(bh + i) % RUNQ_SIZE], gp);
        }
        if (__atomic_compare_exchange_n(&victim->runq_head, &h, h + n,
                                        false, __ATOMIC_RELEASE,
                                        __ATOMIC_RELAXED))
            return n;
    }
}

/* Steal half of victim's work into pp; return one G to run, or NULL. */
static struct g *runqsteal(struct p *pp, struct p *victim, bool steal_next)
{
    uint32_t t = pp->runq_tail;
    uint32_t n = runqgrab(victim, pp->runq, t, steal_next);
    if (n == 0)
        return NULL;
    n--;
    struct g *gp = LOAD_RLX(&pp->runq[(t + n) % RUNQ_SIZE]);
    if (n)
        STORE_REL(&pp->runq_tail, t + n);
    return gp;
}

/* Global queue: take up to max (0: a fair share) into pp; sched.lock held. */
static struct g *globrunqget(struct p *pp, int max)
{
    int size = grt__sched.runq_size;
    if (size == 0)
        return NULL;
    int procs = LOAD_RLX(&grt__sched.gomaxprocs);
    int n = size / procs + 1;
    if (n > size)
        n = size;
    if (max > 0 && n > max)
        n = max;
    if (n > RUNQ_SIZE / 2)
        n = RUNQ_SIZE / 2;
    STORE_RLX(&grt__sched.runq_size, size - n);
    struct g *gp = grt__sched.runq_head;
    grt__sched.runq_head = gp->schedlink;
    if (!grt__sched.runq_head)
        grt__sched.runq_tail = NULL;
    while (--n > 0) {
        struct g *g2 = grt__sched.runq_head;
        grt__sched.runq_head = g2->schedlink;
        if (!grt__sched.runq_head)
            grt__sched.runq_tail = NULL;
        runqput(pp, g2, false);
    }
    return gp;
}

/* ---------------------------------------------------------------------
 * Idle Ps and Ms (sched.lock held)
 * --------------------------------------------------------------------- */

static void pidleput(struct p *pp)
{
    STORE_RLX(&pp->status, P_IDLE);
    STORE_RLX(&pp->m, NULL);
    pp->link = grt__sched.pidle;
    grt__sched.pidle = pp;
    STORE_RLX(&grt__sched.npidle, grt__sched.npidle + 1);
}

static struct p *pidleget(void)
{
    struct p *pp = grt__sched.pidle;
    if (pp) {
        grt__sched.pidle = pp->link;
        STORE_RLX(&grt__sched.npidle, grt__sched.npidle - 1);
        pp->link = NULL;
    }
    return pp;
}

/*
 * pidleget for a would-be spinner (Go 1.21's pidlegetSpinning); sched.lock
 * held.  Finding no idle P, it notes that a spinner was wanted: an M about
 * to give up its P without spinning (findrunnable) then spins instead.
 * Without this, a wakep whose startm found no P undid its count in
 * nmspinning only after that M had read the count, judged that someone
 * spun, and idled its P without looking at the queues: the work that
 * wakep was for stayed queued with a P idle (a goroutine spawning two and
 * then spinning hung, check_sched's t_queued_work_wakes_idle_p).
 */
static struct p *pidleget_spinning(void)
{
    struct p *pp = pidleget();
    grt__sched.needspinning = pp == NULL;
    return pp;
}

static void mput(struct m *mp)
{
    mp->schedlink = grt__sched.midle;
    grt__sched.midle = mp;
    grt__sched.nmidle++;
    mp->on_midle = true;
}

static struct m *mget(void)
{
    struct m *mp = grt__sched.midle;
    if (mp) {
        grt__sched.midle = mp->schedlink;
        grt__sched.nmidle--;
        mp->on_midle = false;
    }
    return mp;
}

static void mremove(struct m *mp)
{
    for (struct m **pm = &grt__sched.midle; *pm; pm = &(*pm)->schedlink) {
        if (*pm == mp) {
            *pm = mp->schedlink;
            grt__sched.nmidle--;
            mp->on_midle = false;
            return;
        }
    }
}

static void acquirep(struct m *mp, struct p *pp)
{
    mp->p = pp;
    STORE_RLX(&pp->m, mp);
    STORE_RLX(&pp->status, P_RUNNING);
}

/* ---------------------------------------------------------------------
 * Threads
 * --------------------------------------------------------------------- */

static void stack_bounds_of_thread(struct g *g0)
{
    pthread_attr_t attr;
    void *addr;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        pthread_attr_getstack(&attr, &addr, &size);
        pthread_attr_destroy(&attr);
        g0->stack_lo = addr;
        g0->stack_hi = (char *)addr + size;
    }
}

static void sigaltstack_init(void)
{
    stack_t ss;
    ss.ss_sp = mmap(NULL, SIGSTACK_SIZE, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (ss.ss_sp == MAP_FAILED)
        return;
    ss.ss_size = SIGSTACK_SIZE;
    ss.ss_flags = 0;
    sigaltstack(&ss, NULL);
}

static void *mstart(void *arg)
{
    struct m *mp = arg;
    grt__tls_m = mp;
    /* idle Ms sleep until the next timer: without this the kernel may
     * add its default 50 us of slack to every such wake-up */
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    mp->tid = (int32_t)syscall(SYS_gettid);
    mp->curg = &mp->g0;
    stack_bounds_of_thread(&mp->g0);
    san_thread_start(&mp->g0);
    sigaltstack_init();
    acquirep(mp, mp->nextp);
    mp->nextp = NULL;
    grt__g0_loop(mp);
    return NULL;
}

/* Start a new M for pp (sched.lock not held). */
static void newm(struct p *pp, bool spinning)
{
    struct m *mp = calloc(1, sizeof *mp);
    if (!mp)
        grt__throw("runtime: cannot allocate an M");
    mp->g0.is_g0 = 1;
    mp->g0.m = mp;
    mp->g0.cold = &mp->g0_cold;
    mp->nextp = pp;
    mp->spinning = spinning;
    lock(&grt__sched.lock);
    mp->id = ++grt__sched.mgen;
    mp->fastrand = (uint64_t)mp->id * UINT64_C(0x9E3779B97F4A7C15) ^
                   seed_bits();
    STORE_RLX(&grt__sched.mcount, grt__sched.mcount + 1); /* read unlocked */
    agent_m_new(mp);
    mp->alllink = grt__sched.allm;
    STORE_REL(&grt__sched.allm, mp);
    unlock(&grt__sched.lock);

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 1 << 20);
    /* New threads start with every signal blocked but the synchronous ones
     * and SIGURG; the application's handlers run on its own threads. */
    sigset_t all, old;
    sigfillset(&all);
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGFPE);
    sigdelset(&all, SIGILL);
    sigdelset(&all, SIGURG);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t th;
    int err = pthread_create(&th, &attr, mstart, mp);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (err) {
        fprintf(stderr, "runtime: failed to create new OS thread (%s)\n",
                strerror(err));
        grt__throw("newosproc");
    }
}

/* Wake mp from stopm: its futex, or the poller it may block in.  The
 * sleeper sets in_poll then re-checks park; we set park then check
 * in_poll (both seq-cst), so one of us sees the other. */
static void notewakeup(struct m *mp)
{
    __atomic_store_n(&mp->park, 1, __ATOMIC_SEQ_CST);
    grt__futex_wake(&mp->park, 1);
    if (__atomic_load_n(&mp->in_poll, __ATOMIC_SEQ_CST))
        grt__netpoll_break();
}

/*
 * Give pp (or an idle P when NULL) to an idle or new M.  With spinning the
 * caller has already counted the M in nmspinning.
 */
static void startm(struct p *pp, bool spinning)
{
    lock(&grt__sched.lock);
    if (!pp) {
        pp = spinning ? pidleget_spinning() : pidleget();
        if (!pp) {
            if (spinning) /* under the lock, as needspinning was set */
                XADD(&grt__sched.nmspinning, -1);
            unlock(&grt__sched.lock);
            return;
        }
    }
    STORE_RLX(&pp->status, P_RUNNING); /* claimed: not idle, not stealable as idle */
    struct m *mp = mget();
    if (mp) {
        mp->spinning = spinning;
        mp->nextp = pp;
    }
    unlock(&grt__sched.lock);
    if (!mp) {
        newm(pp, spinning);
        return;
    }
    notewakeup(mp);
}

/* Start a spinning M if a P is idle and nobody spins (Go's wakep). */
static void wakep_slow(void)
{
    int32_t zero = 0;
    if (LOAD_RLX(&grt__sched.nmspinning) != 0 ||
        !CAS(&grt__sched.nmspinning, &zero, 1))
        return;
    startm(NULL, true);
}

/*
 * wakep after runqput returned put.  When runqput swapped a full runnext
 * (RUNQ_FENCED), that locked swap was the fence, as Go's CAS on runnext
 * is: a spinner's last look finds runnext taken.  Not fencing again
 * matters in a spawn burst across CPUs, where the fence would wait for
 * the spawner's stores to lines the other CPU holds (spawn_100k 57 -> 77
 * ns per goroutine with it).
 */
static inline void wakep_put(unsigned put)
{
    if (!(put & RUNQ_FENCED))
        FULL_FENCE();
    if (LOAD_RLX(&grt__sched.npidle) != 0)
        wakep_slow();
}

/* After any other put (no swap known): fence, then wakep. */
static inline void wakep(void)
{
    wakep_put(0);
}

/* A spinning M found work: stop spinning; wake another if it was last. */
static void resetspinning(struct m *mp)
{
    mp->spinning = false;
    int32_t nr = XADD(&grt__sched.nmspinning, -1) - 1;
    if (nr == 0 && LOAD_RLX(&grt__sched.npidle) > 0)
        wakep();
}

/* ---------------------------------------------------------------------
 * Deadlock
 * --------------------------------------------------------------------- */

static int64_t live_goroutines(void)
{
    int64_t n = 0;
    for (int i = 0; i < MAXPROCS_LIMIT; i++) {
        struct p *pp = LOAD_ACQ(&grt__sched.allp[i]);
        if (!pp)
            break;
        n += (int64_t)LOAD_RLX(&pp->created) -
             (int64_t)LOAD_ACQ(&pp->exited);
    }
    return n;
}

/*
 * Called with sched.lock held when an M goes idle: if every M is idle, no
 * G can ever be made runnable again unless a timer is pending (Go's
 * checkdead; the poller and blocking calls join with their issue).
 */
static void checkdead(void)
{
    if (grt__sched.nmidle + grt__sched.nmidlelocked + grt__sched.nmsys <
        grt__sched.mcount)
        return;
    if (grt__sched.runq_size > 0)
        return;
    for (int i = 0; i < grt__sched.gomaxprocs; i++)
        if (grt__sched.allp[i] && !runq_empty(grt__sched.allp[i]))
            return;
    if (grt__timers_next() != 0)
        return;
    if (grt__netpoll_active())
        return; /* a goroutine waits on a socket: the poller may wake it */
    if (grt__checkdead_hook && !grt__checkdead_hook())
        return;
    if (live_goroutines() == 0 && grt__sched.main_exited)
        grt__throw("no goroutines (main called runtime.Goexit) - "
                          "deadlock!");
    grt__throw("all goroutines are asleep - deadlock!");
}

/* ---------------------------------------------------------------------
 * Idle M: sleep until handed a P, or until the next timer
 * --------------------------------------------------------------------- */

/*
 * Put mp to sleep; returns with mp->p set.  Called without a P and
 * without locks.
 */
static void stopm(struct m *mp)
{
    bool may_time = true;
    for (;;) {
        lock(&grt__sched.lock);
        STORE_RLX(&mp->park, 0);
        mp->nextp = NULL;
        mput(mp);
        bool tsleep = false;
        if (may_time && !grt__sched.tsleeper) {
            grt__sched.tsleeper = mp;
            /* (T1) then (T4), grt__timers_next below: pairs with
             * grt__timer_add's (T3) then (T2).  All four seq-cst, so
             * either the adder sees us here and wakes us, or we see
             * its timer. */
            __atomic_store_n(&grt__sched.sleep_until, INT64_MAX,
                             __ATOMIC_SEQ_CST);
            tsleep = true;
        }
        checkdead();
        unlock(&grt__sched.lock);

        struct g *polled = NULL;
        int npolled = 0;
        if (tsleep) {
            int64_t next = grt__timers_next();
            int64_t now = grt__nanotime();
            if (next)
                STORE_RLX(&grt__sched.sleep_until, next);
            if (grt__netpoll_active()) {
                /* the timer sleeper is the poller (Go's netpoll(delay)) */
                __atomic_store_n(&mp->in_poll, 1, __ATOMIC_SEQ_CST);
                if (!__atomic_load_n(&mp->park, __ATOMIC_SEQ_CST))
                    polled = grt__netpoll(next ? (next > now ? next - now : 0)
                                               : -1,
                                          &npolled);
                __atomic_store_n(&mp->in_poll, 0, __ATOMIC_SEQ_CST);
            } else if (next) {
                while (!LOAD_ACQ(&mp->park) && now < next) {
                    grt__futex_wait(&mp->park, 0, next - now);
                    now = grt__nanotime();
                }
            } else {
                while (!LOAD_ACQ(&mp->park))
                    grt__futex_wait(&mp->park, 0, -1);
            }
        } else {
            while (!LOAD_ACQ(&mp->park))
                grt__futex_wait(&mp->park, 0, -1);
        }

        lock(&grt__sched.lock);
        if (grt__sched.tsleeper == mp) {
            grt__sched.tsleeper = NULL;
            STORE_RLX(&grt__sched.sleep_until, 0);
        }
        if (polled) { /* ready I/O waiters: global queue, then find a P */
            struct g *tail = polled;
            while (tail->schedlink)
                tail = tail->schedlink;
            for (struct g *g2 = polled; g2; g2 = g2->schedlink) {
                STORE_RLX(&g2->status, G_RUNNABLE);
                agent_g_state(g2);
            }
            if (grt__sched.runq_tail)
                grt__sched.runq_tail->schedlink = polled;
            else
                grt__sched.runq_head = polled;
            grt__sched.runq_tail = tail;
            STORE_RLX(&grt__sched.runq_size, grt__sched.runq_size + npolled);
            may_time = true;
        }
        struct p *pp;
        if (mp->on_midle) {
            /* a timer is due or a timer sleeper was poked: find a P */
            mremove(mp);
            pp = pidleget();
            if (pp)
                STORE_RLX(&pp->status, P_RUNNING);
        } else {
            pp = mp->nextp; /* startm chose us, under the lock */
            mp->nextp = NULL;
        }
        unlock(&grt__sched.lock);
        if (pp) {
            STORE_RLX(&grt__coarse_ns, grt__nanotime());
            acquirep(mp, pp);
            if (npolled > 1)
                wakep();
            return;
        }
        if (polled) {
            may_time = false;
            continue; /* busy Ps take them from the global queue */
        }
        /* Every P is busy: their Ms run their own timers.  Sleep without
         * the timer role so a due timer cannot make us spin. */
        may_time = false;
    }
}

void grt__wake_timer_sleeper(int64_t when)
{
    /* (T2) seq-cst, after grt__timer_add's (T3): pairs with (T1) */
    int64_t su = __atomic_load_n(&grt__sched.sleep_until, __ATOMIC_SEQ_CST);
    if (su == 0 || when >= su)
        return;
    lock(&grt__sched.lock);
    struct m *mp = grt__sched.tsleeper;
    if (mp && when < LOAD_RLX(&grt__sched.sleep_until))
        STORE_RLX(&grt__sched.sleep_until, when);
    else
        mp = NULL;
    unlock(&grt__sched.lock);
    /* The wake-up outside the lock (as startm's): the woken thread often
     * lands on this CPU and preempts us, and held, the lock had every
     * other M that goes idle spin on it meanwhile.  Ms are never freed;
     * if mp stopped sleeping since, this is a spurious wake-up, which
     * stopm allows. */
    if (mp)
        notewakeup(mp);
    /* No idle M at all, but maybe an idle P: let a spinner look. */
}

/* ---------------------------------------------------------------------
 * GOMAXPROCS
 * --------------------------------------------------------------------- */

static struct p *p_alloc(int id)
{
    struct p *pp = aligned_alloc(CACHELINE, (sizeof(struct p) + CACHELINE - 1)
                                                / CACHELINE * CACHELINE);
    if (!pp)
        grt__throw("runtime: cannot allocate a P");
    memset(pp, 0, sizeof *pp);
    pp->id = id;
    STORE_RLX(&pp->status, P_DEAD);
    return pp;
}

/* Retire pp (id >= gomaxprocs): hand its work to others; sched.lock held. */
static void p_destroy(struct p *pp)
{
    bool inh;
    struct g *gp;
    /* sched.lock is held: put the Gs on the global queue directly */
    while ((gp = runqget(pp, &inh)) != NULL) {
        gp->schedlink = NULL;
        if (grt__sched.runq_tail)
            grt__sched.runq_tail->schedlink = gp;
        else
            grt__sched.runq_head = gp;
        grt__sched.runq_tail = gp;
        STORE_RLX(&grt__sched.runq_size, grt__sched.runq_size + 1);
    }
    grt__timers_move(pp, grt__sched.allp[0]);
    grt__gfree_flush(pp);
    STORE_RLX(&pp->m, NULL);
    STORE_RLX(&pp->status, P_DEAD);
}

int grt_maxprocs(int n)
{
    getm();
    int old = LOAD_RLX(&grt__sched.gomaxprocs);
    if (n <= 0)
        return old;
    if (n > MAXPROCS_LIMIT)
        n = MAXPROCS_LIMIT;
    lock(&grt__sched.lock);
    old = grt__sched.gomaxprocs;
    for (int i = old; i < n; i++) {
        if (!grt__sched.allp[i])
            STORE_REL(&grt__sched.allp[i], p_alloc(i));
        struct p *pp = grt__sched.allp[i];
        if (LOAD_RLX(&pp->status) == P_DEAD)
            pidleput(pp);
    }
    STORE_REL(&grt__sched.gomaxprocs, n);
    if (n < old) {
        /* idle Ps beyond n leave the idle list now; running ones retire
         * when their M next schedules (findrunnable, switch_out) */
        for (struct p **pl = &grt__sched.pidle; *pl;) {
            struct p *pp = *pl;
            if (pp->id >= n) {
                *pl = pp->link;
                STORE_RLX(&grt__sched.npidle, grt__sched.npidle - 1);
                p_destroy(pp);
            } else {
                pl = &pp->link;
            }
        }
    }
    unlock(&grt__sched.lock);
    if (n > old)
        wakep();
    else if (n < old && LOAD_RLX(&grt__sched.allp[0]->timer0_when))
        /* retired Ps' timers moved to P 0 */
        grt__wake_timer_sleeper(LOAD_RLX(&grt__sched.allp[0]->timer0_when));
    return old;
}

int grt_num_cpu(void)
{
    getm();
    return grt__sched.ncpu;
}

int grt_num_goroutine(void)
{
    getm();
    return (int)live_goroutines();
}

/* ---------------------------------------------------------------------
 * Switching
 * --------------------------------------------------------------------- */

static inline void execute(struct m *mp, struct g *gp, bool inherit)
{
    struct p *pp = mp->p;
    if (!inherit)
        STORE_RLX(&pp->schedtick, pp->schedtick + 1);
    STORE_RLX(&pp->ctxswitches, pp->ctxswitches + 1);
    mp->curg = gp;
    gp->m = mp;
    STORE_RLX(&gp->status, G_RUNNING);
    agent_g_publish_running(gp, mp, pp);
}

/* after_switch for everything but a park (which it does inline). */
static void after_switch_slow(struct m *mp, struct g *prev)
{
    switch (mp->after) {
    /* A yielded or preempted G is work put in a queue, and a P may be
     * idle: wakep, as Go's goschedImpl does since Go 1.21.  Without it
     * two goroutines that never block, both on one P, stayed there while
     * the other P idled, whenever that P's M had missed them once (CI saw
     * check_sched's t_parallel run all 1,000 rounds on one thread under
     * ASan, not reproduced since); now the next preemption, within 10 ms,
     * fetches an M. */
    case AFTER_YIELD:
        runqput(mp->p, prev, false);
        wakep();
        break;
    case AFTER_DEAD:
        san_stack_dead(prev);
        grt__gfput(mp->p, prev);
        break;
    case AFTER_GLOBAL:
        globrunqput_batch(prev, prev, 1);
        wakep();
        break;
    case AFTER_EXITSYSCALL:
        mp->prevg = prev; /* grt__g0_loop takes it from here */
        break;
    }
}

/* The M's pending work on the G it just left (see the file comment);
 * a park's (release its lock, or run its function) inline. */
static inline void after_switch(struct m *mp)
{
    struct g *prev = mp->prevg;
    if (!prev)
        return;
    mp->prevg = NULL;
    if (likely(mp->after == AFTER_PARK)) {
        if (mp->after_lock)
            unlock(mp->after_lock);
        else if (mp->after_fn)
            mp->after_fn(mp->after_arg);
    } else {
        after_switch_slow(mp, prev);
    }
}

/*
 * Is pp's earliest timer, t0 (non-zero), due?  *now gets the clock when
 * it was read (else stays as it was).  Reading the clock costs 26 ns
 * here and this is asked on every switch while any timer is pending (a
 * server with one ticker), so the answer "not yet" is cached as a tick
 * count before which it stays true (rt.h's cpu_ticks, a lower bound on
 * the tick rate so the cache expires early, never late); a new earliest
 * timer changes t0 and misses the cache.  A timer due within
 * TCHECK_MIN_NS is not cached: it is about to be asked for again and
 * found due, and with timers firing all the time (10,000 sleepers) the
 * earliest changes before a cache would pay for its tick read.
 */
#define TCHECK_MIN_NS 50000

static bool timer_due_slow(struct p *pp, int64_t t0, int64_t *now)
{
    int64_t n = grt__nanotime();
    *now = n;
    if (n >= t0)
        return true;
    uint64_t d = (uint64_t)(t0 - n);
    uint64_t f = LOAD_RLX(&grt__ticks_per_ns_q32);
    if (d < TCHECK_MIN_NS || f == 0)
        return false;
    if (d > (UINT64_C(1) << 28)) /* 268 ms: keeps d * f in 64 bits */
        d = UINT64_C(1) << 28;
    pp->tcheck_t0 = t0;
    pp->tcheck_tsc = cpu_ticks() + (d * f >> 32);
    return false;
}

static inline bool timer_due(struct p *pp, int64_t t0, int64_t *now)
{
    if (t0 == pp->tcheck_t0 && cpu_ticks() < pp->tcheck_tsc)
        return false;
    return timer_due_slow(pp, t0, now);
}

/* Can the G leaving the CPU switch straight to the next one? */
static inline bool fast_path_ok(struct p *pp)
{
    if (unlikely(pp->id >= LOAD_RLX(&grt__sched.gomaxprocs)))
        return false;
    if (unlikely(pp->schedtick % 61 == 0) &&
        LOAD_RLX(&grt__sched.runq_size) > 0)
        return false;
    int64_t t0 = LOAD_RLX(&pp->timer0_when);
    int64_t now;
    if (unlikely(t0 != 0) && timer_due(pp, t0, &now))
        return false;
    return true;
}

/*
 * The running G gp leaves the CPU (mp->after says what to do with it once
 * it is off its stack): the G to run next on mp, NULL for g0 (the
 * scheduler loop); *inherit when it inherits the time slice.
 */
static inline __attribute__((always_inline)) struct g *
switch_out_pick(struct m *mp, struct g *gp, bool *inherit)
{
    struct p *pp = mp->p;
    struct g *next = NULL;
    *inherit = false;
    if (likely(fast_path_ok(pp)) && likely(!mp->lockedg) &&
        likely(!mp->exiting)) {
        next = runqget(pp, inherit);
        if (unlikely(next && next->lockedm)) {
            runqput(pp, next, true); /* g0 hands it to its own M */
            next = NULL;
        }
    }
    gp->m = NULL;
    return next;
}

/* The next G or g0, made current on mp in gp's place: its context. */
static inline __attribute__((always_inline)) struct ctx *
switch_out_next(struct m *mp, struct g *gp)
{
    bool inherit;
    struct g *next = switch_out_pick(mp, gp, &inherit);
    bool dead = mp->after == AFTER_DEAD;
    if (likely(next)) {
        execute(mp, next, inherit);
        san_switch(gp, next, dead);
        return &next->ctx;
    }
    mp->curg = &mp->g0;
    san_switch(gp, &mp->g0, dead);
    return &mp->g0.ctx;
}

/* Switch gp out; returns when it runs again (maybe on another M).  A
 * call site of the switch for the next G and one for g0 (one shared
 * call cost the hand-off 3-4%, measured). */
static inline __attribute__((always_inline)) void
switch_out_inline(struct m *mp, struct g *gp)
{
    bool inherit;
    int after = mp->after;
    struct g *next = switch_out_pick(mp, gp, &inherit);
    if (next) {
        execute(mp, next, inherit);
        san_switch(gp, next, after == AFTER_DEAD);
        grt__ctx_switch(&gp->ctx, &next->ctx);
    } else {
        mp->curg = &mp->g0;
        san_switch(gp, &mp->g0, after == AFTER_DEAD);
        grt__ctx_switch(&gp->ctx, &mp->g0.ctx);
    }
    san_switched(gp);
    after_switch(grt__tls_m);
}

/* Record what the M does with gp once off its stack (after_switch). */
static inline void set_after(struct m *mp, struct g *gp, int after,
                             spinlock *lk)
{
    mp->prevg = gp;
    mp->after = after;
    mp->after_lock = lk;
    mp->after_fn = NULL;
}

/* switch_out_inline for the colder callers (yield, preemption). */
static __attribute__((noinline)) void switch_out(struct m *mp, struct g *gp,
                                                int after, spinlock *lk)
{
    set_after(mp, gp, after, lk);
    switch_out_inline(mp, gp);
}

/* Give up pp (its M blocks or leaves): to an M if it has work, else idle
 * (Go's handoffp).  pp is not held by anyone; no lock held. */
static void handoffp(struct p *pp)
{
    if (!runq_empty(pp) || LOAD_RLX(&grt__sched.runq_size) > 0) {
        startm(pp, false);
        return;
    }
    int32_t zero = 0;
    if (LOAD_RLX(&grt__sched.nmspinning) + LOAD_RLX(&grt__sched.npidle) == 0 &&
        CAS(&grt__sched.nmspinning, &zero, 1)) {
        startm(pp, true);
        return;
    }
    lock(&grt__sched.lock);
    if (grt__sched.runq_size > 0 ||
        (LOAD_RLX(&pp->timer0_when) != 0 && !grt__sched.tsleeper)) {
        unlock(&grt__sched.lock);
        startm(pp, false);
        return;
    }
    pidleput(pp);
    unlock(&grt__sched.lock);
    int64_t t0 = LOAD_RLX(&pp->timer0_when);
    if (t0)
        grt__wake_timer_sleeper(t0);
}

/* The M's locked G is not runnable: give the P away and sleep until
 * startlockedm hands one back (Go's stoplockedm). */
static void stoplockedm(struct m *mp)
{
    struct p *pp = mp->p;
    if (pp) {
        mp->p = NULL;
        STORE_RLX(&pp->m, NULL);
        handoffp(pp);
    }
    /* startlockedm may already have handed us a P (the G was readied
     * before we got here): nextp is only ever set under sched.lock. */
    for (;;) {
        lock(&grt__sched.lock);
        pp = mp->nextp;
        if (pp) {
            mp->nextp = NULL;
            if (mp->idlelocked) {
                mp->idlelocked = false;
                grt__sched.nmidlelocked--;
            }
            unlock(&grt__sched.lock);
            break;
        }
        STORE_RLX(&mp->park, 0);
        if (!mp->idlelocked) {
            mp->idlelocked = true;
            grt__sched.nmidlelocked++;
            checkdead();
        }
        unlock(&grt__sched.lock);
        while (!LOAD_ACQ(&mp->park))
            grt__futex_wait(&mp->park, 0, -1);
    }
    acquirep(mp, pp);
}

/* gp is locked to another M: give it our P and go idle (startlockedm). */
static void startlockedm(struct m *mp, struct g *gp)
{
    struct m *lm = gp->lockedm;
    struct p *pp = mp->p;
    mp->p = NULL;
    lock(&grt__sched.lock);
    STORE_RLX(&pp->status, P_RUNNING);
    STORE_RLX(&pp->m, NULL);
    lm->nextp = pp;
    if (lm->idlelocked) { /* it no longer waits: not idle for checkdead */
        lm->idlelocked = false;
        grt__sched.nmidlelocked--;
    }
    unlock(&grt__sched.lock);
    STORE_REL(&lm->park, 1);
    grt__futex_wake(&lm->park, 1);
    if (mp->spinning) {
        mp->spinning = false;
        XADD(&grt__sched.nmspinning, -1);
    }
    stopm(mp);
}

/* The M's locked G exited: the thread ends with it (Go's mexit). */
static void mexit(struct m *mp)
{
    struct p *pp = mp->p;
    mp->p = NULL;
    if (pp) {
        STORE_RLX(&pp->m, NULL);
        handoffp(pp);
    }
    lock(&grt__sched.lock);
    STORE_RLX(&grt__sched.mcount, grt__sched.mcount - 1);
    checkdead();
    unlock(&grt__sched.lock);
    if (mp == &m0) {
        /* The main thread cannot end without ending the process. */
        for (;;)
            grt__futex_wait(&mp->park, mp->park, -1);
    }
    pthread_exit(NULL);
}

/* A G back from a blocking call that lost its P (on g0; no lock held):
 * take an idle P and return gp to run, or queue gp and sleep. */
static struct g *exitsyscall0(struct m *mp, struct g *gp)
{
    lock(&grt__sched.lock);
    struct p *pp = pidleget();
    if (pp) {
        STORE_RLX(&pp->status, P_RUNNING);
    } else {
        gp->schedlink = NULL;
        if (grt__sched.runq_tail)
            grt__sched.runq_tail->schedlink = gp;
        else
            grt__sched.runq_head = gp;
        grt__sched.runq_tail = gp;
        STORE_RLX(&grt__sched.runq_size, grt__sched.runq_size + 1);
    }
    unlock(&grt__sched.lock);
    if (pp) {
        acquirep(mp, pp);
        return gp;
    }
    stopm(mp);
    return NULL;
}

/* The scheduler loop on an M's g0; never returns. */
void grt__g0_loop(struct m *mp)
{
    for (;;) {
        struct g *gp = NULL;
        after_switch(mp);
        if (mp->after == AFTER_EXITSYSCALL && mp->prevg) {
            struct g *sg = mp->prevg;
            mp->prevg = NULL;
            mp->after = AFTER_NONE;
            gp = exitsyscall0(mp, sg);
        }
        if (!gp) {
            if (unlikely(mp->exiting))
                mexit(mp);
            if (unlikely(mp->lockedg)) {
                stoplockedm(mp);
                gp = mp->lockedg;
            } else {
                if (!mp->p)
                    stopm(mp);
                gp = findrunnable(mp);
                if (unlikely(gp->lockedm && gp->lockedm != mp)) {
                    startlockedm(mp, gp);
                    continue;
                }
            }
        }
        execute(mp, gp, false);
        san_switch(&mp->g0, gp, false);
        grt__ctx_switch(&mp->g0.ctx, &gp->ctx);
        san_switched(&mp->g0);
    }
}

/* The sanitizers' fiber switch must be the last thing a dying goroutine
 * does on its stack: no return from grt__g_entry there. */
#if defined(GRT_SAN_ADDRESS) || defined(GRT_SAN_THREAD)
#define GRT_SAN_FIBERS 1
#else
#define GRT_SAN_FIBERS 0
static struct ctx *goexit0(struct m *mp, struct g *gp);
#endif

/*
 * Entry of every new context (from grt__ctx_trampoline).  When the G's
 * function returns, the G ends and this returns the context to resume,
 * which the trampoline does (switch.S): its stack holds no frame of the
 * dead G's any more, so the return-stack buffer is as it was when the G
 * started, and its top is the entry of the switch that started it.  In
 * the usual spawn-and-wait the G that resumes is that one, and the
 * trampoline's ret, then that G's own returns, are all predicted.
 * Under the sanitizers the G ends with a switch, as grt_goexit's: their
 * fiber switch must be the last thing done on its stack.
 */
struct ctx *grt__g_entry(void)
{
    struct m *mp = grt__tls_m;
    struct g *gp = mp->curg;
    san_switched(gp);
    if (gp->is_g0)
        grt__g0_loop(mp);
    after_switch(mp);
    gp->fn(gp->arg);
#if GRT_SAN_FIBERS
    grt__goexit1();
#else
    mp = grt__tls_m; /* maybe another M's now */
    return goexit0(mp, mp->curg);
#endif
}

/*
 * Run pp's due timers on mp, which holds pp and runs what they ready next
 * (findrunnable).  The first G a timer readies goes to runnext and runs
 * here at once, so the wakep of its grt__ready would wake an M only to
 * find nothing: a program woken by a 1 ms ticker, with a P idle, paid two
 * thread wake-ups per tick instead of one, and the woken M, often placed
 * on the waker's CPU, preempted it.  So mp counts itself as a spinning M
 * (timer_spin) while the timers run, which makes their wakeps return at
 * once, until a callback readies a second G (time.c calls
 * grt__timer_spin_end: the ring has work for another M, wake it now, as
 * many due timers need); at the end it does what a spinner that stops
 * does (Go's protocol, file comment): drop the count, fence, look at
 * every queue, and wake an M if there is work besides its runnext.
 */
static bool work_besides_runnext(struct p *own)
{
    if (LOAD_RLX(&own->runq_head) != LOAD_RLX(&own->runq_tail) ||
        LOAD_RLX(&grt__sched.runq_size) > 0)
        return true;
    int procs = LOAD_RLX(&grt__sched.gomaxprocs);
    for (int i = 0; i < procs; i++) {
        struct p *pp = LOAD_ACQ(&grt__sched.allp[i]);
        if (pp && pp != own && !runq_empty(pp))
            return true;
    }
    return false;
}

/* Stop counting mp as a spinner; true if it was the last one.  The
 * seq-cst RMW is the fence between the count and a check of the queues. */
static bool timer_spin_drop(struct m *mp)
{
    mp->timer_spin = false;
    return __atomic_fetch_add(&grt__sched.nmspinning, -1, __ATOMIC_SEQ_CST) ==
           1;
}

/* After timer_spin_drop, wakep_slow: wakep without its "no idle P"
 * shortcut.  An M that saw our count, and so idles its P without
 * spinning, may not have put it on the idle list yet; startm's
 * pidleget_spinning then sets needspinning, and that M spins instead
 * (findrunnable). */
void grt__timer_spin_end(struct m *mp)
{
    if (timer_spin_drop(mp))
        wakep_slow();
}

static void run_own_timers(struct m *mp, struct p *pp, int64_t now)
{
    if (mp->spinning || LOAD_RLX(&grt__sched.npidle) == 0) {
        grt__timers_run(pp, now); /* their wakeps cost nothing extra */
        return;
    }
    XADD(&grt__sched.nmspinning, 1);
    mp->timer_spin = true;
    grt__timers_run(pp, now);
    if (mp->timer_spin && timer_spin_drop(mp) && work_besides_runnext(pp))
        wakep_slow();
}

/*
 * Find a runnable G for mp, which holds a P; sleeps when there is none.
 * Runs on g0.  Go's schedule() + findrunnable().
 */
static struct g *findrunnable(struct m *mp)
{
    struct p *pp;
    struct g *gp;
    bool inherit;
top:
    pp = mp->p;
    if (unlikely(pp->id >= LOAD_RLX(&grt__sched.gomaxprocs))) {
        lock(&grt__sched.lock);
        if (pp->id >= grt__sched.gomaxprocs) {
            p_destroy(pp);
            mp->p = NULL;
            pp = pidleget();
            if (pp)
                STORE_RLX(&pp->status, P_RUNNING);
        }
        unlock(&grt__sched.lock);
        int64_t t0 = LOAD_RLX(&grt__sched.allp[0]->timer0_when);
        if (t0)
            grt__wake_timer_sleeper(t0); /* its timers moved to P 0 */
        if (!pp) {
            if (mp->spinning) {
                mp->spinning = false;
                XADD(&grt__sched.nmspinning, -1);
            }
            stopm(mp);
        } else {
            acquirep(mp, pp);
        }
        goto top;
    }

    int64_t now = 0;
    int64_t t0 = LOAD_RLX(&pp->timer0_when);
    if (t0 != 0 && timer_due(pp, t0, &now))
        run_own_timers(mp, pp, now);

    if (pp->schedtick % 61 == 0 && LOAD_RLX(&grt__sched.runq_size) > 0) {
        lock(&grt__sched.lock);
        gp = globrunqget(pp, 1);
        unlock(&grt__sched.lock);
        if (gp)
            goto found;
    }
    gp = runqget(pp, &inherit);
    if (gp)
        goto found;
    if (LOAD_RLX(&grt__sched.runq_size) > 0) {
        lock(&grt__sched.lock);
        gp = globrunqget(pp, 0);
        unlock(&grt__sched.lock);
        if (gp)
            goto found;
    }

    /* The poller, without blocking, if nobody blocks in it (Go). */
    if (grt__netpoll_active() && grt__netpoll_lastpoll() != 0) {
        int n;
        struct g *list = grt__netpoll(0, &n);
        if (list) {
            gp = list;
            list = list->schedlink;
            STORE_RLX(&gp->status, G_RUNNABLE);
            agent_g_state(gp);
            while (list) {
                struct g *g2 = list;
                list = list->schedlink;
                STORE_RLX(&g2->status, G_RUNNABLE);
                agent_g_state(g2);
                runqput(pp, g2, false);
            }
            goto found;
        }
    }

    /* Steal, if not too many Ms are at it already (Go: at most half the
     * busy Ps' worth of spinners). */
    int procs = LOAD_RLX(&grt__sched.gomaxprocs);
    if (procs > 1 &&
        (mp->spinning || 2 * LOAD_RLX(&grt__sched.nmspinning) <
                             procs - LOAD_RLX(&grt__sched.npidle))) {
        if (!mp->spinning) {
            mp->spinning = true;
            XADD(&grt__sched.nmspinning, 1);
        }
        for (int round = 0; round < 4; round++) {
            bool steal_next = round == 3;
            uint32_t start = grt__fastrand();
            for (int i = 0; i < procs; i++) {
                struct p *victim =
                    LOAD_ACQ(&grt__sched.allp[(start + i) % procs]);
                if (!victim || victim == pp)
                    continue;
                int64_t vt = LOAD_RLX(&victim->timer0_when);
                if (vt != 0) {
                    if (now == 0)
                        now = grt__nanotime();
                    if (now >= vt) {
                        grt__timers_run(victim, now);
                        gp = runqget(pp, &inherit);
                        if (gp)
                            goto found;
                    }
                }
                if (LOAD_RLX(&victim->status) == P_IDLE)
                    continue;
                gp = runqsteal(pp, victim, steal_next);
                if (gp) {
                    STORE_RLX(&pp->steals, pp->steals + 1);
                    goto found;
                }
            }
        }
    }

    /* Nothing: give up the P. */
    lock(&grt__sched.lock);
    if (grt__sched.runq_size > 0) {
        gp = globrunqget(pp, 0);
        unlock(&grt__sched.lock);
        goto found;
    }
    if (!runq_empty(pp)) { /* a timer callback readied something */
        unlock(&grt__sched.lock);
        goto top;
    }
    if (!mp->spinning && grt__sched.needspinning) {
        /* a wakep found no idle P: be its spinner (pidleget_spinning) */
        grt__sched.needspinning = false;
        mp->spinning = true;
        XADD(&grt__sched.nmspinning, 1);
        unlock(&grt__sched.lock);
        goto top;
    }
    mp->p = NULL;
    pidleput(pp);
    unlock(&grt__sched.lock);

    bool was_spinning = mp->spinning;
    if (was_spinning) {
        mp->spinning = false;
        /* (S1) full fence, then re-check every queue: pairs with the
         * submitter's put + wakep */
        __atomic_fetch_add(&grt__sched.nmspinning, -1, __ATOMIC_SEQ_CST);
        bool global = LOAD_RLX(&grt__sched.runq_size) > 0;
        for (int i = 0; i < procs; i++) {
            struct p *p2 = LOAD_ACQ(&grt__sched.allp[i]);
            if (global || (p2 && !runq_empty(p2))) {
                lock(&grt__sched.lock);
                pp = pidleget_spinning();
                if (pp)
                    STORE_RLX(&pp->status, P_RUNNING);
                unlock(&grt__sched.lock);
                if (pp) {
                    acquirep(mp, pp);
                    mp->spinning = true;
                    XADD(&grt__sched.nmspinning, 1);
                    goto top;
                }
                break;
            }
        }
    }
    stopm(mp);
    goto top;

found:
    if (mp->spinning)
        resetspinning(mp);
    return gp;
}

/* ---------------------------------------------------------------------
 * Park and ready
 * --------------------------------------------------------------------- */

/* Park the running G; once it is off its stack, lk is released or, with
 * no lk, fn(arg) runs (after_switch).  Inlined into each park. */
static inline __attribute__((always_inline)) void
park_inline(enum wait_reason r, void *obj, spinlock *lk, void (*fn)(void *),
            void *arg)
{
    struct m *mp = getm();
    struct g *gp = mp->curg;
    gp->wait_reason = (uint8_t)r;
    gp->wait_obj = obj;
    gp->wait_since = coarse_now();
    STORE_RLX(&gp->status, G_WAITING);
    agent_g_publish_wait(gp, G_WAITING);
    set_after(mp, gp, AFTER_PARK, lk);
    if (fn) {
        mp->after_fn = fn;
        mp->after_arg = arg;
    }
    switch_out_inline(mp, gp);
    gp->wait_reason = WAIT_NONE;
    gp->wait_obj = NULL;
    gp->wait_since = 0;
}

/* The park of mutexes, sleep, I/O, Cond.  A plain return: with the thunk
 * timers_sleep's mean oversleep went 286 -> 351 us (8 interleaved runs;
 * its sleepers all park at one site, so the RSB is in step already) */
void grt__park(enum wait_reason r, void *obj, spinlock *lk)
{
    park_inline(r, obj, lk, NULL, NULL);
}

/* chan.h: a channel operation that blocks (the channel hand-off's path);
 * returns through the thunk (rt.h, RETURN_VIA_THUNK) */
RETURN_VIA_THUNK bool grt__chan_block(grt_chan *c, struct waitq *q, void *ep,
                                      enum wait_reason r)
{
    struct waiter me = {.g = getg(), .elem = ep, .c = c};
    waitq_push(q, &me);
    agent_chan_block(c); /* agent: registers c the first time (slow path) */
#if GRT_PARK_RA
    grt__park_ra = __builtin_return_address(0);
#endif
    park_inline(r, c, &c->lock, NULL, NULL);
    if (unlikely(!me.success) && r == WAIT_CHAN_SEND)
        grt__panic_str("send on closed channel");
    return me.success;
}

/* WaitGroup.Wait's park.  A plain return: its waiter is mostly woken by
 * the goroutine it waited for, whose end resumes it with the RSB in step
 * (the trampoline's ret); the thunk cost spawn_join_p1 3%. */
void grt__park_fn(enum wait_reason r, void *obj, void (*fn)(void *),
                  void *arg)
{
    park_inline(r, obj, NULL, fn, arg);
}

/* select's park, returning through the thunk (rt.h): select2 0.77 */
RETURN_VIA_THUNK void grt__park_fn_thunk(enum wait_reason r, void *obj,
                                         void (*fn)(void *), void *arg)
{
#if GRT_PARK_RA
    grt__park_ra = __builtin_return_address(0);
#endif
    park_inline(r, obj, NULL, fn, arg);
}

void grt__ready(struct g *gp)
{
    struct m *mp = getm();
    STORE_RLX(&gp->status, G_RUNNABLE);
    agent_g_publish_plain(gp, G_RUNNABLE);
    wakep_put(runqput(mp->p, gp, true));
}

void grt__preempt_yield(void)
{
    struct m *mp = grt__tls_m;
    struct g *gp = mp->curg;
    struct p *pp = mp->p;
    STORE_RLX(&pp->preemptions, pp->preemptions + 1);
    STORE_RLX(&gp->status, G_RUNNABLE);
    agent_g_state(gp);
    switch_out(mp, gp, AFTER_GLOBAL, NULL);
}

void grt_yield(void)
{
    struct m *mp = getm();
    struct p *pp = mp->p;
    struct g *gp = mp->curg;
    if (LOAD_RLX(&pp->runq_head) == LOAD_RLX(&pp->runq_tail) &&
        !LOAD_RLX(&pp->runnext) && LOAD_RLX(&grt__sched.runq_size) == 0 &&
        fast_path_ok(pp))
        return; /* nothing else to run here */
    /* Go's Gosched queues the caller globally, so a goroutine waiting
     * there (a preempted one, say) runs next; we keep the caller local
     * and bring one global G to runnext instead, which does the same
     * without a global-queue round trip for the caller. */
    if (LOAD_RLX(&grt__sched.runq_size) > 0) {
        lock(&grt__sched.lock);
        struct g *g2 = globrunqget(pp, 1);
        unlock(&grt__sched.lock);
        if (g2)
            runqput(pp, g2, true);
    }
    STORE_RLX(&gp->status, G_RUNNABLE);
    agent_g_state(gp);
    switch_out(mp, gp, AFTER_YIELD, NULL);
}

/* ---------------------------------------------------------------------
 * Blocking calls (Go's entersyscall/exitsyscall and sysmon's retake)
 *
 * Entering, the M keeps its P but marks it P_SYSCALL; sysmon may take a
 * P that stayed so for a whole tick (CAS P_SYSCALL -> P_IDLE) and hand it
 * to another M.  Leaving, the M tries to CAS its P back to P_RUNNING;
 * failing that, g0 looks for an idle P or queues the G globally, under
 * one hold of sched.lock so no idle P can miss it.
 * --------------------------------------------------------------------- */

void grt_syscall_enter(void)
{
    struct m *mp = getm();
    struct g *gp = mp->curg;
    struct p *pp = mp->p;
    gp->wait_reason = WAIT_SYSCALL;
    gp->wait_since = coarse_now();
    STORE_RLX(&gp->status, G_SYSCALL);
    agent_g_state(gp);
    mp->oldp = pp;
    STORE_RLX(&mp->blocked, true);
    STORE_RLX(&pp->syscalls, pp->syscalls + 1);
    STORE_RLX(&pp->syscalltick, pp->syscalltick + 1);
    STORE_RLX(&pp->syscall_when, gp->wait_since);
    STORE_REL(&pp->status, P_SYSCALL); /* pairs with retake's CAS */
}

void grt_syscall_exit(void)
{
    struct m *mp = grt__tls_m;
    if (!mp || !mp->oldp)
        return; /* no matching grt_syscall_enter */
    struct g *gp = mp->curg;
    struct p *pp = mp->oldp;
    mp->oldp = NULL;
    STORE_RLX(&mp->blocked, false);
    uint32_t st = P_SYSCALL;
    if (likely(__atomic_compare_exchange_n(&pp->status, &st, P_RUNNING,
                                           false, __ATOMIC_ACQ_REL,
                                           __ATOMIC_RELAXED))) {
        gp->wait_reason = WAIT_NONE;
        gp->wait_since = 0;
        STORE_RLX(&gp->status, G_RUNNING);
        agent_g_state(gp);
        return;
    }
    /* sysmon gave our P away: g0 finds another or queues us */
    mp->p = NULL;
    gp->wait_reason = WAIT_NONE;
    gp->wait_since = 0;
    STORE_RLX(&gp->status, G_RUNNABLE);
    agent_g_state(gp);
    mp->prevg = gp;
    mp->after = AFTER_EXITSYSCALL;
    mp->after_lock = NULL;
    mp->after_fn = NULL;
    gp->m = NULL;
    mp->curg = &mp->g0;
    san_switch(gp, &mp->g0, false);
    grt__ctx_switch(&gp->ctx, &mp->g0.ctx);
    san_switched(gp);
    after_switch(grt__tls_m);
}

int grt__retake(int64_t now)
{
    int n = 0;
    int procs = LOAD_RLX(&grt__sched.gomaxprocs);
    for (int i = 0; i < procs; i++) {
        struct p *pp = LOAD_ACQ(&grt__sched.allp[i]);
        if (!pp || LOAD_ACQ(&pp->status) != P_SYSCALL)
            continue;
        uint32_t t = LOAD_RLX(&pp->syscalltick);
        if (pp->sysmon_tick != t) {
            pp->sysmon_tick = t; /* a new call: give it a whole tick */
            continue;
        }
        /* No work for it and others idle to take new work: leave it, but
         * not for ever (Go: 10 ms), so sysmon can sleep deeply. */
        if (runq_empty(pp) &&
            LOAD_RLX(&grt__sched.nmspinning) + LOAD_RLX(&grt__sched.npidle) >
                0 &&
            now - LOAD_RLX(&pp->syscall_when) < 10000000)
            continue;
        uint32_t st = P_SYSCALL;
        if (!__atomic_compare_exchange_n(&pp->status, &st, P_IDLE, false,
                                         __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
            continue;
        STORE_RLX(&pp->m, NULL);
        handoffp(pp);
        n++;
    }
    return n;
}

void grt__injectglist(struct g *list, int n)
{
    if (!list)
        return;
    struct g *tail = list;
    for (struct g *g2 = list; g2; g2 = g2->schedlink) {
        STORE_RLX(&g2->status, G_RUNNABLE);
        agent_g_state(g2);
        tail = g2;
    }
    globrunqput_batch(list, tail, n);
    for (int i = 0; i < n && LOAD_RLX(&grt__sched.npidle) > 0; i++)
        startm(NULL, false);
}

/* ---------------------------------------------------------------------
 * Thread locking (runtime.LockOSThread)
 * --------------------------------------------------------------------- */

void grt_lock_os_thread(void)
{
    struct m *mp = getm();
    struct g *gp = mp->curg;
    if (gp->lock_count == UINT32_MAX)
        grt__panic_str("LockOSThread nesting overflow");
    gp->lock_count++;
    gp->lockedm = mp;
    mp->lockedg = gp;
}

void grt_unlock_os_thread(void)
{
    struct m *mp = getm();
    struct g *gp = mp->curg;
    if (gp->lock_count == 0)
        return;
    if (--gp->lock_count == 0) {
        gp->lockedm = NULL;
        mp->lockedg = NULL;
    }
}

/* ---------------------------------------------------------------------
 * Goroutines
 * --------------------------------------------------------------------- */

/*
 * Free Gs: a LIFO cache per P (owner only) and a global stack of batches.
 * A P whose cache reaches 64 moves 32 to the global stack as one batch,
 * and a P whose cache is empty takes one whole batch back: O(1) under
 * gflock.  (Moving Gs one by one made the taker chase 32 schedlinks
 * through Gs last touched on another CPU, a cache miss each, under the
 * lock: a third of a 2-processor spawn burst's time.)
 */
static void gfree_push_batch(struct g *head, int32_t n)
{
    lock(&grt__sched.gflock);
    head->gfree_next = grt__sched.gfree;
    head->gfree_n = n;
    grt__sched.gfree = head;
    STORE_RLX(&grt__sched.ngfree, grt__sched.ngfree + n);
    unlock(&grt__sched.gflock);
}

void grt__gfput(struct p *pp, struct g *gp)
{
    if (gp == &grt__g1)
        return; /* main's G lives on the OS stack; never reused */
    gp->schedlink = pp->gfree;
    pp->gfree = gp;
    if (++pp->ngfree >= 64) {
        /* The 32 most recently freed stay: the hottest stacks. */
        struct g *keep_last = pp->gfree;
        for (int i = 1; i < 32; i++)
            keep_last = keep_last->schedlink;
        struct g *head = keep_last->schedlink;
        keep_last->schedlink = NULL;
        int32_t n = pp->ngfree - 32;
        pp->ngfree = 32;
        for (struct g *g2 = head; g2; g2 = g2->schedlink)
            grt__stack_trim(g2->stack); /* every G but g1 has one */
        gfree_push_batch(head, n);
    }
}

/* Give pp's free Gs back to the global stack (P retiring). */
void grt__gfree_flush(struct p *pp)
{
    if (pp->gfree)
        gfree_push_batch(pp->gfree, pp->ngfree);
    pp->gfree = NULL;
    pp->ngfree = 0;
}

static struct g *gfget(struct p *pp)
{
    if (!pp->gfree && LOAD_RLX(&grt__sched.ngfree) > 0) {
        lock(&grt__sched.gflock);
        struct g *b = grt__sched.gfree;
        if (b) {
            grt__sched.gfree = b->gfree_next;
            STORE_RLX(&grt__sched.ngfree, grt__sched.ngfree - b->gfree_n);
        }
        unlock(&grt__sched.gflock);
        if (b) {
            pp->gfree = b;
            pp->ngfree = b->gfree_n;
        }
    }
    struct g *gp = pp->gfree;
    if (gp) {
        pp->gfree = gp->schedlink;
        pp->ngfree--;
    }
    return gp;
}

/*
 * A new G with its stack; the two are recycled as a pair for life.  The
 * G's switch and queue fields (232 bytes) stay in the heap, dense; its
 * cold part (struct g_cold, rt.h) goes on the stack's top page.  The
 * whole G at the top of its stack was tried: it made every bulk walk over
 * Gs (a close waking 10,000, the global queue's links, 10,000 timers due
 * at once) a TLB miss and page walk per G on pages 16 MiB apart:
 * timers_sleep's p50 oversleep went from 0.6 to 50 us.
 */
#if defined(__x86_64__)
/* park_mem's budget: malloc's 240-byte class (with its 8-byte header) */
_Static_assert(sizeof(struct g) <= 232, "struct g outgrew its malloc class");
#endif
_Static_assert(sizeof(struct g_cold) <= 192, "struct g_cold: 3 lines");

/*
 * Stack colouring: stacks are 16 MiB apart, so without it every
 * goroutine's top frames sit at the same offset in their page and fall
 * into the same few sets of the L1 and L2 caches; 10,000 sleepers then
 * evict each other's frames.  Each new stack starts its frames 0-15 lines
 * lower (at most 960 bytes: a parked goroutine still fits its top page).
 * timers_sleep: wall 69.5 -> 62.2 ms, p99 19.0 -> 14.6 ms (medians of 6,
 * interleaved); the few-goroutine workloads unchanged.
 */
#define STACK_COLORS 16

/* cold: the slow path, kept out of the hot code's layout (measured: its
 * growth alone moved pingpong_p1 by 8%) */
static __attribute__((noinline, cold)) struct g *galloc(void)
{
    struct g *gp = calloc(1, sizeof *gp);
    if (!gp)
        grt__throw("runtime: cannot allocate a goroutine");
    struct stack *s = grt__stack_alloc();
    gp->stack = s;
    gp->stack_lo = s->lo;
    /* the cold part below the stack's descriptor (rt.h); the fresh page
     * reads as zeros, and it stays with the stack when the G is reused.
     * Below it the goroutine's frames, from an offset that differs from
     * stack to stack (STACK_COLORS) */
    static uint32_t color;
    uintptr_t off =
        (__atomic_fetch_add(&color, 1, __ATOMIC_RELAXED) % STACK_COLORS) * 64;
    gp->cold = (struct g_cold *)(((uintptr_t)s->hi - sizeof(struct g_cold) -
                                  off) & ~(uintptr_t)63);
    gp->stack_hi = (char *)gp->cold;
    san_g_create(gp);
    agent_g_alloc(gp);
    lock(&grt__sched.allg_lock);
    gp->allnext = grt__sched.allg;
    STORE_REL(&grt__sched.allg, gp);
    STORE_RLX(&grt__sched.nallg, grt__sched.nallg + 1); /* read unlocked by stats */
    unlock(&grt__sched.allg_lock);
    return gp;
}

/*
 * The spawner's run queue is full: rather than go on creating goroutines
 * that wait (Go moves half the queue to the global one and carries on),
 * the spawner queues itself globally and lets them run.  A burst of
 * short goroutines then recycles a few hundred Gs and stacks that stay
 * in cache instead of touching a new stack page for each: 100,000 spawns
 * back to back on one processor made 100,000 stacks at 1-6 us each, now
 * 256 at about 52 ns each.  Not while locked to its thread or in a region
 * that opted out of preemption: there it just carries on.
 */
static void spawn_backoff(struct m *mp)
{
    struct g *gp = mp->curg;
    if (gp->is_g0 || mp->lockedg || gp->preempt_off)
        return;
    STORE_RLX(&gp->status, G_RUNNABLE);
    agent_g_state(gp);
    switch_out(mp, gp, AFTER_GLOBAL, NULL);
}

static int64_t newproc(void (*fn)(void *), void *arg, const char *name,
                       const char *fn_name, const char *file, int line,
                       const char *caller)
{
    struct m *mp = getm();
    struct p *pp = mp->p;
    struct g *gp = gfget(pp);
    if (!gp)
        gp = galloc();
    memset(&gp->ctx, 0, sizeof gp->ctx);
    gp->ctx.sp = (void *)((uintptr_t)gp->stack_hi & ~(uintptr_t)15);
    gp->ctx.pc = (void *)grt__ctx_trampoline;
    gp->fn = fn;
    gp->arg = arg;
    san_g_start(gp);
    struct g_cold *c = gp->cold;
    if (pp->goid_next == pp->goid_end) {
        pp->goid_next = XADD(&grt__sched.goidgen, GOID_BATCH);
        pp->goid_end = pp->goid_next + GOID_BATCH;
    }
    gp->goid = ++pp->goid_next;
    c->fn_name = fn_name;
    c->file = file;
    c->line = line;
    c->caller = caller;
    c->parent_goid = mp->curg->goid;
    c->leak_scope = mp->curg->cold->leak_scope; /* inherited (leak.c) */
    c->start_ns = coarse_now();
    gp->wait_reason = WAIT_NONE;
    gp->wait_obj = NULL;
    gp->wait_since = 0;
    gp->lockedm = NULL;
    gp->lock_count = 0;
    if (name) {
        strncpy(c->name, name, sizeof c->name - 1);
        c->name[sizeof c->name - 1] = 0;
    } else {
        c->name[0] = 0;
    }
    STORE_RLX(&pp->created, pp->created + 1);
    STORE_RLX(&gp->status, G_RUNNABLE);
    agent_g_start(gp);
    int64_t goid = gp->goid;
    unsigned put = runqput(pp, gp, true);
    wakep_put(put);
    if (unlikely(put & RUNQ_FULL))
        spawn_backoff(mp);
    return goid;
}

int64_t grt_go_at(void (*fn)(void *), void *arg, const char *fn_name,
                  const char *file, int line, const char *caller)
{
    return newproc(fn, arg, NULL, fn_name, file, line, caller);
}

int64_t grt_go_named_at(const char *name, void (*fn)(void *), void *arg,
                        const char *fn_name, const char *file, int line,
                        const char *caller)
{
    return newproc(fn, arg, name, fn_name, file, line, caller);
}

#undef grt_go
int64_t grt_go(void (*fn)(void *), void *arg)
{
    return newproc(fn, arg, NULL, "?", "?", 0, "?");
}

#undef grt_go_named
int64_t grt_go_named(const char *name, void (*fn)(void *), void *arg)
{
    return newproc(fn, arg, name, "?", "?", 0, "?");
}

int64_t grt_self(void)
{
    return getg()->goid;
}

/* The running G gp ends: everything but the switch away from it. */
static inline void goexit_begin(struct m *mp, struct g *gp)
{
    struct p *pp = mp->p;
    STORE_RLX(&gp->status, G_DEAD);
    agent_g_publish_plain(gp, G_DEAD);
    gp->fn = NULL;
    gp->arg = NULL;
    if (gp == &grt__g1)
        STORE_RLX(&grt__sched.main_exited, true);
    if (gp->lockedm) {
        /* exits locked: its thread goes with it (after the switch) */
        gp->lockedm = NULL;
        gp->lock_count = 0;
        mp->lockedg = NULL;
        mp->exiting = true;
    }
    /* release: a caller that sees the count drop (grt_num_goroutine)
     * sees everything this goroutine did (pairs with live_goroutines) */
    STORE_REL(&pp->exited, pp->exited + 1);
    if (gp->stack)
        grt__stack_check(gp->stack);
    set_after(mp, gp, AFTER_DEAD, NULL);
}

#if !GRT_SAN_FIBERS
/* The running G gp ends: returns the context to resume on mp, made
 * current (the G's stack is freed once off it, after_switch); the
 * trampoline resumes it (grt__g_entry). */
static struct ctx *goexit0(struct m *mp, struct g *gp)
{
    goexit_begin(mp, gp);
    return switch_out_next(mp, gp); /* a returning goroutine's last path */
}
#endif

/* The running G ends (grt_goexit, or its function returned under the
 * sanitizers, whose fiber switch is then the last thing done on its
 * stack: switch_out_inline's). */
_Noreturn void grt__goexit1(void)
{
    struct m *mp = getm();
    struct g *gp = mp->curg;
    goexit_begin(mp, gp);
    switch_out_inline(mp, gp);
    grt__throw("goexit: dead goroutine resumed");
}

_Noreturn void grt_goexit(void)
{
    getm();
    grt__goexit1();
}

_Noreturn void grt_exit(int code)
{
    fflush(NULL);
    exit(code);
}

/* ---------------------------------------------------------------------
 * Start-up
 * --------------------------------------------------------------------- */

/* CPUs of the affinity mask, capped by a cgroup v2 quota (Go 1.25). */
static int count_cpus(void)
{
    cpu_set_t set;
    int n = 1;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        n = CPU_COUNT(&set);
    FILE *f = fopen("/sys/fs/cgroup/cpu.max", "r");
    if (f) {
        char quota[32];
        long period;
        if (fscanf(f, "%31s %ld", quota, &period) == 2 &&
            strcmp(quota, "max") != 0 && period > 0) {
            long q = atol(quota);
            int lim = (int)((q + period - 1) / period);
            if (lim >= 1 && lim < n)
                n = lim < 2 ? 2 < n ? 2 : n : lim; /* Go: at least 2 */
        }
        fclose(f);
    }
    return n < 1 ? 1 : n;
}

static void init_locked(void)
{
    grt__sched.ncpu = count_cpus();
    int procs = grt__sched.ncpu;
    const char *env = getenv("GRT_MAXPROCS");
    if (env && *env) {
        char *end;
        long v = strtol(env, &end, 10);
        if (*end == 0 && v >= 1)
            procs = v > MAXPROCS_LIMIT ? MAXPROCS_LIMIT : (int)v;
    }
    if (procs > MAXPROCS_LIMIT)
        procs = MAXPROCS_LIMIT;
    grt__stack_init();
    grt__sync_init();

    for (int i = 0; i < procs; i++)
        grt__sched.allp[i] = p_alloc(i);
    grt__sched.gomaxprocs = procs;
    for (int i = procs - 1; i >= 1; i--)
        pidleput(grt__sched.allp[i]);

    struct m *mp = &m0;
    mp->id = 0;
    mp->tid = (int32_t)syscall(SYS_gettid);
    mp->fastrand = UINT64_C(0x9E3779B97F4A7C15) ^ seed_bits();
    mp->g0.is_g0 = 1;
    mp->g0.m = mp;
    mp->g0.cold = &mp->g0_cold;
    /* m0's g0 needs a stack of its own: goroutine 1 keeps the OS stack */
    char *st = mmap(NULL, G0_STACK_M0, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (st == MAP_FAILED)
        grt__throw("runtime: cannot allocate the scheduler stack");
    mp->g0.stack_lo = st;
    mp->g0.stack_hi = st + G0_STACK_M0;
    mp->g0.ctx.sp = (void *)((uintptr_t)(st + G0_STACK_M0) & ~(uintptr_t)15);
    mp->g0.ctx.pc = (void *)grt__ctx_trampoline;
    san_g_create(&mp->g0);

    struct g *g1 = &grt__g1;
    static struct g_cold g1_cold;
    g1->cold = &g1_cold;
    g1->goid = 1;
    g1->status = G_RUNNING;
    g1->m = mp;
    g1_cold.fn_name = "main";
    g1_cold.file = "?";
    g1_cold.caller = "";
    g1_cold.start_ns = coarse_now();
    stack_bounds_of_thread(g1);
    {
        /* the OS stack may grow down to its rlimit */
        struct rlimit rl;
        if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
            g1->stack_hi && (size_t)(g1->stack_hi - g1->stack_lo) < rl.rlim_cur)
            g1->stack_lo = g1->stack_hi - rl.rlim_cur;
    }
    san_thread_start(g1);
    g1->allnext = NULL;
    grt__sched.allg = g1;
    grt__sched.nallg = 1;
    grt__sched.goidgen = 1;
    grt__sched.allp[0]->created = 1;

    mp->curg = g1;
    grt__sched.allm = mp;
    grt__sched.mcount = 1;
    acquirep(mp, grt__sched.allp[0]);
    sigaltstack_init();
    grt__signals_init();
    grt__tls_m = mp;
    /* m0 also sleeps as the timer sleeper: no 50 us kernel slack (this
     * makes the main thread's other timed sleeps exact too) */
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    grt__preempt_init();
    agent_m_new(mp);
    agent_g_alloc(g1);
    agent_g_start(g1);
    grt__agent_init();
    grt__sysmon_start();
}

void grt__init(void)
{
    pthread_mutex_lock(&init_mu);
    if (started) {
        pthread_mutex_unlock(&init_mu);
        if (!grt__tls_m) {
            static const char msg[] =
                "fatal error: grt: runtime called from a thread it does "
                "not know (only goroutines may call grt)\n";
            if (write(2, msg, sizeof msg - 1) < 0) {
            }
            _exit(2);
        }
        return;
    }
    init_locked();
    started = true;
    pthread_mutex_unlock(&init_mu);
}

/* Sum the per-P counters (for grt_read_memstats). */
void grt__sched_counters(struct sched_counters *c)
{
    memset(c, 0, sizeof *c);
    for (int i = 0; i < MAXPROCS_LIMIT; i++) {
        struct p *pp = LOAD_ACQ(&grt__sched.allp[i]);
        if (!pp)
            break;
        c->created += LOAD_RLX(&pp->created);
        c->exited += LOAD_RLX(&pp->exited);
        c->ctxswitches += LOAD_RLX(&pp->ctxswitches);
        c->steals += LOAD_RLX(&pp->steals);
        c->preemptions += LOAD_RLX(&pp->preemptions);
        c->syscalls += LOAD_RLX(&pp->syscalls);
        c->mallocs += LOAD_RLX(&pp->mallocs);
        c->frees += LOAD_RLX(&pp->frees);
        c->total_alloc += LOAD_RLX(&pp->alloc_bytes);
    }
    c->threads = (uint64_t)LOAD_RLX(&grt__sched.mcount);
    objstat_finish(c);
}
