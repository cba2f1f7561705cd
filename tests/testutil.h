/*
 * testutil.h - helpers shared by the Check programs in tests/.
 *
 * Every runtime test runs in its own process (Check's fork mode), so each
 * gets a fresh runtime: the first grt_* call inside the test starts it,
 * and the test's thread becomes goroutine 1.  Nothing here calls into the
 * runtime before a test does, and main() must not either (fork copies
 * only the calling thread, so a runtime started in the runner would be
 * half-dead in every child).  See STYLE.md, "Tests with Check".
 *
 * What is here:
 *   tu_run_suite   the body of every program's main(): fork mode only
 *                  (tu_run_suite_agent_dir: with a private segment dir).
 *   tu_child       run a function in a fresh child process, capture its
 *                  stderr and exit status, to check Go's exact panic and
 *                  fatal-error words.
 *   tu_first_line, tu_wait_goroutines, tu_spin_pause: small shared bits.
 *   TU_TIMEOUT     tcase_set_timeout value for stress cases.
 */
#ifndef GRT_TESTUTIL_H
#define GRT_TESTUTIL_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Seconds for tcase_set_timeout on stress cases.  Generous on purpose: the
 * sanitizer builds are several times slower and also set
 * CK_TIMEOUT_MULTIPLIER.  It bounds liveness, it never asserts speed.
 */
#define TU_TIMEOUT 60

/* Force a function out of line (recursion depth tests, goexit depth). */
#if defined(__clang__)
#define TU_NOINLINE __attribute__((noinline))
#else
#define TU_NOINLINE __attribute__((noinline, noclone))
#endif

/*
 * Assert in a goroutine other than main.  Check's ck_assert* record the
 * location of every *passing* assertion under a pthread mutex (libcheck is
 * linked statically, so the runtime sees it as application code and may
 * preempt inside it).  A goroutine preempted while holding that mutex
 * blocks every thread whose goroutine asserts next: a pthread mutex blocks
 * the M, not the goroutine, and with all Ms blocked the holder never runs
 * again (seen as a rare hang of the select stress test).  So only main
 * calls ck_assert*; other goroutines use tu_check, which calls into Check
 * only when the assertion fails.
 */
#define tu_check(expr)                                                    \
    ((expr) ? (void)0 : ck_abort_msg("Assertion '%s' failed (goroutine)", \
                                     #expr))

/*
 * Run every test of s in fork mode with CK_ENV output and free the
 * runner.  Returns EXIT_SUCCESS, EXIT_FAILURE when a test failed, or 77
 * (automake's "skipped") when CK_FORK=no asks for no-fork mode without
 * CK_RUN_CASE: several runtimes cannot share one process, and tests that
 * end their process would end the runner.  With CK_RUN_CASE set (one
 * case, for gdb) no-fork mode is allowed with a warning.  Must be called
 * before anything starts the runtime.  Allocates; never parks.
 */
int tu_run_suite(Suite *s);

/*
 * tu_run_suite with the agent's segments in a private directory: makes
 * one from dir_template (mkdtemp; "/dev/shm/grt-check-foo-XXXXXX"), sets
 * GRT_AGENT_DIR to it, runs s, then empties and removes it.  99 when the
 * directory cannot be made.
 */
int tu_run_suite_agent_dir(Suite *s, char *dir_template);

/*
 * Run fn in a forked child as if it were a program's main(): the child
 * starts its own runtime on its first grt_* call; when fn returns the
 * child calls exit(0), as main returning does.  Waits for the child and
 * stores its raw wait status (see waitpid) in *status and the first
 * errlen - 1 bytes of its stderr, NUL-terminated, in err (the rest is
 * read and dropped).  The child's stdout is the caller's.  The child dies
 * with its parent (PR_SET_PDEATHSIG), so a hung child cannot outlive a
 * Check timeout.
 *
 * Precondition: the calling process has not started the runtime (fork
 * copies only the calling thread): call it from a test before any grt_*
 * call.  Does not touch the runtime itself; blocks the calling thread.
 * A failing ck_assert inside fn ends the child with status 1 and is also
 * reported as a failure of the calling test.
 */
void tu_child(void (*fn)(void), char *err, size_t errlen, int *status);

/*
 * printf format for a child's stderr inside a Check failure message.
 * Check packs a message into at most CK_MAX_MSG_SIZE bytes (4096 by
 * default) and beyond that exits 2 ("Message string too long"), which
 * would hide the failure, so captured stderr is cut to 1500 bytes.
 */
#define TU_ERR "%.1500s"

/*
 * Copy the first line of text (without its newline) into line, at most
 * len - 1 bytes, NUL-terminated; returns line.
 */
char *tu_first_line(const char *text, char *line, size_t len);

/*
 * Assert that a tu_child status is a normal exit with code want, and (when
 * first is not NULL) that the child's stderr begins with the line first.
 * Prints the whole captured stderr on failure.  For use inside tests.
 */
#define tu_assert_child(status, err, want, first) \
    tu_assert_child_at((status), (err), (want), (first), __FILE__, __LINE__)
void tu_assert_child_at(int status, const char *err, int want,
                        const char *first, const char *file, int line);

/*
 * Yield (grt_yield) until grt_num_goroutine() <= n.  An exited goroutine
 * may still be counted for a moment after it signalled its end (a wait
 * group, a send), so tests call this before asserting the count.  Never
 * returns if the count never drops: the Check timeout then fails the test.
 * Runs on a goroutine (starts the runtime if needed); may switch.
 */
void tu_wait_goroutines(int n);

/* A CPU relaxation hint for spin loops (pause / yield instruction). */
static inline void tu_spin_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#else
    __asm__ __volatile__("" ::: "memory");
#endif
}

#endif /* GRT_TESTUTIL_H */
