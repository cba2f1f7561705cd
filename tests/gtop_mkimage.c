/*
 * gtop_mkimage.c - writes the "shop" segment image (gtop_image.h) to a
 * file, for tests/gtop-batch.sh: `gtop -b --image FILE` on it prints the
 * golden output.
 *
 *     tests/gtop_mkimage FILE
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "gtop_image.h"

int main(int argc, char **argv)
{
    struct shm_image img;
    if (argc != 2) {
        fprintf(stderr, "usage: gtop_mkimage FILE\n");
        return 2;
    }
    if (gtop_image_build(&img) != 0) {
        fprintf(stderr, "gtop_mkimage: out of memory\n");
        return 1;
    }
    FILE *f = fopen(argv[1], "wb");
    if (!f || fwrite(img.base, 1, img.size, f) != img.size || fclose(f)) {
        perror(argv[1]);
        return 1;
    }
    free(img.base);
    return 0;
}
