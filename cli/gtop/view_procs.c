/*
 * view_procs.c - processors and threads: the live form of Go's
 * GODEBUG=schedtrace=1000,scheddetail=1.  One row per P (its status, run
 * queue, runnext, timers, the M holding it and that thread's id and
 * goroutine), then one row per M holding no P (idle, spinning or in a
 * blocking call).  The info line is schedtrace's summary line.
 */
#include "config.h"

#include "gtop.h"

#include <inttypes.h>
#include <string.h>

struct prow {
    const struct rd_p *p; /* NULL: an M without a P */
    const struct rd_m *m; /* the M holding p, or the M; NULL */
};

enum {
    C_P,
    C_STATUS,
    C_RUNQ,
    C_NEXT,
    C_TIMERS,
    C_G,
    C_M,
    C_TID,
    C_SPIN,
    C_CALL,
    C_TICK,
    C_SWITCH
};

static int64_t pkey(const struct prow *x)
{
    return x->p ? x->p->id : 1000000 + (x->m ? x->m->id : 0);
}

PANEL_CMP(c_p, struct prow, pkey(x))

static const char *status(const struct prow *x)
{
    if (x->p) {
        static const char *const n[] = {"idle", "running", "syscall", "gcstop",
                                        "dead"};
        return x->p->status >= 0 && x->p->status < 5 ? n[x->p->status] : "?";
    }
    uint32_t f = x->m ? x->m->flags : 0;
    return f & GRT_SHM_MF_EXITED     ? "exited"
           : f & GRT_SHM_MF_BLOCKED  ? "in call"
           : f & GRT_SHM_MF_SPINNING ? "spinning"
           : f & GRT_SHM_MF_IDLE     ? "idle"
                                     : "no P";
}

PANEL_CMP_STR(c_status, struct prow, status(x))
PANEL_CMP(c_runq, struct prow, x->p ? (int64_t)x->p->runq : -1)
PANEL_CMP(c_next, struct prow, x->p ? (int64_t)x->p->runnext : -1)
PANEL_CMP(c_timers, struct prow, x->p ? (int64_t)x->p->ntimers : -1)
PANEL_CMP(c_g, struct prow, x->m ? x->m->curg : 0)
PANEL_CMP(c_m, struct prow, x->m ? x->m->id : -1)
PANEL_CMP(c_tid, struct prow, x->m ? x->m->tid : 0)
PANEL_CMP(c_spin, struct prow, x->m ? x->m->flags &GRT_SHM_MF_SPINNING : 0)
PANEL_CMP(c_call, struct prow, x->m ? x->m->flags &GRT_SHM_MF_BLOCKED : 0)
PANEL_CMP(c_tick, struct prow, x->p ? (int64_t)x->p->schedtick : -1)
PANEL_CMP(c_switch, struct prow, x->p ? (int64_t)x->p->ctxswitches : -1)

static const struct column cols[] = {
    [C_P] = {.name = "p",
             .title = "P",
             .width = 4,
             .right = true,
             .compare = c_p,
             .description = "processor id"},
    [C_STATUS] = {.name = "status",
                  .title = "STATUS",
                  .width = 8,
                  .compare = c_status,
                  .description = "P status (M's, no P)"},
    [C_RUNQ] = {.name = "runq",
                .title = "RUNQ",
                .width = 5,
                .right = true,
                .compare = c_runq,
                .description = "local run queue length"},
    [C_NEXT] = {.name = "runnext",
                .title = "NEXT",
                .width = 4,
                .right = true,
                .compare = c_next,
                .description = "runnext slot used"},
    [C_TIMERS] = {.name = "timers",
                  .title = "TIMERS",
                  .width = 6,
                  .right = true,
                  .compare = c_timers,
                  .description = "timers in its heap"},
    [C_G] = {.name = "g",
             .title = "G",
             .width = 7,
             .right = true,
             .compare = c_g,
             .description = "goroutine its M runs"},
    [C_M] = {.name = "m",
             .title = "M",
             .width = 4,
             .right = true,
             .compare = c_m,
             .description = "thread holding it"},
    [C_TID] = {.name = "tid",
               .title = "TID",
               .width = 8,
               .right = true,
               .compare = c_tid,
               .description = "OS thread id"},
    [C_SPIN] = {.name = "spinning",
                .title = "SPIN",
                .width = 4,
                .compare = c_spin,
                .description = "M looking for work"},
    [C_CALL] = {.name = "call",
                .title = "IN CALL",
                .width = 7,
                .compare = c_call,
                .description = "M in a blocking call"},
    [C_TICK] = {.name = "schedtick",
                .title = "SCHEDTICK",
                .width = 10,
                .right = true,
                .compare = c_tick,
                .description = "scheduling rounds"},
    [C_SWITCH] = {.name = "switches",
                  .title = "SWITCHES",
                  .width = 0,
                  .right = true,
                  .compare = c_switch,
                  .description = "goroutines started on it"},
};

static int build(struct view *v, const struct model *m)
{
    const struct rd_snapshot *s = m->snap;
    v->nitems = 0;
    if (!s)
        return RD_OK;
    struct prow *it = panel_items(v, s->np + s->nm);
    if (!it)
        return RD_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < s->np; i++) {
        if (s->p[i].status == GRT_SHM_P_DEAD)
            continue;
        it[n].p = &s->p[i];
        it[n].m = NULL;
        for (size_t j = 0; j < s->nm; j++)
            if (s->p[i].m_id >= 0 && s->m[j].id == s->p[i].m_id)
                it[n].m = &s->m[j];
        n++;
    }
    for (size_t j = 0; j < s->nm; j++) {
        if (s->m[j].p_id >= 0 || (s->m[j].flags & GRT_SHM_MF_EXITED))
            continue;
        it[n].p = NULL;
        it[n].m = &s->m[j];
        n++;
    }
    v->nitems = n;
    return RD_OK;
}

static void cell(const struct view *v, const void *item, int col, char *buf,
                 size_t len)
{
    (void)v;
    const struct prow *x = item;
    const struct rd_p *p = x->p;
    const struct rd_m *mm = x->m;
    buf[0] = 0;
    switch (col) {
    case C_P:
        if (p)
            snprintf(buf, len, "%d", p->id);
        else
            snprintf(buf, len, "-");
        break;
    case C_STATUS:
        snprintf(buf, len, "%s", status(x));
        break;
    case C_RUNQ:
        if (p)
            snprintf(buf, len, "%u", p->runq);
        break;
    case C_NEXT:
        if (p)
            snprintf(buf, len, "%s", p->runnext ? "yes" : "");
        break;
    case C_TIMERS:
        if (p)
            snprintf(buf, len, "%u", p->ntimers);
        break;
    case C_G:
        if (mm && mm->curg)
            snprintf(buf, len, "%" PRId64, mm->curg);
        break;
    case C_M:
        if (mm)
            snprintf(buf, len, "%" PRId64, mm->id);
        break;
    case C_TID:
        if (mm)
            snprintf(buf, len, "%d", mm->tid);
        break;
    case C_SPIN:
        if (mm && (mm->flags & GRT_SHM_MF_SPINNING))
            snprintf(buf, len, "yes");
        break;
    case C_CALL:
        if (mm && (mm->flags & GRT_SHM_MF_BLOCKED))
            snprintf(buf, len, "yes");
        break;
    case C_TICK:
        if (p)
            snprintf(buf, len, "%" PRIu64, p->schedtick);
        break;
    case C_SWITCH:
        if (p)
            snprintf(buf, len, "%" PRIu64, p->ctxswitches);
        break;
    }
}

static void text(const struct view *v, const void *item, char *buf, size_t len)
{
    char a[16], b[16], c[16];
    cell(v, item, C_P, a, sizeof a);
    cell(v, item, C_M, b, sizeof b);
    cell(v, item, C_G, c, sizeof c);
    snprintf(buf, len, "p%s m%s g%s %s", a, b, c, status(item));
}

static int64_t id(const void *item)
{
    return pkey(item);
}

static int64_t goid(const void *item)
{
    const struct prow *x = item;
    return x->m ? x->m->curg : 0;
}

static void info(const struct view *v, const struct model *m, char *buf,
                 size_t len)
{
    (void)v;
    const struct rd_snapshot *s = m->snap;
    if (!s) {
        buf[0] = 0;
        return;
    }
    unsigned idle = 0, procs = 0, spinning = 0, idlem = 0, threads = 0;
    for (size_t i = 0; i < s->np; i++) {
        procs += s->p[i].status != GRT_SHM_P_DEAD;
        idle += s->p[i].status == GRT_SHM_P_IDLE;
    }
    for (size_t j = 0; j < s->nm; j++) {
        if (s->m[j].flags & GRT_SHM_MF_EXITED)
            continue;
        threads++;
        spinning += (s->m[j].flags & GRT_SHM_MF_SPINNING) != 0;
        idlem += (s->m[j].flags & GRT_SHM_MF_IDLE) != 0;
    }
    int o = snprintf(buf, len,
                     "gomaxprocs=%u idleprocs=%u threads=%u "
                     "spinningthreads=%u idlethreads=%u runqueue=%" PRIu64 " [",
                     procs, idle, threads, spinning, idlem,
                     s->have_stats ? s->stats.global_runq : 0);
    for (size_t i = 0; i < s->np && o > 0 && (size_t)o + 12 < len; i++)
        if (s->p[i].status != GRT_SHM_P_DEAD)
            o += snprintf(buf + o, len - (size_t)o, "%s%u", i ? " " : "",
                          s->p[i].runq);
    if (o > 0 && (size_t)o + 2 < len)
        snprintf(buf + o, len - (size_t)o, "]");
}

const struct view_ops view_procs_ops = {
    .name = "procs",
    .key = "p",
    .cols = cols,
    .ncols = sizeof cols / sizeof *cols,
    .default_sort = C_P,
    .tree_col = -1,
    .item_size = sizeof(struct prow),
    .build = build,
    .cell = cell,
    .text = text,
    .id = id,
    .goid = goid,
    .info = info,
};
