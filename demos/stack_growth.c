/*
 * stack_growth - a goroutine's stack grows as it recurses.
 *
 * Mirrors the Go example:
 *
 *     //go:noinline
 *     func recurse(n int) int {
 *         var buf [1024]byte
 *         buf[0] = byte(n)
 *         if n == 0 {
 *             runtime.ReadMemStats(&ms)   // at the deepest point
 *             return int(buf[0])
 *         }
 *         return recurse(n-1) + int(buf[0])
 *     }
 *     for _, d := range []int{100, 1000, 10000} {
 *         go func() { recurse(d); done <- true }()
 *         <-done
 *         fmt.Printf("depth %d: stack in use %d KiB\n", d, ms.StackInuse>>10)
 *     }
 *
 * Go starts a goroutine with a few KiB and copies the stack to a bigger one
 * when it runs out.  C cannot move a stack (pointers into it are
 * everywhere), so grt reserves a large virtual range per goroutine
 * (GRT_STACK_SIZE) and lets the kernel commit pages only as the recursion
 * touches them: "stack in use" grows with the depth the same way.
 *
 * The 1 KiB array is volatile and the function is noinline, so the compiler
 * can neither drop the frame nor turn the recursion into a loop.
 *
 * Prints the depth and the stack in use at the deepest point of each run.
 * Exits 1 if a recursion returns the wrong sum.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <grt.h>

enum { FRAME_BYTES = 1024 };

/* One run: how deep to go, and what was seen at the bottom. */
struct run {
    int depth;
    long sum;               /* what recurse returned */
    grt_memstats at_bottom; /* memstats read at the deepest frame */
    grt_chan *done;
};

__attribute__((noinline)) static long recurse(struct run *r, int n)
{
    volatile unsigned char buf[FRAME_BYTES];

    buf[0] = (unsigned char)n;
    buf[FRAME_BYTES - 1] = (unsigned char)n;
    if (n == 0) {
        grt_read_memstats(&r->at_bottom);
        return buf[0];
    }
    /* Using buf after the call keeps this frame alive across it. */
    return recurse(r, n - 1) + buf[FRAME_BYTES - 1];
}

static void grow(void *arg)
{
    struct run *r = arg;

    r->sum = recurse(r, r->depth);
    grt_chan_send(r->done, NULL);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv; /* already quick: 10,000 frames take milliseconds */
    static const int depths[] = {100, 1000, 10000};
    grt_memstats ms;
    int failed = 0;

    printf("=== stack_growth: recursion with %d-byte frames ===\n",
           FRAME_BYTES);
    grt_read_memstats(&ms);
    printf("before:      stack in use %7llu KiB\n",
           (unsigned long long)(ms.stack_inuse >> 10));

    for (size_t i = 0; i < sizeof depths / sizeof depths[0]; i++) {
        struct run r = {.depth = depths[i], .done = grt_chan_make(0, 0)};

        grt_go(grow, &r);
        grt_chan_recv(r.done, NULL);
        grt_chan_free(r.done);
        printf("depth %5d: stack in use %7llu KiB\n", r.depth,
               (unsigned long long)(r.at_bottom.stack_inuse >> 10));

        /* sum of (n & 255) for n = 0..depth */
        long want = 0;
        for (int n = 0; n <= r.depth; n++)
            want += n & 255;
        if (r.sum != want) {
            printf("FAIL: depth %d returned %ld, want %ld\n", r.depth, r.sum,
                   want);
            failed = 1;
        }
    }
    return failed;
}
