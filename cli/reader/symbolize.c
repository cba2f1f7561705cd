/*
 * symbolize.c - program counters to function, file and line, outside the
 * target, with elfutils' libdwfl.
 *
 * The dump lists the target's modules (path, load bias, executable
 * range, build id).  Each one is reported to a Dwfl session with
 * dwfl_report_elf at its bias, so that a pc of the target is an address
 * of the session; libdwfl opens the ELF file, finds separate debug
 * information through its standard paths and the build id, and answers
 * per address.  A module's file is looked for first as the target sees
 * it (/proc/<pid>/root/<path>, which also works across mount namespaces
 * while the target lives), then at <path> itself.
 *
 * The lookup itself is common/dwsym.c, shared with the runtime's own
 * tracebacks: a return address (every frame but the innermost) is looked
 * up inside its call instruction, clang objects unit by unit, and without
 * DWARF line information a frame still gets its function and offset.
 *
 * Built without libdw, rd_sym_open returns RD_ENOSYM.
 */
#include "config.h"

#include "reader_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_LIBDW
#include "common/dwsym.h"

struct rd_sym {
    Dwfl *dwfl;
    size_t nmods;
    struct {
        uint64_t lo, hi;
        char *path;
        Dwfl_Module *mod;
    } * mods;
};

int rd_sym_open(const struct rd_dump *d, struct rd_sym **out)
{
    *out = NULL;
    if (!d)
        return RD_EINVAL;
    struct rd_sym *s = calloc(1, sizeof *s);
    if (!s)
        return RD_ENOMEM;
    s->mods = calloc(d->nmods ? d->nmods : 1, sizeof *s->mods);
    s->dwfl = grt__dwsym_begin();
    if (!s->mods || !s->dwfl) {
        rd_sym_close(s);
        return RD_ENOMEM;
    }
    dwfl_report_begin(s->dwfl);
    for (size_t i = 0; i < d->nmods; i++) {
        const struct rd_module *m = &d->mods[i];
        if (!m->path[0] || m->path[0] != '/')
            continue; /* the vdso and unnamed objects */
        char alt[4200];
        Dwfl_Module *mod = NULL;
        if (d->pid > 0) {
            snprintf(alt, sizeof alt, "/proc/%d/root%s", d->pid, m->path);
            if (access(alt, R_OK) == 0)
                mod = dwfl_report_elf(s->dwfl, m->path, alt, -1, m->bias, true);
        }
        if (!mod && access(m->path, R_OK) == 0)
            mod = dwfl_report_elf(s->dwfl, m->path, m->path, -1, m->bias, true);
        s->mods[s->nmods].lo = m->lo;
        s->mods[s->nmods].hi = m->hi;
        s->mods[s->nmods].path = strdup(m->path);
        s->mods[s->nmods].mod = mod;
        s->nmods++;
    }
    dwfl_report_end(s->dwfl, NULL, NULL);
    *out = s;
    return RD_OK;
}

int rd_sym_lookup(struct rd_sym *s, uint64_t pc, bool is_return,
                  struct rd_frame_info *out)
{
    memset(out, 0, sizeof *out);
    out->pc = pc;
    if (!s)
        return RD_EINVAL;
    uint64_t addr = is_return && pc > 0 ? pc - 1 : pc;
    for (size_t i = 0; i < s->nmods; i++)
        if (addr >= s->mods[i].lo && addr < s->mods[i].hi)
            out->module = s->mods[i].path;
    struct grt__dwsym d;
    if (!grt__dwsym_lookup(s->dwfl, pc, is_return, &d))
        return out->module ? RD_OK : RD_ENOTFOUND;
    if (!out->module)
        out->module = d.module;
    if (d.func) {
        snprintf(out->func, sizeof out->func, "%s", d.func);
        out->offset = d.offset;
    }
    if (d.file) {
        snprintf(out->file, sizeof out->file, "%s", d.file);
        out->line = d.line;
    }
    return RD_OK;
}

void rd_sym_close(struct rd_sym *s)
{
    if (!s)
        return;
    if (s->dwfl)
        dwfl_end(s->dwfl);
    if (s->mods)
        for (size_t i = 0; i < s->nmods; i++)
            free(s->mods[i].path);
    free(s->mods);
    free(s);
}

#else /* !HAVE_LIBDW */

int rd_sym_open(const struct rd_dump *d, struct rd_sym **out)
{
    (void)d;
    *out = NULL;
    return RD_ENOSYM;
}

int rd_sym_lookup(struct rd_sym *s, uint64_t pc, bool is_return,
                  struct rd_frame_info *out)
{
    (void)s;
    (void)is_return;
    memset(out, 0, sizeof *out);
    out->pc = pc;
    return RD_ENOSYM;
}

void rd_sym_close(struct rd_sym *s)
{
    (void)s;
}

#endif
