/*
 * chan.c - channels, after Go's runtime/chan.go.
 *
 * A channel is a lock, a ring buffer of cap elements and two FIFO queues
 * of blocked goroutines' waiters.  Send and receive first look for a
 * partner already blocked on the other queue and copy straight between
 * the two goroutines (no buffer round trip, as Go); otherwise they use the
 * buffer; otherwise they queue a waiter on their own stack and park,
 * releasing the lock only once off their stack (grt__park's lock).
 * The woken goroutine goes to the waker's runnext, so a hand-off on one P
 * is a direct switch with no atomic read-modify-write besides the lock.
 *
 * Deliberately left out: Go's lock-free fast paths for non-blocking
 * operations on empty or full channels (our select with default takes the
 * locks); elements are copied with memcpy, sized at run time.
 */
#include "config.h"

#include "chan.h"
#include "agent.h"

#include <stdlib.h>
#include <string.h>

grt_chan *grt_chan_make(size_t elem_size, size_t cap)
{
    getm();
    if (elem_size > 65536)
        grt__panic_str("makechan: invalid channel element type");
    if (cap > 0 && elem_size > 0 && cap > (SIZE_MAX / 2) / elem_size)
        grt__panic_str("makechan: size out of range");
    grt_chan *c = calloc(1, sizeof *c);
    if (!c)
        grt__throw("runtime: out of memory allocating a channel");
    c->elem_size = elem_size;
    c->cap = cap;
    if (cap > 0 && elem_size > 0) {
        c->buf = malloc(cap * elem_size);
        if (!c->buf)
            grt__throw("runtime: out of memory allocating a channel");
    }
    /* one object, header and buffer, as Go's makechan allocates them
     * for element types without pointers */
    objstat_alloc(sizeof *c + (c->buf ? cap * elem_size : 0));
    return c;
}

void grt_chan_free(grt_chan *c)
{
    if (!c)
        return;
    if (c->timer) {
        grt__timer_del(c->timer);
        free(c->timer);
        objstat_free(); /* grt_after's timer */
    }
    agent_chan_free(c); /* agent: drop its channel record (if it has one) */
    free(c->buf);
    free(c);
    objstat_free();
}

void grt_chan_set_name(grt_chan *c, const char *name)
{
    if (!c)
        return;
    lock(&c->lock);
    strncpy(c->name, name ? name : "", sizeof c->name - 1);
    c->name[sizeof c->name - 1] = 0;
    unlock(&c->lock);
}

size_t grt_chan_len(const grt_chan *c)
{
    return c ? LOAD_RLX(&c->qcount) : 0;
}

size_t grt_chan_cap(const grt_chan *c)
{
    return c ? c->cap : 0;
}

/* Block for ever (nil channel, select {}). */
static _Noreturn void block_forever(enum wait_reason r)
{
    for (;;)
        grt__park(r, NULL, NULL);
}

void grt__chan_send_to(grt_chan *c, struct waiter *w, const void *ep)
{
    if (w->elem && c->elem_size)
        elem_copy(w->elem, ep, c->elem_size);
    w->success = true;
    struct g *gp = w->g;
    gp->wake_w = w;
    unlock(&c->lock);
    grt__ready(gp);
}

void grt__chan_recv_from(grt_chan *c, struct waiter *w, void *ep)
{
    if (c->cap == 0) {
        if (ep && c->elem_size)
            elem_copy(ep, w->elem, c->elem_size);
    } else {
        /* Buffer full: take the head, put the sender's value at the tail
         * (the same slot, since the ring is full). */
        void *slot = chanbuf(c, c->recvx);
        if (ep && c->elem_size)
            elem_copy(ep, slot, c->elem_size);
        if (c->elem_size)
            elem_copy(slot, w->elem, c->elem_size);
        if (++c->recvx == c->cap)
            c->recvx = 0;
        c->sendx = c->recvx;
    }
    w->success = true;
    struct g *gp = w->g;
    gp->wake_w = w;
    unlock(&c->lock);
    grt__ready(gp);
}

void grt_chan_send(grt_chan *c, const void *ep)
{
    if (unlikely(!c))
        block_forever(WAIT_CHAN_SEND_NIL);
    lock(&c->lock);
    if (unlikely(c->closed)) {
        unlock(&c->lock);
        grt__panic_str("send on closed channel");
    }
    struct waiter *w = waitq_dequeue(&c->recvq);
    if (w) {
        grt__chan_send_to(c, w, ep);
        return;
    }
    if (c->qcount < c->cap) {
        if (c->elem_size)
            elem_copy(chanbuf(c, c->sendx), ep, c->elem_size);
        if (++c->sendx == c->cap)
            c->sendx = 0;
        STORE_RLX(&c->qcount, c->qcount + 1);
        unlock(&c->lock);
        return;
    }
    grt__chan_block(c, &c->sendq, (void *)ep, WAIT_CHAN_SEND); /* tail call */
}

bool grt_chan_recv(grt_chan *c, void *ep)
{
    if (unlikely(!c))
        block_forever(WAIT_CHAN_RECV_NIL);
    lock(&c->lock);
    struct waiter *w = waitq_dequeue(&c->sendq);
    if (w) {
        grt__chan_recv_from(c, w, ep);
        return true;
    }
    if (c->qcount > 0) {
        void *slot = chanbuf(c, c->recvx);
        if (ep && c->elem_size)
            elem_copy(ep, slot, c->elem_size);
        if (++c->recvx == c->cap)
            c->recvx = 0;
        STORE_RLX(&c->qcount, c->qcount - 1);
        unlock(&c->lock);
        return true;
    }
    if (c->closed) {
        unlock(&c->lock);
        if (ep && c->elem_size)
            memset(ep, 0, c->elem_size);
        return false;
    }
    return grt__chan_block(c, &c->recvq, ep, WAIT_CHAN_RECV); /* tail call */
}

void grt_chan_close(grt_chan *c)
{
    if (!c)
        grt__panic_str("close of nil channel");
    lock(&c->lock);
    if (c->closed) {
        unlock(&c->lock);
        grt__panic_str("close of closed channel");
    }
    STORE_RLX(&c->closed, 1);
    /* Collect every waiter, then ready them with the lock released. */
    struct g *list = NULL;
    struct waiter *w;
    while ((w = waitq_dequeue(&c->recvq)) != NULL) {
        if (w->elem && c->elem_size)
            memset(w->elem, 0, c->elem_size);
        w->success = false;
        w->g->wake_w = w;
        w->g->schedlink = list;
        list = w->g;
    }
    while ((w = waitq_dequeue(&c->sendq)) != NULL) {
        w->success = false;
        w->g->wake_w = w;
        w->g->schedlink = list;
        list = w->g;
    }
    unlock(&c->lock);
    while (list) {
        struct g *gp = list;
        list = gp->schedlink;
        gp->schedlink = NULL;
        grt__ready(gp);
    }
}

bool grt__chan_trysend(grt_chan *c, const void *ep)
{
    lock(&c->lock);
    if (c->closed) {
        unlock(&c->lock);
        return false;
    }
    struct waiter *w = waitq_dequeue(&c->recvq);
    if (w) {
        grt__chan_send_to(c, w, ep);
        return true;
    }
    if (c->qcount < c->cap) {
        if (c->elem_size)
            elem_copy(chanbuf(c, c->sendx), ep, c->elem_size);
        if (++c->sendx == c->cap)
            c->sendx = 0;
        STORE_RLX(&c->qcount, c->qcount + 1);
        unlock(&c->lock);
        return true;
    }
    unlock(&c->lock);
    return false;
}

void grt__chan_drain(grt_chan *c)
{
    lock(&c->lock);
    c->qcount = 0;
    c->sendx = c->recvx = 0;
    unlock(&c->lock);
}

void grt__chan_set_timer(grt_chan *c, struct timer *t)
{
    c->timer = t;
}
