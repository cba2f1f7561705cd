/*
 * ctx.c - cancellation scopes, after Go's context package (WithCancel,
 * WithTimeout, Done, Err), for the leaks they prevent.
 *
 * A context is a node in a tree.  Cancelling it records the error,
 * closes its done channel, cancels its live descendants with the same
 * error, and unlinks the whole cancelled subtree: a cancelled node has no
 * parent link and no children (Go's cancelCtx sets children to nil and
 * removes itself from its parent).  A child made from a cancelled parent
 * is born cancelled and is never linked.  So grt_ctx_free is just "cancel
 * if needed, stop the timer, release": once cancelled, no other context
 * points at the node and the node points at no other context, which is
 * what lets children outlive a freed parent.
 *
 * Design choice: one spin lock for every tree (tree_lock), not a
 * grt_mutex and not a lock per node.  The timeout's callback cancels,
 * and a timer callback runs on a scheduler path where it must not park,
 * so a grt_mutex would need a goroutine spawned per timeout; a spin lock
 * lets the callback cancel directly.  Sections are short (list edits and
 * one channel close per node; closing never parks).  Cancellation walks
 * the subtree with a work list, not recursion, since the timer callback
 * may run on an M's small g0 stack.  err is written under the lock before
 * done is closed and read without it.
 *
 * The timeout is an internal struct timer in the node.  Its callback
 * touches the node, so the node lives until grt__timer_del has returned:
 * grt_ctx_free deletes the timer (waiting for a running callback) before
 * freeing.  Background is a static root whose done channel is NULL:
 * receiving from it blocks for ever, as Go's Background().Done() is nil.
 */
#include "config.h"

#include "rt.h"

#include <stdlib.h>
#include <string.h>

struct grt_ctx {
    struct grt_ctx *parent;   /* (T) NULL for roots and cancelled nodes */
    struct grt_ctx *children; /* (T) live children; NULL once cancelled */
    struct grt_ctx *next;     /* (T) sibling list */
    struct grt_ctx *prev;     /* (T) */
    struct grt_ctx *work;     /* (T) cancel's work list */
    grt_chan *done;           /* immutable; NULL for background */
    int err;                  /* written under T (release); 0 while live */
    bool has_timer;           /* immutable after creation */
    int64_t deadline;         /* immutable; 0 none, else monotonic ns */
    struct timer t;           /* the timeout, if has_timer */
};

static spinlock tree_lock; /* (T): every tree's links and errors */
static struct grt_ctx background;

/* Unlink c from its parent's child list; T held. */
static void unlink_from_parent(struct grt_ctx *c)
{
    struct grt_ctx *pc = c->parent;
    if (!pc)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        pc->children = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->parent = c->next = c->prev = NULL;
}

/*
 * Cancel live node c and its live descendants with err, and unlink them
 * all; T held.  No-op if c is already cancelled (its subtree then is too).
 */
static void cancel_locked(struct grt_ctx *c, int err)
{
    if (c == &background || c->err)
        return;
    unlink_from_parent(c);
    /* Mark the whole subtree first, then close the done channels, the
     * descendants' before c's: a goroutine woken by any of them finds
     * every context below cancelled already. */
    struct grt_ctx *todo = c, *marked = NULL;
    c->work = NULL;
    while (todo) {
        struct grt_ctx *n = todo;
        todo = n->work;
        STORE_REL(&n->err, err);
        struct grt_ctx *k = n->children;
        n->children = NULL;
        while (k) {
            struct grt_ctx *kn = k->next;
            k->parent = k->next = k->prev = NULL;
            k->work = todo; /* live: a cancelled node has no parent */
            todo = k;
            k = kn;
        }
        n->work = marked;
        marked = n;
    }
    while (marked) {
        struct grt_ctx *n = marked;
        marked = n->work;
        n->work = NULL;
        grt_chan_close(n->done);
    }
}

grt_ctx *grt_ctx_background(void)
{
    getm();
    return &background;
}

/* A new live or born-cancelled child of parent (NULL: background) with
 * deadline dl (0 none). */
static grt_ctx *ctx_new(grt_ctx *parent, int64_t dl)
{
    getm();
    grt_ctx *c = calloc(1, sizeof *c);
    if (!c)
        grt__throw("runtime: out of memory making a context");
    objstat_alloc(sizeof *c);
    c->done = grt_chan_make(0, 0);
    c->t.idx = -1;
    c->deadline = dl;
    if (!parent || parent == &background)
        return c;
    lock(&tree_lock);
    if (parent->err) {
        c->err = parent->err;
        grt_chan_close(c->done);
    } else {
        c->parent = parent;
        c->next = parent->children;
        if (parent->children)
            parent->children->prev = c;
        parent->children = c;
    }
    unlock(&tree_lock);
    return c;
}

grt_ctx *grt_ctx_with_cancel(grt_ctx *parent)
{
    return ctx_new(parent, parent ? parent->deadline : 0);
}

static void on_timeout(struct timer *t, int64_t now)
{
    (void)now;
    lock(&tree_lock);
    cancel_locked(t->arg, GRT_DEADLINE_EXCEEDED);
    unlock(&tree_lock);
}

grt_ctx *grt_ctx_with_timeout(grt_ctx *parent, int64_t ns)
{
    int64_t now = grt__nanotime();
    int64_t dl = ns <= 0 ? now : (ns > INT64_MAX - now ? INT64_MAX : now + ns);
    int64_t pdl = parent ? parent->deadline : 0;
    if (pdl && pdl <= dl) /* the parent expires first: its timer will do */
        return ctx_new(parent, pdl);
    grt_ctx *c = ctx_new(parent, dl);
    if (ns <= 0) {
        lock(&tree_lock);
        cancel_locked(c, GRT_DEADLINE_EXCEEDED);
        unlock(&tree_lock);
        return c;
    }
    if (LOAD_ACQ(&c->err))
        return c; /* born cancelled: no timer needed */
    c->has_timer = true;
    c->t.f = on_timeout;
    c->t.arg = c;
    grt__timer_add(&c->t, dl);
    return c;
}

void grt_ctx_cancel(grt_ctx *c)
{
    if (!c || c == &background)
        return;
    lock(&tree_lock);
    cancel_locked(c, GRT_CANCELED);
    unlock(&tree_lock);
    if (c->has_timer)
        grt__timer_del(&c->t); /* Go's cancel stops the timer too */
}

grt_chan *grt_ctx_done(grt_ctx *c)
{
    return c ? c->done : NULL;
}

int grt_ctx_err(grt_ctx *c)
{
    if (!c || c == &background)
        return 0;
    return LOAD_ACQ(&c->err);
}

void grt_ctx_free(grt_ctx *c)
{
    if (!c || c == &background)
        return;
    grt_ctx_cancel(c); /* unlinks it and its subtree; stops the timer */
    grt_chan_free(c->done);
    free(c);
    objstat_free();
}
