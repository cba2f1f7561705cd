/*
 * check_leaks.c - the leak analysis of the reader library (leaks.h):
 * hand-built snapshots for each rule (threshold, grouping, mutex cycles
 * and the staleness check of their edges, "all asleep" and what defeats
 * it), then live programs: a real two-mutex deadlock must be found as a
 * cycle, and a hot contended mutex must never be.  Every analysis is
 * also made counts-only (rd_leaks_count), which must count the same.
 *
 * The live cases fork a child that runs the runtime (its segment goes to
 * a private GRT_AGENT_DIR) and attach to it, as check_reader does.
 */
#include "config.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <grt.h>

#include "leaks.h"
#include "testutil.h"

#define SEC 1000000000LL
#define MS 1000000LL

static char agent_dir[] = "/dev/shm/grt-check-leaks-XXXXXX";

/* ---- hand-built snapshots ---- */

static struct rd_snapshot *snap_new(size_t ng)
{
    struct rd_snapshot *s = calloc(1, sizeof *s);
    s->g = calloc(ng, sizeof *s->g);
    s->ng = ng;
    s->np = 2;
    s->p = calloc(2, sizeof *s->p);
    s->nm = 2;
    s->m = calloc(2, sizeof *s->m);
    s->taken_mono_ns = 1000 * SEC;
    for (size_t i = 0; i < 2; i++) {
        s->p[i].id = (int32_t)i;
        s->p[i].status = GRT_SHM_P_IDLE;
        s->p[i].m_id = -1;
        s->p[i].updated_ns = s->taken_mono_ns;
        s->m[i].id = (int64_t)i;
        s->m[i].p_id = -1;
        s->m[i].flags = GRT_SHM_MF_IDLE;
        s->m[i].updated_ns = s->taken_mono_ns;
    }
    for (size_t i = 0; i < ng; i++) {
        s->g[i].slot = (uint32_t)i;
        s->g[i].goid = (int64_t)i + 1;
        s->g[i].status = GRT_SHM_G_RUNNABLE;
        s->g[i].m_id = s->g[i].p_id = -1;
        s->g[i].site = 1;
    }
    return s;
}

static void snap_free(struct rd_snapshot *s)
{
    free(s->g);
    free(s->p);
    free(s->m);
    free(s);
}

/* g waits for reason on obj since `ago` before the snapshot. */
static void park(struct rd_snapshot *s, size_t i, int reason, uint64_t obj,
                 int64_t ago)
{
    s->g[i].status = GRT_SHM_G_WAITING;
    s->g[i].wait_reason = reason;
    s->g[i].wait_obj = obj;
    s->g[i].wait_since = s->taken_mono_ns - ago;
}

static void lockwait(struct rd_snapshot *s, size_t i, uint64_t mutex,
                     int64_t owner, int64_t ago)
{
    park(s, i, GRT_SHM_WAIT_MUTEX_LOCK, mutex, ago);
    s->g[i].wait_owner = owner;
}

/* rd_leaks_find, and rd_leaks_count must count the same (every case
 * below goes through here, so the counts-only path meets every rule) */
static struct rd_leaks *find(const struct rd_snapshot *s, int64_t thr)
{
    struct rd_leaks *l = NULL;
    ck_assert_int_eq(rd_leaks_find(s, thr, s->taken_mono_ns, &l), RD_OK);
    ck_assert_ptr_nonnull(l);
    struct rd_leak_counts c;
    memset(&c, 0xa5, sizeof c);
    ck_assert_int_eq(rd_leaks_count(s, thr, s->taken_mono_ns, &c), RD_OK);
    ck_assert_uint_eq(c.nsuspected, l->nsuspected);
    ck_assert_uint_eq(c.nproven, l->nproven);
    ck_assert_int_eq(c.all_asleep, l->all_asleep);
    ck_assert_int_eq(c.longest_wait_ns, l->longest_wait_ns);
    ck_assert_uint_eq(c.ncycles, l->ncycles);
    return l;
}

START_TEST(t_suspected)
{
    struct rd_snapshot *s = snap_new(8);
    s->g[0].status = GRT_SHM_G_RUNNING;                 /* goroutine 1 */
    park(s, 1, GRT_SHM_WAIT_CHAN_RECV, 0x100, 20 * SEC); /* site 1 */
    park(s, 2, GRT_SHM_WAIT_CHAN_RECV, 0x200, 30 * SEC); /* site 1 */
    park(s, 3, GRT_SHM_WAIT_CHAN_RECV, 0x300, 5 * SEC);  /* too young */
    park(s, 4, GRT_SHM_WAIT_SLEEP, 0, 60 * SEC);         /* not a leak */
    park(s, 5, GRT_SHM_WAIT_WAITGROUP, 0x400, 11 * SEC);
    s->g[5].site = 2;
    park(s, 6, GRT_SHM_WAIT_IO, 0, 99 * SEC);            /* not a leak */
    park(s, 7, GRT_SHM_WAIT_SELECT, 0, 12 * SEC);
    s->g[7].site = 2;

    struct rd_leaks *l = find(s, 0); /* default: 10 s */
    ck_assert(!l->all_asleep);
    ck_assert_uint_eq(l->nproven, 0);
    ck_assert_uint_eq(l->nsuspected, 4);
    ck_assert_uint_eq(l->ncycles, 0);
    ck_assert_ptr_null(l->cycle);
    ck_assert_int_eq(l->longest_wait_ns, 30 * SEC);
    ck_assert_uint_eq(l->ngroups, 3);
    /* the biggest group first: site 1, chan receive, goroutines 2 and 3 */
    const struct rd_leak_group *g = &l->groups[0];
    ck_assert_int_eq(g->kind, RD_LEAK_SUSPECTED);
    ck_assert_uint_eq(g->site, 1);
    ck_assert_int_eq(g->wait_reason, GRT_SHM_WAIT_CHAN_RECV);
    ck_assert_uint_eq(g->n, 2);
    ck_assert_int_eq(g->goids[0], 2);
    ck_assert_int_eq(g->goids[1], 3);
    ck_assert_uint_eq(g->gidx[1], 2);
    ck_assert_uint_eq(g->wait_obj, 0); /* two different channels */
    ck_assert_int_eq(g->min_wait_ns, 20 * SEC);
    ck_assert_int_eq(g->max_wait_ns, 30 * SEC);
    /* then site 2: select before wait group (by reason) */
    ck_assert_int_eq(l->groups[1].wait_reason, GRT_SHM_WAIT_SELECT);
    ck_assert_int_eq(l->groups[2].wait_reason, GRT_SHM_WAIT_WAITGROUP);
    ck_assert_uint_eq(l->groups[2].wait_obj, 0x400);
    ck_assert_int_eq(l->kind[3], 0);
    ck_assert_int_eq(l->kind[1], RD_LEAK_SUSPECTED);
    rd_leaks_free(l);

    /* a lower threshold takes in the young one */
    l = find(s, 1 * SEC);
    ck_assert_uint_eq(l->nsuspected, 5);
    ck_assert_uint_eq(l->groups[0].n, 3);
    rd_leaks_free(l);
    snap_free(s);
}
END_TEST

START_TEST(t_cycle)
{
    struct rd_snapshot *s = snap_new(6);
    s->g[0].status = GRT_SHM_G_RUNNING;
    lockwait(s, 1, 0xa0, 4, 1 * SEC); /* 2 waits for 4 */
    lockwait(s, 3, 0xb0, 2, 2 * SEC); /* 4 waits for 2 */
    lockwait(s, 2, 0xa0, 4, 1 * SEC); /* 3 waits for 4: into the cycle */
    lockwait(s, 4, 0xc0, 1, 1 * SEC); /* 5 waits for 1, running */
    s->g[4].site = 3;
    park(s, 5, GRT_SHM_WAIT_CHAN_SEND, 0xd0, 1 * SEC);

    struct rd_leaks *l = find(s, 0);
    ck_assert_uint_eq(l->ncycles, 1);
    ck_assert_uint_eq(l->ncycle, 2);
    ck_assert_int_eq(l->cycle[0], 2); /* from the smallest goid */
    ck_assert_int_eq(l->cycle[1], 4);
    ck_assert_uint_eq(l->nproven, 3);
    ck_assert_uint_eq(l->nsuspected, 0); /* the others are young */
    ck_assert_int_eq(l->kind[2], RD_LEAK_CYCLE);
    ck_assert_int_eq(l->kind[4], 0);
    ck_assert_int_eq(l->owner[1], 4);
    ck_assert_int_eq(l->owner[3], 2);
    ck_assert_int_eq(l->owner[4], 0); /* holder running: not current */
    ck_assert_int_eq(rd_leak_owner(s, 3), 2);
    ck_assert_int_eq(rd_leak_owner(s, 4), 0);
    ck_assert_int_eq(l->groups[0].kind, RD_LEAK_CYCLE);
    ck_assert_uint_eq(l->groups[0].n, 3);
    ck_assert_int_eq(l->groups[0].wait_reason, GRT_SHM_WAIT_MUTEX_LOCK);
    ck_assert_uint_eq(l->groups[0].wait_obj, 0); /* a0 and b0 */
    rd_leaks_free(l);

    /* the holder 4 unlocked a contended mutex after 2 looked: 2's edge
     * may be stale, so nothing is proven */
    s->g[3].unlock_ns = s->g[1].wait_since - 1 * MS;
    l = find(s, 0);
    ck_assert_uint_eq(l->ncycles, 0);
    ck_assert_uint_eq(l->nproven, 0);
    ck_assert_int_eq(l->owner[1], 0);
    rd_leaks_free(l);
    /* ... but well before it looked is fine */
    s->g[3].unlock_ns = s->g[1].wait_since - 500 * MS;
    l = find(s, 0);
    ck_assert_uint_eq(l->ncycles, 1);
    rd_leaks_free(l);

    /* a torn holder proves nothing */
    s->g[3].torn = true;
    l = find(s, 0);
    ck_assert_uint_eq(l->ncycles, 0);
    rd_leaks_free(l);
    snap_free(s);
}
END_TEST

START_TEST(t_cycles_many)
{
    /* a goroutine locking a mutex it holds, and a cycle of three */
    struct rd_snapshot *s = snap_new(5);
    s->g[0].status = GRT_SHM_G_SYSCALL;
    lockwait(s, 1, 0x10, 2, 1 * SEC); /* 2 -> 2 */
    lockwait(s, 2, 0x20, 5, 1 * SEC); /* 3 -> 5 */
    lockwait(s, 3, 0x30, 3, 1 * SEC); /* 4 -> 3 */
    park(s, 4, GRT_SHM_WAIT_RWMUTEX_LOCK, 0x40, 1 * SEC);
    s->g[4].wait_owner = 4;           /* 5 -> 4 */
    struct rd_leaks *l = find(s, 0);
    ck_assert_uint_eq(l->ncycles, 2);
    ck_assert_uint_eq(l->nproven, 4);
    size_t three = l->cycles[0].n == 3 ? 0 : 1;
    ck_assert_uint_eq(l->cycles[three].n, 3);
    ck_assert_int_eq(l->cycles[three].goids[0], 3);
    ck_assert_int_eq(l->cycles[three].goids[1], 5);
    ck_assert_int_eq(l->cycles[three].goids[2], 4);
    ck_assert_uint_eq(l->cycles[1 - three].n, 1);
    ck_assert_int_eq(l->cycles[1 - three].goids[0], 2);
    rd_leaks_free(l);
    snap_free(s);
}
END_TEST

/* Spoil case k of an all-asleep snapshot; its name, NULL past the last. */
static const char *spoil(int k, struct rd_snapshot *x)
{
    switch (k) {
    case 0:
        park(x, 3, GRT_SHM_WAIT_SLEEP, 0, 1 * SEC);
        return "a sleeper";
    case 1:
        park(x, 3, GRT_SHM_WAIT_IO, 0, 1 * SEC);
        return "an I/O wait";
    case 2:
        x->g[1].status = GRT_SHM_G_RUNNABLE;
        return "a runnable goroutine";
    case 3:
        x->p[1].ntimers = 1;
        return "a timer";
    case 4:
        x->p[0].runq = 1;
        return "a run queue";
    case 5:
        x->p[0].runnext = 1;
        return "a runnext";
    case 6:
        x->p[0].status = GRT_SHM_P_RUNNING;
        return "a running P";
    case 7:
        x->m[1].curg = 3;
        return "a thread running a goroutine";
    case 8:
        x->m[1].flags = GRT_SHM_MF_BLOCKED;
        return "a blocked thread";
    case 9:
        x->p[1].updated_ns -= 995 * MS;
        return "a stale P record";
    case 10:
        x->m[0].updated_ns -= 995 * MS;
        return "a stale M record";
    case 11:
        x->ntorn = 1;
        return "a torn goroutine";
    case 12:
        x->ntorn_other = 1;
        return "a torn P";
    case 13:
        x->flags = GRT_SHM_F_EXITING;
        return "an exiting program";
    case 14:
        x->np = 0;
        return "no P records";
    case 15:
        x->g[2].status = GRT_SHM_G_SYSCALL;
        return "a goroutine in a call";
    default:
        return NULL;
    }
}

START_TEST(t_asleep)
{
    struct rd_snapshot *s = snap_new(4);
    park(s, 0, GRT_SHM_WAIT_WAITGROUP, 0x10, 2 * SEC);
    park(s, 1, GRT_SHM_WAIT_CHAN_RECV, 0x20, 1 * SEC);
    park(s, 2, GRT_SHM_WAIT_CHAN_RECV, 0x20, 1 * SEC);
    park(s, 3, GRT_SHM_WAIT_COND, 0x30, 1 * SEC);
    s->g[3].site = 2;
    struct rd_leaks *l = find(s, 0);
    ck_assert(l->all_asleep);
    ck_assert_uint_eq(l->nproven, 4);
    ck_assert_uint_eq(l->nsuspected, 0);
    ck_assert_int_eq(l->groups[0].kind, RD_LEAK_ASLEEP);
    ck_assert_int_eq(l->groups[0].wait_reason, GRT_SHM_WAIT_CHAN_RECV);
    ck_assert_uint_eq(l->groups[0].wait_obj, 0x20);
    ck_assert_uint_eq(l->groups[0].n, 2);
    rd_leaks_free(l);

    /* each of these leaves a way out, or shows too little */
    for (int k = 0;; k++) {
        struct rd_snapshot *t = snap_new(4);
        memcpy(t->g, s->g, 4 * sizeof *t->g);
        const char *what = spoil(k, t);
        if (!what) {
            snap_free(t);
            break;
        }
        l = find(t, 0);
        ck_assert_msg(!l->all_asleep, "all asleep despite %s", what);
        ck_assert_uint_eq(l->nproven, 0);
        rd_leaks_free(l);
        t->np = 2;
        snap_free(t);
    }
    snap_free(s);
}
END_TEST

START_TEST(t_empty_and_bad)
{
    struct rd_snapshot *s = snap_new(0);
    struct rd_leaks *l = find(s, 0);
    ck_assert_uint_eq(l->ngroups, 0);
    ck_assert(!l->all_asleep);
    rd_leaks_free(l);
    ck_assert_int_eq(rd_leaks_find(NULL, 0, 0, &l), RD_EINVAL);
    ck_assert_int_eq(rd_leaks_find(s, 0, 0, NULL), RD_EINVAL);
    struct rd_leak_counts c;
    ck_assert_int_eq(rd_leaks_count(NULL, 0, 0, &c), RD_EINVAL);
    ck_assert_int_eq(rd_leaks_count(s, 0, 0, NULL), RD_EINVAL);
    rd_leaks_free(NULL);
    ck_assert(rd_leak_reason(GRT_SHM_WAIT_COND));
    ck_assert(!rd_leak_reason(GRT_SHM_WAIT_SLEEP));
    ck_assert_str_eq(rd_leak_kind_name(RD_LEAK_CYCLE), "mutex cycle");
    ck_assert_int_eq(rd_leak_owner(s, 0), 0);
    snap_free(s);
}
END_TEST

/* ---- live programs ---- */

static grt_mutex m1 = GRT_MUTEX_INIT, m2 = GRT_MUTEX_INIT;
static grt_chan *both_locked;

static void locker_a(void *arg)
{
    (void)arg;
    grt_mutex_lock(&m1);
    grt_chan_send(both_locked, NULL);
    grt_chan_send(both_locked, NULL);
    grt_mutex_lock(&m2); /* held by b: parks for ever */
}

static void locker_b(void *arg)
{
    (void)arg;
    grt_mutex_lock(&m2);
    grt_chan_recv(both_locked, NULL);
    grt_chan_recv(both_locked, NULL);
    grt_mutex_lock(&m1); /* held by a */
}

static grt_mutex hot = GRT_MUTEX_INIT;
static grt_rwmutex hot_rw = GRT_RWMUTEX_INIT;
static uint64_t hot_n; /* bumped under two different locks: atomic */

static void hammer(void *arg)
{
    long k = (long)arg;
    for (uint64_t i = 0;; i++) {
        if (k % 2) {
            grt_mutex_lock(&hot);
            __atomic_fetch_add(&hot_n, 1, __ATOMIC_RELAXED);
            if (i % 64 == 0)
                grt_yield(); /* holders park now and then */
            grt_mutex_unlock(&hot);
        } else if (i % 3 == 0) {
            grt_rwmutex_lock(&hot_rw);
            __atomic_fetch_add(&hot_n, 1, __ATOMIC_RELAXED);
            grt_rwmutex_unlock(&hot_rw);
        } else {
            grt_rwmutex_rlock(&hot_rw);
            if (i % 32 == 0)
                grt_yield();
            grt_rwmutex_runlock(&hot_rw);
        }
    }
}

/* Child: either the deadlock (writes the two goids to fd) or hammers. */
static _Noreturn void child_main(int fd, bool deadlock)
{
    int64_t ids[2] = {0, 0};
    if (deadlock) {
        both_locked = grt_chan_make(0, 0);
        ids[0] = grt_go(locker_a, NULL);
        ids[1] = grt_go(locker_b, NULL);
    } else {
        for (long k = 0; k < 6; k++)
            grt_go(hammer, (void *)k);
    }
    if (write(fd, ids, sizeof ids) != (ssize_t)sizeof ids)
        _exit(1);
    close(fd);
    for (;;)
        grt_sleep(SEC);
}

static pid_t start_child(bool deadlock, int64_t ids[2])
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        signal(SIGTERM, SIG_DFL);
        close(fds[0]);
        child_main(fds[1], deadlock);
    }
    close(fds[1]);
    ck_assert_int_eq(read(fds[0], ids, 2 * sizeof *ids),
                     (ssize_t)(2 * sizeof *ids));
    close(fds[0]);
    return pid;
}

static void stop_child(pid_t pid)
{
    kill(pid, SIGTERM);
    int st;
    waitpid(pid, &st, 0);
}

static void nap(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

START_TEST(t_live_deadlock)
{
    int64_t ids[2];
    pid_t pid = start_child(true, ids);
    struct rd_target *t;
    ck_assert_int_eq(rd_attach((int)pid, &t), RD_OK);
    bool found = false;
    /* bounded: the cycle is there within milliseconds; 20 s for slow
     * sanitizer builds */
    for (int k = 0; k < 2000 && !found; k++) {
        struct rd_snapshot *s;
        ck_assert_int_eq(rd_snapshot_take(t, &s), RD_OK);
        struct rd_leaks *l = find(s, 0);
        if (l->ncycles) {
            found = true;
            ck_assert_uint_eq(l->ncycles, 1);
            ck_assert_uint_eq(l->ncycle, 2);
            int64_t lo = ids[0] < ids[1] ? ids[0] : ids[1];
            int64_t hi = ids[0] < ids[1] ? ids[1] : ids[0];
            ck_assert_int_eq(l->cycle[0], lo);
            ck_assert_int_eq(l->cycle[1], hi);
            ck_assert_uint_eq(l->nproven, 2);
            ck_assert(!l->all_asleep); /* main sleeps */
        }
        rd_leaks_free(l);
        rd_snapshot_free(s);
        if (!found)
            nap(10);
    }
    ck_assert_msg(found, "the deadlock of goroutines %ld and %ld was not "
                         "found", (long)ids[0], (long)ids[1]);
    rd_detach(t);
    stop_child(pid);
}
END_TEST

START_TEST(t_live_no_false_cycle)
{
    int64_t ids[2];
    pid_t pid = start_child(false, ids);
    struct rd_target *t;
    ck_assert_int_eq(rd_attach((int)pid, &t), RD_OK);
    size_t mutex_waits = 0;
    for (int k = 0; k < 300; k++) {
        struct rd_snapshot *s;
        ck_assert_int_eq(rd_snapshot_take(t, &s), RD_OK);
        /* a 1 ns threshold: every blocked goroutine is suspected */
        struct rd_leaks *l = find(s, 1);
        ck_assert_uint_eq(l->ncycles, 0);
        ck_assert_uint_eq(l->nproven, 0);
        for (size_t i = 0; i < s->ng; i++)
            if (s->g[i].status == GRT_SHM_G_WAITING &&
                s->g[i].wait_reason != GRT_SHM_WAIT_SLEEP)
                mutex_waits++;
        rd_leaks_free(l);
        rd_snapshot_free(s);
        nap(2);
    }
    rd_detach(t);
    stop_child(pid);
    /* not asserted (depends on the machine): the mutexes were contended */
    if (mutex_waits == 0)
        fprintf(stderr, "check_leaks: no goroutine seen parked on the hot "
                        "mutexes\n");
}
END_TEST

static Suite *leaks_suite(void)
{
    Suite *s = suite_create("leaks");
    TCase *tc = tcase_create("rules");
    tcase_add_test(tc, t_suspected);
    tcase_add_test(tc, t_cycle);
    tcase_add_test(tc, t_cycles_many);
    tcase_add_test(tc, t_asleep);
    tcase_add_test(tc, t_empty_and_bad);
    suite_add_tcase(s, tc);
    tc = tcase_create("live");
    tcase_set_timeout(tc, TU_TIMEOUT);
    tcase_add_test(tc, t_live_deadlock);
    tcase_add_test(tc, t_live_no_false_cycle);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite_agent_dir(leaks_suite(), agent_dir);
}
