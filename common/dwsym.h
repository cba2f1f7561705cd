/*
 * dwsym.h - program counters to function, offset, file and line with
 * elfutils' libdwfl, shared by the reader (cli/reader/symbolize.c, for a
 * dumped process) and the runtime (runtime/symtab.c, for its own
 * tracebacks), so that both name a frame the same way.
 *
 * A return address (every frame but the innermost of a signal) is looked
 * up one byte earlier, inside the call instruction, so that a call at the
 * end of a function or before a noreturn call is attributed to the right
 * function and line.  Objects built by clang (no .debug_aranges) are
 * looked up unit by unit.  Without DWARF line information a frame still
 * gets its function and offset from the symbol table.
 *
 * Compiled only with libdw (HAVE_LIBDW); not async-signal-safe (libdwfl
 * allocates).
 */
#ifndef GRT_COMMON_DWSYM_H
#define GRT_COMMON_DWSYM_H

#ifdef HAVE_LIBDW
#include <elfutils/libdwfl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A Dwfl session with grt's callbacks (build-id and standard debuginfo
 * paths, offline section addresses); NULL when out of memory. */
Dwfl *grt__dwsym_begin(void);

/* What grt__dwsym_lookup found; strings belong to the session. */
struct grt__dwsym {
    const char *func;   /* symbol, NULL unknown */
    uint64_t offset;    /* pc - start of func */
    const char *file;   /* source file, NULL without line information */
    int line;
    const char *module; /* the module's name as reported, NULL */
};

/*
 * Look pc up in dwfl (is_return: pc is a return address).  Returns false
 * when no reported module holds it (*out is then all unknown).
 */
bool grt__dwsym_lookup(Dwfl *dwfl, uint64_t pc, bool is_return,
                       struct grt__dwsym *out);
#endif

#endif /* GRT_COMMON_DWSYM_H */
