/*
 * main.c - gtop's options and its two ways to run: the screen
 * (screen_run, curses) and batch mode (batch_print, text), which also
 * runs when standard output is not a terminal, so that
 * `ssh host gtop -p PID | less` and scripts work.  Exit statuses (gtop(1)):
 * 0 done, 1 the target could not be read, 2 a usage error.  Every error
 * is one line on standard error.
 *
 * --image FILE (not in --help) reads a saved segment instead of a live
 * process; the golden tests use it, since its output depends on the file
 * alone.  --bench N (not in --help) measures what the screen pays per
 * refresh: N times a snapshot, the goroutines view rebuilt and sorted
 * (with -s/-r/-f/-t) and a screenful of rows formatted, then prints the
 * CPU time per refresh; the performance goals in the issue are measured
 * with it.
 */
#include "config.h"

#include "gtop.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: gtop [-p PID] [-d SECS] [-b [-n N]] [-v VIEWS] [-s COLUMN] [-r]\n"
    "            [-f TERMS] [-t] [--stacks] [-L SECS] [-M]\n"
    "  -p, --pid PID        attach to PID (default: pick from a list)\n"
    "  -d, --delay SECS     refresh interval (default 1)\n"
    "  -b, --batch          print text instead of a screen (also when\n"
    "                       standard output is not a terminal)\n"
    "  -n, --iterations N   batch: print N times, then exit (default: until\n"
    "                       the program exits)\n"
    "  -v, --view VIEWS     goroutines, groups, procs, chans, leaks (comma-\n"
    "                       separated in batch mode; all)\n"
    "  -s, --sort COLUMN    sort the goroutines by COLUMN (gid, state, wait,\n"
    "                       on, stack, mp, created, name)\n"
    "  -r, --reverse        invert the sort order\n"
    "  -f, --filter TERMS   only rows containing every term (ignoring case)\n"
    "  -t, --tree           tree by parent goroutine\n"
    "      --stacks         batch: the stack of each row's goroutine\n"
    "      --stack-groups   batch: groups by unwound stack (one full dump)\n"
    "  -L, --leak-threshold SECS  blocked this long is a suspected leak\n"
    "                       (default 10)\n"
    "  -M, --no-color       monochrome\n"
    "  -h, --help           this text;  -V, --version  the version\n";

static _Noreturn void usage_error(const char *fmt, const char *arg)
    __attribute__((format(printf, 1, 0)));
static void usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "gtop: ");
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    fprintf(stderr, fmt, arg);
#pragma GCC diagnostic pop
    fprintf(stderr, " (gtop --help lists the options)\n");
    exit(2);
}

static double parse_secs(const char *s, const char *what)
{
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (errno || end == s || *end || d < 0 || d > 86400)
        usage_error(what, s);
    return d;
}

static long parse_long(const char *s, long max, const char *what)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > max)
        usage_error(what, s);
    return v;
}

static void check_views(const char *list, bool batch)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    if (strcmp(buf, "all") == 0 && batch)
        return;
    char *save = NULL;
    int n = 0;
    for (char *v = strtok_r(buf, ",", &save); v;
         v = strtok_r(NULL, ",", &save), n++)
        if (!view_by_name(v))
            usage_error("no view \"%s\" (goroutines, groups, procs, chans, "
                        "leaks)",
                        v);
    if (n != 1 && !batch)
        usage_error("the screen shows one view at a time: -v %s", list);
}

static void sleep_secs(double d)
{
    struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int run_batch(const struct gtop_opts *go, const struct batch_opts *bo,
                     long iterations)
{
    struct model m;
    int rc;
    const char *why = NULL;
    if (!go->image && go->pid <= 0) {
        rc = batch_print_procs(stdout);
        if (rc != RD_OK) {
            fprintf(stderr, "gtop: listing processes: %s\n", rd_strerror(rc));
            return 1;
        }
        return 0;
    }
    rc = go->image ? model_open_image(&m, go->image, &why)
                   : model_open_pid(&m, go->pid);
    if (rc == RD_OK) {
        m.leak_threshold_ns = go->leak_threshold_ns;
        rc = model_refresh(&m);
        if (rc != RD_OK)
            model_close(&m);
    }
    if (rc != RD_OK) {
        if (go->image)
            fprintf(stderr, "gtop: %s: %s\n", go->image,
                    why ? why : rd_strerror(rc));
        else
            fprintf(stderr, "gtop: pid %d: %s\n", go->pid, rd_strerror(rc));
        return 1;
    }
    for (long i = 0; iterations == 0 || i < iterations; i++) {
        if (i > 0) {
            sleep_secs(go->delay_s);
            model_refresh(&m);
            fputc('\n', stdout);
        }
        rc = batch_print(stdout, &m, bo);
        if (rc != RD_OK) {
            fprintf(stderr, "gtop: %s\n", rd_strerror(rc));
            model_close(&m);
            return 1;
        }
        fflush(stdout);
        if (m.exited || m.image)
            break;
    }
    model_close(&m);
    return 0;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
           ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

static int run_bench(const struct gtop_opts *go, long n)
{
    struct model m;
    const char *why = NULL;
    int rc = go->image ? model_open_image(&m, go->image, &why)
                       : model_open_pid(&m, go->pid);
    if (rc != RD_OK) {
        fprintf(stderr, "gtop: %s\n", why ? why : rd_strerror(rc));
        return 1;
    }
    m.leak_threshold_ns = go->leak_threshold_ns;
    m.leaks_lazy = true; /* as the screen does */
    struct view v;
    panel_init(&v, &view_goroutines_ops);
    if (go->sort)
        panel_set_sort(&v, panel_find_col(&v, go->sort));
    v.invert = go->invert;
    v.tree = go->tree;
    if (go->filter)
        panel_set_filter(&v, go->filter);
    double worst = 0, total = 0, snap_total = 0, first = 0;
    size_t rows = 0;
    char line[1024];
    for (long i = 0; i < n; i++) {
        double t0 = cpu_s();
        if (m.image) /* an image is read once: take it again each time */
            m.refreshes = 0, m.exited = false;
        rc = model_refresh(&m);
        double t1 = cpu_s();
        if (rc == RD_OK)
            rc = panel_update(&v, &m);
        for (size_t r = 0; r < 50 && r < v.nrows; r++)
            panel_row_text(&v, r, line, sizeof line, 160);
        double t2 = cpu_s();
        if (rc != RD_OK) {
            fprintf(stderr, "gtop: %s\n", rd_strerror(rc));
            break;
        }
        if (i == 0 && n > 1) { /* attaching, first faults: apart */
            first = t2 - t0;
        } else {
            snap_total += t1 - t0;
            total += t2 - t0;
            if (t2 - t0 > worst)
                worst = t2 - t0;
        }
        rows = v.nitems;
        sleep_secs(go->delay_s);
    }
    long k = n > 1 ? n - 1 : 1;
    printf("%zu goroutines: first refresh %.2f ms CPU; then %ld refreshes "
           "%.2f ms CPU each on average (of which snapshot and leak "
           "analysis %.2f ms), worst %.2f ms\n",
           rows, first * 1e3, k, total / (double)k * 1e3,
           snap_total / (double)k * 1e3, worst * 1e3);
    panel_free(&v);
    model_close(&m);
    return rc == RD_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    enum { OPT_IMAGE = 256, OPT_STACKS, OPT_GRAPH, OPT_BENCH, OPT_SGROUPS };
    static const struct option longopts[] = {
        {"pid", required_argument, NULL, 'p'},
        {"delay", required_argument, NULL, 'd'},
        {"batch", no_argument, NULL, 'b'},
        {"iterations", required_argument, NULL, 'n'},
        {"view", required_argument, NULL, 'v'},
        {"sort", required_argument, NULL, 's'},
        {"reverse", no_argument, NULL, 'r'},
        {"filter", required_argument, NULL, 'f'},
        {"tree", no_argument, NULL, 't'},
        {"stacks", no_argument, NULL, OPT_STACKS},
        {"stack-groups", no_argument, NULL, OPT_SGROUPS},
        {"leak-threshold", required_argument, NULL, 'L'},
        {"no-color", no_argument, NULL, 'M'},
        {"no-colour", no_argument, NULL, 'M'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"image", required_argument, NULL, OPT_IMAGE},
        {"graph-width", required_argument, NULL, OPT_GRAPH},
        {"bench", required_argument, NULL, OPT_BENCH},
        {NULL, 0, NULL, 0},
    };
    /* A snapshot of 1,000,000 goroutines is a 100 MB array, taken and
     * freed every second.  glibc would map and unmap it each time and the
     * kernel would zero its pages again: keep big blocks in the heap and
     * the heap untrimmed, so one refresh reuses the last one's memory. */
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    struct gtop_opts go = {.delay_s = 1.0};
    struct batch_opts bo = {.graph_width = 60};
    bool batch = false;
    long iterations = 0, bench = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":p:d:bn:v:s:rf:tL:MhV", longopts,
                            NULL)) != -1) {
        switch (c) {
        case 'p':
            go.pid = (int)parse_long(optarg, INT_MAX, "bad pid \"%s\"");
            break;
        case 'd':
            go.delay_s = parse_secs(optarg, "bad delay \"%s\" (seconds)");
            break;
        case 'b':
            batch = true;
            break;
        case 'n':
            iterations =
                parse_long(optarg, LONG_MAX, "bad iteration count \"%s\"");
            break;
        case 'v':
            go.view = bo.views = optarg;
            break;
        case 's':
            go.sort = bo.sort = optarg;
            break;
        case 'r':
            go.invert = bo.invert = true;
            break;
        case 'f':
            go.filter = bo.filter = optarg;
            break;
        case 't':
            go.tree = bo.tree = true;
            break;
        case OPT_STACKS:
            bo.stacks = true;
            break;
        case OPT_SGROUPS:
            bo.stack_groups = true;
            break;
        case 'L':
            go.leak_threshold_ns =
                (int64_t)(parse_secs(optarg,
                                     "bad leak threshold \"%s\" (seconds)") *
                          1e9);
            if (go.leak_threshold_ns <= 0)
                go.leak_threshold_ns = 1;
            break;
        case 'M':
            go.mono = true;
            break;
        case OPT_IMAGE:
            go.image = optarg;
            break;
        case OPT_GRAPH:
            bo.graph_width = (int)parse_long(optarg, 512, "bad width \"%s\"");
            break;
        case OPT_BENCH:
            bench = parse_long(optarg, 1000000, "bad count \"%s\"");
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        case 'V':
            printf("gtop (grt) %s\n", PACKAGE_VERSION);
            return 0;
        case ':':
            usage_error("option %s needs an argument", argv[optind - 1]);
        default:
            usage_error("unknown option %s", argv[optind - 1]);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument \"%s\"", argv[optind]);
    if (go.view)
        check_views(go.view, batch || !isatty(STDOUT_FILENO));
    if (go.sort) {
        struct view v;
        panel_init(&v, &view_goroutines_ops);
        if (panel_find_col(&v, go.sort) < 0)
            usage_error("no column \"%s\" to sort by (gid, state, wait, on, "
                        "stack, mp, created, name)",
                        go.sort);
    }
    if (bench)
        return run_bench(&go, bench);
    if (!batch && (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO))) {
        batch = true;
        if (iterations == 0)
            iterations = 1;
    }
    if (batch)
        return run_batch(&go, &bo, iterations);
    return screen_run(&go);
}
