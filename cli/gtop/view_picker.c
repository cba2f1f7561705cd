/*
 * view_picker.c - the picker gtop shows when started without -p: the grt
 * processes of this user (rd_list: every segment in the agent's
 * directories) with pid, name, goroutines, threads and uptime.  Stale
 * segments (their program is gone) and unreadable ones are listed with
 * their status, so a user sees why a process cannot be opened.
 */
#include "config.h"

#include "gtop.h"

#include <inttypes.h>
#include <string.h>

enum { C_PID, C_NAME, C_GOROUTINES, C_THREADS, C_UPTIME, C_STATUS };

struct picker {
    const struct rd_proc *procs;
    size_t n;
};

PANEL_CMP(c_pid, struct rd_proc, x->pid)
PANEL_CMP(c_goroutines, struct rd_proc, x->goroutines)
PANEL_CMP(c_threads, struct rd_proc, x->threads)
PANEL_CMP(c_uptime, struct rd_proc, x->uptime_ns)
PANEL_CMP(c_status, struct rd_proc, x->status)
PANEL_CMP_STR(c_name, struct rd_proc, x->name)

static const struct column cols[] = {
    [C_PID] = {.name = "pid",
               .title = "PID",
               .width = 8,
               .right = true,
               .compare = c_pid,
               .description = "process id"},
    [C_NAME] = {.name = "name",
                .title = "NAME",
                .width = 24,
                .compare = c_name,
                .description = "program name"},
    [C_GOROUTINES] = {.name = "goroutines",
                      .title = "GOROUTINES",
                      .width = 10,
                      .right = true,
                      .compare = c_goroutines,
                      .description = "live goroutines"},
    [C_THREADS] = {.name = "threads",
                   .title = "THREADS",
                   .width = 7,
                   .right = true,
                   .compare = c_threads,
                   .description = "OS threads"},
    [C_UPTIME] = {.name = "uptime",
                  .title = "UPTIME",
                  .width = 11,
                  .right = true,
                  .compare = c_uptime,
                  .description = "since the program started"},
    [C_STATUS] = {.name = "status",
                  .title = "STATUS",
                  .width = 0,
                  .compare = c_status,
                  .description = "live, or why not"},
};

void view_picker_set(struct view *v, const struct rd_proc *procs, size_t n)
{
    static struct picker pk; /* one picker per process */
    pk.procs = procs;
    pk.n = n;
    v->priv = &pk;
}

static int build(struct view *v, const struct model *m)
{
    (void)m;
    const struct picker *pk = v->priv;
    v->nitems = 0;
    if (!pk || pk->n == 0)
        return RD_OK;
    struct rd_proc *it = panel_items(v, pk->n);
    if (!it)
        return RD_ENOMEM;
    memcpy(it, pk->procs, pk->n * sizeof *it);
    v->nitems = pk->n;
    return RD_OK;
}

static void cell(const struct view *v, const void *item, int col, char *buf,
                 size_t len)
{
    (void)v;
    const struct rd_proc *p = item;
    buf[0] = 0;
    switch (col) {
    case C_PID:
        snprintf(buf, len, "%d", p->pid);
        break;
    case C_NAME:
        snprintf(buf, len, "%s", p->name);
        break;
    case C_GOROUTINES:
        if (p->status == RD_OK)
            snprintf(buf, len, "%" PRIu64, p->goroutines);
        break;
    case C_THREADS:
        if (p->status == RD_OK)
            snprintf(buf, len, "%" PRIu64, p->threads);
        break;
    case C_UPTIME:
        if (p->status == RD_OK)
            fmt_uptime(buf, len, p->uptime_ns);
        break;
    case C_STATUS:
        snprintf(buf, len, "%s",
                 p->status == RD_OK ? "live" : rd_strerror(p->status));
        break;
    }
}

static void text(const struct view *v, const void *item, char *buf, size_t len)
{
    (void)v;
    const struct rd_proc *p = item;
    snprintf(buf, len, "%d %s", p->pid, p->name);
}

static int64_t id(const void *item)
{
    return ((const struct rd_proc *)item)->pid;
}

static void info(const struct view *v, const struct model *m, char *buf,
                 size_t len)
{
    (void)m;
    snprintf(buf, len, "%zu grt processes; Enter opens one", v->nitems);
}

const struct view_ops view_picker_ops = {
    .name = "processes",
    .key = "",
    .cols = cols,
    .ncols = sizeof cols / sizeof *cols,
    .default_sort = C_PID,
    .tree_col = -1,
    .item_size = sizeof(struct rd_proc),
    .build = build,
    .cell = cell,
    .text = text,
    .id = id,
    .info = info,
};
