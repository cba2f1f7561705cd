/*
 * panic.c - how the runtime dies: grt_panic (Go's panic without recover),
 * grt__throw (Go's throw: runtime invariants, deadlock) and grt__fatal
 * (Go's fatal: sync misuse), all with Go's words and exit status 2.
 *
 * What follows the message is chosen by GRT_TRACEBACK as GOTRACEBACK:
 * none (nothing), single (the failing goroutine; the default), all (every
 * goroutine).  Until the dump formatter lands (the dump issue) a goroutine
 * is printed as its header line, Go's, and its creation site; frames come
 * with libunwind then.
 */
#include "config.h"

#include "rt.h"
#include "agent.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { TB_NONE, TB_SINGLE, TB_ALL };

static int traceback_level(void)
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

static const char *status_word(const struct g *gp)
{
    switch (LOAD_RLX(&gp->status)) {
    case G_RUNNABLE:
        return "runnable";
    case G_RUNNING:
        return "running";
    case G_SYSCALL:
        return "syscall";
    case G_WAITING:
        return gp->wait_reason < WAIT_MAX && gp->wait_reason
                   ? grt__wait_reason_str[gp->wait_reason]
                   : "waiting";
    default:
        return "idle";
    }
}

/* One goroutine, Go's header line and "created by" (frames: dump issue). */
static void print_g(FILE *f, const struct g *gp, const struct g *self)
{
    const char *st = gp == self ? "running" : status_word(gp);
    char wait[48] = "";
    if (gp != self && LOAD_RLX(&gp->status) == G_WAITING && gp->wait_since) {
        int64_t mins = (grt_now() - gp->wait_since) /
                       60000000000LL;
        if (mins >= 1)
            snprintf(wait, sizeof wait, ", %lld minutes", (long long)mins);
    }
    fprintf(f, "goroutine %lld [%s%s]:\n", (long long)gp->goid, st, wait);
    if (gp->goid != 1 && gp->fn_name) {
        fprintf(f, "%s(...)\n", gp->fn_name);
        fprintf(f, "created by %s in goroutine %lld\n\t%s:%d\n",
                gp->caller && *gp->caller ? gp->caller : "?",
                (long long)gp->parent_goid, gp->file ? gp->file : "?",
                gp->line);
    } else if (gp->goid == 1) {
        fprintf(f, "main.main()\n");
    }
    fputc('\n', f);
}

static void traceback(FILE *f)
{
    int lvl = traceback_level();
    if (lvl == TB_NONE)
        return;
    struct m *mp = grt__tls_m;
    struct g *self = mp ? mp->curg : NULL;
    fputc('\n', f);
    if (self && !self->is_g0)
        print_g(f, self, self);
    if (lvl == TB_ALL || !self || self->is_g0) {
        for (struct g *gp = LOAD_ACQ(&grt__sched.allg); gp; gp = gp->allnext) {
            uint32_t s = LOAD_RLX(&gp->status);
            if (gp == self || s == G_DEAD || s == G_IDLE)
                continue;
            print_g(f, gp, self);
        }
    }
}

static _Noreturn void die(void)
{
    fflush(NULL);
    grt__agent_fini(); /* remove the segment: _exit skips atexit */
    _exit(2);
}

void grt__throw(const char *msg)
{
    fprintf(stderr, "fatal error: %s\n", msg);
    traceback(stderr);
    die();
}

void grt__fatal(const char *msg)
{
    fprintf(stderr, "fatal error: %s\n", msg);
    traceback(stderr);
    die();
}

void grt__panic_str(const char *msg)
{
    getm(); /* a panic may be the program's first runtime call */
    fprintf(stderr, "panic: %s\n", msg);
    traceback(stderr);
    die();
}

void grt_panic(const char *fmt, ...)
{
    getm();
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt ? fmt : "(nil)", ap);
    va_end(ap);
    grt__panic_str(buf);
}
