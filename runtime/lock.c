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
#include <sys/time.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/*
 * ThreadSanitizer runs the handler of an asynchronous signal at once only
 * if the thread it lands on is inside a blocking interceptor; elsewhere it
 * arms it and runs it when the thread next leaves an interceptor.  The
 * futex call below is a raw syscall it does not intercept, so a SIGTERM
 * that lands on an M idle here would wait for that M's next work: the
 * agent's handler (remove the segment, re-raise) and the exit with it.
 * Under TSan an idle M therefore wakes every TSAN_SIGNAL_NS and passes
 * through an interceptor (gettimeofday, which TSan intercepts for that
 * purpose).  Suspected, not reproduced, behind one CI run in which
 * gtop-tmux.sh's SIGTERM left leak_detection running for 30 s under
 * TSan.  Other builds sleep as long as asked.
 */
#if defined(GRT_TSAN)
#define TSAN_SIGNAL_NS 50000000
#endif

/* Sleep while *addr == val, at most ns (< 0: no limit).  Spurious wake-ups
 * are allowed: callers re-check their condition. */
void grt__futex_wait(uint32_t *addr, uint32_t val, int64_t ns)
{
#if defined(GRT_TSAN)
    if (ns < 0 || ns > TSAN_SIGNAL_NS)
        ns = TSAN_SIGNAL_NS; /* a spurious wake-up, which callers allow */
#endif
    struct timespec ts, *tsp = NULL;
    if (ns >= 0) {
        ts.tv_sec = ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        tsp = &ts;
    }
    syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, tsp, NULL, 0);
#if defined(GRT_TSAN)
    struct timeval tv;
    gettimeofday(&tv, NULL); /* intercepted: runs deferred handlers */
#endif
}

/* Wake up to n threads sleeping on addr. */
void grt__futex_wake(uint32_t *addr, int n)
{
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

/*
 * Contended lock: test-and-test-and-set with exponential backoff, then let
 * the holder's thread run by yielding ours.  The first wait is long,
 * LOCK_WAIT_NS, doubling up to 4 times that: a look at the lock pulls its
 * cache line (the channel's, which shares it) away from the holder, which
 * is usually locking it again and again on its own CPU and runs several
 * times faster without interruptions.  First waits of 1, 8, 32 PAUSEs
 * (25 ns each on this machine's AMD EPYC), 8 interleaved rounds:
 * chan_mpmc 21.5, 14.0, 11.4 ns per message; worker_pool 84, 67, 61 ns per
 * job; select2 (two CPUs meeting on unbuffered channels, where the waiter
 * is needed for the next step) 66, 67, 72 ns.  So 200 ns, set in time
 * from the PAUSE latency measured at start-up (grt__lock_calibrate).
 */
#define LOCK_WAIT_NS 200
static unsigned wait_pauses = 8; /* PAUSEs in LOCK_WAIT_NS */

void grt__lock_calibrate(int64_t ns, int pauses)
{
    if (ns <= 0)
        return; /* keep the default */
    int64_t n = LOCK_WAIT_NS * pauses / ns;
    wait_pauses = n < 1 ? 1 : n > 1024 ? 1024 : (unsigned)n;
}

void grt__lock_slow(spinlock *l)
{
    unsigned backoff = wait_pauses;
    for (unsigned i = 0;; i++) {
        if (LOAD_RLX(&l->v) == 0 && trylock(l))
            return;
        if (i < 64) {
            for (unsigned k = 0; k < backoff; k++)
                cpu_relax();
            if (backoff < 4 * wait_pauses)
                backoff <<= 1;
        } else {
            sched_yield();
        }
    }
}

/* Opaque to the caller: were it told (by interprocedural analysis) that
 * these are const, as glibc declares __errno_location, it could cache
 * the address across a park.  clang has no noipa; it infers nothing
 * across files without LTO. */
#if defined(__has_attribute)
#if __has_attribute(noipa)
#define ERRNO_OPAQUE __attribute__((noipa))
#endif
#endif
#ifndef ERRNO_OPAQUE
#define ERRNO_OPAQUE __attribute__((noinline))
#endif

/* The errno of the thread running the caller now (grt.h's errno). */
ERRNO_OPAQUE int *grt_errno_location(void)
{
    return __errno_location();
}

/* The same function for the runtime's own errno (rt.h), without the
 * PLT. */
int *grt__errno(void) __attribute__((alias("grt_errno_location")));
