/*
 * harness.h - what every C benchmark program shares.
 *
 * The C twin of the Go suite's internal/harness (../shared/bench/go; see
 * WORKLOADS.md, the definition of every workload): sizes from the
 * environment, the processor count, the workload name, repeats with a
 * median, nearest-rank percentiles and the result line
 *
 *     workload=<name> impl=c metric=<metric> value=<number> unit=<unit>
 *
 * which is the only thing a program writes to stdout.  Chatter goes to
 * stderr.  A failed check prints "FAIL: ..." to stderr and exits 1.
 */
#ifndef BENCH_HARNESS_H
#define BENCH_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when QUICK=1 (small sizes) is set. */
bool bench_quick(void);

/*
 * The size parameter `name`: BENCH_<name> when set (it must be a positive
 * integer, or the program fails), else `quick` under QUICK=1, else `def`.
 */
int64_t bench_size(const char *name, int64_t def, int64_t quick);

/*
 * Set the processor count to n, or to the number of usable CPUs
 * (grt_num_cpu(), affinity mask honoured) when n <= 0; return the count
 * in force afterwards.
 */
int bench_procs(int n);

/*
 * The workload named by the program's only argument, checked against the
 * NULL-terminated list `known`; with no argument, the first known name.
 * An unknown name fails the program.  Use the macro, which adds the NULL.
 */
const char *bench_workload_list(int argc, char **argv,
                                const char *const *known);
#define bench_workload(argc, argv, ...)                                        \
    bench_workload_list((argc), (argv),                                        \
                        (const char *const[]){__VA_ARGS__, NULL})

/*
 * Print one result line on stdout.  value is written as the Go side
 * writes it: whole numbers without a fraction, |value| < 1 with four
 * significant digits (%g), anything else with two decimals.
 */
void bench_report(const char *workload, const char *metric, double value,
                  const char *unit);

/* Format value as bench_report does into buf (at least 64 bytes). */
char *bench_format(char *buf, size_t len, double value);

/* Chatter: printf-style, to stderr, with a newline added. */
void bench_logf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "FAIL: <message>" to stderr, then exit status 1. */
_Noreturn void bench_fatalf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/*
 * Run run(warm) once untimed (skipped when warm is 0), then run(size)
 * reps times; log every value to stderr and return their median.
 */
double bench_repeat(const char *workload, int64_t warm, int64_t size,
                    int64_t reps, double (*run)(int64_t size));

/*
 * The median of n values (not modified): the middle one after sorting, or
 * the mean of the two middle ones when n is even; NaN when n is 0.
 */
double bench_median(const double *vals, size_t n);

/*
 * Nearest-rank percentile p (0..100) of n ascending values:
 * sorted[ceil(p/100*n)-1], the index clamped to 0..n-1; NaN when n is 0.
 */
double bench_percentile(const double *sorted, size_t n, double p);

/* Sort n doubles ascending in place. */
void bench_sort(double *vals, size_t n);

/* The monotonic clock in nanoseconds (grt_now()). */
int64_t bench_now(void);

/* Nanoseconds since t0 divided by ops, as Go's harness.NsPer. */
double bench_ns_per(int64_t t0, int64_t ops);

/*
 * Wait, outside any timed region, until every goroutine started since
 * bench_procs() has exited (grt_num_goroutine() is back where it was);
 * fail after 10 s.  Go frees nothing, so its programs need no such step;
 * a C program calls this before it frees channels that goroutines which
 * end without a final grt_wg_done (senders, closers) may still be inside
 * a call on.
 */
void bench_quiesce(void);

/* calloc that fails the program instead of returning NULL. */
void *bench_calloc(size_t n, size_t size);

#endif /* BENCH_HARNESS_H */
