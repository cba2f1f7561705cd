/*
 * view_groups.c - goroutines grouped: one row per (creation site, state)
 * with a count, as Go's pprof goroutine profile folds identical stacks
 * (debug=1).  A goroutine's creation site and where it waits stand for
 * its stack here, because stacks are not published continuously (a dump
 * is asked for on demand, and with 100,000 goroutines that costs the
 * program); Enter on a group shows the unwound stack of its oldest
 * member.  Reached with `s` from the goroutines view.
 */
#include "config.h"

#include "gtop.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct group {
    int64_t key;                /* site << 16 | status << 8 | reason */
    const struct rd_site *site; /* NULL unknown */
    const char *state;
    const char *fn; /* function or label of its first member */
    size_t n;
    int64_t first_goid;  /* smallest id */
    int64_t max_wait_ns; /* -1 none waits */
    uint64_t stack;      /* committed bytes, summed */
};

enum { C_COUNT, C_STATE, C_WAIT, C_STACK, C_FIRST, C_SITE, C_FN };

PANEL_CMP(c_count, struct group, x->n)
PANEL_CMP_STR(c_state, struct group, x->state)
PANEL_CMP(c_wait, struct group, x->max_wait_ns)
PANEL_CMP(c_stack, struct group, x->stack)
PANEL_CMP(c_first, struct group, x->first_goid)
PANEL_CMP_STR(c_fn, struct group, x->fn)

static int c_site(const void *a, const void *b)
{
    const struct group *x = a, *y = b;
    int c = strcmp(x->site ? x->site->file : "", y->site ? y->site->file : "");
    if (c)
        return c;
    return (x->site ? x->site->line : 0) - (y->site ? y->site->line : 0);
}

static const struct column cols[] = {
    [C_COUNT] = {.name = "count",
                 .title = "COUNT",
                 .width = 7,
                 .right = true,
                 .compare = c_count,
                 .description = "goroutines in the group"},
    [C_STATE] = {.name = "state",
                 .title = "STATE",
                 .width = 19,
                 .compare = c_state,
                 .description = "status or wait reason"},
    [C_WAIT] = {.name = "wait",
                .title = "LONGEST",
                .width = 9,
                .right = true,
                .compare = c_wait,
                .description = "longest wait in the group"},
    [C_STACK] = {.name = "stack",
                 .title = "STACK",
                 .width = 6,
                 .right = true,
                 .compare = c_stack,
                 .description = "committed stack of the group"},
    [C_FIRST] = {.name = "first",
                 .title = "FIRST",
                 .width = 7,
                 .right = true,
                 .compare = c_first,
                 .description = "smallest goroutine id"},
    [C_SITE] = {.name = "site",
                .title = "CREATED AT",
                .width = 28,
                .compare = c_site,
                .description = "site of grt_go"},
    [C_FN] = {.name = "name",
              .title = "FUNCTION",
              .width = 0,
              .compare = c_fn,
              .description = "function started"},
};

static int build(struct view *v, const struct model *m)
{
    const struct rd_snapshot *s = m->snap;
    v->nitems = 0;
    if (!s)
        return RD_OK;
    struct idmap idx = {0};
    size_t n = 0;
    int rc = RD_OK;
    for (size_t i = 0; i < s->ng; i++) {
        const struct rd_g *g = &s->g[i];
        if (g->torn)
            continue;
        int reason = g->status == GRT_SHM_G_WAITING ? g->wait_reason : 0;
        int64_t key = (int64_t)g->site << 16 |
                      (int64_t)(g->status & 0xff) << 8 | (reason & 0xff);
        size_t k;
        struct group *grp;
        if (idmap_get(&idx, key, &k)) {
            grp = (struct group *)v->items + k;
        } else {
            if (!panel_items(v, n + 1) || !idmap_put(&idx, key, n)) {
                rc = RD_ENOMEM;
                break;
            }
            grp = (struct group *)v->items + n++;
            grp->key = key;
            grp->site = model_site(m, g);
            grp->state = model_state(m, g);
            grp->fn = grp->site && grp->site->fn[0]  ? grp->site->fn
                      : g->name[0]                   ? g->name
                      : (g->flags & GRT_SHM_GF_MAIN) ? "main"
                                                     : "?";
            grp->n = 0;
            grp->first_goid = g->goid;
            grp->max_wait_ns = -1;
            grp->stack = 0;
        }
        grp->n++;
        if (g->goid < grp->first_goid)
            grp->first_goid = g->goid;
        int64_t w = model_wait_ns(m, g);
        if (w > grp->max_wait_ns)
            grp->max_wait_ns = w;
        grp->stack += g->stack_committed;
    }
    idmap_free(&idx);
    v->nitems = n;
    return rc;
}

static void cell(const struct view *v, const void *item, int col, char *buf,
                 size_t len)
{
    (void)v;
    const struct group *x = item;
    buf[0] = 0;
    switch (col) {
    case C_COUNT:
        snprintf(buf, len, "%zu", x->n);
        break;
    case C_STATE:
        snprintf(buf, len, "%s", x->state);
        break;
    case C_WAIT:
        if (x->max_wait_ns >= 0)
            fmt_dur(buf, len, x->max_wait_ns);
        break;
    case C_STACK:
        if (x->stack)
            fmt_bytes(buf, len, x->stack);
        break;
    case C_FIRST:
        snprintf(buf, len, "%" PRId64, x->first_goid);
        break;
    case C_SITE:
        model_site_text(x->site, buf, len);
        break;
    case C_FN:
        snprintf(buf, len, "%s", x->fn);
        break;
    }
}

static void text(const struct view *v, const void *item, char *buf, size_t len)
{
    char site[160];
    const struct group *x = item;
    cell(v, item, C_SITE, site, sizeof site);
    snprintf(buf, len, "%s %s %s", x->state, site, x->fn);
}

static int64_t id(const void *item)
{
    return ((const struct group *)item)->key;
}

static int64_t goid(const void *item)
{
    return ((const struct group *)item)->first_goid;
}

static void info(const struct view *v, const struct model *m, char *buf,
                 size_t len)
{
    size_t total = 0;
    for (size_t i = 0; i < v->nitems; i++)
        total += ((const struct group *)v->items)[i].n;
    (void)m;
    snprintf(buf, len,
             "%zu goroutines in %zu groups of the same creation site and "
             "state",
             total, v->nitems);
}

const struct view_ops view_groups_ops = {
    .name = "groups",
    .key = "s",
    .cols = cols,
    .ncols = sizeof cols / sizeof *cols,
    .default_sort = C_COUNT,
    .default_invert = true,
    .tree_col = -1,
    .item_size = sizeof(struct group),
    .build = build,
    .cell = cell,
    .text = text,
    .id = id,
    .goid = goid,
    .info = info,
};
