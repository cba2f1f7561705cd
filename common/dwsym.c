/*
 * dwsym.c - one libdwfl lookup of a program counter, for the reader and
 * the runtime (dwsym.h).
 */
#include "config.h"

#include "common/dwsym.h"

#ifdef HAVE_LIBDW
#include <elfutils/libdw.h>
#include <string.h>

static char *debuginfo_path;

static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &debuginfo_path,
};

Dwfl *grt__dwsym_begin(void)
{
    return dwfl_begin(&callbacks);
}

/*
 * The line of addr found by walking the module's compilation units.
 * dwfl_module_getsrc finds the unit through .debug_aranges, which clang
 * does not emit (and elfutils 0.188 does not rebuild from the units'
 * ranges), so objects built by clang need this slower path.
 */
static void lines_by_cu(Dwfl_Module *mod, uint64_t addr,
                        struct grt__dwsym *out)
{
    Dwarf_Die *cu = NULL;
    Dwarf_Addr bias;
    while ((cu = dwfl_module_nextcu(mod, cu, &bias)) != NULL) {
        if (dwarf_haspc(cu, addr - bias) != 1)
            continue;
        Dwarf_Line *l = dwarf_getsrc_die(cu, addr - bias);
        const char *file = l ? dwarf_linesrc(l, NULL, NULL) : NULL;
        int lineno = 0;
        if (file && dwarf_lineno(l, &lineno) == 0) {
            out->file = file;
            out->line = lineno;
        }
        return;
    }
}

bool grt__dwsym_lookup(Dwfl *dwfl, uint64_t pc, bool is_return,
                       struct grt__dwsym *out)
{
    memset(out, 0, sizeof *out);
    uint64_t addr = is_return && pc > 0 ? pc - 1 : pc;
    Dwfl_Module *mod = dwfl ? dwfl_addrmodule(dwfl, addr) : NULL;
    if (!mod)
        return false;
    out->module =
        dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    GElf_Off off = 0;
    GElf_Sym sym;
    const char *name =
        dwfl_module_addrinfo(mod, addr, &off, &sym, NULL, NULL, NULL);
    if (name) {
        out->func = name;
        out->offset = off + (pc - addr);
    }
    Dwfl_Line *line = dwfl_module_getsrc(mod, addr);
    if (line) {
        int lineno = 0;
        const char *file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
        if (file) {
            out->file = file;
            out->line = lineno;
        }
    } else {
        lines_by_cu(mod, addr, out);
    }
    return true;
}
#else
typedef int grt__dwsym_none; /* ISO C: no empty translation unit */
#endif /* HAVE_LIBDW */
