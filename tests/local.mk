# tests/local.mk - the test suite (make check).
#
# Check programs (tests/check_<module>) run through tests/run-p.sh, the
# LOG_COMPILER set in Makefile.am: each runs twice, with GRT_MAXPROCS=1 and
# =2 (GRT_TEST_PROCS="1 2 4" make check picks other counts; a run that
# skips counts as passed if another passed).  A suite refuses CK_FORK=no
# (exit 77) unless CK_RUN_CASE names one case, for gdb; see testutil.h.
# Scripts (ABI symbols, demos, benchmark smoke runs) run once.  Add a
# suite with the four lines of check_tests below and its _SOURCES line.

if HAVE_CHECK
check_tests = tests/check_chan tests/check_select tests/check_sched \
	tests/check_stack tests/check_deadlock tests/check_sync \
	tests/check_time tests/check_ctx \
	tests/check_syscall tests/check_lockthread tests/check_preempt \
	tests/check_netpoll
check_PROGRAMS += $(check_tests)
TESTS += $(check_tests)
endif

tests_cflags = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_ldadd = libgrt.la $(CHECK_LIBS)
tests_util = tests/testutil.c tests/testutil.h

tests_check_chan_SOURCES = tests/check_chan.c $(tests_util)
tests_check_chan_CFLAGS = $(tests_cflags)
tests_check_chan_LDADD = $(tests_ldadd)
tests_check_select_SOURCES = tests/check_select.c $(tests_util)
tests_check_select_CFLAGS = $(tests_cflags)
tests_check_select_LDADD = $(tests_ldadd)
tests_check_sched_SOURCES = tests/check_sched.c $(tests_util)
tests_check_sched_CFLAGS = $(tests_cflags)
tests_check_sched_LDADD = $(tests_ldadd)
tests_check_stack_SOURCES = tests/check_stack.c $(tests_util)
tests_check_stack_CFLAGS = $(tests_cflags)
tests_check_stack_LDADD = $(tests_ldadd)
tests_check_deadlock_SOURCES = tests/check_deadlock.c $(tests_util)
tests_check_deadlock_CFLAGS = $(tests_cflags)
tests_check_deadlock_LDADD = $(tests_ldadd)
tests_check_sync_SOURCES = tests/check_sync.c $(tests_util)
tests_check_sync_CFLAGS = $(tests_cflags)
tests_check_sync_LDADD = $(tests_ldadd)
tests_check_time_SOURCES = tests/check_time.c $(tests_util)
tests_check_time_CFLAGS = $(tests_cflags)
tests_check_time_LDADD = $(tests_ldadd)
tests_check_ctx_SOURCES = tests/check_ctx.c $(tests_util)
tests_check_ctx_CFLAGS = $(tests_cflags)
tests_check_ctx_LDADD = $(tests_ldadd)
tests_check_syscall_SOURCES = tests/check_syscall.c $(tests_util)
tests_check_syscall_CFLAGS = $(tests_cflags)
tests_check_syscall_LDADD = $(tests_ldadd)
tests_check_lockthread_SOURCES = tests/check_lockthread.c $(tests_util)
tests_check_lockthread_CFLAGS = $(tests_cflags)
tests_check_lockthread_LDADD = $(tests_ldadd)
tests_check_preempt_SOURCES = tests/check_preempt.c $(tests_util)
tests_check_preempt_CFLAGS = $(tests_cflags)
tests_check_preempt_LDADD = $(tests_ldadd)
tests_check_netpoll_SOURCES = tests/check_netpoll.c $(tests_util)
tests_check_netpoll_CFLAGS = $(tests_cflags)
tests_check_netpoll_LDADD = $(tests_ldadd)

TESTS += tests/abi-symbols.sh tests/errno-calls.sh
EXTRA_DIST += tests/abi-symbols.sh tests/errno-calls.sh tests/run-p.sh \
	tests/stress.sh
