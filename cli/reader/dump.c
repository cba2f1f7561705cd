/*
 * dump.c (reader) - asking the agent for stacks and reading its answer.
 *
 * The request protocol (shm_abi.h, docs/shm-abi.md "Stack dumps"): claim
 * the request slot with a CAS IDLE -> CLAIMED, fill it, store-release
 * POSTED and wake the agent with a shared FUTEX_WAKE on the state word;
 * then poll the dump area until its header answers our id.  Our id is
 * unique among readers: pid in the high 32 bits, a counter below.
 *
 * The answer is parsed as hostile input (rd_dump_parse): the whole area
 * used is copied under the dump's seqlock, then every offset, stride and
 * count is checked against the copy's size before it is followed, and
 * every goroutine's frame range against the frame array.
 */
#include "config.h"

#include "reader_int.h"

#include <errno.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define POLL_NS 200000 /* 0.2 ms between looks at the answer */

static void nap(long ns)
{
    struct timespec ts = {0, ns};
    nanosleep(&ts, NULL);
}

/* a + b <= limit without overflow */
static bool within(uint64_t a, uint64_t b, uint64_t limit)
{
    uint64_t s;
    return !__builtin_add_overflow(a, b, &s) && s <= limit;
}

int rd_dump_parse(const void *area, size_t size, uint64_t want_id,
                  struct rd_dump **out)
{
    *out = NULL;
    if (size < sizeof(struct grt_shm_dump) || ((uintptr_t)area & 7))
        return RD_ECORRUPT;
    struct grt_shm_dump h;
    memcpy(&h, area, sizeof h);
    if (want_id && h.id != want_id)
        return RD_ETIMEDOUT; /* not (yet) ours */
    if (h.status == GRT_SHM_DS_BADREQ)
        return RD_EINVAL;
    if (h.status != GRT_SHM_DS_OK && h.status != GRT_SHM_DS_TRUNCATED &&
        h.status != GRT_SHM_DS_NOUNWIND)
        return RD_ECORRUPT;
    if (h.used > size || h.used < sizeof h)
        return RD_ECORRUPT;
    uint64_t used = h.used;
    uint64_t gbytes, fbytes, mbytes;
    if (h.goroutine_size < sizeof(struct grt_shm_dump_g) ||
        h.module_size < sizeof(struct grt_shm_dump_module) ||
        __builtin_mul_overflow((uint64_t)h.ngoroutines, h.goroutine_size,
                               &gbytes) ||
        __builtin_mul_overflow((uint64_t)h.nframes, 8, &fbytes) ||
        __builtin_mul_overflow((uint64_t)h.nmodules, h.module_size, &mbytes) ||
        !within(h.goroutines_off, gbytes, used) ||
        !within(h.frames_off, fbytes, used) ||
        !within(h.modules_off, mbytes, used) ||
        !within(h.strings_off, h.strings_size, used) || (h.frames_off & 7) ||
        (h.goroutines_off & 7) || (h.modules_off & 7))
        return RD_ECORRUPT;

    const char *b = area;
    struct rd_dump *d = calloc(1, sizeof *d);
    if (!d)
        return RD_ENOMEM;
    d->status = (int)h.status;
    d->id = h.id;
    d->mono_ns = h.mono_ns;
    d->elapsed_ns = h.elapsed_ns;
    /* one block: goroutines, frames, modules, then their strings */
    size_t strbytes = 0;
    for (uint32_t i = 0; i < h.nmodules; i++) {
        struct grt_shm_dump_module m;
        memcpy(&m, b + h.modules_off + (uint64_t)i * h.module_size, sizeof m);
        if (!within(m.path_off, m.path_len, h.strings_size) ||
            !within(m.build_id_off, m.build_id_len, h.strings_size) ||
            m.build_id_len > 64)
            goto fail_corrupt;
        strbytes += (size_t)m.path_len + 1;
    }
    d->g = calloc(h.ngoroutines ? h.ngoroutines : 1, sizeof *d->g);
    uint64_t *pcs = d->pcs_store = malloc(fbytes ? fbytes : 8);
    d->mods = calloc(h.nmodules ? h.nmodules : 1, sizeof *d->mods);
    char *strs = d->strs_store = malloc(strbytes ? strbytes : 1);
    if (!d->g || !pcs || !d->mods || !strs) {
        rd_dump_free(d);
        return RD_ENOMEM;
    }
    memcpy(pcs, b + h.frames_off, fbytes);
    for (uint32_t i = 0; i < h.ngoroutines; i++) {
        struct grt_shm_dump_g e;
        memcpy(&e, b + h.goroutines_off + (uint64_t)i * h.goroutine_size,
               sizeof e);
        if (!within(e.first_frame, e.nframes, h.nframes))
            goto fail_corrupt;
        struct rd_dump_g *o = &d->g[d->ng++];
        o->goid = e.goid;
        o->status = (int)(e.state & 0xff);
        o->wait_reason = (int)((e.state >> 8) & 0xff);
        o->wait_since = e.wait_since;
        o->flags = e.flags;
        o->pcs = pcs + e.first_frame;
        o->npcs = e.nframes;
    }
    size_t at = 0;
    for (uint32_t i = 0; i < h.nmodules; i++) {
        struct grt_shm_dump_module m;
        memcpy(&m, b + h.modules_off + (uint64_t)i * h.module_size, sizeof m);
        struct rd_module *o = &d->mods[d->nmods++];
        o->bias = m.bias;
        o->lo = m.lo;
        o->hi = m.hi;
        o->path = strs + at;
        memcpy(o->path, b + h.strings_off + m.path_off, m.path_len);
        o->path[m.path_len] = 0;
        /* a path with a NUL inside ends there */
        at += (size_t)m.path_len + 1;
        memcpy(o->build_id, b + h.strings_off + m.build_id_off, m.build_id_len);
        o->build_id_len = m.build_id_len;
    }
    *out = d;
    return RD_OK;
fail_corrupt:
    rd_dump_free(d);
    return RD_ECORRUPT;
}

void rd_dump_free(struct rd_dump *d)
{
    if (!d)
        return;
    free(d->pcs_store);
    free(d->strs_store);
    free(d->g);
    free(d->mods);
    free(d);
}

/* Copy the answer out under the dump's seqlock; 1 done, 0 retry. */
static int copy_answer(const struct rd_layout *lay, char *buf, size_t cap,
                       uint64_t id, struct rd_dump **out, int *rc)
{
    const char *area = rd__rec(lay, GRT_SHM_T_DUMP, 0);
    const struct grt_shm_dump *live = (const void *)area;
    uint32_t s = grt_shm_seq_read_begin(&live->seq);
    if (s == 0 || (s & 1))
        return 0;
    struct grt_shm_dump h;
    grt_shm_copy_words(&h, area, sizeof h);
    if (h.id != id)
        return 0;
    uint64_t used = h.used;
    if (used > cap || used < sizeof h) {
        if (grt_shm_seq_read_retry(&live->seq, s))
            return 0;
        *rc = RD_ECORRUPT;
        return 1;
    }
    grt_shm_copy_words(buf, area, (used + 7) & ~(uint64_t)7);
    if (grt_shm_seq_read_retry(&live->seq, s))
        return 0;
    *rc = rd_dump_parse(buf, (size_t)used, id, out);
    return 1;
}

int rd_dump_request(struct rd_target *t, int64_t goid, unsigned max_frames,
                    int timeout_ms, struct rd_dump **out)
{
    *out = NULL;
    if (!t || goid < 0 || timeout_ms < 0)
        return RD_EINVAL;
    if (t->fd < 0)
        return RD_EINVAL; /* a memory image has no agent */
    if (!t->req)
        return RD_EACCES;
    const struct grt_shm_header *live = (const void *)t->lay.base;
    uint32_t flags = __atomic_load_n(&live->flags, __ATOMIC_ACQUIRE);
    if (!(flags & GRT_SHM_F_DUMPS) || (flags & GRT_SHM_F_STOPPED))
        return RD_ENODUMP; /* no unwinder, or no agent thread to ask */
    int64_t deadline = rd__mono() + (int64_t)timeout_ms * 1000000;
    struct grt_shm_request *q = t->req;

    /* 1. claim the slot */
    for (;;) {
        uint32_t idle = GRT_SHM_REQ_IDLE;
        if (__atomic_compare_exchange_n(&q->state, &idle, GRT_SHM_REQ_CLAIMED,
                                        false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED))
            break;
        if (rd__mono() >= deadline)
            return RD_EBUSY;
        if (rd_target_check(t) != RD_OK)
            return RD_ESTALE;
        nap(POLL_NS);
    }
    /* 2. fill it and post */
    uint64_t id = ((uint64_t)(uint32_t)getpid() << 32) |
                  (uint32_t)(++t->req_seq ? t->req_seq : ++t->req_seq);
    __atomic_store_n(&q->kind, goid ? GRT_SHM_DUMP_ONE : GRT_SHM_DUMP_ALL,
                     __ATOMIC_RELAXED);
    __atomic_store_n(&q->goid, goid, __ATOMIC_RELAXED);
    __atomic_store_n(&q->max_frames, max_frames, __ATOMIC_RELAXED);
    __atomic_store_n(&q->id, id, __ATOMIC_RELAXED);
    /* (Q1) the fields before POSTED; pairs with the agent's acquire */
    __atomic_store_n(&q->state, GRT_SHM_REQ_POSTED, __ATOMIC_RELEASE);
    syscall(SYS_futex, &q->state, FUTEX_WAKE, 1, NULL, NULL, 0);

    /* 3. wait for the answer */
    size_t cap = (size_t)t->lay.t[GRT_SHM_T_DUMP].size;
    char *buf = aligned_alloc(64, (cap + 63) & ~(size_t)63);
    if (!buf)
        return RD_ENOMEM;
    int rc = RD_ETIMEDOUT;
    for (unsigned polls = 1;; polls++) {
        if (copy_answer(&t->lay, buf, cap, id, out, &rc))
            break;
        if (polls % 500 == 0 && rd_target_check(t) != RD_OK) {
            rc = RD_ESTALE; /* it exited meanwhile: no answer will come */
            break;
        }
        if (rd__mono() >= deadline) {
            /* withdraw the request if the agent has not taken it */
            uint32_t posted = GRT_SHM_REQ_POSTED;
            __atomic_compare_exchange_n(&q->state, &posted, GRT_SHM_REQ_IDLE,
                                        false, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED);
            rc = rd_target_check(t) == RD_OK ? RD_ETIMEDOUT : RD_ESTALE;
            break;
        }
        nap(POLL_NS);
    }
    free(buf);
    if (rc == RD_OK && goid && (*out)->ng == 0) {
        rd_dump_free(*out);
        *out = NULL;
        return RD_ENOTFOUND;
    }
    if (rc == RD_OK)
        (*out)->pid = t->pid;
    return rc;
}
