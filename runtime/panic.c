/*
 * panic.c - how the runtime dies: grt_panic (Go's panic without recover),
 * grt__throw (Go's throw: runtime invariants, deadlock), grt__fatal
 * (Go's fatal: sync misuse), the report of a fatal signal in user code
 * (Go's sigpanic and crash output) and SIGQUIT's dump of every goroutine;
 * all with Go's words and exit status 2.
 *
 * What follows the message is chosen by GRT_TRACEBACK as GOTRACEBACK:
 * none (nothing), single (the failing goroutine; the default), all (every
 * goroutine).  A throw from a scheduler context (no goroutine of its own,
 * as the deadlock detector) shows every goroutine, as Go does.  SIGQUIT
 * shows every goroutine unless GRT_TRACEBACK=none.  Goroutines are
 * written by traceback.c through the one formatter, to fd 2 with
 * write(2).
 *
 * Only one thread dies: the first to get here prints and exits; another
 * that panics meanwhile waits for the end (Go's panicking counter).  A
 * fault while printing (a corrupt heap, a bug in a library we call) ends
 * the process at once with one line.  The fatal-signal report runs in the
 * signal handler on the thread's signal stack; it calls functions that
 * are not async-signal-safe (malloc through libdw, dladdr) since the
 * process is ending anyway, as Go's crash output does.
 *
 * Signals: SIGSEGV and SIGBUS (and SIGFPE, SIGILL) are caught by stack.c,
 * which reports stack overflows and chains to a handler the application
 * installed before the runtime started; otherwise it comes here.  SIGQUIT
 * is caught when its disposition was the default or ignored, as Go does:
 * a shell starts a background job with SIGINT and SIGQUIT ignored, and
 * Go respects an inherited SIG_IGN for SIGHUP and SIGINT only, so that
 * kill -QUIT still dumps a daemon started with &.  An application's own
 * handler is kept.
 */
#include "config.h"

#include "rt.h"
#include "agent.h"
#include "traceback.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

static int32_t dying_tid; /* atomic: the thread that prints and exits */

static void put(const char *s)
{
    int fd = 2;
    grt__fmt_fd_write(&fd, s, strlen(s));
}

void grt__die_begin(void)
{
    int32_t me = (int32_t)syscall(SYS_gettid);
    int32_t z = 0;
    if (__atomic_compare_exchange_n(&dying_tid, &z, me, false,
                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return;
    if (z == me) {
        put("\nfatal error: fault while printing a fatal error\n");
        grt__die_end(2);
    }
    for (;;)
        pause(); /* the dying thread ends the process */
}

void grt__die_end(int code)
{
    grt__agent_fini(); /* remove the segment: _exit skips atexit */
    _exit(code);
}

/* The tracebacks GRT_TRACEBACK asks for, to fd 2, after the message. */
static void traceback(void *uc, bool from_signal)
{
    int lvl = grt__traceback_level();
    if (lvl == TB_NONE)
        return;
    int fd = 2;
    struct grt__fmt_sink sink = {grt__fmt_fd_write, &fd};
    bool all = lvl == TB_ALL;
    put("\n");
    if (from_signal)
        grt__traceback(&sink, all, uc, true);
    else
        grt__traceback_here(&sink, all, true);
}

static _Noreturn void die(const char *prefix, const char *msg)
{
    grt__die_begin();
    fflush(stdout);
    put(prefix);
    put(msg);
    put("\n");
    traceback(NULL, false);
    fflush(NULL);
    grt__die_end(2);
}

void grt__throw(const char *msg)
{
    die("fatal error: ", msg);
}

void grt__fatal(const char *msg)
{
    die("fatal error: ", msg);
}

void grt__panic_str(const char *msg)
{
    getm(); /* a panic may be the program's first runtime call */
    die("panic: ", msg);
}

void grt_panic(const char *fmt, ...)
{
    getm();
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt ? fmt : "(nil)", ap);
    va_end(ap);
    grt__panic_str(buf);
}

/* ---------------------------------------------------------------------
 * Fatal signals
 * --------------------------------------------------------------------- */

static uint64_t uc_pc(void *ucv)
{
    ucontext_t *uc = ucv;
    if (!uc)
        return 0;
#if defined(__x86_64__)
    return (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    return (uint64_t)uc->uc_mcontext.pc;
#else
    return 0;
#endif
}

static const char *sig_name(int sig)
{
    switch (sig) {
    case SIGSEGV:
        return "SIGSEGV: segmentation violation";
    case SIGBUS:
        return "SIGBUS: bus error";
    case SIGFPE:
        return "SIGFPE: floating-point exception";
    case SIGILL:
        return "SIGILL: illegal instruction";
    case SIGQUIT:
        return "SIGQUIT: quit";
    default:
        return "signal";
    }
}

static int64_t m_id(void)
{
    struct m *mp = grt__tls_m;
    return mp ? mp->id : -1;
}

void grt__crash(int sig, siginfo_t *si, void *uc)
{
    grt__die_begin();
    char line[256];
    uint64_t pc = uc_pc(uc);
    uint64_t addr = (uint64_t)(uintptr_t)si->si_addr;
    bool panic_kind = sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE;
    if (panic_kind && grt__sym_in_libgrt(pc)) {
        put("fatal error: unexpected signal during runtime execution\n");
    } else if (sig == SIGSEGV || sig == SIGBUS) {
        if (addr < 0x1000) {
            put("panic: runtime error: invalid memory address or nil "
                "pointer dereference\n");
        } else {
            snprintf(line, sizeof line,
                     "unexpected fault address 0x%llx\nfatal error: fault\n",
                     (unsigned long long)addr);
            put(line);
        }
    } else if (sig == SIGFPE) {
        put(si->si_code == FPE_INTDIV   ? "panic: runtime error: integer "
                                          "divide by zero\n"
            : si->si_code == FPE_INTOVF ? "panic: runtime error: integer "
                                          "overflow\n"
                                        : "panic: runtime error: floating "
                                          "point error\n");
    }
    if (panic_kind) {
        /* Go: [signal SIGSEGV: segmentation violation code=0x1 addr=0x0
         * pc=0x45a1b2] */
        snprintf(line, sizeof line, "[signal %s code=0x%x addr=0x%llx "
                 "pc=0x%llx]\n", sig_name(sig), (unsigned)si->si_code,
                 (unsigned long long)addr, (unsigned long long)pc);
    } else {
        /* Go's form for a signal that is not a panic:
         * SIGILL: illegal instruction\nPC=0x.. m=0 sigcode=2 */
        snprintf(line, sizeof line, "%s\nPC=0x%llx m=%lld sigcode=%d\n",
                 sig_name(sig), (unsigned long long)pc, (long long)m_id(),
                 si->si_code);
    }
    put(line);
    traceback(uc, true);
    grt__die_end(2);
}

void grt__crash_traceback(void *uc)
{
    traceback(uc, true);
    grt__die_end(2);
}

/* SIGQUIT: every goroutine, then exit 2 (Go's). */
static void on_quit(int sig, siginfo_t *si, void *uc)
{
    grt__die_begin();
    char line[128];
    snprintf(line, sizeof line, "%s\nPC=0x%llx m=%lld sigcode=%d\n",
             sig_name(sig), (unsigned long long)uc_pc(uc),
             (long long)m_id(), si ? si->si_code : 0);
    put(line);
    if (grt__traceback_level() != TB_NONE) {
        int fd = 2;
        struct grt__fmt_sink sink = {grt__fmt_fd_write, &fd};
        put("\n");
        grt__traceback(&sink, true, uc, true);
    }
    grt__die_end(2);
}

void grt__traceback_init(void)
{
    struct sigaction old;
    if (sigaction(SIGQUIT, NULL, &old) == 0 && !(old.sa_flags & SA_SIGINFO) &&
        (old.sa_handler == SIG_DFL || old.sa_handler == SIG_IGN)) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_quit;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGQUIT, &sa, NULL);
    }
    grt__leakcheck_init();
}
