/*
 * check_stack.c - goroutine stacks: deep recursion fits (the seed's
 * 10,000 frames of 1 KiB), running off the end is Go's "fatal error:
 * stack overflow" naming the goroutine (not a bare SIGSEGV),
 * GRT_STACK_SIZE is honoured, grt_read_memstats reports stack memory and
 * counts the objects made for the program (goroutines, channels, timers,
 * contexts: mallocs, frees, total_alloc), and 20,000 parked goroutines
 * cost little and all exit.
 *
 * The recursive functions are out of line and keep a volatile 1 KiB array
 * that they fill and read back, so the compiler can neither fold the
 * recursion nor shrink the frames.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <grt.h>

#include "testutil.h"

#define FRAME 1024

/* Each frame holds d % 100 in all FRAME bytes; returns 2 * sum(d % 100). */
TU_NOINLINE static long recurse(int depth)
{
    volatile char buf[FRAME];
    for (int i = 0; i < FRAME; i++)
        buf[i] = (char)(depth % 100);
    if (depth == 0)
        return 0;
    long below = recurse(depth - 1);
    return below + buf[0] + buf[FRAME - 1];
}

static long expected(int depth)
{
    long s = 0;
    for (int d = 1; d <= depth; d++)
        s += 2 * (d % 100);
    return s;
}

struct rec_arg {
    int depth;
    grt_chan *out;
};

static void rec_goroutine(void *arg)
{
    struct rec_arg *a = arg;
    long r = recurse(a->depth);
    grt_chan_send(a->out, &r);
}

static const int depths[] = {100, 1000, 10000};

START_TEST(t_recursion)
{
    struct rec_arg a = {depths[_i], grt_chan_make(sizeof(long), 0)};
    grt_go(rec_goroutine, &a);
    long r = -1;
    ck_assert(grt_chan_recv(a.out, &r));
    ck_assert_int_eq(r, expected(a.depth));
    tu_wait_goroutines(1);
    grt_chan_free(a.out);
}
END_TEST

/* Several goroutines recursing deeply at once, on every processor. */
START_TEST(t_recursion_parallel)
{
    grt_chan *out = grt_chan_make(sizeof(long), 0);
    struct rec_arg a[8];
    for (int i = 0; i < 8; i++) {
        a[i] = (struct rec_arg){3000 + 1000 * i, out};
        grt_go(rec_goroutine, &a[i]);
    }
    long got = 0, want = 0;
    for (int i = 0; i < 8; i++) {
        long r;
        ck_assert(grt_chan_recv(out, &r));
        got += r;
        want += expected(a[i].depth);
    }
    ck_assert_int_eq(got, want);
    tu_wait_goroutines(1);
    grt_chan_free(out);
}
END_TEST

/* ------------------------------------------------------------------ */
/* overflow                                                            */
/* ------------------------------------------------------------------ */

static volatile long never = -1;

TU_NOINLINE static long forever(long n)
{
    volatile char buf[FRAME];
    buf[0] = (char)n;
    buf[FRAME - 1] = (char)n;
    if (n == never)
        return 0;
    return forever(n + 1) + buf[0] + buf[FRAME - 1];
}

static void overflow_goroutine(void *arg)
{
    int depth = (int)(intptr_t)arg;
    fprintf(stderr, "goid=%lld\n", (long long)grt_self());
    if (depth)
        recurse(depth);
    else
        forever(0);
    fprintf(stderr, "survived\n");
}

static void child_overflow(void)
{
    grt_go(overflow_goroutine, (void *)(intptr_t)0);
    grt_chan_recv(grt_chan_make(0, 0), NULL);
}

/* GRT_STACK_SIZE=1 MiB: the 10,000 frames of 1 KiB no longer fit. */
static void child_small_stack_overflow(void)
{
    setenv("GRT_STACK_SIZE", "1048576", 1);
    grt_go(overflow_goroutine, (void *)(intptr_t)10000);
    grt_chan_recv(grt_chan_make(0, 0), NULL);
}

/* ... while 100 frames still do. */
static void child_small_stack_fits(void)
{
    setenv("GRT_STACK_SIZE", "1048576", 1);
    struct rec_arg a = {100, grt_chan_make(sizeof(long), 0)};
    grt_go(rec_goroutine, &a);
    long r = -1;
    grt_chan_recv(a.out, &r);
    if (r != expected(100))
        grt_exit(1);
}

static void check_overflow_report(const char *err)
{
    const char *g = strstr(err, "goid=");
    ck_assert_msg(g != NULL, "no goid line; stderr:\n" TU_ERR, err);
    long long id = atoll(g + 5);
    ck_assert_int_gt(id, 1);
    ck_assert_msg(strstr(err, "fatal error: stack overflow") != NULL,
                  "stderr:\n" TU_ERR, err);
    char hdr[64];
    snprintf(hdr, sizeof hdr, "goroutine %lld [", id);
    ck_assert_msg(strstr(err, hdr) != NULL, "no \"%s\"; stderr:\n" TU_ERR,
                  hdr, err);
    ck_assert_msg(strstr(err, "survived") == NULL, "stderr:\n" TU_ERR, err);
}

START_TEST(t_overflow)
{
    char err[8192];
    int st;
    tu_child(child_overflow, err, sizeof err, &st);
    tu_assert_child(st, err, 2, NULL);
    check_overflow_report(err);
}
END_TEST

START_TEST(t_overflow_stack_size_env)
{
    char err[8192];
    int st;
    tu_child(child_small_stack_overflow, err, sizeof err, &st);
    tu_assert_child(st, err, 2, NULL);
    check_overflow_report(err);
    /* the limit named is the one set, as Go names its maximum */
    ck_assert_msg(strstr(err, "runtime: goroutine stack exceeds 1048576-byte "
                              "limit\n") != NULL,
                  "stderr:\n" TU_ERR, err);
    tu_child(child_small_stack_fits, err, sizeof err, &st);
    tu_assert_child(st, err, 0, NULL);
}
END_TEST

/* ------------------------------------------------------------------ */
/* memstats                                                            */
/* ------------------------------------------------------------------ */

static grt_wg ms_wg;

static void parked(void *arg)
{
    tu_check(!grt_chan_recv(arg, NULL));
    grt_wg_done(&ms_wg);
}

START_TEST(t_memstats)
{
    grt_chan *c = grt_chan_make(0, 0);
    grt_wg_add(&ms_wg, 100);
    for (int i = 0; i < 100; i++)
        grt_go(parked, c);
    for (int i = 0; i < 100; i++)
        grt_yield();
    grt_memstats ms;
    grt_read_memstats(&ms);
    ck_assert_uint_gt(ms.stack_inuse, 0);
    ck_assert_uint_ge(ms.stack_sys, ms.stack_inuse);
    ck_assert_uint_ge(ms.stack_sys, 100u * 64 * 1024);
    ck_assert_uint_eq(ms.num_goroutine, 101);
    ck_assert_int_eq(grt_num_goroutine(), 101);
    ck_assert_uint_ge(ms.goroutines_created, 100);
    ck_assert_uint_eq(ms.goroutines_created - ms.goroutines_exited, 101);
    ck_assert_uint_ge(ms.num_thread, 1);
    ck_assert_uint_eq(ms.maxprocs, (uint64_t)grt_maxprocs(0));
    ck_assert_uint_ge(ms.sys, ms.stack_sys);
    grt_chan_close(c);
    grt_wg_wait(&ms_wg);
    tu_wait_goroutines(1);
    grt_read_memstats(&ms);
    ck_assert_uint_eq(ms.num_goroutine, 1);
    grt_chan_free(c);
}
END_TEST

/* The mapping of /proc/self/maps that holds addr, [*lo, *hi), and the
 * free room below and above it. */
static void mapping_of(const void *addr, uintptr_t *lo, uintptr_t *hi,
                       uintptr_t *room_below, uintptr_t *room_above)
{
    FILE *f = fopen("/proc/self/maps", "r");
    ck_assert_ptr_nonnull(f);
    char line[512];
    unsigned long prev_end = 0, a, b;
    bool found = false;
    *room_above = 0;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "%lx-%lx", &a, &b) != 2)
            continue;
        if (found) {
            *room_above = a - *hi;
            break;
        }
        if ((uintptr_t)addr >= a && (uintptr_t)addr < b) {
            *lo = a;
            *hi = b;
            *room_below = a - prev_end;
            found = true;
        }
        prev_end = b;
    }
    fclose(f);
    ck_assert_msg(found, "%p is in no mapping", addr);
}

static void send_stack_addr(void *arg)
{
    volatile char here = 0;
    const volatile char *p = &here;
    grt_chan_send(arg, &p);
    grt_chan_recv(arg, NULL); /* parked until the test closes arg */
}

/* The kernel merges a stack arena with an adjacent mapping of the same
 * flags (one was the agent's G index, and the arena's start was then no
 * mapping's start: stack_inuse read 0).  Make such a neighbour on
 * purpose, touch all of it, and stack_inuse must count neither more nor
 * less than before. */
#define NEIGHBOUR (1024 * 1024)
START_TEST(t_memstats_merged_arena)
{
    grt_chan *c = grt_chan_make(sizeof(char *), 0);
    grt_go(send_stack_addr, c);
    const char *stack;
    ck_assert(grt_chan_recv(c, &stack));
    grt_memstats before, after;
    grt_read_memstats(&before);
    ck_assert_uint_gt(before.stack_inuse, 0);

    uintptr_t lo, hi, below, above;
    mapping_of(stack, &lo, &hi, &below, &above);
    size_t size = below > above ? below : above;
    if (size > NEIGHBOUR)
        size = NEIGHBOUR;
    if (size < 64 * 1024) {
        fprintf(stderr, "note: no room beside the arena; not checked\n");
    } else {
        char *at = below > above ? (char *)lo - size : (char *)hi;
        char *n = mmap(at, size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
                           MAP_FIXED_NOREPLACE,
                       -1, 0);
        ck_assert_msg(n == at, "mmap beside the arena: %s", strerror(errno));
        memset(n, 1, size);
        uintptr_t mlo, mhi;
        mapping_of(stack, &mlo, &mhi, &below, &above);
        if (mlo == lo && mhi == hi)
            fprintf(stderr, "note: the kernel did not merge the neighbour\n");
        grt_read_memstats(&after);
        ck_assert_uint_gt(after.stack_inuse, 0);
        uint64_t diff = after.stack_inuse > before.stack_inuse
                            ? after.stack_inuse - before.stack_inuse
                            : before.stack_inuse - after.stack_inuse;
        ck_assert_msg(diff < size / 2,
                      "stack_inuse %llu before a %zu-byte neighbour, %llu "
                      "after",
                      (unsigned long long)before.stack_inuse, size,
                      (unsigned long long)after.stack_inuse);
        munmap(n, size);
    }
    grt_chan_close(c);
    tu_wait_goroutines(1);
    grt_chan_free(c);
}
END_TEST

#define NOBJ 200
#define HOUR (3600LL * 1000000000LL)

static void noop_done(void *arg)
{
    grt_wg_done(arg);
}

/* grt.h's definition of mallocs, frees and total_alloc, step by step;
 * nothing else runs, so at the end every object made has been freed. */
START_TEST(t_memstats_objects)
{
    tu_wait_goroutines(1);
    grt_memstats m0, m1, m2, m3, m4, m5;
    grt_read_memstats(&m0);
    ck_assert_uint_ge(m0.mallocs, 1); /* the main goroutine */
    ck_assert_uint_le(m0.frees, m0.mallocs);
    ck_assert_uint_ge(m0.total_alloc, 1);

    /* channels: one object each, the buffer's bytes included */
    grt_chan *cs[NOBJ];
    for (int i = 0; i < NOBJ; i++)
        cs[i] = grt_chan_make(sizeof(int64_t), i % 2 ? 16 : 0);
    grt_read_memstats(&m1);
    ck_assert_uint_ge(m1.mallocs, m0.mallocs + NOBJ);
    ck_assert_uint_ge(m1.total_alloc,
                      m0.total_alloc + NOBJ + NOBJ / 2 * 16 * sizeof(int64_t));
    ck_assert_uint_ge(m1.frees, m0.frees);
    for (int i = 0; i < NOBJ; i++)
        grt_chan_free(cs[i]);
    grt_read_memstats(&m2);
    ck_assert_uint_ge(m2.frees, m1.frees + NOBJ);
    ck_assert_uint_ge(m2.mallocs, m1.mallocs);
    ck_assert_uint_ge(m2.total_alloc, m1.total_alloc);

    /* goroutines: made when spawned, freed when they exit */
    grt_wg wg = GRT_WG_INIT;
    for (int i = 0; i < NOBJ; i++) {
        grt_wg_add(&wg, 1);
        grt_go(noop_done, &wg);
        if (i % 2)
            grt_wg_wait(&wg); /* half one at a time, reusing descriptors */
    }
    grt_wg_wait(&wg);
    tu_wait_goroutines(1);
    grt_read_memstats(&m3);
    ck_assert_uint_ge(m3.mallocs, m2.mallocs + NOBJ);
    ck_assert_uint_ge(m3.frees, m2.frees + NOBJ);
    ck_assert_uint_ge(m3.total_alloc, m2.total_alloc + NOBJ);

    /* a timer, a ticker, grt_after and two contexts: each one object plus
     * its channel */
    grt_timer *tm = grt_timer_make(HOUR);
    grt_ticker *tk = grt_ticker_make(HOUR);
    grt_chan *after = grt_after(HOUR);
    grt_ctx *cc = grt_ctx_with_cancel(NULL);
    grt_ctx *ct = grt_ctx_with_timeout(cc, HOUR);
    grt_read_memstats(&m4);
    ck_assert_uint_ge(m4.mallocs, m3.mallocs + 10);
    ck_assert_uint_gt(m4.total_alloc, m3.total_alloc);
    grt_ctx_free(ct);
    grt_ctx_free(cc);
    grt_chan_free(after);
    grt_ticker_free(tk);
    grt_timer_free(tm);
    grt_read_memstats(&m5);
    ck_assert_uint_ge(m5.frees, m4.frees + 10);

    /* every object made since m0 was freed, and counted once */
    ck_assert_uint_eq(m5.mallocs - m5.frees, m0.mallocs - m0.frees);
}
END_TEST

/* ------------------------------------------------------------------ */
/* many-parked                                                         */
/* ------------------------------------------------------------------ */

#define NPARKED 20000
#define PARKED_BUDGET (32 * 1024) /* stack bytes per parked goroutine */

START_TEST(t_many_parked)
{
    grt_memstats before, during, after;
    grt_read_memstats(&before);
    grt_chan *c = grt_chan_make(0, 0);
    grt_wg_add(&ms_wg, NPARKED);
    for (int i = 0; i < NPARKED; i++)
        grt_go(parked, c);
    while (grt_num_goroutine() != NPARKED + 1)
        grt_yield();
    for (int i = 0; i < 100; i++)
        grt_yield();
    grt_read_memstats(&during);
    ck_assert_uint_eq(during.num_goroutine, NPARKED + 1);
    ck_assert_uint_ge(during.stack_sys, during.stack_inuse);
    uint64_t grown = during.stack_inuse > before.stack_inuse
                         ? during.stack_inuse - before.stack_inuse
                         : 0;
    ck_assert_msg(grown <= (uint64_t)NPARKED * PARKED_BUDGET,
                  "stack_inuse grew by %llu bytes for %d parked goroutines",
                  (unsigned long long)grown, NPARKED);
    grt_chan_close(c);
    grt_wg_wait(&ms_wg);
    tu_wait_goroutines(1);
    grt_read_memstats(&after);
    ck_assert_uint_eq(after.num_goroutine, 1);
    ck_assert_uint_ge(after.goroutines_exited,
                      before.goroutines_exited + NPARKED);
    grt_chan_free(c);
}
END_TEST

/* ------------------------------------------------------------------ */
/* trim: a deep stack gives its pages back once its G spills from the */
/* P's cache of free Gs to the global list (runtime/proc.c, gfput)     */
/* ------------------------------------------------------------------ */

#define TRIM_DEPTH 2000 /* frames of FRAME bytes: 2 MB deep */
#define TRIM_OTHERS 200 /* goroutines that end after it: they push its
                           G out of the P's cache of 64 */

static volatile uintptr_t deep_addr; /* the deepest frame's address */

TU_NOINLINE static void deep(int depth)
{
    volatile char buf[FRAME];
    for (int i = 0; i < FRAME; i++)
        buf[i] = 0x5a; /* what trim's probe finds (a memset through a
                          cast was dropped by clang: buf is never read) */
    if (depth == 0)
        deep_addr = (uintptr_t)buf;
    else
        deep(depth - 1);
    buf[1] = 0x5b;
}

static void deep_goroutine(void *arg)
{
    deep(TRIM_DEPTH);
    grt_wg_done(arg);
}

static void blocked_done(void *arg)
{
    grt_chan_recv(arg, NULL);
    grt_wg_done(&ms_wg);
}

static bool resident(uintptr_t addr)
{
    uintptr_t ps = (uintptr_t)sysconf(_SC_PAGESIZE);
    unsigned char v = 0;
    ck_assert_int_eq(mincore((void *)(addr & ~(ps - 1)), ps, &v), 0);
    return v & 1;
}

START_TEST(t_trim)
{
    int procs = grt_maxprocs(1); /* every G freed on one P */
    grt_chan *c = grt_chan_make(0, 0);
    grt_wg_add(&ms_wg, TRIM_OTHERS);
    for (int i = 0; i < TRIM_OTHERS; i++)
        grt_go(blocked_done, c);
    grt_wg wg = GRT_WG_INIT;
    grt_wg_add(&wg, 1);
    grt_go(deep_goroutine, &wg);
    grt_wg_wait(&wg);
    ck_assert(deep_addr != 0);
    ck_assert_msg(resident(deep_addr), "the deep frame was never resident");
    grt_chan_close(c); /* the others end: the deep G spills globally */
    grt_wg_wait(&ms_wg);
    tu_wait_goroutines(1);
    /* trimmed as it spilled; the wait leaves room for a later trim */
    for (int i = 0; i < 500 && resident(deep_addr); i++)
        grt_sleep(10 * 1000 * 1000);
    ck_assert_msg(!resident(deep_addr),
                  "a freed goroutine's stack kept its deep pages for 5 s");
    grt_chan_free(c);
    grt_maxprocs(procs);
}
END_TEST

static Suite *stack_suite(void)
{
    Suite *s = suite_create("stack");
    TCase *tc;

    tc = tcase_create("recursion");
    tcase_add_loop_test(tc, t_recursion, 0,
                        (int)(sizeof depths / sizeof depths[0]));
    tcase_add_test(tc, t_recursion_parallel);
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);

    tc = tcase_create("overflow");
#ifndef GRT_TSAN
    /* ThreadSanitizer's signal wrapper does not run our SIGSEGV handler on
     * the alternate stack: an overflow kills the process silently there */
    tcase_add_test(tc, t_overflow);
    tcase_add_test(tc, t_overflow_stack_size_env);
#endif
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);

    tc = tcase_create("memstats");
    tcase_add_test(tc, t_memstats);
    tcase_add_test(tc, t_memstats_objects);
    tcase_add_test(tc, t_memstats_merged_arena);
    suite_add_tcase(s, tc);

    tc = tcase_create("trim");
    tcase_add_test(tc, t_trim);
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);

    tc = tcase_create("many-parked");
    tcase_add_test(tc, t_many_parked);
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);

    return s;
}

int main(void)
{
    return tu_run_suite(stack_suite());
}
