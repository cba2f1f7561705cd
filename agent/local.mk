# agent/local.mk - the agent (linked into libgrt) and the segment ABI
# header, installed as <grt/shm_abi.h>.  Included by the top Makefile.am
# after runtime/local.mk, whose libgrt.la it appends to.
#
# Stack dumps (and the runtime's own tracebacks, through agent/unwind.c)
# unwind other goroutines' saved contexts through libunwind's
# address-space API (unw_init_remote with our own accessors), which lives
# in libunwind-generic, not in the local-only libunwind (configure asks
# pkg-config for both; runtime/local.mk links them).

libgrt_la_SOURCES += agent/publish.c agent/ring.c agent/dump.c \
	agent/unwind.c
noinst_HEADERS += agent/agent_int.h agent/unwind.h

grtincludedir = $(includedir)/grt
grtinclude_HEADERS = include/grt/shm_abi.h

# Tests of the ABI header and of the writer (see tests/local.mk for the
# pattern; run through tests/run-p.sh like every tests/check_* program).
if HAVE_CHECK
agent_check_tests = tests/check_shm_abi tests/check_agent
check_PROGRAMS += $(agent_check_tests)
TESTS += $(agent_check_tests)
endif

tests_check_shm_abi_SOURCES = tests/check_shm_abi.c
tests_check_shm_abi_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_shm_abi_LDADD = $(CHECK_LIBS)
tests_check_agent_SOURCES = tests/check_agent.c $(tests_util)
tests_check_agent_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cli/reader
tests_check_agent_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_agent_LDADD = cli/libgrtreader.la libgrt.la $(CHECK_LIBS)
