# bench/local.mk - the C side of the benchmark suite (included by the top
# Makefile.am; paths are relative to the top of the tree).
#
# One program per workload program of WORKLOADS.md, each built from its own
# file plus the shared harness, linked against libgrt, at -O2 (a CFLAGS
# given to configure or make comes later on the command line and wins).
# bench/run.sh runs them, bench/compare.sh compares them with the Go suite,
# and bench/smoke.sh (a test) checks that each one runs and prints
# well-formed result lines; it never judges a timing.

bench_programs = \
	bench/spawn_join \
	bench/spawn_100k \
	bench/pingpong \
	bench/ctxswitch_seed \
	bench/chan_mpmc \
	bench/worker_pool \
	bench/fan_in_out \
	bench/mutex_contended \
	bench/select2 \
	bench/timers_sleep \
	bench/park_mem \
	bench/preempt_latency \
	bench/tcp_echo

noinst_PROGRAMS += $(bench_programs)

bench_cppflags = $(AM_CPPFLAGS) -I$(top_srcdir)/include -I$(top_srcdir)/bench
bench_cflags = $(AM_CFLAGS) -O2
bench_ldadd = libgrt.la -lm
bench_harness = bench/harness.c bench/harness.h

bench_spawn_join_SOURCES = bench/spawn_join.c $(bench_harness)
bench_spawn_join_CPPFLAGS = $(bench_cppflags)
bench_spawn_join_CFLAGS = $(bench_cflags)
bench_spawn_join_LDADD = $(bench_ldadd)

bench_spawn_100k_SOURCES = bench/spawn_100k.c $(bench_harness)
bench_spawn_100k_CPPFLAGS = $(bench_cppflags)
bench_spawn_100k_CFLAGS = $(bench_cflags)
bench_spawn_100k_LDADD = $(bench_ldadd)

bench_pingpong_SOURCES = bench/pingpong.c $(bench_harness)
bench_pingpong_CPPFLAGS = $(bench_cppflags)
bench_pingpong_CFLAGS = $(bench_cflags)
bench_pingpong_LDADD = $(bench_ldadd)

bench_ctxswitch_seed_SOURCES = bench/ctxswitch_seed.c $(bench_harness)
bench_ctxswitch_seed_CPPFLAGS = $(bench_cppflags)
bench_ctxswitch_seed_CFLAGS = $(bench_cflags)
bench_ctxswitch_seed_LDADD = $(bench_ldadd)

bench_chan_mpmc_SOURCES = bench/chan_mpmc.c $(bench_harness)
bench_chan_mpmc_CPPFLAGS = $(bench_cppflags)
bench_chan_mpmc_CFLAGS = $(bench_cflags)
bench_chan_mpmc_LDADD = $(bench_ldadd)

bench_worker_pool_SOURCES = bench/worker_pool.c $(bench_harness)
bench_worker_pool_CPPFLAGS = $(bench_cppflags)
bench_worker_pool_CFLAGS = $(bench_cflags)
bench_worker_pool_LDADD = $(bench_ldadd)

bench_fan_in_out_SOURCES = bench/fan_in_out.c $(bench_harness)
bench_fan_in_out_CPPFLAGS = $(bench_cppflags)
bench_fan_in_out_CFLAGS = $(bench_cflags)
bench_fan_in_out_LDADD = $(bench_ldadd)

bench_mutex_contended_SOURCES = bench/mutex_contended.c $(bench_harness)
bench_mutex_contended_CPPFLAGS = $(bench_cppflags)
bench_mutex_contended_CFLAGS = $(bench_cflags)
bench_mutex_contended_LDADD = $(bench_ldadd)

bench_select2_SOURCES = bench/select2.c $(bench_harness)
bench_select2_CPPFLAGS = $(bench_cppflags)
bench_select2_CFLAGS = $(bench_cflags)
bench_select2_LDADD = $(bench_ldadd)

bench_timers_sleep_SOURCES = bench/timers_sleep.c $(bench_harness)
bench_timers_sleep_CPPFLAGS = $(bench_cppflags)
bench_timers_sleep_CFLAGS = $(bench_cflags)
bench_timers_sleep_LDADD = $(bench_ldadd)

bench_park_mem_SOURCES = bench/park_mem.c $(bench_harness)
bench_park_mem_CPPFLAGS = $(bench_cppflags)
bench_park_mem_CFLAGS = $(bench_cflags)
bench_park_mem_LDADD = $(bench_ldadd)

bench_preempt_latency_SOURCES = bench/preempt_latency.c $(bench_harness)
bench_preempt_latency_CPPFLAGS = $(bench_cppflags)
bench_preempt_latency_CFLAGS = $(bench_cflags)
bench_preempt_latency_LDADD = $(bench_ldadd)

bench_tcp_echo_SOURCES = bench/tcp_echo.c $(bench_harness)
bench_tcp_echo_CPPFLAGS = $(bench_cppflags)
bench_tcp_echo_CFLAGS = $(bench_cflags)
bench_tcp_echo_LDADD = $(bench_ldadd)

EXTRA_DIST += bench/run.sh bench/compare.sh bench/smoke.sh bench/missed-goals.md \
	bench/watching-costs.md

TESTS += bench/smoke.sh

# `make bench-quick`: the whole C suite at small sizes, from this build.
bench-quick: $(bench_programs)
	GRT_BUILD=$(abs_top_builddir) QUICK=1 $(SHELL) $(top_srcdir)/bench/run.sh
.PHONY: bench-quick

# The reader's cost on a big program (issue 5's goals; no Go twin):
# bench/agent-read.sh [N] from the build directory.
noinst_PROGRAMS += bench/agent_read
bench_agent_read_SOURCES = bench/agent_read.c
bench_agent_read_CPPFLAGS = $(bench_cppflags) -I$(top_srcdir)/cli/reader
bench_agent_read_CFLAGS = $(bench_cflags)
bench_agent_read_LDADD = cli/libgrtreader.la $(bench_ldadd)
dist_noinst_SCRIPTS += bench/agent-read.sh

# What an observer (gtop at 10 refreshes/s, or grt-exporter scraped at
# 10/s) costs the observed program: bench/observer-cost.sh (no Go twin).
dist_noinst_SCRIPTS += bench/observer-cost.sh
# A scrape of 100 programs x 10,000 goroutines (issue 8's goal):
# bench/exporter-fleet.sh [-p PROCS] [-g GOROUTINES].
dist_noinst_SCRIPTS += bench/exporter-fleet.sh

# The kernel's price of a goroutine stack (a fresh page, its page table,
# its guard), without the runtime: the floor under park_mem's create
# time.  bench/page_costs [count]; smoke.sh runs it small.
noinst_PROGRAMS += bench/page_costs
bench_page_costs_SOURCES = bench/page_costs.c
bench_page_costs_CPPFLAGS = $(bench_cppflags)
bench_page_costs_CFLAGS = $(bench_cflags)

# Not a workload either: the cross-CPU cache line latency, which
# compare.sh records before and after a run (the host's placement of the
# CPUs moves it fivefold).  bench/cpu_latency [round_trips]
noinst_PROGRAMS += bench/cpu_latency
bench_cpu_latency_SOURCES = bench/cpu_latency.c
bench_cpu_latency_CPPFLAGS = $(bench_cppflags)
bench_cpu_latency_CFLAGS = $(bench_cflags)
bench_cpu_latency_LDADD = -lpthread
