/*
 * check_traceback.c - the runtime's own dumps: grt_stack and grt_dump
 * (Go's header line with the wait reason, frames with the real function
 * names and file:line, "created by" lines, hidden runtime frames, the
 * 100-frame limit, truncation), and how the process dies: panics and
 * fatal errors under each GRT_TRACEBACK level, Go's crash report for
 * SIGSEGV, SIGFPE and SIGILL in user code, SIGQUIT's dump of every
 * goroutine, all with exit status 2, and the application's own handlers
 * still called when it installed them first.
 *
 * The functions whose names the tests look for are global and never
 * inlined, and the program is linked with -rdynamic, so that they are
 * named with or without libdw; file:line is asserted only with libdw
 * (HAVE_LIBDW), frames only with libunwind.  A blocking call is never
 * the last thing such a function does, or the compiler could make it a
 * tail call and its frame would vanish.
 */
#include "config.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <grt.h>

#include "testutil.h"

#define BUF (64 * 1024)

/* Static functions (Check's tests, the children) are named only with
 * libdw; the tb_ functions below are global and named either way. */
#if defined(HAVE_LIBUNWIND) && defined(HAVE_LIBDW)
#define NAMES_STATIC 1
#endif

/* A goroutine running on another thread is caught there by SIGURG (the
 * preemption handler: x86-64, not ThreadSanitizer), unwound with
 * libunwind; elsewhere it is listed without frames. */
#if defined(HAVE_LIBUNWIND) && defined(__x86_64__) && !defined(GRT_TSAN)
#define CATCHES 1
#endif

static int sink_; /* defeats tail calls: written after blocking calls */
#define SINK(v) __atomic_store_n(&sink_, (v), __ATOMIC_RELAXED)

void tb_recv_worker(void *arg);
void tb_send_worker(void *arg);
void tb_select_worker(void *arg);
void tb_sleep_worker(void *arg);
void tb_mutex_worker(void *arg);
void tb_wg_worker(void *arg);
void tb_cond_worker(void *arg);
void tb_nested_inner(void *arg);
void tb_nested_outer(void *arg);
void tb_never_run(void *arg);
void tb_locked_worker(void *arg);
int tb_deep(int n);
void tb_deep_worker(void *arg);
void tb_parked(void *arg);
void tb_panicker(void);
void tb_closer(void *arg);
void tb_crash_nil(void);
void tb_crash_fault(void);
int tb_crash_div(int a, int b);
void tb_crash_ill(void);
void tb_small_stack(void *arg);
void tb_spin(void *arg);
void tb_syscall_spin(void *arg);

/* Assert that hay contains needle, printing hay otherwise. */
#define assert_has(hay, needle)                                           \
    ck_assert_msg(strstr((hay), (needle)) != NULL,                        \
                  "no \"%s\" in:\n" TU_ERR, (needle), (hay))
#define assert_lacks(hay, needle)                                         \
    ck_assert_msg(strstr((hay), (needle)) == NULL,                        \
                  "unexpected \"%s\" in:\n" TU_ERR, (needle), (hay))

/* How often needle occurs in hay.  Goroutine ids other than the first
 * come from per-P batches (a goroutine made after main moved to another
 * P is not main's id + 2), so tests count headers rather than name ids. */
static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}
#define assert_count_ge(hay, needle, min)                                 \
    ck_assert_msg(count_of((hay), (needle)) >= (min),                     \
                  "fewer than %d \"%s\" in:\n" TU_ERR, (min), (needle),  \
                  (hay))

/* The block of goroutine id in a dump (from its header to the blank line
 * after it), copied into out; false when it is not there. */
static bool block_of(const char *dump, int64_t id, char *out, size_t len)
{
    char hdr[48];
    snprintf(hdr, sizeof hdr, "goroutine %lld [", (long long)id);
    const char *p = dump;
    while ((p = strstr(p, hdr)) && p != dump && p[-1] != '\n')
        p++;
    if (!p)
        return false;
    const char *e = strstr(p, "\n\n");
    size_t n = e ? (size_t)(e - p) + 1 : strlen(p);
    if (n >= len)
        n = len - 1;
    memcpy(out, p, n);
    out[n] = 0;
    return true;
}

/* ------------------------------------------------------------------ */
/* goroutines in known states                                         */
/* ------------------------------------------------------------------ */

/* The line of the blocking call, on that line (goroutines write it while
 * main may read it: relaxed atomics). */
#define MARK(var) __atomic_store_n(&(var), __LINE__, __ATOMIC_RELAXED)

static int recv_line, send_line, select_line, sleep_line, mutex_line,
    wg_line, cond_line;
static grt_chan *never;     /* nobody sends on it */
static grt_chan *never_rx;  /* nobody receives from it */
static grt_mutex held = GRT_MUTEX_INIT;
static grt_wg wg_forever = GRT_WG_INIT;
static grt_mutex cond_mu = GRT_MUTEX_INIT;
static grt_cond cond = GRT_COND_INIT;

TU_NOINLINE void tb_recv_worker(void *arg)
{
    (void)arg;
    MARK(recv_line); grt_chan_recv(never, NULL);
    SINK(1);
}

TU_NOINLINE void tb_send_worker(void *arg)
{
    (void)arg;
    MARK(send_line); grt_chan_send(never_rx, &(int){1});
    SINK(1);
}

TU_NOINLINE void tb_select_worker(void *arg)
{
    (void)arg;
    grt_case cs[2] = {{never, GRT_RECV, NULL, false},
                      {NULL, GRT_SEND, &(int){2}, false}};
    MARK(select_line); grt_select(cs, 2, false);
    SINK(1);
}

TU_NOINLINE void tb_sleep_worker(void *arg)
{
    (void)arg;
    MARK(sleep_line); grt_sleep(3600LL * 1000000000LL);
    SINK(1);
}

TU_NOINLINE void tb_mutex_worker(void *arg)
{
    (void)arg;
    MARK(mutex_line); grt_mutex_lock(&held);
    SINK(1);
}

TU_NOINLINE void tb_wg_worker(void *arg)
{
    (void)arg;
    MARK(wg_line); grt_wg_wait(&wg_forever);
    SINK(1);
}

TU_NOINLINE void tb_cond_worker(void *arg)
{
    (void)arg;
    grt_mutex_lock(&cond_mu);
    MARK(cond_line); grt_cond_wait(&cond, &cond_mu);
    SINK(1);
}

/* A goroutine that starts another: the inner one is created by it. */
TU_NOINLINE void tb_nested_inner(void *arg)
{
    (void)arg;
    grt_chan_recv(never, NULL);
    SINK(1);
}

static int nested_go_line;
static int64_t nested_inner_id;

TU_NOINLINE void tb_nested_outer(void *arg)
{
    (void)arg;
    int64_t id;
    nested_go_line = __LINE__; id = grt_go(tb_nested_inner, NULL);
    __atomic_store_n(&nested_inner_id, id, __ATOMIC_RELEASE);
    grt_chan_recv(never, NULL);
    SINK(1);
}

struct started {
    const char *reason;
    int64_t id;
    const char *fn;
    int *line;
    int go_line;
};

static int go_lines[8];

/* Start one goroutine per state; wait until every one is parked. */
static void start_states(struct started *s)
{
    never = grt_chan_make(sizeof(int), 0);
    never_rx = grt_chan_make(sizeof(int), 0);
    grt_mutex_lock(&held);
    grt_wg_add(&wg_forever, 1);
    go_lines[0] = __LINE__; s[0].id = grt_go(tb_recv_worker, NULL);
    go_lines[1] = __LINE__; s[1].id = grt_go(tb_send_worker, NULL);
    go_lines[2] = __LINE__; s[2].id = grt_go(tb_select_worker, NULL);
    go_lines[3] = __LINE__; s[3].id = grt_go(tb_sleep_worker, NULL);
    go_lines[4] = __LINE__; s[4].id = grt_go(tb_mutex_worker, NULL);
    go_lines[5] = __LINE__; s[5].id = grt_go(tb_wg_worker, NULL);
    go_lines[6] = __LINE__; s[6].id = grt_go(tb_cond_worker, NULL);
    go_lines[7] = __LINE__; s[7].id = grt_go(tb_nested_outer, NULL);
    const char *reasons[] = {"chan receive", "chan send", "select", "sleep",
                             "sync.Mutex.Lock", "sync.WaitGroup.Wait",
                             "sync.Cond.Wait", "chan receive"};
    const char *fns[] = {"tb_recv_worker", "tb_send_worker",
                         "tb_select_worker", "tb_sleep_worker",
                         "tb_mutex_worker", "tb_wg_worker", "tb_cond_worker",
                         "tb_nested_outer"};
    int *lines[] = {&recv_line,  &send_line, &select_line, &sleep_line,
                    &mutex_line, &wg_line,   &cond_line,   NULL};
    for (int i = 0; i < 8; i++) {
        s[i].reason = reasons[i];
        s[i].fn = fns[i];
        s[i].line = lines[i];
        s[i].go_line = go_lines[i];
    }
    /* parked: every header shows its wait reason */
    static char buf[BUF];
    for (int tries = 0; tries < 5000; tries++) {
        grt_stack(buf, sizeof buf, true);
        bool all = __atomic_load_n(&nested_inner_id, __ATOMIC_ACQUIRE) != 0;
        char blk[4096];
        for (int i = 0; i < 8 && all; i++) {
            char hdr[96];
            snprintf(hdr, sizeof hdr, "goroutine %lld [%s]:",
                     (long long)s[i].id, s[i].reason);
            all = block_of(buf, s[i].id, blk, sizeof blk) &&
                  strncmp(blk, hdr, strlen(hdr)) == 0 &&
                  strstr(blk, "(...)") != NULL;
        }
        if (all)
            return;
        grt_sleep(1000000);
    }
}

TU_NOINLINE static size_t stack_probe(char *buf, size_t len)
{
    size_t n = grt_stack(buf, len, false);
    SINK(1);
    return n;
}

START_TEST(t_stack_self)
{
    static char buf[BUF];
    int line = __LINE__; size_t n = stack_probe(buf, sizeof buf);
    ck_assert_uint_eq(n, strlen(buf));
    ck_assert_msg(strncmp(buf, "goroutine 1 [running]:\n", 23) == 0,
                  TU_ERR, buf);
#ifdef NAMES_STATIC
    char want[512];
    assert_has(buf, "\nt_stack_self_fn(...)\n\t");
    assert_lacks(buf, "grt_stack");
    assert_lacks(buf, "__libc_start");
    snprintf(want, sizeof want, "check_traceback.c:%d +0x", line);
    assert_has(buf, want);
#endif
    (void)line;
    /* only the caller */
    ck_assert_ptr_null(strstr(buf + 1, "goroutine "));
    ck_assert_int_eq(buf[n - 1], '\n');
    ck_assert_int_eq(buf[n - 2], '\n');
}
END_TEST

START_TEST(t_stack_all)
{
    struct started s[8];
    start_states(s);
    static char buf[BUF];
    size_t n = grt_stack(buf, sizeof buf, true);
    ck_assert_uint_gt(n, 0);
    ck_assert_msg(strncmp(buf, "goroutine 1 [running]:\n", 23) == 0,
                  TU_ERR, buf);
    char blk[4096], want[512];
    for (int i = 0; i < 8; i++) {
        ck_assert_msg(block_of(buf, s[i].id, blk, sizeof blk),
                      "no goroutine %lld in:\n" TU_ERR, (long long)s[i].id,
                      buf);
        snprintf(want, sizeof want, "goroutine %lld [%s]:\n",
                 (long long)s[i].id, s[i].reason);
        ck_assert_msg(strncmp(blk, want, strlen(want)) == 0,
                      "want \"%s\" in:\n" TU_ERR, want, blk);
        snprintf(want, sizeof want,
                 "created by start_states in goroutine 1\n\t%s:%d\n",
                 __FILE__, s[i].go_line);
        assert_has(blk, want);
#ifdef HAVE_LIBUNWIND
        /* the first frame is the worker: grt's own frames are hidden */
        snprintf(want, sizeof want, "]:\n%s(...)\n\t", s[i].fn);
        assert_has(blk, want);
        assert_lacks(blk, "grt_");
#ifdef HAVE_LIBDW
        if (s[i].line) {
            snprintf(want, sizeof want, "check_traceback.c:%d +0x",
                     __atomic_load_n(s[i].line, __ATOMIC_RELAXED));
            assert_has(blk, want);
        }
#endif
#endif
    }
    /* created by a goroutine other than main */
    ck_assert_msg(block_of(buf, nested_inner_id, blk, sizeof blk), TU_ERR,
                  buf);
    snprintf(want, sizeof want,
             "created by tb_nested_outer in goroutine %lld\n\t%s:%d\n",
             (long long)s[7].id, __FILE__, nested_go_line);
    assert_has(blk, want);
    /* goroutines in id order after the caller */
    const char *p = buf;
    long long prev = 0;
    int count = 0;
    while ((p = strstr(p, "\ngoroutine "))) {
        long long id = atoll(p + 11);
        ck_assert_int_gt(id, prev);
        prev = id;
        p++;
        count++;
    }
    ck_assert_int_eq(count, 9);
}
END_TEST

START_TEST(t_stack_truncated)
{
    struct started s[8];
    start_states(s);
    static char full[BUF], cut[BUF];
    char *bufs[2] = {full, cut};
    size_t lens[2] = {sizeof full, 100}, got[2];
    memset(cut, 'x', sizeof cut);
    /* one call site (volatile: not unrolled), so the same first frame */
    for (volatile int i = 0; i < 2; i++)
        got[i] = grt_stack(bufs[i], lens[i], true);
    ck_assert_uint_gt(got[0], 100);
    ck_assert_uint_eq(got[1], 100);
    ck_assert_int_eq(memcmp(cut, full, 100), 0);
    ck_assert_int_eq(cut[100], 'x'); /* nothing past len */
    ck_assert_uint_eq(grt_stack(cut, 0, true), 0);
    ck_assert_uint_eq(grt_stack(NULL, 0, false), 0);
}
END_TEST

START_TEST(t_dump_file)
{
    struct started s[8];
    start_states(s);
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    grt_dump(f);
    static char buf[BUF];
    rewind(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    ck_assert_msg(strncmp(buf, "goroutine 1 [running]:\n", 23) == 0,
                  TU_ERR, buf);
    char want[96];
    for (int i = 0; i < 8; i++) {
        snprintf(want, sizeof want, "\ngoroutine %lld [%s]:\n",
                 (long long)s[i].id, s[i].reason);
        assert_has(buf, want);
    }
}
END_TEST

TU_NOINLINE void tb_never_run(void *arg)
{
    (void)arg;
    SINK(1);
}

/* A goroutine that has not run yet shows its entry function (Go's).
 * Another processor may run it before we look, so a few are tried. */
START_TEST(t_not_started)
{
    grt_maxprocs(1);
    static char buf[BUF];
    char blk[1024], want[256];
    int64_t id = 0;
    int line = 0;
    bool seen = false;
    for (int i = 0; i < 100 && !seen; i++) {
        line = __LINE__; id = grt_go(tb_never_run, NULL);
        grt_stack(buf, sizeof buf, true);
        snprintf(want, sizeof want, "goroutine %lld [runnable]:\n",
                 (long long)id);
        seen = block_of(buf, id, blk, sizeof blk) &&
               strncmp(blk, want, strlen(want)) == 0;
    }
    ck_assert_msg(seen, "never caught a goroutine before its start");
#ifdef HAVE_LIBUNWIND
    assert_has(blk, "]:\ntb_never_run(...)\n\t");
#endif
    snprintf(want, sizeof want, "created by t_not_started_fn in goroutine "
             "1\n\t%s:%d\n", __FILE__, line);
    assert_has(blk, want);
    tu_wait_goroutines(1);
}
END_TEST

static grt_chan *locked_ready;

TU_NOINLINE void tb_locked_worker(void *arg)
{
    (void)arg;
    grt_lock_os_thread();
    grt_chan_send(locked_ready, NULL);
    grt_chan_recv(never, NULL);
    SINK(1);
}

START_TEST(t_locked)
{
    never = grt_chan_make(0, 0);
    locked_ready = grt_chan_make(0, 0);
    int64_t id = grt_go(tb_locked_worker, NULL);
    grt_chan_recv(locked_ready, NULL);
    static char buf[BUF];
    char blk[1024], want[96];
    snprintf(want, sizeof want, "goroutine %lld [chan receive, locked to "
             "thread]:\n", (long long)id);
    for (int tries = 0; tries < 5000; tries++) {
        grt_stack(buf, sizeof buf, true);
        if (block_of(buf, id, blk, sizeof blk) &&
            strncmp(blk, want, strlen(want)) == 0)
            break;
        grt_sleep(1000000);
    }
    ck_assert_msg(strncmp(blk, want, strlen(want)) == 0, "want %s in\n"
                  TU_ERR, want, buf);
}
END_TEST

/* Deep stacks: 100 frames, then Go's "...additional frames elided...". */
TU_NOINLINE int tb_deep(int n)
{
    if (n == 0) {
        grt_chan_recv(never, NULL);
        return __atomic_load_n(&sink_, __ATOMIC_RELAXED);
    }
    return tb_deep(n - 1) + __atomic_load_n(&sink_, __ATOMIC_RELAXED);
}

TU_NOINLINE void tb_deep_worker(void *arg)
{
    (void)arg;
    SINK(tb_deep(150));
}

START_TEST(t_elided)
{
    never = grt_chan_make(0, 0);
    int64_t id = grt_go(tb_deep_worker, NULL);
    static char buf[BUF];
    char blk[BUF / 2], want[64];
    snprintf(want, sizeof want, "goroutine %lld [chan receive]:\n",
             (long long)id);
    for (int tries = 0; tries < 5000; tries++) {
        grt_stack(buf, sizeof buf, true);
        if (block_of(buf, id, blk, sizeof blk) &&
            strncmp(blk, want, strlen(want)) == 0 && strstr(blk, "(...)"))
            break;
        grt_sleep(1000000);
    }
#ifdef HAVE_LIBUNWIND
    int frames = 0;
    for (const char *p = blk; (p = strstr(p, "tb_deep(...)\n")); p++)
        frames++;
    ck_assert_int_eq(frames, 100);
    assert_has(blk, "\n...additional frames elided...\ncreated by ");
#endif
}
END_TEST

/* On a goroutine with a small stack the dump moves to a helper thread
 * (libdw needs more stack than 64 KiB leaves). */
static char small_buf[BUF];
static grt_chan *small_done;

TU_NOINLINE void tb_small_stack(void *arg)
{
    (void)arg;
    /* with two processors main may still be on its way into the
     * receive: dump again until it is parked there */
    for (int tries = 0; tries < 5000; tries++) {
        grt_stack(small_buf, sizeof small_buf, true);
        if (strstr(small_buf, "\n\ngoroutine 1 [chan receive]:\n"))
            break;
        grt_sleep(1000000);
    }
    grt_chan_send(small_done, NULL);
    SINK(1);
}

static void child_small_stack(void)
{
    setenv("GRT_STACK_SIZE", "64K", 1);
    small_done = grt_chan_make(0, 0);
    grt_go(tb_small_stack, NULL);
    grt_chan_recv(small_done, NULL);
    fputs(small_buf, stderr);
}

START_TEST(t_small_stack)
{
    static char err[BUF];
    int st;
    tu_child(child_small_stack, err, sizeof err, &st);
    tu_assert_child(st, err, 0, NULL);
    ck_assert_msg(strncmp(err, "goroutine 2 [running]:\n", 23) == 0, TU_ERR,
                  err);
#ifdef HAVE_LIBUNWIND
    assert_has(err, "goroutine 2 [running]:\ntb_small_stack(...)\n\t");
#endif
    assert_has(err, "\n\ngoroutine 1 [chan receive]:\n");
}
END_TEST

/* ------------------------------------------------------------------ */
/* goroutines running on other threads                                */
/* ------------------------------------------------------------------ */

static int spin_stop, spin_started;

/* Spins in user code (no calls) until told to stop. */
TU_NOINLINE void tb_spin(void *arg)
{
    (void)arg;
    __atomic_store_n(&spin_started, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&spin_stop, __ATOMIC_ACQUIRE))
        __asm__ volatile("" ::: "memory");
}

/* Spins inside a blocking-call region: status syscall, never signalled. */
TU_NOINLINE void tb_syscall_spin(void *arg)
{
    (void)arg;
    grt_syscall_enter();
    __atomic_store_n(&spin_started, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&spin_stop, __ATOMIC_ACQUIRE))
        __asm__ volatile("" ::: "memory");
    grt_syscall_exit();
}

/* Start fn on the second processor and wait until it spins. */
static int64_t start_spinner(void (*fn)(void *))
{
    grt_maxprocs(2);
    __atomic_store_n(&spin_stop, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&spin_started, 0, __ATOMIC_RELEASE);
    int64_t id = grt_go(fn, NULL);
    while (!__atomic_load_n(&spin_started, __ATOMIC_ACQUIRE))
        grt_sleep(1000000);
    return id;
}

/* Dump until goroutine id shows as [state] with frames; its block in
 * blk.  A catch may time out on a loaded machine, so a few are tried;
 * false when it was never shown with frames (blk: the last block). */
static bool dump_until_frames(int64_t id, const char *state, char *blk,
                              size_t len)
{
    static char buf[BUF];
    char want[64];
    snprintf(want, sizeof want, "goroutine %lld [%s]:\n", (long long)id,
             state);
    blk[0] = 0;
    for (int tries = 0; tries < 200; tries++) {
        grt_stack(buf, sizeof buf, true);
        if (block_of(buf, id, blk, len) &&
            strncmp(blk, want, strlen(want)) == 0 && strstr(blk, "(...)"))
            return true;
        grt_sleep(1000000);
    }
    return false;
}

#ifdef CATCHES
/* Frames of a caught goroutine: the spinning function alone (the
 * goroutine's entry in libgrt below it is hidden), nothing of the signal
 * handler or the signal frame above it. */
static void assert_spin_frames(const char *blk)
{
    assert_has(blk, "]:\ntb_spin(...)\n\t");
    const char *first = strstr(blk, "(...)");
    ck_assert_msg(first && !strstr(first + 1, "(...)"),
                  "more than one frame:\n" TU_ERR, blk);
    assert_has(blk, "\ncreated by ");
    assert_lacks(blk, "grt_");
    assert_lacks(blk, "__restore_rt");
    assert_lacks(blk, "no frames");
}
#endif

/* A goroutine spinning on the other processor shows its function. */
START_TEST(t_running_caught)
{
    int64_t id = start_spinner(tb_spin);
    char blk[4096];
    bool framed = dump_until_frames(id, "running", blk, sizeof blk);
    __atomic_store_n(&spin_stop, 1, __ATOMIC_RELEASE);
#ifdef CATCHES
    ck_assert_msg(framed, "never caught:\n" TU_ERR, blk);
    assert_spin_frames(blk);
#else
    /* no handler in this build: listed without frames */
    ck_assert(!framed);
    assert_has(blk, "[running]:\n\t(no frames: running on another thread)\n");
#endif
    tu_wait_goroutines(1);
}
END_TEST

/* In a child: tb_spin on the second processor, dumped until it is
 * caught (or the tries run out); its last block in blk. */
static void child_spin_dumped(char *blk, size_t len)
{
    int64_t id = start_spinner(tb_spin);
    dump_until_frames(id, "running", blk, len);
}

/* The same with preemption off: the handler still answers catches. */
static void child_running_noasync(void)
{
    setenv("GRT_ASYNCPREEMPT", "0", 1);
    char blk[4096];
    child_spin_dumped(blk, sizeof blk);
    __atomic_store_n(&spin_stop, 1, __ATOMIC_RELEASE);
    fputs(blk, stderr);
}

START_TEST(t_running_noasync)
{
    static char err[BUF];
    int st;
    tu_child(child_running_noasync, err, sizeof err, &st);
    tu_assert_child(st, err, 0, NULL);
    assert_has(err, "goroutine 2 [running]:\n"); /* the child retries */
#ifdef CATCHES
    assert_spin_frames(err);
#else
    assert_has(err, "\t(no frames: running on another thread)\n");
#endif
}
END_TEST

/* In a blocking call a goroutine is not signalled (the signal would
 * interrupt the call): listed without frames, as where catching is not
 * possible. */
START_TEST(t_syscall_no_frames)
{
    int64_t id = start_spinner(tb_syscall_spin);
    static char buf[BUF];
    char blk[4096], want[64];
    snprintf(want, sizeof want, "goroutine %lld [syscall]:\n",
             (long long)id);
    bool seen = false;
    for (int tries = 0; tries < 5000 && !seen; tries++) {
        grt_stack(buf, sizeof buf, true);
        seen = block_of(buf, id, blk, sizeof blk) &&
               strncmp(blk, want, strlen(want)) == 0;
        if (!seen)
            grt_sleep(1000000);
    }
    __atomic_store_n(&spin_stop, 1, __ATOMIC_RELEASE);
    ck_assert_msg(seen, "want %s in:\n" TU_ERR, want, buf);
    assert_has(blk, "]:\n\t(no frames: running on another thread)\n");
    assert_lacks(blk, "tb_syscall_spin");
    tu_wait_goroutines(1);
}
END_TEST

/* A panic's GRT_TRACEBACK=all dump catches the goroutine running on the
 * other processor too. */
static void child_panic_running(void)
{
    setenv("GRT_TRACEBACK", "all", 1);
    char blk[4096];
    child_spin_dumped(blk, sizeof blk);
    tb_panicker();
    SINK(2);
}

/* Run child (which dies with status 2 and first line first) until
 * goroutine 2, spinning, is shown with frames, at most 3 times: a dying
 * program catches once, and a catch may time out on a loaded machine.
 * Its block in blk. */
static void child_until_caught(void (*child)(void), const char *first,
                               char *blk, size_t len)
{
    static char err[BUF];
    for (int run = 0; run < 3; run++) {
        int st;
        tu_child(child, err, sizeof err, &st);
        tu_assert_child(st, err, 2, first);
        ck_assert_msg(block_of(err, 2, blk, len), TU_ERR, err);
        assert_has(blk, "goroutine 2 [running]:\n");
        assert_lacks(err, "survived");
        if (strstr(blk, "(...)"))
            break;
    }
}

START_TEST(t_panic_running)
{
    char blk[4096];
    child_until_caught(child_panic_running, "panic: boom 42", blk,
                       sizeof blk);
#ifdef CATCHES
    assert_spin_frames(blk);
#endif
}
END_TEST

/* ------------------------------------------------------------------ */
/* panics and fatal errors under GRT_TRACEBACK                        */
/* ------------------------------------------------------------------ */

TU_NOINLINE void tb_parked(void *arg)
{
    grt_chan_recv(arg, NULL);
    SINK(1);
}

/* Wait until goroutine id is parked in chan receive (as a dump shows). */
static void wait_parked(int64_t id)
{
    static char buf[BUF];
    char blk[1024], want[64];
    snprintf(want, sizeof want, "goroutine %lld [chan receive]:\n",
             (long long)id);
    for (int tries = 0; tries < 10000; tries++) {
        grt_stack(buf, sizeof buf, true);
        if (block_of(buf, id, blk, sizeof blk) &&
            strncmp(blk, want, strlen(want)) == 0 && strstr(blk, "(...)"))
            return;
        grt_sleep(1000000);
    }
}

TU_NOINLINE void tb_panicker(void)
{
    grt_panic("boom %d", 42);
}

static void child_panic(void)
{
    grt_chan *c = grt_chan_make(0, 0);
    wait_parked(grt_go(tb_parked, c));
    tb_panicker();
    SINK(2);
}

static void child_panic_none(void)
{
    setenv("GRT_TRACEBACK", "none", 1);
    child_panic();
}

static void child_panic_all(void)
{
    setenv("GRT_TRACEBACK", "all", 1);
    child_panic();
}

START_TEST(t_panic_single)
{
    static char err[BUF];
    int st;
    tu_child(child_panic, err, sizeof err, &st);
    tu_assert_child(st, err, 2, "panic: boom 42");
    assert_has(err, "panic: boom 42\n\ngoroutine 1 [running]:\n");
#ifdef HAVE_LIBUNWIND
    assert_has(err, "goroutine 1 [running]:\ntb_panicker(...)\n\t");
#endif
#ifdef NAMES_STATIC
    assert_has(err, "\nchild_panic(...)\n");
#endif
    assert_lacks(err, "goroutine 2");
    assert_lacks(err, "tb_parked");
}
END_TEST

START_TEST(t_panic_none)
{
    static char err[BUF];
    int st;
    tu_child(child_panic_none, err, sizeof err, &st);
    tu_assert_child(st, err, 2, "panic: boom 42");
    ck_assert_str_eq(err, "panic: boom 42\n");
}
END_TEST

START_TEST(t_panic_all)
{
    static char err[BUF];
    int st;
    tu_child(child_panic_all, err, sizeof err, &st);
    tu_assert_child(st, err, 2, "panic: boom 42");
    assert_has(err, "panic: boom 42\n\ngoroutine 1 [running]:\n");
    assert_has(err, "\n\ngoroutine 2 [chan receive]:\n");
#ifdef HAVE_LIBUNWIND
    assert_has(err, "goroutine 2 [chan receive]:\ntb_parked(...)\n");
#endif
    assert_has(err, "created by child_panic in goroutine 1\n");
}
END_TEST

/* A misuse panic in a goroutine: Go's words, that goroutine's frames. */
TU_NOINLINE void tb_closer(void *arg)
{
    (void)arg;
    grt_chan_close(NULL);
    SINK(1);
}

static void child_close_nil(void)
{
    grt_go(tb_closer, NULL);
    grt_chan_recv(grt_chan_make(0, 0), NULL);
}

START_TEST(t_panic_goroutine)
{
    static char err[BUF];
    int st;
    tu_child(child_close_nil, err, sizeof err, &st);
    tu_assert_child(st, err, 2, "panic: close of nil channel");
    assert_has(err, "\n\ngoroutine 2 [running]:\n");
#ifdef HAVE_LIBUNWIND
    assert_has(err, "goroutine 2 [running]:\ntb_closer(...)\n\t");
#endif
    assert_has(err, "created by child_close_nil in goroutine 1\n\t");
    assert_lacks(err, "goroutine 1 [");
}
END_TEST

/* A deadlock comes from the scheduler: every goroutine is shown. */
static void child_deadlock(void)
{
    grt_go(tb_parked, grt_chan_make(0, 0));
    grt_chan_recv(grt_chan_make(0, 0), NULL);
    SINK(2);
}

START_TEST(t_deadlock_all)
{
    static char err[BUF];
    int st;
    tu_child(child_deadlock, err, sizeof err, &st);
    tu_assert_child(st, err, 2,
                    "fatal error: all goroutines are asleep - deadlock!");
    assert_has(err, "\n\ngoroutine 1 [chan receive]:\n");
    assert_has(err, "\ngoroutine 2 [chan receive]:\n");
#ifdef HAVE_LIBUNWIND
    assert_has(err, "goroutine 2 [chan receive]:\ntb_parked(...)\n");
#endif
#ifdef NAMES_STATIC
    assert_has(err, "goroutine 1 [chan receive]:\nchild_deadlock(...)\n");
#endif
}
END_TEST

/* ------------------------------------------------------------------ */
/* fatal signals                                                      */
/* ------------------------------------------------------------------ */

/* Address 8: a nil-pointer field access, past UBSan's null check. */
static volatile uintptr_t nil_field = 8;

TU_NOINLINE void tb_crash_nil(void)
{
    volatile int *p = (volatile int *)nil_field;
    *p = 1;
    SINK(1);
}

static void child_segv(void)
{
    wait_parked(grt_go(tb_parked, grt_chan_make(0, 0)));
    tb_crash_nil();
    SINK(2);
}

static void child_segv_all(void)
{
    setenv("GRT_TRACEBACK", "all", 1);
    child_segv();
}

START_TEST(t_signal_segv)
{
    static char err[BUF];
    int st;
    tu_child(child_segv, err, sizeof err, &st);
    tu_assert_child(st, err, 2,
                    "panic: runtime error: invalid memory address or nil "
                    "pointer dereference");
    assert_has(err, "\n[signal SIGSEGV: segmentation violation code=0x");
    assert_has(err, " addr=0x8 pc=0x");
    assert_has(err, "]\n\ngoroutine 1 [running]:\n");
#ifdef HAVE_LIBUNWIND
    /* the faulting function is the first frame */
    assert_has(err, "goroutine 1 [running]:\ntb_crash_nil(...)\n\t");
#endif
#ifdef NAMES_STATIC
    assert_has(err, "\nchild_segv(...)\n");
#endif
    assert_lacks(err, "goroutine 2");
}
END_TEST

START_TEST(t_signal_segv_all)
{
    static char err[BUF];
    int st;
    tu_child(child_segv_all, err, sizeof err, &st);
    tu_assert_child(st, err, 2, NULL);
    assert_has(err, "]\n\ngoroutine 1 [running]:\n");
    assert_has(err, "\n\ngoroutine 2 [chan receive]:\n");
}
END_TEST

static volatile char *noaccess;

TU_NOINLINE void tb_crash_fault(void)
{
    noaccess[16] = 1;
    SINK(1);
}

static void child_fault(void)
{
    noaccess = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                    0);
    grt_self();
    tb_crash_fault();
    SINK(2);
}

START_TEST(t_signal_fault)
{
    static char err[BUF];
    int st;
    tu_child(child_fault, err, sizeof err, &st);
    tu_assert_child(st, err, 2, NULL);
    ck_assert_msg(strncmp(err, "unexpected fault address 0x", 27) == 0,
                  TU_ERR, err);
    assert_has(err, "\nfatal error: fault\n[signal SIGSEGV: segmentation "
                    "violation code=0x");
#ifdef HAVE_LIBUNWIND
    assert_has(err, "goroutine 1 [running]:\ntb_crash_fault(...)\n");
#endif
}
END_TEST

#if defined(__x86_64__)
/* Integer division by zero, in assembly: UBSan would report it first. */
TU_NOINLINE int tb_crash_div(int a, int b)
{
    int q;
    __asm__ volatile("cltd\n\tidivl %2" : "=a"(q) : "a"(a), "r"(b) : "edx");
    SINK(q);
    return q;
}

static void child_fpe(void)
{
    grt_self();
    tb_crash_div(7, 0);
}

START_TEST(t_signal_fpe)
{
    static char err[BUF];
    int st;
    tu_child(child_fpe, err, sizeof err, &st);
    tu_assert_child(st, err, 2, "panic: runtime error: integer divide by zero");
    assert_has(err, "\n[signal SIGFPE: floating-point exception code=0x1 ");
#ifdef HAVE_LIBUNWIND
    assert_has(err, "goroutine 1 [running]:\ntb_crash_div(...)\n");
#endif
}
END_TEST

TU_NOINLINE void tb_crash_ill(void)
{
    __asm__ volatile("ud2");
    SINK(1);
}

static void child_ill(void)
{
    grt_self();
    tb_crash_ill();
}

START_TEST(t_signal_ill)
{
    static char err[BUF];
    int st;
    tu_child(child_ill, err, sizeof err, &st);
    tu_assert_child(st, err, 2, "SIGILL: illegal instruction");
    assert_has(err, "\nPC=0x");
    assert_has(err, " m=0 sigcode=");
#ifdef HAVE_LIBUNWIND
    assert_has(err, "goroutine 1 [running]:\ntb_crash_ill(...)\n");
#endif
}
END_TEST
#endif

/* The application's handler, installed before the runtime, still runs. */
static void app_handler(int sig)
{
    static const char msg[] = "application handler\n";
    if (write(2, msg, sizeof msg - 1) < 0) {
    }
    _exit(sig == SIGQUIT ? 6 : 7);
}

static void child_segv_app_handler(void)
{
    signal(SIGSEGV, app_handler);
    child_segv();
}

START_TEST(t_signal_chained)
{
    static char err[BUF];
    int st;
    tu_child(child_segv_app_handler, err, sizeof err, &st);
    tu_assert_child(st, err, 7, "application handler");
}
END_TEST

/* ------------------------------------------------------------------ */
/* SIGQUIT                                                            */
/* ------------------------------------------------------------------ */

/* Sends SIGQUIT to the process (a goroutine may run on a thread of the
 * runtime's, which block SIGQUIT; the main thread takes it), once the
 * others are parked. */
static void quitter(void *arg)
{
    (void)arg;
    grt_sleep(20000000);
    kill(getpid(), SIGQUIT);
}

static void child_quit(void)
{
    wait_parked(grt_go(tb_parked, grt_chan_make(0, 0)));
    wait_parked(grt_go(tb_parked, grt_chan_make(0, 0)));
    grt_go(quitter, NULL);
    grt_sleep(5LL * 1000000000LL);
    fprintf(stderr, "survived\n");
    SINK(2);
}

/* Run child (child_quit, maybe after changing SIGQUIT's disposition) and
 * check SIGQUIT's dump of every goroutine and its exit status. */
static void assert_quit_dump(void (*child)(void))
{
    static char err[BUF];
    int st;
    tu_child(child, err, sizeof err, &st);
    tu_assert_child(st, err, 2, "SIGQUIT: quit");
    assert_has(err, "\nPC=0x");
    assert_has(err, "\n\ngoroutine 1 [sleep]:\n");
    assert_count_ge(err, " [chan receive]:\n", 2);
#ifdef HAVE_LIBUNWIND
    assert_count_ge(err, " [chan receive]:\ntb_parked(...)\n", 2);
#endif
#ifdef NAMES_STATIC
    assert_has(err, "\nchild_quit(...)\n");
#endif
    assert_lacks(err, "survived");
}

START_TEST(t_sigquit)
{
    assert_quit_dump(child_quit);
}
END_TEST

/* SIGQUIT's handler (on the main thread) catches the goroutine running
 * on the other processor. */
static void child_quit_running(void)
{
    char blk[4096];
    child_spin_dumped(blk, sizeof blk);
    grt_go(quitter, NULL);
    grt_sleep(5LL * 1000000000LL);
    fprintf(stderr, "survived\n");
    SINK(2);
}

START_TEST(t_sigquit_running)
{
    char blk[4096];
    child_until_caught(child_quit_running, "SIGQUIT: quit", blk, sizeof blk);
#ifdef CATCHES
    assert_spin_frames(blk);
#endif
}
END_TEST

static void child_quit_app_handler(void)
{
    signal(SIGQUIT, app_handler);
    child_quit();
}

START_TEST(t_sigquit_app_handler)
{
    static char err[BUF];
    int st;
    tu_child(child_quit_app_handler, err, sizeof err, &st);
    tu_assert_child(st, err, 6, "application handler");
}
END_TEST

/* An ignored SIGQUIT, as a shell's background job inherits it, is taken
 * (Go's rule: only SIGHUP's and SIGINT's SIG_IGN are respected). */
static void child_quit_ignored(void)
{
    signal(SIGQUIT, SIG_IGN);
    child_quit();
}

START_TEST(t_sigquit_ignored)
{
    assert_quit_dump(child_quit_ignored);
}
END_TEST

static Suite *traceback_suite(void)
{
    Suite *s = suite_create("traceback");
    TCase *tc = tcase_create("stack");
    tcase_add_test(tc, t_stack_self);
    tcase_add_test(tc, t_stack_all);
    tcase_add_test(tc, t_stack_truncated);
    tcase_add_test(tc, t_dump_file);
    tcase_add_test(tc, t_not_started);
    tcase_add_test(tc, t_locked);
    tcase_add_test(tc, t_elided);
    tcase_add_test(tc, t_small_stack);
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);
    tc = tcase_create("running");
    tcase_add_test(tc, t_running_caught);
    tcase_add_test(tc, t_running_noasync);
    tcase_add_test(tc, t_syscall_no_frames);
    tcase_add_test(tc, t_panic_running);
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);
    tc = tcase_create("panic");
    tcase_add_test(tc, t_panic_single);
    tcase_add_test(tc, t_panic_none);
    tcase_add_test(tc, t_panic_all);
    tcase_add_test(tc, t_panic_goroutine);
    tcase_add_test(tc, t_deadlock_all);
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);
    tc = tcase_create("signal");
#ifndef GRT_TSAN
    /* ThreadSanitizer keeps SIGSEGV, SIGBUS and SIGFPE to itself (our
     * handler never runs), and reports the crash report's allocations in
     * a signal handler (SIGILL, SIGQUIT) as errors: these run elsewhere */
    tcase_add_test(tc, t_signal_segv);
    tcase_add_test(tc, t_signal_segv_all);
    tcase_add_test(tc, t_signal_fault);
#if defined(__x86_64__)
    tcase_add_test(tc, t_signal_fpe);
    tcase_add_test(tc, t_signal_ill);
#endif
    tcase_add_test(tc, t_signal_chained);
    tcase_add_test(tc, t_sigquit);
    tcase_add_test(tc, t_sigquit_running);
    tcase_add_test(tc, t_sigquit_ignored);
#else
    (void)t_signal_segv;
    (void)t_signal_segv_all;
    (void)t_signal_fault;
#if defined(__x86_64__)
    (void)t_signal_fpe;
    (void)t_signal_ill;
#endif
    (void)t_signal_chained;
    (void)t_sigquit;
    (void)t_sigquit_running;
    (void)t_sigquit_ignored;
#endif
    tcase_add_test(tc, t_sigquit_app_handler);
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(traceback_suite());
}
