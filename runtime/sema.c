/*
 * sema.c - semaphores by address, after Go's runtime/sema.go.
 *
 * A semaphore is any uint32_t in memory: its value counts releases not yet
 * taken.  grt__sema_acquire takes one (parking while there is none),
 * grt__sema_release adds one and wakes a waiter.  sync.c builds
 * Mutex and RWMutex on these, exactly as Go's sync package builds on
 * runtime_Semacquire and runtime_Semrelease.
 *
 * Waiters are kept outside the semaphore word, in a fixed table of 251
 * roots chosen by hashing the address (Go's semtable).  Each root has a
 * spin lock, a count of waiters (nwait, read without the lock by releasers
 * to skip the lock when nobody waits) and a list of per-address queues:
 * the list links the first waiter of each address (anext), and each
 * address's waiters form a FIFO queue from that head (next; the head also
 * keeps the tail).  Go keeps the heads in a treap; with 251 roots the
 * addresses sharing a root are few, so a list serves as well.
 *
 * A waiter record lives on the parking goroutine's own stack.  The
 * goroutine queues it under the root lock and parks with grt__park, which
 * releases the lock only once the goroutine is off its stack (rt.h, I5):
 * a releaser that finds the record under the lock therefore finds a parked
 * goroutine, and may write the record until it calls grt__ready.  After
 * grt__ready the record is the waiter's again and is not touched.
 *
 * grt__sema_release_n (RWMutex readers) hands its counts to
 * the waiters it finds queued, through their tickets, and adds only the
 * rest to the semaphore: a woken waiter then returns without a CAS on
 * the word, and the releaser makes one RMW (the root lock) instead of
 * three.
 *
 * Memory ordering.  Acquire and release race on two words, the semaphore
 * and root->nwait, in a Dekker pattern (see the comments at each access):
 * the acquirer increments nwait then re-reads the semaphore; the releaser
 * increments the semaphore then reads nwait.  With all four accesses
 * sequentially consistent, at least one side sees the other's write, so
 * either the acquirer takes the count itself or the releaser sees a waiter
 * and takes the lock (where it finds the record, since the acquirer queued
 * it before dropping the lock).  The semaphore's RMWs are also what orders
 * the user's data: a release's increment is read by the acquirer's CAS.
 */
#include "config.h"

#include "rt.h"

#define SEMTAB_SIZE 251

/* One blocked acquire (Go's sudog, as used by sema.go). */
struct semawaiter {
    uint32_t *addr;           /* the semaphore waited on */
    struct g *gp;             /* the parked goroutine */
    struct semawaiter *next;  /* next waiter on the same address */
    struct semawaiter *tail;  /* head of an address only: its last waiter */
    struct semawaiter *anext; /* head of an address only: next address */
    uint32_t ticket;          /* 1: the releaser handed the count over */
};

struct semroot {
    _Alignas(CACHELINE) spinlock lock;
    uint32_t nwait;           /* waiters (atomic; written under lock) */
    struct semawaiter *heads; /* under lock: one head per address */
};

_Static_assert(sizeof(struct semroot) == CACHELINE,
               "a sema root fills exactly one cache line");

static struct semroot semtable[SEMTAB_SIZE];

static inline struct semroot *root_for(const uint32_t *addr)
{
    return &semtable[((uintptr_t)addr >> 3) % SEMTAB_SIZE];
}

/* One waiter fewer, under root->lock.  A plain store: decrements take
 * no part in the Dekker pairing (file comment); a releaser that reads a
 * stale, larger nwait only takes the lock for nothing. */
static inline void nwait_dec(struct semroot *root)
{
    STORE_RLX(&root->nwait, LOAD_RLX(&root->nwait) - 1);
}

/*
 * Take one count if there is one (Go's cansemacquire).  Sequentially
 * consistent: the load pairs with the releaser's increment and nwait read
 * (see the file comment); the CAS also acquires the releaser's writes.
 */
static inline bool cansemacquire(uint32_t *addr)
{
    uint32_t v = __atomic_load_n(addr, __ATOMIC_SEQ_CST);
    while (v != 0) {
        if (__atomic_compare_exchange_n(addr, &v, v - 1, false,
                                        __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            return true;
    }
    return false;
}

/* Queue s for s->addr; lifo puts it first (Go's semaRoot.queue). */
static void root_queue(struct semroot *root, struct semawaiter *s, bool lifo)
{
    struct semawaiter **pp = &root->heads;
    while (*pp && (*pp)->addr != s->addr)
        pp = &(*pp)->anext;
    struct semawaiter *h = *pp;
    s->next = NULL;
    if (!h) {
        s->tail = s;
        s->anext = root->heads;
        root->heads = s;
    } else if (lifo) {
        /* s replaces h as head of the address and takes over its links. */
        s->next = h;
        s->tail = h->tail;
        s->anext = h->anext;
        h->tail = NULL;
        h->anext = NULL;
        *pp = s;
    } else {
        h->tail->next = s;
        h->tail = s;
        s->tail = NULL;
        s->anext = NULL;
    }
}

/* Unlink and return the first waiter for addr, or NULL. */
static struct semawaiter *root_dequeue(struct semroot *root, uint32_t *addr)
{
    struct semawaiter **pp = &root->heads;
    while (*pp && (*pp)->addr != addr)
        pp = &(*pp)->anext;
    struct semawaiter *s = *pp;
    if (!s)
        return NULL;
    struct semawaiter *n = s->next;
    if (n) {
        n->tail = s->tail;
        n->anext = s->anext;
        *pp = n;
    } else {
        *pp = s->anext;
    }
    s->next = s->tail = s->anext = NULL;
    return s;
}

void grt__sema_acquire(uint32_t *addr, bool lifo, enum wait_reason r, void *obj)
{
    if (cansemacquire(addr))
        return;

    struct semawaiter s = {.addr = addr, .gp = getg()};
    struct semroot *root = root_for(addr);
    for (;;) {
        lock(&root->lock);
        /*
         * Dekker, acquirer's half: announce the waiter (SC increment),
         * then look at the semaphore again (SC load in cansemacquire).
         * Pairs with the increment-then-load of nwait in release.
         */
        __atomic_fetch_add(&root->nwait, 1, __ATOMIC_SEQ_CST);
        if (cansemacquire(addr)) {
            nwait_dec(root);
            unlock(&root->lock);
            return;
        }
        root_queue(root, &s, lifo);
        /* The root lock is released once we are off our stack. */
        grt__park(r, obj, &root->lock);
        /*
         * The releaser wrote the ticket before grt__ready(us); the run
         * queue hand-off orders that write before this read.
         */
        if (LOAD_RLX(&s.ticket) != 0 || cansemacquire(addr))
            return;
    }
}

void grt__sema_release(uint32_t *addr, bool handoff)
{
    struct semroot *root = root_for(addr);
    /*
     * Dekker, releaser's half: publish the count (SC increment), then
     * look for waiters (SC load).  Pairs with the acquirer's nwait
     * increment followed by its re-read of *addr.  The increment is also
     * the release that the acquirer's CAS synchronises with.
     */
    __atomic_fetch_add(addr, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&root->nwait, __ATOMIC_SEQ_CST) == 0)
        return;

    lock(&root->lock);
    /* Someone may have taken the count and left since (Go rechecks). */
    if (LOAD_RLX(&root->nwait) == 0) {
        unlock(&root->lock);
        return;
    }
    struct semawaiter *s = root_dequeue(root, addr);
    if (s)
        nwait_dec(root);
    unlock(&root->lock);
    if (!s)
        return;

    /* s's goroutine stays parked until grt__ready: s is still ours. */
    if (unlikely(LOAD_RLX(&s->ticket) != 0))
        grt__throw("corrupted semaphore ticket");
    bool handed = false;
    if (handoff && cansemacquire(addr)) {
        /* We took the count back on the waiter's behalf: it returns
         * without decrementing again (Go's semrelease1 handoff). */
        STORE_RLX(&s->ticket, 1);
        handed = true;
    }
    struct g *gp = s->gp;
    /* Release of s (ticket) to the waiter happens through the run queue.
     * s must not be touched after this call. */
    grt__ready(gp);
    if (handed) {
        /*
         * Go's goyield: the waiter sits in our runnext, so yielding lets
         * it run now, holding the count, while we go to the back of the
         * local queue.  This is what keeps a starving mutex fair.
         */
        grt_yield();
    }
}

void grt__sema_release_n(uint32_t *addr, uint32_t n)
{
    if (n == 0)
        return;
    struct semroot *root = root_for(addr);
    /*
     * Hand counts straight to the waiters already queued on addr, with
     * their tickets (they return without touching *addr: no CAS there,
     * no increment here), and add only the rest to *addr.  All under the
     * root lock: an acquirer re-reads *addr under it before queueing, so
     * it either is in the queue now or will see the rest.  Touches *addr
     * at most once, before any waiter runs: a waiter may free it once it
     * has its count.  addr is otherwise only compared, never read.
     */
    struct semawaiter *list = NULL, **lastp = &list;
    uint32_t k = 0;
    lock(&root->lock);
    while (k < n && LOAD_RLX(&root->nwait) != 0) {
        struct semawaiter *s = root_dequeue(root, addr);
        if (!s)
            break;
        nwait_dec(root);
        if (unlikely(LOAD_RLX(&s->ticket) != 0))
            grt__throw("corrupted semaphore ticket");
        STORE_RLX(&s->ticket, 1); /* released to it by grt__ready */
        *lastp = s;
        lastp = &s->next;
        k++;
    }
    if (k < n)
        __atomic_fetch_add(addr, n - k, __ATOMIC_SEQ_CST);
    unlock(&root->lock);

    /* Each is parked and ours until readied: read its link first. */
    while (list) {
        struct semawaiter *next = list->next;
        struct g *gp = list->gp;
        list->next = NULL;
        grt__ready(gp);
        list = next;
    }
}
