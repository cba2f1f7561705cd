/*
 * check_reader.c - the reader library (cli/reader/) against good,
 * damaged and live segments.
 *
 *   image     a small valid image (tests/shm_image.c) reads back exactly
 *   damaged   each kind of damage gives its error code: truncated, bad
 *             magic, not ready, newer version, counts beyond capacity,
 *             offsets and sizes out of range, overflowing products,
 *             unterminated strings, bad dump answers
 *   random    thousands of random mutations of a good image: every one
 *             yields a code or a snapshot, never a crash (run this under
 *             ASan: build-asan/)
 *   live      a child process churns thousands of goroutines while the
 *             test (which never starts the runtime itself) snapshots its
 *             segment again and again: no torn record, and every record
 *             obeys the runtime's invariants; then a stack dump of it is
 *             requested and symbolised
 *
 * Segments of live children go to a private directory (mkdtemp under
 * /dev/shm, GRT_AGENT_DIR), removed at the end.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <grt.h>

#include "reader.h"
#include "reader_int.h"
#include "shm_image.h"
#include "testutil.h"

static char agent_dir[] = "/dev/shm/grt-check-reader-XXXXXX";

/* ---------------------------------------------------------------------
 * image
 * --------------------------------------------------------------------- */

START_TEST(t_image_reads_back)
{
    struct shm_image img;
    ck_assert_int_eq(shm_image_build(&img, 4242, 10, 5), 0);
    struct rd_target *t;
    ck_assert_int_eq(rd_attach_mem(img.base, img.size, &t), RD_OK);
    ck_assert_int_eq(rd_target_pid(t), 4242);
    ck_assert_int_eq(rd_target_check(t), RD_OK);
    struct rd_snapshot *s;
    ck_assert_int_eq(rd_snapshot_take(t, &s), RD_OK);
    ck_assert_str_eq(s->name, "image");
    ck_assert_str_eq(s->exe, "/usr/bin/image");
    ck_assert_int_eq(s->argc, 3);
    ck_assert_str_eq(s->argv[0], "image");
    ck_assert_str_eq(s->argv[2], "value");
    ck_assert_ptr_null(s->argv[3]);
    /* goroutines 1..10 minus the dead ones (i % 3 == 0, i > 0) */
    ck_assert_uint_eq(s->ng, 7);
    ck_assert_uint_eq(s->ntorn, 0);
    ck_assert_int_eq(s->g[0].goid, 1);
    ck_assert_int_eq(s->g[0].status, GRT_SHM_G_RUNNING);
    ck_assert_uint_eq(s->g[0].flags, GRT_SHM_GF_MAIN);
    ck_assert_int_eq(s->g[1].status, GRT_SHM_G_WAITING);
    ck_assert_str_eq(rd_wait_name(s, s->g[1].wait_reason), "chan receive");
    ck_assert_str_eq(rd_status_name(s, s->g[1].status), "waiting");
    ck_assert_str_eq(s->g[2].name, "worker-2");
    ck_assert_uint_eq(s->nm, 2);
    ck_assert_uint_eq(s->np, 2);
    ck_assert_uint_eq(s->p[1].runq, 1);
    ck_assert_uint_eq(s->nchan, 2);
    ck_assert_str_eq(s->chan[0].name, "jobs");
    ck_assert_uint_eq(s->chan[0].nrecv, 5);
    ck_assert_uint_eq(s->nsite, 2);
    ck_assert_str_eq(s->site[1].fn, "worker");
    ck_assert_int_eq(s->site[1].line, 42);
    ck_assert(s->have_stats);
    ck_assert_uint_eq(s->stats.index, 4);
    rd_snapshot_free(s);

    /* samples: all five, then nothing new */
    struct rd_sample out[16];
    uint64_t cursor = 0, lost = 0;
    size_t n;
    ck_assert_int_eq(rd_samples_read(t, &cursor, out, 16, &n, &lost), RD_OK);
    ck_assert_uint_eq(n, 5);
    ck_assert_uint_eq(lost, 0);
    ck_assert_uint_eq(cursor, 5);
    ck_assert_uint_eq(out[4].index, 4);
    ck_assert(out[4].have_objects);
    ck_assert_uint_eq(out[4].mallocs, 104);
    ck_assert_uint_eq(out[4].frees, 54);
    ck_assert_uint_eq(out[4].total_alloc, 5 * 4096);
    ck_assert_int_eq(rd_samples_read(t, &cursor, out, 16, &n, &lost), RD_OK);
    ck_assert_uint_eq(n, 0);
    /* no dump requests on a memory image */
    struct rd_dump *d;
    ck_assert_int_eq(rd_dump_request(t, 0, 0, 10, &d), RD_EINVAL);
    rd_detach(t);

    /* the dump area parses */
    ck_assert_int_eq(rd_dump_parse(img.base + img.off[GRT_SHM_T_DUMP],
                                   2 * GRT_SHM_PAGE, 0x42, &d),
                     RD_OK);
    ck_assert_uint_eq(d->ng, 10);
    ck_assert_uint_eq(d->nmods, 1);
    ck_assert_str_eq(d->mods[0].path, "/usr/bin/image");
    ck_assert_uint_eq(d->mods[0].build_id_len, 4);
    ck_assert_uint_eq(d->g[3].npcs, 2);
    ck_assert_uint_eq(d->g[3].pcs[0], 0x401013);
    rd_dump_free(d);
    ck_assert_int_eq(rd_dump_parse(img.base + img.off[GRT_SHM_T_DUMP],
                                   2 * GRT_SHM_PAGE, 0x43, &d),
                     RD_ETIMEDOUT);
    free(img.base);
}
END_TEST

START_TEST(t_samples_lapped)
{
    struct shm_image img;
    ck_assert_int_eq(shm_image_build(&img, 1, 2, 20), 0); /* ring of 8 */
    struct rd_target *t;
    ck_assert_int_eq(rd_attach_mem(img.base, img.size, &t), RD_OK);
    struct rd_sample out[16];
    uint64_t cursor = 3, lost = 0;
    size_t n;
    ck_assert_int_eq(rd_samples_read(t, &cursor, out, 16, &n, &lost), RD_OK);
    ck_assert_uint_eq(lost, 9); /* 3..11 were overwritten */
    ck_assert_uint_eq(n, 8);
    ck_assert_uint_eq(out[0].index, 12);
    ck_assert_uint_eq(cursor, 20);
    rd_detach(t);
    free(img.base);
}
END_TEST

/* ---------------------------------------------------------------------
 * damaged
 * --------------------------------------------------------------------- */

/* Attach to a damaged copy and, if it attaches, take a snapshot; the
 * first error is returned. */
static int try_image(const char *base, size_t size)
{
    struct rd_target *t;
    int rc = rd_attach_mem(base, size, &t);
    if (rc != RD_OK)
        return rc;
    struct rd_snapshot *s;
    rc = rd_snapshot_take(t, &s);
    if (rc == RD_OK) {
        /* touch every string the snapshot holds */
        size_t total = strlen(s->name) + strlen(s->exe);
        for (int i = 0; i < s->argc; i++)
            total += strlen(s->argv[i]);
        for (size_t i = 0; i < s->ng; i++)
            total += strlen(s->g[i].name);
        for (size_t i = 0; i < s->nsite; i++)
            total += strlen(s->site[i].fn) + strlen(s->site[i].file);
        for (size_t i = 0; i < s->nchan; i++)
            total += strlen(s->chan[i].name);
        for (int i = 0; i < 32; i++)
            total += strlen(rd_wait_name(s, i));
        (void)total;
        rd_snapshot_free(s);
        struct rd_sample out[4];
        uint64_t cursor = 0, lost = 0;
        size_t n;
        rc = rd_samples_read(t, &cursor, out, 4, &n, &lost);
    }
    rd_detach(t);
    return rc;
}

struct damage {
    const char *what;
    void (*apply)(struct shm_image *img);
    int want;
};

#define HDR(img) ((struct grt_shm_header *)(img)->base)
/* A version-2 writer publishes no object counts: whatever its reserved
 * bytes hold, the sample says so and carries zeros. */
START_TEST(t_samples_version2)
{
    struct shm_image img;
    ck_assert_int_eq(shm_image_build(&img, 4242, 10, 5), 0);
    ((struct grt_shm_header *)img.base)->version = 2;
    struct rd_target *t;
    ck_assert_int_eq(rd_attach_mem(img.base, img.size, &t), RD_OK);
    struct rd_snapshot *s;
    ck_assert_int_eq(rd_snapshot_take(t, &s), RD_OK);
    ck_assert_uint_eq(s->version, 2);
    ck_assert(s->have_stats);
    ck_assert(!s->stats.have_objects);
    ck_assert_uint_eq(s->stats.mallocs, 0);
    ck_assert_uint_eq(s->stats.frees, 0);
    ck_assert_uint_eq(s->stats.total_alloc, 0);
    ck_assert_uint_eq(s->stats.created, 14); /* the rest reads as before */
    rd_snapshot_free(s); /* (rd_samples_read fills samples the same way) */
    rd_detach(t);
    free(img.base);
}
END_TEST

#define TAB(img, t) shm_image_table((img), (t))

static void d_magic(struct shm_image *i)
{
    HDR(i)->magic ^= 1;
}
static void d_not_ready(struct shm_image *i)
{
    HDR(i)->magic = 0;
}
static void d_newer(struct shm_image *i)
{
    HDR(i)->version = RD_SHM_VERSION + 2;
    HDR(i)->compat_version = RD_SHM_VERSION + 1;
}
static void d_newer_additive(struct shm_image *i)
{
    HDR(i)->version = 7;
}
static void d_version_zero(struct shm_image *i)
{
    HDR(i)->version = 0;
}
static void d_header_size(struct shm_image *i)
{
    HDR(i)->header_size = 100;
}
static void d_header_size_big(struct shm_image *i)
{
    HDR(i)->header_size = 5000;
}
static void d_segsize_big(struct shm_image *i)
{
    HDR(i)->segment_size += 4096;
}
static void d_segsize_small(struct shm_image *i)
{
    HDR(i)->segment_size -= 8;
}
static void d_ntables(struct shm_image *i)
{
    HDR(i)->ntables = 3;
}
static void d_ntables_big(struct shm_image *i)
{
    HDR(i)->ntables = 1000;
}
static void d_entry_size(struct shm_image *i)
{
    HDR(i)->table_entry_size = 16;
}
static void d_g_count(struct shm_image *i)
{
    TAB(i, GRT_SHM_T_G)->count = 17; /* capacity 16 */
}
static void d_g_count_huge(struct shm_image *i)
{
    TAB(i, GRT_SHM_T_G)->count = UINT64_MAX;
}
static void d_g_capacity(struct shm_image *i)
{
    TAB(i, GRT_SHM_T_G)->capacity = UINT32_MAX;
}
static void d_g_offset(struct shm_image *i)
{
    TAB(i, GRT_SHM_T_G)->offset = i->size - 64;
}
static void d_g_offset_huge(struct shm_image *i)
{
    TAB(i, GRT_SHM_T_G)->offset = UINT64_MAX - 4095;
}
static void d_g_offset_in_header(struct shm_image *i)
{
    TAB(i, GRT_SHM_T_G)->offset = 64;
}
static void d_g_offset_unaligned(struct shm_image *i)
{
    TAB(i, GRT_SHM_T_G)->offset += 4;
}
static void d_g_stride_small(struct shm_image *i)
{
    TAB(i, GRT_SHM_T_G)->stride = 64;
}
static void d_g_stride_odd(struct shm_image *i)
{
    TAB(i, GRT_SHM_T_G)->stride = 130;
}
static void d_g_size_huge(struct shm_image *i)
{
    TAB(i, GRT_SHM_T_G)->size = UINT64_MAX;
}
static void d_chan_stride_overflow(struct shm_image *i)
{
    TAB(i, GRT_SHM_T_CHAN)->stride = 1u << 31;
    TAB(i, GRT_SHM_T_CHAN)->capacity = 1u << 31;
    TAB(i, GRT_SHM_T_CHAN)->size = 0;
}
static void d_ring_not_pow2(struct shm_image *i)
{
    TAB(i, GRT_SHM_T_SAMPLES)->capacity = 6;
}
static void d_request_unaligned(struct shm_image *i)
{
    TAB(i, GRT_SHM_T_REQUEST)->offset += 8;
}
static void d_info_capacity(struct shm_image *i)
{
    TAB(i, GRT_SHM_T_INFO)->capacity = 2;
}
static void d_zero_capacity(struct shm_image *i)
{
    TAB(i, GRT_SHM_T_M)->capacity = 0;
}
/* strings without a NUL anywhere: the snapshot bounds them */
static void d_strings(struct shm_image *i)
{
    struct grt_shm_info *info = (void *)(i->base + i->off[GRT_SHM_T_INFO]);
    memset(info->name, 'A', sizeof info->name);
    memset(info->exe, 'B', sizeof info->exe);
    memset(info->wait_name, 'C', sizeof info->wait_name);
    memset(info->status_name, 'D', sizeof info->status_name);
    memset(info->cmdline, 'E', sizeof info->cmdline);
    info->cmdline_len = UINT32_MAX;
    struct grt_shm_g *g = (void *)(i->base + i->off[GRT_SHM_T_G]);
    memset(g[0].name, 'F', sizeof g[0].name);
    struct grt_shm_site *s = (void *)(i->base + i->off[GRT_SHM_T_SITE]);
    memset(s[1].fn, 'G',
           sizeof s[1].fn + sizeof s[1].caller + sizeof s[1].file);
}
/* a record left mid-write (odd seq) is skipped, not waited for */
static void d_torn_m(struct shm_image *i)
{
    struct grt_shm_m *m = (void *)(i->base + i->off[GRT_SHM_T_M]);
    m[0].seq = 3;
}

static const struct damage damages[] = {
    {"bad magic", d_magic, RD_EBADMAGIC},
    {"not ready", d_not_ready, RD_ENOTREADY},
    {"newer version", d_newer, RD_EVERSION},
    {"newer additive version", d_newer_additive, RD_OK},
    {"version zero", d_version_zero, RD_ECORRUPT},
    {"header_size small", d_header_size, RD_ECORRUPT},
    {"header_size big", d_header_size_big, RD_ECORRUPT},
    {"segment_size beyond the file", d_segsize_big, RD_ETRUNCATED},
    {"segment_size short of the file", d_segsize_small, RD_ECORRUPT},
    {"ntables small", d_ntables, RD_ECORRUPT},
    {"ntables big", d_ntables_big, RD_ECORRUPT},
    {"table_entry_size", d_entry_size, RD_ECORRUPT},
    {"G count beyond capacity", d_g_count, RD_ECORRUPT},
    {"G count huge", d_g_count_huge, RD_ECORRUPT},
    {"G capacity huge", d_g_capacity, RD_ECORRUPT},
    {"G offset at the end", d_g_offset, RD_ECORRUPT},
    {"G offset huge", d_g_offset_huge, RD_ECORRUPT},
    {"G offset in the header", d_g_offset_in_header, RD_ECORRUPT},
    {"G offset unaligned", d_g_offset_unaligned, RD_ECORRUPT},
    {"G stride small", d_g_stride_small, RD_ECORRUPT},
    {"G stride unaligned", d_g_stride_odd, RD_ECORRUPT},
    {"G size huge", d_g_size_huge, RD_ECORRUPT},
    {"chan capacity * stride overflows", d_chan_stride_overflow, RD_ECORRUPT},
    {"ring capacity not a power of two", d_ring_not_pow2, RD_ECORRUPT},
    {"request page unaligned", d_request_unaligned, RD_ECORRUPT},
    {"info capacity", d_info_capacity, RD_ECORRUPT},
    {"zero capacity", d_zero_capacity, RD_ECORRUPT},
    {"unterminated strings", d_strings, RD_OK},
    {"record mid-write", d_torn_m, RD_OK},
};

START_TEST(t_damaged)
{
    const struct damage *dm = &damages[_i];
    struct shm_image img;
    ck_assert_int_eq(shm_image_build(&img, 77, 12, 9), 0);
    dm->apply(&img);
    int rc = try_image(img.base, img.size);
    ck_assert_msg(rc == dm->want, "%s: got %d (%s), want %d (%s)", dm->what, rc,
                  rd_strerror(rc), dm->want, rd_strerror(dm->want));
    ck_assert_str_ne(rd_strerror(rc), "unknown error");
    free(img.base);
}
END_TEST

START_TEST(t_truncated)
{
    struct shm_image img;
    ck_assert_int_eq(shm_image_build(&img, 77, 12, 9), 0);
    static const size_t cut[] = {0, 1, 8, 100, 4095};
    for (size_t k = 0; k < sizeof cut / sizeof *cut; k++)
        ck_assert_int_eq(try_image(img.base, cut[k]), RD_ETRUNCATED);
    /* shorter than segment_size says */
    ck_assert_int_eq(try_image(img.base, 4096), RD_ETRUNCATED);
    ck_assert_int_eq(try_image(img.base, img.size - 4096), RD_ETRUNCATED);
    ck_assert_int_eq(try_image(img.base, img.size - 1), RD_ETRUNCATED);
    free(img.base);
}
END_TEST

/* Damaged dump answers: rd_dump_parse checks everything it follows. */
START_TEST(t_dump_damaged)
{
    struct shm_image img;
    ck_assert_int_eq(shm_image_build(&img, 77, 12, 9), 0);
    char *area = img.base + img.off[GRT_SHM_T_DUMP];
    size_t size = 2 * GRT_SHM_PAGE;
    char *copy = aligned_alloc(64, size);
    struct rd_dump *d;
    struct {
        size_t off;
        uint64_t val;
        int width;
        int want;
    } cases[] = {
        {offsetof(struct grt_shm_dump, used), 1 << 20, 8, RD_ECORRUPT},
        {offsetof(struct grt_shm_dump, used), 8, 8, RD_ECORRUPT},
        {offsetof(struct grt_shm_dump, ngoroutines), UINT32_MAX, 4,
         RD_ECORRUPT},
        {offsetof(struct grt_shm_dump, nframes), UINT32_MAX, 4, RD_ECORRUPT},
        {offsetof(struct grt_shm_dump, frames_off), UINT64_MAX - 7, 8,
         RD_ECORRUPT},
        {offsetof(struct grt_shm_dump, goroutines_off), 3, 8, RD_ECORRUPT},
        {offsetof(struct grt_shm_dump, goroutine_size), 8, 4, RD_ECORRUPT},
        {offsetof(struct grt_shm_dump, module_size), 0, 4, RD_ECORRUPT},
        {offsetof(struct grt_shm_dump, strings_size), 1 << 30, 8, RD_ECORRUPT},
        {offsetof(struct grt_shm_dump, status), 99, 4, RD_ECORRUPT},
        {offsetof(struct grt_shm_dump, status), GRT_SHM_DS_BADREQ, 4,
         RD_EINVAL},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        memcpy(copy, area, size);
        if (cases[k].width == 8)
            memcpy(copy + cases[k].off, &cases[k].val, 8);
        else {
            uint32_t v = (uint32_t)cases[k].val;
            memcpy(copy + cases[k].off, &v, 4);
        }
        int rc = rd_dump_parse(copy, size, 0x42, &d);
        ck_assert_msg(rc == cases[k].want, "case %zu: got %d want %d", k, rc,
                      cases[k].want);
    }
    /* a goroutine whose frames run past the array */
    memcpy(copy, area, size);
    struct grt_shm_dump *h = (void *)copy;
    struct grt_shm_dump_g *dg = (void *)(copy + h->goroutines_off);
    dg[3].nframes = 1000;
    ck_assert_int_eq(rd_dump_parse(copy, size, 0x42, &d), RD_ECORRUPT);
    dg[3].nframes = 2;
    dg[3].first_frame = UINT32_MAX;
    ck_assert_int_eq(rd_dump_parse(copy, size, 0x42, &d), RD_ECORRUPT);
    /* a module whose path runs past the strings */
    memcpy(copy, area, size);
    struct grt_shm_dump_module *mod = (void *)(copy + h->modules_off);
    mod->path_len = UINT32_MAX;
    ck_assert_int_eq(rd_dump_parse(copy, size, 0x42, &d), RD_ECORRUPT);
    mod->path_len = 4;
    mod->build_id_len = 100;
    ck_assert_int_eq(rd_dump_parse(copy, size, 0x42, &d), RD_ECORRUPT);
    ck_assert_int_eq(rd_dump_parse(copy, 10, 0, &d), RD_ECORRUPT);
    free(copy);
    free(img.base);
}
END_TEST

/* ---------------------------------------------------------------------
 * random
 * --------------------------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t rng(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * UINT64_C(2685821657736338717);
}

START_TEST(t_random_mutations)
{
    struct shm_image img;
    ck_assert_int_eq(shm_image_build(&img, 77, 16, 11), 0);
    char *copy = aligned_alloc(64, img.size);
    int counts[32] = {0};
    for (int iter = 0; iter < 4000; iter++) {
        memcpy(copy, img.base, img.size);
        int n = 1 + (int)(rng() % 8);
        for (int k = 0; k < n; k++) {
            size_t at;
            uint64_t r = rng();
            /* mostly the header and directory, sometimes anywhere */
            if (r % 4 != 0)
                at = (size_t)(rng() % 608);
            else
                at = (size_t)(rng() % img.size);
            switch (rng() % 4) {
            case 0:
                copy[at] ^= (char)(1 << (rng() % 8));
                break;
            case 1:
                copy[at] = (char)rng();
                break;
            case 2:
                if (at + 8 <= img.size) {
                    uint64_t v = rng() % 3 == 0 ? UINT64_MAX : rng();
                    memcpy(copy + at, &v, 8);
                }
                break;
            default:
                copy[at] = 0;
            }
        }
        size_t size = rng() % 16 == 0 ? (size_t)(rng() % img.size) : img.size;
        int rc = try_image(copy, size);
        ck_assert_int_le(rc, 0);
        ck_assert_int_ge(rc, RD_ENOSYM);
        counts[-rc]++;
        /* the dump area on its own */
        struct rd_dump *d;
        if (rd_dump_parse(copy + img.off[GRT_SHM_T_DUMP], 2 * GRT_SHM_PAGE, 0,
                          &d) == RD_OK)
            rd_dump_free(d);
    }
    ck_assert_int_gt(counts[0], 0); /* some mutations leave it readable */
    free(copy);
    free(img.base);
}
END_TEST

/* ---------------------------------------------------------------------
 * live
 * --------------------------------------------------------------------- */

enum { PAIRS = 600, SLEEPERS = 400, BLOCKED = 500 };

static grt_chan *parked_on; /* BLOCKED goroutines wait here for ever */

struct pair {
    grt_chan *ping, *pong;
};

static void pinger(void *arg)
{
    struct pair *p = arg;
    for (int64_t v = 0;; v++) {
        grt_chan_send(p->ping, &v);
        grt_chan_recv(p->pong, &v);
    }
}

static void ponger(void *arg)
{
    struct pair *p = arg;
    for (;;) {
        int64_t v;
        grt_chan_recv(p->ping, &v);
        grt_chan_send(p->pong, &v);
    }
}

static void sleeper(void *arg)
{
    uint64_t x = (uint64_t)(uintptr_t)arg * 2654435761u + 1;
    for (;;) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        grt_sleep(1000000 + (int64_t)(x % 1000000));
    }
}

static void blocked(void *arg)
{
    (void)arg;
    int64_t v;
    grt_chan_recv(parked_on, &v);
}

static void short_lived(void *arg)
{
    (void)arg;
    grt_yield();
}

static void spawner(void *arg)
{
    (void)arg;
    for (;;) {
        for (int i = 0; i < 50; i++)
            grt_go_named("short", short_lived, NULL);
        grt_sleep(1000000);
    }
}

/* The child: thousands of goroutines changing state until killed. */
static _Noreturn void churn_main(int ready_fd)
{
    parked_on = grt_chan_make(sizeof(int64_t), 0);
    grt_chan_set_name(parked_on, "parked");
    static struct pair pairs[PAIRS];
    for (int i = 0; i < PAIRS; i++) {
        pairs[i].ping = grt_chan_make(sizeof(int64_t), 0);
        pairs[i].pong = grt_chan_make(sizeof(int64_t), 0);
        grt_go(pinger, &pairs[i]);
        grt_go(ponger, &pairs[i]);
    }
    for (intptr_t i = 0; i < SLEEPERS; i++)
        grt_go(sleeper, (void *)i);
    for (int i = 0; i < BLOCKED; i++)
        grt_go(blocked, NULL);
    grt_go(spawner, NULL);
    char c = 1;
    if (write(ready_fd, &c, 1) != 1)
        _exit(3);
    for (;;)
        grt_sleep(1000000000);
}

static pid_t start_churn(void)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* Check's handlers (inherited) would end the test's whole
         * process group; the child dies of SIGTERM as a program does */
        signal(SIGTERM, SIG_DFL);
        close(fds[0]);
        churn_main(fds[1]);
    }
    close(fds[1]);
    char c;
    ck_assert_int_eq(read(fds[0], &c, 1), 1);
    close(fds[0]);
    return pid;
}

static void stop_churn(pid_t pid)
{
    kill(pid, SIGTERM);
    int st;
    waitpid(pid, &st, 0);
}

/* Check one snapshot against the runtime's invariants. */
static void check_snapshot(const struct rd_snapshot *s, int64_t now,
                           size_t *nrecv_parked)
{
    ck_assert_uint_eq(s->ntorn, 0);
    *nrecv_parked = 0;
    uint64_t parked_addr = 0;
    for (size_t i = 0; i < s->nchan; i++)
        if (strcmp(s->chan[i].name, "parked") == 0)
            parked_addr = s->chan[i].addr;
    for (size_t i = 0; i < s->ng; i++) {
        const struct rd_g *g = &s->g[i];
        ck_assert(!g->torn);
        ck_assert_int_gt(g->goid, 0);
        ck_assert_msg(g->site >= 1 && g->site <= s->nsite,
                      "goroutine %ld: site %u of %zu", (long)g->goid, g->site,
                      s->nsite);
        ck_assert_int_le(g->start_ns, now);
        switch (g->status) {
        case GRT_SHM_G_RUNNING:
            ck_assert_int_ge(g->m_id, 0);
            ck_assert_int_ge(g->p_id, 0);
            ck_assert_int_lt(g->p_id, 1024);
            break;
        case GRT_SHM_G_WAITING:
            ck_assert_int_gt(g->wait_since, 0);
            ck_assert_int_le(g->wait_since, now + 2000000);
            if (g->wait_reason == GRT_SHM_WAIT_CHAN_RECV ||
                g->wait_reason == GRT_SHM_WAIT_CHAN_SEND) {
                /* the channel was registered before the goroutine
                 * parked on it, and no channel is ever freed here */
                bool found = false;
                for (size_t k = 0; k < s->nchan && !found; k++)
                    found = s->chan[k].addr == g->wait_obj;
                /* unless its record was skipped as torn: its writer, the
                 * agent's thread, was descheduled in mid-update */
                ck_assert_msg(found || s->ntorn_other > 0,
                              "goroutine %ld waits on %#lx, not a "
                              "registered channel",
                              (long)g->goid, (unsigned long)g->wait_obj);
                if (g->wait_obj == parked_addr)
                    (*nrecv_parked)++;
            } else {
                ck_assert_msg(g->wait_reason == GRT_SHM_WAIT_SLEEP,
                              "goroutine %ld waits for %d", (long)g->goid,
                              g->wait_reason);
            }
            break;
        case GRT_SHM_G_RUNNABLE:
        case GRT_SHM_G_SYSCALL:
            break;
        default:
            ck_abort_msg("goroutine %ld has status %d", (long)g->goid,
                         g->status);
        }
        const struct rd_site *site = &s->site[g->site - 1];
        ck_assert_msg(strcmp(site->fn, "pinger") == 0 ||
                          strcmp(site->fn, "ponger") == 0 ||
                          strcmp(site->fn, "sleeper") == 0 ||
                          strcmp(site->fn, "blocked") == 0 ||
                          strcmp(site->fn, "spawner") == 0 ||
                          strcmp(site->fn, "short_lived") == 0 || g->goid == 1,
                      "goroutine %ld from site '%s'", (long)g->goid, site->fn);
        if (strcmp(site->fn, "short_lived") == 0)
            ck_assert_str_eq(g->name, "short");
    }
}

START_TEST(t_live_snapshots)
{
    pid_t pid = start_churn();
    struct rd_target *t;
    ck_assert_int_eq(rd_attach((int)pid, &t), RD_OK);
    ck_assert_int_eq(rd_target_check(t), RD_OK);
    size_t max_ng = 0;
    bool saw_parked = false;
    for (int k = 0; k < 60 || !saw_parked; k++) {
        struct rd_snapshot *s;
        ck_assert_int_eq(rd_snapshot_take(t, &s), RD_OK);
        size_t nparked;
        check_snapshot(s, rd__mono(), &nparked);
        if (s->ng > max_ng)
            max_ng = s->ng;
        if (nparked == BLOCKED) {
            /* once the sampler refreshed the channel record */
            for (size_t i = 0; i < s->nchan; i++)
                if (strcmp(s->chan[i].name, "parked") == 0 &&
                    s->chan[i].nrecv == BLOCKED)
                    saw_parked = true;
        }
        rd_snapshot_free(s);
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    ck_assert_uint_ge(max_ng, 2 * PAIRS + SLEEPERS + BLOCKED);
    rd_detach(t);
    stop_churn(pid);
}
END_TEST

/* Wait until the BLOCKED goroutines are parked (they start running only
 * some time after they are made). */
static void wait_blocked(struct rd_target *t)
{
    for (;;) {
        struct rd_snapshot *s;
        ck_assert_int_eq(rd_snapshot_take(t, &s), RD_OK);
        size_t nparked;
        check_snapshot(s, rd__mono(), &nparked);
        rd_snapshot_free(s);
        if (nparked == BLOCKED)
            return;
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
}

START_TEST(t_live_dump)
{
    pid_t pid = start_churn();
    struct rd_target *t;
    ck_assert_int_eq(rd_attach((int)pid, &t), RD_OK);
    wait_blocked(t);
    struct rd_dump *d;
    int rc = rd_dump_request(t, 0, 0, 5000, &d);
    if (rc == RD_ENODUMP) { /* built without libunwind */
        rd_detach(t);
        stop_churn(pid);
        return;
    }
    ck_assert_int_eq(rc, RD_OK);
    ck_assert_int_eq(d->status, GRT_SHM_DS_OK);
    ck_assert_uint_ge(d->ng, 2 * PAIRS + SLEEPERS + BLOCKED);
    ck_assert_uint_gt(d->nmods, 1);
    size_t with_frames = 0;
    for (size_t i = 0; i < d->ng; i++)
        if (d->g[i].npcs > 0)
            with_frames++;
    ck_assert_uint_ge(with_frames, BLOCKED);
    struct rd_sym *sym;
    rc = rd_sym_open(d, &sym);
    if (rc == RD_OK) {
        /* some goroutine is parked in blocked() -> grt_chan_recv */
        size_t found = 0;
        for (size_t i = 0; i < d->ng && !found; i++) {
            bool recv = false;
            for (uint32_t k = 0; k < d->g[i].npcs; k++) {
                struct rd_frame_info fi;
                if (rd_sym_lookup(sym, d->g[i].pcs[k], k > 0, &fi) != RD_OK)
                    continue;
                /* the blocking half, tail-called by grt_chan_recv,
                 * stands for it */
                const char *pub = rd_public_call(fi.func, d->g[i].wait_reason);
                if (pub && strcmp(pub, "grt_chan_recv") == 0)
                    recv = true;
                if (recv && strcmp(fi.func, "blocked") == 0) {
                    ck_assert_str_eq(strrchr(fi.file, '/')
                                         ? strrchr(fi.file, '/') + 1
                                         : fi.file,
                                     "check_reader.c");
                    ck_assert_int_gt(fi.line, 0);
                    found++;
                }
            }
        }
        ck_assert_uint_gt(found, 0);
        rd_sym_close(sym);
    } else {
        ck_assert_int_eq(rc, RD_ENOSYM);
    }
    rd_dump_free(d);
    /* one goroutine: goroutine 1 (main, asleep) */
    ck_assert_int_eq(rd_dump_request(t, 1, 8, 5000, &d), RD_OK);
    ck_assert_uint_eq(d->ng, 1);
    ck_assert_int_eq(d->g[0].goid, 1);
    ck_assert_uint_le(d->g[0].npcs, 8);
    rd_dump_free(d);
    ck_assert_int_eq(rd_dump_request(t, 999999999, 8, 5000, &d), RD_ENOTFOUND);
    rd_detach(t);
    stop_churn(pid);
}
END_TEST

static Suite *reader_suite(void)
{
    Suite *s = suite_create("reader");
    TCase *tc = tcase_create("image");
    tcase_add_test(tc, t_image_reads_back);
    tcase_add_test(tc, t_samples_lapped);
    tcase_add_test(tc, t_samples_version2);
    suite_add_tcase(s, tc);
    tc = tcase_create("damaged");
    tcase_add_loop_test(tc, t_damaged, 0,
                        (int)(sizeof damages / sizeof *damages));
    tcase_add_test(tc, t_truncated);
    tcase_add_test(tc, t_dump_damaged);
    suite_add_tcase(s, tc);
    tc = tcase_create("random");
    tcase_set_timeout(tc, TU_TIMEOUT);
    tcase_add_test(tc, t_random_mutations);
    suite_add_tcase(s, tc);
    tc = tcase_create("live");
    tcase_set_timeout(tc, TU_TIMEOUT);
    tcase_add_test(tc, t_live_snapshots);
    tcase_add_test(tc, t_live_dump);
    suite_add_tcase(s, tc);
    return s;
}

static void remove_dir(const char *dir)
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
    rmdir(dir);
}

int main(void)
{
    if (!mkdtemp(agent_dir)) {
        perror("mkdtemp");
        return 99;
    }
    setenv("GRT_AGENT_DIR", agent_dir, 1);
    int rc = tu_run_suite(reader_suite());
    remove_dir(agent_dir);
    return rc;
}
