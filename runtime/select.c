/*
 * select.c - Go's select statement, after runtime/select.go (selectgo).
 *
 * 1. Shuffle the cases into a random poll order (uniform choice among the
 *    ready ones) and sort them by channel address into a lock order.
 * 2. Lock every distinct channel in lock order; look for a ready case in
 *    poll order; if one is ready, do it and unlock.
 * 3. With a default, return -1.  Otherwise queue one waiter per case,
 *    all on this goroutine's stack, and park.  The channel locks are
 *    released after the switch (selparkcommit).
 * 4. A waker picks one of our waiters: it wins the CAS on g->select_done
 *    (waitq_dequeue), does the transfer and records itself in g->wake_w.
 * 5. Woken, lock the channels of the losing waiters, dequeue them, unlock.
 *
 * Cases with a NULL channel are never ready and never queued.  Small
 * selects keep their scratch arrays on the stack; above STACK_CASES they
 * are malloc'd.
 */
#include "config.h"

#include "chan.h"
#include "agent.h"

#include <stdlib.h>

#define STACK_CASES 8
#define MAX_CASES 65536

/* Scratch arrays are malloc'd only above STACK_CASES */
static inline void free_scratch(void *heap)
{
    if (unlikely(heap))
        free(heap);
}

static void sellock(grt_chan **order, int n)
{
    grt_chan *last = NULL;
    for (int i = 0; i < n; i++) {
        if (order[i] != last) {
            last = order[i];
            lock(&last->lock);
        }
    }
}

static void selunlock(grt_chan **order, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        if (i > 0 && order[i] == order[i - 1])
            continue;
        unlock(&order[i]->lock);
    }
}

/*
 * Release the channel locks of a parked select (after the switch).  The
 * goroutine's stack holds the list; once the last lock is released the
 * goroutine may already be running again, so nothing on its stack is read
 * after an unlock of the channel it belongs to (Go's selparkcommit).
 */
struct selpark {
    grt_chan **order;
    int n;
};

static void selparkcommit(void *arg)
{
    struct selpark *sp = arg;
    grt_chan **order = sp->order;
    int n = sp->n;
    /* Unlock in reverse; read order[i-1] before unlocking order[i]. */
    grt_chan *c = order[n - 1];
    for (int i = n - 1; i >= 0;) {
        grt_chan *prevc = NULL;
        int j = i - 1;
        while (j >= 0 && order[j] == c)
            j--;
        if (j >= 0)
            prevc = order[j];
        unlock(&c->lock);
        c = prevc;
        i = j;
    }
}

static void sort_by_addr(grt_chan **a, int *idx, int n)
{
    for (int i = 1; i < n; i++) {
        grt_chan *c = a[i];
        int k = idx[i];
        int j = i - 1;
        while (j >= 0 && (uintptr_t)a[j] > (uintptr_t)c) {
            a[j + 1] = a[j];
            idx[j + 1] = idx[j];
            j--;
        }
        a[j + 1] = c;
        idx[j + 1] = k;
    }
}

int grt_select(grt_case *cases, int ncases, bool has_default)
{
    struct m *mp = getm();
    struct g *gp = mp->curg;
    if (ncases < 0 || ncases > MAX_CASES)
        grt__panic_str("select: bad number of cases");

    int poll_s[STACK_CASES], lockidx_s[STACK_CASES];
    grt_chan *order_s[STACK_CASES];
    struct waiter ws_s[STACK_CASES];
    int *poll = poll_s, *lockidx = lockidx_s;
    grt_chan **order = order_s;
    struct waiter *ws = ws_s;
    void *heap = NULL;
    if (ncases > STACK_CASES) {
        size_t sz = (size_t)ncases *
                    (2 * sizeof(int) + sizeof(grt_chan *) + sizeof *ws);
        heap = malloc(sz);
        if (!heap)
            grt__throw("runtime: out of memory in select");
        ws = heap;
        order = (grt_chan **)(ws + ncases);
        poll = (int *)(order + ncases);
        lockidx = poll + ncases;
    }

    /* 1. poll order (Fisher-Yates over non-nil cases) and lock order;
     * two cases, the common select, in a few instructions */
    int n = 0;
    if (ncases == 2 && cases[0].chan && cases[1].chan) {
        int first = (int)(m_fastrand(mp) >> 31);
        poll[0] = first;
        poll[1] = first ^ 1;
        int lo = (uintptr_t)cases[0].chan > (uintptr_t)cases[1].chan;
        lockidx[0] = lo;
        lockidx[1] = lo ^ 1;
        order[0] = cases[lo].chan;
        order[1] = cases[lo ^ 1].chan;
        n = 2;
        goto ordered;
    }
    for (int i = 0; i < ncases; i++) {
        if (!cases[i].chan)
            continue;
        int j = n ? (int)m_fastrandn(mp, (uint32_t)n + 1) : 0;
        poll[n] = poll[j];
        poll[j] = i;
        n++;
    }
    if (n == 0) {
        free_scratch(heap);
        if (has_default)
            return -1;
        for (;;)
            grt__park(ncases ? WAIT_SELECT : WAIT_SELECT_NO_CASES, NULL,
                      NULL);
    }
    for (int i = 0; i < n; i++) {
        lockidx[i] = poll[i];
        order[i] = cases[poll[i]].chan;
    }
    sort_by_addr(order, lockidx, n);
ordered:

    /* 2. a ready case? */
    sellock(order, n);
    for (int k = 0; k < n; k++) {
        int i = poll[k];
        grt_case *cs = &cases[i];
        grt_chan *c = cs->chan;
        if (cs->op == GRT_SEND) {
            if (c->closed) {
                selunlock(order, n);
                free_scratch(heap);
                grt__panic_str("send on closed channel");
            }
            struct waiter *w = waitq_dequeue(&c->recvq);
            if (w) {
                /* send_to releases c->lock: release the others first */
                for (int j = n - 1; j >= 0; j--)
                    if (order[j] != c && (j == 0 || order[j] != order[j - 1]))
                        unlock(&order[j]->lock);
                grt__chan_send_to(c, w, cs->elem);
                free_scratch(heap);
                return i;
            }
            if (c->qcount < c->cap) {
                if (c->elem_size)
                    elem_copy(chanbuf(c, c->sendx), cs->elem, c->elem_size);
                if (++c->sendx == c->cap)
                    c->sendx = 0;
                STORE_RLX(&c->qcount, c->qcount + 1);
                selunlock(order, n);
                free_scratch(heap);
                return i;
            }
        } else {
            struct waiter *w = waitq_dequeue(&c->sendq);
            if (w) {
                for (int j = n - 1; j >= 0; j--)
                    if (order[j] != c && (j == 0 || order[j] != order[j - 1]))
                        unlock(&order[j]->lock);
                grt__chan_recv_from(c, w, cs->elem);
                cs->ok = true;
                free_scratch(heap);
                return i;
            }
            if (c->qcount > 0) {
                void *slot = chanbuf(c, c->recvx);
                if (cs->elem && c->elem_size)
                    elem_copy(cs->elem, slot, c->elem_size);
                if (++c->recvx == c->cap)
                    c->recvx = 0;
                STORE_RLX(&c->qcount, c->qcount - 1);
                selunlock(order, n);
                cs->ok = true;
                free_scratch(heap);
                return i;
            }
            if (c->closed) {
                selunlock(order, n);
                if (cs->elem && c->elem_size)
                    memset(cs->elem, 0, c->elem_size);
                cs->ok = false;
                free_scratch(heap);
                return i;
            }
        }
    }
    if (has_default) {
        selunlock(order, n);
        free_scratch(heap);
        return -1;
    }

    /* 3. queue a waiter on every channel, in lock order, and park */
    STORE_RLX(&gp->select_done, 0);
    gp->wake_w = NULL;
    for (int k = 0; k < n; k++) {
        int i = lockidx[k];
        struct waiter *w = &ws[k];
        w->g = gp;
        w->elem = cases[i].elem;
        w->c = cases[i].chan;
        w->is_select = true;
        w->success = false;
        w->case_index = i;
        w->waitlink = NULL;
        agent_chan_block(w->c); /* agent: register the channel (once) */
        if (cases[i].op == GRT_SEND)
            waitq_push(&w->c->sendq, w);
        else
            waitq_push(&w->c->recvq, w);
    }
    struct selpark sp = {order, n};
    grt__park_fn_thunk(WAIT_SELECT, n == 1 ? order[0] : NULL, selparkcommit,
                       &sp);

    /* 5. woken by one case: dequeue the others.  The winner is off its
     * queue already (its waker took it under the channel's lock and never
     * touches it after the unlock), so only channels that hold another
     * of our waiters are locked: one lock, not two, for a select of two
     * (Go locks them all). */
    struct waiter *won = gp->wake_w;
    if (!won)
        grt__throw("selectgo: bad wakeup");
    grt_chan *last = NULL;
    for (int k = 0; k < n; k++) {
        if (&ws[k] != won && order[k] != last) {
            last = order[k];
            lock(&last->lock);
        }
    }
    for (int k = 0; k < n; k++) {
        struct waiter *w = &ws[k];
        if (w == won)
            continue;
        if (cases[w->case_index].op == GRT_SEND)
            waitq_remove(&w->c->sendq, w);
        else
            waitq_remove(&w->c->recvq, w);
    }
    last = NULL;
    for (int k = n - 1; k >= 0; k--) {
        if (&ws[k] != won && order[k] != last) {
            last = order[k];
            unlock(&last->lock);
        }
    }
    int i = won->case_index;
    bool ok = won->success;
    free_scratch(heap);
    if (cases[i].op == GRT_SEND) {
        if (!ok)
            grt__panic_str("send on closed channel");
    } else {
        cases[i].ok = ok;
    }
    return i;
}
