/*
 * unwind.h - the one unwinder of goroutine stacks, shared by the agent's
 * dumps for readers (agent/dump.c) and the runtime's own tracebacks
 * (runtime/traceback.c: panics, fatal errors, crashes, grt_dump,
 * grt_stack, leak reports).
 *
 * Two ways in, both with libunwind:
 *   - a parked goroutine (not on a CPU) is unwound from its saved
 *     context through libunwind's address-space API with our own
 *     accessors, which only read inside its stack and the loaded
 *     modules, and is checked afterwards to have stayed parked (see
 *     unwind.c); no goroutine is ever stopped;
 *   - the calling thread's own stack (the running goroutine, or the
 *     interrupted context of a fatal signal) with libunwind's local
 *     unwinder.
 * Built without libunwind, every call reports "unavailable".
 */
#ifndef GRT_AGENT_UNWIND_H
#define GRT_AGENT_UNWIND_H

#include "rt.h"

#include <stdbool.h>
#include <stdint.h>

/*
 * Initialise libunwind's local unwinder once (its own lazy set-up is
 * double-checked locking ThreadSanitizer cannot see through, and not
 * async-signal-safe on first use): the runtime calls it at start-up,
 * before any other thread or signal handler of ours may unwind.  Any
 * thread; idempotent; not in a signal handler.
 */
HIDDEN void grt__uw_init(void);

/* One unwinding session: an address space and the readable ranges of
 * the modules loaded when it was opened.  Owned by one thread. */
struct grt__uw;

/*
 * Open a session; NULL when stacks cannot be unwound (no libunwind, or
 * it does not work here, or out of memory).  Allocates (about 64 KiB)
 * and walks the loaded modules (dl_iterate_phdr); any thread, any stack
 * with 16 KiB to spare; takes no runtime lock.
 */
HIDDEN struct grt__uw *grt__uw_open(void);
HIDDEN void grt__uw_close(struct grt__uw *u);

/* Results of grt__uw_parked. */
enum {
    GRT__UW_OK = 0,       /* frames unwound; gp stayed parked throughout */
    GRT__UW_RUNNING,      /* on a CPU (or on its way off it): no frames */
    GRT__UW_NOT_STARTED,  /* created, never ran: its entry is gp->fn */
    GRT__UW_BAD_STACK,    /* saved sp outside its stack */
    GRT__UW_CHANGED,      /* it ran while being unwound: frames dropped */
};

/*
 * Unwind gp, which is not the caller's goroutine, from its saved
 * context: at most max program counters into pcs (innermost first, all
 * return addresses but the first), their count in *n; *err when the
 * unwinder stopped on an error, *more when max cut it.  One attempt: a
 * caller that gets GRT__UW_CHANGED may try again.  Reads gp racily (it
 * may run on another thread meanwhile); never faults, never blocks,
 * allocates nothing.
 */
HIDDEN int grt__uw_parked(struct grt__uw *u, struct g *gp, uint64_t *pcs,
                          uint32_t max, uint32_t *n, bool *err, bool *more);

/*
 * Unwind the calling thread: from the caller of this function (uc NULL;
 * the first pc is a return address) or from a signal's interrupted
 * context (uc the handler's third argument; the first pc is the
 * interrupted instruction).  Returns the count stored in pcs (at most
 * max), *more when max cut it.  No session needed; allocates nothing;
 * 0 without libunwind.
 */
HIDDEN uint32_t grt__uw_local(void *uc, uint64_t *pcs, uint32_t max,
                              bool *more);

#endif /* GRT_AGENT_UNWIND_H */
