/*
 * view_leaks.c - the leaks view: the model's leak analysis
 * (rd_leaks_find, cli/reader/leaks.h, shared with gdump --leaks) as one
 * row per group of goroutines leaked at the same creation and blocking
 * site, proven leaks first.  Enter shows the unwound stack (file:line) of
 * the group's first goroutine; batch mode's --stacks prints it under
 * each group.
 */
#include "config.h"

#include "gtop.h"

#include <inttypes.h>
#include <string.h>

struct litem {
    const struct rd_leak_group *lg;
    const struct rd_site *site; /* NULL unknown */
    const char *reason;
    uint64_t obj;
    const char *obj_name; /* the channel's name; NULL */
};

enum { C_KIND, C_COUNT, C_BLOCKED, C_ON, C_WAIT, C_SITE, C_FN };

static const char *kind(int k)
{
    return k == RD_LEAK_ASLEEP  ? "proven: all asleep"
           : k == RD_LEAK_CYCLE ? "proven: lock cycle"
                                : "suspected";
}

static int c_kind(const void *a, const void *b)
{
    return ((const struct litem *)b)->lg->kind -
           ((const struct litem *)a)->lg->kind;
}

PANEL_CMP(c_count, struct litem, x->lg->n)
PANEL_CMP_STR(c_blocked, struct litem, x->reason)
PANEL_CMP(c_on, struct litem, x->obj)
PANEL_CMP(c_wait, struct litem, x->lg->max_wait_ns)

static int c_site(const void *a, const void *b)
{
    const struct litem *x = a, *y = b;
    int c = strcmp(x->site ? x->site->file : "", y->site ? y->site->file : "");
    if (c)
        return c;
    return (x->site ? x->site->line : 0) - (y->site ? y->site->line : 0);
}

PANEL_CMP_STR(c_fn, struct litem, x->site ? x->site->fn : "")

static const struct column cols[] = {
    [C_KIND] = {.name = "kind",
                .title = "KIND",
                .width = 18,
                .compare = c_kind,
                .description = "suspected or proven"},
    [C_COUNT] = {.name = "count",
                 .title = "COUNT",
                 .width = 6,
                 .right = true,
                 .compare = c_count,
                 .description = "goroutines in the group"},
    [C_BLOCKED] = {.name = "blocked",
                   .title = "BLOCKED IN",
                   .width = 19,
                   .compare = c_blocked,
                   .description = "wait reason"},
    [C_ON] = {.name = "on",
              .title = "ON",
              .width = 20,
              .compare = c_on,
              .description = "the object waited on"},
    [C_WAIT] = {.name = "wait",
                .title = "WAITING",
                .width = 9,
                .right = true,
                .compare = c_wait,
                .description = "longest wait in the group"},
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
    v->nitems = 0;
    const struct rd_leaks *l = m->leaks;
    const struct rd_snapshot *s = m->snap;
    if (!l || !s)
        return RD_OK;
    struct litem *it = panel_items(v, l->ngroups);
    if (!it)
        return RD_ENOMEM;
    for (size_t i = 0; i < l->ngroups; i++) {
        const struct rd_leak_group *lg = &l->groups[i];
        it[i].lg = lg;
        it[i].site =
            lg->site && lg->site <= s->nsite ? &s->site[lg->site - 1] : NULL;
        it[i].reason = rd_wait_name(s, lg->wait_reason);
        it[i].obj = lg->wait_obj;
        it[i].obj_name = NULL;
        for (size_t c = 0; c < s->nchan && lg->wait_obj; c++)
            if (s->chan[c].addr == lg->wait_obj && s->chan[c].name[0])
                it[i].obj_name = s->chan[c].name;
    }
    v->nitems = l->ngroups;
    return RD_OK;
}

static void cell(const struct view *v, const void *item, int col, char *buf,
                 size_t len)
{
    (void)v;
    const struct litem *x = item;
    const struct rd_leak_group *lg = x->lg;
    buf[0] = 0;
    switch (col) {
    case C_KIND:
        snprintf(buf, len, "%s", kind(lg->kind));
        break;
    case C_COUNT:
        snprintf(buf, len, "%zu", lg->n);
        break;
    case C_BLOCKED:
        snprintf(buf, len, "%s", x->reason);
        break;
    case C_ON:
        if (x->obj_name)
            snprintf(buf, len, "chan %s", x->obj_name);
        else if (x->obj)
            snprintf(buf, len, "0x%" PRIx64, x->obj);
        break;
    case C_WAIT:
        if (lg->max_wait_ns > 0)
            fmt_dur(buf, len, lg->max_wait_ns);
        break;
    case C_SITE:
        model_site_text(x->site, buf, len);
        break;
    case C_FN:
        if (x->site)
            snprintf(buf, len, "%s", x->site->fn);
        break;
    }
}

static void text(const struct view *v, const void *item, char *buf, size_t len)
{
    char site[160], fn[80], on[64];
    const struct litem *x = item;
    cell(v, item, C_SITE, site, sizeof site);
    cell(v, item, C_FN, fn, sizeof fn);
    cell(v, item, C_ON, on, sizeof on);
    snprintf(buf, len, "%s %s %s %s %s", kind(x->lg->kind), x->reason, on, site,
             fn);
}

static int64_t id(const void *item)
{
    const struct litem *x = item;
    return (int64_t)x->lg->site << 40 ^ (int64_t)x->lg->wait_reason << 32 ^
           (int64_t)x->lg->wait_obj;
}

static int64_t goid(const void *item)
{
    const struct rd_leak_group *lg = ((const struct litem *)item)->lg;
    return lg->n ? lg->goids[0] : 0;
}

static void info(const struct view *v, const struct model *m, char *buf,
                 size_t len)
{
    (void)v;
    const struct rd_leaks *l = m->leaks;
    char d[32];
    if (!l) {
        snprintf(buf, len, "no leak analysis");
        return;
    }
    int64_t th =
        m->leak_threshold_ns > 0 ? m->leak_threshold_ns : RD_LEAK_THRESHOLD_NS;
    int o = snprintf(buf, len,
                     "%zu suspected (blocked over %s), %zu proven leaked "
                     "goroutines",
                     l->nsuspected, fmt_dur(d, sizeof d, th), l->nproven);
    if (l->all_asleep && o > 0 && (size_t)o < len)
        o += snprintf(buf + o, len - (size_t)o, "; all goroutines are asleep");
    if (l->ncycle && o > 0 && (size_t)o < len) {
        o += snprintf(buf + o, len - (size_t)o, "; lock cycle:");
        for (size_t i = 0; i < l->ncycle && o > 0 && (size_t)o + 24 < len; i++)
            o += snprintf(buf + o, len - (size_t)o, " %" PRId64, l->cycle[i]);
    }
}

const struct view_ops view_leaks_ops = {
    .name = "leaks",
    .key = "l",
    .cols = cols,
    .ncols = sizeof cols / sizeof *cols,
    .default_sort = C_KIND,
    .tree_col = -1,
    .item_size = sizeof(struct litem),
    .build = build,
    .cell = cell,
    .text = text,
    .id = id,
    .goid = goid,
    .info = info,
};
