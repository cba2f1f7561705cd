/*
 * check_gtop_model.c - gtop's model without a terminal: the views built
 * from the fixed "shop" image (tests/gtop_image.c), sorted on every
 * column and inverted, filtered with several case-insensitive terms,
 * searched, arranged as a tree (collapsed by default, opened and closed,
 * opened by a jump to a hidden goroutine), grouped with counts; the
 * meters and rates; the processors, channels and leaks views; batch
 * output; damaged images; and, live, a goroutine of this very process
 * whose stack gtop asks the agent for.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <grt.h>

#include "gtop.h"
#include "gtop_image.h"
#include "testutil.h"

static struct shm_image img;
static struct model m;

static void open_image(void)
{
    ck_assert_int_eq(gtop_image_build(&img), 0);
    ck_assert_int_eq(model_open_mem(&m, img.base, img.size), RD_OK);
    ck_assert_int_eq(model_refresh(&m), RD_OK);
    ck_assert_ptr_nonnull(m.snap);
}

static void close_image(void)
{
    model_close(&m);
    free(img.base);
}

/* The view of ops built from the image, laid out. */
static void build(struct view *v, const struct view_ops *ops)
{
    panel_init(v, ops);
    ck_assert_int_eq(panel_update(v, &m), RD_OK);
}

static int64_t row_id(const struct view *v, size_t r)
{
    return v->ops->id(panel_item(v, r));
}

static void cell(const struct view *v, size_t r, const char *col, char *buf,
                 size_t len)
{
    int c = panel_find_col(v, col);
    ck_assert_int_ge(c, 0);
    v->ops->cell(v, panel_item(v, r), c, buf, len);
}

/* ---- meters ---- */

START_TEST(t_meters)
{
    struct meters x;
    meter_compute(&m, &x);
    ck_assert_uint_eq(x.total, 16);
    ck_assert_uint_eq(x.running, 1);
    ck_assert_uint_eq(x.runnable, 1);
    ck_assert_uint_eq(x.syscall, 1);
    ck_assert_uint_eq(x.waiting, 13);
    ck_assert_uint_eq(x.threads, 2);
    ck_assert_uint_eq(x.threads_blocked, 1);
    ck_assert_uint_eq(x.procs_busy, 1);
    ck_assert_uint_eq(x.maxprocs, 2);
    ck_assert_uint_eq(x.stack_inuse, 140 * 1024);
    /* 8 samples 0.2 s apart: no pair a second apart within... 1.4 s
     * span, so the newest against the first >= 1 s older (index 2) */
    ck_assert(x.have_rates);
    ck_assert_int_eq((int)(x.ctxsw + 0.5), 3500); /* 700 per 0.2 s */
    ck_assert_int_eq((int)(x.created + 0.5), 50);
    ck_assert_int_eq((int)(x.exited + 0.5), 45);
    ck_assert_int_eq((int)(x.uptime_ns / 1000000000), 3723);
    char buf[32];
    ck_assert_str_eq(fmt_uptime(buf, sizeof buf, x.uptime_ns), "01:02:03");
    ck_assert_str_eq(fmt_bytes(buf, sizeof buf, 1536), "1.5K");
    ck_assert_str_eq(fmt_bytes(buf, sizeof buf, 16 << 20), "16M");
    ck_assert_str_eq(fmt_bytes(buf, sizeof buf, 12), "12B");
}
END_TEST

START_TEST(t_graph)
{
    double vals[14];
    /* 14 columns over 1.4 s: one sample per 0.2 s, every other column */
    double max = meter_graph(&m, METER_G_GOROUTINES, 1400000000, vals, 14);
    ck_assert_int_eq((int)max, 16);
    ck_assert_int_eq((int)vals[13], 16);
    int filled = 0;
    for (int i = 0; i < 14; i++)
        filled += vals[i] >= 0;
    ck_assert_int_eq(filled, 8); /* the span holds all 8, both ends */
    static const char *const lv[] = {" ", "a", "b"};
    char line[64];
    double v[4] = {-1, 0, 5, 10};
    meter_spark(v, 4, 10, lv, 3, line, sizeof line);
    ck_assert_str_eq(line, "  bb");
    ck_assert_int_lt(meter_graph(&m, METER_G_CTXSW, 1400000000, vals, 14),
                     3501);
}
END_TEST

/* ---- goroutines: sort, invert, filter, search ---- */

START_TEST(t_sort_gid)
{
    struct view v;
    build(&v, &view_goroutines_ops);
    ck_assert_uint_eq(v.nrows, 16);
    for (size_t r = 0; r < 16; r++)
        ck_assert_int_eq(row_id(&v, r), (int64_t)r + 1);
    v.invert = true;
    panel_layout(&v);
    ck_assert_int_eq(row_id(&v, 0), 16);
    ck_assert_int_eq(row_id(&v, 15), 1);
    panel_free(&v);
}
END_TEST

/* Every column sorts: rows are ordered by it (ties by id), and inverting
 * reverses the primary order. */
START_TEST(t_sort_every_column)
{
    struct view v;
    build(&v, &view_goroutines_ops);
    for (int c = 0; c < v.ops->ncols; c++) {
        for (int inv = 0; inv < 2; inv++) {
            panel_set_sort(&v, c);
            v.invert = inv;
            panel_layout(&v);
            ck_assert_uint_eq(v.nrows, 16);
            for (size_t r = 1; r < v.nrows; r++) {
                int k = v.ops->cols[c].compare(panel_item(&v, r - 1),
                                               panel_item(&v, r));
                if (inv)
                    k = -k;
                ck_assert_msg(
                    k < 0 || (k == 0 && row_id(&v, r - 1) < row_id(&v, r)),
                    "column %s%s rows %zu/%zu out of order",
                    v.ops->cols[c].name, inv ? " inverted" : "", r - 1, r);
            }
        }
    }
    panel_free(&v);
}
END_TEST

START_TEST(t_sort_wait)
{
    struct view v;
    build(&v, &view_goroutines_ops);
    panel_set_sort(&v, panel_find_col(&v, "wait"));
    v.invert = true;
    panel_layout(&v);
    /* longest waits first: the four leaked senders, 64 s .. 61 s */
    ck_assert_int_eq(row_id(&v, 0), 10);
    ck_assert_int_eq(row_id(&v, 3), 7);
    char buf[64];
    cell(&v, 0, "wait", buf, sizeof buf);
    ck_assert_str_eq(buf, "1m4s");
    cell(&v, 0, "on", buf, sizeof buf);
    ck_assert_str_eq(buf, "chan results");
    /* not waiting sorts last when descending */
    ck_assert_int_eq(row_id(&v, 15), 11); /* runnable; ties by id: 1, 11 */
    panel_free(&v);
}
END_TEST

START_TEST(t_cells)
{
    struct view v;
    build(&v, &view_goroutines_ops);
    char buf[128];
    cell(&v, 0, "mp", buf, sizeof buf);
    ck_assert_str_eq(buf, "m0 p0");
    cell(&v, 0, "name", buf, sizeof buf);
    ck_assert_str_eq(buf, "main");
    cell(&v, 0, "created", buf, sizeof buf);
    ck_assert_str_eq(buf, "");
    cell(&v, 1, "name", buf, sizeof buf);
    ck_assert_str_eq(buf, "worker-1 (worker)");
    cell(&v, 1, "created", buf, sizeof buf);
    ck_assert_str_eq(buf, "g1 shop.c:42");
    cell(&v, 1, "stack", buf, sizeof buf);
    ck_assert_str_eq(buf, "8K");
    cell(&v, 11, "state", buf, sizeof buf);
    ck_assert_str_eq(buf, "syscall");
    cell(&v, 11, "mp", buf, sizeof buf);
    ck_assert_str_eq(buf, "m1");
    cell(&v, 13, "on", buf, sizeof buf);
    ck_assert_str_eq(buf, "mutex 0x2000");
    cell(&v, 13, "state", buf, sizeof buf);
    ck_assert_str_eq(buf, "sync.Mutex.Lock");
    panel_free(&v);
}
END_TEST

START_TEST(t_filter)
{
    struct view v;
    build(&v, &view_goroutines_ops);
    panel_set_filter(&v, "worker");
    panel_layout(&v);
    /* worker-1..5 by name, and fetch/handler created by workers? no:
     * the filter text holds id, state, target, creator and name */
    ck_assert_uint_eq(v.nrows, 5);
    panel_set_filter(&v, "WORKER  Jobs");
    panel_layout(&v);
    ck_assert_uint_eq(v.nrows, 5);
    panel_set_filter(&v, "worker results");
    panel_layout(&v);
    ck_assert_uint_eq(v.nrows, 0);
    panel_set_filter(&v, "chan send");
    panel_layout(&v);
    ck_assert_uint_eq(v.nrows, 4);
    ck_assert_int_eq(row_id(&v, 0), 7);
    panel_set_filter(&v, "shop.c:120 g4");
    panel_layout(&v);
    ck_assert_uint_eq(v.nrows, 2);
    panel_set_filter(&v, "   ");
    panel_layout(&v);
    ck_assert_uint_eq(v.nrows, 16);
    panel_free(&v);
}
END_TEST

START_TEST(t_search)
{
    struct view v;
    build(&v, &view_goroutines_ops);
    ck_assert(panel_search(&v, "FETCH", false));
    ck_assert_int_eq(row_id(&v, v.sel), 7);
    ck_assert(panel_search(&v, "fetch", false)); /* stays on a match */
    ck_assert_int_eq(row_id(&v, v.sel), 7);
    ck_assert(panel_search(&v, "fetch", true));
    ck_assert_int_eq(row_id(&v, v.sel), 8);
    panel_select(&v, 9); /* goroutine 10, the last fetch */
    ck_assert(panel_search(&v, "fetch", true)); /* wraps */
    ck_assert_int_eq(row_id(&v, v.sel), 7);
    ck_assert(!panel_search(&v, "no such thing", true));
    ck_assert_int_eq(row_id(&v, v.sel), 7);
    panel_free(&v);
}
END_TEST

/* The selection stays on its goroutine when the order changes. */
START_TEST(t_selection_kept)
{
    struct view v;
    build(&v, &view_goroutines_ops);
    panel_select(&v, 6); /* goroutine 7 */
    panel_set_sort(&v, panel_find_col(&v, "state"));
    panel_layout(&v);
    ck_assert_int_eq(row_id(&v, v.sel), 7);
    ck_assert_uint_ne(v.sel, 6);
    ck_assert_int_eq(panel_update(&v, &m), RD_OK); /* a rebuild too */
    ck_assert_int_eq(row_id(&v, v.sel), 7);
    panel_move(&v, -100);
    ck_assert_uint_eq(v.sel, 0);
    panel_move(&v, 100);
    ck_assert_uint_eq(v.sel, 15);
    panel_free(&v);
}
END_TEST

START_TEST(t_jump_digits)
{
    struct view v;
    build(&v, &view_goroutines_ops);
    ck_assert(panel_jump(&v, 12));
    ck_assert_int_eq(row_id(&v, v.sel), 12);
    ck_assert(panel_jump(&v, 1));
    ck_assert_int_eq(row_id(&v, v.sel), 1);
    ck_assert(!panel_jump(&v, 99));
    panel_free(&v);
}
END_TEST

START_TEST(t_tags)
{
    struct view v;
    build(&v, &view_goroutines_ops);
    panel_select(&v, 2);
    panel_tag(&v);
    panel_select(&v, 4);
    panel_tag(&v);
    ck_assert_uint_eq(v.tagged.n, 2);
    ck_assert(idmap_get(&v.tagged, 3, NULL));
    panel_select(&v, 2);
    panel_tag(&v); /* untag */
    ck_assert_uint_eq(v.tagged.n, 1);
    ck_assert(!idmap_get(&v.tagged, 3, NULL));
    panel_free(&v);
}
END_TEST

/* ---- tree ---- */

START_TEST(t_tree)
{
    struct view v;
    build(&v, &view_goroutines_ops);
    v.tree = true;
    panel_layout(&v);
    /* collapsed by default: main alone, with 8 children */
    ck_assert_uint_eq(v.nrows, 1);
    ck_assert_int_eq(row_id(&v, 0), 1);
    ck_assert_int_eq(v.mark[0], '+');
    ck_assert_uint_eq(v.nkids[0], 8);
    char line[512];
    panel_row_text(&v, 0, line, sizeof line, 300);
    ck_assert_ptr_nonnull(strstr(line, "+ main (8)"));
    panel_expand(&v, true);
    ck_assert_uint_eq(v.nrows, 9);
    ck_assert_int_eq(v.mark[0], '-');
    /* children in sort order: 2 3 4 5 6 12 13 16 */
    static const int64_t kids[] = {2, 3, 4, 5, 6, 12, 13, 16};
    for (size_t i = 0; i < 8; i++) {
        ck_assert_int_eq(row_id(&v, i + 1), kids[i]);
        ck_assert_uint_eq(v.depth[i + 1], 1);
    }
    ck_assert_int_eq(v.mark[1], '+'); /* worker-1 has 7 and 8 */
    panel_select(&v, 1);
    panel_expand(&v, true);
    ck_assert_uint_eq(v.nrows, 11);
    ck_assert_int_eq(row_id(&v, 2), 7);
    ck_assert_uint_eq(v.depth[2], 2);
    panel_row_text(&v, 2, line, sizeof line, 300);
    ck_assert_ptr_nonnull(strstr(line, "    + fetch (1)"));
    /* close: Left on a leaf closes its parent and selects it */
    panel_select(&v, 3); /* goroutine 8, a leaf */
    panel_expand(&v, false);
    ck_assert_int_eq(row_id(&v, v.sel), 2);
    ck_assert_uint_eq(v.nrows, 9);
    /* a jump to a hidden goroutine opens its ancestors: 11 <- 7 <- 2 */
    ck_assert(panel_jump(&v, 11));
    ck_assert_int_eq(row_id(&v, v.sel), 11);
    ck_assert_uint_eq(v.depth[v.sel], 3);
    /* expand_all (batch) */
    v.expand_all = true;
    panel_layout(&v);
    ck_assert_uint_eq(v.nrows, 16);
    /* sorting orders siblings: by wait, descending */
    panel_set_sort(&v, panel_find_col(&v, "wait"));
    v.invert = true;
    panel_layout(&v);
    ck_assert_int_eq(row_id(&v, 0), 1);
    ck_assert_int_eq(row_id(&v, 1), 16); /* 30 s, the longest child */
    /* a filter keeps matching rows; orphans become roots */
    panel_set_filter(&v, "fetch");
    panel_layout(&v);
    ck_assert_uint_eq(v.nrows, 4);
    ck_assert_uint_eq(v.depth[0], 0);
    panel_free(&v);
}
END_TEST

START_TEST(t_idmap)
{
    struct idmap s = {0};
    for (int64_t i = 0; i < 5000; i++)
        ck_assert(idmap_put(&s, i * 7 - 100, (size_t)i));
    ck_assert_uint_eq(s.n, 5000);
    for (int64_t i = 0; i < 5000; i += 2)
        ck_assert(idmap_del(&s, i * 7 - 100));
    ck_assert_uint_eq(s.n, 2500);
    for (int64_t i = 0; i < 5000; i++) {
        size_t val;
        bool got = idmap_get(&s, i * 7 - 100, &val);
        ck_assert_int_eq(got, i % 2 == 1);
        if (got)
            ck_assert_uint_eq(val, (size_t)i);
    }
    ck_assert(!idmap_del(&s, 123456));
    idmap_clear(&s);
    ck_assert(!idmap_get(&s, 7 - 100, NULL));
    idmap_free(&s);
}
END_TEST

/* ---- the other views ---- */

START_TEST(t_groups)
{
    struct view v;
    build(&v, &view_groups_ops);
    ck_assert_uint_eq(v.nitems, 9);
    char buf[64];
    /* by count, descending: workers (5), fetchers (4) */
    cell(&v, 0, "count", buf, sizeof buf);
    ck_assert_str_eq(buf, "5");
    cell(&v, 0, "name", buf, sizeof buf);
    ck_assert_str_eq(buf, "worker");
    cell(&v, 0, "state", buf, sizeof buf);
    ck_assert_str_eq(buf, "chan receive");
    cell(&v, 0, "wait", buf, sizeof buf);
    ck_assert_str_eq(buf, "5s");
    cell(&v, 0, "stack", buf, sizeof buf);
    ck_assert_str_eq(buf, "52K");
    cell(&v, 1, "count", buf, sizeof buf);
    ck_assert_str_eq(buf, "4");
    cell(&v, 1, "site", buf, sizeof buf);
    ck_assert_str_eq(buf, "shop.c:77");
    ck_assert_int_eq(v.ops->goid(panel_item(&v, 1)), 7);
    size_t total = 0;
    for (size_t r = 0; r < v.nrows; r++) {
        cell(&v, r, "count", buf, sizeof buf);
        total += (size_t)atoi(buf);
    }
    ck_assert_uint_eq(total, 16);
    panel_set_filter(&v, "handler");
    panel_layout(&v);
    ck_assert_uint_eq(v.nrows, 6);
    panel_free(&v);
}
END_TEST

START_TEST(t_procs)
{
    struct view v;
    build(&v, &view_procs_ops);
    ck_assert_uint_eq(v.nrows, 3); /* P0, P1, M1 without a P */
    char buf[256];
    cell(&v, 0, "status", buf, sizeof buf);
    ck_assert_str_eq(buf, "running");
    cell(&v, 0, "g", buf, sizeof buf);
    ck_assert_str_eq(buf, "1");
    cell(&v, 0, "tid", buf, sizeof buf);
    ck_assert_str_eq(buf, "1000");
    cell(&v, 1, "runq", buf, sizeof buf);
    ck_assert_str_eq(buf, "1");
    cell(&v, 2, "status", buf, sizeof buf);
    ck_assert_str_eq(buf, "in call");
    cell(&v, 2, "call", buf, sizeof buf);
    ck_assert_str_eq(buf, "yes");
    ck_assert_int_eq(v.ops->goid(panel_item(&v, 2)), 12);
    v.ops->info(&v, &m, buf, sizeof buf);
    ck_assert_str_eq(buf, "gomaxprocs=2 idleprocs=1 threads=2 "
                          "spinningthreads=0 idlethreads=0 runqueue=0 "
                          "[0 1]");
    panel_free(&v);
}
END_TEST

START_TEST(t_chans)
{
    struct view v;
    build(&v, &view_chans_ops);
    ck_assert_uint_eq(v.nrows, 3);
    char buf[64];
    /* longest-blocked first */
    cell(&v, 0, "name", buf, sizeof buf);
    ck_assert_str_eq(buf, "results");
    cell(&v, 0, "senders", buf, sizeof buf);
    ck_assert_str_eq(buf, "4");
    cell(&v, 0, "oldest", buf, sizeof buf);
    ck_assert_str_eq(buf, "1m4s");
    cell(&v, 1, "receivers", buf, sizeof buf);
    ck_assert_str_eq(buf, "5");
    cell(&v, 2, "closed", buf, sizeof buf);
    ck_assert_str_eq(buf, "yes");
    cell(&v, 2, "len", buf, sizeof buf);
    ck_assert_str_eq(buf, "3");
    panel_free(&v);
}
END_TEST

START_TEST(t_leaks)
{
    ck_assert_ptr_nonnull(m.leaks);
    struct view v;
    build(&v, &view_leaks_ops);
    ck_assert_uint_ge(v.nrows, 1);
    /* the four senders blocked a minute on "results" are one group */
    bool found = false;
    char buf[64];
    for (size_t r = 0; r < v.nrows; r++) {
        cell(&v, r, "count", buf, sizeof buf);
        if (strcmp(buf, "4") != 0)
            continue;
        cell(&v, r, "on", buf, sizeof buf);
        ck_assert_str_eq(buf, "chan results");
        cell(&v, r, "site", buf, sizeof buf);
        ck_assert_str_eq(buf, "shop.c:77");
        ck_assert_int_eq(v.ops->goid(panel_item(&v, r)), 7);
        found = true;
    }
    ck_assert(found);
    /* the workers (5 s at most) are under the 10 s threshold */
    panel_set_filter(&v, "worker");
    panel_layout(&v);
    ck_assert_uint_eq(v.nrows, 0);
    panel_free(&v);
}
END_TEST

/* Views with nothing to show build fine (no leak under a long threshold,
 * a filter that drops everything). */
START_TEST(t_empty_views)
{
    m.leak_threshold_ns = INT64_C(3600000000000);
    model_find_leaks(&m);
    ck_assert_ptr_nonnull(m.leaks);
    ck_assert_uint_eq(m.leaks->ngroups, 0);
    for (size_t i = 0; i < view_nall; i++) {
        struct view v;
        panel_init(&v, view_all[i]);
        ck_assert_int_eq(panel_update(&v, &m), RD_OK);
        panel_set_filter(&v, "nothing-matches-this");
        ck_assert_int_eq(panel_layout(&v), RD_OK);
        ck_assert_uint_eq(v.nrows, 0);
        ck_assert_ptr_null(panel_item(&v, 0));
        panel_free(&v);
    }
    struct view v;
    build(&v, &view_leaks_ops);
    ck_assert_uint_eq(v.nitems, 0);
    panel_free(&v);
}
END_TEST

START_TEST(t_batch)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    struct batch_opts o = {
        .views = "goroutines,chans", .filter = "fetch", .graph_width = 20};
    ck_assert_int_eq(batch_print(f, &m, &o), RD_OK);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(text, "gtop: pid 4242 shop"));
    ck_assert_ptr_nonnull(strstr(text, "Goroutines: 16 total, 1 running"));
    ck_assert_ptr_nonnull(strstr(text, "== goroutines: 4 of 16 shown"));
    ck_assert_ptr_nonnull(strstr(text, "== chans: 0 of 3 shown"));
    ck_assert_ptr_null(strstr(text, "worker-1"));
    free(text);
}
END_TEST

/* ---- damaged input ---- */

START_TEST(t_bad_image)
{
    struct shm_image bad;
    struct model bm;
    ck_assert_int_eq(gtop_image_build(&bad), 0);
    memcpy(bad.base, "NOTGRT!!", 8);
    ck_assert_int_eq(model_open_mem(&bm, bad.base, bad.size), RD_EBADMAGIC);
    ck_assert_int_eq(gtop_image_build(&bad), 0);
    ck_assert_int_ne(model_open_mem(&bm, bad.base, bad.size / 2), RD_OK);
    ck_assert_int_eq(model_dump_all(&m), RD_ENODUMP); /* an image */
    ck_assert_ptr_null(m.dump);
    const char *why = NULL;
    ck_assert_int_eq(model_open_image(&bm, "/nonexistent/image", &why),
                     RD_ESYS);
    ck_assert_ptr_nonnull(why);
    free(bad.base);
}
END_TEST

/* ---- live: this process's own segment ---- */

static grt_chan *live_ch;
static volatile int live_done;

static void live_blocked(void *arg)
{
    (void)arg;
    grt_chan_recv(live_ch, NULL); /* not a tail call: live_blocked shows */
    live_done = 1;
}

START_TEST(t_live_self)
{
    live_ch = grt_chan_make(0, 0);
    grt_chan_set_name(live_ch, "gtoptest");
    int64_t id = grt_go_named("blocked", live_blocked, NULL);
    int64_t id2 = grt_go_named("blocked", live_blocked, NULL);
    /* wait until the agent published it parked */
    struct model lm;
    ck_assert_int_eq(model_open_pid(&lm, getpid()), RD_OK);
    const struct rd_g *g = NULL;
    for (int i = 0; i < 400; i++) {
        ck_assert_int_eq(model_refresh(&lm), RD_OK);
        g = model_find_g(&lm, id);
        const struct rd_g *g2 = model_find_g(&lm, id2);
        if (g && g->status == GRT_SHM_G_WAITING && g2 &&
            g2->status == GRT_SHM_G_WAITING)
            break;
        grt_sleep(10000000);
    }
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(g->status, GRT_SHM_G_WAITING);
    struct view v;
    panel_init(&v, &view_goroutines_ops);
    ck_assert_int_eq(panel_update(&v, &lm), RD_OK);
    ck_assert(panel_jump(&v, id));
    char buf[128];
    v.ops->cell(&v, panel_item(&v, v.sel), panel_find_col(&v, "on"), buf,
                sizeof buf);
    ck_assert_str_eq(buf, "chan gtoptest");
    v.ops->cell(&v, panel_item(&v, v.sel), panel_find_col(&v, "name"), buf,
                sizeof buf);
    ck_assert_str_eq(buf, "blocked (live_blocked)");
    panel_free(&v);
    char *st = view_stack_text(&lm, &id, 1);
    ck_assert_ptr_nonnull(st);
#ifdef HAVE_LIBUNWIND
    char want[64];
    snprintf(want, sizeof want, "goroutine %" PRId64 " [chan receive", id);
    ck_assert_msg(strstr(st, want) != NULL, "%s", st);
#ifdef HAVE_LIBDW
    ck_assert_msg(strstr(st, "check_gtop_model.c:") != NULL, "%s", st);
    ck_assert_msg(strstr(st, "live_blocked") != NULL, "%s", st);
#endif
#endif
    free(st);
    /* grouped by unwound stack: the two blocked goroutines are one */
    int drc = model_dump_all(&lm);
#ifdef HAVE_LIBUNWIND
    ck_assert_int_eq(drc, RD_OK);
    panel_init(&v, &view_groups_ops);
    ck_assert_int_eq(panel_update(&v, &lm), RD_OK);
    bool found = false;
    for (size_t r = 0; r < v.nrows; r++) {
        v.ops->cell(&v, panel_item(&v, r), panel_find_col(&v, "name"), buf,
                    sizeof buf);
        if (!strstr(buf, "live_blocked"))
            continue;
        found = true;
#ifdef HAVE_LIBDW
        ck_assert_msg(strstr(buf, "(check_gtop_model.c:") != NULL, "%s", buf);
#endif
        v.ops->cell(&v, panel_item(&v, r), panel_find_col(&v, "count"), buf,
                    sizeof buf);
        ck_assert_str_eq(buf, "2");
    }
    ck_assert(found);
    panel_free(&v);
#else
    ck_assert_int_ne(drc, RD_OK);
#endif
    model_close(&lm);
    grt_chan_send(live_ch, NULL);
    grt_chan_send(live_ch, NULL);
    grt_chan_free(live_ch);
}
END_TEST

static Suite *gtop_model_suite(void)
{
    Suite *s = suite_create("gtop_model");
    TCase *tc = tcase_create("meters");
    tcase_add_checked_fixture(tc, open_image, close_image);
    tcase_add_test(tc, t_meters);
    tcase_add_test(tc, t_graph);
    suite_add_tcase(s, tc);
    tc = tcase_create("sort");
    tcase_add_checked_fixture(tc, open_image, close_image);
    tcase_add_test(tc, t_sort_gid);
    tcase_add_test(tc, t_sort_every_column);
    tcase_add_test(tc, t_sort_wait);
    tcase_add_test(tc, t_cells);
    tcase_add_test(tc, t_selection_kept);
    tcase_add_test(tc, t_jump_digits);
    tcase_add_test(tc, t_tags);
    suite_add_tcase(s, tc);
    tc = tcase_create("filter");
    tcase_add_checked_fixture(tc, open_image, close_image);
    tcase_add_test(tc, t_filter);
    tcase_add_test(tc, t_search);
    suite_add_tcase(s, tc);
    tc = tcase_create("tree");
    tcase_add_checked_fixture(tc, open_image, close_image);
    tcase_add_test(tc, t_tree);
    tcase_add_test(tc, t_idmap);
    suite_add_tcase(s, tc);
    tc = tcase_create("views");
    tcase_add_checked_fixture(tc, open_image, close_image);
    tcase_add_test(tc, t_groups);
    tcase_add_test(tc, t_procs);
    tcase_add_test(tc, t_chans);
    tcase_add_test(tc, t_leaks);
    tcase_add_test(tc, t_empty_views);
    tcase_add_test(tc, t_batch);
    tcase_add_test(tc, t_bad_image);
    suite_add_tcase(s, tc);
    tc = tcase_create("live");
    tcase_set_timeout(tc, TU_TIMEOUT);
    tcase_add_test(tc, t_live_self);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    char dir[] = "/dev/shm/grt-check-gtop-XXXXXX";
    return tu_run_suite_agent_dir(gtop_model_suite(), dir);
}
