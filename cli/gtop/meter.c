/*
 * meter.c - the figures of gtop's header (htop's meters), computed from a
 * model with no curses: goroutines by state, threads, processors busy,
 * stack and heap, rates per second and the graphs' values.
 *
 * Counts by state come from the snapshot's goroutines (so they agree with
 * the list below them); rates come from the sample ring, newest sample
 * against the newest one at least a second older, so the first screen
 * already has rates and batch mode needs only one snapshot.  Graphs put
 * the samples of a span into one bucket per column and show each bucket's
 * largest value.  batch mode prints the same figures as text
 * (meter_print); header.c draws them as bars.
 */
#include "config.h"

#include "gtop.h"

#include <inttypes.h>
#include <string.h>

#include "format.h"

char *fmt_bytes(char *buf, size_t len, uint64_t n)
{
    static const char unit[] = "BKMGTP";
    double v = (double)n;
    int u = 0;
    while (v >= 1024 && u < 5) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%" PRIu64 "B", n);
    else if (v < 10 && v != (uint64_t)v)
        snprintf(buf, len, "%.1f%c", v, unit[u]);
    else
        snprintf(buf, len, "%.0f%c", v, unit[u]);
    return buf;
}

char *fmt_dur(char *buf, size_t len, int64_t ns)
{
    return grt__fmt_duration(buf, len, ns);
}

char *fmt_uptime(char *buf, size_t len, int64_t ns)
{
    int64_t s = ns < 0 ? 0 : ns / 1000000000;
    int64_t d = s / 86400;
    s %= 86400;
    if (d > 0)
        snprintf(buf, len, "%" PRId64 "d %02d:%02d:%02d", d, (int)(s / 3600),
                 (int)(s / 60 % 60), (int)(s % 60));
    else
        snprintf(buf, len, "%02d:%02d:%02d", (int)(s / 3600),
                 (int)(s / 60 % 60), (int)(s % 60));
    return buf;
}

/* The rate of field f between the newest sample and one >= 1 s older. */
static bool rates(const struct model *m, struct meters *o)
{
    const struct rd_sample *a = model_sample(m, 0), *b = NULL;
    if (!a)
        return false;
    for (uint64_t i = 1; (b = model_sample(m, i)) != NULL; i++)
        if (a->mono_ns - b->mono_ns >= 1000000000)
            break;
    if (!b) {
        uint64_t kept = m->nhist < MODEL_HIST ? m->nhist : MODEL_HIST;
        b = kept > 1 ? model_sample(m, kept - 1) : NULL;
    }
    if (!b || a->mono_ns <= b->mono_ns)
        return false;
    double dt = (double)(a->mono_ns - b->mono_ns) / 1e9;
#define RATE(f) ((a->f >= b->f ? (double)(a->f - b->f) : 0) / dt)
    o->ctxsw = RATE(ctxswitches);
    o->steals = RATE(steals);
    o->preempt = RATE(preemptions);
    o->created = RATE(created);
    o->exited = RATE(exited);
    o->syscalls = RATE(syscalls);
#undef RATE
    return true;
}

void meter_compute(const struct model *m, struct meters *o)
{
    memset(o, 0, sizeof *o);
    const struct rd_snapshot *s = m->snap;
    if (!s)
        return;
    for (size_t i = 0; i < s->ng; i++) {
        const struct rd_g *g = &s->g[i];
        if (g->torn)
            continue;
        o->total++;
        switch (g->status) {
        case GRT_SHM_G_RUNNING:
            o->running++;
            break;
        case GRT_SHM_G_RUNNABLE:
            o->runnable++;
            break;
        case GRT_SHM_G_SYSCALL:
            o->syscall++;
            break;
        default:
            o->waiting++;
        }
    }
    for (size_t i = 0; i < s->nm; i++) {
        uint32_t f = s->m[i].flags;
        if (f & GRT_SHM_MF_EXITED)
            continue;
        o->threads++;
        o->threads_idle += (f & GRT_SHM_MF_IDLE) != 0;
        o->threads_spinning += (f & GRT_SHM_MF_SPINNING) != 0;
        o->threads_blocked += (f & GRT_SHM_MF_BLOCKED) != 0;
    }
    for (size_t i = 0; i < s->np; i++)
        o->procs_busy += s->p[i].status == GRT_SHM_P_RUNNING ||
                         s->p[i].status == GRT_SHM_P_SYSCALL;
    if (s->have_stats) {
        o->maxprocs = s->stats.maxprocs;
        o->ncpu = s->stats.ncpu;
        o->stack_inuse = s->stats.stack_inuse;
        o->stack_sys = s->stats.stack_sys;
        o->heap_alloc = s->stats.heap_alloc;
        o->heap_sys = s->stats.heap_sys;
    }
    if (o->maxprocs == 0) {
        for (size_t i = 0; i < s->np; i++)
            o->maxprocs += s->p[i].status != GRT_SHM_P_DEAD;
    }
    o->have_rates = rates(m, o);
    if (m->leaks) {
        o->leaks_suspected = m->leaks->nsuspected;
        o->leaks_proven = m->leaks->nproven;
    }
    o->uptime_ns = m->now - s->created_mono_ns;
}

static const char *const graph_names[METER_G_COUNT] = {
    [METER_G_GOROUTINES] = "goroutines",
    [METER_G_CTXSW] = "switches/s",
    [METER_G_CREATED] = "created/s",
    [METER_G_RUNNABLE] = "runnable",
};

const char *meter_graph_name(int which)
{
    return which >= 0 && which < METER_G_COUNT ? graph_names[which] : "?";
}

/* The value of graph which at sample a (b: the sample before it). */
static double graph_value(int which, const struct rd_sample *a,
                          const struct rd_sample *b)
{
    double dt = b && a->mono_ns > b->mono_ns
                    ? (double)(a->mono_ns - b->mono_ns) / 1e9
                    : 0;
    switch (which) {
    case METER_G_GOROUTINES:
        return (double)a->goroutines;
    case METER_G_RUNNABLE:
        return (double)a->nstate[GRT_SHM_G_RUNNABLE];
    case METER_G_CTXSW:
        return dt > 0 && a->ctxswitches >= b->ctxswitches
                   ? (double)(a->ctxswitches - b->ctxswitches) / dt
                   : -1;
    case METER_G_CREATED:
        return dt > 0 && a->created >= b->created
                   ? (double)(a->created - b->created) / dt
                   : -1;
    }
    return -1;
}

double meter_graph(const struct model *m, int which, int64_t span_ns,
                   double *vals, int width)
{
    double max = 0;
    for (int i = 0; i < width; i++)
        vals[i] = -1;
    const struct rd_sample *newest = model_sample(m, 0);
    if (!newest || width <= 0 || span_ns <= 0)
        return 0;
    int64_t end = newest->mono_ns, start = end - span_ns;
    for (uint64_t i = 0;; i++) {
        const struct rd_sample *a = model_sample(m, i);
        if (!a || a->mono_ns < start)
            break;
        double v = graph_value(which, a, model_sample(m, i + 1));
        if (v < 0)
            continue;
        int col = (int)((double)(a->mono_ns - start) * width / (double)span_ns);
        if (col >= width)
            col = width - 1;
        if (col < 0)
            col = 0;
        if (v > vals[col])
            vals[col] = v;
        if (v > max)
            max = v;
    }
    return max;
}

void meter_spark(const double *vals, int width, double max,
                 const char *const *levels, int nlevels, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = 0;
    for (int i = 0; i < width; i++) {
        int l = 0;
        if (vals[i] > 0 && max > 0) {
            l = 1 + (int)(vals[i] / max * (nlevels - 2) + 0.5);
            if (l >= nlevels)
                l = nlevels - 1;
        }
        size_t n = strlen(levels[l]);
        if (o + n + 1 > len)
            break;
        memcpy(buf + o, levels[l], n);
        o += n;
        buf[o] = 0;
    }
}

void meter_print(FILE *f, const struct model *m, int graph_width)
{
    const struct rd_snapshot *s = m->snap;
    struct meters x;
    char a[32], b[32];
    if (!s)
        return;
    meter_compute(m, &x);
    fprintf(f, "gtop: pid %d %s (grt %s) up %s%s%s\n", s->pid, s->name,
            s->grt_version, fmt_uptime(a, sizeof a, x.uptime_ns),
            m->exited ? "  [program exited]" : "",
            m->paused ? "  [paused]" : "");
    fprintf(f,
            "Goroutines: %" PRIu64 " total, %" PRIu64 " running, %" PRIu64
            " runnable, %" PRIu64 " waiting, %" PRIu64 " in a blocking call\n",
            x.total, x.running, x.runnable, x.waiting, x.syscall);
    fprintf(f,
            "Threads: %" PRIu64 " (%" PRIu64 " idle, %" PRIu64
            " spinning, %" PRIu64 " in a blocking call)   Processors: %u/%u "
            "busy (%u CPUs)\n",
            x.threads, x.threads_idle, x.threads_spinning, x.threads_blocked,
            x.procs_busy, x.maxprocs, x.ncpu);
    fprintf(f, "Stack: %s in use, ", fmt_bytes(a, sizeof a, x.stack_inuse));
    fprintf(f, "%s reserved   ", fmt_bytes(a, sizeof a, x.stack_sys));
    fprintf(f, "Heap: %s in use, %s obtained\n",
            fmt_bytes(a, sizeof a, x.heap_alloc),
            fmt_bytes(b, sizeof b, x.heap_sys));
    if (x.have_rates)
        fprintf(f,
                "Per second: %.0f switches, %.0f steals, %.0f preemptions, "
                "%.0f created, %.0f exited, %.0f blocking calls\n",
                x.ctxsw, x.steals, x.preempt, x.created, x.exited, x.syscalls);
    else
        fprintf(f, "Per second: (needs two samples)\n");
    if (m->leaks)
        fprintf(f, "Leaks: %zu suspected, %zu proven%s\n", x.leaks_suspected,
                x.leaks_proven,
                m->leaks->all_asleep ? " (all goroutines are asleep)" : "");
    if (graph_width > 0) {
        static const char *const lv[] = {" ", "_", ".", "-", "=", "*", "#"};
        double vals[512];
        char line[600];
        if (graph_width > 512)
            graph_width = 512;
        for (int w = 0; w < 2; w++) {
            int which = w == 0 ? METER_G_GOROUTINES : METER_G_CTXSW;
            double max = meter_graph(m, which, 120 * INT64_C(1000000000), vals,
                                     graph_width);
            meter_spark(vals, graph_width, max, lv, 7, line, sizeof line);
            fprintf(f, "%-10s |%s| max %.0f (2 min)\n", meter_graph_name(which),
                    line, max);
        }
    }
}
