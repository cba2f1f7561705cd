# cli/gdump/local.mk - gdump, the one-shot dumper (docs/gdump.1), and the
# tests of it and of the reader's leak analysis (cli/reader/leaks.c).
# Included by the top Makefile.am; paths relative to the top of the tree.

# check_leaks: the leak analysis on hand-built and live snapshots.
if HAVE_CHECK
gdump_check_tests = tests/check_leaks
check_PROGRAMS += $(gdump_check_tests)
TESTS += $(gdump_check_tests)
endif
tests_check_leaks_SOURCES = tests/check_leaks.c $(tests_util)
tests_check_leaks_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cli/reader \
	-I$(top_srcdir)/tests
tests_check_leaks_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_leaks_LDADD = cli/libgrtreader.la libgrt.la $(CHECK_LIBS)
