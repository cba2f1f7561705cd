/*
 * view_stack.c - the full stack of a goroutine, shown when Enter is
 * pressed on it (or on a group or a leak): asked from the agent on demand
 * (rd_dump_request, one goroutine at a time, so the program pays only for
 * what is looked at), symbolised outside the program (rd_sym_*, libdw)
 * and written by the one dump formatter (format.h), so it reads exactly
 * as gdump's and the runtime's own tracebacks do:
 *
 *     goroutine 7 [chan send, 2 minutes, wait 2m3.5s, on chan 0x.., ...]:
 *     searcher(...)
 *     \t/src/demos/leak_detection.c:77 +0x2a
 *     created by search in goroutine 1
 *     \t/src/demos/leak_detection.c:92
 *
 * The screen shows the text in a scrolling pager; errors (the program
 * exited, no libunwind, a saved image) become a line of the text.
 */
#include "config.h"

#include "gtop.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"

struct out {
    char *buf;
    size_t len, cap;
    bool failed;
};

static void out_write(void *ctx, const char *s, size_t n)
{
    struct out *o = ctx;
    if (o->failed)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t nc = (o->cap ? o->cap * 2 : 4096) + n;
        char *b = realloc(o->buf, nc);
        if (!b) {
            o->failed = true;
            return;
        }
        o->buf = b;
        o->cap = nc;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = 0;
}

static void out_printf(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void out_printf(struct out *o, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0)
        out_write(o, line, strlen(line));
}

bool view_stack_is_libgrt(const char *path)
{
    if (!path)
        return false;
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    return strncmp(b, "libgrt.", 7) == 0 || strncmp(b, "libgrt-", 7) == 0;
}

static bool internal(const struct rd_frame_info *f)
{
    return view_stack_is_libgrt(f->module) || strncmp(f->func, "grt__", 5) == 0;
}

char *view_stack_where(struct rd_sym *sym, const struct rd_dump_g *dg,
                       char *buf, size_t len)
{
    buf[0] = 0;
    for (uint32_t i = 0; i < dg->npcs; i++) {
        struct rd_frame_info fi;
        memset(&fi, 0, sizeof fi);
        if (!sym || rd_sym_lookup(sym, dg->pcs[i], i > 0, &fi) != RD_OK ||
            !fi.func[0]) {
            snprintf(buf, len, "0x%llx", (unsigned long long)dg->pcs[i]);
            return buf;
        }
        if (internal(&fi))
            continue;
        const char *b = strrchr(fi.file, '/');
        if (fi.file[0])
            snprintf(buf, len, "%s (%s:%d)", fi.func, b ? b + 1 : fi.file,
                     fi.line);
        else
            snprintf(buf, len, "%s", fi.func);
        return buf;
    }
    return buf;
}

/* One goroutine of dump d, with symbols from sym (NULL: none).  As gdump,
 * the program's own dumps and Go do, libgrt's own frames are hidden (the
 * grt_* call too, unless a tail call left no user frame); goroutine 1
 * stops at main. */
static void one(struct out *o, struct model *m, const struct rd_dump_g *dg,
                struct rd_sym *sym)
{
    const struct rd_g *g = model_find_g(m, dg->goid);
    struct rd_frame_info *fi = calloc(dg->npcs ? dg->npcs : 1, sizeof *fi);
    struct grt__fmt_frame *fr = calloc(dg->npcs ? dg->npcs : 1, sizeof *fr);
    if (!fi || !fr) {
        out_printf(o, "goroutine %lld: out of memory\n\n", (long long)dg->goid);
        goto out;
    }
    for (uint32_t i = 0; i < dg->npcs; i++) {
        fi[i].pc = dg->pcs[i];
        if (!sym || rd_sym_lookup(sym, dg->pcs[i], i > 0, &fi[i]) != RD_OK)
            fi[i].func[0] = 0;
    }
    size_t nf = 0;
    bool main_g = g && (g->flags & GRT_SHM_GF_MAIN);
    uint32_t outer = 0; /* past the last frame that is not libgrt's */
    for (uint32_t i = 0; i < dg->npcs; i++)
        if (!internal(&fi[i]))
            outer = i + 1;
    for (uint32_t i = 0; i < dg->npcs; i++) {
        const char *pub =
            strncmp(fi[i].func, "grt_", 4) == 0 && fi[i].func[4] != '_'
                ? fi[i].func
                : rd_public_call(fi[i].func, dg->wait_reason);
        if (internal(&fi[i]) && !(pub && i >= outer))
            continue;
        struct grt__fmt_frame *x = &fr[nf++];
        x->pc = dg->pcs[i];
        x->func = pub ? pub : fi[i].func[0] ? fi[i].func : NULL;
        x->offset = fi[i].offset;
        x->file = fi[i].file[0] ? fi[i].file : NULL;
        x->line = fi[i].line;
        x->module = fi[i].module;
        if (main_g && strcmp(fi[i].func, "main") == 0)
            break;
    }
    struct rd_g tmp = {.status = dg->status, .wait_reason = dg->wait_reason};
    struct grt__fmt_g f = {
        .goid = dg->goid,
        .state = model_state(m, g ? g : &tmp),
        .wait_ns = -1,
        .frames = fr,
        .nframes = nf,
        .m_id = -1,
        .p_id = -1,
    };
    if (!g) {
        tmp.goid = dg->goid;
        f.state = dg->status == GRT_SHM_G_WAITING
                      ? rd_wait_name(m->snap, dg->wait_reason)
                      : rd_status_name(m->snap, dg->status);
    }
    if (dg->status == GRT_SHM_G_WAITING || dg->status == GRT_SHM_G_SYSCALL)
        f.wait_ns = dg->wait_since > 0 && m->now > dg->wait_since
                        ? m->now - dg->wait_since
                        : -1;
    if (dg->npcs > 0 && nf == 0)
        f.no_frames = "only runtime frames";
    if (dg->npcs == 0)
        f.no_frames = dg->flags & GRT_SHM_DG_RUNNING       ? "running on a CPU"
                      : dg->flags & GRT_SHM_DG_NOT_STARTED ? "not started"
                                                           : "not unwound";
    if (g) {
        const struct rd_site *site = model_site(m, g);
        if (g->parent_goid != 0 && site) {
            f.created_fn = site->caller[0] ? site->caller : "?";
            f.created_goid = g->parent_goid;
            f.created_file = site->file[0] ? site->file : NULL;
            f.created_line = site->line;
        }
        f.name = g->name[0] ? g->name : NULL;
        f.wait_obj = g->status == GRT_SHM_G_WAITING ? g->wait_obj : 0;
        f.wait_obj_kind = f.wait_obj ? "obj" : NULL;
        for (size_t c = 0; f.wait_obj && c < m->snap->nchan; c++)
            if (m->snap->chan[c].addr == f.wait_obj) {
                f.wait_obj_kind = "chan";
                f.wait_obj_name =
                    m->snap->chan[c].name[0] ? m->snap->chan[c].name : NULL;
            }
        f.stack_committed = g->stack_committed;
        f.stack_reserved = g->stack_reserved;
        if (g->status == GRT_SHM_G_RUNNING) {
            f.m_id = g->m_id;
            f.p_id = g->p_id;
        }
    }
    struct grt__fmt_sink sink = {out_write, o};
    grt__fmt_goroutine(&sink, &f, GRT__FMT_EXTRAS);
out:
    free(fi);
    free(fr);
}

char *view_stack_text(struct model *m, const int64_t *goids, size_t n)
{
    struct out o = {0};
    for (size_t k = 0; k < n; k++) {
        struct rd_dump *d = NULL;
        int rc = m->exited  ? RD_ESTALE
                 : m->image ? RD_ENODUMP
                            : rd_dump_request(m->t, goids[k], 0, 2000, &d);
        if (rc != RD_OK) {
            out_printf(&o, "goroutine %lld: no stack: %s\n\n",
                       (long long)goids[k],
                       m->image ? "a saved image holds none" : rd_strerror(rc));
            continue;
        }
        struct rd_sym *sym = NULL;
        int src = rd_sym_open(d, &sym);
        if (src != RD_OK) {
            sym = NULL;
            out_printf(&o, "(no symbols: %s)\n", rd_strerror(src));
        }
        if (d->ng == 0)
            out_printf(&o, "goroutine %lld: not found (it exited)\n\n",
                       (long long)goids[k]);
        for (size_t i = 0; i < d->ng; i++)
            one(&o, m, &d->g[i], sym);
        if (sym)
            rd_sym_close(sym);
        rd_dump_free(d);
    }
    if (!o.buf || o.failed) {
        free(o.buf);
        return strdup("out of memory\n");
    }
    return o.buf;
}
