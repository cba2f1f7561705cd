# cli/gtop/local.mk - gtop, the live monitor (docs/gtop.1), and its tests.
# Included by the top Makefile.am; paths relative to the top of the tree.
#
# The model (no curses: model, meters, panel, views, batch output) is a
# convenience library built in every configuration, so its Check suite
# runs even without ncursesw; the program adds the thin curses layer and
# is built when configure found ncursesw (ENABLE_GTOP).

gtop_cppflags = $(AM_CPPFLAGS) -I$(top_srcdir)/cli/reader \
	-I$(top_srcdir)/cli/gtop
noinst_LTLIBRARIES += cli/gtop/libgtopmodel.la
noinst_HEADERS += cli/gtop/gtop.h
cli_gtop_libgtopmodel_la_SOURCES = cli/gtop/model.c cli/gtop/meter.c \
	cli/gtop/panel.c cli/gtop/batch.c cli/gtop/view_goroutines.c \
	cli/gtop/view_groups.c cli/gtop/view_procs.c cli/gtop/view_chans.c \
	cli/gtop/view_leaks.c cli/gtop/view_picker.c cli/gtop/view_stack.c
cli_gtop_libgtopmodel_la_CPPFLAGS = $(gtop_cppflags)
cli_gtop_libgtopmodel_la_LIBADD = cli/libgrtreader.la

if ENABLE_GTOP
bin_PROGRAMS += cli/gtop/gtop
dist_man_MANS += docs/gtop.1
endif
cli_gtop_gtop_SOURCES = cli/gtop/main.c cli/gtop/crt.c cli/gtop/header.c \
	cli/gtop/screen.c
cli_gtop_gtop_CPPFLAGS = $(gtop_cppflags)
cli_gtop_gtop_CFLAGS = $(AM_CFLAGS) $(NCURSESW_CFLAGS)
cli_gtop_gtop_LDADD = cli/gtop/libgtopmodel.la $(NCURSESW_LIBS)

# Tests: the model on synthetic snapshots (Check), batch output of a
# saved image against golden files, and the screen end to end in tmux.
check_PROGRAMS += tests/gtop_mkimage
tests_gtop_mkimage_SOURCES = tests/gtop_mkimage.c tests/gtop_image.c \
	tests/gtop_image.h tests/shm_image.c tests/shm_image.h
tests_gtop_mkimage_CPPFLAGS = $(gtop_cppflags) -I$(top_srcdir)/tests
if HAVE_CHECK
check_PROGRAMS += tests/check_gtop_model
TESTS += tests/check_gtop_model
endif
tests_check_gtop_model_SOURCES = tests/check_gtop_model.c \
	tests/gtop_image.c tests/gtop_image.h tests/shm_image.c \
	tests/shm_image.h $(tests_util)
tests_check_gtop_model_CPPFLAGS = $(gtop_cppflags) -I$(top_srcdir)/tests
tests_check_gtop_model_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_check_gtop_model_LDADD = cli/gtop/libgtopmodel.la libgrt.la \
	$(CHECK_LIBS)
if ENABLE_GTOP
TESTS += tests/gtop-batch.sh tests/gtop-tmux.sh
endif
EXTRA_DIST += tests/gtop-batch.sh tests/gtop-tmux.sh tests/golden/gtop
