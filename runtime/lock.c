/*
 * lock.c - futexes and the slow paths of the runtime's spin locks.
 *
 * The runtime's locks guard short critical sections (a run queue, a
 * channel, a timer heap).  The fast path (one CAS) is inline in rt.h, and
 * unlock is a plain release store; here a contended locker spins, then
 * yields its thread.  Nothing parks while holding one (rt.h, I5), so the
 * holder is always running or runnable.  The futex calls serve idle Ms.
 */
#include "config.h"

#include "rt.h"

#include <errno.h>
#include <sched.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Sleep while *addr == val, at most ns (< 0: no limit).  Spurious wake-ups
 * are allowed: callers re-check their condition. */
void grt__futex_wait(uint32_t *addr, uint32_t val, int64_t ns)
{
    struct timespec ts, *tsp = NULL;
    if (ns >= 0) {
        ts.tv_sec = ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        tsp = &ts;
    }
    syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, tsp, NULL, 0);
}

/* Wake up to n threads sleeping on addr. */
void grt__futex_wake(uint32_t *addr, int n)
{
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

/* Contended lock: test-and-test-and-set with exponential backoff (fewer
 * transfers of the lock's cache line between cores), then let the
 * holder's thread run by yielding ours. */
void grt__lock_slow(spinlock *l)
{
    unsigned backoff = 1;
    for (unsigned i = 0;; i++) {
        if (LOAD_RLX(&l->v) == 0 && trylock(l))
            return;
        if (i < 64) {
            for (unsigned k = 0; k < backoff; k++)
                cpu_relax();
            if (backoff < 32)
                backoff <<= 1;
        } else {
            sched_yield();
        }
    }
}

/* The errno of the thread running the caller now (grt.h's errno). */
int *grt_errno_location(void)
{
    return __errno_location();
}
