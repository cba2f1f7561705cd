/*
 * page_costs.c - what the kernel charges for a goroutine stack, measured
 * without the runtime: the floor under park_mem's create_ns_per_goroutine.
 *
 *     bench/page_costs [count]        (default 100000)
 *
 * For count slots it times, per slot:
 *   touch_dense   the first write to a fresh page, pages side by side
 *                 (a page fault and a zeroed page: what any runtime that
 *                 takes fresh memory pays per page);
 *   touch_stride  the same at libgrt's stack stride (guard + 16 MiB), where
 *                 each page also needs a page-table page of its own;
 *   guard         installing one stack's 64 KiB guard (MADV_GUARD_INSTALL,
 *                 Linux 6.13+; "n/a" where the kernel refuses it).
 * Each line is "page_costs: <what> <ns> ns per slot (count=<n>)".  The
 * memory stays mapped until exit, as park_mem's goroutines keep theirs:
 * on some hosts a fault costs more the more fresh memory a process holds.
 * Exit status 0; 1 when the address space cannot be reserved; 2 for a
 * bad argument.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

#define GUARD (64u * 1024)
#define STACK (16u << 20) /* libgrt's default GRT_STACK_SIZE */
#define PER_MAP 64        /* slots per mapping, as libgrt's arenas */

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Time the first touch of count pages `stride` apart (and, with guard,
 * a guard install at each slot's bottom); returns false if mmap fails. */
static bool run(long count, size_t stride, bool guard, double *touch_ns,
                double *guard_ns, bool *guard_ok)
{
    double t_touch = 0, t_guard = 0;
    *guard_ok = guard;
    for (long done = 0; done < count; done += PER_MAP) {
        long n = count - done < PER_MAP ? count - done : PER_MAP;
        size_t len = stride * (size_t)n;
        char *base = mmap(NULL, len, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (base == MAP_FAILED) {
            fprintf(stderr, "page_costs: mmap of %zu bytes: %s\n", len,
                    strerror(errno));
            return false;
        }
        for (long i = 0; i < n; i++) {
            char *slot = base + (size_t)i * stride;
            double a = now_ns();
            if (*guard_ok && madvise(slot, GUARD, MADV_GUARD_INSTALL) != 0)
                *guard_ok = false;
            double b = now_ns();
            *(volatile char *)(slot + stride - 64) = 1; /* the stack's top */
            double c = now_ns();
            t_guard += b - a;
            t_touch += c - b;
        }
    }
    *touch_ns = t_touch / (double)count;
    *guard_ns = t_guard / (double)count;
    return true;
}

int main(int argc, char **argv)
{
    long count = 100000;
    if (argc > 2 || (argc == 2 && ((count = strtol(argv[1], NULL, 10)) <= 0 ||
                                   count > 10000000))) {
        fprintf(stderr, "usage: page_costs [count: 1..10000000]\n");
        return 2;
    }
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    double dense, stride, guard, unused;
    bool ok;
    if (!run(count, page, false, &dense, &unused, &ok) ||
        !run(count, GUARD + STACK, true, &stride, &guard, &ok))
        return 1;
    printf("page_costs: touch_dense %.0f ns per slot (count=%ld)\n", dense,
           count);
    printf("page_costs: touch_stride %.0f ns per slot (count=%ld)\n", stride,
           count);
    if (ok)
        printf("page_costs: guard %.0f ns per slot (count=%ld)\n", guard,
               count);
    else
        printf("page_costs: guard n/a (count=%ld)\n", count);
    return 0;
}
