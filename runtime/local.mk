# runtime/local.mk - libgrt: the runtime (and the agent, linked into it).
lib_LTLIBRARIES += libgrt.la
include_HEADERS += include/grt.h
noinst_HEADERS += runtime/rt.h runtime/chan.h runtime/san.h agent/agent.h \
	runtime/traceback.h

libgrt_la_SOURCES = \
	runtime/proc.c runtime/lock.c runtime/stack.c runtime/chan.c \
	runtime/select.c runtime/sema.c runtime/sync.c runtime/time.c \
	runtime/ctx.c runtime/panic.c runtime/stats.c runtime/sysmon.c \
	runtime/netpoll_epoll.c runtime/preempt.c agent/agent.c
# Tracebacks, crash reports and leak checks; their frames are named with
# libdw (optional) through the reader's lookup, common/dwsym.c.
libgrt_la_SOURCES += runtime/traceback.c runtime/symtab.c runtime/leak.c \
	common/dwsym.c
# libtool's current:revision:age; keep in step with GRT_ABI_* in grt.h
libgrt_la_LDFLAGS = $(AM_LDFLAGS) -version-info 0:0:0 -no-undefined
libgrt_la_LIBADD = $(LIBUNWIND_LIBS) $(LIBDW_LIBS) -lpthread
libgrt_la_CFLAGS = $(AM_CFLAGS) $(LIBUNWIND_CFLAGS) $(LIBDW_CFLAGS)
if ARCH_X86_64
libgrt_la_SOURCES += runtime/arch/x86_64/switch.S runtime/arch/x86_64/preempt.S
endif
if ARCH_AARCH64
libgrt_la_SOURCES += runtime/arch/aarch64/switch.S
endif
