/*
 * validate.c - the reader's first line of defence: checks a segment image
 * before anything else reads it, and the small helpers every other file
 * uses to read it (seqlocked records, bounded strings, table counts).
 *
 * Order of the checks, cheapest and most telling first: the image holds
 * a header; magic (load-acquire: 0 means "not ready", anything else but
 * GRT_SHM_MAGIC "not grt"); compat_version against the version we know;
 * header_size and segment_size against the image; the directory entry of
 * every table a version-1 reader uses: offset, stride, capacity and size
 * each checked so that offset + capacity * stride stays inside the image,
 * with overflow-checked arithmetic, and stride at least the record size
 * we know (an older writer never wrote less).  Counts are checked again
 * at each read (rd__table_count), since the writer changes them.
 *
 * Every read of the image is an 8-byte relaxed atomic load of an aligned
 * word (offsets and strides are checked to be multiples of 8), so a
 * concurrent writer is no data race and nothing is read twice.
 */
#include "config.h"

#include "reader_int.h"

#include <sched.h>
#include <string.h>
#include <time.h>

const char *rd_strerror(int err)
{
    switch (err) {
    case RD_OK:
        return "success";
    case RD_ENOENT:
        return "no grt segment for that process";
    case RD_EACCES:
        return "permission denied";
    case RD_EFOREIGN:
        return "segment belongs to another user";
    case RD_EINSECURE:
        return "segment or its directory fails the safety checks";
    case RD_ENOTREADY:
        return "segment not ready (the program is starting)";
    case RD_EBADMAGIC:
        return "not a grt segment (bad magic)";
    case RD_EVERSION:
        return "segment from a newer, incompatible grt version";
    case RD_ETRUNCATED:
        return "segment truncated";
    case RD_ECORRUPT:
        return "segment corrupt (a size, offset or count out of range)";
    case RD_ESTALE:
        return "stale segment (the process is gone)";
    case RD_ENOMEM:
        return "out of memory";
    case RD_ESYS:
        return "system call failed";
    case RD_ETIMEDOUT:
        return "the program did not answer in time";
    case RD_EBUSY:
        return "busy (another request in progress, or the process lives)";
    case RD_ENODUMP:
        return "the program cannot dump stacks (built without libunwind)";
    case RD_EINVAL:
        return "invalid argument";
    case RD_ENOTFOUND:
        return "no such goroutine";
    case RD_ENOSYM:
        return "no symbolisation (built without libdw)";
    default:
        return "unknown error";
    }
}

int64_t rd__mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void rd__copy_str(char *dst, const char *field, size_t n)
{
    size_t len = strnlen(field, n);
    if (len == n)
        len = n - 1;
    memcpy(dst, field, len);
    dst[len] = 0;
}

/*
 * A writer holds a record odd for a few dozen instructions, unless it is
 * descheduled (or slowed down, under a sanitizer) in the middle: the
 * first tries spin, the later ones give the CPU away.  Bounded either way.
 */
static void backoff(int t)
{
    if (t < 16) {
#if defined(__x86_64__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        __asm__ volatile("yield" ::: "memory");
#endif
    } else {
        sched_yield();
    }
}

int rd__read_record(const char *rec, void *dst, size_t rsize)
{
    const uint32_t *seq = (const uint32_t *)rec;
    for (int t = 0; t < GRT_SHM_READ_TRIES; t++) {
        uint32_t s = grt_shm_seq_read_begin(seq);
        if (s == 0)
            return 0;
        if (s & 1) {
            backoff(t);
            continue;
        }
        grt_shm_copy_words(dst, rec, rsize);
        if (!grt_shm_seq_read_retry(seq, s))
            return 1;
        backoff(t);
    }
    return -1;
}

/* a * b + c <= limit, without overflow */
static bool fits(uint64_t a, uint64_t b, uint64_t c, uint64_t limit)
{
    uint64_t p;
    if (__builtin_mul_overflow(a, b, &p))
        return false;
    uint64_t s;
    if (__builtin_add_overflow(p, c, &s))
        return false;
    return s <= limit;
}

static const uint32_t known_size[GRT_SHM_T_COUNT_V1] = {
    [GRT_SHM_T_INFO] = sizeof(struct grt_shm_info),
    [GRT_SHM_T_REQUEST] = sizeof(struct grt_shm_request),
    [GRT_SHM_T_DUMP] = sizeof(struct grt_shm_dump),
    [GRT_SHM_T_SAMPLES] = sizeof(struct grt_shm_sample),
    [GRT_SHM_T_G] = sizeof(struct grt_shm_g),
    [GRT_SHM_T_M] = sizeof(struct grt_shm_m),
    [GRT_SHM_T_P] = sizeof(struct grt_shm_p),
    [GRT_SHM_T_CHAN] = sizeof(struct grt_shm_chan),
    [GRT_SHM_T_SITE] = sizeof(struct grt_shm_site),
};

int rd__validate(const char *base, size_t size, struct rd_layout *lay)
{
    memset(lay, 0, sizeof *lay);
    if (((uintptr_t)base & 7) != 0)
        return RD_EINVAL;
    if (size < sizeof(struct grt_shm_header))
        return RD_ETRUNCATED;
    uint64_t magic = __atomic_load_n((const uint64_t *)base, __ATOMIC_ACQUIRE);
    if (magic == 0)
        return RD_ENOTREADY;
    if (magic != GRT_SHM_MAGIC)
        return RD_EBADMAGIC;
    /* (H2) after the acquire of magic, the header is complete */
    grt_shm_copy_words(&lay->hdr, base, sizeof lay->hdr);
    const struct grt_shm_header *h = &lay->hdr;
    if (h->compat_version > RD_SHM_VERSION)
        return RD_EVERSION;
    if (h->version == 0 || h->compat_version == 0 ||
        h->version < h->compat_version)
        return RD_ECORRUPT;
    if (h->header_size < offsetof(struct grt_shm_header, reserved) ||
        h->header_size > sizeof(struct grt_shm_header))
        return RD_ECORRUPT;
    if (h->segment_size > size)
        return RD_ETRUNCATED;
    if (h->segment_size < size)
        return RD_ECORRUPT;
    if (h->table_entry_size != sizeof(struct grt_shm_table) ||
        h->ntables < GRT_SHM_T_COUNT_V1 || h->ntables > GRT_SHM_T_MAX)
        return RD_ECORRUPT;
    for (int i = 0; i < GRT_SHM_T_COUNT_V1; i++) {
        const struct grt_shm_table *e = &h->tables[i];
        struct rd_table *t = &lay->t[i];
        if (e->offset < sizeof(struct grt_shm_header) || (e->offset & 7) ||
            (e->stride & 7) || e->stride < known_size[i] || e->capacity == 0)
            return RD_ECORRUPT;
        if (!fits(e->capacity, e->stride, 0, e->size) ||
            !fits(1, e->size, e->offset, size))
            return RD_ECORRUPT;
        t->off = e->offset;
        t->stride = e->stride;
        t->cap = e->capacity;
        t->size = e->size;
        t->rsize = known_size[i];
    }
    /* singletons, the request page, the ring */
    if (lay->t[GRT_SHM_T_INFO].cap != 1 || lay->t[GRT_SHM_T_DUMP].cap != 1 ||
        lay->t[GRT_SHM_T_REQUEST].cap != 1)
        return RD_ECORRUPT;
    if (lay->t[GRT_SHM_T_REQUEST].off % GRT_SHM_PAGE ||
        lay->t[GRT_SHM_T_REQUEST].size < GRT_SHM_PAGE)
        return RD_ECORRUPT;
    uint32_t ring = lay->t[GRT_SHM_T_SAMPLES].cap;
    if (ring & (ring - 1))
        return RD_ECORRUPT;
    lay->base = base;
    lay->size = size;
    return RD_OK;
}

int rd__table_count(const struct rd_layout *lay, int tab, uint64_t *count)
{
    const struct grt_shm_header *live = (const void *)lay->base;
    uint64_t n = __atomic_load_n(&live->tables[tab].count, __ATOMIC_ACQUIRE);
    if (tab != GRT_SHM_T_SAMPLES && n > lay->t[tab].cap)
        return RD_ECORRUPT;
    *count = n;
    return RD_OK;
}
