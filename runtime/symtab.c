/*
 * symtab.c - the runtime names its own program counters (Go's
 * symtab.go): function and offset always, file and line when the object
 * has DWARF line information, for panics, fatal errors, crash reports,
 * grt_dump, grt_stack and leak reports.
 *
 * With libdw, one Dwfl session covers the process: every loaded object
 * (dl_iterate_phdr; the executable as /proc/self/exe) is reported at its
 * load bias, as cli/reader/symbolize.c does for another process, and the
 * lookup itself is the reader's (common/dwsym.c), so a frame reads the
 * same in a panic and in gdump.  The session is built on first use and
 * rebuilt when objects were loaded or unloaded since (the loader's
 * dlpi_adds/dlpi_subs counters).  Symbols come from .symtab, so static
 * functions are named too.  Without libdw, or for an object libdw cannot
 * read, dladdr gives what the dynamic symbol table knows (exported
 * functions; a static function shows as its object file and the pc).
 *
 * Frames of libgrt itself are marked internal (tracebacks hide them, as
 * Go hides runtime frames): a pc inside libgrt's executable segments when
 * libgrt is a shared object, and in any case a function whose name
 * starts with "grt_" (the public entry points and grt__ internals, which
 * is all that can be told when libgrt is linked into the executable).
 *
 * Frames in the libraries libgrt itself calls (libc, the loader, the
 * vdso, libunwind, libdw and what it needs, libgcc_s, a sanitizer's
 * runtime) are marked system, by their object's file name: tracebacks
 * hide them when libgrt called them (a futex wait, a lock of libdw's),
 * not when the application did.
 *
 * Answers are cached by pc (a dump asks for the same few addresses many
 * times).  The session is shared by all threads under one mutex.  A crash report
 * may need it while another thread (or its own, if the crash came from
 * libdw) holds it, so a lookup waits at most a second and then answers
 * from dladdr.  Rejected: a session per dump (opening the DWARF of every
 * object again costs milliseconds, and leak checks retry dumps in a
 * loop).
 */
#include "config.h"

#include "traceback.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_LIBDW
#include "common/dwsym.h"
#endif

static pthread_mutex_t sym_mu = PTHREAD_MUTEX_INITIALIZER;

/* libgrt's executable segments (shared-object builds); set once. */
static uintptr_t lib_lo, lib_hi;
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

struct self_range {
    uintptr_t base; /* libgrt's load address (dladdr) */
    bool first;     /* the first object reported is the executable */
};

static int lib_range_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct self_range *s = arg;
    bool exe = s->first;
    s->first = false;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    bool ours = false;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        uintptr_t a = info->dlpi_addr + ph->p_vaddr;
        if (a < lo)
            lo = a;
        if (a + ph->p_memsz > hi)
            hi = a + ph->p_memsz;
        if ((uintptr_t)grt__sym_lookup >= a &&
            (uintptr_t)grt__sym_lookup < a + ph->p_memsz)
            ours = true;
    }
    if (!ours)
        return 0;
    if (!exe) { /* linked into the executable: cannot tell by address */
        lib_lo = lo;
        lib_hi = hi;
    }
    return 1;
}

static void lib_range_init(void)
{
    struct self_range s = {0, true};
    dl_iterate_phdr(lib_range_cb, &s);
}

/* Is the object at path one of the libraries libgrt itself calls? */
static bool system_object(const char *path)
{
    static const char *const names[] = {
        "libc.so", "libc-", "ld-linux", "ld64.so", "linux-vdso", "[vdso]",
        "libpthread", "libdl.so", "libdl-", "librt.so", "librt-",
        "libm.so", "libm-", "libunwind", "libdw.so", "libdw-", "libelf",
        "libz.so", "liblzma", "libbz2", "libzstd", "libgcc_s", "libasan",
        "libtsan", "libubsan", "liblsan", NULL};
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    for (int i = 0; names[i]; i++)
        if (!strncmp(base, names[i], strlen(names[i])))
            return true;
    return false;
}

bool grt__sym_in_libgrt(uint64_t pc)
{
    pthread_once(&lib_once, lib_range_init);
    return pc >= lib_lo && pc < lib_hi;
}

#ifdef HAVE_LIBDW
static Dwfl *dwfl;               /* under sym_mu */
static unsigned long long dw_gen; /* loader's adds + subs it was built at */

struct report {
    Dwfl *d;
    bool first;
    unsigned long long gen;
};

static int report_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct report *r = arg;
    bool exe = r->first;
    r->first = false;
    if (size >= offsetof(struct dl_phdr_info, dlpi_subs) +
                    sizeof info->dlpi_subs)
        r->gen = info->dlpi_adds + info->dlpi_subs;
    char path[4096];
    const char *name = info->dlpi_name;
    if ((!name || !*name) && exe) {
        ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
        if (n <= 0)
            return 0;
        path[n] = 0;
        name = path;
    }
    if (!name || name[0] != '/')
        return 0; /* the vdso, unnamed objects */
    if (!r->d)
        return 0;
    dwfl_report_elf(r->d, name, name, -1, info->dlpi_addr, true);
    return 0;
}

/* Loader's generation now (cheap: one callback). */
static int gen_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    if (size >= offsetof(struct dl_phdr_info, dlpi_subs) +
                    sizeof info->dlpi_subs)
        *(unsigned long long *)arg = info->dlpi_adds + info->dlpi_subs;
    return 1;
}

/*
 * Answers of the session by pc, direct-mapped: a dump looks the same few
 * return addresses up again and again (every goroutine parked in the
 * same place), and libdwfl finds a symbol by a linear walk of .symtab.
 * The strings belong to the session; under sym_mu; emptied with it.
 */
#define CACHE_SIZE 1024
struct centry {
    uint64_t pc;          /* 0: empty */
    bool is_return;
    struct grt__dwsym d;
};
static struct centry cache[CACHE_SIZE];

static struct centry *cache_slot(uint64_t pc, bool is_return)
{
    uint64_t h = (pc * UINT64_C(0x9E3779B97F4A7C15)) >> 54; /* 10 bits */
    return &cache[(h ^ (uint64_t)is_return) & (CACHE_SIZE - 1)];
}

/* sym_mu held: pc in the session, through the cache. */
static bool lookup_cached(Dwfl *s, uint64_t pc, bool is_return,
                          struct grt__dwsym *d)
{
    struct centry *e = cache_slot(pc, is_return);
    if (e->pc == pc && e->is_return == is_return) {
        *d = e->d;
        return true;
    }
    if (!grt__dwsym_lookup(s, pc, is_return, d) || !d->func)
        return false;
    e->pc = pc;
    e->is_return = is_return;
    e->d = *d;
    return true;
}

/* sym_mu held: a session for the objects loaded now, or NULL. */
static Dwfl *session(void)
{
    unsigned long long gen = 0;
    dl_iterate_phdr(gen_cb, &gen);
    if (dwfl && gen == dw_gen)
        return dwfl;
    memset(cache, 0, sizeof cache);
    if (dwfl)
        dwfl_end(dwfl);
    struct report r = {grt__dwsym_begin(), true, 0};
    dwfl = r.d;
    if (!dwfl)
        return NULL;
    dwfl_report_begin(dwfl);
    dl_iterate_phdr(report_cb, &r);
    dwfl_report_end(dwfl, NULL, NULL);
    dw_gen = r.gen;
    return dwfl;
}
#endif

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

static bool lock_bounded(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 1;
    int r;
    do
        r = pthread_mutex_timedlock(&sym_mu, &ts);
    while (r == EINTR);
    return r == 0;
}

void grt__sym_lookup(uint64_t pc, bool is_return, struct grt__sym *out)
{
    memset(out, 0, sizeof *out);
    uint64_t addr = is_return && pc > 0 ? pc - 1 : pc;
    bool found = false;
#ifdef HAVE_LIBDW
    if (lock_bounded()) {
        struct grt__dwsym d;
        Dwfl *s = session();
        if (s && lookup_cached(s, pc, is_return, &d)) {
            copy(out->func, sizeof out->func, d.func);
            out->offset = d.offset;
            copy(out->file, sizeof out->file, d.file);
            out->line = d.file ? d.line : 0;
            copy(out->module, sizeof out->module, d.module);
            found = true;
        }
        pthread_mutex_unlock(&sym_mu);
    }
#else
    (void)lock_bounded;
#endif
    if (!found) {
        Dl_info di;
        memset(&di, 0, sizeof di);
        if (dladdr((void *)(uintptr_t)addr, &di)) {
            copy(out->module, sizeof out->module, di.dli_fname);
            if (di.dli_sname && di.dli_saddr) {
                copy(out->func, sizeof out->func, di.dli_sname);
                out->offset = pc - (uint64_t)(uintptr_t)di.dli_saddr;
            }
        }
    }
    out->internal = grt__sym_in_libgrt(addr) ||
                    strncmp(out->func, "grt_", 4) == 0;
    out->system = !out->internal && system_object(out->module);
}
