/*
 * check_agent.c - the writer side (agent/): the segment a program
 * publishes, read back through the reader library, against what the
 * runtime knows.
 *
 *   segment   the file (place, mode, owner), its header, goroutine 1
 *   records   goroutines parked on a channel appear with "chan receive"
 *             and the channel's record counts them; every wait reason
 *             shows Go's text; creation sites and names; counts per
 *             state match the runtime's after churn; M, P and sample
 *             records; a stack dump of the test's own goroutines
 *   life      the file goes away at exit and on SIGTERM, stays (stale)
 *             after _exit, which readers recognise and clean up, as a
 *             new program does at start-up; a forked child does not take
 *             it away; GRT_AGENT=0; a bad directory is refused with one
 *             line on stderr and the program runs on
 *   trust     pid reuse (start time), foreign owner (as root), symbolic
 *             links and loose modes are refused
 *
 * Each program's segments go to a private directory (mkdtemp under
 * /dev/shm, exported as GRT_AGENT_DIR), removed at the end.  Tests that
 * start the runtime do so inside their own forked process (testutil.h).
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <grt.h>

#include "reader.h"
#include "testutil.h"

static char agent_dir[] = "/dev/shm/grt-check-agent-XXXXXX";

static void seg_path(char *buf, size_t len, int pid)
{
    snprintf(buf, len, "%s/%d", agent_dir, pid);
}

static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static void remove_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char p[4200];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
}

/* Take snapshots of our own segment until pred holds (the sampler
 * refreshes M, P, channel and sample records ten times a second);
 * returns the snapshot that satisfied it.  Sleeps as a goroutine. */
static struct rd_snapshot *
snapshot_until(struct rd_target *t, bool (*pred)(struct rd_snapshot *, void *),
               void *arg)
{
    for (;;) {
        struct rd_snapshot *s;
        ck_assert_int_eq(rd_snapshot_take(t, &s), RD_OK);
        if (pred(s, arg))
            return s;
        rd_snapshot_free(s);
        grt_sleep(5000000);
    }
}

static struct rd_target *attach_self(void)
{
    grt_self(); /* the runtime (and the agent) start */
    struct rd_target *t;
    ck_assert_int_eq(rd_attach((int)getpid(), &t), RD_OK);
    return t;
}

/* ---------------------------------------------------------------------
 * segment
 * --------------------------------------------------------------------- */

START_TEST(t_segment_created)
{
    int64_t me = grt_self();
    ck_assert_int_eq(me, 1);
    char path[4200];
    seg_path(path, sizeof path, (int)getpid());
    struct stat st;
    ck_assert_int_eq(lstat(path, &st), 0);
    ck_assert(S_ISREG(st.st_mode));
    ck_assert_int_eq(st.st_mode & 07777, 0600);
    ck_assert_uint_eq(st.st_uid, geteuid());
    struct stat dst;
    ck_assert_int_eq(stat(agent_dir, &dst), 0);
    ck_assert_int_eq(dst.st_mode & 022, 0);

    struct rd_target *t;
    ck_assert_int_eq(rd_attach((int)getpid(), &t), RD_OK);
    ck_assert_int_eq(rd_target_check(t), RD_OK);
    struct rd_snapshot *s;
    ck_assert_int_eq(rd_snapshot_take(t, &s), RD_OK);
    ck_assert_int_eq(s->pid, (int)getpid());
    ck_assert_uint_eq(s->version, GRT_SHM_VERSION);
    ck_assert_str_eq(s->name, "check_agent");
    ck_assert_int_ge(s->argc, 1);
    ck_assert_ptr_nonnull(strstr(s->argv[0], "check_agent"));
    ck_assert_ptr_nonnull(strstr(s->exe, "check_agent"));
    ck_assert_str_eq(s->grt_version, "0.1.0");
    ck_assert_str_eq(rd_wait_name(s, GRT_SHM_WAIT_CHAN_RECV), "chan receive");
    ck_assert_uint_eq(s->ng, 1);
    ck_assert_int_eq(s->g[0].goid, 1);
    ck_assert_int_eq(s->g[0].status, GRT_SHM_G_RUNNING);
    ck_assert_uint_eq(s->g[0].flags & GRT_SHM_GF_MAIN, GRT_SHM_GF_MAIN);
    ck_assert_int_ge(s->g[0].m_id, 0);
    ck_assert_int_ge(s->g[0].p_id, 0);
    ck_assert_uint_gt(s->start_ticks, 0);
    rd_snapshot_free(s);
    rd_detach(t);
}
END_TEST

/* ---------------------------------------------------------------------
 * records
 * --------------------------------------------------------------------- */

enum { NRECV = 200 };

static grt_chan *the_chan;

static void receiver(void *arg)
{
    (void)arg;
    int v;
    grt_chan_recv(the_chan, &v);
}

struct chan_want {
    size_t waiting; /* goroutines waiting on the channel, "chan receive" */
    bool record;    /* its record counts NRECV receivers */
    bool closed;
};

static bool chan_pred(struct rd_snapshot *s, void *arg)
{
    struct chan_want *w = arg;
    uint64_t addr = (uint64_t)(uintptr_t)the_chan;
    size_t n = 0;
    for (size_t i = 0; i < s->ng; i++)
        if (s->g[i].status == GRT_SHM_G_WAITING &&
            strcmp(rd_wait_name(s, s->g[i].wait_reason), "chan receive") == 0 &&
            s->g[i].wait_obj == addr)
            n++;
    if (n != w->waiting)
        return false;
    for (size_t i = 0; i < s->nchan; i++) {
        const struct rd_chan *c = &s->chan[i];
        if (c->addr != addr)
            continue;
        ck_assert_str_eq(c->name, "jobs");
        ck_assert_uint_eq(c->elem_size, sizeof(int));
        ck_assert_uint_eq(c->cap, 0);
        if (w->closed)
            return (c->flags & GRT_SHM_CF_CLOSED) && c->nrecv == 0;
        return !w->record ||
               (c->nrecv == NRECV && c->nsend == 0 && c->oldest_wait > 0);
    }
    return false;
}

START_TEST(t_chan_receivers)
{
    struct rd_target *t = attach_self();
    the_chan = grt_chan_make(sizeof(int), 0);
    grt_chan_set_name(the_chan, "jobs");
    for (int i = 0; i < NRECV; i++)
        grt_go(receiver, NULL);
    struct chan_want w = {NRECV, true, false};
    struct rd_snapshot *s = snapshot_until(t, chan_pred, &w);
    /* and the per-state counts of the newest sample agree, eventually */
    rd_snapshot_free(s);
    grt_chan_close(the_chan);
    tu_wait_goroutines(1);
    w = (struct chan_want){0, false, true};
    s = snapshot_until(t, chan_pred, &w);
    rd_snapshot_free(s);
    grt_chan_free(the_chan);
    /* freed: its record is gone */
    ck_assert_int_eq(rd_snapshot_take(t, &s), RD_OK);
    for (size_t i = 0; i < s->nchan; i++)
        ck_assert_uint_ne(s->chan[i].addr, (uint64_t)(uintptr_t)the_chan);
    rd_snapshot_free(s);
    rd_detach(t);
}
END_TEST

/* One goroutine per wait reason. */
static grt_mutex held = GRT_MUTEX_INIT;
static grt_wg never = GRT_WG_INIT;
static grt_chan *full_chan;

static void w_sleep(void *a)
{
    (void)a;
    grt_sleep(60LL * 1000000000);
}
static void w_mutex(void *a)
{
    (void)a;
    grt_mutex_lock(&held);
    grt_mutex_unlock(&held);
}
static void w_wg(void *a)
{
    (void)a;
    grt_wg_wait(&never);
}
static void w_send(void *a)
{
    (void)a;
    int v = 1;
    grt_chan_send(full_chan, &v);
}
static grt_chan *quiet[2]; /* nobody sends on them */

static void w_select(void *a)
{
    (void)a;
    int v;
    grt_case cs[2] = {{quiet[0], GRT_RECV, &v, false},
                      {quiet[1], GRT_RECV, &v, false}};
    grt_select(cs, 2, false);
}
static void w_nil(void *a)
{
    (void)a;
    int v;
    grt_chan_recv(NULL, &v);
}

struct reason_want {
    const char *text;
    bool seen;
};
static struct reason_want reasons[] = {
    {"sleep", false},
    {"sync.Mutex.Lock", false},
    {"sync.WaitGroup.Wait", false},
    {"chan send", false},
    {"select", false},
    {"chan receive (nil chan)", false},
};
#define NREASONS (sizeof reasons / sizeof *reasons)

static bool reasons_pred(struct rd_snapshot *s, void *arg)
{
    (void)arg;
    size_t seen = 0;
    for (size_t k = 0; k < NREASONS; k++) {
        reasons[k].seen = false;
        for (size_t i = 0; i < s->ng; i++)
            if (s->g[i].status == GRT_SHM_G_WAITING &&
                strcmp(rd_wait_name(s, s->g[i].wait_reason), reasons[k].text) ==
                    0)
                reasons[k].seen = true;
        seen += reasons[k].seen;
    }
    return seen == NREASONS;
}

START_TEST(t_wait_reasons)
{
    struct rd_target *t = attach_self();
    full_chan = grt_chan_make(sizeof(int), 0);
    quiet[0] = grt_chan_make(sizeof(int), 0);
    quiet[1] = grt_chan_make(sizeof(int), 0);
    grt_mutex_lock(&held);
    grt_wg_add(&never, 1);
    grt_go(w_sleep, NULL);
    grt_go(w_mutex, NULL);
    grt_go(w_wg, NULL);
    grt_go(w_send, NULL);
    grt_go(w_select, NULL);
    grt_go(w_nil, NULL);
    struct rd_snapshot *s = snapshot_until(t, reasons_pred, NULL);
    rd_snapshot_free(s);
    rd_detach(t);
}
END_TEST

static void named_fn(void *arg)
{
    grt_chan_recv(arg, NULL);
}

START_TEST(t_sites_and_names)
{
    struct rd_target *t = attach_self();
    grt_chan *c = grt_chan_make(0, 0);
    int line = __LINE__ + 1;
    int64_t id = grt_go_named("worker-7", named_fn, c);
    grt_yield();
    struct rd_snapshot *s;
    ck_assert_int_eq(rd_snapshot_take(t, &s), RD_OK);
    const struct rd_g *g = NULL;
    for (size_t i = 0; i < s->ng; i++)
        if (s->g[i].goid == id)
            g = &s->g[i];
    ck_assert_ptr_nonnull(g);
    ck_assert_str_eq(g->name, "worker-7");
    ck_assert_uint_eq(g->flags & GRT_SHM_GF_NAMED, GRT_SHM_GF_NAMED);
    ck_assert_int_eq(g->parent_goid, 1);
    ck_assert_uint_gt(g->stack_reserved, 0);
    ck_assert_uint_ge(g->site, 1);
    ck_assert_uint_le(g->site, s->nsite);
    const struct rd_site *site = &s->site[g->site - 1];
    ck_assert_str_eq(site->fn, "named_fn");
    ck_assert_str_eq(site->caller, "t_sites_and_names_fn");
    ck_assert_ptr_nonnull(strstr(site->file, "check_agent.c"));
    ck_assert_int_eq(site->line, line);
    rd_snapshot_free(s);
    grt_chan_close(c);
    tu_wait_goroutines(1);
    /* the same G struct reused by an unnamed goroutine loses the name */
    int64_t id2 = grt_go(named_fn, c);
    tu_wait_goroutines(1);
    (void)id2;
    grt_chan_free(c);
    rd_detach(t);
}
END_TEST

/* Committed stack bytes: a goroutine that wrote 80 KiB of stack and
 * then parked shows at least 64 KiB, counted from the top of its stack
 * (whose first page is not page aligned); main's stack too. */
static void deep_fn(void *arg)
{
    /* 80 KiB of this goroutine's stack, every page written (a compiler
     * may fold a recursion; it may not skip these stores) */
    char buf[80 * 1024];
    memset(buf, 1, sizeof buf);
    __asm__ volatile("" : : "r"(buf) : "memory");
    grt_chan_recv(arg, NULL);
    __asm__ volatile("" : : "r"(buf) : "memory");
}

struct stack_want {
    int64_t goid;
};

static bool stack_pred(struct rd_snapshot *s, void *arg)
{
    struct stack_want *w = arg;
    bool deep_ok = false, main_ok = false;
    for (size_t i = 0; i < s->ng; i++) {
        const struct rd_g *g = &s->g[i];
        if (g->goid == w->goid)
            deep_ok = g->stack_committed >= 64 * 1024 &&
                      g->stack_committed <= g->stack_reserved;
        if (g->goid == 1)
            main_ok = g->stack_committed > 0;
    }
    return deep_ok && main_ok;
}

START_TEST(t_stack_committed)
{
    struct rd_target *t = attach_self();
    grt_chan *c = grt_chan_make(0, 0);
    struct stack_want w = {grt_go(deep_fn, c)};
    struct rd_snapshot *s = snapshot_until(t, stack_pred, &w);
    for (size_t i = 0; i < s->ng; i++)
        if (s->g[i].goid == w.goid)
            ck_assert_uint_eq(s->g[i].stack_reserved % 4096, 0);
    rd_snapshot_free(s);
    grt_chan_close(c);
    tu_wait_goroutines(1);
    grt_chan_free(c);
    rd_detach(t);
}
END_TEST

static void churn_child(void *arg)
{
    grt_wg *wg = arg;
    grt_yield();
    grt_wg_done(wg);
}

static void parked_forever(void *arg)
{
    grt_chan_recv(arg, NULL);
}

struct count_want {
    int live;
};

static bool counts_pred(struct rd_snapshot *s, void *arg)
{
    struct count_want *w = arg;
    if (!s->have_stats || s->stats.goroutines != (uint64_t)w->live)
        return false;
    /* the state counts of that sample were taken after the churn; main
     * may be counted asleep (in snapshot_until) or running */
    uint32_t total = 0;
    for (int i = GRT_SHM_G_RUNNABLE; i <= GRT_SHM_G_SYSCALL; i++)
        total += s->stats.nstate[i];
    uint32_t main_asleep = s->stats.nwait[GRT_SHM_WAIT_SLEEP];
    return total == (uint32_t)w->live && main_asleep <= 1 &&
           s->stats.nstate[GRT_SHM_G_WAITING] ==
               (uint32_t)w->live - 1 + main_asleep &&
           s->stats.nwait[GRT_SHM_WAIT_CHAN_RECV] == (uint32_t)w->live - 1;
}

START_TEST(t_counts_after_churn)
{
    struct rd_target *t = attach_self();
    grt_chan *c = grt_chan_make(0, 0);
    for (int round = 0; round < 5; round++) {
        grt_wg wg = GRT_WG_INIT;
        grt_wg_add(&wg, 300);
        for (int i = 0; i < 300; i++)
            grt_go(churn_child, &wg);
        grt_wg_wait(&wg);
    }
    for (int i = 0; i < 50; i++)
        grt_go(parked_forever, c);
    tu_wait_goroutines(51);
    while (grt_num_goroutine() != 51)
        grt_yield();
    /* the records: exactly the live goroutines, states as the runtime */
    for (;;) {
        struct rd_snapshot *s;
        ck_assert_int_eq(rd_snapshot_take(t, &s), RD_OK);
        size_t waiting = 0;
        for (size_t i = 0; i < s->ng; i++)
            waiting += s->g[i].status == GRT_SHM_G_WAITING;
        size_t ng = s->ng;
        rd_snapshot_free(s);
        if (ng == 51 && waiting == 50)
            break;
        grt_yield();
    }
    struct count_want w = {51};
    struct rd_snapshot *s = snapshot_until(t, counts_pred, &w);
    ck_assert_uint_eq(s->stats.created, s->stats.exited + 51);
    ck_assert_uint_ge(s->stats.created, 1 + 5 * 300 + 50);
    /* the objects made for the program (version 3), as grt_read_memstats
     * counts them: nothing was made or freed since that sample */
    grt_memstats ms;
    grt_read_memstats(&ms);
    ck_assert(s->stats.have_objects);
    ck_assert_uint_eq(s->stats.mallocs, ms.mallocs);
    ck_assert_uint_eq(s->stats.frees, ms.frees);
    ck_assert_uint_eq(s->stats.total_alloc, ms.total_alloc);
    ck_assert_uint_ge(s->stats.mallocs, s->stats.created + 1); /* and c */
    ck_assert_uint_ge(s->stats.frees, s->stats.exited);
    rd_snapshot_free(s);
    grt_chan_close(c);
    tu_wait_goroutines(1);
    grt_chan_free(c);
    rd_detach(t);
}
END_TEST

static bool mp_pred(struct rd_snapshot *s, void *arg)
{
    (void)arg;
    return s->nm >= 1 && s->np >= 1 && s->have_stats;
}

START_TEST(t_threads_and_processors)
{
    struct rd_target *t = attach_self();
    struct rd_snapshot *s = snapshot_until(t, mp_pred, NULL);
    ck_assert_uint_eq(s->np, (size_t)grt_maxprocs(0));
    ck_assert_uint_eq(s->stats.maxprocs, (uint32_t)grt_maxprocs(0));
    const struct rd_m *m0 = NULL;
    for (size_t i = 0; i < s->nm; i++)
        if (s->m[i].id == 0)
            m0 = &s->m[i];
    ck_assert_ptr_nonnull(m0);
    ck_assert_int_eq(m0->tid, (int32_t)getpid()); /* the main thread */
    for (size_t i = 0; i < s->np; i++) {
        ck_assert_int_eq(s->p[i].id, (int32_t)i);
        ck_assert_int_le(s->p[i].status, GRT_SHM_P_DEAD);
    }
    rd_snapshot_free(s);

    /* the sample ring advances */
    struct rd_sample out[64];
    uint64_t cursor = 0, lost = 0;
    size_t n = 0, total = 0;
    int64_t last = 0;
    uint64_t last_index = 0;
    while (total < 3) {
        ck_assert_int_eq(rd_samples_read(t, &cursor, out, 64, &n, &lost),
                         RD_OK);
        for (size_t i = 0; i < n; i++) {
            if (total)
                ck_assert_uint_eq(out[i].index, last_index + 1);
            ck_assert_int_gt(out[i].mono_ns, last);
            last = out[i].mono_ns;
            last_index = out[i].index;
            total++;
        }
        grt_sleep(50000000);
    }
    ck_assert_uint_eq(lost, 0);
    rd_detach(t);
}
END_TEST

/* Not a tail call (v stays live), so it keeps a frame of its own. */
static TU_NOINLINE void dump_target(void *arg)
{
    int v;
    grt_chan_recv(arg, &v);
}

/* At least *arg goroutines are parked in a channel receive. */
static bool recv_parked_pred(struct rd_snapshot *s, void *arg)
{
    int n = 0;
    for (size_t i = 0; i < s->ng; i++)
        n += s->g[i].status == GRT_SHM_G_WAITING &&
             s->g[i].wait_reason == GRT_SHM_WAIT_CHAN_RECV;
    return n >= *(int *)arg;
}

START_TEST(t_dump_self)
{
    struct rd_target *t = attach_self();
    grt_chan *c = grt_chan_make(0, 0);
    for (int i = 0; i < 10; i++)
        grt_go(dump_target, c);
    /* let them park: the records say so once each is in its receive */
    int want = 10;
    rd_snapshot_free(snapshot_until(t, recv_parked_pred, &want));
    struct rd_dump *d;
    int rc = rd_dump_request(t, 0, 32, 5000, &d);
    if (rc == RD_ENODUMP) {
        rd_detach(t);
        return;
    }
    ck_assert_int_eq(rc, RD_OK);
    ck_assert_uint_eq(d->ng, 11);
    size_t parked = 0;
    for (size_t i = 0; i < d->ng; i++) {
        if (d->g[i].goid == 1) {
            /* the goroutine asking is running: caught by a signal, or
             * listed without frames where that is not possible */
            if (d->g[i].flags & GRT_SHM_DG_CAUGHT)
                ck_assert_uint_gt(d->g[i].npcs, 0);
            else
                ck_assert_uint_eq(d->g[i].npcs, 0);
        } else if (d->g[i].npcs > 0) {
            parked++;
        }
    }
    ck_assert_uint_eq(parked, 10);
    struct rd_sym *sym;
    if (rd_sym_open(d, &sym) == RD_OK) {
        for (size_t i = 0; i < d->ng; i++) {
            if (d->g[i].goid == 1)
                continue;
            bool found = false;
            for (uint32_t k = 0; k < d->g[i].npcs; k++) {
                struct rd_frame_info fi;
                if (rd_sym_lookup(sym, d->g[i].pcs[k], k > 0, &fi) == RD_OK &&
                    strcmp(fi.func, "dump_target") == 0) {
                    found = true;
                    ck_assert_ptr_nonnull(strstr(fi.file, "check_agent.c"));
                }
            }
            ck_assert_msg(found, "goroutine %ld: no dump_target frame",
                          (long)d->g[i].goid);
        }
        rd_sym_close(sym);
    }
    rd_dump_free(d);
    grt_chan_close(c);
    tu_wait_goroutines(1);
    grt_chan_free(c);
    rd_detach(t);
}
END_TEST

static int spin_stop;
static int spin_started;

/* Spins in user code (no calls) until told to stop. */
static TU_NOINLINE void spin_target(void *arg)
{
    (void)arg;
    __atomic_store_n(&spin_started, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&spin_stop, __ATOMIC_ACQUIRE))
        __asm__ volatile("" ::: "memory");
}

/* A goroutine running on another processor is caught by a signal to its
 * thread: its frames come back (flag CAUGHT) and name the function. */
START_TEST(t_dump_running)
{
    if (grt_maxprocs(0) < 2)
        return; /* the asker holds the only processor */
    struct rd_target *t = attach_self();
    __atomic_store_n(&spin_stop, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&spin_started, 0, __ATOMIC_RELEASE);
    int64_t id = grt_go(spin_target, NULL);
    while (!__atomic_load_n(&spin_started, __ATOMIC_ACQUIRE))
        grt_sleep(1000000);
    grt_sleep(20000000); /* published as running */
    struct rd_dump *d;
    int rc;
    /* a catch may time out on a loaded machine: a few are tried */
    for (int tries = 0;; tries++) {
        rc = rd_dump_request(t, id, 32, 5000, &d);
        if (rc != RD_OK || tries == 20 || d->ng != 1 ||
            (d->g[0].flags & GRT_SHM_DG_CAUGHT))
            break;
        rd_dump_free(d);
    }
    __atomic_store_n(&spin_stop, 1, __ATOMIC_RELEASE);
    if (rc == RD_ENODUMP) {
        rd_detach(t);
        return;
    }
    ck_assert_int_eq(rc, RD_OK);
    ck_assert_uint_eq(d->ng, 1);
    ck_assert_int_eq(d->g[0].goid, id);
#if defined(__x86_64__) && !defined(GRT_TSAN)
    ck_assert_msg(d->g[0].flags & GRT_SHM_DG_CAUGHT, "flags %#x",
                  d->g[0].flags);
    ck_assert_uint_gt(d->g[0].npcs, 0);
    struct rd_sym *sym;
    if (rd_sym_open(d, &sym) == RD_OK) {
        struct rd_frame_info fi;
        ck_assert_int_eq(rd_sym_lookup(sym, d->g[0].pcs[0], false, &fi),
                         RD_OK);
        ck_assert_str_eq(fi.func, "spin_target");
        rd_sym_close(sym);
    }
#else
    /* no preemption signal in this build: listed without frames */
    ck_assert_uint_eq(d->g[0].npcs, 0);
#endif
    rd_dump_free(d);
    tu_wait_goroutines(1);
    rd_detach(t);
}
END_TEST

/* ---- dumps at once: the agent's and the program's own ---- */

#define CD_BUF (64 * 1024)
#define CD_ROUNDS 30

/* Is text a well-formed in-program dump (Go's grammar, as
 * tests/go-traceback.awk reads it)?  Blocks of a header "goroutine N
 * [...]:", frames (a "F(...)" line and a "\tFILE:LINE" line each, maybe
 * "...additional frames elided..."), or one "\t(no frames: ...)" note,
 * then "created by ... in goroutine N" and its "\t..." line (not for
 * goroutine 1), then a blank line; each goroutine once, caller_id first
 * and running.  NULL when it is, else what is wrong (static). */
static const char *dump_malformed(const char *text, int64_t caller_id)
{
    enum { W_HDR, W_FIRST, W_FILE, W_MORE, W_AFTER, W_CFILE, W_END };
    static char why[1200];
    int w = W_HDR;
    int64_t ids[256];
    size_t nids = 0;
    for (const char *p = text; *p;) {
        const char *e = strchr(p, '\n');
        if (!e) {
            snprintf(why, sizeof why, "no newline at the end: %.200s", p);
            return why;
        }
        char line[1024];
        size_t len = (size_t)(e - p);
        if (len >= sizeof line)
            len = sizeof line - 1;
        memcpy(line, p, len);
        line[len] = 0;
        p = e + 1;
        const char *bad = NULL;
        switch (w) {
        case W_HDR: {
            long long id;
            int k = 0;
            if (sscanf(line, "goroutine %lld [%n", &id, &k) != 1 || !k ||
                len < 3 || strcmp(line + len - 2, "]:") != 0) {
                bad = "not a header";
                break;
            }
            if (nids == 0 && (id != caller_id ||
                              strncmp(line + k, "running]", 8) != 0)) {
                bad = "the caller is not first and running";
                break;
            }
            for (size_t i = 0; i < nids; i++)
                if (ids[i] == id)
                    bad = "a goroutine twice";
            if (nids < sizeof ids / sizeof ids[0])
                ids[nids++] = id;
            w = W_FIRST;
            break;
        }
        case W_FIRST:
        case W_MORE:
        case W_AFTER:
            if (strncmp(line, "created by ", 11) == 0 &&
                strstr(line, " in goroutine "))
                w = W_CFILE;
            else if (len == 0 && ids[nids - 1] == 1)
                w = W_HDR; /* goroutine 1 has no creator */
            else if (w != W_AFTER && len > 5 &&
                     strcmp(line + len - 5, "(...)") == 0)
                w = W_FILE;
            else if (w == W_FIRST && strncmp(line, "\t(no frames: ", 13) == 0 &&
                     line[len - 1] == ')')
                w = W_AFTER;
            else if (w == W_MORE &&
                     strcmp(line, "...additional frames elided...") == 0)
                w = W_AFTER;
            else
                bad = "not a frame, note or creator";
            break;
        case W_FILE:
            if (line[0] != '\t' || !strchr(line, ':'))
                bad = "not a file:line";
            w = W_MORE;
            break;
        case W_CFILE:
            if (line[0] != '\t')
                bad = "not the creator's file:line";
            w = W_END;
            break;
        default:
            if (len != 0)
                bad = "no blank line after a goroutine";
            w = W_HDR;
            break;
        }
        if (bad) {
            snprintf(why, sizeof why, "%s: \"%s\"", bad, line);
            return why;
        }
    }
    if (w != W_HDR)
        return "cut short";
    if (nids == 0)
        return "no goroutine";
    return NULL;
}

static int cd_stop;     /* the ping-pong pair stops */
static int cd_done;     /* dumpers finished */
static int cd_rounds;   /* dumps taken by the dumpers */
static char cd_bad[2][CD_BUF + 1300]; /* a dumper's first bad dump */
/* spinner, ping, pong, dumper 0, dumper 1 (atomic: a dumper may start
 * before the other's id is stored) */
static int64_t cd_ids[5];

/* Check one dump of dumper k; keep the first bad one. */
static void cd_check(int k, const char *text)
{
    const char *why = dump_malformed(text, grt_self());
#if defined(HAVE_LIBUNWIND) && defined(HAVE_LIBDW)
    /* frames, when a goroutine has them, are its own */
    static const char *const fns[] = {"spin_target(...)", "cd_ping(...)",
                                      "cd_pong(...)", "cd_dumper(...)",
                                      "cd_dumper(...)"};
    for (int i = 0; i < 5 && !why; i++) {
        char hdr[48];
        snprintf(hdr, sizeof hdr, "\ngoroutine %lld [",
                 (long long)__atomic_load_n(&cd_ids[i], __ATOMIC_ACQUIRE));
        const char *h = strstr(text, hdr); /* its header line */
        if (h)
            h++;
        else if (strncmp(text, hdr + 1, strlen(hdr + 1)) == 0)
            h = text;
        else
            continue;
        const char *end = strstr(h, "\n\n");
        const char *f = strstr(h, "(...)\n");
        const char *own = strstr(h, fns[i]);
        if (f && f < end && !(own && own < end))
            why = "a goroutine with frames not its own";
        /* the spinner was interrupted in its own loop: first frame */
        if (i == 0 && f && f < end && own != strchr(h, '\n') + 1)
            why = "the spinner's first frame is not spin_target";
        /* a dumper caught inside grt_dump: what libgrt called (libdw,
         * libunwind, its futex wait) is hidden with it */
        static const char *const hidden[] = {"libdw", "libunwind",
                                             "\nsyscall(", "dwarf_", "dwfl_"};
        for (int j = 0; i >= 3 && j < 5; j++) {
            const char *x = strstr(h, hidden[j]);
            if (x && x < end)
                why = "a frame libgrt called is shown";
        }
    }
#endif
    if (why && !cd_bad[k][0])
        snprintf(cd_bad[k], sizeof cd_bad[k], "%s in:\n%s", why, text);
}

static grt_chan *cd_a, *cd_b; /* ping -> pong, pong -> ping */

/* Run and park in turn with cd_pong until told to stop. */
static TU_NOINLINE void cd_ping(void *arg)
{
    (void)arg;
    int v = 0;
    while (!__atomic_load_n(&cd_stop, __ATOMIC_ACQUIRE)) {
        grt_chan_send(cd_a, &v);
        grt_chan_recv(cd_b, &v);
        v++;
    }
    grt_chan_close(cd_a);
}

static TU_NOINLINE void cd_pong(void *arg)
{
    (void)arg;
    int v;
    while (grt_chan_recv(cd_a, &v))
        grt_chan_send(cd_b, &v);
}

/* Dump every goroutine CD_ROUNDS times: dumper 0 with grt_stack, dumper
 * 1 with grt_dump to a file. */
static TU_NOINLINE void cd_dumper(void *arg)
{
    int k = (int)(intptr_t)arg;
    static char bufs[2][CD_BUF];
    char *buf = bufs[k];
    for (int r = 0; r < CD_ROUNDS; r++) {
        if (k == 0) {
            size_t n = grt_stack(buf, CD_BUF, true);
            tu_check(n < CD_BUF);
        } else {
            FILE *f = tmpfile();
            tu_check(f != NULL);
            grt_dump(f);
            rewind(f);
            size_t n = fread(buf, 1, CD_BUF - 1, f);
            buf[n] = 0;
            fclose(f);
        }
        cd_check(k, buf);
        __atomic_fetch_add(&cd_rounds, 1, __ATOMIC_RELAXED);
    }
    __atomic_fetch_add(&cd_done, 1, __ATOMIC_RELEASE);
}

static void cd_start(int i, void (*fn)(void *), void *arg)
{
    __atomic_store_n(&cd_ids[i], grt_go(fn, arg), __ATOMIC_RELEASE);
}

/* Two goroutines dump every goroutine at once, while the agent answers
 * a reader's dumps and a goroutine spins on a processor and two others
 * run and park in turn: the catches of running goroutines (one slot per
 * thread, any number of dumpers) never mix answers up, and every dump is
 * well-formed. */
START_TEST(t_dump_concurrent)
{
    struct rd_target *t = attach_self();
    grt_maxprocs(4); /* the spinner, both dumpers and the rest at once */
    __atomic_store_n(&spin_stop, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&spin_started, 0, __ATOMIC_RELEASE);
    cd_start(0, spin_target, NULL);
    cd_a = grt_chan_make(sizeof(int), 0);
    cd_b = grt_chan_make(sizeof(int), 0);
    cd_start(1, cd_ping, NULL);
    cd_start(2, cd_pong, NULL);
    while (!__atomic_load_n(&spin_started, __ATOMIC_ACQUIRE))
        grt_sleep(1000000);
    cd_start(3, cd_dumper, (void *)(intptr_t)0);
    cd_start(4, cd_dumper, (void *)(intptr_t)1);
    while (__atomic_load_n(&cd_done, __ATOMIC_ACQUIRE) < 2) {
        struct rd_dump *d;
        int rc = rd_dump_request(t, 0, 32, 5000, &d);
        if (rc == RD_ENODUMP)
            break;
        ck_assert_int_eq(rc, RD_OK);
        ck_assert_uint_ge(d->ng, 4); /* main, spinner, ping, pong */
        for (size_t i = 0; i < d->ng; i++) {
            if (d->g[i].flags & GRT_SHM_DG_CAUGHT)
                ck_assert_uint_gt(d->g[i].npcs, 0);
            if (d->g[i].flags & GRT_SHM_DG_RUNNING)
                ck_assert_uint_eq(d->g[i].npcs, 0);
        }
        rd_dump_free(d);
        grt_sleep(1000000);
    }
    while (__atomic_load_n(&cd_done, __ATOMIC_ACQUIRE) < 2)
        grt_sleep(1000000);
    __atomic_store_n(&cd_stop, 1, __ATOMIC_RELEASE);
    __atomic_store_n(&spin_stop, 1, __ATOMIC_RELEASE);
    ck_assert_int_eq(__atomic_load_n(&cd_rounds, __ATOMIC_RELAXED),
                     2 * CD_ROUNDS);
    ck_assert_msg(!cd_bad[0][0], "grt_stack: %.3000s", cd_bad[0]);
    ck_assert_msg(!cd_bad[1][0], "grt_dump: %.3000s", cd_bad[1]);
    tu_wait_goroutines(1);
    grt_chan_free(cd_a);
    grt_chan_free(cd_b);
    rd_detach(t);
}
END_TEST

#define SW_ROUNDS 3000

/* Where goroutine id's block in text shows frames, is fn among them? */
static bool frames_own(const char *text, int64_t id, const char *fn)
{
    char hdr[48];
    snprintf(hdr, sizeof hdr, "goroutine %lld [", (long long)id);
    const char *h = strstr(text, hdr);
    if (!h)
        return true;
    const char *end = strstr(h, "\n\n");
    const char *f = strstr(h, "(...)\n");
    const char *own = strstr(h, fn);
    return !(f && f < end) || (own && own < end);
}

/* A pair handing off to each other is caught again and again, on any
 * instruction of its switches.  On the switch's last one the stack is
 * already the next goroutine's but the return address is not where the
 * switch's unwind table says; unwound from there, a goroutine once
 * showed a lone frame at pc 0x2.  Frames shown are always its own. */
START_TEST(t_dump_catch_switching)
{
    grt_maxprocs(2); /* the pair on one processor, this dumper on the other */
    __atomic_store_n(&cd_stop, 0, __ATOMIC_RELEASE);
    cd_a = grt_chan_make(sizeof(int), 0);
    cd_b = grt_chan_make(sizeof(int), 0);
    int64_t ping = grt_go(cd_ping, NULL), pong = grt_go(cd_pong, NULL);
    static char buf[CD_BUF];
    for (int r = 0; r < SW_ROUNDS; r++) {
        size_t n = grt_stack(buf, CD_BUF, true);
        ck_assert_uint_lt(n, CD_BUF);
        ck_assert_msg(frames_own(buf, ping, "\ncd_ping(...)") &&
                          frames_own(buf, pong, "\ncd_pong(...)"),
                      "round %d: a goroutine with frames not its own "
                      "in:\n%.3000s",
                      r, buf);
    }
    __atomic_store_n(&cd_stop, 1, __ATOMIC_RELEASE);
    tu_wait_goroutines(1);
    grt_chan_free(cd_a);
    grt_chan_free(cd_b);
}
END_TEST

/* A hostile request: nonsense fields get a BADREQ answer; a request left
 * CLAIMED is reset by the agent. */
START_TEST(t_hostile_request)
{
    grt_self();
    char path[4200];
    seg_path(path, sizeof path, (int)getpid());
    int fd = open(path, O_RDWR);
    ck_assert_int_ge(fd, 0);
    struct grt_shm_header h;
    ck_assert_int_eq(pread(fd, &h, sizeof h, 0), (ssize_t)sizeof h);
    off_t rq = (off_t)h.tables[GRT_SHM_T_REQUEST].offset;
    off_t dp = (off_t)h.tables[GRT_SHM_T_DUMP].offset;
    struct grt_shm_request q;
    memset(&q, 0, sizeof q);
    q.kind = 77;
    q.id = 0x1234;
    q.max_frames = UINT32_MAX;
    /* the fields first, then the state word */
    ck_assert_int_eq(pwrite(fd, (char *)&q + 4, sizeof q - 4, rq + 4),
                     (ssize_t)sizeof q - 4);
    q.state = GRT_SHM_REQ_POSTED;
    ck_assert_int_eq(pwrite(fd, &q, 4, rq), 4);
    for (;;) {
        struct grt_shm_dump d;
        ck_assert_int_eq(pread(fd, &d, sizeof d, dp), (ssize_t)sizeof d);
        if (d.id == 0x1234 && !(d.seq & 1)) {
            ck_assert_uint_eq(d.status, GRT_SHM_DS_BADREQ);
            ck_assert_uint_eq(d.ngoroutines, 0);
            break;
        }
        grt_sleep(5000000);
    }
    /* garbage state and a stale claim both end IDLE */
    q.state = 0xdeadbeef;
    ck_assert_int_eq(pwrite(fd, &q, 4, rq), 4);
    for (;;) {
        uint32_t st;
        ck_assert_int_eq(pread(fd, &st, 4, rq), 4);
        if (st == GRT_SHM_REQ_IDLE)
            break;
        grt_sleep(5000000);
    }
    q.state = GRT_SHM_REQ_CLAIMED;
    ck_assert_int_eq(pwrite(fd, &q, 4, rq), 4);
    for (;;) {
        uint32_t st;
        ck_assert_int_eq(pread(fd, &st, 4, rq), 4);
        if (st == GRT_SHM_REQ_IDLE)
            break;
        grt_sleep(20000000);
    }
    close(fd);
}
END_TEST

/* ---------------------------------------------------------------------
 * life
 * --------------------------------------------------------------------- */

static void child_start_return(void)
{
    grt_self();
}

START_TEST(t_removed_at_exit)
{
    remove_files(agent_dir);
    char err[512];
    int st;
    tu_child(child_start_return, err, sizeof err, &st);
    tu_assert_child(st, err, 0, NULL);
    ck_assert_str_eq(err, "");
    ck_assert_int_eq(count_files(agent_dir), 0);
}
END_TEST

static void child_sigterm(void)
{
    /* as a program starts: SIGTERM at its default (the test runner's
     * handler, inherited, would end the whole process group) */
    signal(SIGTERM, SIG_DFL);
    grt_self();
    raise(SIGTERM);
}

START_TEST(t_removed_on_sigterm)
{
    remove_files(agent_dir);
    char err[512];
    int st;
    tu_child(child_sigterm, err, sizeof err, &st);
    ck_assert(WIFSIGNALED(st));
    ck_assert_int_eq(WTERMSIG(st), SIGTERM);
    ck_assert_int_eq(count_files(agent_dir), 0);
}
END_TEST

static void child_vanish(void)
{
    grt_self();
    _exit(0); /* no atexit: the segment stays behind */
}

START_TEST(t_stale)
{
    remove_files(agent_dir);
    char err[512];
    int st;
    tu_child(child_vanish, err, sizeof err, &st);
    ck_assert(WIFEXITED(st));
    ck_assert_int_eq(count_files(agent_dir), 1);
    struct rd_proc *procs;
    size_t n;
    ck_assert_int_eq(rd_list(&procs, &n), RD_OK);
    ck_assert_uint_ge(n, 1);
    struct rd_proc pr = procs[0];
    for (size_t i = 0; i < n; i++)
        if (strncmp(procs[i].path, agent_dir, strlen(agent_dir)) == 0)
            pr = procs[i];
    rd_list_free(procs);
    ck_assert_int_eq(pr.status, RD_ESTALE);
    ck_assert_str_eq(pr.name, "check_agent");
    struct rd_target *t;
    ck_assert_int_eq(rd_attach(pr.pid, &t), RD_OK); /* readable */
    ck_assert_int_eq(rd_target_check(t), RD_ESTALE);
    rd_detach(t);
    ck_assert_int_eq(rd_cleanup(pr.path), RD_OK);
    ck_assert_int_eq(count_files(agent_dir), 0);

    /* a new program clears stale files of its directory at start-up */
    tu_child(child_vanish, err, sizeof err, &st);
    ck_assert_int_eq(count_files(agent_dir), 1);
    tu_child(child_start_return, err, sizeof err, &st);
    tu_assert_child(st, err, 0, NULL);
    ck_assert_int_eq(count_files(agent_dir), 0);
}
END_TEST

static void child_fork(void)
{
    signal(SIGTERM, SIG_DFL); /* so that the agent handles it */
    grt_self();
    char path[4200];
    seg_path(path, sizeof path, (int)getpid());
    pid_t pid = fork();
    if (pid == 0) {
#ifdef GRT_ASAN
        /* LeakSanitizer's exit-time check locks ASan's allocator, whose
         * locks this fork may have copied held by a runtime thread: end
         * by the agent's SIGTERM path instead of atexit (both run
         * grt__agent_fini) */
        raise(SIGTERM);
#endif
        exit(0); /* atexit runs here: must not remove the parent's */
    }
    int st;
    waitpid(pid, &st, 0);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "segment removed by the child\n");
        exit(1);
    }
}

START_TEST(t_fork)
{
    remove_files(agent_dir);
    char err[512];
    int st;
    tu_child(child_fork, err, sizeof err, &st);
    tu_assert_child(st, err, 0, NULL);
    ck_assert_int_eq(count_files(agent_dir), 0);
}
END_TEST

static void child_agent_off(void)
{
    setenv("GRT_AGENT", "0", 1);
    grt_self();
    char path[4200];
    seg_path(path, sizeof path, (int)getpid());
    struct stat sb;
    if (stat(path, &sb) == 0) {
        fprintf(stderr, "segment made with GRT_AGENT=0\n");
        exit(1);
    }
    /* the runtime works as usual */
    grt_chan *c = grt_chan_make(sizeof(int), 1);
    int v = 5;
    grt_chan_send(c, &v);
    grt_chan_recv(c, &v);
    grt_chan_free(c);
}

START_TEST(t_agent_off)
{
    char err[512];
    int st;
    tu_child(child_agent_off, err, sizeof err, &st);
    tu_assert_child(st, err, 0, NULL);
    ck_assert_str_eq(err, "");
}
END_TEST

static char bad_dir[4200];

static void child_bad_dir(void)
{
    setenv("GRT_AGENT_DIR", bad_dir, 1);
    grt_self();
    grt_chan *c = grt_chan_make(sizeof(int), 1);
    int v = 5;
    grt_chan_send(c, &v);
    grt_chan_recv(c, &v);
    grt_chan_free(c);
}

START_TEST(t_bad_dir)
{
    /* group/other writable: refused, one line, the program runs on */
    snprintf(bad_dir, sizeof bad_dir, "%s/loose", agent_dir);
    ck_assert_int_eq(mkdir(bad_dir, 0700), 0);
    ck_assert_int_eq(chmod(bad_dir, 0777), 0);
    char err[512], line[512];
    int st;
    tu_child(child_bad_dir, err, sizeof err, &st);
    tu_assert_child(st, err, 0, NULL);
    tu_first_line(err, line, sizeof line);
    ck_assert_msg(strncmp(line, "grt: agent: ", 12) == 0, "stderr: %s", err);
    ck_assert_ptr_nonnull(strstr(line, "writable by group or others"));
    int lines = 0;
    for (const char *p = err; *p; p++)
        lines += *p == '\n';
    ck_assert_int_eq(lines, 1); /* said once */
    ck_assert_int_eq(count_files(bad_dir), 0);
    rmdir(bad_dir);

    /* a symbolic link as the directory */
    snprintf(bad_dir, sizeof bad_dir, "%s/link", agent_dir);
    ck_assert_int_eq(symlink("/tmp", bad_dir), 0);
    tu_child(child_bad_dir, err, sizeof err, &st);
    tu_assert_child(st, err, 0, NULL);
    ck_assert_ptr_nonnull(strstr(err, "grt: agent: "));
    unlink(bad_dir);

    /* a directory that cannot be made */
    snprintf(bad_dir, sizeof bad_dir, "%s/no/such/dir", agent_dir);
    tu_child(child_bad_dir, err, sizeof err, &st);
    tu_assert_child(st, err, 0, NULL);
    ck_assert_ptr_nonnull(strstr(err, "grt: agent: "));
}
END_TEST

static void child_small_files(void)
{
    struct rlimit rl = {1 << 20, 1 << 20};
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
        exit(3);
    grt_self();
    grt_chan *c = grt_chan_make(sizeof(int), 1);
    int v = 5;
    grt_chan_send(c, &v);
    grt_chan_recv(c, &v);
    grt_chan_free(c);
}

/* No room for the segment (a file size limit here; a full tmpfs or the
 * mapping limit take the same path): one line, and the program runs. */
START_TEST(t_no_room)
{
    remove_files(agent_dir);
    char err[512], line[512];
    int st;
    tu_child(child_small_files, err, sizeof err, &st);
    tu_assert_child(st, err, 0, NULL);
    tu_first_line(err, line, sizeof line);
    ck_assert_msg(strncmp(line, "grt: agent: ", 12) == 0, "stderr: %s", err);
    ck_assert_ptr_nonnull(strstr(line, "file size limit"));
    ck_assert_int_eq(count_files(agent_dir), 0);
}
END_TEST

/* ---------------------------------------------------------------------
 * trust
 * --------------------------------------------------------------------- */

/* Leave a stale segment of a dead child and return its path. */
static void make_stale(char *path, size_t len, int *pid_out)
{
    char err[512];
    int st;
    remove_files(agent_dir);
    tu_child(child_vanish, err, sizeof err, &st);
    DIR *d = opendir(agent_dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    *pid_out = 0;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            *pid_out = atoi(e->d_name);
    closedir(d);
    ck_assert_int_gt(*pid_out, 0);
    seg_path(path, len, *pid_out);
}

static void copy_file(const char *from, const char *to, mode_t mode)
{
    int in = open(from, O_RDONLY);
    ck_assert_int_ge(in, 0);
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL, mode);
    ck_assert_int_ge(out, 0);
    static char buf[1 << 16];
    ssize_t n;
    off_t at = 0;
    while ((n = read(in, buf, sizeof buf)) > 0) {
        /* keep holes as holes: the file is mostly zeros */
        bool zero = true;
        for (ssize_t i = 0; i < n && zero; i++)
            zero = buf[i] == 0;
        if (!zero)
            ck_assert_int_eq(pwrite(out, buf, (size_t)n, at), n);
        at += n;
    }
    ck_assert_int_eq(ftruncate(out, at), 0);
    fchmod(out, mode);
    close(in);
    close(out);
}

START_TEST(t_pid_reuse)
{
    char stale[4200];
    int dead;
    make_stale(stale, sizeof stale, &dead);
    /* pretend it is ours: our pid, a wrong start time, a held lock */
    char mine[4200];
    seg_path(mine, sizeof mine, (int)getpid());
    copy_file(stale, mine, 0600);
    unlink(stale);
    int fd = open(mine, O_RDWR);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(flock(fd, LOCK_EX), 0);
    struct grt_shm_header h;
    ck_assert_int_eq(pread(fd, &h, sizeof h, 0), (ssize_t)sizeof h);
    uint64_t real_ticks = h.start_ticks;
    h.pid = getpid();
    h.start_ticks = 1; /* not our start time */
    ck_assert_int_eq(pwrite(fd, &h, sizeof h, 0), (ssize_t)sizeof h);
    struct rd_target *t;
    ck_assert_int_eq(rd_attach((int)getpid(), &t), RD_OK);
    ck_assert_int_eq(rd_target_check(t), RD_ESTALE);
    rd_detach(t);
    /* with our real start time it is live */
    FILE *f = fopen("/proc/self/stat", "r");
    ck_assert_ptr_nonnull(f);
    char buf[1024];
    ck_assert_ptr_nonnull(fgets(buf, sizeof buf, f));
    fclose(f);
    char *p = strrchr(buf, ')') + 2;
    for (int field = 3; field < 22; field++)
        p = strchr(p, ' ') + 1;
    h.start_ticks = strtoull(p, NULL, 10);
    (void)real_ticks;
    ck_assert_int_eq(pwrite(fd, &h, sizeof h, 0), (ssize_t)sizeof h);
    ck_assert_int_eq(rd_attach((int)getpid(), &t), RD_OK);
    ck_assert_int_eq(rd_target_check(t), RD_OK);
    rd_detach(t);
    ck_assert_int_eq(rd_cleanup(mine), RD_EBUSY); /* lock held: live */
    /* a file named by one pid holding another's header is corrupt */
    char other[4200];
    seg_path(other, sizeof other, (int)getpid() + 1);
    ck_assert_int_eq(link(mine, other), 0);
    ck_assert_int_eq(rd_attach_path(other, &t), RD_ECORRUPT);
    unlink(other);
    close(fd);
    unlink(mine);
}
END_TEST

START_TEST(t_foreign)
{
    if (geteuid() != 0) {
        fprintf(stderr, "t_foreign: not root, cannot make a foreign file; "
                        "skipped\n");
        return;
    }
    char stale[4200];
    int pid;
    make_stale(stale, sizeof stale, &pid);
    ck_assert_int_eq(chown(stale, 65534, 65534), 0);
    struct rd_target *t;
    ck_assert_int_eq(rd_attach(pid, &t), RD_EFOREIGN);
    ck_assert_int_eq(rd_cleanup(stale), RD_EFOREIGN);
    struct rd_proc *procs;
    size_t n;
    ck_assert_int_eq(rd_list(&procs, &n), RD_OK);
    for (size_t i = 0; i < n; i++)
        if (procs[i].pid == pid)
            ck_assert_int_eq(procs[i].status, RD_EFOREIGN);
    rd_list_free(procs);
    /* a foreign directory */
    ck_assert_int_eq(chown(stale, 0, 0), 0);
    ck_assert_int_eq(chown(agent_dir, 65534, 65534), 0);
    ck_assert_int_eq(rd_attach(pid, &t), RD_EFOREIGN);
    ck_assert_int_eq(chown(agent_dir, 0, 0), 0);
    unlink(stale);
}
END_TEST

START_TEST(t_insecure)
{
    char stale[4200];
    int pid;
    make_stale(stale, sizeof stale, &pid);
    /* a symbolic link in place of the file */
    char moved[4200];
    snprintf(moved, sizeof moved, "%s/moved", agent_dir);
    ck_assert_int_eq(rename(stale, moved), 0);
    ck_assert_int_eq(symlink(moved, stale), 0);
    struct rd_target *t;
    ck_assert_int_eq(rd_attach(pid, &t), RD_EINSECURE);
    ck_assert_int_eq(rd_cleanup(stale), RD_EINSECURE);
    unlink(stale);
    ck_assert_int_eq(rename(moved, stale), 0);
    /* readable by others */
    ck_assert_int_eq(chmod(stale, 0644), 0);
    ck_assert_int_eq(rd_attach(pid, &t), RD_EINSECURE);
    ck_assert_int_eq(chmod(stale, 0600), 0);
    ck_assert_int_eq(rd_attach(pid, &t), RD_OK);
    rd_detach(t);
    /* a directory writable by others */
    ck_assert_int_eq(chmod(agent_dir, 0777), 0);
    ck_assert_int_eq(rd_attach(pid, &t), RD_EINSECURE);
    ck_assert_int_eq(chmod(agent_dir, 0700), 0);
    /* no such process */
    ck_assert_int_eq(rd_attach(999999999, &t), RD_ENOENT);
    ck_assert_int_eq(rd_attach(-1, &t), RD_EINVAL);
    unlink(stale);
}
END_TEST

static Suite *agent_suite(void)
{
    Suite *s = suite_create("agent");
    TCase *tc = tcase_create("segment");
    tcase_add_test(tc, t_segment_created);
    suite_add_tcase(s, tc);
    tc = tcase_create("records");
    tcase_set_timeout(tc, TU_TIMEOUT);
    tcase_add_test(tc, t_chan_receivers);
    tcase_add_test(tc, t_wait_reasons);
    tcase_add_test(tc, t_sites_and_names);
    tcase_add_test(tc, t_stack_committed);
    tcase_add_test(tc, t_counts_after_churn);
    tcase_add_test(tc, t_threads_and_processors);
    tcase_add_test(tc, t_dump_self);
    tcase_add_test(tc, t_dump_running);
    tcase_add_test(tc, t_dump_concurrent);
    tcase_add_test(tc, t_dump_catch_switching);
    tcase_add_test(tc, t_hostile_request);
    suite_add_tcase(s, tc);
    tc = tcase_create("life");
    tcase_set_timeout(tc, TU_TIMEOUT);
    tcase_add_test(tc, t_removed_at_exit);
    tcase_add_test(tc, t_removed_on_sigterm);
    tcase_add_test(tc, t_stale);
    tcase_add_test(tc, t_fork);
    tcase_add_test(tc, t_agent_off);
    tcase_add_test(tc, t_bad_dir);
    tcase_add_test(tc, t_no_room);
    suite_add_tcase(s, tc);
    tc = tcase_create("trust");
    tcase_set_timeout(tc, TU_TIMEOUT);
    tcase_add_test(tc, t_pid_reuse);
    tcase_add_test(tc, t_foreign);
    tcase_add_test(tc, t_insecure);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    if (!mkdtemp(agent_dir)) {
        perror("mkdtemp");
        return 99;
    }
    setenv("GRT_AGENT_DIR", agent_dir, 1);
    int rc = tu_run_suite(agent_suite());
    remove_files(agent_dir);
    rmdir(agent_dir);
    return rc;
}
