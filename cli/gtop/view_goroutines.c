/*
 * view_goroutines.c - the goroutines view, gtop's main list (htop's
 * process list): one row per live goroutine with its id, state or wait
 * reason, how long it has waited, what it waits on (a channel by name or
 * address, a mutex...), its committed stack, the M and P it runs on, and
 * where and by whom it was created; the name column is its grt_go_named
 * label or the function it started with.  The tree is by parent
 * goroutine.
 *
 * Items point into the model's snapshot (immutable until the next
 * refresh, when the view is rebuilt) and carry what sorting needs
 * precomputed (wait time, the channel's name), so comparators need no
 * context.  Channel names are found through an address map built once per
 * build.
 */
#include "config.h"

#include "gtop.h"

#include <inttypes.h>
#include <string.h>

struct gitem {
    const struct rd_g *g;
    const struct rd_site *site; /* NULL unknown */
    const char *state;          /* model_state */
    const char *chan;           /* name of the channel waited on; NULL */
    const char *name;           /* label or function */
    int64_t wait_ns;            /* -1 not waiting */
};

enum { C_GID, C_STATE, C_WAIT, C_ON, C_STACK, C_MP, C_CREATED, C_NAME };

PANEL_CMP(c_gid, struct gitem, x->g->goid)
PANEL_CMP_STR(c_state, struct gitem, x->state)
PANEL_CMP(c_wait, struct gitem, x->wait_ns)
PANEL_CMP(c_stack, struct gitem, x->g->stack_committed)
PANEL_CMP_STR(c_name, struct gitem, x->name)

static uint64_t wait_obj(const struct gitem *x)
{
    return x->wait_ns >= 0 ? x->g->wait_obj : 0;
}

static int c_on(const void *a, const void *b)
{
    const struct gitem *x = a, *y = b;
    const char *p = x->chan ? x->chan : "", *q = y->chan ? y->chan : "";
    int c = strcmp(p, q);
    if (c)
        return c;
    uint64_t u = wait_obj(x), v = wait_obj(y);
    return (u > v) - (u < v);
}

static int mp_key(const struct gitem *x)
{
    const struct rd_g *g = x->g;
    bool on = g->status == GRT_SHM_G_RUNNING || g->status == GRT_SHM_G_SYSCALL;
    return on ? g->m_id : -1;
}

PANEL_CMP(c_mp, struct gitem, mp_key(x))

static int c_created(const void *a, const void *b)
{
    const struct gitem *x = a, *y = b;
    const char *p = x->site ? x->site->file : "",
               *q = y->site ? y->site->file : "";
    int c = strcmp(p, q);
    if (c)
        return c;
    c = (x->site ? x->site->line : 0) - (y->site ? y->site->line : 0);
    if (c)
        return c;
    return (x->g->parent_goid > y->g->parent_goid) -
           (x->g->parent_goid < y->g->parent_goid);
}

static const struct column cols[] = {
    [C_GID] = {.name = "gid",
               .title = "GID",
               .width = 8,
               .right = true,
               .compare = c_gid,
               .description = "goroutine id"},
    [C_STATE] = {.name = "state",
                 .title = "STATE",
                 .width = 19,
                 .compare = c_state,
                 .description = "status, or the wait reason when waiting"},
    [C_WAIT] = {.name = "wait",
                .title = "WAITING",
                .width = 9,
                .right = true,
                .compare = c_wait,
                .description = "how long it has waited"},
    [C_ON] = {.name = "on",
              .title = "WAITING ON",
              .width = 22,
              .compare = c_on,
              .description = "the channel (name or address), mutex, ..."},
    [C_STACK] = {.name = "stack",
                 .title = "STACK",
                 .width = 6,
                 .right = true,
                 .compare = c_stack,
                 .description = "committed stack bytes"},
    [C_MP] = {.name = "mp",
              .title = "M/P",
              .width = 7,
              .compare = c_mp,
              .description = "thread and processor it runs on"},
    [C_CREATED] = {.name = "created",
                   .title = "CREATED BY",
                   .width = 30,
                   .compare = c_created,
                   .description = "parent goroutine and the site of grt_go"},
    [C_NAME] = {.name = "name",
                .title = "NAME/FUNCTION",
                .width = 0,
                .compare = c_name,
                .description = "grt_go_named label, or the function"},
};

static const char *wait_kind(int reason)
{
    const char *k = rd_wait_obj_kind(reason);
    return k ? k : "";
}

static int build(struct view *v, const struct model *m)
{
    const struct rd_snapshot *s = m->snap;
    v->nitems = 0;
    if (!s)
        return RD_OK;
    struct gitem *it = panel_items(v, s->ng);
    if (!it)
        return RD_ENOMEM;
    struct idmap chans = {0};
    for (size_t i = 0; i < s->nchan; i++)
        if (s->chan[i].name[0])
            idmap_put(&chans, (int64_t)s->chan[i].addr, i);
    size_t n = 0;
    for (size_t i = 0; i < s->ng; i++) {
        const struct rd_g *g = &s->g[i];
        if (g->torn)
            continue;
        struct gitem *x = &it[n++];
        x->g = g;
        x->site = model_site(m, g);
        x->state = model_state(m, g);
        x->wait_ns = model_wait_ns(m, g);
        x->chan = NULL;
        size_t ci;
        if (x->wait_ns >= 0 && g->wait_obj &&
            strcmp(wait_kind(g->wait_reason), "chan") == 0 &&
            idmap_get(&chans, (int64_t)g->wait_obj, &ci))
            x->chan = s->chan[ci].name;
        x->name = g->name[0]                     ? g->name
                  : x->site && x->site->fn[0]    ? x->site->fn
                  : (g->flags & GRT_SHM_GF_MAIN) ? "main"
                                                 : "?";
    }
    idmap_free(&chans);
    v->nitems = n;
    return RD_OK;
}

static void cell(const struct view *v, const void *item, int col, char *buf,
                 size_t len)
{
    (void)v;
    const struct gitem *x = item;
    const struct rd_g *g = x->g;
    buf[0] = 0;
    switch (col) {
    case C_GID:
        snprintf(buf, len, "%" PRId64, g->goid);
        break;
    case C_STATE:
        snprintf(buf, len, "%s", x->state);
        break;
    case C_WAIT:
        if (x->wait_ns >= 0)
            fmt_dur(buf, len, x->wait_ns);
        break;
    case C_ON: {
        const char *k = x->wait_ns >= 0 ? wait_kind(g->wait_reason) : "";
        if (x->chan)
            snprintf(buf, len, "chan %s", x->chan);
        else if (x->wait_ns >= 0 && g->wait_obj)
            snprintf(buf, len, "%s%s0x%" PRIx64, k, k[0] ? " " : "",
                     g->wait_obj);
        break;
    }
    case C_STACK:
        if (g->stack_committed)
            fmt_bytes(buf, len, g->stack_committed);
        break;
    case C_MP:
        if (g->status == GRT_SHM_G_RUNNING)
            snprintf(buf, len, "m%d p%d", g->m_id, g->p_id);
        else if (g->status == GRT_SHM_G_SYSCALL)
            snprintf(buf, len, "m%d", g->m_id);
        break;
    case C_CREATED:
        if (g->parent_goid == 0)
            break;
        if (x->site && x->site->file[0]) {
            char site[160];
            snprintf(buf, len, "g%" PRId64 " %s", g->parent_goid,
                     model_site_text(x->site, site, sizeof site));
        } else if (x->site && x->site->caller[0])
            snprintf(buf, len, "g%" PRId64 " %s", g->parent_goid,
                     x->site->caller);
        else
            snprintf(buf, len, "g%" PRId64, g->parent_goid);
        break;
    case C_NAME:
        if (g->name[0] && x->site && x->site->fn[0] &&
            strcmp(g->name, x->site->fn) != 0)
            snprintf(buf, len, "%s (%s)", g->name, x->site->fn);
        else
            snprintf(buf, len, "%s", x->name);
        break;
    }
}

/* Append s to buf (o: used so far); returns the new length. */
static size_t put(char *buf, size_t len, size_t o, const char *s)
{
    size_t n = strlen(s);
    if (o + n + 2 > len)
        n = o + 2 < len ? len - o - 2 : 0;
    memcpy(buf + o, s, n);
    o += n;
    buf[o++] = ' ';
    buf[o] = 0;
    return o;
}

/* The filter's text: id, state, what it waits on, creator, name and
 * function.  Built by hand rather than with the cells' snprintf: a filter
 * formats every goroutine on every refresh. */
static void text(const struct view *v, const void *item, char *buf, size_t len)
{
    (void)v;
    const struct gitem *x = item;
    const struct rd_g *g = x->g;
    char num[24], *p = num + sizeof num;
    uint64_t u = g->goid < 0 ? 0 : (uint64_t)g->goid;
    *--p = 0;
    do
        *--p = (char)('0' + u % 10);
    while (u /= 10);
    size_t o = 0;
    buf[0] = 0;
    o = put(buf, len, o, p);
    o = put(buf, len, o, x->state);
    if (x->wait_ns >= 0 && g->wait_obj) {
        o = put(buf, len, o, wait_kind(g->wait_reason));
        if (x->chan)
            o = put(buf, len, o, x->chan);
        else {
            char hex[24];
            snprintf(hex, sizeof hex, "0x%" PRIx64, g->wait_obj);
            o = put(buf, len, o, hex);
        }
    }
    if (g->parent_goid) {
        char site[160];
        snprintf(num, sizeof num, "g%" PRId64, g->parent_goid);
        o = put(buf, len, o, num);
        o = put(buf, len, o, model_site_text(x->site, site, sizeof site));
    }
    o = put(buf, len, o, x->name);
    if (x->site)
        put(buf, len, o, x->site->fn);
}

static int64_t id(const void *item)
{
    return ((const struct gitem *)item)->g->goid;
}

static int64_t parent(const void *item)
{
    return ((const struct gitem *)item)->g->parent_goid;
}

static void info(const struct view *v, const struct model *m, char *buf,
                 size_t len)
{
    size_t torn = m->snap ? m->snap->ntorn : 0;
    snprintf(buf, len, "%zu goroutines%s%s", v->nitems,
             torn ? ", some torn (changing too fast to read)" : "",
             v->tree ? "; tree by parent" : "");
}

const struct view_ops view_goroutines_ops = {
    .name = "goroutines",
    .key = "o",
    .cols = cols,
    .ncols = sizeof cols / sizeof *cols,
    .default_sort = C_GID,
    .tree_col = C_NAME,
    .item_size = sizeof(struct gitem),
    .build = build,
    .cell = cell,
    .text = text,
    .id = id,
    .parent = parent,
    .goid = id,
    .info = info,
};
