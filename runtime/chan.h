/*
 * chan.h - the channel and waiter structures shared by chan.c and
 * select.c (Go's hchan and sudog).  Internal.
 */
#ifndef GRT_CHAN_H
#define GRT_CHAN_H

#include "rt.h"

#include <string.h>

/*
 * One blocked operation (Go's sudog).  It lives on the stack of the
 * goroutine that blocks, which stays parked while the waiter is queued.
 */
struct waiter {
    struct g *g;            /* the blocked goroutine; immutable */
    struct waiter *next;    /* in c->recvq or c->sendq; under c->lock */
    struct waiter *prev;    /* under c->lock */
    void *elem;             /* send: source; recv: destination (or NULL) */
    grt_chan *c;            /* the channel; immutable */
    struct waiter *waitlink; /* select: next waiter of the same G */
    bool is_select;         /* the G may be woken by another case */
    bool success;           /* set by the waker: false means closed */
    int case_index;         /* select: index of the case */
};

struct waitq {
    struct waiter *first, *last; /* under the channel's lock */
    uint32_t n;                  /* queued waiters (the agent's count:
                                    it never walks a long queue) */
};

struct grt_chan {
    spinlock lock;          /* guards everything below marked (L) */
    uint32_t closed;        /* (L) written; read racily by len/cap */
    size_t elem_size;       /* immutable */
    size_t cap;             /* immutable */
    size_t qcount;          /* (L); read racily by grt_chan_len */
    size_t sendx, recvx;    /* (L) ring indexes */
    struct waitq recvq;     /* (L) blocked receivers, FIFO */
    struct waitq sendq;     /* (L) blocked senders, FIFO */
    char *buf;              /* cap * elem_size bytes; immutable pointer */
    struct timer *timer;    /* grt_after's timer, owned; NULL */
    char name[32];          /* grt_chan_set_name; "" */
    /* ---- agent (agent/publish.c; append-only) ---- */
    uint32_t agent_slot;    /* (L) slot + 1 in the agent's channel table,
                               0 never blocked, UINT32_MAX not published */
};

static inline void elem_copy(void *dst, const void *src, size_t n)
{
    switch (n) {
    case 0:
        return;
    case 4:
        memcpy(dst, src, 4);
        return;
    case 8:
        memcpy(dst, src, 8);
        return;
    case 16:
        memcpy(dst, src, 16);
        return;
    default:
        memcpy(dst, src, n);
    }
}

static inline void *chanbuf(grt_chan *c, size_t i)
{
    return c->buf + i * c->elem_size;
}

static inline void waitq_push(struct waitq *q, struct waiter *w)
{
    w->next = NULL;
    w->prev = q->last;
    if (q->last)
        q->last->next = w;
    else
        q->first = w;
    q->last = w;
    q->n++;
}

static inline void waitq_remove(struct waitq *q, struct waiter *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else if (q->first == w)
        q->first = w->next;
    else
        return; /* not queued */
    if (w->next)
        w->next->prev = w->prev;
    else
        q->last = w->prev;
    w->next = w->prev = NULL;
    q->n--;
}

/*
 * First waiter that can still be woken (Go's dequeue): a select waiter
 * whose goroutine was already won by another case is dropped.  Called
 * with the channel's lock held.
 */
static inline struct waiter *waitq_dequeue(struct waitq *q)
{
    for (;;) {
        struct waiter *w = q->first;
        if (!w)
            return NULL;
        q->first = w->next;
        if (q->first)
            q->first->prev = NULL;
        else
            q->last = NULL;
        w->next = w->prev = NULL;
        q->n--;
        if (w->is_select) {
            uint32_t zero = 0;
            if (!__atomic_compare_exchange_n(&w->g->select_done, &zero, 1,
                                             false, __ATOMIC_ACQ_REL,
                                             __ATOMIC_RELAXED))
                continue;
        }
        return w;
    }
}

/*
 * The rendezvous halves shared by chan.c and select.c.  Each is called
 * with c->lock held and returns with it released; each may ready a G.
 */
HIDDEN void grt__chan_send_to(grt_chan *c, struct waiter *w, const void *ep);
/*
 * The blocking half of both (proc.c, where the park inlines into it):
 * queue a waiter on q (c->sendq or c->recvq) and park until a partner or
 * close takes it; called with c->lock held, released by the park.
 * Returns whether a partner took it (false: closed; a send panics).
 * Send and receive both tail-call it, so a goroutine blocked in either
 * returns through the same call sites up to its caller's: a hand-off
 * between a sender and a receiver then resumes the next goroutine with
 * returns the CPU predicts (switch.S; ctxswitch_seed 36.9 -> 32.7 ns).
 * Its own return, to a caller that may differ from the last parker's, is
 * rt.h's RETURN_VIA_THUNK (ctxswitch_seed 31.8 -> 23.4 ns).
 */
HIDDEN bool grt__chan_block(grt_chan *c, struct waitq *q, void *ep,
                            enum wait_reason r);
HIDDEN void grt__chan_recv_from(grt_chan *c, struct waiter *w, void *ep);

#endif /* GRT_CHAN_H */
