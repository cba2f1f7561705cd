/*
 * attach.c - finding segments, attaching to one, telling a live writer
 * from a stale file, and cleaning stale files up.
 *
 * Where: the directories the agent writes to (agent/agent.c), in the same
 * order: $GRT_AGENT_DIR, /dev/shm/grt-<uid>, $XDG_RUNTIME_DIR/grt.  Each
 * directory is checked as the agent checks it (ours, not a symbolic link,
 * no group/other write) and each file is opened with O_NOFOLLOW and must
 * be a regular file owned by our effective uid, with no group or other
 * permission: a segment of another user is refused (RD_EFOREIGN) even
 * when we are root, since its content would be trusted by our tools.
 *
 * Attaching maps the whole file read-only and, when we may write it, its
 * request page read-write (the only words a reader writes).  The file's
 * size is checked against the header's segment_size at attach and again
 * before each snapshot; a file truncated while mapped is the one case
 * the reader cannot survive (SIGBUS), and only our own uid can do it.
 *
 * Stale: the writer flock's its file for its whole life, so a reader that
 * can take the lock knows it is gone; the pid is also checked (alive, and
 * the same process: field 22 of /proc/<pid>/stat against start_ticks).
 */
#include "config.h"

#include "reader_int.h"
#include "common/procstat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DIRS 3

/* The candidate directories, in the agent's order; returns how many. */
static int agent_dirs(char dirs[MAX_DIRS][4096])
{
    int n = 0;
    const char *env = getenv("GRT_AGENT_DIR");
    if (env && *env)
        snprintf(dirs[n++], 4096, "%s", env);
    snprintf(dirs[n++], 4096, "/dev/shm/grt-%u", (unsigned)geteuid());
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (xdg && *xdg)
        snprintf(dirs[n++], 4096, "%s/grt", xdg);
    return n;
}

int rd__check_dir(const char *dir)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        return errno == ENOENT                      ? RD_ENOENT
               : errno == ELOOP || errno == ENOTDIR ? RD_EINSECURE
               : errno == EACCES                    ? RD_EACCES
                                                    : RD_ESYS;
    struct stat st;
    int rc = RD_OK;
    if (fstat(dfd, &st) != 0)
        rc = RD_ESYS;
    else if (st.st_uid != geteuid())
        rc = RD_EFOREIGN;
    else if (st.st_mode & (S_IWGRP | S_IWOTH))
        rc = RD_EINSECURE;
    close(dfd);
    return rc;
}

/* Open a segment file safely; returns fd or an RD_E* code (< 0). */
static int open_segment(const char *path, bool *writable)
{
    int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    *writable = fd >= 0;
    if (fd < 0 && (errno == EACCES || errno == EROFS))
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return errno == ENOENT   ? RD_ENOENT
               : errno == ELOOP  ? RD_EINSECURE
               : errno == EACCES ? RD_EACCES
                                 : RD_ESYS;
    struct stat st;
    int rc = RD_OK;
    if (fstat(fd, &st) != 0)
        rc = RD_ESYS;
    else if (!S_ISREG(st.st_mode))
        rc = RD_EINSECURE;
    else if (st.st_uid != geteuid())
        rc = RD_EFOREIGN;
    else if (st.st_mode & (S_IRWXG | S_IRWXO))
        rc = RD_EINSECURE;
    if (rc != RD_OK) {
        close(fd);
        return rc;
    }
    return fd;
}

/* Is the writer of the segment open as fd (header h) gone? */
static bool writer_gone(int fd, const struct grt_shm_header *h)
{
    if (h->pid <= 0 || h->pid > INT32_MAX)
        return true;
    if (kill((pid_t)h->pid, 0) != 0 && errno == ESRCH)
        return true;
    uint64_t t = grt_proc_start_ticks((int)h->pid);
    if (t != 0 && h->start_ticks != 0 && t != h->start_ticks)
        return true;
    if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
        flock(fd, LOCK_UN);
        return true; /* nobody holds the writer's lock */
    }
    return false;
}

int rd_find(int pid, char *path, size_t len)
{
    char dirs[MAX_DIRS][4096];
    int n = agent_dirs(dirs);
    for (int i = 0; i < n; i++) {
        char p[4200];
        snprintf(p, sizeof p, "%.4000s/%d", dirs[i], pid);
        struct stat st;
        if (lstat(p, &st) == 0) {
            if ((size_t)snprintf(path, len, "%s", p) >= len)
                return RD_EINVAL;
            return RD_OK;
        }
    }
    return RD_ENOENT;
}

/* ---------------------------------------------------------------------
 * Attach and detach
 * --------------------------------------------------------------------- */

static int map_and_validate(struct rd_target *t, bool writable)
{
    struct stat st;
    if (fstat(t->fd, &st) != 0)
        return RD_ESYS;
    if (st.st_size < (off_t)sizeof(struct grt_shm_header))
        return st.st_size == 0 ? RD_ENOTREADY : RD_ETRUNCATED;
    t->map_size = (size_t)st.st_size;
    void *p = mmap(NULL, t->map_size, PROT_READ, MAP_SHARED, t->fd, 0);
    if (p == MAP_FAILED)
        return errno == EACCES ? RD_EACCES : RD_ESYS;
    t->map = p;
    int rc = rd__validate(t->map, t->map_size, &t->lay);
    if (rc != RD_OK)
        return rc;
    if (t->pid > 0 && t->lay.hdr.pid != t->pid)
        return RD_ECORRUPT; /* the file named by pid is not that pid's */
    if (t->lay.hdr.uid != (uint32_t)geteuid())
        return RD_EFOREIGN;
    t->pid = (int)t->lay.hdr.pid;
    if (writable) {
        const struct rd_table *rq = &t->lay.t[GRT_SHM_T_REQUEST];
        void *q = mmap(NULL, GRT_SHM_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
                       t->fd, (off_t)rq->off);
        if (q != MAP_FAILED) {
            t->req_map = q;
            t->req_map_size = GRT_SHM_PAGE;
            t->req = q;
        }
    }
    return RD_OK;
}

static struct rd_target *target_new(void)
{
    struct rd_target *t = calloc(1, sizeof *t);
    if (t)
        t->fd = -1;
    return t;
}

int rd_attach_path(const char *path, struct rd_target **out)
{
    *out = NULL;
    if (!path || strlen(path) >= sizeof((struct rd_target *)0)->path)
        return RD_EINVAL;
    struct rd_target *t = target_new();
    if (!t)
        return RD_ENOMEM;
    snprintf(t->path, sizeof t->path, "%s", path);
    /* the file named by pid must hold that pid */
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    char *end;
    long pid = strtol(name, &end, 10);
    if (*name && !*end && pid > 0 && pid <= INT32_MAX)
        t->pid = (int)pid;
    bool writable;
    int fd = open_segment(path, &writable);
    if (fd < 0) {
        free(t);
        return fd;
    }
    t->fd = fd;
    int rc = map_and_validate(t, writable);
    if (rc != RD_OK) {
        rd_detach(t);
        return rc;
    }
    *out = t;
    return RD_OK;
}

int rd_attach(int pid, struct rd_target **out)
{
    *out = NULL;
    if (pid <= 0)
        return RD_EINVAL;
    char dirs[MAX_DIRS][4096];
    int n = agent_dirs(dirs);
    int rc = RD_ENOENT;
    for (int i = 0; i < n; i++) {
        char p[4200];
        snprintf(p, sizeof p, "%.4000s/%d", dirs[i], pid);
        struct stat st;
        if (lstat(p, &st) != 0)
            continue;
        int drc = rd__check_dir(dirs[i]);
        if (drc != RD_OK)
            return drc;
        rc = rd_attach_path(p, out);
        return rc;
    }
    return rc;
}

int rd_attach_mem(const void *buf, size_t len, struct rd_target **out)
{
    *out = NULL;
    if (!buf)
        return RD_EINVAL;
    struct rd_target *t = target_new();
    if (!t)
        return RD_ENOMEM;
    /* an aligned private copy: the caller's buffer may be unaligned */
    t->map = aligned_alloc(64, (len + 63) & ~(size_t)63);
    if (!t->map && len) {
        free(t);
        return RD_ENOMEM;
    }
    if (len)
        memcpy(t->map, buf, len);
    t->map_size = len;
    t->is_copy = true;
    int rc = t->map ? rd__validate(t->map, len, &t->lay) : RD_ETRUNCATED;
    if (rc != RD_OK) {
        rd_detach(t);
        return rc;
    }
    t->pid = (int)t->lay.hdr.pid;
    *out = t;
    return RD_OK;
}

void rd_detach(struct rd_target *t)
{
    if (!t)
        return;
    if (t->req_map)
        munmap(t->req_map, t->req_map_size);
    if (t->is_copy)
        free(t->map);
    else if (t->map)
        munmap(t->map, t->map_size);
    if (t->fd >= 0)
        close(t->fd);
    free(t);
}

int rd_target_pid(const struct rd_target *t)
{
    return t ? t->pid : 0;
}

int rd_target_check(struct rd_target *t)
{
    if (!t)
        return RD_EINVAL;
    if (t->fd < 0)
        return RD_OK; /* a memory image: nothing to ask */
    struct stat st;
    if (fstat(t->fd, &st) != 0)
        return RD_ESYS;
    if ((size_t)st.st_size != t->map_size)
        return (size_t)st.st_size < t->map_size ? RD_ETRUNCATED : RD_ECORRUPT;
    const struct grt_shm_header *h = (const void *)t->map;
    if (__atomic_load_n(&h->flags, __ATOMIC_ACQUIRE) & GRT_SHM_F_EXITING)
        return RD_ESTALE;
    if (st.st_nlink == 0)
        return RD_ESTALE; /* removed at exit */
    return writer_gone(t->fd, &t->lay.hdr) ? RD_ESTALE : RD_OK;
}

/* ---------------------------------------------------------------------
 * Listing and cleanup
 * --------------------------------------------------------------------- */

static void describe(struct rd_proc *pr)
{
    struct rd_target *t;
    pr->status = rd_attach_path(pr->path, &t);
    if (pr->status != RD_OK)
        return;
    const struct grt_shm_info *info =
        (const void *)rd__rec(&t->lay, GRT_SHM_T_INFO, 0);
    char name[sizeof info->name];
    grt_shm_copy_words(name, info->name, sizeof name);
    rd__copy_str(pr->name, name, sizeof pr->name);
    uint64_t head;
    if (rd__table_count(&t->lay, GRT_SHM_T_SAMPLES, &head) == RD_OK &&
        head > 0) {
        uint64_t i = (head - 1) & (t->lay.t[GRT_SHM_T_SAMPLES].cap - 1);
        struct grt_shm_sample s;
        if (rd__read_record(rd__rec(&t->lay, GRT_SHM_T_SAMPLES, i), &s,
                            sizeof s) == 1) {
            pr->goroutines = s.goroutines;
            pr->threads = s.threads;
        }
    }
    pr->uptime_ns = rd__mono() - t->lay.hdr.created_mono_ns;
    pr->status = rd_target_check(t);
    rd_detach(t);
}

static int cmp_proc(const void *a, const void *b)
{
    const struct rd_proc *x = a, *y = b;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

int rd_list(struct rd_proc **procs, size_t *n)
{
    *procs = NULL;
    *n = 0;
    char dirs[MAX_DIRS][4096];
    int nd = agent_dirs(dirs);
    struct rd_proc *v = NULL;
    size_t len = 0, cap = 0;
    for (int i = 0; i < nd; i++) {
        if (rd__check_dir(dirs[i]) != RD_OK)
            continue;
        DIR *d = opendir(dirs[i]);
        if (!d)
            continue;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!grt_all_digits(e->d_name) || strlen(e->d_name) > 10)
                continue;
            long pid = strtol(e->d_name, NULL, 10);
            bool dup = false;
            for (size_t k = 0; k < len; k++)
                dup |= v[k].pid == pid;
            if (dup || pid <= 0 || pid > INT32_MAX)
                continue;
            if (len == cap) {
                size_t nc = cap ? cap * 2 : 16;
                struct rd_proc *nv = realloc(v, nc * sizeof *nv);
                if (!nv) {
                    closedir(d);
                    free(v);
                    return RD_ENOMEM;
                }
                v = nv;
                cap = nc;
            }
            struct rd_proc *pr = &v[len++];
            memset(pr, 0, sizeof *pr);
            pr->pid = (int)pid;
            snprintf(pr->path, sizeof pr->path, "%.3800s/%.200s", dirs[i],
                     e->d_name);
            describe(pr);
        }
        closedir(d);
    }
    if (len)
        qsort(v, len, sizeof *v, cmp_proc);
    *procs = v;
    *n = len;
    return RD_OK;
}

void rd_list_free(struct rd_proc *procs)
{
    free(procs);
}

int rd_cleanup(const char *path)
{
    bool writable;
    int fd = open_segment(path, &writable);
    if (fd < 0)
        return fd;
    struct grt_shm_header h;
    memset(&h, 0, sizeof h);
    ssize_t n = pread(fd, &h, sizeof h, 0);
    bool gone;
    if (n == (ssize_t)sizeof h && h.magic == GRT_SHM_MAGIC) {
        gone = writer_gone(fd, &h);
    } else {
        /* not (or not yet) a segment: only if nobody holds its lock and
         * the pid its name gives is dead */
        const char *slash = strrchr(path, '/');
        long pid = strtol(slash ? slash + 1 : path, NULL, 10);
        gone = flock(fd, LOCK_SH | LOCK_NB) == 0 && pid > 0 &&
               kill((pid_t)pid, 0) != 0 && errno == ESRCH;
    }
    close(fd);
    if (!gone)
        return RD_EBUSY;
    if (unlink(path) != 0)
        return errno == ENOENT ? RD_OK : RD_ESYS;
    return RD_OK;
}
