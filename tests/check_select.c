/*
 * check_select.c - grt_select: Go's select statement.
 *
 * TCases: default (-1 when nothing is ready), ready (the ready case runs;
 * ok is false after a close), random (uniform choice among ready cases: a
 * statistical check whose failure probability is below 1e-300, not a
 * timing check), blocking (parks until a peer arrives, for receive, send
 * and close), nil-cases (a NULL channel is never ready; an empty select
 * blocks forever), closed-send-panics (Go's message, exit 2) and a stress
 * run of many goroutines selecting over shared channels whose counts and
 * sums must balance exactly.
 *
 * Where a test needs a peer already parked, it sets grt_maxprocs(1) and
 * yields after spawning, as check_chan.c explains.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <grt.h>

#include "testutil.h"

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

static void yield_n(int n)
{
    for (int i = 0; i < n; i++)
        grt_yield();
}

static void wait_flag(atomic_int *flag, int want)
{
    while (atomic_load(flag) < want)
        grt_yield();
}

/* ------------------------------------------------------------------ */
/* default                                                             */
/* ------------------------------------------------------------------ */

START_TEST(t_default_nothing_ready)
{
    grt_chan *empty = grt_chan_make(sizeof(int), 0);
    grt_chan *full = grt_chan_make(sizeof(int), 1);
    grt_chan *empty_buf = grt_chan_make(sizeof(int), 4);
    grt_chan_send(full, &(int){1});
    int r1 = -5, r2 = -6, s1 = 10, s2 = 20;
    grt_case cs[] = {
        {empty, GRT_RECV, &r1, true},
        {full, GRT_SEND, &s1, true},
        {empty, GRT_SEND, &s2, true}, /* no receiver waiting */
        {empty_buf, GRT_RECV, &r2, true},
    };
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(grt_select(cs, (int)NELEMS(cs), true), -1);
    ck_assert_int_eq(r1, -5);
    ck_assert_int_eq(r2, -6);
    ck_assert_uint_eq(grt_chan_len(full), 1);
    ck_assert_uint_eq(grt_chan_len(empty_buf), 0);
    ck_assert_int_eq(grt_select(NULL, 0, true), -1);
    grt_chan_free(empty);
    grt_chan_free(full);
    grt_chan_free(empty_buf);
}
END_TEST

/* ------------------------------------------------------------------ */
/* ready                                                               */
/* ------------------------------------------------------------------ */

START_TEST(t_ready_recv)
{
    grt_chan *a = grt_chan_make(sizeof(int), 1);
    grt_chan *b = grt_chan_make(sizeof(int), 1);
    grt_chan_send(b, &(int){9});
    for (int dflt = 0; dflt < 2; dflt++) {
        int ra = -1, rb = -1;
        grt_case cs[] = {{a, GRT_RECV, &ra, false},
                         {b, GRT_RECV, &rb, false}};
        ck_assert_int_eq(grt_select(cs, 2, dflt), 1);
        ck_assert(cs[1].ok);
        ck_assert_int_eq(rb, 9);
        ck_assert_int_eq(ra, -1);
        ck_assert_uint_eq(grt_chan_len(b), 0);
        grt_chan_send(b, &(int){9});
    }
    /* A receive case may discard the value. */
    grt_case cs[] = {{b, GRT_RECV, NULL, false}};
    ck_assert_int_eq(grt_select(cs, 1, true), 0);
    ck_assert(cs[0].ok);
    ck_assert_uint_eq(grt_chan_len(b), 0);
    grt_chan_free(a);
    grt_chan_free(b);
}
END_TEST

START_TEST(t_ready_send)
{
    grt_chan *full = grt_chan_make(sizeof(int), 1);
    grt_chan *room = grt_chan_make(sizeof(int), 1);
    grt_chan_send(full, &(int){1});
    int s1 = 10, s2 = 20;
    grt_case cs[] = {{full, GRT_SEND, &s1, false},
                     {room, GRT_SEND, &s2, false}};
    ck_assert_int_eq(grt_select(cs, 2, true), 1);
    ck_assert_uint_eq(grt_chan_len(room), 1);
    ck_assert_uint_eq(grt_chan_len(full), 1);
    int v = 0;
    ck_assert(grt_chan_recv(room, &v));
    ck_assert_int_eq(v, 20);
    ck_assert(grt_chan_recv(full, &v));
    ck_assert_int_eq(v, 1);
    grt_chan_free(full);
    grt_chan_free(room);
}
END_TEST

START_TEST(t_ready_closed)
{
    grt_chan *open = grt_chan_make(sizeof(long), 0);
    grt_chan *closed = grt_chan_make(sizeof(long), 2);
    grt_chan_send(closed, &(long){3});
    grt_chan_close(closed);
    long ro = -1, rc = -1;
    grt_case cs[] = {{open, GRT_RECV, &ro, false},
                     {closed, GRT_RECV, &rc, false}};
    /* Buffered values first, ok true; then ok false and a zero value. */
    ck_assert_int_eq(grt_select(cs, 2, true), 1);
    ck_assert(cs[1].ok);
    ck_assert_int_eq(rc, 3);
    for (int dflt = 0; dflt < 2; dflt++) {
        rc = 0x5a5a;
        cs[1].ok = true;
        ck_assert_int_eq(grt_select(cs, 2, dflt), 1);
        ck_assert(!cs[1].ok);
        ck_assert_int_eq(rc, 0);
    }
    ck_assert_int_eq(ro, -1);
    grt_chan_free(open);
    grt_chan_free(closed);
}
END_TEST

static atomic_int rp_ready;

static void rp_sender(void *arg)
{
    atomic_store(&rp_ready, 1);
    grt_chan_send(arg, &(int){33});
}

static atomic_int rp_got;

static void rp_receiver(void *arg)
{
    int v = -1;
    atomic_store(&rp_ready, 1);
    tu_check(grt_chan_recv(arg, &v));
    atomic_store(&rp_got, v);
}

/* A parked peer makes an unbuffered case ready, even with a default. */
START_TEST(t_ready_parked_peer)
{
    grt_maxprocs(1);
    grt_chan *c = grt_chan_make(sizeof(int), 0);
    grt_chan *other = grt_chan_make(sizeof(int), 0);

    grt_go(rp_sender, c);
    wait_flag(&rp_ready, 1);
    yield_n(3);
    int v = -1;
    grt_case rcs[] = {{other, GRT_RECV, NULL, false},
                      {c, GRT_RECV, &v, false}};
    ck_assert_int_eq(grt_select(rcs, 2, true), 1);
    ck_assert(rcs[1].ok);
    ck_assert_int_eq(v, 33);
    tu_wait_goroutines(1);

    atomic_store(&rp_ready, 0);
    grt_go(rp_receiver, c);
    wait_flag(&rp_ready, 1);
    yield_n(3);
    int s = 44;
    grt_case scs[] = {{other, GRT_SEND, &s, false},
                      {c, GRT_SEND, &s, false}};
    ck_assert_int_eq(grt_select(scs, 2, true), 1);
    tu_wait_goroutines(1);
    ck_assert_int_eq(atomic_load(&rp_got), 44);
    grt_chan_free(c);
    grt_chan_free(other);
}
END_TEST

/* ------------------------------------------------------------------ */
/* random                                                              */
/* ------------------------------------------------------------------ */

/*
 * n buffered channels, each holding a value: every select has all n cases
 * ready.  Each index must win more than (100 / n) * 0.6 percent of iters.
 */
static void check_fair_recv(int n, int iters, bool dflt)
{
    grt_chan *c[8];
    grt_case cs[8];
    int v[8], count[8] = {0};
    for (int i = 0; i < n; i++) {
        c[i] = grt_chan_make(sizeof(int), 1);
        grt_chan_send(c[i], &i);
        cs[i] = (grt_case){c[i], GRT_RECV, &v[i], false};
    }
    for (int k = 0; k < iters; k++) {
        int i = grt_select(cs, n, dflt);
        ck_assert(i >= 0 && i < n);
        ck_assert(cs[i].ok);
        ck_assert_int_eq(v[i], i);
        count[i]++;
        grt_chan_send(c[i], &i);
    }
    for (int i = 0; i < n; i++) {
        ck_assert_msg(count[i] * n * 10 > iters * 6,
                      "case %d of %d chosen %d times of %d", i, n, count[i],
                      iters);
        grt_chan_free(c[i]);
    }
}

START_TEST(t_random_two)
{
    check_fair_recv(2, 10000, false);
    check_fair_recv(2, 10000, true);
}
END_TEST

START_TEST(t_random_four)
{
    check_fair_recv(4, 20000, false);
}
END_TEST

/* Send cases are chosen uniformly too. */
START_TEST(t_random_send)
{
    grt_chan *a = grt_chan_make(sizeof(int), 1);
    grt_chan *b = grt_chan_make(sizeof(int), 1);
    int count[2] = {0}, s = 1;
    grt_case cs[] = {{a, GRT_SEND, &s, false}, {b, GRT_SEND, &s, false}};
    for (int k = 0; k < 10000; k++) {
        int i = grt_select(cs, 2, true);
        ck_assert(i == 0 || i == 1);
        count[i]++;
        ck_assert(grt_chan_recv(i ? b : a, NULL));
    }
    ck_assert_int_gt(count[0], 3000);
    ck_assert_int_gt(count[1], 3000);
    grt_chan_free(a);
    grt_chan_free(b);
}
END_TEST

/* ------------------------------------------------------------------ */
/* blocking                                                            */
/* ------------------------------------------------------------------ */

static void late_sender(void *arg)
{
    yield_n(50);
    grt_chan_send(arg, &(int){11});
}

START_TEST(t_block_recv)
{
    grt_chan *a = grt_chan_make(sizeof(int), 0);
    grt_chan *b = grt_chan_make(sizeof(int), 0);
    grt_go(late_sender, b);
    int ra = -1, rb = -1;
    grt_case cs[] = {{a, GRT_RECV, &ra, false}, {b, GRT_RECV, &rb, false}};
    ck_assert_int_eq(grt_select(cs, 2, false), 1);
    ck_assert(cs[1].ok);
    ck_assert_int_eq(rb, 11);
    ck_assert_int_eq(ra, -1);
    tu_wait_goroutines(1);
    grt_chan_free(a);
    grt_chan_free(b);
}
END_TEST

static atomic_int late_got;

static void late_receiver(void *arg)
{
    int v = -1;
    yield_n(50);
    tu_check(grt_chan_recv(arg, &v));
    atomic_store(&late_got, v);
}

START_TEST(t_block_send)
{
    grt_chan *a = grt_chan_make(sizeof(int), 0);
    grt_chan *b = grt_chan_make(sizeof(int), 0);
    grt_go(late_receiver, b);
    int sa = 1, sb = 2;
    grt_case cs[] = {{a, GRT_SEND, &sa, false}, {b, GRT_SEND, &sb, false}};
    ck_assert_int_eq(grt_select(cs, 2, false), 1);
    tu_wait_goroutines(1);
    ck_assert_int_eq(atomic_load(&late_got), 2);
    /* The send on a did not happen and left no waiter behind. */
    grt_case ra[] = {{a, GRT_RECV, NULL, false}};
    ck_assert_int_eq(grt_select(ra, 1, true), -1);
    grt_chan_free(a);
    grt_chan_free(b);
}
END_TEST

static void late_closer(void *arg)
{
    yield_n(50);
    grt_chan_close(arg);
}

START_TEST(t_block_close_wakes)
{
    grt_chan *a = grt_chan_make(sizeof(int), 0);
    grt_chan *b = grt_chan_make(sizeof(int), 0);
    grt_go(late_closer, a);
    int ra = 99, rb = -1;
    grt_case cs[] = {{a, GRT_RECV, &ra, true}, {b, GRT_RECV, &rb, true}};
    ck_assert_int_eq(grt_select(cs, 2, false), 0);
    ck_assert(!cs[0].ok);
    ck_assert_int_eq(ra, 0);
    tu_wait_goroutines(1);
    grt_chan_free(a);
    grt_chan_free(b);
}
END_TEST

/*
 * A select parked on two channels must leave no stale waiter on the one
 * that did not fire: alternate sends on a and b to a goroutine that
 * selects on both, many times; every value arrives once.
 */
#define ALT_N 5000
static atomic_long alt_sum;

static void alt_selector(void *arg)
{
    grt_chan **ch = arg;
    long va, vb;
    for (int k = 0; k < ALT_N; k++) {
        grt_case cs[] = {{ch[0], GRT_RECV, &va, false},
                         {ch[1], GRT_RECV, &vb, false}};
        int i = grt_select(cs, 2, false);
        tu_check(i == 0 || i == 1);
        tu_check(cs[i].ok);
        atomic_fetch_add(&alt_sum, i ? vb : va);
    }
}

START_TEST(t_block_no_stale_waiter)
{
    grt_chan *ch[2] = {grt_chan_make(sizeof(long), 0),
                       grt_chan_make(sizeof(long), 0)};
    grt_go(alt_selector, ch);
    long want = 0;
    for (long k = 0; k < ALT_N; k++) {
        grt_chan_send(ch[k % 2], &k);
        want += k;
    }
    tu_wait_goroutines(1);
    ck_assert_int_eq(atomic_load(&alt_sum), want);
    grt_chan_free(ch[0]);
    grt_chan_free(ch[1]);
}
END_TEST

/* ------------------------------------------------------------------ */
/* nil-cases                                                           */
/* ------------------------------------------------------------------ */

START_TEST(t_nil_case_skipped)
{
    grt_chan *c = grt_chan_make(sizeof(int), 1);
    grt_chan_send(c, &(int){4});
    int r0 = -1, r2 = -1, s = 1;
    grt_case cs[] = {{NULL, GRT_RECV, &r0, false},
                     {NULL, GRT_SEND, &s, false},
                     {c, GRT_RECV, &r2, false}};
    for (int dflt = 0; dflt < 2; dflt++) {
        ck_assert_int_eq(grt_select(cs, 3, dflt), 2);
        ck_assert_int_eq(r2, 4);
        grt_chan_send(c, &(int){4});
    }
    ck_assert_int_eq(r0, -1);
    grt_case nils[] = {{NULL, GRT_RECV, &r0, false},
                       {NULL, GRT_SEND, &s, false}};
    ck_assert_int_eq(grt_select(nils, 2, true), -1);
    grt_chan_free(c);
}
END_TEST

static atomic_int nf_started, nf_after;

static void select_forever(void *arg)
{
    (void)arg;
    atomic_fetch_add(&nf_started, 1);
    grt_select(NULL, 0, false);
    atomic_fetch_add(&nf_after, 1);
}

static void select_nils_forever(void *arg)
{
    (void)arg;
    int v, s = 1;
    grt_case nils[] = {{NULL, GRT_RECV, &v, false},
                       {NULL, GRT_SEND, &s, false}};
    atomic_fetch_add(&nf_started, 1);
    grt_select(nils, 2, false);
    atomic_fetch_add(&nf_after, 1);
}

START_TEST(t_select_blocks_forever)
{
    grt_go(select_forever, NULL);
    grt_go(select_nils_forever, NULL);
    wait_flag(&nf_started, 2);
    yield_n(1000);
    ck_assert_int_eq(atomic_load(&nf_after), 0);
    ck_assert_int_eq(grt_num_goroutine(), 3);
}
END_TEST

/* ------------------------------------------------------------------ */
/* closed-send-panics                                                  */
/* ------------------------------------------------------------------ */

static void child_select_send_closed(void)
{
    grt_chan *c = grt_chan_make(sizeof(int), 1);
    grt_chan *other = grt_chan_make(sizeof(int), 0);
    grt_chan_close(c);
    int s = 1;
    grt_case cs[] = {{other, GRT_RECV, NULL, false},
                     {c, GRT_SEND, &s, false}};
    grt_select(cs, 2, true);
}

static void parked_select_sender(void *arg)
{
    int s = 1;
    grt_case cs[] = {{arg, GRT_SEND, &s, false}};
    grt_select(cs, 1, false);
}

/* A select parked on a send wakes up to the close, and panics. */
static void child_select_parked_send_closed(void)
{
    grt_maxprocs(1);
    grt_chan *c = grt_chan_make(sizeof(int), 0);
    grt_go(parked_select_sender, c);
    yield_n(10);
    grt_chan_close(c);
    grt_chan_recv(grt_chan_make(0, 0), NULL);
}

START_TEST(t_exit_select_send_closed)
{
    child_select_send_closed();
}
END_TEST

static void (*const panic_children[])(void) = {
    child_select_send_closed,
    child_select_parked_send_closed,
};

START_TEST(t_select_send_closed_message)
{
    char err[4096];
    int st;
    tu_child(panic_children[_i], err, sizeof err, &st);
    tu_assert_child(st, err, 2, "panic: send on closed channel");
}
END_TEST

/* ------------------------------------------------------------------ */
/* stress                                                              */
/* ------------------------------------------------------------------ */

#define ST_W 8
#define ST_S 5000
#define ST_N (ST_W * ST_S)

static grt_chan *st_c1, *st_c2, *st_quit;
static grt_wg st_workers, st_drainer;
static _Atomic uint64_t st_sent_sum, st_sent_count;
static _Atomic uint64_t st_recv_sum, st_recv_count;
static _Atomic unsigned char st_seen[ST_N];

static void st_got(long v)
{
    tu_check(v >= 0 && v < ST_N);
    atomic_fetch_add(&st_seen[v], 1);
    atomic_fetch_add(&st_recv_sum, (uint64_t)v);
    atomic_fetch_add(&st_recv_count, 1);
}

/* Sends ST_S values, each through whichever of 4 cases is ready. */
static void st_worker(void *arg)
{
    long w = (long)(intptr_t)arg;
    long sends = 0;
    while (sends < ST_S) {
        long out = w * ST_S + sends, in1 = -1, in2 = -1;
        grt_case cs[] = {
            {st_c1, GRT_SEND, &out, false},
            {st_c2, GRT_SEND, &out, false},
            {st_c1, GRT_RECV, &in1, false},
            {st_c2, GRT_RECV, &in2, false},
        };
        int i = grt_select(cs, 4, false);
        switch (i) {
        case 0:
        case 1:
            atomic_fetch_add(&st_sent_sum, (uint64_t)out);
            atomic_fetch_add(&st_sent_count, 1);
            sends++;
            break;
        case 2:
        case 3:
            tu_check(cs[i].ok);
            st_got(i == 2 ? in1 : in2);
            break;
        default:
            ck_abort_msg("select returned %d", i);
        }
    }
    grt_wg_done(&st_workers);
}

/* Receives until quit closes, then empties c2's buffer. */
static void st_drain(void *arg)
{
    (void)arg;
    for (;;) {
        long v1 = -1, v2 = -1;
        grt_case cs[] = {
            {st_c1, GRT_RECV, &v1, false},
            {st_c2, GRT_RECV, &v2, false},
            {st_quit, GRT_RECV, NULL, false},
        };
        int i = grt_select(cs, 3, false);
        if (i == 2) {
            tu_check(!cs[2].ok);
            break;
        }
        tu_check(cs[i].ok);
        st_got(i == 0 ? v1 : v2);
    }
    for (;;) {
        long v = -1;
        grt_case cs[] = {{st_c2, GRT_RECV, &v, false}};
        if (grt_select(cs, 1, true) < 0)
            break;
        st_got(v);
    }
    grt_wg_done(&st_drainer);
}

START_TEST(t_stress)
{
    st_c1 = grt_chan_make(sizeof(long), 0);
    st_c2 = grt_chan_make(sizeof(long), 4);
    st_quit = grt_chan_make(0, 0);
    grt_wg_add(&st_workers, ST_W);
    grt_wg_add(&st_drainer, 1);
    grt_go(st_drain, NULL);
    for (long w = 0; w < ST_W; w++)
        grt_go(st_worker, (void *)(intptr_t)w);
    grt_wg_wait(&st_workers);
    grt_chan_close(st_quit);
    grt_wg_wait(&st_drainer);
    ck_assert_uint_eq(atomic_load(&st_sent_count), ST_N);
    ck_assert_uint_eq(atomic_load(&st_recv_count), ST_N);
    ck_assert_uint_eq(atomic_load(&st_sent_sum),
                      (uint64_t)ST_N * (ST_N - 1) / 2);
    ck_assert_uint_eq(atomic_load(&st_recv_sum),
                      atomic_load(&st_sent_sum));
    for (long v = 0; v < ST_N; v++)
        ck_assert_msg(atomic_load(&st_seen[v]) == 1,
                      "value %ld received %d times", v,
                      (int)atomic_load(&st_seen[v]));
    ck_assert_uint_eq(grt_chan_len(st_c2), 0);
    tu_wait_goroutines(1);
    grt_chan_free(st_c1);
    grt_chan_free(st_c2);
    grt_chan_free(st_quit);
}
END_TEST

static Suite *select_suite(void)
{
    Suite *s = suite_create("select");
    TCase *tc;

    tc = tcase_create("default");
    tcase_add_test(tc, t_default_nothing_ready);
    suite_add_tcase(s, tc);

    tc = tcase_create("ready");
    tcase_add_test(tc, t_ready_recv);
    tcase_add_test(tc, t_ready_send);
    tcase_add_test(tc, t_ready_closed);
    tcase_add_test(tc, t_ready_parked_peer);
    suite_add_tcase(s, tc);

    tc = tcase_create("random");
    tcase_add_test(tc, t_random_two);
    tcase_add_test(tc, t_random_four);
    tcase_add_test(tc, t_random_send);
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);

    tc = tcase_create("blocking");
    tcase_add_test(tc, t_block_recv);
    tcase_add_test(tc, t_block_send);
    tcase_add_test(tc, t_block_close_wakes);
    tcase_add_test(tc, t_block_no_stale_waiter);
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);

    tc = tcase_create("nil-cases");
    tcase_add_test(tc, t_nil_case_skipped);
    tcase_add_test(tc, t_select_blocks_forever);
    suite_add_tcase(s, tc);

    tc = tcase_create("closed-send-panics");
    tcase_add_exit_test(tc, t_exit_select_send_closed, 2);
    tcase_add_loop_test(tc, t_select_send_closed_message, 0,
                        (int)NELEMS(panic_children));
    suite_add_tcase(s, tc);

    tc = tcase_create("stress");
    tcase_add_test(tc, t_stress);
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);

    return s;
}

int main(void)
{
    return tu_run_suite(select_suite());
}
