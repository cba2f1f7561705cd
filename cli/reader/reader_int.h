/*
 * reader_int.h - what the reader library's files share: the validated
 * layout of a segment and the target object.  Not installed; tools use
 * reader.h only.
 */
#ifndef GRT_READER_INT_H
#define GRT_READER_INT_H

#include "reader.h"

#include <limits.h>

/* One validated table: reading record i means reading rsize bytes at
 * base + off + i * stride, for i < cap. */
struct rd_table {
    uint64_t off;
    uint32_t stride;
    uint32_t cap;
    uint64_t size;
    uint32_t rsize; /* min(stride, the record size this reader knows) */
};

/* A segment image whose header and directory passed rd__validate. */
struct rd_layout {
    const char *base;
    size_t size;
    struct grt_shm_header hdr; /* copy of the header (the known part) */
    struct rd_table t[GRT_SHM_T_COUNT_V1];
};

struct rd_target {
    int fd;                    /* -1 for a memory image */
    int pid;
    char path[4096];
    char *map;                 /* whole segment, read-only (or a copy) */
    size_t map_size;
    bool is_copy;              /* map is a malloc'd image */
    struct grt_shm_request *req; /* read-write mapping of the request
                                    page, NULL if none */
    void *req_map;
    size_t req_map_size;
    struct rd_layout lay;
    uint64_t req_seq;          /* our request counter */
};

/*
 * Validate the image [base, base + size) as a segment: magic, versions,
 * sizes, and every table's bounds with overflow-checked arithmetic.
 * Fills *lay.  Returns RD_OK or RD_ENOTREADY, RD_EBADMAGIC, RD_EVERSION,
 * RD_ETRUNCATED, RD_ECORRUPT.  Reads the image with atomic loads only.
 */
int rd__validate(const char *base, size_t size, struct rd_layout *lay);

/*
 * The count of table tab, load-acquired and checked against its
 * capacity (except the sample ring, whose count is the head).  Returns
 * RD_OK or RD_ECORRUPT.
 */
int rd__table_count(const struct rd_layout *lay, int tab, uint64_t *count);

/* Address of record i of table tab (i < cap, checked by the caller). */
static inline const char *rd__rec(const struct rd_layout *lay, int tab,
                                  uint64_t i)
{
    return lay->base + lay->t[tab].off + i * lay->t[tab].stride;
}

/*
 * Copy a seqlocked record of rsize bytes (a multiple of 8) into dst;
 * returns 1 when consistent, 0 when never written (seq 0), -1 torn.
 */
int rd__read_record(const char *rec, void *dst, size_t rsize);

/* Copy a NUL-padded char field into dst (size n), always terminated. */
void rd__copy_str(char *dst, const char *field, size_t n);

/* Check a directory the way the agent does (owner, mode, no symlink);
 * returns RD_OK, RD_ENOENT, RD_EFOREIGN, RD_EINSECURE or RD_ESYS. */
int rd__check_dir(const char *dir);

/* CLOCK_MONOTONIC in ns. */
int64_t rd__mono(void);

#endif /* GRT_READER_INT_H */
