/*
 * model.c - gtop's model of one target: the attachment, the newest
 * snapshot, the sample history the graphs and rates come from, and the
 * leak analysis of the snapshot.  No curses: batch mode and the tests use
 * it as the screen does.
 *
 * A refresh never waits for the program (the reader library does not),
 * so a wedged program is shown as it is.  A program that exits is a state
 * (exited, with the last snapshot kept), not an error: htop keeps its
 * screen too.  A saved image (--image, for golden tests) is read once;
 * its "now" is its heartbeat, so its output does not depend on the clock.
 */
#include "config.h"

#include "gtop.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int model_init(struct model *m)
{
    memset(m, 0, sizeof *m);
    m->hist = calloc(MODEL_HIST, sizeof *m->hist);
    return m->hist ? RD_OK : RD_ENOMEM;
}

int model_open_pid(struct model *m, int pid)
{
    int rc = model_init(m);
    if (rc != RD_OK)
        return rc;
    m->pid = pid;
    rc = rd_attach(pid, &m->t);
    if (rc != RD_OK)
        model_close(m);
    return rc;
}

int model_open_mem(struct model *m, const void *buf, size_t len)
{
    int rc = model_init(m);
    if (rc != RD_OK)
        return rc;
    m->image = true;
    rc = rd_attach_mem(buf, len, &m->t);
    if (rc != RD_OK) {
        model_close(m);
        return rc;
    }
    m->pid = rd_target_pid(m->t);
    return RD_OK;
}

int model_open_image(struct model *m, const char *path, const char **why)
{
    *why = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        *why = strerror(errno);
        if (fd >= 0)
            close(fd);
        return RD_ESYS;
    }
    size_t len = (size_t)st.st_size;
    /* 64-byte aligned, as the reader expects of a mapping */
    void *buf = aligned_alloc(64, (len + 63) / 64 * 64 + 64);
    if (!buf) {
        close(fd);
        return RD_ENOMEM;
    }
    size_t got = 0;
    while (got < len) {
        ssize_t r = read(fd, (char *)buf + got, len - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            *why = r < 0 ? strerror(errno) : "file shrank while read";
            free(buf);
            close(fd);
            return RD_ESYS;
        }
        got += (size_t)r;
    }
    close(fd);
    int rc = model_open_mem(m, buf, len);
    if (rc != RD_OK) {
        free(buf);
        return rc;
    }
    m->image_buf = buf;
    return RD_OK;
}

static void read_samples(struct model *m)
{
    struct rd_sample buf[256];
    for (int round = 0; round < 64; round++) {
        size_t n = 0;
        if (rd_samples_read(m->t, &m->cursor, buf, 256, &n, &m->lost) !=
                RD_OK ||
            n == 0)
            return;
        for (size_t i = 0; i < n; i++)
            m->hist[m->nhist++ % MODEL_HIST] = buf[i];
    }
}

int model_refresh(struct model *m)
{
    if (!m->t || m->exited || (m->paused && m->snap))
        return RD_OK;
    if (!m->image && m->snap) {
        int rc = rd_target_check(m->t);
        if (rc != RD_OK) {
            m->exited = true;
            m->exit_err = rc;
            return RD_OK;
        }
    }
    struct rd_snapshot *s;
    int rc = rd_snapshot_take(m->t, &s);
    if (rc != RD_OK) {
        if (!m->snap)
            return rc;
        m->exited = true; /* keep the last screen */
        m->exit_err = rc;
        return RD_OK;
    }
    if (m->snap)
        rd_snapshot_free(m->snap);
    m->snap = s;
    m->refreshes++;
    read_samples(m);
    m->now = s->taken_mono_ns;
    if (m->image) {
        m->now = s->heartbeat_ns;
        const struct rd_sample *x = model_sample(m, 0);
        if (x && x->mono_ns > m->now)
            m->now = x->mono_ns;
    }
    if (!m->leaks_lazy || m->want_leaks || !m->leaks ||
        m->now - m->leaks_at >= MODEL_LEAKS_EVERY)
        model_find_leaks(m);
    return RD_OK;
}

/* A kept analysis of an older snapshot stays valid to show: it owns its
 * memory, and its site indexes are into the site table, which only
 * grows; its gidx (indexes into that older snapshot) are never used. */
void model_find_leaks(struct model *m)
{
    if (m->leaks)
        rd_leaks_free(m->leaks);
    m->leaks = NULL;
    if (!m->snap)
        return;
    if (rd_leaks_find(m->snap, m->leak_threshold_ns, m->now, &m->leaks) !=
        RD_OK)
        m->leaks = NULL;
    m->leaks_at = m->now;
}

int model_dump_all(struct model *m)
{
    if (!m->t || !m->snap)
        return RD_EINVAL;
    if (m->exited)
        return RD_ESTALE;
    if (m->image)
        return RD_ENODUMP;
    struct rd_dump *d;
    int rc = rd_dump_request(m->t, 0, 32, 5000, &d);
    if (rc != RD_OK)
        return rc;
    model_dump_drop(m);
    m->dump = d;
    if (rd_sym_open(d, &m->dump_sym) != RD_OK)
        m->dump_sym = NULL;
    m->dump_at = m->now;
    return RD_OK;
}

void model_dump_drop(struct model *m)
{
    if (m->dump_sym)
        rd_sym_close(m->dump_sym);
    if (m->dump)
        rd_dump_free(m->dump);
    m->dump_sym = NULL;
    m->dump = NULL;
}

void model_close(struct model *m)
{
    model_dump_drop(m);
    if (m->leaks)
        rd_leaks_free(m->leaks);
    if (m->snap)
        rd_snapshot_free(m->snap);
    if (m->t)
        rd_detach(m->t);
    free(m->image_buf);
    free(m->hist);
    memset(m, 0, sizeof *m);
}

const struct rd_sample *model_sample(const struct model *m, uint64_t i)
{
    uint64_t kept = m->nhist < MODEL_HIST ? m->nhist : MODEL_HIST;
    if (i >= kept)
        return NULL;
    return &m->hist[(m->nhist - 1 - i) % MODEL_HIST];
}

const struct rd_g *model_find_g(const struct model *m, int64_t goid)
{
    if (!m->snap)
        return NULL;
    for (size_t i = 0; i < m->snap->ng; i++)
        if (!m->snap->g[i].torn && m->snap->g[i].goid == goid)
            return &m->snap->g[i];
    return NULL;
}

const struct rd_site *model_site(const struct model *m, const struct rd_g *g)
{
    if (!m->snap || g->site == 0 || g->site > m->snap->nsite)
        return NULL;
    return &m->snap->site[g->site - 1];
}

const char *model_state(const struct model *m, const struct rd_g *g)
{
    if (g->torn)
        return "torn";
    if (g->status == GRT_SHM_G_WAITING)
        return rd_wait_name(m->snap, g->wait_reason);
    return rd_status_name(m->snap, g->status);
}

int64_t model_wait_ns(const struct model *m, const struct rd_g *g)
{
    if (g->torn ||
        (g->status != GRT_SHM_G_WAITING && g->status != GRT_SHM_G_SYSCALL) ||
        g->wait_since <= 0)
        return -1;
    int64_t d = m->now - g->wait_since;
    return d < 0 ? 0 : d;
}

char *model_site_text(const struct rd_site *site, char *buf, size_t len)
{
    buf[0] = 0;
    if (site && site->file[0]) {
        const char *b = strrchr(site->file, '/');
        snprintf(buf, len, "%s:%d", b ? b + 1 : site->file, site->line);
    }
    return buf;
}
