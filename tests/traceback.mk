# tests/traceback.mk - the runtime's own dumps and leak checks: their
# tests, and the installed Check helper <grt/check.h>.  Included by the
# top Makefile.am after tests/local.mk (whose variables it uses).
#
# The test programs are linked with -rdynamic (libtool -export-dynamic),
# so that their global functions are named by dladdr even in a build
# without libdw.

grtinclude_HEADERS += include/grt/check.h

if HAVE_CHECK
traceback_check_tests = tests/check_traceback tests/check_goleak
check_PROGRAMS += $(traceback_check_tests)
TESTS += $(traceback_check_tests)
endif

tests_check_traceback_SOURCES = tests/check_traceback.c $(tests_util)
tests_check_traceback_CFLAGS = $(tests_cflags)
tests_check_traceback_LDFLAGS = $(AM_LDFLAGS) -export-dynamic
tests_check_traceback_LDADD = $(tests_ldadd)
tests_check_goleak_SOURCES = tests/check_goleak.c $(tests_util)
tests_check_goleak_CFLAGS = $(tests_cflags)
tests_check_goleak_LDFLAGS = $(AM_LDFLAGS) -export-dynamic
tests_check_goleak_LDADD = $(tests_ldadd)

# The dumps parsed with Go's traceback grammar (tests/go-traceback.awk,
# from gdump's tests; the script skips without it).
check_PROGRAMS += tests/tb_target
tests_tb_target_SOURCES = tests/tb_target.c
tests_tb_target_LDADD = libgrt.la
TESTS += tests/traceback-grammar.sh
EXTRA_DIST += tests/traceback-grammar.sh
