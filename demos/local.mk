# demos/local.mk - the seed examples of Go's concurrency, one program each.
#
# Included by the top Makefile.am (non-recursive), so paths are relative to
# the top of the tree.  The programs are built by `make` but not installed;
# `make check` runs them all with --quick through demos/run-demos.sh, which
# checks each one's exit status and one characteristic line of its output.
# The demos are user code: they see only the public header and libgrt.

noinst_PROGRAMS += \
	demos/processes demos/threads demos/goroutines demos/mn_model \
	demos/scheduling demos/stack_growth demos/producer_consumer \
	demos/goroutine_creation demos/context_switch demos/worker_pool \
	demos/fan_in_out demos/runtime_stats demos/leak_detection \
	demos/maxprocs_scaling demos/goroutine_pool \
	demos/preemption demos/blocking_io demos/lock_os_thread

# Per-program CPPFLAGS replace AM_CPPFLAGS, so carry it along.
demos_cppflags = $(AM_CPPFLAGS) -I$(top_srcdir)/include
demos_ldadd = libgrt.la

demos_processes_SOURCES = demos/processes.c
demos_processes_CPPFLAGS = $(demos_cppflags)
demos_processes_LDADD = $(demos_ldadd)

demos_threads_SOURCES = demos/threads.c
demos_threads_CPPFLAGS = $(demos_cppflags)
demos_threads_LDADD = $(demos_ldadd)

demos_goroutines_SOURCES = demos/goroutines.c
demos_goroutines_CPPFLAGS = $(demos_cppflags)
demos_goroutines_LDADD = $(demos_ldadd)

demos_mn_model_SOURCES = demos/mn_model.c
demos_mn_model_CPPFLAGS = $(demos_cppflags)
demos_mn_model_LDADD = $(demos_ldadd)

demos_scheduling_SOURCES = demos/scheduling.c
demos_scheduling_CPPFLAGS = $(demos_cppflags)
demos_scheduling_LDADD = $(demos_ldadd)

demos_stack_growth_SOURCES = demos/stack_growth.c
demos_stack_growth_CPPFLAGS = $(demos_cppflags)
demos_stack_growth_LDADD = $(demos_ldadd)

demos_producer_consumer_SOURCES = demos/producer_consumer.c
demos_producer_consumer_CPPFLAGS = $(demos_cppflags)
demos_producer_consumer_LDADD = $(demos_ldadd)

demos_goroutine_creation_SOURCES = demos/goroutine_creation.c
demos_goroutine_creation_CPPFLAGS = $(demos_cppflags)
demos_goroutine_creation_LDADD = $(demos_ldadd)

demos_context_switch_SOURCES = demos/context_switch.c
demos_context_switch_CPPFLAGS = $(demos_cppflags)
demos_context_switch_LDADD = $(demos_ldadd)

demos_worker_pool_SOURCES = demos/worker_pool.c
demos_worker_pool_CPPFLAGS = $(demos_cppflags)
demos_worker_pool_LDADD = $(demos_ldadd)

demos_fan_in_out_SOURCES = demos/fan_in_out.c
demos_fan_in_out_CPPFLAGS = $(demos_cppflags)
demos_fan_in_out_LDADD = $(demos_ldadd)

demos_runtime_stats_SOURCES = demos/runtime_stats.c
demos_runtime_stats_CPPFLAGS = $(demos_cppflags)
demos_runtime_stats_LDADD = $(demos_ldadd)

demos_leak_detection_SOURCES = demos/leak_detection.c
demos_leak_detection_CPPFLAGS = $(demos_cppflags)
demos_leak_detection_LDADD = $(demos_ldadd)

demos_maxprocs_scaling_SOURCES = demos/maxprocs_scaling.c
demos_maxprocs_scaling_CPPFLAGS = $(demos_cppflags)
demos_maxprocs_scaling_LDADD = $(demos_ldadd)

demos_goroutine_pool_SOURCES = demos/goroutine_pool.c
demos_goroutine_pool_CPPFLAGS = $(demos_cppflags)
demos_goroutine_pool_LDADD = $(demos_ldadd)

demos_preemption_SOURCES = demos/preemption.c
demos_preemption_CPPFLAGS = $(demos_cppflags)
demos_preemption_LDADD = $(demos_ldadd)

demos_blocking_io_SOURCES = demos/blocking_io.c
demos_blocking_io_CPPFLAGS = $(demos_cppflags)
demos_blocking_io_LDADD = $(demos_ldadd)

demos_lock_os_thread_SOURCES = demos/lock_os_thread.c
demos_lock_os_thread_CPPFLAGS = $(demos_cppflags)
demos_lock_os_thread_LDADD = $(demos_ldadd)

# The smoke test: every demo with --quick.  make check runs it from the top
# build directory, where it finds the programs in ./demos.
TESTS += demos/run-demos.sh
EXTRA_DIST += demos/run-demos.sh
