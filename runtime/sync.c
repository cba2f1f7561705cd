/*
 * sync.c - WaitGroup, Mutex, RWMutex, Once and Cond: Go's sync package,
 * ported line by line onto the address semaphores of sema.c (WaitGroup
 * waiters park on the group's own second word instead; see there).
 *
 * Every object is a plain struct of include/grt.h whose private fields
 * are the Go struct's fields; all zeros is the unlocked or empty state.
 * Go's atomics are sequentially consistent; here each read-modify-write
 * is acquire-release (it orders the protected data, and every word is
 * only ever changed by RMWs or by stores under exclusive ownership), and
 * Go's plain racy reads of state words are relaxed loads.  Cond's
 * notify list keeps Go's sequentially consistent loads and stores.
 *
 * Wait reasons and objects, for dumps and the wait-for graph: a Mutex
 * waiter shows "sync.Mutex.Lock" on the mutex; a writer of an RWMutex
 * shows "sync.RWMutex.Lock" both while it takes the internal writer mutex
 * and while it waits for readers to leave; a reader "sync.RWMutex.RLock";
 * both on the RWMutex (whose first member is that mutex, so the two
 * addresses are the same).  A goroutine behind another caller of
 * grt_once_do shows "sync.Mutex.Lock", as with Go's Once.  A locked
 * mutex records its owner's goroutine id in owner_ (relaxed; a hint for
 * the wait-for graph: any goroutine may unlock, as in Go).
 *
 * Mutex owners for the wait-for graph (gdump --leaks, docs/shm-abi.md):
 * a goroutine about to park on a mutex publishes the owner_ it sees as
 * its record's wait_owner, and a goroutine that unlocks a mutex with
 * waiters stamps its record's unlock_ns, so a reader can tell a current
 * edge from one whose holder has let go since.  Both happen on slow
 * paths only (the lock fast path already stores owner_, in the cache line
 * it has just written); the fast unlock pays nothing.  Rejected: having
 * each new owner rewrite its waiters' records (a walk of the semaphore
 * queue on every contended hand-over).
 *
 * Not as Go: a C function cannot panic through grt_once_do, but one that
 * calls grt_goexit leaves the Once locked and not done for ever (Go's
 * defers would unlock it).  The sync.Cond copy checker has no C analogue.
 */
#include "config.h"

#include "rt.h"
#include "agent.h"

/* Every function here may run before the runtime has started; those that
 * may park reach getm() (which starts it) before parking. */

/* ---------------------------------------------------------------------
 * Mutex (Go's sync/mutex.go)
 *
 * state_: bit 0 locked, bit 1 a woken waiter is competing (so Unlock
 * need not wake another), bit 2 starvation mode, bits 3.. waiters.
 *
 * Normal mode: waiters queue FIFO, but a woken waiter competes with new
 * arrivals (who are on the CPU and usually win); a waiter that loses goes
 * back to the front of the queue.  A waiter that has waited more than
 * 1 ms switches the mutex to starvation mode: Unlock then hands the mutex
 * straight to the first waiter, and arrivals queue at the tail without
 * trying.  The last waiter, or one that waited less than 1 ms, switches
 * back to normal mode.
 * --------------------------------------------------------------------- */

enum {
    MUTEX_LOCKED = 1,
    MUTEX_WOKEN = 2,
    MUTEX_STARVING = 4,
    MUTEX_WAITER_SHIFT = 3,
};

#define STARVATION_THRESHOLD_NS 1000000 /* 1 ms */
#define ACTIVE_SPIN 4                   /* spins before queueing */

/*
 * How long a spinning locker waits between two looks at the mutex.  Go
 * spins 30 PAUSE instructions, but a PAUSE takes anything from a few
 * cycles to 25 ns (this machine's AMD EPYC).  Each look pulls the
 * mutex's cache line to the spinner and often moves the lock to its CPU,
 * while the holder, locking again and again on its own CPU, would go
 * three times faster without it: mutex_contended (4 lockers, 2 CPUs)
 * measured 16 ns per lock looking every 0.75 us (Go's 30 pauses here),
 * 11 ns every 2.5 us, 10 ns every 5 us, 9.4 ns every 25 us.  So the
 * interval is set in time, from the PAUSE latency measured at start-up:
 * SPIN_LOOK_NS, at most ACTIVE_SPIN times (20 us) before parking.
 * Spinning only happens when the spinner's P has nothing else to run
 * (can_spin), so it costs an otherwise idle CPU.
 */
#define SPIN_LOOK_NS 5000
static int spin_pauses = 30; /* PAUSEs per look; set by grt__sync_init */

void grt__sync_init(void)
{
    enum { N = 256 };
    int64_t t0 = grt__nanotime();
    for (int i = 0; i < N; i++)
        cpu_relax();
    int64_t dt = grt__nanotime() - t0;
    grt__lock_calibrate(dt, N); /* the spin locks' backoff (lock.c) */
    int64_t n = dt > 0 ? SPIN_LOOK_NS * N / dt : 1000;
    spin_pauses = n < 30 ? 30 : n > 1000 ? 1000 : (int)n;
}

_Static_assert(sizeof(((grt_mutex *)0)->state_) == sizeof(int32_t),
               "mutex state is Go's int32");
_Static_assert(sizeof(((grt_mutex *)0)->sema_) == sizeof(uint32_t),
               "mutex sema is a sema.c semaphore");

/*
 * Go's sync_runtime_canSpin: spin only a few times, only on a multicore
 * machine with GOMAXPROCS > 1, at least one other P running, and nothing
 * queued on our own P (the lock holder may be waiting for it).
 */
static inline bool can_spin(int iter)
{
    if (iter >= ACTIVE_SPIN || LOAD_RLX(&grt__sched.ncpu) <= 1)
        return false;
    int32_t procs = LOAD_RLX(&grt__sched.gomaxprocs);
    if (procs <=
        LOAD_RLX(&grt__sched.npidle) + LOAD_RLX(&grt__sched.nmspinning) + 1)
        return false;
    struct p *pp = grt__tls_m->p;
    if (!pp || LOAD_RLX(&pp->runq_head) != LOAD_RLX(&pp->runq_tail) ||
        LOAD_RLX(&pp->runnext))
        return false;
    return true;
}

static inline void do_spin(void)
{
    for (int i = 0; i < spin_pauses; i++)
        cpu_relax();
}

/* Go's Mutex.lockSlow; r and obj are what a parked waiter shows. */
static void mutex_lock_slow(grt_mutex *m, enum wait_reason r, void *obj)
{
    int64_t wait_start = 0;
    bool starving = false;
    bool awoke = false;
    int iter = 0;
    int32_t old = LOAD_RLX(&m->state_);
    for (;;) {
        /* Don't spin in starvation mode: ownership is handed to waiters,
         * so we could not take the mutex anyway. */
        if ((old & (MUTEX_LOCKED | MUTEX_STARVING)) == MUTEX_LOCKED &&
            can_spin(iter)) {
            /* Set the woken flag so Unlock doesn't wake anyone else
             * while we are spinning for it. */
            int32_t o = old;
            if (!awoke && !(old & MUTEX_WOKEN) &&
                (old >> MUTEX_WAITER_SHIFT) != 0 &&
                CAS(&m->state_, &o, old | MUTEX_WOKEN))
                awoke = true;
            do_spin();
            iter++;
            old = LOAD_RLX(&m->state_);
            continue;
        }
        int32_t nstate = old;
        /* Don't try to take a starving mutex: arrivals must queue. */
        if (!(old & MUTEX_STARVING))
            nstate |= MUTEX_LOCKED;
        if (old & (MUTEX_LOCKED | MUTEX_STARVING))
            nstate += 1 << MUTEX_WAITER_SHIFT;
        /* Switch to starvation mode, unless the mutex is free now (then
         * Unlock would expect waiters that a starving mutex lacks). */
        if (starving && (old & MUTEX_LOCKED))
            nstate |= MUTEX_STARVING;
        if (awoke) {
            /* We were woken from sleep (or claimed the flag while
             * spinning): reset the flag in either case. */
            if (!(nstate & MUTEX_WOKEN))
                grt__throw("sync: inconsistent mutex state");
            nstate &= ~MUTEX_WOKEN;
        }
        /* On failure CAS reloads old, as Go's `old = m.state`. */
        if (!CAS(&m->state_, &old, nstate))
            continue;
        if (!(old & (MUTEX_LOCKED | MUTEX_STARVING)))
            break; /* locked the mutex with the CAS */
        /* Waited before: queue at the front. */
        bool lifo = wait_start != 0;
        if (wait_start == 0)
            wait_start = grt__nanotime();
        /* Our CAS counted us as a waiter after the holder's locking CAS,
         * which precedes its owner_ store, and after the last unlock's
         * zeroing of owner_: we see the holder or 0, never an earlier
         * one.  Any unlock from now on sees us and takes the slow path,
         * which stamps unlock_ns. */
        agent_g_wait_owner(getg(), LOAD_RLX(&m->owner_));
        grt__sema_acquire(&m->sema_, lifo, r, obj);
        starving =
            starving || grt__nanotime() - wait_start > STARVATION_THRESHOLD_NS;
        old = LOAD_RLX(&m->state_);
        if (old & MUTEX_STARVING) {
            /* The mutex was handed to us: Unlock left it unlocked, with
             * us still counted as a waiter and no woken flag. */
            if ((old & (MUTEX_LOCKED | MUTEX_WOKEN)) ||
                (old >> MUTEX_WAITER_SHIFT) == 0)
                grt__throw("sync: inconsistent mutex state");
            int32_t delta = MUTEX_LOCKED - (1 << MUTEX_WAITER_SHIFT);
            /* Leave starvation mode if we are the last waiter or did not
             * really starve: two goroutines could otherwise run in lock
             * step in starvation mode for ever. */
            if (!starving || (old >> MUTEX_WAITER_SHIFT) == 1)
                delta -= MUTEX_STARVING;
            XADD(&m->state_, delta);
            break;
        }
        awoke = true;
        iter = 0;
    }
}

static inline void mutex_lock(grt_mutex *m, enum wait_reason r, void *obj)
{
    int64_t self = getg()->goid; /* starts the runtime if needed */
    int32_t z = 0;
    if (unlikely(!CAS(&m->state_, &z, MUTEX_LOCKED)))
        mutex_lock_slow(m, r, obj);
    STORE_RLX(&m->owner_, self);
}

void grt_mutex_lock(grt_mutex *m)
{
    mutex_lock(m, WAIT_MUTEX_LOCK, m);
}

bool grt_mutex_trylock(grt_mutex *m)
{
    int64_t self = getg()->goid;
    int32_t old = LOAD_RLX(&m->state_);
    if (old & (MUTEX_LOCKED | MUTEX_STARVING))
        return false;
    /* There may be a goroutine waiting for the mutex, but we are running
     * now and can try to grab it before it wakes. */
    if (!CAS(&m->state_, &old, old | MUTEX_LOCKED))
        return false;
    STORE_RLX(&m->owner_, self);
    return true;
}

/* Go's Mutex.unlockSlow; nstate is the state just after the unlock. */
static void mutex_unlock_slow(grt_mutex *m, int32_t nstate)
{
    if (!((nstate + MUTEX_LOCKED) & MUTEX_LOCKED))
        grt__fatal("sync: unlock of unlocked mutex");
    agent_g_unlocked(getg());
    if (!(nstate & MUTEX_STARVING)) {
        int32_t old = nstate;
        for (;;) {
            /* Nobody to wake, or someone already woken or holding it
             * will take care of the rest; in starvation mode ownership
             * goes straight to the next waiter (not this branch). */
            if ((old >> MUTEX_WAITER_SHIFT) == 0 ||
                (old & (MUTEX_LOCKED | MUTEX_WOKEN | MUTEX_STARVING)))
                return;
            /* Take the right to wake someone. */
            nstate = (old - (1 << MUTEX_WAITER_SHIFT)) | MUTEX_WOKEN;
            if (CAS(&m->state_, &old, nstate)) {
                grt__sema_release(&m->sema_, false);
                return;
            }
        }
    } else {
        /* Starving: hand the mutex to the next waiter and yield to it.
         * The locked bit stays clear; the waiter sets it.  Arrivals see
         * the starving bit and queue, so the waiter gets it. */
        grt__sema_release(&m->sema_, true);
    }
}

void grt_mutex_unlock(grt_mutex *m)
{
    /* Clear the owner before the releasing RMW, so a new owner's store
     * (after its acquiring CAS) comes later in owner_'s order. */
    STORE_RLX(&m->owner_, 0);
    int32_t nstate = XADD(&m->state_, -MUTEX_LOCKED) - MUTEX_LOCKED;
    if (unlikely(nstate != 0))
        mutex_unlock_slow(m, nstate);
}

/* ---------------------------------------------------------------------
 * RWMutex (Go's sync/rwmutex.go)
 *
 * reader_count_ counts readers holding or waiting; a writer subtracts
 * RWMUTEX_MAX_READERS from it, so readers that arrive after see it
 * negative and wait on reader_sem_.  reader_wait_ counts the readers the
 * writer still waits for; the last one to leave releases writer_sem_.
 * --------------------------------------------------------------------- */

#define RWMUTEX_MAX_READERS (1 << 30)

void grt_rwmutex_rlock(grt_rwmutex *rw)
{
    getm();
    if (XADD(&rw->reader_count_, 1) + 1 < 0) {
        /* A writer is pending: wait for it (it holds w_). */
        agent_g_wait_owner(getg(), LOAD_RLX(&rw->w_.owner_));
        grt__sema_acquire(&rw->reader_sem_, false, WAIT_RWMUTEX_RLOCK, rw);
    }
}

bool grt_rwmutex_tryrlock(grt_rwmutex *rw)
{
    int32_t c = LOAD_RLX(&rw->reader_count_);
    for (;;) {
        if (c < 0)
            return false; /* a writer is pending or active */
        if (CAS(&rw->reader_count_, &c, c + 1))
            return true;
    }
}

static void rwmutex_runlock_slow(grt_rwmutex *rw, int32_t r)
{
    if (r + 1 == 0 || r + 1 == -RWMUTEX_MAX_READERS)
        grt__fatal("sync: RUnlock of unlocked RWMutex");
    /* A writer is pending: the last departing reader lets it in. */
    if (XADD(&rw->reader_wait_, -1) - 1 == 0)
        grt__sema_release(&rw->writer_sem_, false);
}

void grt_rwmutex_runlock(grt_rwmutex *rw)
{
    int32_t r = XADD(&rw->reader_count_, -1) - 1;
    if (unlikely(r < 0))
        rwmutex_runlock_slow(rw, r);
}

void grt_rwmutex_lock(grt_rwmutex *rw)
{
    /* First, resolve competition with other writers. */
    mutex_lock(&rw->w_, WAIT_RWMUTEX_LOCK, rw);
    /* Announce to readers there is a pending writer; r is how many
     * readers are active now. */
    int32_t r = XADD(&rw->reader_count_, -RWMUTEX_MAX_READERS);
    /* Wait for active readers. */
    if (r != 0 && XADD(&rw->reader_wait_, r) + r != 0) {
        /* readers hold it: no single owner to name */
        agent_g_wait_owner(getg(), 0);
        grt__sema_acquire(&rw->writer_sem_, false, WAIT_RWMUTEX_LOCK, rw);
    }
}

bool grt_rwmutex_trylock(grt_rwmutex *rw)
{
    if (!grt_mutex_trylock(&rw->w_))
        return false;
    int32_t z = 0;
    if (!CAS(&rw->reader_count_, &z, -RWMUTEX_MAX_READERS)) {
        grt_mutex_unlock(&rw->w_);
        return false;
    }
    return true;
}

void grt_rwmutex_unlock(grt_rwmutex *rw)
{
    /* Announce to readers there is no active writer. */
    int32_t r =
        XADD(&rw->reader_count_, RWMUTEX_MAX_READERS) + RWMUTEX_MAX_READERS;
    if (r >= RWMUTEX_MAX_READERS)
        grt__fatal("sync: Unlock of unlocked RWMutex");
    /* Unblock the r readers that queued behind us (Go releases them one
     * by one; one call does the same under one root lock). */
    if (r > 0) {
        agent_g_unlocked(getg());
        grt__sema_release_n(&rw->reader_sem_, (uint32_t)r);
    }
    /* Allow other writers to proceed. */
    grt_mutex_unlock(&rw->w_);
}

/* ---------------------------------------------------------------------
 * WaitGroup (Go's sync/waitgroup.go)
 *
 * state_ is counter << 32 | waiters, as Go's: the waiter count only grows
 * while the counter is positive; when Add brings the counter to zero it
 * resets the whole state and wakes exactly the waiters it counted.
 *
 * Go parks waiters on a semaphore (a hashed table of locked queues).  Here
 * they wait on the WaitGroup's own second word, wait_, with no lock:
 *
 *     0 or 1          nobody parked, nothing owed
 *     even, not 0     the newest parked waiter's record (struct wg_waiter,
 *                     on its own stack); records link to older ones
 *     2k + 1, k > 0   k wake-ups owed to waiters that counted themselves
 *                     in state_ but had not yet pushed their record
 *
 * A waiter pushes its record only once it is off its stack (grt__park_fn),
 * so whoever pops it may grt__ready it at once; if it finds wake-ups owed
 * instead, it takes one and readies itself.  The waker (the Add that
 * brings the counter to zero with w waiters) counts the k records pushed
 * so far and swaps the list for 2(w - k) + 1 in one CAS: its last touch of
 * the WaitGroup, which the first waiter to return may free.  It then
 * readies the k waiters.  One RMW on each side, against Go's semaphore
 * lock, its waiter count and its semaphore word.
 * --------------------------------------------------------------------- */

_Static_assert(offsetof(grt_wg, state_) % _Alignof(uint64_t) == 0 &&
                   sizeof(((grt_wg *)0)->state_) == sizeof(uint64_t),
               "WaitGroup state is one aligned 64-bit word");

struct wg_waiter {
    struct g *gp;
    struct wg_waiter *next; /* older waiter; NULL for the oldest */
    grt_wg *wg;
};

_Static_assert(_Alignof(struct wg_waiter) >= 2,
               "a waiter's address has a clear low bit");

static inline bool wg_owed(uint64_t v)
{
    return (v & 1) && v > 1;
}

/* Runs once the waiter is off its stack (grt__park_fn). */
static void wg_park_commit(void *arg)
{
    struct wg_waiter *w = arg;
    uint64_t old = LOAD_ACQ(&w->wg->wait_);
    for (;;) {
        if (wg_owed(old)) {
            /* The waker came first: take the wake-up it left us. */
            if (CAS(&w->wg->wait_, &old, old - 2)) {
                grt__ready(w->gp);
                return;
            }
            continue;
        }
        w->next = (old & 1) ? NULL : (struct wg_waiter *)(uintptr_t)old;
        if (CAS(&w->wg->wait_, &old, (uint64_t)(uintptr_t)w))
            return; /* the waker readies us */
    }
}

/* Wake the n waiters counted in state_ (Go: n Semrelease calls). */
static void wg_wake(grt_wg *wg, uint32_t n)
{
    uint64_t old = LOAD_ACQ(&wg->wait_);
    struct wg_waiter *list;
    for (;;) {
        /* The records are parked waiters', ours to read until readied. */
        list = (old & 1) ? NULL : (struct wg_waiter *)(uintptr_t)old;
        uint32_t k = 0;
        for (struct wg_waiter *w = list; w; w = w->next)
            k++;
        uint64_t owed = k < n ? (uint64_t)(n - k) << 1 | 1 : 1;
        if (CAS(&wg->wait_, &old, owed))
            break;
    }
    while (list) {
        struct wg_waiter *next = list->next; /* before it may run */
        grt__ready(list->gp);
        list = next;
    }
}

void grt_wg_add(grt_wg *wg, int64_t delta)
{
    uint64_t state = __atomic_add_fetch(&wg->state_, (uint64_t)delta << 32,
                                        __ATOMIC_ACQ_REL);
    int32_t v = (int32_t)(state >> 32); /* counter */
    uint32_t w = (uint32_t)state;       /* waiters */
    if (v < 0)
        grt__panic_str("sync: negative WaitGroup counter");
    if (w != 0 && delta > 0 && v == (int32_t)delta)
        grt__panic_str(
            "sync: WaitGroup misuse: Add called concurrently with Wait");
    if (v > 0 || w == 0)
        return;
    /*
     * The counter is 0 and there are waiters.  Now there can't be
     * concurrent changes of the state: Adds must not happen concurrently
     * with Wait, and Wait does not add waiters once it sees counter == 0.
     * Still do a cheap sanity check to detect misuse.
     */
    if (LOAD_RLX(&wg->state_) != state)
        grt__panic_str(
            "sync: WaitGroup misuse: Add called concurrently with Wait");
    /* Reset waiters count to 0; wg_wake's CAS on wait_ orders this store
     * before each waiter's check of the state. */
    STORE_RLX(&wg->state_, 0);
    wg_wake(wg, w);
}

void grt_wg_done(grt_wg *wg)
{
    grt_wg_add(wg, -1);
}

void grt_wg_wait(grt_wg *wg)
{
    getm();
    uint64_t state = LOAD_ACQ(&wg->state_);
    for (;;) {
        int32_t v = (int32_t)(state >> 32);
        if (v == 0)
            return; /* counter is 0, no need to wait */
        /* Increment the waiters count; on failure CAS reloads state. */
        if (CAS(&wg->state_, &state, state + 1)) {
            struct wg_waiter me = {getg(), NULL, wg};
            grt__park_fn(WAIT_WAITGROUP, wg, wg_park_commit, &me);
            if (LOAD_RLX(&wg->state_) != 0)
                grt__panic_str("sync: WaitGroup is reused before previous "
                               "Wait has returned");
            return;
        }
    }
}

/* ---------------------------------------------------------------------
 * Once (Go's sync/once.go)
 * --------------------------------------------------------------------- */

/* Go's Once.doSlow: callers behind the first wait on the mutex. */
static void once_slow(grt_once *o, void (*fn)(void *), void *arg)
{
    grt_mutex_lock(&o->m_);
    if (LOAD_RLX(&o->done_) == 0) {
        fn(arg);
        /* Pairs with the acquire load of the fast path: whoever sees
         * done_ == 1 also sees everything fn did. */
        STORE_REL(&o->done_, 1);
    }
    grt_mutex_unlock(&o->m_);
}

void grt_once_do(grt_once *o, void (*fn)(void *), void *arg)
{
    /* Not a CAS on done_: every caller must return only after fn has
     * finished, so the losers must wait (on the mutex). */
    if (likely(LOAD_ACQ(&o->done_) != 0))
        return;
    once_slow(o, fn, arg);
}

/* ---------------------------------------------------------------------
 * Cond (Go's sync/cond.go over runtime/sema.go's notifyList)
 *
 * A waiter takes a ticket (wait_++) before it unlocks the mutex, then
 * parks on the list unless its ticket has been notified already.
 * notify_ is the next ticket to notify: Signal wakes the waiter holding
 * it (the oldest unnotified), Broadcast notifies every ticket handed out.
 * So a Signal after a Wait's unlock is never lost, even if the waiter has
 * not reached the list yet.  lock_ guards the list and notify_'s writes;
 * wait_ and notify_ are also read without it on the fast paths, with
 * sequentially consistent accesses as in Go.
 * --------------------------------------------------------------------- */

struct condwaiter {
    struct g *gp;
    uint32_t ticket;
    struct condwaiter *next;
};

_Static_assert(sizeof(spinlock) == sizeof(((grt_cond *)0)->lock_) &&
                   _Alignof(spinlock) <= _Alignof(uint32_t),
               "grt_cond.lock_ holds a runtime spin lock");
_Static_assert(sizeof(((grt_cond *)0)->head_) == sizeof(struct condwaiter *),
               "grt_cond.head_ holds a waiter pointer");

static inline spinlock *cond_lock(grt_cond *c)
{
    return (spinlock *)&c->lock_;
}

/* Ticket order with wrap-around (Go's less). */
static inline bool ticket_less(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}

static void notify_list_wait(grt_cond *c, uint32_t t)
{
    spinlock *lk = cond_lock(c);
    lock(lk);
    /* Return right away if this ticket has already been notified. */
    if (ticket_less(t, __atomic_load_n(&c->notify_, __ATOMIC_SEQ_CST))) {
        unlock(lk);
        return;
    }
    struct condwaiter s = {.gp = getg(), .ticket = t, .next = NULL};
    struct condwaiter *tail = c->tail_;
    if (!tail)
        c->head_ = &s;
    else
        tail->next = &s;
    c->tail_ = &s;
    /* The list lock is released once we are off our stack, so a
     * notifier that finds s finds a parked goroutine. */
    grt__park(WAIT_COND, c, lk);
}

void grt_cond_wait(grt_cond *c, grt_mutex *m)
{
    getm();
    uint32_t t = __atomic_fetch_add(&c->wait_, 1, __ATOMIC_SEQ_CST);
    grt_mutex_unlock(m);
    notify_list_wait(c, t);
    grt_mutex_lock(m);
}

void grt_cond_signal(grt_cond *c)
{
    /* Fast path: no waiters since the last notification. */
    if (__atomic_load_n(&c->wait_, __ATOMIC_SEQ_CST) ==
        __atomic_load_n(&c->notify_, __ATOMIC_SEQ_CST))
        return;
    spinlock *lk = cond_lock(c);
    lock(lk);
    /* Re-check under the lock: another notifier may have caught up. */
    uint32_t t = LOAD_RLX(&c->notify_);
    if (t == __atomic_load_n(&c->wait_, __ATOMIC_SEQ_CST)) {
        unlock(lk);
        return;
    }
    /* Ticket t is notified now, whether or not its waiter has queued: a
     * waiter that queues later sees it and does not park. */
    __atomic_store_n(&c->notify_, t + 1, __ATOMIC_SEQ_CST);
    struct condwaiter *prev = NULL;
    for (struct condwaiter *s = c->head_; s; prev = s, s = s->next) {
        if (s->ticket != t)
            continue;
        struct condwaiter *n = s->next;
        if (prev)
            prev->next = n;
        else
            c->head_ = n;
        if (!n)
            c->tail_ = prev;
        unlock(lk);
        /* s stays valid until its goroutine runs, i.e. until ready. */
        struct g *gp = s->gp;
        s->next = NULL;
        grt__ready(gp);
        return;
    }
    unlock(lk);
}

void grt_cond_broadcast(grt_cond *c)
{
    /* Fast path: no waiters since the last notification. */
    if (__atomic_load_n(&c->wait_, __ATOMIC_SEQ_CST) ==
        __atomic_load_n(&c->notify_, __ATOMIC_SEQ_CST))
        return;
    spinlock *lk = cond_lock(c);
    lock(lk);
    struct condwaiter *s = c->head_;
    c->head_ = NULL;
    c->tail_ = NULL;
    /* Every ticket handed out so far is notified. */
    __atomic_store_n(&c->notify_, __atomic_load_n(&c->wait_, __ATOMIC_SEQ_CST),
                     __ATOMIC_SEQ_CST);
    unlock(lk);
    /* The detached waiters are all parked and ours until readied: read
     * each link before waking its owner, which may then return. */
    while (s) {
        struct condwaiter *next = s->next;
        struct g *gp = s->gp;
        s->next = NULL;
        grt__ready(gp);
        s = next;
    }
}
