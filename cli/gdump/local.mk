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

bin_PROGRAMS += cli/gdump/gdump
cli_gdump_gdump_SOURCES = cli/gdump/main.c
cli_gdump_gdump_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cli/reader
cli_gdump_gdump_LDADD = cli/libgrtreader.la
dist_man_MANS += docs/gdump.1

# End-to-end: tests/gdump.sh runs gdump on tests/gdump_target (each state
# a test needs), checks the text against Go's traceback grammar
# (tests/go-traceback.awk, which must also accept Go's own dumps in
# tests/fixtures/go-dumps and reject those in .../bad), the formatter on
# a hand-built model against tests/fixtures/format-golden.txt, --json
# with python3, --graph with dot, and every bad input.
check_PROGRAMS += tests/gdump_target tests/fmt_model
tests_gdump_target_SOURCES = tests/gdump_target.c
tests_gdump_target_LDADD = libgrt.la
tests_fmt_model_SOURCES = tests/fmt_model.c
tests_fmt_model_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cli/reader
tests_fmt_model_LDADD = cli/libgrtreader.la
TESTS += tests/gdump.sh tests/gdump-demo.sh
EXTRA_DIST += tests/gdump.sh tests/gdump-demo.sh tests/go-traceback.awk \
	tests/fixtures/go-dumps tests/fixtures/format-golden.txt
