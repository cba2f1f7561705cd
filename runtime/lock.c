/*
 * lock.c - futexes and the slow paths of the runtime's spin locks.
 *
 * The runtime's locks guard short critical sections (a run queue, a
 * channel, a timer heap).  The fast path (one CAS) is inline in rt.h; here
 * a contended locker spins briefly, then sleeps on the lock word with the
 * classic three-state futex mutex (0 free, 1 held, 2 held with sleepers;
 * Drepper, "Futexes Are Tricky", mutex #2).  A sleeping locker blocks its
 * whole thread, which is why nothing parks while holding one (rt.h, I5).
 */
#include "config.h"

#include "rt.h"

#include <errno.h>
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

/* Contended lock: spin about a microsecond, then mark 2 and sleep. */
void grt__lock_slow(spinlock *l)
{
    for (int i = 0; i < 64; i++) {
        cpu_relax();
        if (LOAD_RLX(&l->v) == 0 && trylock(l))
            return;
    }
    while (__atomic_exchange_n(&l->v, 2, __ATOMIC_ACQUIRE) != 0)
        grt__futex_wait(&l->v, 2, -1);
}

/* Called by unlock() when the word was 2: somebody may sleep. */
void grt__unlock_slow(spinlock *l)
{
    grt__futex_wake(&l->v, 1);
}
