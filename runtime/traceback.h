/*
 * traceback.h - the runtime's own goroutine dumps (Go's traceback.go):
 * symbols of its own process (symtab.c), goroutines described for the
 * one formatter (traceback.c, cli/reader/format.h), how the process dies
 * with them (panic.c: panics, fatal errors, fatal signals, SIGQUIT) and
 * the leak checks built on them (leak.c).
 */
#ifndef GRT_TRACEBACK_H
#define GRT_TRACEBACK_H

#include "rt.h"
#include "cli/reader/format.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

/* ---- symbols (symtab.c) ---- */

/* One frame's symbol, copied out of the symbol tables. */
struct grt__sym {
    uint64_t offset;     /* pc - start of func */
    int line;            /* 0 without line information */
    bool internal;       /* libgrt's own code: hidden in tracebacks */
    bool system;         /* in a library libgrt itself calls (libc, the
                          * loader, the vdso, libunwind, libdw...): hidden
                          * when libgrt called it */
    char func[128];      /* "" unknown */
    char file[512];      /* "" without line information */
    char module[256];    /* object file, "" unknown */
};

/*
 * Name pc (is_return: a return address, looked up inside its call) in
 * this process: function and offset from the symbol tables (libdw's view
 * of .symtab, or dladdr without libdw), file and line from DWARF when the
 * object has it.  Takes the symbol tables' lock, waiting at most about a
 * second for it (a thread that died holding it must not hang a crash
 * report) and otherwise answering from dladdr alone.  Allocates (libdw);
 * not async-signal-safe; never parks.
 */
HIDDEN void grt__sym_lookup(uint64_t pc, bool is_return, struct grt__sym *out);

/* Is pc inside libgrt's own code?  No lock; false when libgrt is linked
 * into the executable (then names starting with "grt_" tell). */
HIDDEN bool grt__sym_in_libgrt(uint64_t pc);

/* ---- goroutine descriptions (traceback.c) ---- */

enum { TB_NONE, TB_SINGLE, TB_ALL };

/* GRT_TRACEBACK as GOTRACEBACK: none|0, single|1 (default), all|2 (and
 * Go's system, crash). */
HIDDEN int grt__traceback_level(void);

/* Working memory of tracebacks: an unwinder session and one goroutine's
 * frames and symbols.  One thread at a time. */
struct grt__tb;

/* fatal: the caller is dying (grt__die_begin returned): static storage,
 * no allocation for the working memory itself.  NULL if out of memory. */
HIDDEN struct grt__tb *grt__tb_new(bool fatal);
HIDDEN void grt__tb_free(struct grt__tb *tb);

/*
 * Describe gp for the formatter into *fg, whose frames and strings live
 * in tb until the next call.  self: gp is the calling goroutine (shown
 * "running", unwound here, or from the signal context uc when not NULL).
 * Hidden frames (libgrt, the C start-up below main) are left out; at
 * most 100 are kept (Go's limit; fg->elided says more were cut).
 * Reads gp racily; never parks.
 */
HIDDEN void grt__tb_describe(struct grt__tb *tb, struct g *gp, bool self,
                             void *uc, struct grt__fmt_g *fg);

/*
 * Write goroutines to out in Go's format: the caller's own goroutine
 * first (when the caller is one, unwound from uc or from here), then,
 * with all, every other live goroutine in id order.  When the caller is
 * not on a goroutine (a scheduler context, a foreign thread) every
 * goroutine is written.  Never parks; allocates unless fatal.
 */
HIDDEN void grt__traceback(const struct grt__fmt_sink *out, bool all,
                           void *uc, bool fatal);

/*
 * grt__traceback from the calling goroutine (no signal context), on a
 * helper thread when its stack is small (traceback.c): grt_dump,
 * grt_stack, panics (fatal: the caller is dying).  Blocks the thread
 * meanwhile.
 */
HIDDEN void grt__traceback_here(const struct grt__fmt_sink *out, bool all,
                                bool fatal);

/* Live goroutines now (not dead, not being made), in id order, into a
 * malloc'd array (*n of them); NULL when there are none or out of
 * memory.  Reads the all-G list without a lock. */
HIDDEN struct g **grt__allg_snapshot(size_t *n);

/* The goroutine the calling thread runs, NULL on a scheduler context or
 * a thread the runtime does not know. */
HIDDEN struct g *grt__curg(void);

/* ---- dying (panic.c) ---- */

/*
 * Become the one thread that prints a fatal report and ends the process.
 * Another thread already dying: block for ever (it ends the process).
 * This thread already dying (a fault while reporting): print one line
 * and exit 2 at once.  Async-signal-safe.
 */
HIDDEN void grt__die_begin(void);

/* Remove the segment and _exit(code).  Async-signal-safe. */
HIDDEN _Noreturn void grt__die_end(int code);

/* The fatal-signal report (stack.c's handler, when the signal is not a
 * stack overflow and the application had no handler of its own). */
HIDDEN _Noreturn void grt__crash(int sig, siginfo_t *si, void *uc);

/* After stack.c printed its "fatal error: stack overflow" lines: the
 * tracebacks GRT_TRACEBACK asks for, then exit 2. */
HIDDEN _Noreturn void grt__crash_traceback(void *uc);

/* Install the SIGFPE/SIGILL (with stack.c's) and SIGQUIT handlers and
 * the GRT_LEAKCHECK exit hook.  Once, at start-up, before the agent
 * (which leaves a SIGQUIT handler alone). */
HIDDEN void grt__traceback_init(void);

/* ---- leak checks (leak.c) ---- */

/* GRT_LEAKCHECK=1: register the check at exit (on_exit). */
HIDDEN void grt__leakcheck_init(void);

#endif /* GRT_TRACEBACK_H */
