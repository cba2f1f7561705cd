/*
 * view_chans.c - the channels view: every channel some goroutine has
 * blocked on (the agent registers a channel then, and keeps it until
 * grt_chan_free), with its capacity, buffered length, closed flag, the
 * goroutines blocked sending and receiving and how long the oldest of
 * them has waited.  Sorted by default with the longest-blocked first.
 */
#include "config.h"

#include "gtop.h"

#include <inttypes.h>
#include <string.h>

struct citem {
    const struct rd_chan *c;
    int64_t oldest_ns; /* -1 none waits */
};

enum {
    C_NAME,
    C_ADDR,
    C_ELEM,
    C_CAP,
    C_LEN,
    C_CLOSED,
    C_SEND,
    C_RECV,
    C_OLDEST
};

PANEL_CMP(c_addr, struct citem, x->c->addr)
PANEL_CMP(c_elem, struct citem, x->c->elem_size)
PANEL_CMP(c_cap, struct citem, x->c->cap)
PANEL_CMP(c_len, struct citem, x->c->len)
PANEL_CMP(c_closed, struct citem, x->c->flags &GRT_SHM_CF_CLOSED)
PANEL_CMP(c_send, struct citem, x->c->nsend)
PANEL_CMP(c_recv, struct citem, x->c->nrecv)
PANEL_CMP(c_oldest, struct citem, x->oldest_ns)
PANEL_CMP_STR(c_name, struct citem, x->c->name)

static const struct column cols[] = {
    [C_NAME] = {.name = "name",
                .title = "CHANNEL",
                .width = 20,
                .compare = c_name,
                .description = "grt_chan_set_name"},
    [C_ADDR] = {.name = "addr",
                .title = "ADDRESS",
                .width = 14,
                .compare = c_addr,
                .description = "the grt_chan"},
    [C_ELEM] = {.name = "elem",
                .title = "ELEM",
                .width = 5,
                .right = true,
                .compare = c_elem,
                .description = "bytes per element"},
    [C_CAP] = {.name = "cap",
               .title = "CAP",
               .width = 6,
               .right = true,
               .compare = c_cap,
               .description = "buffer capacity"},
    [C_LEN] = {.name = "len",
               .title = "LEN",
               .width = 6,
               .right = true,
               .compare = c_len,
               .description = "buffered elements"},
    [C_CLOSED] = {.name = "closed",
                  .title = "CLOSED",
                  .width = 6,
                  .compare = c_closed,
                  .description = "closed"},
    [C_SEND] = {.name = "senders",
                .title = "SENDERS",
                .width = 7,
                .right = true,
                .compare = c_send,
                .description = "goroutines blocked sending"},
    [C_RECV] = {.name = "receivers",
                .title = "RECEIVERS",
                .width = 9,
                .right = true,
                .compare = c_recv,
                .description = "goroutines blocked receiving"},
    [C_OLDEST] = {.name = "oldest",
                  .title = "OLDEST WAIT",
                  .width = 0,
                  .right = false,
                  .compare = c_oldest,
                  .description = "how long the oldest waiter has waited"},
};

static int build(struct view *v, const struct model *m)
{
    const struct rd_snapshot *s = m->snap;
    v->nitems = 0;
    if (!s)
        return RD_OK;
    struct citem *it = panel_items(v, s->nchan);
    if (!it)
        return RD_ENOMEM;
    for (size_t i = 0; i < s->nchan; i++) {
        it[i].c = &s->chan[i];
        it[i].oldest_ns = -1;
        if (s->chan[i].oldest_wait > 0 &&
            s->chan[i].nsend + s->chan[i].nrecv > 0)
            it[i].oldest_ns = m->now > s->chan[i].oldest_wait
                                  ? m->now - s->chan[i].oldest_wait
                                  : 0;
    }
    v->nitems = s->nchan;
    return RD_OK;
}

static void cell(const struct view *v, const void *item, int col, char *buf,
                 size_t len)
{
    (void)v;
    const struct citem *x = item;
    const struct rd_chan *c = x->c;
    buf[0] = 0;
    switch (col) {
    case C_NAME:
        snprintf(buf, len, "%s", c->name[0] ? c->name : "-");
        break;
    case C_ADDR:
        snprintf(buf, len, "0x%" PRIx64, c->addr);
        break;
    case C_ELEM:
        snprintf(buf, len, "%" PRIu64, c->elem_size);
        break;
    case C_CAP:
        snprintf(buf, len, "%" PRIu64, c->cap);
        break;
    case C_LEN:
        snprintf(buf, len, "%" PRIu64, c->len);
        break;
    case C_CLOSED:
        snprintf(buf, len, "%s", c->flags & GRT_SHM_CF_CLOSED ? "yes" : "");
        break;
    case C_SEND:
        snprintf(buf, len, "%u%s", c->nsend,
                 c->flags & GRT_SHM_CF_PARTIAL ? "+" : "");
        break;
    case C_RECV:
        snprintf(buf, len, "%u%s", c->nrecv,
                 c->flags & GRT_SHM_CF_PARTIAL ? "+" : "");
        break;
    case C_OLDEST:
        if (x->oldest_ns >= 0)
            fmt_dur(buf, len, x->oldest_ns);
        break;
    }
}

static void text(const struct view *v, const void *item, char *buf, size_t len)
{
    (void)v;
    const struct rd_chan *c = ((const struct citem *)item)->c;
    snprintf(buf, len, "%s 0x%" PRIx64 "%s", c->name, c->addr,
             c->flags & GRT_SHM_CF_CLOSED ? " closed" : "");
}

static int64_t id(const void *item)
{
    return (int64_t)((const struct citem *)item)->c->addr;
}

static void info(const struct view *v, const struct model *m, char *buf,
                 size_t len)
{
    (void)m;
    size_t blocked = 0;
    for (size_t i = 0; i < v->nitems; i++) {
        const struct citem *x = (const struct citem *)v->items + i;
        blocked += x->c->nsend + x->c->nrecv > 0;
    }
    snprintf(buf, len, "%zu channels that blocked a goroutine, %zu now",
             v->nitems, blocked);
}

const struct view_ops view_chans_ops = {
    .name = "chans",
    .key = "c",
    .cols = cols,
    .ncols = sizeof cols / sizeof *cols,
    .default_sort = C_OLDEST,
    .default_invert = true,
    .tree_col = -1,
    .item_size = sizeof(struct citem),
    .build = build,
    .cell = cell,
    .text = text,
    .id = id,
    .info = info,
};
