/*
 * gtop_image.h - a fixed segment image of a small "shop" program for
 * gtop's model tests and batch golden files: 16 goroutines in every
 * state (workers on a named channel, four leaked senders, a blocking
 * call, a mutex waiter...), a tree three levels deep, 3 channels, 4
 * creation sites and 8 samples with growing counters.  Built on
 * shm_image.c's layout; "now" for the image is its heartbeat (100 s).
 */
#ifndef GRT_GTOP_IMAGE_H
#define GRT_GTOP_IMAGE_H

#include "shm_image.h"

#define GTOP_IMAGE_PID 4242
#define GTOP_IMAGE_NOW INT64_C(100000000000) /* heartbeat, ns */

/* Returns 0, or -1 if out of memory (shm_image_build). */
int gtop_image_build(struct shm_image *img);

#endif /* GRT_GTOP_IMAGE_H */
