/*
 * header.c - draws gtop's header (htop's meters) from the figures
 * meter.c computes: a title line (pid, name, uptime, and "program exited"
 * or "paused" when so), bars on the left (goroutines by state, processors
 * busy of GOMAXPROCS, stack and heap in use of obtained), text meters on
 * the right (counts, threads, rates per second, leaks), and two graphs
 * over the last two minutes (goroutines, and a second counter the `m` key
 * cycles).  Nothing here computes a figure: batch mode prints the same
 * ones with meter_print.
 */
#include "config.h"

#include "gtop.h"

#include <curses.h>
#include <inttypes.h>
#include <string.h>

/* A bar "Lbl[||||||    text]" at (y, x) of width w, with segments of
 * fractions frac[] in colours col[]. */
static void bar(int y, int x, int w, const char *label, const double *frac,
                const int *col, int nseg, const char *text)
{
    crt_print(y, x, crt_attr[CRT_LABEL], "%-3.3s", label);
    int inner = w - 5;
    if (inner < 1 || x + w > COLS)
        return;
    attrset(A_BOLD);
    addch('[');
    int tl = (int)strlen(text);
    int pos = 0;
    for (int s = 0; s < nseg; s++) {
        int n = (int)(frac[s] * inner + 0.5);
        if (frac[s] > 0 && n == 0)
            n = 1;
        attrset(crt_attr[col[s]]);
        for (int i = 0; i < n && pos < inner; i++, pos++)
            addch(pos >= inner - tl
                      ? (chtype)(unsigned char)text[pos - (inner - tl)]
                      : '|');
    }
    attrset(crt_attr[CRT_VALUE]);
    for (; pos < inner; pos++)
        addch(pos >= inner - tl
                  ? (chtype)(unsigned char)text[pos - (inner - tl)]
                  : ' ');
    attrset(A_BOLD);
    addch(']');
    attrset(A_NORMAL);
}

static void label_value(int y, int x, const char *label, const char *value)
{
    crt_print(y, x, crt_attr[CRT_LABEL], "%s", label);
    crt_print(-1, 0, crt_attr[CRT_VALUE], "%s", value);
}

static void graph(const struct model *m, int y, int width, int which)
{
    static const char *const ascii[] = {" ", "_", ".", "-", "=", "*", "#"};
    static const char *const blocks[] = {" ",      "\u2581", "\u2582",
                                         "\u2583", "\u2584", "\u2585",
                                         "\u2586", "\u2587", "\u2588"};
    double vals[512];
    char line[512 * 3 + 1];
    char lbl[48];
    int w = width - 30;
    if (w < 8)
        return;
    if (w > 512)
        w = 512;
    double max = meter_graph(m, which, 120 * INT64_C(1000000000), vals, w);
    if (crt_utf8)
        meter_spark(vals, w, max, blocks, 9, line, sizeof line);
    else
        meter_spark(vals, w, max, ascii, 7, line, sizeof line);
    snprintf(lbl, sizeof lbl, "%-11s", meter_graph_name(which));
    crt_print(y, 0, crt_attr[CRT_LABEL], "%s", lbl);
    attrset(crt_attr[CRT_GRAPH]);
    addstr(line); /* w + 11 + 19 <= width columns: no clipping needed */
    crt_print(-1, 0, crt_attr[CRT_VALUE], " max %.0f, 2 min", max);
}

int header_draw(const struct model *m, int y, int width, int maxlines,
                int graph2)
{
    const struct rd_snapshot *s = m->snap;
    struct meters x;
    char a[64], b[64], t[160];
    int y0 = y;
    if (!s || maxlines < 1)
        return 0;
    meter_compute(m, &x);

    crt_print(y, 0, A_BOLD, "gtop  pid %d  %s", s->pid, s->name);
    crt_print(-1, 0, A_NORMAL, "  grt %s  up %s", s->grt_version,
              fmt_uptime(a, sizeof a, x.uptime_ns));
    if (m->exited)
        crt_print(-1, 0, crt_attr[CRT_ALERT], "  program exited (%s)  ",
                  m->exit_err == RD_ESTALE ? "the last screen is kept"
                                           : rd_strerror(m->exit_err));
    else if (m->paused)
        crt_print(-1, 0, crt_attr[CRT_ALERT], "  PAUSED (Z resumes)  ");
    y++;
    if (maxlines < 6)
        return y - y0;

    int half = width / 2, bw = half - 1;
    double tot = x.total ? (double)x.total : 1;
    double fr[4] = {x.running / tot, x.runnable / tot, x.syscall / tot,
                    x.waiting / tot};
    int col[4] = {CRT_RUNNING, CRT_RUNNABLE, CRT_SYSCALL, CRT_WAITING};
    snprintf(t, sizeof t, "%" PRIu64, x.total);
    bar(y, 0, bw, "Gor", fr, col, 4, t);
    double pf = x.maxprocs ? (double)x.procs_busy / x.maxprocs : 0;
    int pc = CRT_RUNNING;
    snprintf(t, sizeof t, "%u/%u", x.procs_busy, x.maxprocs);
    bar(y + 1, 0, bw, "Prc", &pf, &pc, 1, t);
    double sf = x.stack_sys ? (double)x.stack_inuse / x.stack_sys : 0;
    int sc = CRT_RUNNABLE;
    snprintf(t, sizeof t, "%s/%s", fmt_bytes(a, sizeof a, x.stack_inuse),
             fmt_bytes(b, sizeof b, x.stack_sys));
    bar(y + 2, 0, bw, "Stk", &sf, &sc, 1, t);
    double hf = x.heap_sys ? (double)x.heap_alloc / x.heap_sys : 0;
    int hc = CRT_SYSCALL;
    snprintf(t, sizeof t, "%s/%s", fmt_bytes(a, sizeof a, x.heap_alloc),
             fmt_bytes(b, sizeof b, x.heap_sys));
    bar(y + 3, 0, bw, "Hep", &hf, &hc, 1, t);

    snprintf(t, sizeof t,
             "%" PRIu64 " total, %" PRIu64 " running, %" PRIu64
             " runnable, %" PRIu64 " waiting, %" PRIu64 " in call",
             x.total, x.running, x.runnable, x.waiting, x.syscall);
    label_value(y, half + 1, "Goroutines: ", t);
    snprintf(t, sizeof t,
             "%" PRIu64 " (%" PRIu64 " idle, %" PRIu64 " spinning, %" PRIu64
             " in call)",
             x.threads, x.threads_idle, x.threads_spinning, x.threads_blocked);
    label_value(y + 1, half + 1, "Threads: ", t);
    if (x.have_rates) {
        snprintf(t, sizeof t, "%.0f switches, %.0f steals, %.0f preempts",
                 x.ctxsw, x.steals, x.preempt);
        label_value(y + 2, half + 1, "Per second: ", t);
        snprintf(t, sizeof t, "%.0f created, %.0f exited, %.0f calls",
                 x.created, x.exited, x.syscalls);
        label_value(y + 3, half + 1, "            ", t);
    }
    if (m->leaks) {
        snprintf(t, sizeof t, "%zu suspected, %zu proven%s", x.leaks_suspected,
                 x.leaks_proven, m->leaks->all_asleep ? " (all asleep)" : "");
        label_value(y + 4, half + 1, "Leaks: ", t);
    }
    crt_print(y + 4, 0, crt_attr[CRT_LABEL], "CPUs ");
    crt_print(-1, 0, crt_attr[CRT_VALUE], "%u", x.ncpu);
    y += 5;
    if (maxlines >= 9) {
        graph(m, y++, width, METER_G_GOROUTINES);
        graph(m, y++, width, graph2);
    }
    return y - y0;
}
