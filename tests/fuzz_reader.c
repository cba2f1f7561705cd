/*
 * fuzz_reader.c - a libFuzzer target for the reader library: any byte
 * string, taken as a segment image, must give an RD_E* code or a
 * snapshot, and any byte string taken as a dump area an RD_E* code or a
 * parsed dump; never a crash, a hang or an out-of-bounds read.
 *
 * Two builds of one file:
 *   - with clang -fsanitize=fuzzer (make fuzz-reader; -DGRT_LIBFUZZER):
 *     libFuzzer's own main; run it longer by hand, e.g.
 *         cli/fuzz-reader -max_total_time=600 CORPUS tests/fixtures/shm
 *   - otherwise (make check) a plain driver: with no arguments it runs
 *     the seed images (tests/shm_image.c), a few thousand deterministic
 *     mutations of them and the files of $top_srcdir/tests/fixtures/shm;
 *     with arguments, each file (or each file of each directory) once;
 *     with --write-corpus DIR it writes the seed images as files (how
 *     tests/fixtures/shm was made).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reader.h"
#include "reader_int.h"
#include "shm_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rd_target *t;
    if (rd_attach_mem(data, size, &t) == RD_OK) {
        struct rd_snapshot *s;
        if (rd_snapshot_take(t, &s) == RD_OK) {
            size_t n = strlen(s->name) + strlen(s->exe);
            for (int i = 0; i < s->argc; i++)
                n += strlen(s->argv[i]);
            for (size_t i = 0; i < s->ng; i++)
                n += strlen(s->g[i].name) +
                     strlen(rd_wait_name(s, s->g[i].wait_reason)) +
                     strlen(rd_status_name(s, s->g[i].status));
            for (size_t i = 0; i < s->nsite; i++)
                n += strlen(s->site[i].fn) + strlen(s->site[i].caller) +
                     strlen(s->site[i].file);
            for (size_t i = 0; i < s->nchan; i++)
                n += strlen(s->chan[i].name);
            (void)n;
            rd_snapshot_free(s);
        }
        struct rd_sample out[8];
        uint64_t cursor = 0, lost = 0;
        size_t got;
        rd_samples_read(t, &cursor, out, 8, &got, &lost);
        /* the dump area the directory points at */
        const struct rd_table *dt = &t->lay.t[GRT_SHM_T_DUMP];
        struct rd_dump *d;
        if (rd_dump_parse(t->lay.base + dt->off, (size_t)dt->size, 0, &d) ==
            RD_OK)
            rd_dump_free(d);
        rd_detach(t);
    }
    /* the bytes as a dump area, from an aligned copy */
    if (size >= 8) {
        void *copy = aligned_alloc(64, (size + 63) & ~(size_t)63);
        if (copy) {
            memcpy(copy, data, size);
            struct rd_dump *d;
            if (rd_dump_parse(copy, size, 0, &d) == RD_OK)
                rd_dump_free(d);
            free(copy);
        }
    }
    return 0;
}

#ifndef GRT_LIBFUZZER

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "fuzz_reader: %s: %s\n", path, strerror(errno));
        return 1;
    }
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf)
        return 1;
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    return 0;
}

static int run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "fuzz_reader: %s: %s\n", path, strerror(errno));
        return 1;
    }
    if (!S_ISDIR(st.st_mode))
        return run_file(path);
    DIR *d = opendir(path);
    if (!d)
        return 1;
    int rc = 0, n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char p[4200];
        snprintf(p, sizeof p, "%s/%s", path, e->d_name);
        rc |= run_file(p);
        n++;
    }
    closedir(d);
    printf("fuzz_reader: %d files of %s\n", n, path);
    return rc;
}

static uint64_t rng_state = 0x243F6A8885A308D3u;

static uint64_t rng(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * UINT64_C(2685821657736338717);
}

/* The seed images: a few shapes of a valid segment. */
static int seeds(struct shm_image *imgs, int max)
{
    static const unsigned shapes[][2] = {{1, 1}, {16, 20}, {7, 0}, {3, 8}};
    int n = 0;
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes && n < max; i++)
        if (shm_image_build(&imgs[n], 100 + (int)i, shapes[i][0],
                            shapes[i][1]) == 0)
            n++;
    return n;
}

static int write_corpus(const char *dir)
{
    struct shm_image imgs[8];
    int n = seeds(imgs, 8);
    for (int i = 0; i < n; i++) {
        char p[4200];
        snprintf(p, sizeof p, "%s/seed-%d.shm", dir, i);
        FILE *f = fopen(p, "wb");
        if (!f || fwrite(imgs[i].base, 1, imgs[i].size, f) != imgs[i].size) {
            fprintf(stderr, "fuzz_reader: %s: %s\n", p, strerror(errno));
            return 1;
        }
        fclose(f);
        /* and the dump area alone */
        snprintf(p, sizeof p, "%s/dump-%d.bin", dir, i);
        f = fopen(p, "wb");
        if (!f)
            return 1;
        fwrite(imgs[i].base + imgs[i].off[GRT_SHM_T_DUMP], 1, 2 * GRT_SHM_PAGE,
               f);
        fclose(f);
        free(imgs[i].base);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0)
        return write_corpus(argv[2]);
    if (argc > 1) {
        int rc = 0;
        for (int i = 1; i < argc; i++)
            rc |= run_path(argv[i]);
        return rc;
    }
    /* make check: seeds, mutations, the fixtures */
    struct shm_image imgs[8];
    int n = seeds(imgs, 8);
    long runs = 0;
    for (int i = 0; i < n; i++) {
        LLVMFuzzerTestOneInput((const uint8_t *)imgs[i].base, imgs[i].size);
        uint8_t *copy = malloc(imgs[i].size);
        if (!copy)
            return 99;
        for (int k = 0; k < 1500; k++) {
            memcpy(copy, imgs[i].base, imgs[i].size);
            int m = 1 + (int)(rng() % 6);
            for (int j = 0; j < m; j++) {
                size_t at = rng() % 2 ? rng() % 640 : rng() % imgs[i].size;
                if (rng() % 3 == 0 && at + 8 <= imgs[i].size) {
                    uint64_t v = rng();
                    memcpy(copy + at, &v, 8);
                } else {
                    copy[at] ^= (uint8_t)(rng() | 1);
                }
            }
            size_t len = rng() % 8 == 0 ? rng() % imgs[i].size : imgs[i].size;
            LLVMFuzzerTestOneInput(copy + (rng() % 4 == 0 ? 1 : 0),
                                   len ? len - 1 : 0);
            LLVMFuzzerTestOneInput(copy, len);
            runs += 2;
        }
        free(copy);
        free(imgs[i].base);
    }
    printf("fuzz_reader: %ld mutated inputs\n", runs);
    const char *top = getenv("top_srcdir");
    char fx[4200];
    snprintf(fx, sizeof fx, "%s/tests/fixtures/shm", top ? top : ".");
    struct stat st;
    if (stat(fx, &st) == 0)
        return run_path(fx);
    return 0;
}

#endif /* !GRT_LIBFUZZER */
