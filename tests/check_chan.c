/*
 * check_chan.c - channels: Go's chan semantics as API.md states them.
 *
 * One TCase per behaviour: unbuffered rendezvous, buffered len/cap and
 * FIFO order, close (drain, then false with a zeroed value; wakes every
 * receiver; a blocked sender panics), nil channels (block forever, len and
 * cap 0), FIFO service of waiters, zero-size elements, an MPMC stress run
 * whose sum and count must match exactly, and the three channel panics
 * with Go's exact first line and exit status 2.
 *
 * Tests that need a goroutine to be parked before main acts (fifo, the
 * blocked-sender panic) set grt_maxprocs(1): then "spawn, yield" runs the
 * new goroutine until it blocks (it sits in runnext, main goes behind it),
 * as `go f(); runtime.Gosched()` does in Go with GOMAXPROCS=1.  A flag
 * set just before the blocking call plus extra yields covers a preemption
 * between the flag and the park.  Nothing here asserts timing.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <grt.h>

#include "testutil.h"

/* Yield n times: lets every runnable goroutine run at least once on 1 P. */
static void yield_n(int n)
{
    for (int i = 0; i < n; i++)
        grt_yield();
}

/* Wait (yielding) until *flag >= want. */
static void wait_flag(atomic_int *flag, int want)
{
    while (atomic_load(flag) < want)
        grt_yield();
}

/* ------------------------------------------------------------------ */
/* unbuffered                                                          */
/* ------------------------------------------------------------------ */

static atomic_int ub_sent, ub_got;
static int ub_value;

static void ub_sender(void *arg)
{
    int v = 42;
    grt_chan_send(arg, &v);
    atomic_store(&ub_sent, 1);
}

START_TEST(t_unbuffered_send_waits)
{
    grt_chan *c = grt_chan_make(sizeof(int), 0);
    ck_assert_uint_eq(grt_chan_cap(c), 0);
    grt_go(ub_sender, c);
    yield_n(1000);
    /* No receiver yet: the send cannot have returned, nothing buffered. */
    ck_assert_int_eq(atomic_load(&ub_sent), 0);
    ck_assert_uint_eq(grt_chan_len(c), 0);
    int v = 0;
    ck_assert(grt_chan_recv(c, &v));
    ck_assert_int_eq(v, 42);
    tu_wait_goroutines(1);
    ck_assert_int_eq(atomic_load(&ub_sent), 1);
    grt_chan_free(c);
}
END_TEST

static void ub_receiver(void *arg)
{
    tu_check(grt_chan_recv(arg, &ub_value));
    atomic_store(&ub_got, 1);
}

START_TEST(t_unbuffered_recv_waits)
{
    grt_chan *c = grt_chan_make(sizeof(int), 0);
    grt_go(ub_receiver, c);
    yield_n(1000);
    ck_assert_int_eq(atomic_load(&ub_got), 0);
    int v = 7;
    grt_chan_send(c, &v);
    tu_wait_goroutines(1);
    ck_assert_int_eq(atomic_load(&ub_got), 1);
    ck_assert_int_eq(ub_value, 7);
    grt_chan_free(c);
}
END_TEST

struct pp {
    grt_chan *ping, *pong;
};

/* Answer each ping v with pong v + 1 until ping is closed. */
static void ponger(void *arg)
{
    struct pp *p = arg;
    long v;
    while (grt_chan_recv(p->ping, &v)) {
        v++;
        grt_chan_send(p->pong, &v);
    }
}

START_TEST(t_unbuffered_pingpong)
{
    struct pp p = {grt_chan_make(sizeof(long), 0),
                   grt_chan_make(sizeof(long), 0)};
    grt_go(ponger, &p);
    for (long i = 0; i < 10000; i++) {
        long v = i * 3;
        grt_chan_send(p.ping, &v);
        ck_assert(grt_chan_recv(p.pong, &v));
        ck_assert_int_eq(v, i * 3 + 1);
    }
    grt_chan_close(p.ping);
    tu_wait_goroutines(1);
    grt_chan_free(p.ping);
    grt_chan_free(p.pong);
}
END_TEST

struct big {
    unsigned char b[200];
};

static void big_sender(void *arg)
{
    for (int k = 0; k < 50; k++) {
        struct big x;
        for (size_t i = 0; i < sizeof x.b; i++)
            x.b[i] = (unsigned char)(i * 7 + (size_t)k);
        grt_chan_send(arg, &x);
    }
}

/* Elements larger than a register are copied whole, for every cap. */
START_TEST(t_big_elements)
{
    size_t caps[] = {0, 1, 7};
    for (size_t ci = 0; ci < 3; ci++) {
        grt_chan *c = grt_chan_make(sizeof(struct big), caps[ci]);
        grt_go(big_sender, c);
        for (int k = 0; k < 50; k++) {
            struct big x;
            memset(&x, 0, sizeof x);
            ck_assert(grt_chan_recv(c, &x));
            for (size_t i = 0; i < sizeof x.b; i++)
                ck_assert_uint_eq(x.b[i], (unsigned char)(i * 7 + (size_t)k));
        }
        tu_wait_goroutines(1);
        grt_chan_free(c);
    }
}
END_TEST

/* ------------------------------------------------------------------ */
/* buffered                                                            */
/* ------------------------------------------------------------------ */

START_TEST(t_buffered_len_cap)
{
    grt_chan *c = grt_chan_make(sizeof(int), 3);
    ck_assert_uint_eq(grt_chan_cap(c), 3);
    ck_assert_uint_eq(grt_chan_len(c), 0);
    for (int i = 1; i <= 3; i++) {
        grt_chan_send(c, &i); /* never blocks: room in the buffer */
        ck_assert_uint_eq(grt_chan_len(c), (size_t)i);
    }
    for (int i = 1; i <= 3; i++) {
        int v = 0;
        ck_assert(grt_chan_recv(c, &v));
        ck_assert_int_eq(v, i);
        ck_assert_uint_eq(grt_chan_len(c), (size_t)(3 - i));
    }
    ck_assert_uint_eq(grt_chan_cap(c), 3);
    grt_chan_free(c);
}
END_TEST

/* FIFO across many wrap-arounds of the ring buffer. */
START_TEST(t_buffered_fifo_wrap)
{
    grt_chan *c = grt_chan_make(sizeof(int), 4);
    int next_send = 0, next_recv = 0;
    for (int round = 0; round < 1000; round++) {
        int burst = 1 + round % 4;
        for (int i = 0; i < burst; i++)
            grt_chan_send(c, &(int){next_send++});
        ck_assert_uint_eq(grt_chan_len(c), (size_t)burst);
        for (int i = 0; i < burst; i++) {
            int v = -1;
            ck_assert(grt_chan_recv(c, &v));
            ck_assert_int_eq(v, next_recv++);
        }
    }
    grt_chan_free(c);
}
END_TEST

static atomic_int bf_progress;

static void bf_sender(void *arg)
{
    for (int i = 0; i < 10; i++) {
        grt_chan_send(arg, &i);
        atomic_fetch_add(&bf_progress, 1);
    }
}

/* A full buffer blocks the sender: at most cap sends finish unreceived. */
START_TEST(t_buffered_full_blocks)
{
    grt_chan *c = grt_chan_make(sizeof(int), 2);
    grt_go(bf_sender, c);
    yield_n(1000);
    ck_assert_int_le(atomic_load(&bf_progress), 2);
    ck_assert_uint_le(grt_chan_len(c), 2);
    for (int i = 0; i < 10; i++) {
        int v = -1;
        ck_assert(grt_chan_recv(c, &v));
        ck_assert_int_eq(v, i);
    }
    tu_wait_goroutines(1);
    ck_assert_int_eq(atomic_load(&bf_progress), 10);
    ck_assert_uint_eq(grt_chan_len(c), 0);
    grt_chan_free(c);
}
END_TEST

/* ------------------------------------------------------------------ */
/* close                                                               */
/* ------------------------------------------------------------------ */

START_TEST(t_close_drains)
{
    grt_chan *c = grt_chan_make(sizeof(int), 4);
    grt_chan_send(c, &(int){10});
    grt_chan_send(c, &(int){20});
    grt_chan_close(c);
    ck_assert_uint_eq(grt_chan_len(c), 2);
    int v = 0;
    ck_assert(grt_chan_recv(c, &v));
    ck_assert_int_eq(v, 10);
    ck_assert(grt_chan_recv(c, &v));
    ck_assert_int_eq(v, 20);
    for (int i = 0; i < 3; i++) {
        v = 0x5a5a5a5a;
        ck_assert(!grt_chan_recv(c, &v));
        ck_assert_int_eq(v, 0);
    }
    ck_assert(!grt_chan_recv(c, NULL));
    ck_assert_uint_eq(grt_chan_len(c), 0);
    ck_assert_uint_eq(grt_chan_cap(c), 4);
    grt_chan_free(c);
}
END_TEST

START_TEST(t_close_unbuffered_zeroes)
{
    grt_chan *c = grt_chan_make(sizeof(struct big), 0);
    grt_chan_close(c);
    struct big x;
    memset(&x, 0xee, sizeof x);
    ck_assert(!grt_chan_recv(c, &x));
    for (size_t i = 0; i < sizeof x.b; i++)
        ck_assert_uint_eq(x.b[i], 0);
    grt_chan_free(c);
}
END_TEST

#define NWAKE 10
static atomic_int cw_started;
static grt_wg cw_wg;
static struct {
    bool ok;
    long v;
} cw_res[NWAKE];

static void cw_receiver(void *arg)
{
    grt_chan *c = arg;
    int i = atomic_fetch_add(&cw_started, 1);
    cw_res[i].v = 77;
    cw_res[i].ok = grt_chan_recv(c, &cw_res[i].v);
    grt_wg_done(&cw_wg);
}

START_TEST(t_close_wakes_all)
{
    grt_chan *c = grt_chan_make(sizeof(long), 0);
    grt_wg_add(&cw_wg, NWAKE);
    for (int i = 0; i < NWAKE; i++)
        grt_go(cw_receiver, c);
    wait_flag(&cw_started, NWAKE);
    yield_n(100);
    grt_chan_close(c);
    grt_wg_wait(&cw_wg);
    for (int i = 0; i < NWAKE; i++) {
        ck_assert(!cw_res[i].ok);
        ck_assert_int_eq(cw_res[i].v, 0);
    }
    tu_wait_goroutines(1);
    grt_chan_free(c);
}
END_TEST

static void blocked_sender(void *arg)
{
    int v = 1;
    grt_chan_send(arg, &v);
}

/* Child: a sender parked on an unbuffered channel; main closes it. */
static void child_close_blocked_sender(void)
{
    grt_maxprocs(1);
    grt_chan *c = grt_chan_make(sizeof(int), 0);
    grt_go(blocked_sender, c);
    yield_n(10);
    grt_chan_close(c);
    /* The sender panics; main must not return first. */
    grt_chan_recv(grt_chan_make(0, 0), NULL);
}

START_TEST(t_close_blocked_sender_panics)
{
    char err[4096];
    int st;
    tu_child(child_close_blocked_sender, err, sizeof err, &st);
    tu_assert_child(st, err, 2, "panic: send on closed channel");
}
END_TEST

/* ------------------------------------------------------------------ */
/* nil                                                                 */
/* ------------------------------------------------------------------ */

START_TEST(t_nil_len_cap)
{
    ck_assert_uint_eq(grt_chan_len(NULL), 0);
    ck_assert_uint_eq(grt_chan_cap(NULL), 0);
    grt_chan_free(NULL);
}
END_TEST

static atomic_int nil_started, nil_after;

static void nil_sender(void *arg)
{
    (void)arg;
    int v = 1;
    atomic_fetch_add(&nil_started, 1);
    grt_chan_send(NULL, &v);
    atomic_fetch_add(&nil_after, 1);
}

static void nil_receiver(void *arg)
{
    (void)arg;
    int v;
    atomic_fetch_add(&nil_started, 1);
    grt_chan_recv(NULL, &v);
    atomic_fetch_add(&nil_after, 1);
}

START_TEST(t_nil_blocks_forever)
{
    grt_go(nil_sender, NULL);
    grt_go(nil_receiver, NULL);
    wait_flag(&nil_started, 2);
    yield_n(1000);
    /* Main goes on; the two stay blocked and are still counted. */
    ck_assert_int_eq(atomic_load(&nil_after), 0);
    ck_assert_int_eq(grt_num_goroutine(), 3);
    /* A real channel still works meanwhile. */
    grt_chan *c = grt_chan_make(sizeof(int), 1);
    grt_chan_send(c, &(int){5});
    int v;
    ck_assert(grt_chan_recv(c, &v));
    ck_assert_int_eq(v, 5);
    grt_chan_free(c);
    ck_assert_int_eq(atomic_load(&nil_after), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* fifo                                                                */
/* ------------------------------------------------------------------ */

#define NFIFO 8
static atomic_int ff_ready[NFIFO];
static int ff_got[NFIFO];
static grt_wg ff_wg;

struct ff_arg {
    grt_chan *c;
    int i;
};

static void ff_receiver(void *arg)
{
    struct ff_arg *a = arg;
    atomic_store(&ff_ready[a->i], 1);
    tu_check(grt_chan_recv(a->c, &ff_got[a->i]));
    grt_wg_done(&ff_wg);
}

static void ff_sender(void *arg)
{
    struct ff_arg *a = arg;
    atomic_store(&ff_ready[a->i], 1);
    grt_chan_send(a->c, &a->i);
    grt_wg_done(&ff_wg);
}

/* Start fn(i) for i in 0..n-1, each parked before the next starts. */
static void start_in_order(void (*fn)(void *), struct ff_arg *args,
                           grt_chan *c, int n)
{
    for (int i = 0; i < n; i++) {
        args[i].c = c;
        args[i].i = i;
        grt_go(fn, &args[i]);
        wait_flag(&ff_ready[i], 1);
        yield_n(3);
    }
}

START_TEST(t_fifo_receivers)
{
    grt_maxprocs(1);
    grt_chan *c = grt_chan_make(sizeof(int), 0);
    struct ff_arg args[NFIFO];
    grt_wg_add(&ff_wg, NFIFO);
    start_in_order(ff_receiver, args, c, NFIFO);
    for (int i = 0; i < NFIFO; i++)
        grt_chan_send(c, &(int){100 + i});
    grt_wg_wait(&ff_wg);
    for (int i = 0; i < NFIFO; i++)
        ck_assert_int_eq(ff_got[i], 100 + i);
    tu_wait_goroutines(1);
    grt_chan_free(c);
}
END_TEST

START_TEST(t_fifo_senders)
{
    grt_maxprocs(1);
    grt_chan *c = grt_chan_make(sizeof(int), 0);
    struct ff_arg args[NFIFO];
    grt_wg_add(&ff_wg, NFIFO);
    start_in_order(ff_sender, args, c, NFIFO);
    for (int i = 0; i < NFIFO; i++) {
        int v = -1;
        ck_assert(grt_chan_recv(c, &v));
        ck_assert_int_eq(v, i);
    }
    grt_wg_wait(&ff_wg);
    tu_wait_goroutines(1);
    grt_chan_free(c);
}
END_TEST

/* A full buffer: buffered values first, then the blocked senders' in order. */
START_TEST(t_fifo_senders_buffered)
{
    grt_maxprocs(1);
    grt_chan *c = grt_chan_make(sizeof(int), 2);
    grt_chan_send(c, &(int){100});
    grt_chan_send(c, &(int){101});
    struct ff_arg args[NFIFO];
    grt_wg_add(&ff_wg, NFIFO);
    start_in_order(ff_sender, args, c, NFIFO);
    ck_assert_uint_eq(grt_chan_len(c), 2);
    int want[NFIFO + 2] = {100, 101};
    for (int i = 0; i < NFIFO; i++)
        want[i + 2] = i;
    for (int i = 0; i < NFIFO + 2; i++) {
        int v = -1;
        ck_assert(grt_chan_recv(c, &v));
        ck_assert_int_eq(v, want[i]);
    }
    grt_wg_wait(&ff_wg);
    ck_assert_uint_eq(grt_chan_len(c), 0);
    tu_wait_goroutines(1);
    grt_chan_free(c);
}
END_TEST

/* ------------------------------------------------------------------ */
/* zero-size                                                           */
/* ------------------------------------------------------------------ */

START_TEST(t_zero_size_buffered)
{
    grt_chan *c = grt_chan_make(0, 3);
    ck_assert_uint_eq(grt_chan_cap(c), 3);
    for (int i = 1; i <= 3; i++) {
        grt_chan_send(c, NULL);
        ck_assert_uint_eq(grt_chan_len(c), (size_t)i);
    }
    for (int i = 0; i < 3; i++)
        ck_assert(grt_chan_recv(c, NULL));
    ck_assert_uint_eq(grt_chan_len(c), 0);
    grt_chan_send(c, NULL);
    grt_chan_close(c);
    ck_assert(grt_chan_recv(c, NULL));
    ck_assert(!grt_chan_recv(c, NULL));
    grt_chan_free(c);
}
END_TEST

static void zs_sender(void *arg)
{
    for (int i = 0; i < 1000; i++)
        grt_chan_send(arg, NULL);
    grt_chan_close(arg);
}

START_TEST(t_zero_size_unbuffered)
{
    grt_chan *c = grt_chan_make(0, 0);
    grt_go(zs_sender, c);
    int n = 0;
    while (grt_chan_recv(c, NULL))
        n++;
    ck_assert_int_eq(n, 1000);
    tu_wait_goroutines(1);
    grt_chan_free(c);
}
END_TEST

/* ------------------------------------------------------------------ */
/* mpmc-stress                                                         */
/* ------------------------------------------------------------------ */

#define MP_NP 4
#define MP_NC 4
#define MP_PER 25000
#define MP_N (MP_NP * MP_PER)

static grt_chan *mp_c;
static grt_wg mp_prod, mp_cons;
static _Atomic uint64_t mp_sum, mp_count;
static _Atomic unsigned char mp_seen[MP_N];

static void mp_producer(void *arg)
{
    long p = (long)(intptr_t)arg;
    for (long i = 0; i < MP_PER; i++) {
        long v = p * MP_PER + i;
        grt_chan_send(mp_c, &v);
    }
    grt_wg_done(&mp_prod);
}

static void mp_consumer(void *arg)
{
    (void)arg;
    uint64_t sum = 0, count = 0;
    long v;
    while (grt_chan_recv(mp_c, &v)) {
        tu_check(v >= 0 && v < MP_N);
        atomic_fetch_add(&mp_seen[v], 1);
        sum += (uint64_t)v;
        count++;
    }
    atomic_fetch_add(&mp_sum, sum);
    atomic_fetch_add(&mp_count, count);
    grt_wg_done(&mp_cons);
}

static const size_t mp_caps[] = {0, 1, 64};

START_TEST(t_mpmc_stress)
{
    mp_c = grt_chan_make(sizeof(long), mp_caps[_i]);
    grt_wg_add(&mp_prod, MP_NP);
    grt_wg_add(&mp_cons, MP_NC);
    for (long i = 0; i < MP_NC; i++)
        grt_go(mp_consumer, NULL);
    for (long p = 0; p < MP_NP; p++)
        grt_go(mp_producer, (void *)(intptr_t)p);
    grt_wg_wait(&mp_prod);
    grt_chan_close(mp_c);
    grt_wg_wait(&mp_cons);
    ck_assert_uint_eq(atomic_load(&mp_count), MP_N);
    ck_assert_uint_eq(atomic_load(&mp_sum),
                      (uint64_t)MP_N * (MP_N - 1) / 2);
    for (long v = 0; v < MP_N; v++)
        ck_assert_msg(atomic_load(&mp_seen[v]) == 1,
                      "value %ld received %d times", v,
                      (int)atomic_load(&mp_seen[v]));
    tu_wait_goroutines(1);
    grt_chan_free(mp_c);
}
END_TEST

/* ------------------------------------------------------------------ */
/* panics                                                              */
/* ------------------------------------------------------------------ */

static void child_send_closed(void)
{
    grt_chan *c = grt_chan_make(sizeof(int), 1);
    grt_chan_close(c);
    grt_chan_send(c, &(int){1});
}

static void child_close_closed(void)
{
    grt_chan *c = grt_chan_make(sizeof(int), 0);
    grt_chan_close(c);
    grt_chan_close(c);
}

static void child_close_nil(void)
{
    grt_chan_close(NULL);
}

/* The same, in a goroutine: the panic ends the whole process. */
static void send_closed_g(void *arg)
{
    (void)arg;
    child_send_closed();
}

static void child_send_closed_in_goroutine(void)
{
    grt_go(send_closed_g, NULL);
    grt_chan_recv(grt_chan_make(0, 0), NULL);
}

START_TEST(t_exit_send_closed)
{
    child_send_closed();
}
END_TEST

START_TEST(t_exit_close_closed)
{
    child_close_closed();
}
END_TEST

START_TEST(t_exit_close_nil)
{
    child_close_nil();
}
END_TEST

static const struct {
    void (*fn)(void);
    const char *first;
} panic_cases[] = {
    {child_send_closed, "panic: send on closed channel"},
    {child_close_closed, "panic: close of closed channel"},
    {child_close_nil, "panic: close of nil channel"},
    {child_send_closed_in_goroutine, "panic: send on closed channel"},
};

START_TEST(t_panic_messages)
{
    char err[4096];
    int st;
    tu_child(panic_cases[_i].fn, err, sizeof err, &st);
    tu_assert_child(st, err, 2, panic_cases[_i].first);
}
END_TEST

static Suite *chan_suite(void)
{
    Suite *s = suite_create("chan");
    TCase *tc;

    tc = tcase_create("unbuffered");
    tcase_add_test(tc, t_unbuffered_send_waits);
    tcase_add_test(tc, t_unbuffered_recv_waits);
    tcase_add_test(tc, t_unbuffered_pingpong);
    tcase_add_test(tc, t_big_elements);
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);

    tc = tcase_create("buffered");
    tcase_add_test(tc, t_buffered_len_cap);
    tcase_add_test(tc, t_buffered_fifo_wrap);
    tcase_add_test(tc, t_buffered_full_blocks);
    suite_add_tcase(s, tc);

    tc = tcase_create("close");
    tcase_add_test(tc, t_close_drains);
    tcase_add_test(tc, t_close_unbuffered_zeroes);
    tcase_add_test(tc, t_close_wakes_all);
    tcase_add_test(tc, t_close_blocked_sender_panics);
    suite_add_tcase(s, tc);

    tc = tcase_create("nil");
    tcase_add_test(tc, t_nil_len_cap);
    tcase_add_test(tc, t_nil_blocks_forever);
    suite_add_tcase(s, tc);

    tc = tcase_create("fifo");
    tcase_add_test(tc, t_fifo_receivers);
    tcase_add_test(tc, t_fifo_senders);
    tcase_add_test(tc, t_fifo_senders_buffered);
    suite_add_tcase(s, tc);

    tc = tcase_create("zero-size");
    tcase_add_test(tc, t_zero_size_buffered);
    tcase_add_test(tc, t_zero_size_unbuffered);
    suite_add_tcase(s, tc);

    tc = tcase_create("mpmc-stress");
    tcase_add_loop_test(tc, t_mpmc_stress, 0,
                        (int)(sizeof mp_caps / sizeof mp_caps[0]));
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);

    tc = tcase_create("panics");
    tcase_add_exit_test(tc, t_exit_send_closed, 2);
    tcase_add_exit_test(tc, t_exit_close_closed, 2);
    tcase_add_exit_test(tc, t_exit_close_nil, 2);
    tcase_add_loop_test(tc, t_panic_messages, 0,
                        (int)(sizeof panic_cases / sizeof panic_cases[0]));
    suite_add_tcase(s, tc);

    return s;
}

int main(void)
{
    return tu_run_suite(chan_suite());
}
