/*
 * view_groups.c - goroutines grouped: one row per (creation site, state)
 * with a count, as Go's pprof goroutine profile folds identical stacks
 * (debug=1).  A goroutine's creation site and where it waits stand for
 * its stack here, because stacks are not published continuously (a dump
 * is asked for on demand, and with 100,000 goroutines that costs the
 * program); Enter on a group shows the unwound stack of its oldest
 * member.  Reached with `s` from the goroutines view.
 *
 * When the model holds a full dump (`S`, or batch --stack-groups: one
 * request for every goroutine's stack), goroutines are grouped by their
 * unwound stack and state instead, as gdump --group and pprof do, and
 * each group is labelled with its first frame outside libgrt (the
 * creation site shown is its first member's).  Goroutines
 * created after the dump have no stack there and group by site as above.
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
    char where[128];     /* by stack: the first user frame; "" */
};

enum { C_COUNT, C_STATE, C_WAIT, C_STACK, C_FIRST, C_SITE, C_FN };

PANEL_CMP(c_count, struct group, x->n)
PANEL_CMP_STR(c_state, struct group, x->state)
PANEL_CMP(c_wait, struct group, x->max_wait_ns)
PANEL_CMP(c_stack, struct group, x->stack)
PANEL_CMP(c_first, struct group, x->first_goid)
PANEL_CMP_STR(c_fn, struct group, x->where[0] ? x->where : x->fn)

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

/* Is pc in libgrt's own code (a module of d named libgrt*)? */
static bool in_libgrt(const struct rd_dump *d, uint64_t pc)
{
    for (size_t i = 0; i < d->nmods; i++)
        if (pc >= d->mods[i].lo && pc < d->mods[i].hi)
            return view_stack_is_libgrt(d->mods[i].path);
    return false;
}

/* FNV-1a of a stack's program counters from its first frame outside
 * libgrt: where the runtime parked it (which differs with the path taken
 * inside, fast or slow) does not split a group. */
static uint64_t stack_hash(const struct rd_dump *d, const struct rd_dump_g *dg)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    uint32_t i = 0;
    while (i < dg->npcs && in_libgrt(d, dg->pcs[i]))
        i++;
    if (i == dg->npcs)
        i = 0;
    for (; i < dg->npcs; i++) {
        h ^= dg->pcs[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

static int build(struct view *v, const struct model *m)
{
    const struct rd_snapshot *s = m->snap;
    v->nitems = 0;
    if (!s)
        return RD_OK;
    struct idmap bygoid = {0}; /* goid -> index in m->dump->g */
    for (size_t i = 0; m->dump && i < m->dump->ng; i++)
        if (m->dump->g[i].npcs && !idmap_put(&bygoid, m->dump->g[i].goid, i))
            break;
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
        size_t di;
        const struct rd_dump_g *dg = NULL;
        if (idmap_get(&bygoid, g->goid, &di)) {
            dg = &m->dump->g[di];
            /* bit 62 set: a stack key, apart from every site key */
            uint64_t h = stack_hash(m->dump, dg) ^ (uint64_t)(key & 0xffff);
            key = (int64_t)(h >> 2 | UINT64_C(1) << 62);
        }
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
            grp->where[0] = 0;
            if (dg)
                view_stack_where(m->dump_sym, dg, grp->where,
                                 sizeof grp->where);
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
    idmap_free(&bygoid);
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
        snprintf(buf, len, "%s", x->where[0] ? x->where : x->fn);
        break;
    }
}

static void text(const struct view *v, const void *item, char *buf, size_t len)
{
    char site[160];
    const struct group *x = item;
    cell(v, item, C_SITE, site, sizeof site);
    snprintf(buf, len, "%s %s %s %s", x->state, site, x->fn, x->where);
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
    if (m->dump) {
        char d[32];
        snprintf(buf, len,
                 "%zu goroutines in %zu groups of the same stack and state "
                 "(stacks of %s ago; S: back to sites)",
                 total, v->nitems, fmt_dur(d, sizeof d, m->now - m->dump_at));
        return;
    }
    snprintf(buf, len,
             "%zu goroutines in %zu groups of the same creation site and "
             "state (S: by unwound stack)",
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
