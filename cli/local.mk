# cli/local.mk - the reader library every tool is built on (attach,
# validate, snapshot, stack dumps, symbolisation), and its tests.
# Included by the top Makefile.am; paths relative to the top of the tree.

noinst_LTLIBRARIES += cli/libgrtreader.la
noinst_HEADERS += cli/reader/reader.h cli/reader/reader_int.h \
	cli/reader/format.h cli/reader/leaks.h
cli_libgrtreader_la_SOURCES = cli/reader/attach.c cli/reader/validate.c \
	cli/reader/snapshot.c cli/reader/dump.c cli/reader/symbolize.c \
	cli/reader/format.c cli/reader/leaks.c
# The dump formatter is also the runtime's (panics, grt_dump): one shape.
libgrt_la_SOURCES += cli/reader/format.c
cli_libgrtreader_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cli/reader
cli_libgrtreader_la_CFLAGS = $(AM_CFLAGS) $(LIBDW_CFLAGS)
cli_libgrtreader_la_LIBADD = $(LIBDW_LIBS)

# Tests of the reader: check_reader (images, damage, live snapshots and
# dumps) and the fuzz target's plain driver, which runs its seeds, their
# mutations and tests/fixtures/shm (see tests/fuzz_reader.c).
if HAVE_CHECK
cli_check_tests = tests/check_reader
check_PROGRAMS += $(cli_check_tests)
TESTS += $(cli_check_tests)
endif
check_PROGRAMS += tests/fuzz_reader
TESTS += tests/fuzz_reader

cli_test_cppflags = $(AM_CPPFLAGS) -I$(top_srcdir)/cli/reader \
	-I$(top_srcdir)/tests
tests_check_reader_SOURCES = tests/check_reader.c tests/shm_image.c \
	tests/shm_image.h $(tests_util)
tests_check_reader_CPPFLAGS = $(cli_test_cppflags)
tests_check_reader_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_reader_LDADD = cli/libgrtreader.la libgrt.la $(CHECK_LIBS)
tests_fuzz_reader_SOURCES = tests/fuzz_reader.c tests/shm_image.c \
	tests/shm_image.h
tests_fuzz_reader_CPPFLAGS = $(cli_test_cppflags)
tests_fuzz_reader_LDADD = cli/libgrtreader.la
EXTRA_DIST += tests/fixtures/shm

# The libFuzzer build of the same target, by hand (needs clang with
# -fsanitize=fuzzer, from Debian's clang package):
#   make fuzz-reader && ./cli/fuzz-reader -max_total_time=600 \
#       $(srcdir)/tests/fixtures/shm
FUZZ_CC = clang
fuzz_reader_srcs = $(srcdir)/tests/fuzz_reader.c $(srcdir)/tests/shm_image.c \
	$(cli_libgrtreader_la_SOURCES:%=$(srcdir)/%)
cli/fuzz-reader: $(fuzz_reader_srcs)
	@if ! echo 'int LLVMFuzzerTestOneInput(const char*d,unsigned long n){return 0;}' | \
	    $(FUZZ_CC) -x c -fsanitize=fuzzer - -o /dev/null 2>/dev/null; then \
	    echo "fuzz-reader: $(FUZZ_CC) -fsanitize=fuzzer not available (apt-get install clang)"; \
	    exit 1; fi
	$(AM_V_CC)$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined \
	    -DGRT_LIBFUZZER -DHAVE_CONFIG_H -I$(top_builddir) \
	    -I$(top_srcdir) -I$(top_srcdir)/include -I$(top_srcdir)/cli/reader \
	    -I$(top_srcdir)/tests $(LIBDW_CFLAGS) $(fuzz_reader_srcs) \
	    $(LIBDW_LIBS) -o $@
fuzz-reader: cli/fuzz-reader
.PHONY: fuzz-reader
CLEANFILES += cli/fuzz-reader
