/*
 * stack.c - goroutine stacks: reserved big, committed lazily, guarded,
 * pooled; and the handler of the synchronous fatal signals (SIGSEGV,
 * SIGBUS, SIGFPE, SIGILL), which turns a touch of a guard into "fatal
 * error: stack overflow", chains any other fault to the handler the
 * application had installed, and otherwise has panic.c print Go's crash
 * report.
 *
 * C cannot move stacks, so each goroutine gets a large reservation
 * (GRT_STACK_SIZE, default 16 MiB: the seed's 10,000-deep recursion with
 * 1 KiB frames needs about 11 MiB) of which only the touched pages cost
 * memory.  Stacks are carved from arenas of ARENA_SLOTS slots, one mapping
 * each (MAP_NORESERVE), so a million goroutines need about 16,000
 * mappings, far below vm.max_map_count.  Each slot is
 *
 *     [ guard GUARD_SIZE ][ usable stack_size ........ top ]
 *
 * The guard is installed with MADV_GUARD_INSTALL (Linux 6.13+: no extra
 * mapping; a touch raises SIGSEGV).  On older kernels a guard costs two
 * mappings (mprotect), so guards are installed while a budget of a quarter
 * of vm.max_map_count lasts; later stacks get no guard but a canary word
 * at their bottom, checked when the goroutine exits (LESSONS.md, 3).
 *
 * A goroutine keeps its stack when its G is recycled (Go does the same):
 * the P's LIFO cache of free Gs keeps hot pages resident.  A G that spills
 * from a P's cache to the global list has its stack trimmed with
 * MADV_DONTNEED below its top TRIM_KEEP bytes, so one deep recursion does
 * not pin megabytes for ever.  Rejected: mmap per stack (6.6 us here vs
 * 6 ns from a pool, and 2 mappings per guarded stack).
 *
 * stack_inuse is the resident size of the arenas (from /proc/self/smaps,
 * read only when statistics are asked for); stack_sys the reserved size.
 */
#include "config.h"

#include "rt.h"
#include "agent.h"
#include "traceback.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

#define ARENA_SLOTS 64
#define GUARD_SIZE (64 * 1024)
#define TRIM_KEEP (32 * 1024)
#define CANARY UINT64_C(0x6772745374416b21) /* "grtStAk!" */
#define DEFAULT_STACK_SIZE (16u << 20)

size_t grt__stack_size = DEFAULT_STACK_SIZE;
static size_t slot_size;          /* GUARD_SIZE + grt__stack_size */
static size_t page_size;

struct arena {
    char *base;                   /* immutable */
    int used;                     /* slots handed out; under alock */
};

static spinlock alock;            /* arenas and the global free list */
static struct arena *arenas;      /* under alock */
static int narenas, arenas_cap;   /* under alock */
static int guard_mode;            /* 0 madvise, 1 mprotect budget, 2 none */
static long mprotect_budget;
static uint64_t nstacks;          /* stacks ever made; under alock */

static void read_stack_size(void)
{
    const char *env = getenv("GRT_STACK_SIZE");
    if (!env || !*env)
        return;
    char *end;
    unsigned long long v = strtoull(env, &end, 0);
    if (*end == 'k' || *end == 'K')
        v <<= 10, end++;
    else if (*end == 'm' || *end == 'M')
        v <<= 20, end++;
    else if (*end == 'g' || *end == 'G')
        v <<= 30, end++;
    if (*end || v < 16384 || v > (1ull << 32)) {
        fprintf(stderr, "runtime: ignoring GRT_STACK_SIZE=%s (want a size "
                        "between 16K and 4G, e.g. 256K, 16M)\n", env);
        return;
    }
    grt__stack_size = (size_t)v;
}

void grt__stack_init(void)
{
    page_size = (size_t)sysconf(_SC_PAGESIZE);
    read_stack_size();
    grt__stack_size = (grt__stack_size + page_size - 1) & ~(page_size - 1);
    slot_size = GUARD_SIZE + grt__stack_size;
    long maps = 65530;
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    if (f) {
        if (fscanf(f, "%ld", &maps) != 1)
            maps = 65530;
        fclose(f);
    }
    mprotect_budget = maps / 4;
}

/* Install the guard of a fresh slot. */
static void guard_install(char *slot)
{
    if (guard_mode == 0) {
        if (madvise(slot, GUARD_SIZE, MADV_GUARD_INSTALL) == 0)
            return;
        guard_mode = 1; /* kernel without guard regions */
    }
    if (guard_mode == 1) {
        if (mprotect_budget-- > 0 && mprotect(slot, GUARD_SIZE, PROT_NONE) == 0)
            return;
        guard_mode = 2;
    }
}

/* A fresh stack from the arenas; alock held. */
static struct stack *stack_new_locked(void)
{
    struct arena *a = narenas ? &arenas[narenas - 1] : NULL;
    if (!a || a->used == ARENA_SLOTS) {
        if (narenas == arenas_cap) {
            int cap = arenas_cap ? arenas_cap * 2 : 64;
            struct arena *na = realloc(arenas, (size_t)cap * sizeof *na);
            if (!na)
                return NULL;
            arenas = na;
            arenas_cap = cap;
        }
        char *base = mmap(NULL, slot_size * ARENA_SLOTS,
                          PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (base == MAP_FAILED)
            return NULL;
        a = &arenas[narenas++];
        a->base = base;
        a->used = 0;
    }
    char *slot = a->base + (size_t)a->used++ * slot_size;
    guard_install(slot);
    /* The stack's own descriptor lives at its top: no malloc, and it is on
     * the page the goroutine touches first anyway. */
    char *hi = slot + slot_size;
    struct stack *s = (struct stack *)(hi - 64);
    s->lo = slot + GUARD_SIZE;
    s->hi = (char *)s;
    nstacks++;
    if (guard_mode == 2)
        *(uint64_t *)s->lo = CANARY;
    return s;
}

struct stack *grt__stack_alloc(void)
{
    lock(&alock);
    struct stack *s = stack_new_locked();
    unlock(&alock);
    if (!s) {
        fprintf(stderr, "runtime: cannot reserve a goroutine stack of %zu "
                        "bytes (%s)\n", grt__stack_size, strerror(errno));
        grt__throw("out of memory");
    }
    return s;
}

/*
 * Drop the pages of s below its top TRIM_KEEP bytes, if it ever grew that
 * deep.  The test reads two words just below the kept area: on a stack
 * that never went there the read maps the shared zero page once (no
 * memory) and finds zeros, so the common shallow stack costs one load
 * instead of a madvise walking 16 MiB of page tables (4 us here).
 */
void grt__stack_trim(struct stack *s)
{
    char *keep = (char *)(((uintptr_t)s->hi - TRIM_KEEP) & ~(page_size - 1));
    if (keep <= s->lo)
        return;
    const volatile uint64_t *probe = (const volatile uint64_t *)(keep - 64);
    if (probe[0] == 0 && probe[7] == 0)
        return;
    madvise(s->lo, (size_t)(keep - s->lo), MADV_DONTNEED);
    if (guard_mode == 2)
        *(uint64_t *)s->lo = CANARY;
}

void grt__stack_check(struct stack *s)
{
    if (guard_mode == 2 && *(uint64_t *)s->lo != CANARY)
        grt__throw("stack overflow (canary of an unguarded stack)");
}

/* Is addr inside the arena area? (for the signal handler: no locks) */
static bool in_arenas(const char *addr)
{
    int n = LOAD_ACQ(&narenas);
    struct arena *a = LOAD_ACQ(&arenas);
    for (int i = 0; a && i < n; i++)
        if (addr >= a[i].base && addr < a[i].base + slot_size * ARENA_SLOTS)
            return true;
    return false;
}

static int cmp_ptr(const void *a, const void *b)
{
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    return x < y ? -1 : x > y;
}

uint64_t grt__stack_reserved(void)
{
    lock(&alock);
    uint64_t made = nstacks;
    unlock(&alock);
    return made * slot_size;
}

/* Adds the resident bytes of [lo, hi) (page aligned) to *sum. */
static void add_resident(uint64_t *sum, char *lo, char *hi)
{
    unsigned char vec[4096];
    while (lo < hi) {
        size_t pages = (size_t)(hi - lo) / page_size;
        if (pages > sizeof vec)
            pages = sizeof vec;
        if (mincore(lo, pages * page_size, vec) == 0)
            for (size_t i = 0; i < pages; i++)
                *sum += (vec[i] & 1) ? page_size : 0;
        lo += pages * page_size;
    }
}

/* The bytes of [lo, hi) that lie in the arenas (bases sorted, each
 * arena len bytes; arenas never overlap).  With resident, also adds the
 * resident bytes of those parts to it. */
static uint64_t arena_parts(char *const *bases, int n, size_t len, char *lo,
                            char *hi, uint64_t *resident)
{
    int l = 0, r = n; /* the first arena that ends after lo */
    while (l < r) {
        int mid = l + (r - l) / 2;
        if (bases[mid] + len <= lo)
            l = mid + 1;
        else
            r = mid;
    }
    uint64_t sum = 0;
    for (int i = l; i < n && bases[i] < hi; i++) {
        char *a = bases[i] > lo ? bases[i] : lo;
        char *b = bases[i] + len < hi ? bases[i] + len : hi;
        sum += (uint64_t)(b - a);
        if (resident)
            add_resident(resident, a, b);
    }
    return sum;
}

void grt__stack_usage(uint64_t *inuse, uint64_t *sys)
{
    lock(&alock);
    int n = narenas;
    char **bases = malloc((size_t)(n ? n : 1) * sizeof *bases);
    uint64_t made = nstacks;
    for (int i = 0; bases && i < n; i++)
        bases[i] = arenas[i].base;
    unlock(&alock);
    *sys = made * slot_size;
    *inuse = 0;
    if (!bases)
        return;
    qsort(bases, (size_t)n, sizeof *bases, cmp_ptr);
    /* read(2), not stdio: the agent's thread calls this too, and a FILE
     * of ours would meet the application's fflush(NULL) (TSan saw it) */
    int fd = open("/proc/self/smaps", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *inuse = made * page_size; /* the least each used stack holds */
        free(bases);
        return;
    }
    enum { BUFSZ = 65536 };
    char *buf = malloc(BUFSZ);
    if (!buf) {
        close(fd);
        *inuse = made * page_size;
        free(bases);
        return;
    }
    bool ours = false;
    uint64_t rss = 0;
    size_t arena_len = slot_size * ARENA_SLOTS;
    size_t have = 0;
    for (;;) {
        ssize_t r = read(fd, buf + have, BUFSZ - 1 - have);
        if (r <= 0)
            break;
        have += (size_t)r;
        buf[have] = 0;
        char *line = buf, *nl;
        while ((nl = strchr(line, '\n'))) {
            *nl = 0;
            unsigned long lo, hi, kb;
            if (line[0] != ' ' && sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
                strchr(line, '-') && strchr(line, ' ') &&
                strchr(line, '-') < strchr(line, ' ') && lo < hi) {
                /* A mapping is one arena, a part of one (mprotect guards
                 * split them), several adjacent ones, or, when the kernel
                 * merged an arena with a neighbour of the same flags (the
                 * agent's G index, a sigaltstack, the application's own),
                 * arenas and memory that is not a stack.  Its Rss line
                 * counts only in the first three cases; in the last,
                 * mincore(2) counts the arena pages alone. */
                char *vlo = (char *)lo, *vhi = (char *)hi;
                uint64_t in = arena_parts(bases, n, arena_len, vlo, vhi,
                                          NULL);
                ours = in == (uint64_t)(vhi - vlo);
                if (in && !ours)
                    arena_parts(bases, n, arena_len, vlo, vhi, &rss);
            } else if (ours && sscanf(line, "Rss: %lu kB", &kb) == 1) {
                rss += (uint64_t)kb * 1024;
            }
            line = nl + 1;
        }
        have = (size_t)(buf + have - line);
        memmove(buf, line, have);
        if (have == BUFSZ - 1)
            have = 0; /* a line longer than the buffer: drop it */
    }
    free(buf);
    close(fd);
    free(bases);
    *inuse = rss;
}

/* ---------------------------------------------------------------------
 * Stack overflow: the SIGSEGV/SIGBUS handler (on the alternate stack)
 * --------------------------------------------------------------------- */

static const int fatal_sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL};
#define NFATAL (sizeof fatal_sigs / sizeof *fatal_sigs)
static struct sigaction old_fatal[NFATAL]; /* the application's, chained */

static void put(const char *s)
{
    size_t n = strlen(s);
    while (n) {
        ssize_t w = write(2, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static void put_u(const char *pre, uint64_t v, int base)
{
    char buf[32];
    int i = sizeof buf - 1;
    buf[i] = 0;
    do {
        buf[--i] = "0123456789abcdef"[v % (uint64_t)base];
        v /= (uint64_t)base;
    } while (v);
    if (base == 16) {
        buf[--i] = 'x';
        buf[--i] = '0';
    }
    put(pre);
    put(buf + i);
}

/* A sanitizer's own handler (ASan installs one for SIGSEGV before main)
 * is not the application's: the crash report is ours. */
static bool sanitizer_handler(const struct sigaction *old)
{
    Dl_info di;
    void *h = (old->sa_flags & SA_SIGINFO) ? (void *)old->sa_sigaction
                                           : (void *)old->sa_handler;
    if (!h || !dladdr(h, &di))
        return false;
    const char *f = di.dli_fname ? di.dli_fname : "";
    const char *s = di.dli_sname ? di.dli_sname : "";
    return strstr(f, "libasan") || strstr(f, "libtsan") ||
           strstr(f, "libubsan") || strstr(f, "liblsan") ||
           !strncmp(s, "__sanitizer", 11) || !strncmp(s, "__asan", 6) ||
           !strncmp(s, "__tsan", 6);
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    struct m *mp = grt__tls_m;
    char *addr = si->si_addr;
    struct g *gp = mp ? mp->curg : NULL;
    if (gp && (sig == SIGSEGV || sig == SIGBUS)) {
        char *lo = gp->stack_lo;
        bool overflow = false;
        if (gp->stack) /* ours: the guard, or a big frame just past it */
            overflow = addr < lo && addr >= lo - GUARD_SIZE;
        else if (lo) /* goroutine 1 or a g0 on an OS stack */
            overflow = addr < lo + page_size && addr >= lo - (1 << 20);
        if (overflow) {
            grt__die_begin();
            /* the limit the user set (GRT_STACK_SIZE), not the usable
             * part below the cold area and colour (proc.c's galloc) */
            put("runtime: goroutine stack exceeds ");
            put_u("", gp->stack ? (uint64_t)grt__stack_size
                                : (uint64_t)(gp->stack_hi - gp->stack_lo),
                  10);
            put("-byte limit\n");
            put_u("runtime: sp=", (uint64_t)(uintptr_t)addr, 16);
            put_u(" stack=[", (uint64_t)(uintptr_t)gp->stack_lo, 16);
            put_u(", ", (uint64_t)(uintptr_t)gp->stack_hi, 16);
            put("]\nfatal error: stack overflow\n");
            grt__crash_traceback(uc); /* GRT_TRACEBACK's goroutines */
        }
    }
    (void)in_arenas;
    /* Not ours: chain to the application's handler, or report it. */
    struct sigaction *old = NULL;
    for (size_t i = 0; i < NFATAL; i++)
        if (fatal_sigs[i] == sig)
            old = &old_fatal[i];
    if (old && !sanitizer_handler(old)) {
        if (old->sa_flags & SA_SIGINFO) {
            if (old->sa_sigaction) {
                old->sa_sigaction(sig, si, uc);
                return;
            }
        } else if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
            old->sa_handler(sig);
            return;
        }
    }
    grt__crash(sig, si, uc);
}

void grt__signals_init(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < NFATAL; i++)
        sigaction(fatal_sigs[i], &sa, &old_fatal[i]);
    grt__traceback_init(); /* SIGQUIT, GRT_LEAKCHECK */
}
