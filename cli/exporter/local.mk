# cli/exporter/local.mk - grt-exporter, the Prometheus exporter (issue 8),
# its man page and tests.  Included by the top Makefile.am; paths are
# relative to the top of the tree.  Built on the reader library only.

bin_PROGRAMS += cli/grt-exporter
noinst_HEADERS += cli/exporter/exporter.h
cli_grt_exporter_SOURCES = cli/exporter/main.c cli/exporter/http.c \
	cli/exporter/collect.c cli/exporter/expo.c
cli_grt_exporter_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cli/reader
cli_grt_exporter_LDADD = cli/libgrtreader.la -lm
dist_man_MANS += docs/grt-exporter.1

# Tests: a target program that parks goroutines and leaks some
# (tests/exporter_target.c); the exposition checker and HTTP client
# (tests/expo_check.c); shell tests run against the real exporter.  The Prometheus end-to-end test skips (77) only when the
# prometheus binary is missing (./dev.sh test installs it).
check_PROGRAMS += tests/exporter_target tests/expo_check
tests_expo_check_SOURCES = tests/expo_check.c
tests_exporter_target_SOURCES = tests/exporter_target.c
tests_exporter_target_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/include
tests_exporter_target_LDADD = libgrt.la
# linked statically: no libtool wrapper, so `exec -a NAME` names it
tests_exporter_target_LDFLAGS = $(AM_LDFLAGS) -static
exporter_tests = tests/exporter-format.sh tests/exporter-life.sh \
	tests/exporter-http.sh tests/exporter-prometheus.sh
TESTS += $(exporter_tests)
EXTRA_DIST += $(exporter_tests) tests/exporter-lib.sh
# the same target, idle, ended by SIGTERM (the agent's handler)
TESTS += tests/sigterm-idle.sh
EXTRA_DIST += tests/sigterm-idle.sh
