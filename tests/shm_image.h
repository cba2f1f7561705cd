/*
 * shm_image.h - builds small, valid segment images in memory (the layout
 * of grt/shm_abi.h with tiny capacities), for the reader's tests and the
 * fuzz target: the seeds that damaged segments are made from.
 *
 * The reader must accept any layout the header describes, so an image
 * need not look like the agent's (whose tables are megabytes): here each
 * region is one or two pages and the whole image is about 60 KiB.
 */
#ifndef GRT_SHM_IMAGE_H
#define GRT_SHM_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "grt/shm_abi.h"

struct shm_image {
    char *base;     /* 64-byte aligned, malloc'd (free()) */
    size_t size;
    /* where things are, for tests that damage them */
    size_t off[GRT_SHM_T_COUNT_V1];
};

/*
 * Build a valid image: pid, ng live goroutines (of a G table of 16),
 * 2 Ms, 2 Ps, 2 channels, 2 sites, samples 0..nsamples-1 in a ring of 8,
 * and a dump area answering request id 0x42 with every goroutine and two
 * frames each.  Returns 0, or -1 if out of memory.
 */
int shm_image_build(struct shm_image *img, int pid, unsigned ng,
                    unsigned nsamples);

/* The directory entry of table t in img. */
struct grt_shm_table *shm_image_table(struct shm_image *img, int t);

#endif /* GRT_SHM_IMAGE_H */
