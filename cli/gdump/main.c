/*
 * gdump - every goroutine of a running grt program, from outside it, in
 * Go's traceback format (docs/gdump.1).
 *
 *   gdump                      the grt processes of this user
 *   gdump PID                  every goroutine, unwound and symbolised
 *   gdump --json PID           the same as one JSON document
 *   gdump --group PID          identical stacks folded (as panicparse)
 *   gdump --leaks [--fail] PID suspected and proven leaks only
 *   gdump --graph PID          the wait-for graph, Graphviz DOT
 *
 * How: the reader library (cli/reader/reader.h) attaches to the target's
 * segment and takes a snapshot (states, creation sites, channels), then
 * asks the agent for a stack dump (program counters; the agent unwinds
 * parked goroutines in place, without stopping the program) and
 * symbolises every distinct pc once (libdw: function, file:line; without
 * debug information, function+offset).  Frames of libgrt itself are
 * hidden, as Go hides runtime frames and as the program's own dumps do
 * (the grt_* call too, unless a tail call left no user frame).
 * Every goroutine is printed by the one formatter (cli/reader/format.c).
 *
 * All output is composed in memory and written at the end, so an error
 * half-way prints one line on stderr and nothing on stdout.  Exit status:
 * 0 done, 1 the target could not be read (no such process, not a grt
 * program, stale or damaged segment, no answer), 2 bad usage, 3 leaks
 * found with --fail.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format.h"
#include "leaks.h"
#include "reader.h"

#define EXIT_TARGET 1
#define EXIT_USAGE 2
#define EXIT_LEAKS 3

#define SEC 1000000000LL

static const char *prog = "gdump";

/* ---- options ---- */

struct opts {
    int pid;
    bool json, group, leaks, fail, graph, extras, no_stacks;
    int64_t threshold_ns;
    const char **filters;
    size_t nfilters;
    regex_t match;
    bool have_match;
    unsigned frames;
    int timeout_ms;
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: gdump [options] [PID]\n"
            "  (no PID)            list the grt processes of this user\n"
            "  -j, --json          one JSON document (docs/gdump.md)\n"
            "  -g, --group         fold goroutines with identical stacks\n"
            "  -f, --filter STATE  only goroutines in STATE (\"chan receive\","
            " running, waiting, ...; repeatable)\n"
            "  -m, --match REGEX   only goroutines with a frame, creator or"
            " name matching REGEX\n"
            "  -l, --leaks         only suspected and proven leaks\n"
            "  -t, --threshold D   blocked longer than D is suspected"
            " (default 10s)\n"
            "      --fail          with --leaks: exit 3 if any is found\n"
            "  -G, --graph         the wait-for graph as Graphviz DOT\n"
            "  -v, --extras        grt's extra facts in each header\n"
            "  -n, --no-stacks     states only: no stack dump\n"
            "      --frames N      frames per goroutine (1-256, default 64)\n"
            "      --timeout MS    wait for the dump (default 5000)\n"
            "  -h, --help          this text\n"
            "exit status: 0 ok, 1 target error, 2 usage, 3 leaks found"
            " (--fail)\n");
}

static _Noreturn void die_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (gdump --help)\n");
    va_end(ap);
    exit(EXIT_USAGE);
}

/* "10s", "1.5s", "250ms", "2m", "1h", "100us", "5ns"; a bare number is
 * seconds.  -1 when malformed. */
static int64_t parse_duration(const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0)
        return -1;
    double mult;
    if (!*end || !strcmp(end, "s"))
        mult = 1e9;
    else if (!strcmp(end, "ms"))
        mult = 1e6;
    else if (!strcmp(end, "us"))
        mult = 1e3;
    else if (!strcmp(end, "ns"))
        mult = 1;
    else if (!strcmp(end, "m"))
        mult = 60e9;
    else if (!strcmp(end, "h"))
        mult = 3600e9;
    else
        return -1;
    double ns = v * mult;
    if (ns > 9e18)
        return -1;
    return (int64_t)ns;
}

static long parse_num(const char *s, long lo, long hi, const char *what)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi)
        die_usage("%s: '%s' is not a number from %ld to %ld", what, s, lo,
                  hi);
    return v;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
    enum { OPT_FAIL = 256, OPT_FRAMES, OPT_TIMEOUT };
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},
        {"group", no_argument, NULL, 'g'},
        {"filter", required_argument, NULL, 'f'},
        {"match", required_argument, NULL, 'm'},
        {"leaks", no_argument, NULL, 'l'},
        {"threshold", required_argument, NULL, 't'},
        {"fail", no_argument, NULL, OPT_FAIL},
        {"graph", no_argument, NULL, 'G'},
        {"extras", no_argument, NULL, 'v'},
        {"no-stacks", no_argument, NULL, 'n'},
        {"frames", required_argument, NULL, OPT_FRAMES},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->pid = -1;
    o->threshold_ns = RD_LEAK_THRESHOLD_NS;
    o->timeout_ms = 5000;
    bool threshold_given = false;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":jgf:m:lt:Gvnh", longopts, NULL)) !=
           -1) {
        switch (c) {
        case 'j':
            o->json = true;
            break;
        case 'g':
            o->group = true;
            break;
        case 'f': {
            const char **nf =
                realloc(o->filters, (o->nfilters + 1) * sizeof *nf);
            if (!nf) {
                fprintf(stderr, "%s: out of memory\n", prog);
                exit(EXIT_TARGET);
            }
            o->filters = nf;
            o->filters[o->nfilters++] = optarg;
            break;
        }
        case 'm': {
            if (o->have_match)
                die_usage("--match given twice");
            int rc = regcomp(&o->match, optarg, REG_EXTENDED | REG_NOSUB);
            if (rc) {
                char e[128];
                regerror(rc, &o->match, e, sizeof e);
                die_usage("--match '%s': %s", optarg, e);
            }
            o->have_match = true;
            break;
        }
        case 'l':
            o->leaks = true;
            break;
        case 't':
            o->threshold_ns = parse_duration(optarg);
            if (o->threshold_ns <= 0)
                die_usage("--threshold '%s': want a positive duration such "
                          "as 10s, 500ms or 2m",
                          optarg);
            threshold_given = true;
            break;
        case OPT_FAIL:
            o->fail = true;
            break;
        case 'G':
            o->graph = true;
            break;
        case 'v':
            o->extras = true;
            break;
        case 'n':
            o->no_stacks = true;
            break;
        case OPT_FRAMES:
            o->frames = (unsigned)parse_num(optarg, 1, 256, "--frames");
            break;
        case OPT_TIMEOUT:
            o->timeout_ms = (int)parse_num(optarg, 1, 600000, "--timeout");
            break;
        case 'h':
            usage(stdout);
            exit(0);
        case ':':
            die_usage("option '%s' needs an argument", argv[optind - 1]);
        default:
            if (optopt)
                die_usage("unknown option '-%c'", optopt);
            die_usage("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) {
        o->pid = (int)parse_num(argv[optind], 1, 0x7fffffff, "PID");
        if (optind + 1 < argc)
            die_usage("one PID at a time ('%s' is extra)", argv[optind + 1]);
    }
    if (o->fail && !o->leaks)
        die_usage("--fail goes with --leaks");
    if (threshold_given && !o->leaks && !o->graph && !o->json)
        die_usage("--threshold goes with --leaks, --graph or --json");
    if (o->graph && (o->json || o->group))
        die_usage("--graph is a format of its own: not with --json or "
                  "--group");
    if (o->pid < 0 && (o->json || o->group || o->nfilters || o->have_match ||
                       o->leaks || o->graph || o->no_stacks || o->extras))
        die_usage("these options need a PID");
}

/* ---- growing text (the whole output, written at the end) ---- */

struct out {
    char *buf;
    size_t len, cap;
    bool oom;
};

static void out_write(struct out *o, const char *s, size_t n)
{
    if (o->oom)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t nc = o->cap ? o->cap : 1 << 16;
        while (nc < o->len + n + 1)
            nc *= 2;
        char *nb = realloc(o->buf, nc);
        if (!nb) {
            o->oom = true;
            return;
        }
        o->buf = nb;
        o->cap = nc;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = 0;
}

static void sink_write(void *ctx, const char *s, size_t n)
{
    out_write(ctx, s, n);
}

static void out_puts(struct out *o, const char *s)
{
    out_write(o, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3)))
out_printf(struct out *o, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        out_write(o, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        o->oom = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    out_write(o, big, (size_t)n);
    free(big);
}

/* A JSON string (RFC 8259 escapes), or null for NULL. */
static void out_json_str(struct out *o, const char *s)
{
    if (!s) {
        out_puts(o, "null");
        return;
    }
    out_puts(o, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char e[2] = {'\\', (char)*p};
            out_write(o, e, 2);
        } else if (*p < 0x20 || *p == 0x7f) {
            out_printf(o, "\\u%04x", *p);
        } else {
            out_write(o, (const char *)p, 1);
        }
    }
    out_puts(o, "\"");
}

/* A DOT string ("..."), with \n kept as DOT's line break. */
static void out_dot_str(struct out *o, const char *s)
{
    out_puts(o, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            out_printf(o, "\\%c", *p);
        else if (*p == '\n')
            out_puts(o, "\\n");
        else if (*p >= 0x20 && *p != 0x7f)
            out_write(o, (const char *)p, 1);
    }
    out_puts(o, "\"");
}

/* ---- the process list ---- */

static const char *fmt_dur(char *buf, size_t len, int64_t ns)
{
    return grt__fmt_duration(buf, len, ns);
}

static int list_procs(void)
{
    struct rd_proc *procs;
    size_t n;
    int rc = rd_list(&procs, &n);
    if (rc != RD_OK) {
        fprintf(stderr, "%s: listing grt processes: %s\n", prog,
                rd_strerror(rc));
        return EXIT_TARGET;
    }
    struct out o = {0};
    out_printf(&o, "%7s  %-20s %10s %7s %10s  %s\n", "PID", "NAME",
               "GOROUTINES", "THREADS", "UPTIME", "STATUS");
    for (size_t i = 0; i < n; i++) {
        const struct rd_proc *p = &procs[i];
        char up[48];
        if (p->status == RD_OK)
            out_printf(&o, "%7d  %-20s %10" PRIu64 " %7" PRIu64 " %10s  %s\n",
                       p->pid, p->name, p->goroutines, p->threads,
                       fmt_dur(up, sizeof up, p->uptime_ns / 1000000 * 1000000),
                       "live");
        else
            out_printf(&o, "%7d  %-20s %10s %7s %10s  %s\n", p->pid,
                       p->name[0] ? p->name : "?", "-", "-", "-",
                       p->status == RD_ESTALE ? "stale"
                                              : rd_strerror(p->status));
    }
    rd_list_free(procs);
    if (o.oom) {
        fprintf(stderr, "%s: out of memory\n", prog);
        free(o.buf);
        return EXIT_TARGET;
    }
    fwrite(o.buf, 1, o.len, stdout);
    free(o.buf);
    return 0;
}

/* ---- symbols: one look-up per distinct pc ---- */

struct sym {
    uint64_t key;   /* pc << 1 | is_return; 0 empty */
    char *func;     /* NULL unknown */
    uint64_t offset;
    char *file;     /* NULL unknown */
    int line;
    const char *module; /* into rd_dump/rd_sym storage */
    bool internal;  /* a frame of libgrt itself */
    bool public;    /* a grt_* API function (shown when user code called
                       it) */
};

struct symtab {
    struct rd_sym *rs; /* NULL: no symbolisation */
    const struct rd_dump *d;
    struct sym *slots;
    size_t cap, n;
};

static bool module_is_libgrt(const char *path)
{
    if (!path)
        return false;
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    return strncmp(b, "libgrt.", 7) == 0 || strncmp(b, "libgrt-", 7) == 0;
}

static const char *module_of(const struct rd_dump *d, uint64_t pc)
{
    for (size_t i = 0; i < d->nmods; i++)
        if (pc >= d->mods[i].lo && pc < d->mods[i].hi)
            return d->mods[i].path;
    return NULL;
}

static uint64_t hash64(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    return x;
}

static bool symtab_grow(struct symtab *t)
{
    size_t nc = t->cap ? t->cap * 2 : 4096;
    struct sym *ns = calloc(nc, sizeof *ns);
    if (!ns)
        return false;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slots[i].key)
            continue;
        size_t h = hash64(t->slots[i].key) & (nc - 1);
        while (ns[h].key)
            h = (h + 1) & (nc - 1);
        ns[h] = t->slots[i];
    }
    free(t->slots);
    t->slots = ns;
    t->cap = nc;
    return true;
}

static const struct sym *symtab_get(struct symtab *t, uint64_t pc,
                                    bool is_return)
{
    uint64_t key = pc << 1 | (is_return ? 1 : 0);
    if (key == 0)
        key = 2; /* pc 0 as a return address cannot happen; keep 0 free */
    if ((t->n + 1) * 2 > t->cap && !symtab_grow(t))
        return NULL;
    size_t h = hash64(key) & (t->cap - 1);
    while (t->slots[h].key) {
        if (t->slots[h].key == key)
            return &t->slots[h];
        h = (h + 1) & (t->cap - 1);
    }
    struct sym *s = &t->slots[h];
    s->key = key;
    t->n++;
    struct rd_frame_info fi;
    memset(&fi, 0, sizeof fi);
    s->module = module_of(t->d, pc);
    if (t->rs && rd_sym_lookup(t->rs, pc, is_return, &fi) == RD_OK) {
        if (fi.func[0]) {
            s->func = strdup(fi.func);
            s->offset = fi.offset;
        }
        if (fi.file[0]) {
            s->file = strdup(fi.file);
            s->line = fi.line;
        }
        if (!s->module && fi.module)
            s->module = fi.module; /* rd_sym's storage: lives as long */
    }
    s->internal = module_is_libgrt(s->module) ||
                  (s->func && strncmp(s->func, "grt__", 5) == 0);
    s->public = s->func && strncmp(s->func, "grt_", 4) == 0 &&
                s->func[4] != '_';
    return s;
}

static void symtab_free(struct symtab *t)
{
    for (size_t i = 0; i < t->cap; i++) {
        free(t->slots[i].func);
        free(t->slots[i].file);
    }
    free(t->slots);
    if (t->rs)
        rd_sym_close(t->rs);
}

/* ---- the goroutines to print ---- */

struct gv {
    int64_t goid;
    const struct rd_g *sg;      /* snapshot record; NULL */
    size_t sidx;                /* its index in the snapshot */
    const struct rd_dump_g *dg; /* dump record; NULL */
    char state[48];
    int status, reason;
    int64_t wait_ns;            /* -1 unknown */
    bool locked;
    struct grt__fmt_frame *frames;
    size_t nframes;
    const char *no_frames;
    const struct rd_site *site;
    uint64_t hash;              /* of state and stack, for --group */
    int leak;                   /* enum rd_leak_kind, 0 */
    const char *chan_name;
};

struct model {
    const struct opts *o;
    struct rd_snapshot *s;
    struct rd_dump *d;          /* NULL: no stacks */
    const char *why_no_stacks;  /* when d is NULL */
    struct symtab syms;
    struct gv *g;
    size_t ng;
    struct rd_leaks *leaks;     /* with --leaks / --graph */
    int64_t now;
};

static const char *state_word(const struct rd_snapshot *s, int status,
                              int reason)
{
    switch (status) {
    case GRT_SHM_G_RUNNING:
        return "running";
    case GRT_SHM_G_RUNNABLE:
    case GRT_SHM_G_IDLE:
        return "runnable";
    case GRT_SHM_G_SYSCALL:
        return "syscall";
    case GRT_SHM_G_WAITING:
        return rd_wait_name(s, reason);
    case GRT_SHM_G_DEAD:
        return "dead";
    default:
        return "unknown";
    }
}

/* The waited-on object's kind; "object" when the reason names none. */
static const char *obj_kind(int reason)
{
    const char *k = rd_wait_obj_kind(reason);
    return k ? k : "object";
}

static const char *chan_name_of(const struct rd_snapshot *s, uint64_t addr)
{
    if (!addr)
        return NULL;
    for (size_t i = 0; i < s->nchan; i++)
        if (s->chan[i].addr == addr && s->chan[i].name[0])
            return s->chan[i].name;
    return NULL;
}

static int cmp_gv(const void *a, const void *b)
{
    const struct gv *x = a, *y = b;
    return x->goid < y->goid ? -1 : x->goid > y->goid;
}

static int cmp_sidx(const void *a, const void *b)
{
    const struct rd_g *const *x = a, *const *y = b;
    return (*x)->goid < (*y)->goid ? -1 : (*x)->goid > (*y)->goid;
}

/* Fill v's frames from its dump record. */
static bool build_frames(struct model *md, struct gv *v)
{
    const struct rd_dump_g *dg = v->dg;
    if (!dg) {
        v->no_frames = md->why_no_stacks;
        return true;
    }
    if (dg->npcs == 0) {
        if (dg->flags & GRT_SHM_DG_RUNNING)
            v->no_frames = "running on a thread: not unwound";
        else if (dg->flags & GRT_SHM_DG_NOT_STARTED)
            v->no_frames = "not started yet";
        else if (dg->flags & GRT_SHM_DG_CHANGED)
            v->no_frames = "ran while being unwound";
        else if (md->d->status == GRT_SHM_DS_NOUNWIND)
            v->no_frames = "the program was built without libunwind";
        else
            v->no_frames = "unwinding failed";
        return true;
    }
    const struct sym **sy = malloc(dg->npcs * sizeof *sy);
    v->frames = calloc(dg->npcs, sizeof *v->frames);
    if (!sy || !v->frames) {
        free(sy);
        return false;
    }
    for (uint32_t i = 0; i < dg->npcs; i++) {
        sy[i] = symtab_get(&md->syms, dg->pcs[i], i > 0);
        if (!sy[i]) {
            free(sy);
            return false;
        }
    }
    bool main_g = v->sg && (v->sg->flags & GRT_SHM_GF_MAIN);
    /* outer: the index past the last frame that is not libgrt's */
    uint32_t outer = 0;
    for (uint32_t i = 0; i < dg->npcs; i++)
        if (!sy[i]->internal)
            outer = i + 1;
    size_t n = 0;
    for (uint32_t i = 0; i < dg->npcs; i++) {
        const struct sym *f = sy[i];
        /* libgrt's own frames are hidden, the grt_* call the user made
         * included, as Go hides runtime.chanrecv1 and as the program's
         * own dumps do (runtime/traceback.c); the public call stays only
         * when no user frame is left outside it (a tail call) */
        const char *pub =
            f->public ? f->func : rd_public_call(f->func, dg->wait_reason);
        if (f->internal && !(pub && i >= outer))
            continue;
        struct grt__fmt_frame *o = &v->frames[n++];
        o->pc = dg->pcs[i];
        o->func = f->internal ? pub : f->func;
        o->offset = f->offset;
        o->file = f->file;
        o->line = f->line;
        o->module = f->module;
        /* goroutine 1: nothing below main (libc's start-up), as Go
         * hides runtime.main */
        if (main_g && f->func && strcmp(f->func, "main") == 0)
            break;
    }
    free(sy);
    v->nframes = n;
    if (n == 0)
        v->no_frames = "only runtime frames";
    return true;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * UINT64_C(0x100000001b3);
    return h * UINT64_C(0x100000001b3);
}

static uint64_t stack_hash(const struct gv *v)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    h = hash_str(h, v->state);
    h = hash_str(h, v->locked ? "L" : "-");
    for (size_t i = 0; i < v->nframes; i++) {
        h = hash_str(h, v->frames[i].func ? v->frames[i].func : "?");
        h = hash_str(h, v->frames[i].file ? v->frames[i].file : "?");
        h = (h ^ (uint64_t)v->frames[i].line) * UINT64_C(0x100000001b3);
        if (!v->frames[i].func)
            h = (h ^ v->frames[i].pc) * UINT64_C(0x100000001b3);
    }
    h = hash_str(h, v->no_frames);
    if (v->site) {
        h = hash_str(h, v->site->caller);
        h = hash_str(h, v->site->file);
        h = (h ^ (uint64_t)v->site->line) * UINT64_C(0x100000001b3);
    }
    return h;
}

static bool same_stack(const struct gv *a, const struct gv *b)
{
    if (a->hash != b->hash || strcmp(a->state, b->state) ||
        a->locked != b->locked || a->nframes != b->nframes ||
        a->site != b->site)
        return false;
    for (size_t i = 0; i < a->nframes; i++) {
        const struct grt__fmt_frame *x = &a->frames[i], *y = &b->frames[i];
        if (x->line != y->line || (x->func == NULL) != (y->func == NULL) ||
            (x->func && strcmp(x->func, y->func)) ||
            (!x->func && x->pc != y->pc) ||
            (x->file == NULL) != (y->file == NULL) ||
            (x->file && strcmp(x->file, y->file)))
            return false;
    }
    return true;
}

static bool passes_filters(const struct opts *o, const struct gv *v)
{
    if (o->nfilters) {
        bool any = false;
        const char *status = v->status == GRT_SHM_G_WAITING ? "waiting"
                                                            : v->state;
        for (size_t i = 0; i < o->nfilters && !any; i++)
            any = strcasecmp(o->filters[i], v->state) == 0 ||
                  strcasecmp(o->filters[i], status) == 0 ||
                  (strlen(o->filters[i]) > 0 &&
                   strcasestr(v->state, o->filters[i]) != NULL);
        if (!any)
            return false;
    }
    if (o->have_match) {
        bool any = false;
        for (size_t i = 0; i < v->nframes && !any; i++)
            any = v->frames[i].func &&
                  regexec(&o->match, v->frames[i].func, 0, NULL, 0) == 0;
        if (!any && v->site)
            any = regexec(&o->match, v->site->caller, 0, NULL, 0) == 0 ||
                  regexec(&o->match, v->site->fn, 0, NULL, 0) == 0;
        if (!any && v->sg && v->sg->name[0])
            any = regexec(&o->match, v->sg->name, 0, NULL, 0) == 0;
        if (!any)
            return false;
    }
    return true;
}

/* Build md->g from the snapshot and the dump. */
static bool build_model(struct model *md)
{
    const struct rd_snapshot *s = md->s;
    size_t cap = s->ng + (md->d ? md->d->ng : 0);
    md->g = calloc(cap ? cap : 1, sizeof *md->g);
    const struct rd_g **byid = malloc((s->ng ? s->ng : 1) * sizeof *byid);
    if (!md->g || !byid) {
        free(byid);
        return false;
    }
    size_t nid = 0;
    for (size_t i = 0; i < s->ng; i++)
        if (!s->g[i].torn)
            byid[nid++] = &s->g[i];
    qsort(byid, nid, sizeof *byid, cmp_sidx);
    /* the dump is the list when there is one (it is newer), else the
     * snapshot */
    size_t n = 0;
    if (md->d) {
        for (size_t i = 0; i < md->d->ng; i++) {
            struct gv *v = &md->g[n++];
            v->dg = &md->d->g[i];
            v->goid = v->dg->goid;
            size_t lo = 0, hi = nid;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (byid[mid]->goid < v->goid)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if (lo < nid && byid[lo]->goid == v->goid) {
                v->sg = byid[lo];
                v->sidx = (size_t)(v->sg - s->g);
            }
        }
    } else {
        for (size_t i = 0; i < nid; i++) {
            struct gv *v = &md->g[n++];
            v->sg = byid[i];
            v->sidx = (size_t)(v->sg - s->g);
            v->goid = v->sg->goid;
        }
    }
    free(byid);
    md->ng = n;
    qsort(md->g, n, sizeof *md->g, cmp_gv);

    for (size_t i = 0; i < n; i++) {
        struct gv *v = &md->g[i];
        int64_t since;
        if (v->dg) {
            v->status = (int)(v->dg->status);
            v->reason = v->dg->wait_reason;
            since = v->dg->wait_since;
        } else {
            v->status = v->sg->status;
            v->reason = v->sg->wait_reason;
            since = v->sg->wait_since;
        }
        snprintf(v->state, sizeof v->state, "%s",
                 state_word(s, v->status, v->reason));
        v->wait_ns = -1;
        if ((v->status == GRT_SHM_G_WAITING ||
             v->status == GRT_SHM_G_SYSCALL) &&
            since > 0)
            v->wait_ns = md->now > since ? md->now - since : 0;
        for (size_t k = 0; k < s->nm; k++)
            if (s->m[k].lockedg == v->goid &&
                !(s->m[k].flags & GRT_SHM_MF_EXITED))
                v->locked = true;
        if (v->sg && v->sg->site >= 1 && v->sg->site <= s->nsite)
            v->site = &s->site[v->sg->site - 1];
        if (v->sg && md->leaks && v->sidx < md->leaks->ng)
            v->leak = md->leaks->kind[v->sidx];
        if (v->sg && v->status == GRT_SHM_G_WAITING)
            v->chan_name = chan_name_of(s, v->sg->wait_obj);
        if (!build_frames(md, v))
            return false;
        v->hash = stack_hash(v);
    }
    return true;
}

static void fill_fmt(const struct model *md, const struct gv *v,
                     struct grt__fmt_g *f)
{
    memset(f, 0, sizeof *f);
    f->goid = v->goid;
    f->state = v->state;
    f->wait_ns = v->wait_ns;
    f->locked = v->locked;
    f->frames = v->frames;
    f->nframes = v->nframes;
    f->no_frames = v->no_frames;
    f->m_id = f->p_id = -1;
    const struct rd_g *g = v->sg;
    if (v->site && g && !(g->flags & GRT_SHM_GF_MAIN) && g->parent_goid) {
        f->created_fn = v->site->caller[0] ? v->site->caller : "?";
        f->created_goid = g->parent_goid;
        f->created_file = v->site->file;
        f->created_line = v->site->line;
    }
    if (!g)
        return;
    f->name = g->name[0] ? g->name : NULL;
    if (v->status == GRT_SHM_G_WAITING && g->wait_obj) {
        f->wait_obj = g->wait_obj;
        f->wait_obj_kind = obj_kind(v->reason);
        f->wait_obj_name = v->chan_name;
    }
    f->stack_committed = g->stack_committed;
    f->stack_reserved = g->stack_reserved;
    if (v->status == GRT_SHM_G_RUNNING || v->status == GRT_SHM_G_SYSCALL) {
        f->m_id = g->m_id;
        f->p_id = g->p_id;
    }
    (void)md;
}

static void print_g(struct out *o, const struct model *md, const struct gv *v,
                    unsigned flags)
{
    struct grt__fmt_g f;
    fill_fmt(md, v, &f);
    struct grt__fmt_sink sink = {sink_write, o};
    grt__fmt_goroutine(&sink, &f,
                       flags | (md->o->extras ? GRT__FMT_EXTRAS : 0));
}

/* ---- text ---- */

static void print_wait_range(struct out *o, int64_t lo, int64_t hi)
{
    char a[48], b[48];
    if (lo < 0)
        return;
    if (lo / 1000000 == hi / 1000000)
        out_printf(o, ", wait %s", fmt_dur(a, sizeof a, lo / 1000000 * 1000000));
    else
        out_printf(o, ", wait %s..%s",
                   fmt_dur(a, sizeof a, lo / 1000000 * 1000000),
                   fmt_dur(b, sizeof b, hi / 1000000 * 1000000));
}

/* Goroutines with identical stacks (same_stack), folded. */
struct fold {
    size_t *members; /* indexes into md->g, in the order given */
    size_t n;
    int64_t lo, hi;  /* shortest and longest wait; -1 unknown */
};

static const struct model *fold_md;
static const size_t *fold_idx;

/* by stack hash, then by position: equal stacks become neighbours */
static int cmp_fold_pos(const void *pa, const void *pb)
{
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    uint64_t ha = fold_md->g[fold_idx[a]].hash,
             hb = fold_md->g[fold_idx[b]].hash;
    if (ha != hb)
        return ha < hb ? -1 : 1;
    return a < b ? -1 : a > b;
}

static int cmp_fold_first(const void *pa, const void *pb)
{
    const struct fold *a = pa, *b = pb;
    return a->members[0] < b->members[0] ? -1 : a->members[0] > b->members[0];
}

static void folds_free(struct fold *f, size_t n)
{
    for (size_t i = 0; f && i < n; i++)
        free(f[i].members);
    free(f);
}

/*
 * Fold the goroutines md->g[idx[0..n)] by identical stacks: sorted by
 * stack hash (n log n, not n squared for 10,000 distinct stacks), equal
 * hashes checked with same_stack.  The folds come in the order of their
 * first goroutine.  NULL when out of memory (*nf 0 and n 0 is not NULL).
 */
static struct fold *fold_stacks(const struct model *md, const size_t *idx,
                                size_t n, size_t *nf)
{
    *nf = 0;
    size_t *pos = malloc((n ? n : 1) * sizeof *pos);
    bool *used = calloc(n ? n : 1, sizeof *used);
    struct fold *f = calloc(n ? n : 1, sizeof *f);
    if (!pos || !used || !f)
        goto fail;
    for (size_t i = 0; i < n; i++)
        pos[i] = i;
    fold_md = md;
    fold_idx = idx;
    qsort(pos, n, sizeof *pos, cmp_fold_pos);
    for (size_t r = 0; r < n;) {
        size_t end = r + 1;
        while (end < n && md->g[idx[pos[end]]].hash == md->g[idx[pos[r]]].hash)
            end++;
        /* [r, end): one hash; split by real equality (collisions) */
        for (size_t i = r; i < end; i++) {
            if (used[i])
                continue;
            const struct gv *v = &md->g[idx[pos[i]]];
            struct fold *fo = &f[(*nf)++];
            fo->members = malloc((end - i) * sizeof *fo->members);
            if (!fo->members)
                goto fail;
            fo->lo = fo->hi = -1;
            for (size_t j = i; j < end; j++) {
                const struct gv *w = &md->g[idx[pos[j]]];
                if (used[j] || !same_stack(v, w))
                    continue;
                used[j] = true;
                fo->members[fo->n++] = idx[pos[j]];
                if (w->wait_ns >= 0 && (fo->lo < 0 || w->wait_ns < fo->lo))
                    fo->lo = w->wait_ns;
                if (w->wait_ns > fo->hi)
                    fo->hi = w->wait_ns;
            }
        }
        r = end;
    }
    qsort(f, *nf, sizeof *f, cmp_fold_first);
    free(pos);
    free(used);
    return f;
fail:
    free(pos);
    free(used);
    folds_free(f, *nf);
    *nf = 0;
    return NULL;
}

/* Print the goroutines of idx[0..n) folded by identical stacks: a
 * header "N goroutines [state, wait MIN..MAX]: ids" then the stack of
 * the first, in Go's format without its goroutine line. */
static void print_folded(struct out *o, const struct model *md,
                         const size_t *idx, size_t n)
{
    size_t nf;
    struct fold *f = fold_stacks(md, idx, n, &nf);
    if (!f) {
        o->oom = true;
        return;
    }
    for (size_t i = 0; i < nf; i++) {
        const struct gv *v = &md->g[f[i].members[0]];
        out_printf(o, "%zu goroutine%s [%s", f[i].n, f[i].n == 1 ? "" : "s",
                   v->state);
        if (v->locked)
            out_puts(o, ", locked to thread");
        print_wait_range(o, f[i].lo, f[i].hi);
        out_puts(o, "]:");
        for (size_t k = 0; k < f[i].n && k < 64; k++)
            out_printf(o, " %" PRId64, md->g[f[i].members[k]].goid);
        if (f[i].n > 64)
            out_printf(o, " ... (%zu more)", f[i].n - 64);
        out_puts(o, "\n");
        print_g(o, md, v, GRT__FMT_NO_HEADER);
    }
    folds_free(f, nf);
}

/* The user's frame a goroutine is blocked in: the first visible frame
 * that is not a grt_* call. */
static const struct grt__fmt_frame *blocking_frame(const struct gv *v)
{
    for (size_t i = 0; i < v->nframes; i++)
        if (!v->frames[i].func || strncmp(v->frames[i].func, "grt_", 4) != 0)
            return &v->frames[i];
    return NULL;
}

static const struct gv *find_gv(const struct model *md, int64_t goid)
{
    size_t lo = 0, hi = md->ng;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (md->g[mid].goid < goid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < md->ng && md->g[lo].goid == goid ? &md->g[lo] : NULL;
}

static void print_site(struct out *o, const struct rd_snapshot *s,
                       uint32_t site)
{
    if (site >= 1 && site <= s->nsite) {
        const struct rd_site *st = &s->site[site - 1];
        out_printf(o, "created at %s:%d (go %s from %s)", st->file, st->line,
                   st->fn, st->caller[0] ? st->caller : "?");
    } else {
        out_puts(o, "created at an unknown site");
    }
}

static void print_leaks_text(struct out *o, struct model *md)
{
    const struct rd_leaks *l = md->leaks;
    const struct rd_snapshot *s = md->s;
    char thr[48];
    fmt_dur(thr, sizeof thr, md->o->threshold_ns);
    for (size_t c = 0; c < l->ncycles; c++) {
        const struct rd_leak_cycle *cy = &l->cycles[c];
        out_puts(o, "mutex cycle:");
        for (size_t k = 0; k < cy->n; k++)
            out_printf(o, " goroutine %" PRId64 " ->", cy->goids[k]);
        out_printf(o, " goroutine %" PRId64 "\n", cy->goids[0]);
        for (size_t k = 0; k < cy->n; k++) {
            uint64_t obj = 0;
            for (size_t i = 0; i < s->ng; i++)
                if (!s->g[i].torn && s->g[i].goid == cy->goids[k])
                    obj = s->g[i].wait_obj;
            out_printf(o,
                       "\tgoroutine %" PRId64 " waits for mutex %#" PRIx64
                       " held by goroutine %" PRId64 "\n",
                       cy->goids[k], obj, cy->goids[(k + 1) % cy->n]);
        }
        out_puts(o, "\n");
    }
    if (l->all_asleep)
        out_puts(o, "all goroutines are asleep, with no timer, I/O or call "
                    "pending: the program cannot make progress\n\n");
    size_t *idx = malloc((md->ng ? md->ng : 1) * sizeof *idx);
    if (!idx) {
        o->oom = true;
        return;
    }
    for (size_t gi = 0; gi < l->ngroups; gi++) {
        const struct rd_leak_group *gr = &l->groups[gi];
        /* the goroutines of the group that the dump also has and the
         * filters keep, split by the frame they are blocked in */
        size_t n = 0;
        for (size_t k = 0; k < gr->n; k++) {
            const struct gv *v = find_gv(md, gr->goids[k]);
            if (v && passes_filters(md->o, v))
                idx[n++] = (size_t)(v - md->g);
        }
        bool *used = calloc(n ? n : 1, sizeof *used);
        size_t *sub = malloc((n ? n : 1) * sizeof *sub);
        if (!used || !sub) {
            free(used);
            free(sub);
            o->oom = true;
            break;
        }
        for (size_t i = 0; i < n; i++) {
            if (used[i])
                continue;
            const struct grt__fmt_frame *bf = blocking_frame(&md->g[idx[i]]);
            size_t m = 0;
            int64_t lo = -1, hi = -1;
            for (size_t j = i; j < n; j++) {
                const struct grt__fmt_frame *bj =
                    blocking_frame(&md->g[idx[j]]);
                bool same = (!bf && !bj) ||
                            (bf && bj && bf->line == bj->line &&
                             !strcmp(bf->func ? bf->func : "?",
                                     bj->func ? bj->func : "?") &&
                             !strcmp(bf->file ? bf->file : "",
                                     bj->file ? bj->file : ""));
                if (used[j] || !same)
                    continue;
                used[j] = true;
                sub[m++] = idx[j];
                int64_t w = md->g[idx[j]].wait_ns;
                if (w >= 0 && (lo < 0 || w < lo))
                    lo = w;
                if (w > hi)
                    hi = w;
            }
            out_printf(o, "%s leak: %zu goroutine%s blocked in %s",
                       gr->kind == RD_LEAK_SUSPECTED ? "suspected" : "proven",
                       m, m == 1 ? "" : "s", rd_wait_name(s, gr->wait_reason));
            if (bf && bf->func)
                out_printf(o, " at %s (%s:%d)", bf->func,
                           bf->file ? bf->file : "?", bf->line);
            out_puts(o, ", ");
            print_site(o, s, gr->site);
            if (gr->kind == RD_LEAK_CYCLE)
                out_puts(o, ", in or behind a mutex cycle");
            else if (gr->kind == RD_LEAK_ASLEEP)
                out_puts(o, ", all goroutines asleep");
            else
                out_printf(o, ", longer than %s", thr);
            print_wait_range(o, lo, hi);
            out_puts(o, "\n");
            print_folded(o, md, sub, m);
        }
        free(used);
        free(sub);
    }
    free(idx);
    if (l->nsuspected + l->nproven == 0)
        out_printf(o, "no leaks: no goroutine blocked longer than %s, no "
                      "mutex cycle, not all asleep\n",
                   thr);
    else
        out_printf(o,
                   "%zu proven and %zu suspected leaked goroutine%s "
                   "(threshold %s)\n",
                   l->nproven, l->nsuspected,
                   l->nproven + l->nsuspected == 1 ? "" : "s", thr);
}

static void print_text(struct out *o, struct model *md)
{
    if (md->o->leaks) {
        print_leaks_text(o, md);
        return;
    }
    size_t *idx = malloc((md->ng ? md->ng : 1) * sizeof *idx);
    if (!idx) {
        o->oom = true;
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < md->ng; i++)
        if (passes_filters(md->o, &md->g[i]))
            idx[n++] = i;
    if (md->o->group)
        print_folded(o, md, idx, n);
    else
        for (size_t i = 0; i < n; i++)
            print_g(o, md, &md->g[idx[i]], 0);
    free(idx);
}

/* ---- JSON (schema: docs/gdump.md) ---- */

static void json_frames(struct out *o, const struct gv *v)
{
    out_puts(o, "\"frames\": [");
    for (size_t i = 0; i < v->nframes; i++) {
        const struct grt__fmt_frame *f = &v->frames[i];
        out_puts(o, i ? ", {" : "{");
        out_printf(o, "\"pc\": %" PRIu64 ", \"func\": ", f->pc);
        out_json_str(o, f->func);
        out_printf(o, ", \"offset\": %" PRIu64 ", \"file\": ", f->offset);
        out_json_str(o, f->file);
        out_printf(o, ", \"line\": %d, \"module\": ", f->line);
        out_json_str(o, f->module);
        out_puts(o, "}");
    }
    out_puts(o, "], \"frames_missing\": ");
    out_json_str(o, v->nframes ? NULL : v->no_frames);
}

static void json_created(struct out *o, const struct model *md,
                         const struct gv *v)
{
    struct grt__fmt_g f;
    fill_fmt(md, v, &f);
    out_puts(o, "\"created_by\": ");
    if (!f.created_fn) {
        out_puts(o, "null");
        return;
    }
    out_puts(o, "{\"func\": ");
    out_json_str(o, f.created_fn);
    out_printf(o, ", \"goroutine\": %" PRId64 ", \"file\": ", f.created_goid);
    out_json_str(o, f.created_file);
    out_printf(o, ", \"line\": %d, \"go\": ", f.created_line);
    out_json_str(o, v->site ? v->site->fn : NULL);
    out_puts(o, "}");
}

static void json_g(struct out *o, const struct model *md, const struct gv *v)
{
    static const char *const status_name[] = {
        "idle", "runnable", "running", "waiting", "syscall", "dead"};
    out_printf(o, "{\"id\": %" PRId64 ", \"state\": ", v->goid);
    out_json_str(o, v->state);
    out_puts(o, ", \"status\": ");
    out_json_str(o, v->status >= 0 && v->status <= 5 ? status_name[v->status]
                                                     : "unknown");
    out_puts(o, ", \"wait_reason\": ");
    out_json_str(o, v->status == GRT_SHM_G_WAITING
                        ? rd_wait_name(md->s, v->reason)
                        : NULL);
    if (v->wait_ns >= 0)
        out_printf(o, ", \"wait_ns\": %" PRId64, v->wait_ns);
    else
        out_puts(o, ", \"wait_ns\": null");
    out_printf(o, ", \"locked_to_thread\": %s", v->locked ? "true" : "false");
    const struct rd_g *g = v->sg;
    out_puts(o, ", \"name\": ");
    out_json_str(o, g && g->name[0] ? g->name : NULL);
    if (g && v->status == GRT_SHM_G_WAITING && g->wait_obj) {
        out_printf(o, ", \"wait_obj\": \"%#" PRIx64 "\", \"wait_obj_kind\": ",
                   g->wait_obj);
        out_json_str(o, obj_kind(v->reason));
    } else {
        out_puts(o, ", \"wait_obj\": null, \"wait_obj_kind\": null");
    }
    out_puts(o, ", \"chan_name\": ");
    out_json_str(o, v->chan_name);
    int64_t owner = md->leaks && v->sg ? md->leaks->owner[v->sidx] : 0;
    if (!md->leaks && v->sg)
        owner = rd_leak_owner(md->s, v->sidx);
    if (owner)
        out_printf(o, ", \"mutex_holder\": %" PRId64, owner);
    else
        out_puts(o, ", \"mutex_holder\": null");
    if (g && (v->status == GRT_SHM_G_RUNNING ||
              v->status == GRT_SHM_G_SYSCALL))
        out_printf(o, ", \"m\": %d, \"p\": %d", g->m_id, g->p_id);
    else
        out_puts(o, ", \"m\": null, \"p\": null");
    if (g)
        out_printf(o,
                   ", \"stack_committed\": %" PRIu64
                   ", \"stack_reserved\": %" PRIu64,
                   g->stack_committed, g->stack_reserved);
    out_puts(o, ", \"leak\": ");
    out_json_str(o, v->leak ? (v->leak == RD_LEAK_SUSPECTED ? "suspected"
                               : v->leak == RD_LEAK_CYCLE   ? "mutex cycle"
                                                            : "all asleep")
                            : NULL);
    out_puts(o, ", ");
    json_created(o, md, v);
    out_puts(o, ", ");
    json_frames(o, v);
    out_puts(o, "}");
}

static void print_json(struct out *o, struct model *md)
{
    const struct rd_snapshot *s = md->s;
    out_printf(o, "{\n\"gdump\": 1,\n\"pid\": %d,\n\"name\": ", s->pid);
    out_json_str(o, s->name);
    out_puts(o, ",\n\"exe\": ");
    out_json_str(o, s->exe);
    out_puts(o, ",\n\"grt_version\": ");
    out_json_str(o, s->grt_version);
    out_printf(o, ",\n\"segment_version\": %u,\n\"taken_mono_ns\": %" PRId64
                  ",\n\"uptime_ns\": %" PRId64 ",\n\"stacks\": %s",
               s->version, s->taken_mono_ns,
               s->taken_mono_ns - s->created_mono_ns,
               md->d ? "true" : "false");
    if (md->d)
        out_printf(o, ",\n\"dump_elapsed_ns\": %" PRIu64, md->d->elapsed_ns);
    else
        out_puts(o, ",\n\"dump_elapsed_ns\": null");
    out_puts(o, ",\n\"goroutines\": [");
    size_t printed = 0;
    size_t *idx = malloc((md->ng ? md->ng : 1) * sizeof *idx);
    if (!idx) {
        o->oom = true;
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < md->ng; i++)
        if (passes_filters(md->o, &md->g[i]) &&
            (!md->o->leaks || md->g[i].leak))
            idx[n++] = i;
    if (!md->o->group) {
        for (size_t i = 0; i < n; i++) {
            out_puts(o, printed++ ? ",\n" : "\n");
            json_g(o, md, &md->g[idx[i]]);
        }
        out_puts(o, "\n]");
    } else {
        out_puts(o, "],\n\"groups\": [");
        size_t nf;
        struct fold *f = fold_stacks(md, idx, n, &nf);
        if (!f) {
            free(idx);
            o->oom = true;
            return;
        }
        for (size_t i = 0; i < nf; i++) {
            out_puts(o, i ? ",\n{\"ids\": [" : "\n{\"ids\": [");
            for (size_t k = 0; k < f[i].n; k++)
                out_printf(o, "%s%" PRId64, k ? ", " : "",
                           md->g[f[i].members[k]].goid);
            out_printf(o, "], \"count\": %zu, ", f[i].n);
            if (f[i].lo >= 0)
                out_printf(o,
                           "\"min_wait_ns\": %" PRId64
                           ", \"max_wait_ns\": %" PRId64 ", ",
                           f[i].lo, f[i].hi);
            else
                out_puts(o, "\"min_wait_ns\": null, \"max_wait_ns\": null, ");
            out_puts(o, "\"goroutine\": ");
            json_g(o, md, &md->g[f[i].members[0]]);
            out_puts(o, "}");
        }
        folds_free(f, nf);
        out_puts(o, "\n]");
    }
    free(idx);
    if (md->leaks) {
        const struct rd_leaks *l = md->leaks;
        out_printf(o,
                   ",\n\"leaks\": {\"threshold_ns\": %" PRId64
                   ", \"suspected\": %zu, \"proven\": %zu, \"all_asleep\": "
                   "%s, \"longest_wait_ns\": %" PRId64 ", \"cycles\": [",
                   md->o->threshold_ns, l->nsuspected, l->nproven,
                   l->all_asleep ? "true" : "false", l->longest_wait_ns);
        for (size_t c = 0; c < l->ncycles; c++) {
            out_puts(o, c ? ", [" : "[");
            for (size_t k = 0; k < l->cycles[c].n; k++)
                out_printf(o, "%s%" PRId64, k ? ", " : "",
                           l->cycles[c].goids[k]);
            out_puts(o, "]");
        }
        out_puts(o, "], \"groups\": [");
        for (size_t gi = 0; gi < l->ngroups; gi++) {
            const struct rd_leak_group *gr = &l->groups[gi];
            out_puts(o, gi ? ",\n  {\"kind\": " : "\n  {\"kind\": ");
            out_json_str(o, rd_leak_kind_name(gr->kind));
            out_puts(o, ", \"wait_reason\": ");
            out_json_str(o, rd_wait_name(s, gr->wait_reason));
            out_puts(o, ", \"site\": ");
            if (gr->site >= 1 && gr->site <= s->nsite) {
                const struct rd_site *st = &s->site[gr->site - 1];
                out_puts(o, "{\"go\": ");
                out_json_str(o, st->fn);
                out_puts(o, ", \"caller\": ");
                out_json_str(o, st->caller);
                out_puts(o, ", \"file\": ");
                out_json_str(o, st->file);
                out_printf(o, ", \"line\": %d}", st->line);
            } else {
                out_puts(o, "null");
            }
            if (gr->wait_obj)
                out_printf(o, ", \"wait_obj\": \"%#" PRIx64 "\"", gr->wait_obj);
            else
                out_puts(o, ", \"wait_obj\": null");
            out_printf(o,
                       ", \"count\": %zu, \"min_wait_ns\": %" PRId64
                       ", \"max_wait_ns\": %" PRId64 ", \"ids\": [",
                       gr->n, gr->min_wait_ns, gr->max_wait_ns);
            for (size_t k = 0; k < gr->n; k++)
                out_printf(o, "%s%" PRId64, k ? ", " : "", gr->goids[k]);
            out_puts(o, "]}");
        }
        out_puts(o, "]}");
    }
    out_puts(o, "\n}\n");
}

/* ---- DOT ---- */

static void print_graph(struct out *o, struct model *md)
{
    const struct rd_snapshot *s = md->s;
    const struct rd_leaks *l = md->leaks;
    out_puts(o, "digraph gdump {\n"
                "\trankdir=LR;\n"
                "\tnode [fontname=\"monospace\", fontsize=10];\n"
                "\tedge [fontname=\"monospace\", fontsize=9];\n");
    out_printf(o, "\tlabel=");
    char title[160];
    snprintf(title, sizeof title, "%s (pid %d): wait-for graph", s->name,
             s->pid);
    out_dot_str(o, title);
    out_puts(o, ";\n");
    /* goroutines that wait on an object, or hold a mutex someone waits
     * for; objects they wait on */
    bool *holder = calloc(s->ng ? s->ng : 1, sizeof *holder);
    if (!holder) {
        o->oom = true;
        return;
    }
    for (size_t i = 0; i < s->ng; i++) {
        const struct rd_g *g = &s->g[i];
        if (g->torn || g->status != GRT_SHM_G_WAITING || !g->wait_owner)
            continue;
        for (size_t j = 0; j < s->ng; j++)
            if (!s->g[j].torn && s->g[j].goid == g->wait_owner)
                holder[j] = true;
    }
    for (size_t i = 0; i < s->ng; i++) {
        const struct rd_g *g = &s->g[i];
        if (g->torn)
            continue;
        bool waits = g->status == GRT_SHM_G_WAITING && g->wait_obj;
        if (!waits && !holder[i])
            continue;
        const struct gv *v = find_gv(md, g->goid);
        if (v && !passes_filters(md->o, v) && !holder[i])
            continue;
        char label[512];
        const struct grt__fmt_frame *bf = v ? blocking_frame(v) : NULL;
        const struct rd_site *st = g->site >= 1 && g->site <= s->nsite
                                       ? &s->site[g->site - 1]
                                       : NULL;
        snprintf(label, sizeof label, "goroutine %" PRId64 "\n%s%s%s%s",
                 g->goid, state_word(s, g->status, g->wait_reason),
                 bf && bf->func ? "\nin " : "", bf && bf->func ? bf->func : "",
                 st ? "" : "");
        if (st) {
            size_t len = strlen(label);
            snprintf(label + len, sizeof label - len, "\ngo %s", st->fn);
        }
        int kind = l ? l->kind[i] : 0;
        out_printf(o, "\tg%" PRId64 " [shape=box, label=", g->goid);
        out_dot_str(o, label);
        if (kind == RD_LEAK_SUSPECTED)
            out_puts(o, ", color=orange, style=bold");
        else if (kind)
            out_puts(o, ", color=red, style=bold");
        out_puts(o, "];\n");
        if (waits) {
            const char *k = obj_kind(g->wait_reason);
            const char *cname = chan_name_of(s, g->wait_obj);
            out_printf(o, "\to%" PRIx64 " [shape=%s, label=", g->wait_obj,
                       strcmp(k, "chan") == 0 ? "ellipse" : "diamond");
            char ol[160];
            snprintf(ol, sizeof ol, "%s%s%s\n%#" PRIx64, k, cname ? " " : "",
                     cname ? cname : "", g->wait_obj);
            out_dot_str(o, ol);
            out_puts(o, "];\n");
            out_printf(o, "\tg%" PRId64 " -> o%" PRIx64 " [label=", g->goid,
                       g->wait_obj);
            out_dot_str(o, rd_wait_name(s, g->wait_reason));
            out_puts(o, "];\n");
            if (g->wait_owner) {
                bool current = l && l->owner[i] == g->wait_owner;
                bool in_cycle = current && kind == RD_LEAK_CYCLE;
                out_printf(o,
                           "\to%" PRIx64 " -> g%" PRId64
                           " [label=\"held by\"%s];\n",
                           g->wait_obj, g->wait_owner,
                           in_cycle  ? ", color=red, penwidth=2"
                           : current ? ""
                                     : ", style=dashed");
            }
        }
    }
    free(holder);
    out_puts(o, "}\n");
}

/* ---- attaching, with one clear line per failure ---- */

static int target_error(int pid, const char *doing, int rc)
{
    if (rc == RD_ENOENT) {
        if (kill(pid, 0) != 0 && errno == ESRCH)
            fprintf(stderr, "%s: pid %d: no such process\n", prog, pid);
        else
            fprintf(stderr,
                    "%s: pid %d: not a grt program (no segment; it may not "
                    "use libgrt, or runs with GRT_AGENT=0 or another "
                    "GRT_AGENT_DIR)\n",
                    prog, pid);
    } else if (rc == RD_EVERSION) {
        fprintf(stderr,
                "%s: pid %d: %s (this gdump reads segment versions up to "
                "%d)\n",
                prog, pid, rd_strerror(rc), RD_SHM_VERSION);
    } else {
        fprintf(stderr, "%s: pid %d: %s: %s\n", prog, pid, doing,
                rd_strerror(rc));
    }
    return EXIT_TARGET;
}

static int64_t mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * SEC + ts.tv_nsec;
}

static int run(const struct opts *o)
{
    struct rd_target *t;
    int rc = rd_attach(o->pid, &t);
    if (rc != RD_OK)
        return target_error(o->pid, "attaching", rc);
    int status = EXIT_TARGET;
    struct model md;
    memset(&md, 0, sizeof md);
    md.o = o;
    struct out out = {0};
    rc = rd_target_check(t);
    if (rc != RD_OK) {
        target_error(o->pid, "checking the writer", rc);
        goto done_detach;
    }
    rc = rd_snapshot_take(t, &md.s);
    if (rc != RD_OK) {
        target_error(o->pid, "reading the segment", rc);
        goto done_detach;
    }
    md.now = md.s->taken_mono_ns ? md.s->taken_mono_ns : mono_now();
    if (o->no_stacks) {
        md.why_no_stacks = "stacks not asked for (--no-stacks)";
    } else if (!(md.s->flags & GRT_SHM_F_DUMPS)) {
        md.why_no_stacks = "the agent does not dump stacks";
    } else {
        rc = rd_dump_request(t, 0, o->frames, o->timeout_ms, &md.d);
        if (rc == RD_ENODUMP) {
            md.why_no_stacks = "the program was built without libunwind";
        } else if (rc != RD_OK) {
            target_error(o->pid, "asking for the stacks", rc);
            goto done;
        }
    }
    if (md.d) {
        rc = rd_sym_open(md.d, &md.syms.rs);
        if (rc != RD_OK && rc != RD_ENOSYM) {
            target_error(o->pid, "loading symbols", rc);
            goto done;
        }
        md.syms.d = md.d;
    }
    if (o->leaks || o->graph || o->json) {
        rc = rd_leaks_find(md.s, o->threshold_ns, md.now, &md.leaks);
        if (rc != RD_OK) {
            target_error(o->pid, "analysing leaks", rc);
            goto done;
        }
    }
    if (!build_model(&md)) {
        fprintf(stderr, "%s: pid %d: out of memory\n", prog, o->pid);
        goto done;
    }
    if (o->graph)
        print_graph(&out, &md);
    else if (o->json)
        print_json(&out, &md);
    else
        print_text(&out, &md);
    if (out.oom) {
        fprintf(stderr, "%s: pid %d: out of memory\n", prog, o->pid);
        goto done;
    }
    if (out.len)
        fwrite(out.buf, 1, out.len, stdout);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s: writing the output: %s\n", prog,
                strerror(errno));
        goto done;
    }
    status = 0;
    if (o->leaks && o->fail && md.leaks->nsuspected + md.leaks->nproven)
        status = EXIT_LEAKS;
done:
    for (size_t i = 0; i < md.ng; i++)
        free(md.g[i].frames);
    free(md.g);
    free(out.buf);
    rd_leaks_free(md.leaks);
    symtab_free(&md.syms);
    rd_dump_free(md.d);
    rd_snapshot_free(md.s);
done_detach:
    rd_detach(t);
    return status;
}

int main(int argc, char **argv)
{
    struct opts o;
    parse_args(argc, argv, &o);
    int rc = o.pid < 0 ? list_procs() : run(&o);
    if (o.have_match)
        regfree(&o.match);
    free(o.filters);
    return rc;
}
