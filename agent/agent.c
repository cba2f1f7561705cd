/*
 * agent.c - the segment's life: where it lives, how it is created, laid
 * out, announced, and removed.
 *
 * One file per process, named by its pid, in a per-user directory on
 * tmpfs: $GRT_AGENT_DIR if set (tests), else /dev/shm/grt-<uid>, else
 * $XDG_RUNTIME_DIR/grt.  The directory is checked as the JVM checks its
 * hsperfdata directory: opened without following a symlink, it must be a
 * directory owned by our effective uid with no group or other write
 * permission.  The file is created O_EXCL | O_NOFOLLOW, mode 0600, and
 * flock'ed exclusively for the life of the process: a reader that can take
 * the lock knows the writer is gone.  A file left by a dead process with
 * our pid (pid reuse, a crash) is recognised the same way and replaced;
 * other stale files of the directory are cleaned up too (a bounded number
 * per start), as the JVM does with hsperfdata.
 *
 * Layout (docs/shm-abi.md): header page, info, request page, sample ring,
 * P, M, channel and site tables, dump area, G table.  The file is sized
 * once (ftruncate) and stays sparse: tmpfs only commits touched pages,
 * and each region is fallocate'd before its pages are first written, so
 * a full tmpfs shows up as an error to handle instead of a SIGBUS.  The
 * header's magic is store-released last.
 *
 * Removal: atexit, the fatal-signal path (grt__agent_fini, which only
 * unlinks a precomputed path), and handlers for the terminating signals
 * whose disposition is still the default (they unlink, then re-raise).
 * A forked child gets a private copy of the mapping and never removes the
 * parent's file.
 *
 * Failures (no tmpfs, no space, mapping limit, a directory that fails the
 * checks) print one line on stderr and leave the agent off; the program
 * runs on unobserved.  GRT_AGENT=0 turns the agent off silently.
 */
#include "config.h"

#include "agent_int.h"
#include "common/procstat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

#define STALE_SCAN_MAX 256 /* directory entries looked at per start-up */

struct agent grt__agent;
static uint32_t warned;   /* atomic: the one stderr line was printed */
static uint32_t finished; /* atomic: grt__agent_fini ran */

int64_t grt__agent_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t grt__agent_real(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void grt__agent_warn(const char *fmt, ...)
{
    if (__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "grt: agent: %s; running unobserved\n", buf);
}

bool grt__agent_commit(size_t off, size_t len)
{
    struct agent *a = &grt__agent;
    if (off > a->size || len > a->size - off)
        return false;
    for (;;) {
        int err = posix_fallocate(a->fd, (off_t)off, (off_t)len);
        if (err == 0)
            return true;
        if (err == EINTR)
            continue;
        /* a file system without fallocate: its pages come on first
         * touch, as before; not tmpfs, so no SIGBUS risk of that kind */
        return err == EOPNOTSUPP || err == EINVAL;
    }
}

/* ---------------------------------------------------------------------
 * Process facts
 * --------------------------------------------------------------------- */

static void fill_info(struct grt_shm_info *info)
{
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, info->cmdline, sizeof info->cmdline);
        close(fd);
        if (n > 0) {
            /* keep whole arguments only */
            if (info->cmdline[n - 1] != 0) {
                while (n > 0 && info->cmdline[n - 1] != 0)
                    info->cmdline[--n] = 0;
            }
            info->cmdline_len = (uint32_t)n;
            for (ssize_t i = 0; i < n; i++)
                if (info->cmdline[i] == 0)
                    info->argc++;
        }
    }
    const char *argv0 = info->cmdline_len ? info->cmdline : "";
    const char *slash = strrchr(argv0, '/');
    snprintf(info->name, sizeof info->name, "%.63s", slash ? slash + 1 : argv0);
    ssize_t n = readlink("/proc/self/exe", info->exe, sizeof info->exe - 1);
    if (n < 0)
        n = 0;
    info->exe[n] = 0;
    snprintf(info->version, sizeof info->version, "%d.%d.%d", GRT_VERSION_MAJOR,
             GRT_VERSION_MINOR, GRT_VERSION_PATCH);
    static const char *const status[] = {"idle",    "runnable", "running",
                                         "waiting", "syscall",  "dead"};
    for (size_t i = 0; i < sizeof status / sizeof *status; i++)
        snprintf(info->status_name[i], sizeof info->status_name[i], "%s",
                 status[i]);
    info->nstatus = sizeof status / sizeof *status;
    for (int i = 0; i < WAIT_MAX; i++)
        snprintf(info->wait_name[i], sizeof info->wait_name[i], "%s",
                 grt__wait_reason_str[i] ? grt__wait_reason_str[i] : "");
    info->nwait = WAIT_MAX;
}

/* ---------------------------------------------------------------------
 * The directory
 * --------------------------------------------------------------------- */

/*
 * Open dir as our private directory, creating it (0700) if missing.
 * Returns its descriptor or -1 with *why set.  need_tmpfs: refuse other
 * file systems (the default locations; GRT_AGENT_DIR may be anywhere).
 */
static int open_private_dir(const char *dir, bool need_tmpfs, const char **why)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        *why = strerror(errno);
        return -1;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0) {
        *why = errno == ELOOP || errno == ENOTDIR
                   ? "not a directory (or a symbolic link)"
                   : strerror(errno);
        return -1;
    }
    struct stat st;
    if (fstat(dfd, &st) != 0) {
        *why = strerror(errno);
        goto fail_close;
    }
    if (!S_ISDIR(st.st_mode)) {
        *why = "not a directory";
        goto fail_close;
    }
    if (st.st_uid != geteuid()) {
        *why = "owned by another user";
        goto fail_close;
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        *why = "writable by group or others";
        goto fail_close;
    }
    if (need_tmpfs) {
        struct statfs sf;
        if (fstatfs(dfd, &sf) != 0 || sf.f_type != TMPFS_MAGIC) {
            *why = "not on tmpfs";
            goto fail_close;
        }
    }
    return dfd;
fail_close:
    close(dfd);
    return -1;
}

/* Choose and open the directory; its path goes to dir. */
static int choose_dir(char *dir, size_t len, const char **why)
{
    const char *env = getenv("GRT_AGENT_DIR");
    if (env && *env) {
        snprintf(dir, len, "%s", env);
        return open_private_dir(dir, false, why);
    }
    snprintf(dir, len, "/dev/shm/grt-%u", (unsigned)geteuid());
    int dfd = open_private_dir(dir, true, why);
    if (dfd >= 0)
        return dfd;
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (xdg && *xdg) {
        const char *why2;
        char d2[PATH_MAX];
        snprintf(d2, sizeof d2, "%s/grt", xdg);
        dfd = open_private_dir(d2, true, &why2);
        if (dfd >= 0) {
            snprintf(dir, len, "%s", d2);
            return dfd;
        }
    }
    return -1;
}

/* Is the file of another process stale?  Its writer's lock is gone and
 * the pid is dead or was reused (its start time differs). */
static bool file_is_stale(int fd, pid_t pid)
{
    if (flock(fd, LOCK_SH | LOCK_NB) != 0)
        return false; /* a live writer holds it */
    flock(fd, LOCK_UN);
    if (kill(pid, 0) != 0 && errno == ESRCH)
        return true;
    struct grt_shm_header h;
    if (pread(fd, &h, sizeof h, 0) != (ssize_t)sizeof h ||
        h.magic != GRT_SHM_MAGIC || h.pid != pid)
        return false; /* not (yet) a segment: leave it */
    uint64_t t = grt_proc_start_ticks((int)pid);
    return t != 0 && t != h.start_ticks;
}

/* Remove stale segments of the directory (bounded work). */
static void clean_stale(int dfd)
{
    int fd2 = dup(dfd);
    if (fd2 < 0)
        return;
    DIR *d = fdopendir(fd2);
    if (!d) {
        close(fd2);
        return;
    }
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL && n++ < STALE_SCAN_MAX) {
        if (!grt_all_digits(e->d_name))
            continue;
        long pid = strtol(e->d_name, NULL, 10);
        if (pid <= 0 || pid == (long)getpid())
            continue;
        int fd = openat(dfd, e->d_name,
                        O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
            continue;
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
            st.st_uid == geteuid() && file_is_stale(fd, (pid_t)pid))
            unlinkat(dfd, e->d_name, 0);
        close(fd);
    }
    closedir(d);
}

/* Create our file (replacing a stale one with our pid).  Returns its
 * descriptor, locked, or -1 with *why set. */
static int create_file(int dfd, const char *name, const char **why)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd =
            openat(dfd, name,
                   O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) {
            if (fchmod(fd, 0600) != 0) {
                *why = strerror(errno);
                goto fail_unlink;
            }
            /* the stale-file cleaner of another process may hold a shared
             * lock for a moment: retry briefly */
            for (int i = 0;; i++) {
                if (flock(fd, LOCK_EX | LOCK_NB) == 0)
                    return fd;
                if (errno != EWOULDBLOCK || i == 100) {
                    *why = "cannot lock the segment";
                    goto fail_unlink;
                }
                struct timespec ts = {0, 100000};
                nanosleep(&ts, NULL);
            }
        fail_unlink:
            unlinkat(dfd, name, 0);
            close(fd);
            return -1;
        }
        if (errno != EEXIST || attempt > 0) {
            *why = strerror(errno);
            return -1;
        }
        /* a file with our pid: stale if nobody holds its lock */
        fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            *why = strerror(errno);
            return -1;
        }
        bool stale = flock(fd, LOCK_SH | LOCK_NB) == 0;
        close(fd);
        if (!stale) {
            *why = "a live segment with our pid exists";
            return -1;
        }
        unlinkat(dfd, name, 0);
    }
    *why = "cannot create the segment";
    return -1;
}

/* ---------------------------------------------------------------------
 * Layout
 * --------------------------------------------------------------------- */

static size_t page_round(size_t n)
{
    return (n + GRT_SHM_PAGE - 1) & ~(size_t)(GRT_SHM_PAGE - 1);
}

static uint32_t env_u32(const char *name, uint32_t def, uint32_t lo,
                        uint32_t hi)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return def;
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*end || v < lo || v > hi)
        return def;
    return (uint32_t)v;
}

/* Lay the tables out from offset 0; fills hdr->tables and returns the
 * segment size. */
static size_t layout(struct grt_shm_table *t, uint32_t gcap, size_t dump_size)
{
    size_t off = GRT_SHM_PAGE; /* the header */
    struct {
        int idx;
        uint32_t stride, cap;
        size_t size;
    } regions[] = {
        {GRT_SHM_T_INFO, sizeof(struct grt_shm_info), 1, 0},
        {GRT_SHM_T_REQUEST, sizeof(struct grt_shm_request), 1, GRT_SHM_PAGE},
        {GRT_SHM_T_SAMPLES, sizeof(struct grt_shm_sample), AGENT_SAMPLES, 0},
        {GRT_SHM_T_P, sizeof(struct grt_shm_p), AGENT_PCAP, 0},
        {GRT_SHM_T_M, sizeof(struct grt_shm_m), AGENT_MCAP, 0},
        {GRT_SHM_T_CHAN, sizeof(struct grt_shm_chan), AGENT_CHANCAP, 0},
        {GRT_SHM_T_SITE, sizeof(struct grt_shm_site), AGENT_SITECAP, 0},
        {GRT_SHM_T_DUMP, (uint32_t)dump_size, 1, dump_size},
        {GRT_SHM_T_G, sizeof(struct grt_shm_g), gcap, 0},
    };
    for (size_t i = 0; i < sizeof regions / sizeof *regions; i++) {
        size_t size = regions[i].size;
        if (!size)
            size = (size_t)regions[i].stride * regions[i].cap;
        size = page_round(size);
        struct grt_shm_table *e = &t[regions[i].idx];
        e->offset = off;
        e->stride = regions[i].stride;
        e->capacity = regions[i].cap;
        e->count = 0;
        e->size = size;
        off += size;
    }
    return off;
}

/* ---------------------------------------------------------------------
 * Start-up and exit
 * --------------------------------------------------------------------- */

static void on_term_signal(int sig)
{
    int saved = errno;
    grt__agent_fini();
    /* SA_RESETHAND restored the default; deliver it again on return */
    raise(sig);
    errno = saved;
}

static void install_term_handlers(void)
{
    static const int sigs[] = {SIGHUP,  SIGINT,  SIGQUIT,
                               SIGTERM, SIGABRT, SIGPIPE};
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
        struct sigaction old;
        if (sigaction(sigs[i], NULL, &old) != 0)
            continue;
        if (!(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_DFL) {
            struct sigaction sa;
            memset(&sa, 0, sizeof sa);
            sa.sa_handler = on_term_signal;
            sa.sa_flags = SA_RESETHAND | SA_RESTART;
            sigemptyset(&sa.sa_mask);
            sigaction(sigs[i], &sa, NULL);
        }
    }
}

static void atexit_fini(void)
{
    grt__agent_fini();
}

/* In a forked child: keep writing (the runtime's records) into a private
 * copy, never into the parent's file, and drop our reference to its lock. */
static void atfork_child(void)
{
    struct agent *a = &grt__agent;
    if (!a->base)
        return;
    grt__agent_publish_atfork_child();
    void *p = mmap(a->base, a->size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_FIXED, a->fd, 0);
    if (p == MAP_FAILED)
        mmap(a->base, a->size, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    close(a->fd);
    a->fd = -1;
    a->on = false;
    a->thread_started = false;
}

void grt__agent_init(void)
{
    struct agent *a = &grt__agent;
    a->fd = -1;
    a->pid = getpid();
    const char *env = getenv("GRT_AGENT");
    if (env && strcmp(env, "0") == 0)
        goto off;

    const char *why = NULL;
    char dir[PATH_MAX];
    int dfd = choose_dir(dir, sizeof dir, &why);
    if (dfd < 0) {
        grt__agent_warn("directory %s: %s", dir, why);
        goto off;
    }
    clean_stale(dfd);
    char name[32];
    snprintf(name, sizeof name, "%d", (int)a->pid);
    if ((size_t)snprintf(a->path, sizeof a->path, "%s/%s", dir, name) >=
        sizeof a->path) {
        grt__agent_warn("directory %s: path too long", dir);
        goto fail_dir;
    }
    a->fd = create_file(dfd, name, &why);
    if (a->fd < 0) {
        grt__agent_warn("%s: %s", a->path, why);
        a->path[0] = 0;
        goto fail_dir;
    }

    struct grt_shm_table tables[GRT_SHM_T_MAX];
    memset(tables, 0, sizeof tables);
    a->gcap = env_u32("GRT_AGENT_GMAX", AGENT_GCAP_DEFAULT, 1024, 1u << 24);
    size_t dump_size =
        (size_t)env_u32("GRT_AGENT_DUMP_MB", AGENT_DUMP_DEFAULT >> 20, 1, 1024)
        << 20;
    size_t size = layout(tables, a->gcap, dump_size);
    /* a file size limit would make ftruncate raise SIGXFSZ, which kills */
    struct rlimit fsz;
    if (getrlimit(RLIMIT_FSIZE, &fsz) == 0 && fsz.rlim_cur != RLIM_INFINITY &&
        fsz.rlim_cur < size) {
        grt__agent_warn("%s: the segment (%zu MiB) exceeds the file size "
                        "limit (ulimit -f)",
                        a->path, size >> 20);
        goto fail_unlink;
    }
    if (ftruncate(a->fd, (off_t)size) != 0) {
        grt__agent_warn("%s: cannot size the segment: %s", a->path,
                        strerror(errno));
        goto fail_unlink;
    }
    a->size = size; /* grt__agent_commit checks against it */
    /* back now what is written at once or read before any count says
     * so: header, info, request page, P and M tables, the dump header;
     * the rest (sample ring, G, channel and site tables, dump data) is
     * backed a chunk at a time as it fills */
    static const int eager[] = {GRT_SHM_T_INFO, GRT_SHM_T_REQUEST, GRT_SHM_T_P,
                                GRT_SHM_T_M};
    bool backed =
        grt__agent_commit(0, GRT_SHM_PAGE) &&
        grt__agent_commit(tables[GRT_SHM_T_DUMP].offset, GRT_SHM_PAGE);
    for (size_t i = 0; i < sizeof eager / sizeof *eager; i++)
        backed = backed && grt__agent_commit(tables[eager[i]].offset,
                                             tables[eager[i]].size);
    if (!backed) {
        grt__agent_warn("%s: no space for the segment", a->path);
        goto fail_unlink;
    }
    void *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, a->fd, 0);
    if (base == MAP_FAILED) {
        grt__agent_warn("%s: cannot map the segment: %s", a->path,
                        strerror(errno));
        goto fail_unlink;
    }
    /* the G struct of each slot: reserved, committed as it is touched */
    size_t gtab_size = page_round((size_t)a->gcap * sizeof(struct g *));
    void *gtab = mmap(NULL, gtab_size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (gtab == MAP_FAILED) {
        grt__agent_warn("cannot map the G index: %s", strerror(errno));
        goto fail_unmap;
    }
    a->gtab = gtab;
    a->base = base;
    struct grt_shm_header *h = base;
    a->hdr = h;
    a->info = (void *)(a->base + tables[GRT_SHM_T_INFO].offset);
    a->req = (void *)(a->base + tables[GRT_SHM_T_REQUEST].offset);
    a->dump = (void *)(a->base + tables[GRT_SHM_T_DUMP].offset);
    a->dump_size = tables[GRT_SHM_T_DUMP].size;
    a->samples = (void *)(a->base + tables[GRT_SHM_T_SAMPLES].offset);
    a->g = (void *)(a->base + tables[GRT_SHM_T_G].offset);
    a->m = (void *)(a->base + tables[GRT_SHM_T_M].offset);
    a->p = (void *)(a->base + tables[GRT_SHM_T_P].offset);
    a->chan = (void *)(a->base + tables[GRT_SHM_T_CHAN].offset);
    a->site = (void *)(a->base + tables[GRT_SHM_T_SITE].offset);

    h->version = GRT_SHM_VERSION;
    h->compat_version = GRT_SHM_COMPAT;
    h->header_size = (uint32_t)offsetof(struct grt_shm_header, reserved);
    h->flags = grt__agent_dump_available() ? GRT_SHM_F_DUMPS : 0;
    h->segment_size = size;
    h->pid = a->pid;
    h->start_ticks = grt_proc_start_ticks((int)a->pid);
    h->created_mono_ns = grt__agent_mono();
    h->created_real_ns = grt__agent_real();
    h->uid = (uint32_t)geteuid();
    h->page_size = (uint32_t)sysconf(_SC_PAGESIZE);
    h->ntables = GRT_SHM_T_COUNT_V1;
    h->table_entry_size = sizeof(struct grt_shm_table);
    h->heartbeat_ns = h->created_mono_ns;
    memcpy(h->tables, tables, sizeof tables);
    fill_info(a->info);
    a->on = true;
    grt__agent_publish_init();
    pthread_atfork(NULL, NULL, atfork_child);
    atexit(atexit_fini);
    install_term_handlers();
    /* (H1) publish-last: pairs with the reader's acquire load of magic */
    __atomic_store_n(&h->magic, GRT_SHM_MAGIC, __ATOMIC_RELEASE);
    close(dfd);
    if (!grt__agent_sampler_start()) {
        grt__agent_warn("cannot start the agent's thread");
        __atomic_fetch_or(&h->flags, GRT_SHM_F_STOPPED, __ATOMIC_RELAXED);
    }
    return;

fail_unmap:
    munmap(base, size);
fail_unlink:
    unlink(a->path);
    a->path[0] = 0;
    close(a->fd);
    a->fd = -1;
fail_dir:
    close(dfd);
off:
    a->on = false;
    grt__agent_publish_init();
}

void grt__agent_fini(void)
{
    struct agent *a = &grt__agent;
    if (getpid() != a->pid || !a->path[0])
        return;
    if (__atomic_exchange_n(&finished, 1, __ATOMIC_ACQ_REL))
        return;
    if (a->hdr)
        __atomic_fetch_or(&a->hdr->flags, GRT_SHM_F_EXITING, __ATOMIC_RELEASE);
    unlink(a->path);
}
