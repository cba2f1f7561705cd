/*
 * ctx.c - cancellation scopes, after Go's context package (WithCancel,
 * WithTimeout, Done, Err), for the leaks they prevent.
 *
 * A context is a node in a tree; cancelling it records the error, closes
 * its done channel and cancels its children.  The whole tree is guarded
 * by one spin lock: cancellation also runs from a timer callback (the
 * timeout), which must not park, so a grt_mutex will not do; the
 * sections are short (list edits, a channel close per node).
 *
 * Background is a static root whose done channel is NULL: receiving from
 * it blocks for ever, as Go's Background().Done() returns nil.
 *
 * grt_ctx_free cancels if needed, stops the timer, unlinks the node from
 * its parent and detaches its children (they stay valid, already
 * cancelled, until freed themselves).
 */
#include "config.h"

#include "rt.h"

#include <stdlib.h>
#include <string.h>

struct grt_ctx {
    struct grt_ctx *parent;   /* under tree; NULL for roots and orphans */
    struct grt_ctx *children; /* under tree */
    struct grt_ctx *next;     /* sibling list; under tree */
    struct grt_ctx *prev;
    grt_chan *done;           /* immutable; NULL for background */
    int err;                  /* under tree; 0 while live */
    bool has_timer;           /* immutable */
    struct timer t;           /* the timeout */
};

static spinlock tree;
static struct grt_ctx background;

/* Cancel c and its subtree with err; tree held. */
static void cancel_locked(struct grt_ctx *c, int err)
{
    if (c->err || c == &background)
        return;
    c->err = err;
    grt_chan_close(c->done);
    for (struct grt_ctx *k = c->children; k; k = k->next)
        cancel_locked(k, err);
}

grt_ctx *grt_ctx_background(void)
{
    getm();
    return &background;
}

grt_ctx *grt_ctx_with_cancel(grt_ctx *parent)
{
    getm();
    grt_ctx *c = calloc(1, sizeof *c);
    if (!c)
        grt__throw("runtime: out of memory in grt_ctx_with_cancel");
    c->done = grt_chan_make(0, 0);
    c->t.idx = -1;
    if (!parent)
        parent = &background;
    lock(&tree);
    if (parent != &background) {
        c->parent = parent;
        c->next = parent->children;
        if (parent->children)
            parent->children->prev = c;
        parent->children = c;
        if (parent->err)
            cancel_locked(c, parent->err);
    }
    unlock(&tree);
    return c;
}

static void on_timeout(struct timer *t, int64_t now)
{
    (void)now;
    struct grt_ctx *c = t->arg;
    lock(&tree);
    cancel_locked(c, GRT_DEADLINE_EXCEEDED);
    unlock(&tree);
}

grt_ctx *grt_ctx_with_timeout(grt_ctx *parent, int64_t ns)
{
    grt_ctx *c = grt_ctx_with_cancel(parent);
    if (ns <= 0) {
        lock(&tree);
        cancel_locked(c, GRT_DEADLINE_EXCEEDED);
        unlock(&tree);
        return c;
    }
    c->has_timer = true;
    c->t.f = on_timeout;
    c->t.arg = c;
    int64_t now = grt__nanotime();
    grt__timer_add(&c->t, ns > INT64_MAX - now ? INT64_MAX : now + ns);
    return c;
}

void grt_ctx_cancel(grt_ctx *c)
{
    if (!c || c == &background)
        return;
    lock(&tree);
    cancel_locked(c, GRT_CANCELED);
    unlock(&tree);
}

grt_chan *grt_ctx_done(grt_ctx *c)
{
    return c ? c->done : NULL;
}

int grt_ctx_err(grt_ctx *c)
{
    if (!c || c == &background)
        return 0;
    lock(&tree);
    int e = c->err;
    unlock(&tree);
    return e;
}

void grt_ctx_free(grt_ctx *c)
{
    if (!c || c == &background)
        return;
    if (c->has_timer)
        grt__timer_del(&c->t);
    lock(&tree);
    cancel_locked(c, GRT_CANCELED);
    if (c->parent) {
        if (c->prev)
            c->prev->next = c->next;
        else
            c->parent->children = c->next;
        if (c->next)
            c->next->prev = c->prev;
    }
    for (struct grt_ctx *k = c->children; k;) {
        struct grt_ctx *n = k->next;
        k->parent = NULL;
        k->next = k->prev = NULL;
        k = n;
    }
    unlock(&tree);
    grt_chan_free(c->done);
    free(c);
}
