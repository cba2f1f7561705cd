/*
 * gtop_image.c - the "shop" image of gtop_image.h: shm_image's valid
 * layout, refilled with goroutines, threads, processors, channels, sites
 * and samples chosen so that every column, view and meter of gtop has
 * something to show and every sort order is total.
 */
#include "config.h"

#include "gtop_image.h"

#include <string.h>

#define S INT64_C(1000000000)

struct gdesc {
    int64_t goid, parent;
    int status, reason;
    int64_t waited_s; /* waiting this long at GTOP_IMAGE_NOW */
    uint64_t obj;
    uint32_t site;
    const char *name;
    uint64_t stack_kib;
};

static const struct gdesc gs[16] = {
    {1, 0, GRT_SHM_G_RUNNING, 0, 0, 0, 1, "", 8},
    {2, 1, GRT_SHM_G_WAITING, GRT_SHM_WAIT_CHAN_RECV, 5, 0x1000, 2, "worker-1",
     8},
    {3, 1, GRT_SHM_G_WAITING, GRT_SHM_WAIT_CHAN_RECV, 4, 0x1000, 2, "worker-2",
     8},
    {4, 1, GRT_SHM_G_WAITING, GRT_SHM_WAIT_CHAN_RECV, 3, 0x1000, 2, "worker-3",
     12},
    {5, 1, GRT_SHM_G_WAITING, GRT_SHM_WAIT_CHAN_RECV, 2, 0x1000, 2, "worker-4",
     8},
    {6, 1, GRT_SHM_G_WAITING, GRT_SHM_WAIT_CHAN_RECV, 1, 0x1000, 2, "worker-5",
     16},
    {7, 2, GRT_SHM_G_WAITING, GRT_SHM_WAIT_CHAN_SEND, 61, 0x1100, 3, "", 4},
    {8, 2, GRT_SHM_G_WAITING, GRT_SHM_WAIT_CHAN_SEND, 62, 0x1100, 3, "", 4},
    {9, 3, GRT_SHM_G_WAITING, GRT_SHM_WAIT_CHAN_SEND, 63, 0x1100, 3, "", 4},
    {10, 3, GRT_SHM_G_WAITING, GRT_SHM_WAIT_CHAN_SEND, 64, 0x1100, 3, "", 4},
    {11, 7, GRT_SHM_G_RUNNABLE, 0, 0, 0, 4, "", 4},
    {12, 1, GRT_SHM_G_SYSCALL, GRT_SHM_WAIT_SYSCALL, 2, 0, 4, "reader", 8},
    {13, 1, GRT_SHM_G_WAITING, GRT_SHM_WAIT_SLEEP, 1, 0, 4, "ticker", 4},
    {14, 4, GRT_SHM_G_WAITING, GRT_SHM_WAIT_MUTEX_LOCK, 20, 0x2000, 4, "", 4},
    {15, 4, GRT_SHM_G_WAITING, GRT_SHM_WAIT_SELECT, 7, 0, 4, "", 4},
    {16, 1, GRT_SHM_G_WAITING, GRT_SHM_WAIT_WAITGROUP, 30, 0x3000, 4, "", 4},
};

static const char *const wait_names[] = {
    "",
    "chan receive",
    "chan send",
    "chan receive (nil chan)",
    "chan send (nil chan)",
    "select",
    "select (no cases)",
    "sleep",
    "IO wait",
    "sync.Mutex.Lock",
    "sync.RWMutex.RLock",
    "sync.RWMutex.Lock",
    "sync.WaitGroup.Wait",
    "sync.Cond.Wait",
    "syscall",
    "preempted",
};

int gtop_image_build(struct shm_image *img)
{
    if (shm_image_build(img, GTOP_IMAGE_PID, 16, 8) != 0)
        return -1;
    char *b = img->base;
    struct grt_shm_header *h = (void *)b;
    h->heartbeat_ns = GTOP_IMAGE_NOW;
    h->created_mono_ns = GTOP_IMAGE_NOW - 3723 * S; /* up 1:02:03 */

    struct grt_shm_info *info = (void *)(b + img->off[GRT_SHM_T_INFO]);
    strcpy(info->name, "shop");
    strcpy(info->exe, "/usr/bin/shop");
    for (size_t i = 0; i < sizeof wait_names / sizeof *wait_names; i++)
        strcpy(info->wait_name[i], wait_names[i]);

    struct grt_shm_g *g = (void *)(b + img->off[GRT_SHM_T_G]);
    for (unsigned i = 0; i < 16; i++) {
        const struct gdesc *d = &gs[i];
        struct grt_shm_g *r = &g[i];
        memset(r, 0, sizeof *r);
        r->state =
            (7u + i) << 16 | (uint32_t)d->reason << 8 | (uint32_t)d->status;
        r->flags = d->goid == 1 ? GRT_SHM_GF_MAIN : 0;
        if (d->name[0])
            r->flags |= GRT_SHM_GF_NAMED;
        r->goid = d->goid;
        r->wait_since = GTOP_IMAGE_NOW - d->waited_s * S;
        r->wait_obj = d->obj;
        r->m_id = d->status == GRT_SHM_G_RUNNING   ? 0
                  : d->status == GRT_SHM_G_SYSCALL ? 1
                                                   : -1;
        r->p_id = d->status == GRT_SHM_G_RUNNING ? 0 : -1;
        r->parent_goid = d->parent;
        r->start_ns = GTOP_IMAGE_NOW - 100 * S;
        r->site = d->site;
        r->stack_reserved = 1 << 20;
        r->stack_committed = d->stack_kib * 1024;
        strcpy(r->name, d->name);
    }

    struct grt_shm_m *m = (void *)(b + img->off[GRT_SHM_T_M]);
    m[1].flags = GRT_SHM_MF_BLOCKED;
    m[1].curg = 12;

    struct grt_shm_chan *c = (void *)(b + img->off[GRT_SHM_T_CHAN]);
    memset(c, 0, 3 * sizeof *c);
    static const struct {
        uint64_t addr, cap, len;
        uint32_t nsend, nrecv, flags;
        int64_t oldest_s;
        const char *name;
    } cs[3] = {
        {0x1000, 0, 0, 0, 5, 0, 5, "jobs"},
        {0x1100, 0, 0, 4, 0, 0, 64, "results"},
        {0x1200, 10, 3, 0, 0, GRT_SHM_CF_CLOSED, 0, ""},
    };
    for (int i = 0; i < 3; i++) {
        c[i].seq = 2;
        c[i].flags = GRT_SHM_CF_LIVE | cs[i].flags;
        c[i].addr = cs[i].addr;
        c[i].elem_size = 8;
        c[i].cap = cs[i].cap;
        c[i].len = cs[i].len;
        c[i].nsend = cs[i].nsend;
        c[i].nrecv = cs[i].nrecv;
        c[i].oldest_wait =
            cs[i].oldest_s ? GTOP_IMAGE_NOW - cs[i].oldest_s * S : 0;
        strcpy(c[i].name, cs[i].name);
    }
    shm_image_table(img, GRT_SHM_T_CHAN)->count = 3;

    struct grt_shm_site *s = (void *)(b + img->off[GRT_SHM_T_SITE]);
    static const struct {
        int line;
        const char *fn, *caller;
    } ss[4] = {
        {0, "main", ""},
        {42, "worker", "main"},
        {77, "fetch", "worker"},
        {120, "handler", "main"},
    };
    for (int i = 0; i < 4; i++) {
        memset(&s[i], 0, sizeof s[i]);
        s[i].seq = 2;
        s[i].line = ss[i].line;
        strcpy(s[i].fn, ss[i].fn);
        strcpy(s[i].caller, ss[i].caller);
        strcpy(s[i].file, ss[i].line ? "shop.c" : "");
    }
    shm_image_table(img, GRT_SHM_T_SITE)->count = 4;

    struct grt_shm_sample *sm = (void *)(b + img->off[GRT_SHM_T_SAMPLES]);
    for (unsigned i = 0; i < 8; i++) {
        struct grt_shm_sample *x = &sm[i];
        x->mono_ns = GTOP_IMAGE_NOW - (7 - (int64_t)i) * 200000000;
        x->goroutines = 9 + i;
        x->threads = 2;
        x->maxprocs = 2;
        x->ncpu = 4;
        x->created = 100 + 10 * i;
        x->exited = 91 + 9 * i;
        x->ctxswitches = 1000 + 700 * i;
        x->steals = 7 * i;
        x->preemptions = 2 * i;
        x->syscalls = 14 * i;
        x->stack_inuse = 140 * 1024;
        x->stack_sys = 16 << 20;
        x->heap_alloc = 3 << 20;
        x->heap_sys = 8 << 20;
        x->idle_ps = 1;
        x->nstate[GRT_SHM_G_RUNNABLE] = i % 3;
    }
    return 0;
}
