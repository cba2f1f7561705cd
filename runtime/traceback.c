/*
 * traceback.c - goroutine dumps inside the program (Go's traceback.go):
 * grt_dump, grt_stack, and the tracebacks of panics, fatal errors and
 * crash reports (panic.c) and of leak reports (leak.c), all written by
 * the one formatter (cli/reader/format.h), so they read as gdump's and
 * Go's do.
 *
 * A goroutine is described from its struct g (read racily, as the agent
 * reads it: nothing is stopped) and its frames:
 *   - the caller's own goroutine is unwound here with libunwind's local
 *     unwinder (or from a fatal signal's context) and shown "running";
 *   - one that runs on another thread at that moment is caught there by
 *     SIGURG, as the agent's dumps catch it (grt__preempt_catch,
 *     preempt.c): its own thread unwinds it in the signal handler from
 *     the interrupted context (no handler or signal frame appears), and
 *     it is shown "running" with those frames; where that is not
 *     possible (ThreadSanitizer builds, the thread does not answer within
 *     50 ms) or it is in a blocking call (grt_syscall_enter: a signal
 *     would interrupt the call) it is shown without frames ("running on
 *     another thread");
 *   - any other is unwound from its saved context by the agent's
 *     unwinder (agent/unwind.c), which proves it stayed parked
 *     meanwhile (so is one that parked before the signal landed); one
 *     never started with its entry function as its only frame (as Go
 *     shows it).
 * Frames are named by symtab.c; libgrt's own frames (the scheduler, the
 * context switch, the public calls they were parked in), the system
 * libraries' frames libgrt called (a futex wait, libdw's locks: what a
 * goroutine caught inside grt_dump or a channel operation shows) and the
 * C start-up below main are hidden, as Go hides runtime frames, and at most
 * 100 are shown (Go's limit, then "...additional frames elided...").
 * Goroutines come in id order after the caller's, as Go's
 * runtime.Stack(buf, true) writes them.  Without libunwind, goroutines
 * are listed with their header and creation site only.
 *
 * Symbol lookups allocate and use tens of KiB of stack (libdw), more
 * than a goroutine started with a small GRT_STACK_SIZE (or m0's 256 KiB
 * scheduler stack, where a deadlock is found) may have left: a dump asked
 * for there unwinds the caller here and does the rest on a helper thread
 * (it is joined; the thread blocks meanwhile, as for any blocking call).
 * Crash reports run on the signal stack (1 MiB).
 */
#include "config.h"

#include "traceback.h"
#include "unwind.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Why a parked goroutine shows no frames when there is no unwinder: a
 * block with neither frames nor a note would break Go's grammar. */
#ifdef HAVE_LIBUNWIND
#define NO_UNWINDER "stack unavailable"
#else
#define NO_UNWINDER "libgrt built without libunwind"
#endif

#define MAX_SHOWN 100 /* frames shown per goroutine (Go's) */
#define MAX_RAW 192   /* frames unwound: hidden ones included */
#define SMALL_STACK (256 * 1024)

/* Reads of other goroutines' structs race with their owners by design
 * (see agent_int.h, AGENT_RACY): such functions are left out of
 * ThreadSanitizer and read each field once through a volatile load. */
#if defined(__has_attribute)
#if __has_attribute(no_sanitize)
#define TB_RACY __attribute__((no_sanitize("thread")))
#endif
#endif
#ifndef TB_RACY
#define TB_RACY
#endif
#define RACY(x) (*(volatile __typeof__(x) *)&(x))

struct grt__tb {
    struct grt__uw *uw;  /* opened on first need */
    bool uw_tried;
    bool is_static;      /* fatal_tb: not freed */
    /* the caller's own frames, unwound before moving to a helper thread */
    const uint64_t *self_pcs;
    uint32_t self_n;
    bool self_more;
    uint64_t pcs[MAX_RAW];
    struct grt__fmt_frame frames[MAX_SHOWN];
    struct grt__sym syms[MAX_SHOWN + 1]; /* + 1: the frame that is cut */
};

static struct grt__tb fatal_tb; /* the dying thread's (one at a time) */

int grt__traceback_level(void)
{
    const char *e = getenv("GRT_TRACEBACK");
    if (!e || !*e || !strcmp(e, "single") || !strcmp(e, "1"))
        return TB_SINGLE;
    if (!strcmp(e, "none") || !strcmp(e, "0"))
        return TB_NONE;
    if (!strcmp(e, "all") || !strcmp(e, "2") || !strcmp(e, "system") ||
        !strcmp(e, "crash"))
        return TB_ALL;
    return TB_SINGLE;
}

struct grt__tb *grt__tb_new(bool fatal)
{
    struct grt__tb *tb = fatal ? &fatal_tb : malloc(sizeof *tb);
    if (!tb)
        return NULL;
    tb->uw = NULL;
    tb->uw_tried = false;
    tb->is_static = fatal;
    tb->self_pcs = NULL;
    tb->self_n = 0;
    tb->self_more = false;
    return tb;
}

void grt__tb_free(struct grt__tb *tb)
{
    if (!tb)
        return;
    grt__uw_close(tb->uw);
    tb->uw = NULL;
    if (!tb->is_static)
        free(tb);
}

struct g *grt__curg(void)
{
    struct m *mp = grt__tls_m;
    struct g *gp = mp ? mp->curg : NULL;
    return gp && !gp->is_g0 ? gp : NULL;
}

/* Go's word for gp's state. */
TB_RACY static const char *state_word(struct g *gp, uint32_t st)
{
    switch (st) {
    case G_RUNNABLE:
        return "runnable";
    case G_RUNNING:
        return "running";
    case G_SYSCALL:
        return "syscall";
    case G_WAITING: {
        uint8_t r = RACY(gp->wait_reason);
        return r && r < WAIT_MAX ? grt__wait_reason_str[r] : "waiting";
    }
    default:
        return "idle";
    }
}

/* The C start-up below main: hidden, and nothing follows it. */
static bool startup_frame(const char *f)
{
    return !strcmp(f, "__libc_start_call_main") ||
           !strncmp(f, "__libc_start_main", 17) || !strcmp(f, "_start");
}

TB_RACY void grt__tb_describe(struct grt__tb *tb, struct g *gp, bool self,
                              void *uc, struct grt__fmt_g *fg)
{
    memset(fg, 0, sizeof *fg);
    fg->wait_ns = -1;
    fg->m_id = fg->p_id = -1;
    fg->goid = RACY(gp->goid);
    uint32_t st = LOAD_RLX(&gp->status);
    fg->state = self ? "running" : state_word(gp, st);
    int64_t since = RACY(gp->wait_since);
    if (!self && (st == G_WAITING || st == G_SYSCALL) && since > 0) {
        int64_t d = grt__nanotime() - since;
        fg->wait_ns = d > 0 ? d : 0;
    }
    fg->locked = RACY(gp->lockedm) != NULL;
    if (fg->goid != 1) {
        const char *c = RACY(gp->cold->caller);
        const char *f = RACY(gp->cold->file);
        fg->created_fn = c && *c ? c : "?";
        fg->created_goid = RACY(gp->cold->parent_goid);
        fg->created_file = f;
        fg->created_line = RACY(gp->cold->line);
    }

    uint32_t n = 0;
    bool more = false, err = false;
    bool first_is_return = true;
    if (self) {
        if (tb->self_pcs) {
            n = tb->self_n < MAX_RAW ? tb->self_n : MAX_RAW;
            memcpy(tb->pcs, tb->self_pcs, n * sizeof *tb->pcs);
            more = tb->self_more;
        } else {
            n = grt__uw_local(uc, tb->pcs, MAX_RAW, &more);
            first_is_return = uc == NULL;
        }
        if (!n)
            fg->no_frames = "stack unavailable";
    } else {
        /* on a CPU: caught by a signal to its thread, unwound there */
        struct m *mp = st == G_RUNNING ? RACY(gp->m) : NULL;
        int c = mp ? grt__preempt_catch(mp, fg->goid, tb->pcs, MAX_RAW,
                                        CATCH_TIMEOUT_NS)
                   : -1;
        if (c > 0) {
            n = (uint32_t)c;
            more = n == MAX_RAW;
            first_is_return = false; /* the interrupted instruction */
            goto frames;
        }
        /* not caught: it may have parked meanwhile */
        if (!tb->uw_tried) {
            tb->uw = grt__uw_open();
            tb->uw_tried = true;
        }
        int r = GRT__UW_BAD_STACK;
        for (int attempt = 0; tb->uw && attempt < 3; attempt++) {
            r = grt__uw_parked(tb->uw, gp, tb->pcs, MAX_RAW, &n, &err,
                               &more);
            if (r != GRT__UW_CHANGED)
                break;
        }
        switch (r) {
        case GRT__UW_OK:
            if (!n)
                fg->no_frames = "stack unavailable";
            break;
        case GRT__UW_NOT_STARTED: {
            void (*fn)(void *) = RACY(gp->fn);
            if (fn) {
                tb->pcs[0] = (uint64_t)(uintptr_t)fn;
                n = 1;
                first_is_return = false;
            }
            break;
        }
        case GRT__UW_RUNNING:
        case GRT__UW_CHANGED:
            fg->no_frames = "running on another thread";
            break;
        default: {
            uint32_t gst = LOAD_RLX(&gp->status);
            if (tb->uw)
                fg->no_frames = "stack unavailable";
            else if (gst == G_RUNNING || gst == G_SYSCALL)
                fg->no_frames = "running on another thread";
            else
                fg->no_frames = NO_UNWINDER;
            break;
        }
        }
    }

frames:;
    size_t kept = 0;
    size_t callees = 0; /* kept[callees..] are system frames so far: libgrt
                         * may have called them */
    for (uint32_t i = 0; i < n; i++) {
        struct grt__sym *sy = &tb->syms[kept];
        grt__sym_lookup(tb->pcs[i], i > 0 || first_is_return, sy);
        if (sy->internal) {
            kept = callees; /* called by libgrt: part of it, hidden */
            continue;
        }
        if (startup_frame(sy->func))
            break;
        if (kept == MAX_SHOWN) {
            fg->elided = true;
            break;
        }
        if (!sy->system)
            callees = kept + 1;
        struct grt__fmt_frame *f = &tb->frames[kept++];
        f->pc = tb->pcs[i];
        f->func = sy->func[0] ? sy->func : NULL;
        f->offset = sy->offset;
        f->file = sy->file[0] ? sy->file : NULL;
        f->line = sy->line;
        f->module = sy->module[0] ? sy->module : NULL;
    }
    if (more && kept)
        fg->elided = true;
    fg->frames = tb->frames;
    fg->nframes = kept;
}

/* ---------------------------------------------------------------------
 * All goroutines
 * --------------------------------------------------------------------- */

struct gent {
    int64_t goid;
    struct g *gp;
};

static int cmp_gent(const void *a, const void *b)
{
    const struct gent *x = a, *y = b;
    return x->goid < y->goid ? -1 : x->goid > y->goid;
}

TB_RACY struct g **grt__allg_snapshot(size_t *n)
{
    *n = 0;
    size_t cap = (size_t)LOAD_RLX(&grt__sched.nallg) + 64;
    struct gent *e = malloc(cap * sizeof *e);
    if (!e)
        return NULL;
    size_t k = 0;
    /* the list only grows at its head (store-released), and G structs
     * are never freed: a walk from the head sees a consistent list */
    for (struct g *gp = LOAD_ACQ(&grt__sched.allg); gp && k < cap;
         gp = RACY(gp->allnext)) {
        uint32_t st = LOAD_RLX(&gp->status);
        if (st == G_DEAD || st == G_IDLE)
            continue;
        e[k].goid = RACY(gp->goid);
        e[k].gp = gp;
        k++;
    }
    if (!k) {
        free(e);
        return NULL;
    }
    qsort(e, k, sizeof *e, cmp_gent);
    struct g **out = (struct g **)(void *)e; /* in place: same or smaller */
    for (size_t i = 0; i < k; i++)
        out[i] = e[i].gp;
    *n = k;
    return out;
}

void grt__traceback(const struct grt__fmt_sink *out, bool all, void *uc,
                    bool fatal)
{
    struct grt__tb *tb = grt__tb_new(fatal);
    if (!tb)
        return;
    struct grt__fmt_g fg;
    struct g *self = grt__curg();
    if (self) {
        grt__tb_describe(tb, self, true, uc, &fg);
        grt__fmt_goroutine(out, &fg, 0);
    }
    if (all || !self) {
        size_t n;
        struct g **v = grt__allg_snapshot(&n);
        for (size_t i = 0; v && i < n; i++) {
            if (v[i] == self)
                continue;
            grt__tb_describe(tb, v[i], false, NULL, &fg);
            grt__fmt_goroutine(out, &fg, 0);
        }
        free(v);
    }
    grt__tb_free(tb);
}

/* ---------------------------------------------------------------------
 * grt_dump and grt_stack
 * --------------------------------------------------------------------- */

struct job {
    const struct grt__fmt_sink *out;
    bool all;
    struct g *self;
    uint64_t pcs[MAX_RAW];
    uint32_t n;
    bool more;
};

/* On a helper thread: the caller's goroutine from its unwound pcs. */
static void *job_run(void *arg)
{
    struct job *j = arg;
    struct grt__tb *tb = grt__tb_new(false);
    if (!tb)
        return NULL;
    tb->self_pcs = j->pcs;
    tb->self_n = j->n;
    tb->self_more = j->more;
    struct grt__fmt_g fg;
    if (j->self) {
        grt__tb_describe(tb, j->self, true, NULL, &fg);
        grt__fmt_goroutine(j->out, &fg, 0);
    }
    if (j->all || !j->self) {
        size_t n;
        struct g **v = grt__allg_snapshot(&n);
        for (size_t i = 0; v && i < n; i++) {
            if (v[i] == j->self)
                continue;
            grt__tb_describe(tb, v[i], false, NULL, &fg);
            grt__fmt_goroutine(j->out, &fg, 0);
        }
        free(v);
    }
    grt__tb_free(tb);
    return NULL;
}

/* Bytes of stack left to the calling context (a goroutine, or an M's
 * scheduler context: m0's is 256 KiB); SIZE_MAX when not known. */
static size_t stack_left(void)
{
    struct m *mp = grt__tls_m;
    struct g *cur = mp ? mp->curg : NULL;
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    uintptr_t lo = cur ? (uintptr_t)cur->stack_lo : 0;
    if (!lo || sp < lo)
        return SIZE_MAX;
    return sp - lo;
}

__attribute__((noinline)) void
grt__traceback_here(const struct grt__fmt_sink *out, bool all, bool fatal)
{
    struct g *self = grt__curg();
    if (stack_left() >= SMALL_STACK) {
        grt__traceback(out, all, NULL, fatal);
        return;
    }
    struct job *j = malloc(sizeof *j);
    pthread_attr_t attr;
    pthread_t th;
    if (!j || pthread_attr_init(&attr) != 0) {
        free(j);
        return;
    }
    j->out = out;
    j->all = all;
    j->self = self;
    j->more = false;
    j->n = self ? grt__uw_local(NULL, j->pcs, MAX_RAW, &j->more) : 0;
    pthread_attr_setstacksize(&attr, 1 << 20);
    bool call = !fatal && self; /* a dying one may hold runtime locks */
    if (call)
        grt_syscall_enter();
    if (pthread_create(&th, &attr, job_run, j) == 0)
        pthread_join(th, NULL);
    if (call)
        grt_syscall_exit();
    pthread_attr_destroy(&attr);
    free(j);
}

static void file_write(void *ctx, const char *s, size_t n)
{
    fwrite(s, 1, n, (FILE *)ctx);
}

void grt_dump(FILE *out)
{
    getm();
    if (!out)
        out = stderr;
    struct grt__fmt_sink sink = {file_write, out};
    grt__traceback_here(&sink, true, false);
    fflush(out);
}

size_t grt_stack(char *buf, size_t len, bool all)
{
    getm();
    char none[1];
    if (!buf || !len) { /* nothing fits; the sink still needs memory */
        buf = none;
        len = 0;
    }
    struct grt__fmt_buf b = {buf, len, 0};
    struct grt__fmt_sink sink = {grt__fmt_buf_write, &b};
    grt__traceback_here(&sink, all, false);
    if (b.used < len)
        buf[b.used] = 0;
    return b.used;
}
