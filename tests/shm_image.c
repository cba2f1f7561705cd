/*
 * shm_image.c - small valid segment images for the reader's tests and
 * fuzz target (see shm_image.h).  Written as a third-party writer would
 * from docs/shm-abi.md: directory, info, records with even sequence
 * numbers (G records with their state word), ring slots carrying their
 * index, and a dump area answering one request.
 */
#include "config.h"

#include "shm_image.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAGE GRT_SHM_PAGE

static size_t round_page(size_t n)
{
    return (n + PAGE - 1) / PAGE * PAGE;
}

struct grt_shm_table *shm_image_table(struct shm_image *img, int t)
{
    return &((struct grt_shm_header *)img->base)->tables[t];
}

int shm_image_build(struct shm_image *img, int pid, unsigned ng,
                    unsigned nsamples)
{
    static const struct {
        int t;
        uint32_t stride, cap;
        size_t size;
    } regions[] = {
        {GRT_SHM_T_INFO, sizeof(struct grt_shm_info), 1, 0},
        {GRT_SHM_T_REQUEST, sizeof(struct grt_shm_request), 1, PAGE},
        {GRT_SHM_T_SAMPLES, sizeof(struct grt_shm_sample), 8, 0},
        {GRT_SHM_T_P, sizeof(struct grt_shm_p), 2, 0},
        {GRT_SHM_T_M, sizeof(struct grt_shm_m), 2, 0},
        {GRT_SHM_T_CHAN, sizeof(struct grt_shm_chan), 4, 0},
        {GRT_SHM_T_SITE, sizeof(struct grt_shm_site), 4, 0},
        {GRT_SHM_T_DUMP, 2 * PAGE, 1, 2 * PAGE},
        {GRT_SHM_T_G, sizeof(struct grt_shm_g), 16, 0},
    };
    if (ng > 16)
        ng = 16;
    memset(img, 0, sizeof *img);
    struct grt_shm_table tabs[GRT_SHM_T_MAX];
    memset(tabs, 0, sizeof tabs);
    size_t off = PAGE;
    for (size_t i = 0; i < sizeof regions / sizeof *regions; i++) {
        size_t size = regions[i].size
                          ? regions[i].size
                          : (size_t)regions[i].stride * regions[i].cap;
        size = round_page(size);
        struct grt_shm_table *e = &tabs[regions[i].t];
        e->offset = off;
        e->stride = regions[i].stride;
        e->capacity = regions[i].cap;
        e->size = size;
        img->off[regions[i].t] = off;
        off += size;
    }
    img->size = off;
    img->base = aligned_alloc(64, off);
    if (!img->base)
        return -1;
    memset(img->base, 0, off);
    char *b = img->base;

    struct grt_shm_header *h = (void *)b;
    h->magic = GRT_SHM_MAGIC;
    h->version = GRT_SHM_VERSION;
    h->compat_version = GRT_SHM_COMPAT;
    h->header_size = offsetof(struct grt_shm_header, reserved);
    h->flags = GRT_SHM_F_DUMPS;
    h->segment_size = off;
    h->pid = pid;
    h->start_ticks = 12345;
    h->created_mono_ns = 1000000000;
    h->created_real_ns = 1700000000000000000;
    h->uid = (uint32_t)geteuid();
    h->page_size = PAGE;
    h->ntables = GRT_SHM_T_COUNT_V1;
    h->table_entry_size = sizeof(struct grt_shm_table);
    h->heartbeat_ns = 2000000000;
    memcpy(h->tables, tabs, sizeof tabs);

    struct grt_shm_info *info = (void *)(b + img->off[GRT_SHM_T_INFO]);
    strcpy(info->name, "image");
    strcpy(info->exe, "/usr/bin/image");
    strcpy(info->version, "0.1.0");
    static const char args[] = "image\0--flag\0value";
    memcpy(info->cmdline, args, sizeof args);
    info->cmdline_len = sizeof args;
    info->argc = 3;
    static const char *const st[] = {"idle",    "runnable", "running",
                                     "waiting", "syscall",  "dead"};
    for (int i = 0; i < 6; i++)
        strcpy(info->status_name[i], st[i]);
    info->nstatus = 6;
    strcpy(info->wait_name[GRT_SHM_WAIT_CHAN_RECV], "chan receive");
    strcpy(info->wait_name[GRT_SHM_WAIT_CHAN_SEND], "chan send");
    strcpy(info->wait_name[GRT_SHM_WAIT_SLEEP], "sleep");
    info->nwait = 16;

    /* goroutines: 1 running, then waiting on channel 0, runnable, ... */
    struct grt_shm_g *g = (void *)(b + img->off[GRT_SHM_T_G]);
    for (unsigned i = 0; i < ng; i++) {
        uint32_t status = i == 0       ? GRT_SHM_G_RUNNING
                          : i % 3 == 1 ? GRT_SHM_G_WAITING
                          : i % 3 == 2 ? GRT_SHM_G_RUNNABLE
                                       : GRT_SHM_G_DEAD;
        uint32_t reason =
            status == GRT_SHM_G_WAITING ? GRT_SHM_WAIT_CHAN_RECV : 0;
        g[i].state = (1u + i) << 16 | reason << 8 | status;
        g[i].flags = i == 0 ? GRT_SHM_GF_MAIN : 0;
        g[i].goid = i + 1;
        g[i].wait_since = 1500000000;
        g[i].wait_obj = status == GRT_SHM_G_WAITING ? 0x1000 : 0;
        g[i].m_id = i == 0 ? 0 : -1;
        g[i].p_id = i == 0 ? 0 : -1;
        g[i].parent_goid = i == 0 ? 0 : 1;
        g[i].start_ns = 1000000000;
        g[i].site = i == 0 ? 1 : 2;
        g[i].stack_reserved = 1 << 20;
        g[i].stack_committed = 8192;
        if (i == 2)
            strcpy(g[i].name, "worker-2");
    }
    tabs[GRT_SHM_T_G].count = ng;

    struct grt_shm_m *m = (void *)(b + img->off[GRT_SHM_T_M]);
    for (int i = 0; i < 2; i++) {
        m[i].seq = 2;
        m[i].id = i;
        m[i].tid = 1000 + i;
        m[i].p_id = i == 0 ? 0 : -1;
        m[i].curg = i == 0 ? 1 : 0;
        m[i].flags = i == 1 ? GRT_SHM_MF_IDLE : 0;
    }
    tabs[GRT_SHM_T_M].count = 2;
    struct grt_shm_p *p = (void *)(b + img->off[GRT_SHM_T_P]);
    for (int i = 0; i < 2; i++) {
        p[i].seq = 4;
        p[i].status = i == 0 ? GRT_SHM_P_RUNNING : GRT_SHM_P_IDLE;
        p[i].id = i;
        p[i].m_id = i == 0 ? 0 : -1;
        p[i].runq = (uint32_t)i;
        p[i].ctxswitches = 100 + (uint64_t)i;
    }
    tabs[GRT_SHM_T_P].count = 2;
    struct grt_shm_chan *c = (void *)(b + img->off[GRT_SHM_T_CHAN]);
    for (int i = 0; i < 2; i++) {
        c[i].seq = 2;
        c[i].flags = GRT_SHM_CF_LIVE;
        c[i].addr = 0x1000 + 0x100 * (uint64_t)i;
        c[i].elem_size = 8;
        c[i].nrecv = i == 0 ? 5 : 0;
        strcpy(c[i].name, i == 0 ? "jobs" : "");
    }
    tabs[GRT_SHM_T_CHAN].count = 2;
    struct grt_shm_site *s = (void *)(b + img->off[GRT_SHM_T_SITE]);
    s[0].seq = 2;
    s[0].line = 0;
    strcpy(s[0].fn, "main");
    s[1].seq = 2;
    s[1].line = 42;
    strcpy(s[1].fn, "worker");
    strcpy(s[1].caller, "main");
    strcpy(s[1].file, "image.c");
    tabs[GRT_SHM_T_SITE].count = 2;

    struct grt_shm_sample *sm = (void *)(b + img->off[GRT_SHM_T_SAMPLES]);
    for (unsigned i = 0; i < nsamples; i++) {
        struct grt_shm_sample *x = &sm[i & 7];
        memset(x, 0, sizeof *x);
        x->seq = 2 * (i / 8 + 1);
        x->index = i;
        x->mono_ns = 1000000000 + (int64_t)i * 100000000;
        x->goroutines = ng;
        x->threads = 2;
        x->maxprocs = 2;
        x->ncpu = 2;
        x->created = ng + i;
        x->nstate[GRT_SHM_G_WAITING] = 1;
        x->mallocs = 100 + i;
        x->frees = 50 + i;
        x->total_alloc = 4096 * (i + 1);
    }
    tabs[GRT_SHM_T_SAMPLES].count = nsamples;

    /* a dump answering request 0x42 */
    char *dump = b + img->off[GRT_SHM_T_DUMP];
    struct grt_shm_dump *d = (void *)dump;
    size_t o = 136;
    d->modules_off = o;
    d->nmodules = 1;
    d->module_size = sizeof(struct grt_shm_dump_module);
    o += sizeof(struct grt_shm_dump_module);
    d->strings_off = o;
    static const char path[] = "/usr/bin/image";
    struct grt_shm_dump_module *mod = (void *)(dump + d->modules_off);
    mod->bias = 0x400000;
    mod->lo = 0x401000;
    mod->hi = 0x402000;
    mod->path_off = 0;
    mod->path_len = sizeof path - 1;
    memcpy(dump + o, path, sizeof path - 1);
    mod->build_id_off = sizeof path - 1;
    mod->build_id_len = 4;
    memcpy(dump + o + sizeof path - 1, "\x12\x34\x56\x78", 4);
    d->strings_size = sizeof path - 1 + 4;
    o = (o + d->strings_size + 7) & ~(size_t)7;
    d->goroutines_off = o;
    d->goroutine_size = sizeof(struct grt_shm_dump_g);
    d->ngoroutines = ng;
    o += (size_t)ng * sizeof(struct grt_shm_dump_g);
    d->frames_off = o;
    d->nframes = 2 * ng;
    struct grt_shm_dump_g *dg = (void *)(dump + d->goroutines_off);
    uint64_t *pcs = (void *)(dump + d->frames_off);
    for (unsigned i = 0; i < ng; i++) {
        dg[i].goid = i + 1;
        dg[i].state = g[i].state;
        dg[i].first_frame = 2 * i;
        dg[i].nframes = 2;
        pcs[2 * i] = 0x401010 + i;
        pcs[2 * i + 1] = 0x401800 + i;
    }
    o += (size_t)d->nframes * 8;
    d->used = o;
    d->id = 0x42;
    d->status = GRT_SHM_DS_OK;
    d->seq = 2;
    memcpy(h->tables, tabs, sizeof tabs);
    return 0;
}
