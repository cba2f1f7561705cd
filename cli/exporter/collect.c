/*
 * collect.c - one scrape: every grt process of this user, read through
 * the reader library, turned into Prometheus families named as
 * client_golang's Go and process collectors name them.
 *
 * Model: node_exporter's collectors, but for a set of processes.  Each
 * scrape lists the segments (rd_list), reuses the attachment of a process
 * already seen (keyed by pid and start time, so a reused pid is a new
 * process), attaches to new ones, detaches from the ones that went away,
 * and takes one snapshot of each (rd_snapshot_take).  Counters come from
 * the newest sample of the agent's ring (rd_samples_read, from a cursor
 * kept per process); goroutines per state, blocked channels and leak
 * counts (rd_leaks_count) from the snapshot; the process_* family from
 * /proc/<pid> and prlimit(2), as client_golang's process collector does.
 *
 * Families are written one after the other, each with all processes'
 * samples, so every family is contiguous and has one HELP and one TYPE.
 * Every per-process sample carries pid and name labels; the exporter's own
 * families (grt_exporter_*) carry none but their own.
 *
 * Errors: a segment that cannot be read (corrupt, truncated, newer
 * version, foreign, unreadable, or a snapshot that fails) is skipped and
 * counted in grt_exporter_errors_total{reason}, once per scrape that meets
 * it.  A process that exits or is starting up between the listing and
 * the snapshot is not an error: it is simply absent.
 *
 * go_memstats_{alloc_bytes,mallocs,frees}_total keep Go's meaning as
 * far as it carries over: they count the objects libgrt allocates on the
 * program's behalf (goroutines, channels, timers, tickers, contexts; grt.h
 * defines them), as Go counts the heap objects a Go program allocates, and
 * not the C heap's malloc calls (glibc keeps no count a reader could use).
 * A segment older than version 3 does not publish them: they are left out
 * for that process.  Left out altogether: the other allocation counters
 * (lookups, heap objects), go_gc_* (no collector), process_network_* (per
 * network namespace, not per process).
 */
#include "config.h"

#include "exporter.h"
#include "leaks.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

const char *const exporter_err_reason[ERR_NREASONS] = {
    [ERR_CORRUPT] = "corrupt", [ERR_TRUNCATED] = "truncated",
    [ERR_VERSION] = "version", [ERR_FOREIGN] = "foreign",
    [ERR_ACCESS] = "access",   [ERR_TORN] = "snapshot",
    [ERR_LIST] = "list",
};

/* A process attached in an earlier scrape. */
struct entry {
    int pid;
    uint64_t start_ticks; /* from its snapshot; with pid, the key */
    struct rd_target *t;  /* attached */
    uint64_t cursor;      /* next sample index to read */
    bool have_last;
    struct rd_sample last; /* newest sample read */
    bool seen;             /* listed in this scrape */
};

static struct entry *cache; /* ncache entries */
static size_t ncache, capcache;
static uint64_t errors[ERR_NREASONS]; /* since start */

/* ---------------------------------------------------------------------
 * Cache of attachments
 * --------------------------------------------------------------------- */

static struct entry *cache_find(int pid)
{
    for (size_t i = 0; i < ncache; i++)
        if (cache[i].pid == pid)
            return &cache[i];
    return NULL;
}

static void cache_drop(struct entry *e)
{
    rd_detach(e->t);
    *e = cache[--ncache];
}

static struct entry *cache_add(int pid, struct rd_target *t)
{
    if (ncache == capcache) {
        size_t nc = capcache ? capcache * 2 : 32;
        struct entry *n = realloc(cache, nc * sizeof *n);
        if (!n)
            return NULL;
        cache = n;
        capcache = nc;
    }
    struct entry *e = &cache[ncache++];
    memset(e, 0, sizeof *e);
    e->pid = pid;
    e->t = t;
    return e;
}

void exporter_shutdown(void)
{
    while (ncache)
        cache_drop(&cache[0]);
    free(cache);
    cache = NULL;
    capcache = 0;
}

/* Count err (an RD_E* code) against its reason; false for codes that
 * only mean the process came or went (not errors). */
static bool count_error(int err)
{
    int r;
    switch (err) {
    case RD_ESTALE:
    case RD_ENOENT:
    case RD_ENOTREADY:
        return false;
    case RD_ECORRUPT:
    case RD_EBADMAGIC:
        r = ERR_CORRUPT;
        break;
    case RD_ETRUNCATED:
        r = ERR_TRUNCATED;
        break;
    case RD_EVERSION:
        r = ERR_VERSION;
        break;
    case RD_EFOREIGN:
    case RD_EINSECURE:
        r = ERR_FOREIGN;
        break;
    case RD_EACCES:
        r = ERR_ACCESS;
        break;
    default:
        r = ERR_TORN;
        break;
    }
    errors[r]++;
    return true;
}

/* ---------------------------------------------------------------------
 * Reading one process
 * --------------------------------------------------------------------- */

/* The newest sample, reading the ring from e->cursor on. */
static void read_samples(struct entry *e)
{
    struct rd_sample buf[64];
    for (int rounds = 0; rounds < 64; rounds++) {
        size_t n = 0;
        uint64_t lost = 0;
        if (rd_samples_read(e->t, &e->cursor, buf, 64, &n, &lost) != RD_OK ||
            n == 0)
            return;
        e->last = buf[n - 1];
        e->have_last = true;
        if (n < 64)
            return;
    }
}

/* Boot time (seconds since the epoch) from /proc/stat; 0 unknown. */
static double boot_time(void)
{
    FILE *f = fopen("/proc/stat", "re");
    if (!f)
        return 0;
    char line[256];
    double bt = 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "btime ", 6) == 0) {
            bt = strtod(line + 6, NULL);
            break;
        }
    fclose(f);
    return bt;
}

/* process_* figures, as client_golang's process collector reads them. */
static void read_proc(struct pm *p, double btime)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", p->pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *s = strrchr(buf, ')');
    if (!s)
        return;
    /* fields after the command: 3 state ... 14 utime 15 stime ...
     * 22 starttime 23 vsize 24 rss */
    double field[25] = {0};
    s++;
    for (int i = 3; i <= 24 && *s; i++) {
        while (*s == ' ')
            s++;
        char *end;
        field[i] = strtod(s, &end);
        if (end == s) /* the state letter */
            while (*s && *s != ' ')
                s++;
        else
            s = end;
    }
    double hz = (double)sysconf(_SC_CLK_TCK);
    double page = (double)sysconf(_SC_PAGESIZE);
    if (hz <= 0)
        hz = 100;
    p->cpu_seconds = (field[14] + field[15]) / hz;
    p->start_time = btime + field[22] / hz;
    p->vsize = field[23];
    p->rss = field[24] * page;
    p->have_proc = true;

    p->open_fds = -1;
    snprintf(path, sizeof path, "/proc/%d/fd", p->pid);
    DIR *d = opendir(path);
    if (d) {
        double nfd = 0;
        struct dirent *de;
        while ((de = readdir(d)) != NULL)
            nfd += de->d_name[0] != '.';
        closedir(d);
        p->open_fds = nfd;
    }
    struct rlimit rl;
    p->max_fds = -1;
    if (prlimit(p->pid, RLIMIT_NOFILE, NULL, &rl) == 0 &&
        rl.rlim_cur != RLIM_INFINITY)
        p->max_fds = (double)rl.rlim_cur;
    p->max_vm = -1;
    if (prlimit(p->pid, RLIMIT_AS, NULL, &rl) == 0 &&
        rl.rlim_cur != RLIM_INFINITY)
        p->max_vm = (double)rl.rlim_cur;
}

static void fill_from_snapshot(struct pm *p, const struct rd_snapshot *s,
                               const struct exporter_opts *o)
{
    snprintf(p->name, sizeof p->name, "%s", s->name);
    snprintf(p->version, sizeof p->version, "grt%s", s->grt_version);
    memcpy(p->wait_name, s->wait_name, sizeof p->wait_name);
    p->ng = s->ng;
    for (size_t i = 0; i < s->ng; i++) {
        const struct rd_g *g = &s->g[i];
        if (g->torn || g->status < 0 || g->status >= 8)
            continue;
        p->nstatus[g->status]++;
        if (g->status == GRT_SHM_G_WAITING && g->wait_reason >= 0 &&
            g->wait_reason < 32)
            p->nwait[g->wait_reason]++;
    }
    for (size_t i = 0; i < s->nchan; i++) {
        const struct rd_chan *c = &s->chan[i];
        if (c->nsend + c->nrecv > 0)
            p->blocked_chans++;
        p->blocked_senders += c->nsend;
        p->blocked_receivers += c->nrecv;
    }
    p->nm = s->nm;
    p->np = s->np;
    /* counts only: grouping the leaks (a sort of every leaked goroutine)
     * would dominate the scrape of a program with many of them */
    struct rd_leak_counts l;
    if (rd_leaks_count(s, o->leak_threshold_ns, s->taken_mono_ns, &l) ==
        RD_OK) {
        p->have_leaks = true;
        p->leaks_suspected = l.nsuspected;
        p->leaks_proven = l.nproven;
        p->all_asleep = l.all_asleep;
        p->longest_wait_s = (double)l.longest_wait_ns / 1e9;
    }
}

/* Read process pr into p; false (and counted, if an error) when it
 * cannot be read. */
static bool read_one(const struct rd_proc *pr, struct pm *p,
                     const struct exporter_opts *o, double btime)
{
    struct entry *e = cache_find(pr->pid);
    if (pr->status != RD_OK) {
        if (e)
            cache_drop(e);
        count_error(pr->status);
        return false;
    }
    if (e && rd_target_check(e->t) != RD_OK) {
        cache_drop(e); /* exited, or the pid belongs to a new process */
        e = NULL;
    }
    if (!e) {
        struct rd_target *t;
        int rc = rd_attach(pr->pid, &t);
        if (rc != RD_OK) {
            count_error(rc);
            return false;
        }
        e = cache_add(pr->pid, t);
        if (!e) {
            rd_detach(t);
            count_error(RD_ENOMEM);
            return false;
        }
    }
    e->seen = true;
    struct rd_snapshot *s;
    int rc = rd_snapshot_take(e->t, &s);
    if (rc != RD_OK) {
        cache_drop(e);
        count_error(rc);
        return false;
    }
    if (e->start_ticks != s->start_ticks) {
        /* first snapshot, or a new process behind the same pid: start
         * the sample cursor at the newest sample */
        e->start_ticks = s->start_ticks;
        e->cursor = s->have_stats ? s->stats.index : 0;
        e->have_last = false;
    }
    memset(p, 0, sizeof *p);
    p->pid = pr->pid;
    read_samples(e);
    if (e->have_last) {
        p->have_stats = true;
        p->st = e->last;
    } else if (s->have_stats) {
        p->have_stats = true;
        p->st = s->stats;
    }
    fill_from_snapshot(p, s, o);
    rd_snapshot_free(s);
    read_proc(p, btime);
    return true;
}

/* ---------------------------------------------------------------------
 * The families
 * --------------------------------------------------------------------- */

/* A per-process family: value of process p, or false to leave it out. */
typedef bool getter(const struct pm *p, double *v);

#define GET(fn, cond, expr)                                                    \
    static bool fn(const struct pm *p, double *v)                              \
    {                                                                          \
        if (!(cond))                                                           \
            return false;                                                      \
        *v = (double)(expr);                                                   \
        return true;                                                           \
    }

GET(g_goroutines, 1, p->have_stats ? p->st.goroutines : p->ng)
GET(g_info, 1, 1)
GET(g_alloc, p->have_stats, p->st.heap_alloc)
GET(g_alloc_total, p->have_stats && p->st.have_objects, p->st.total_alloc)
GET(g_mallocs, p->have_stats && p->st.have_objects, p->st.mallocs)
GET(g_frees, p->have_stats && p->st.have_objects, p->st.frees)
GET(g_heap_idle, p->have_stats && p->st.heap_sys >= p->st.heap_alloc,
    p->st.heap_sys - p->st.heap_alloc)
GET(g_heap_sys, p->have_stats, p->st.heap_sys)
GET(g_stack_inuse, p->have_stats, p->st.stack_inuse)
GET(g_stack_sys, p->have_stats, p->st.stack_sys)
GET(g_sys, p->have_stats, p->st.heap_sys + p->st.stack_sys)
GET(g_maxprocs, p->have_stats, p->st.maxprocs)
GET(g_created, p->have_stats, p->st.created)
GET(g_not_in_go, 1, p->nstatus[GRT_SHM_G_SYSCALL])
GET(g_runnable, 1, p->nstatus[GRT_SHM_G_RUNNABLE])
GET(g_running, 1, p->nstatus[GRT_SHM_G_RUNNING])
GET(g_waiting, 1, p->nstatus[GRT_SHM_G_WAITING])
GET(g_threads, p->have_stats, p->st.threads)
GET(g_blocked_chans, 1, p->blocked_chans)
GET(g_blocked_recv, 1, p->blocked_receivers)
GET(g_blocked_send, 1, p->blocked_senders)
GET(g_ctxsw, p->have_stats, p->st.ctxswitches)
GET(g_all_asleep, p->have_leaks, p->all_asleep)
GET(g_proven, p->have_leaks, p->leaks_proven)
GET(g_suspected, p->have_leaks, p->leaks_suspected)
GET(g_longest, p->have_leaks, p->longest_wait_s)
GET(g_preempt, p->have_stats, p->st.preemptions)
GET(g_global_runq, p->have_stats, p->st.global_runq)
GET(g_steals, p->have_stats, p->st.steals)
GET(g_syscalls, p->have_stats, p->st.syscalls)
GET(g_cpu, p->have_proc, p->cpu_seconds)
GET(g_max_fds, p->have_proc && p->max_fds >= 0, p->max_fds)
GET(g_open_fds, p->have_proc && p->open_fds >= 0, p->open_fds)
GET(g_rss, p->have_proc, p->rss)
GET(g_start, p->have_proc, p->start_time)
GET(g_vsize, p->have_proc, p->vsize)
GET(g_vmax, p->have_proc, p->max_vm)

#define NOT_SUM                                                                \
    " Not guaranteed to add up to go_goroutines with other "                   \
    "goroutine metrics."

/* In client_golang's order (sorted by name); HELP texts are
 * client_golang's where the meaning carries over, with Go's names of
 * things replaced by grt's and "Sourced from" notes dropped. */
static const struct family {
    const char *name, *type, *help;
    getter *get;
} families[] = {
    {"go_goroutines", "gauge", "Number of goroutines that currently exist.",
     g_goroutines},
    {"go_info", "gauge", "Information about the Go environment.", g_info},
    {"go_memstats_alloc_bytes", "gauge",
     "Number of bytes allocated in heap and currently in use. "
     "For grt: the C heap (glibc mallinfo2).",
     g_alloc},
    {"go_memstats_alloc_bytes_total", "counter",
     "Total number of bytes allocated in heap until now, even if released "
     "already. For grt: bytes of the objects libgrt made for the program "
     "(goroutine descriptors, channels with their buffers, timers, tickers, "
     "contexts), not the C heap of go_memstats_alloc_bytes.",
     g_alloc_total},
    {"go_memstats_frees_total", "counter",
     "Total number of heap objects frees. For grt: goroutines that exited, "
     "and channels, timers, tickers and contexts freed.",
     g_frees},
    {"go_memstats_heap_alloc_bytes", "gauge",
     "Number of heap bytes allocated and currently in use, same as "
     "go_memstats_alloc_bytes.",
     g_alloc},
    {"go_memstats_heap_idle_bytes", "gauge",
     "Number of heap bytes waiting to be used.", g_heap_idle},
    {"go_memstats_heap_inuse_bytes", "gauge",
     "Number of heap bytes that are in use.", g_alloc},
    {"go_memstats_heap_sys_bytes", "gauge",
     "Number of heap bytes obtained from system.", g_heap_sys},
    {"go_memstats_mallocs_total", "counter",
     "Total number of heap objects allocated, both live and gc-ed. "
     "Semantically a counter version for go_memstats_heap_objects gauge. "
     "For grt: goroutines created (the main one included), and channels, "
     "timers, tickers and contexts made.",
     g_mallocs},
    {"go_memstats_stack_inuse_bytes", "gauge",
     "Number of bytes in use by the stack allocator. For grt: goroutine "
     "stack bytes committed.",
     g_stack_inuse},
    {"go_memstats_stack_sys_bytes", "gauge",
     "Number of bytes obtained from system for stack allocator. For grt: "
     "goroutine stack address space reserved.",
     g_stack_sys},
    {"go_memstats_sys_bytes", "gauge",
     "Number of bytes obtained from system. For grt: heap plus goroutine "
     "stacks.",
     g_sys},
    {"go_sched_gomaxprocs_threads", "gauge",
     "The current grt_maxprocs setting, or the number of operating system "
     "threads that can execute user-level code simultaneously.",
     g_maxprocs},
    {"go_sched_goroutines_created_goroutines_total", "counter",
     "Count of goroutines created since program start.", g_created},
    {"go_sched_goroutines_not_in_go_goroutines", "gauge",
     "Approximate count of goroutines running or blocked in a system "
     "call." NOT_SUM,
     g_not_in_go},
    {"go_sched_goroutines_runnable_goroutines", "gauge",
     "Approximate count of goroutines ready to execute, but not "
     "executing." NOT_SUM,
     g_runnable},
    {"go_sched_goroutines_running_goroutines", "gauge",
     "Approximate count of goroutines executing. Always less than or "
     "equal to go_sched_gomaxprocs_threads." NOT_SUM,
     g_running},
    {"go_sched_goroutines_waiting_goroutines", "gauge",
     "Approximate count of goroutines waiting on a resource (I/O or sync "
     "primitives)." NOT_SUM,
     g_waiting},
    {"go_threads", "gauge", "Number of OS threads created.", g_threads},
    {"grt_blocked_channels", "gauge",
     "Channels on which at least one goroutine is blocked sending or "
     "receiving.",
     g_blocked_chans},
    {"grt_blocked_receivers", "gauge",
     "Goroutines blocked receiving from a channel (select waiters count "
     "once per channel).",
     g_blocked_recv},
    {"grt_blocked_senders", "gauge",
     "Goroutines blocked sending on a channel (select waiters count once "
     "per channel).",
     g_blocked_send},
    {"grt_context_switches_total", "counter",
     "Goroutine switches: times a goroutine started running on a "
     "processor.",
     g_ctxsw},
    {"grt_global_runq_goroutines", "gauge",
     "Goroutines in the global run queue.", g_global_runq},
    {"grt_leak_all_asleep", "gauge",
     "1 when every goroutine is asleep with nothing pending: the program "
     "can never make progress.",
     g_all_asleep},
    {"grt_leak_proven_goroutines", "gauge",
     "Goroutines proven leaked: the whole program is asleep, or they are "
     "in a wait-for cycle of mutexes.",
     g_proven},
    {"grt_leak_suspected_goroutines", "gauge",
     "Goroutines blocked on a channel, select, mutex, cond or wait group "
     "for longer than the leak threshold.",
     g_suspected},
    {"grt_longest_wait_seconds", "gauge",
     "Longest time any goroutine has been blocked.", g_longest},
    {"grt_preemptions_total", "counter",
     "Asynchronous preemptions of goroutines that ran too long.", g_preempt},
    {"grt_steals_total", "counter",
     "Successful work steals between processors.", g_steals},
    {"grt_syscalls_total", "counter",
     "Blocking system calls entered by goroutines.", g_syscalls},
    {"process_cpu_seconds_total", "counter",
     "Total user and system CPU time spent in seconds.", g_cpu},
    {"process_max_fds", "gauge", "Maximum number of open file descriptors.",
     g_max_fds},
    {"process_open_fds", "gauge", "Number of open file descriptors.",
     g_open_fds},
    {"process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
     g_rss},
    {"process_start_time_seconds", "gauge",
     "Start time of the process since unix epoch in seconds.", g_start},
    {"process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
     g_vsize},
    {"process_virtual_memory_max_bytes", "gauge",
     "Maximum amount of virtual memory available in bytes.", g_vmax},
};

static void labels(struct buf *b, const struct pm *p)
{
    buf_printf(b, "{pid=\"%d\",name=\"", p->pid);
    expo_label_value(b, p->name);
    buf_puts(b, "\"");
}

static void write_family(struct buf *b, const struct family *f,
                         const struct pm *pms, size_t n)
{
    bool header = false;
    for (size_t i = 0; i < n; i++) {
        double v;
        if (!f->get(&pms[i], &v))
            continue;
        if (!header) {
            expo_family(b, f->name, f->type, f->help);
            header = true;
        }
        buf_puts(b, f->name);
        labels(b, &pms[i]);
        if (f->get == g_info) {
            buf_puts(b, ",version=\"");
            expo_label_value(b, pms[i].version);
            buf_puts(b, "\"");
        }
        buf_puts(b, "} ");
        expo_value(b, v);
        buf_puts(b, "\n");
    }
}

/* grt_waiting_goroutines{reason}: one sample per reason in use. */
static void write_waiting(struct buf *b, const struct pm *pms, size_t n)
{
    bool header = false;
    for (size_t i = 0; i < n; i++)
        for (int r = 0; r < 32; r++) {
            if (!pms[i].nwait[r])
                continue;
            if (!header) {
                expo_family(b, "grt_waiting_goroutines", "gauge",
                            "Waiting goroutines by wait reason (Go's text "
                            "of the reason).");
                header = true;
            }
            buf_puts(b, "grt_waiting_goroutines");
            labels(b, &pms[i]);
            buf_puts(b, ",reason=\"");
            expo_label_value(b, pms[i].wait_name[r][0] ? pms[i].wait_name[r]
                                                       : "unknown");
            buf_puts(b, "\"} ");
            expo_value(b, (double)pms[i].nwait[r]);
            buf_puts(b, "\n");
        }
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void exporter_scrape(const struct exporter_opts *o, struct buf *out)
{
    int64_t t0 = mono_ns();
    struct rd_proc *procs = NULL;
    size_t nprocs = 0;
    if (rd_list(&procs, &nprocs) != RD_OK) {
        errors[ERR_LIST]++;
        procs = NULL;
        nprocs = 0;
    }
    for (size_t i = 0; i < ncache; i++)
        cache[i].seen = false;
    struct pm *pms = calloc(nprocs ? nprocs : 1, sizeof *pms);
    size_t n = 0;
    double btime = boot_time();
    for (size_t i = 0; pms && i < nprocs; i++)
        if (read_one(&procs[i], &pms[n], o, btime))
            n++;
    if (!pms)
        errors[ERR_TORN] += nprocs;
    rd_list_free(procs);
    /* processes no longer listed: detach */
    for (size_t i = 0; i < ncache;)
        if (!cache[i].seen)
            cache_drop(&cache[i]);
        else
            i++;

    size_t nf = sizeof families / sizeof families[0];
    for (size_t f = 0; f < nf; f++) {
        write_family(out, &families[f], pms, n);
        /* keep the sort order: grt_waiting_* goes after grt_syscalls_* */
        if (strcmp(families[f].name, "grt_syscalls_total") == 0)
            write_waiting(out, pms, n);
    }
    free(pms);

    expo_family(out, "grt_exporter_errors_total", "counter",
                "Segments the exporter could not read, by reason; each is "
                "skipped and counted once per scrape that meets it.");
    for (int r = 0; r < ERR_NREASONS; r++)
        buf_printf(out, "grt_exporter_errors_total{reason=\"%s\"} %llu\n",
                   exporter_err_reason[r], (unsigned long long)errors[r]);
    expo_family(out, "grt_exporter_processes", "gauge",
                "grt processes exported by this scrape.");
    buf_printf(out, "grt_exporter_processes %zu\n", n);
    expo_family(out, "grt_exporter_scrape_duration_seconds", "gauge",
                "Time this scrape took to read every process, in seconds.");
    buf_puts(out, "grt_exporter_scrape_duration_seconds ");
    expo_value(out, (double)(mono_ns() - t0) / 1e9);
    buf_puts(out, "\n");
}
