/*
 * harness.c - sizes, processors, repeats, medians and result lines shared
 * by the C benchmark programs.
 *
 * Mirrors go/internal/harness/harness.go of the Go suite behaviour for
 * behaviour, so that the two suites print comparable lines: the same size
 * overrides (BENCH_<NAME>), the same median and nearest-rank percentile,
 * and the same number formatting in the result line.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grt.h>

#include "harness.h"

bool bench_quick(void)
{
    const char *q = getenv("QUICK");
    return q && strcmp(q, "1") == 0;
}

int64_t bench_size(const char *name, int64_t def, int64_t quick)
{
    char var[128];
    snprintf(var, sizeof var, "BENCH_%s", name);
    const char *s = getenv(var);
    if (s && *s) {
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno != 0 || *end != '\0' || v < 1)
            bench_fatalf("%s=\"%s\": want a positive integer", var, s);
        return (int64_t)v;
    }
    return bench_quick() ? quick : def;
}

/* goroutines alive when the program set its processors (main, ...) */
static int base_goroutines = 1;

int bench_procs(int n)
{
    base_goroutines = grt_num_goroutine();
    if (n <= 0)
        n = grt_num_cpu();
    grt_maxprocs(n);
    return grt_maxprocs(0);
}

const char *bench_workload_list(int argc, char **argv, const char *const *known)
{
    if (argc < 2)
        return known[0];
    for (const char *const *k = known; *k; k++)
        if (strcmp(argv[1], *k) == 0)
            return *k;
    char list[512] = "";
    for (const char *const *k = known; *k; k++) {
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", k == known ? "" : " ",
                 *k);
    }
    bench_fatalf("unknown workload \"%s\" (want one of [%s])", argv[1], list);
}

/*
 * Go's format(): strconv 'f' with 0 decimals for whole numbers below 1e15,
 * 'g' with 4 significant digits below 1 (C's %.4g follows the same rules:
 * trailing zeros dropped, an exponent only below 1e-4), else 'f' with 2.
 * Infinities and NaN are spelt as Go spells them.
 */
char *bench_format(char *buf, size_t len, double v)
{
    double a = fabs(v);
    if (isnan(v))
        snprintf(buf, len, "NaN");
    else if (isinf(v))
        snprintf(buf, len, "%sInf", v > 0 ? "+" : "-");
    else if (v == trunc(v) && a < 1e15)
        snprintf(buf, len, "%.0f", v);
    else if (a < 1)
        snprintf(buf, len, "%.4g", v);
    else
        snprintf(buf, len, "%.2f", v);
    return buf;
}

void bench_report(const char *workload, const char *metric, double value,
                  const char *unit)
{
    char num[64];
    printf("workload=%s impl=c metric=%s value=%s unit=%s\n", workload, metric,
           bench_format(num, sizeof num, value), unit);
    fflush(stdout);
}

void bench_logf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

_Noreturn void bench_fatalf(const char *fmt, ...)
{
    va_list ap;
    fputs("FAIL: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    exit(1);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void bench_sort(double *vals, size_t n)
{
    qsort(vals, n, sizeof *vals, cmp_double);
}

double bench_median(const double *vals, size_t n)
{
    if (n == 0)
        return NAN;
    double *s = bench_calloc(n, sizeof *s);
    memcpy(s, vals, n * sizeof *s);
    bench_sort(s, n);
    double m = (n % 2) ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    free(s);
    return m;
}

double bench_percentile(const double *sorted, size_t n, double p)
{
    if (n == 0)
        return NAN;
    double r = ceil(p / 100 * (double)n) - 1;
    size_t i = r < 0 ? 0 : r >= (double)n ? n - 1 : (size_t)r;
    return sorted[i];
}

double bench_repeat(const char *workload, int64_t warm, int64_t size,
                    int64_t reps, double (*run)(int64_t size))
{
    if (warm > 0)
        run(warm);
    double *vals = bench_calloc((size_t)reps, sizeof *vals);
    for (int64_t r = 0; r < reps; r++)
        vals[r] = run(size);
    double m = bench_median(vals, (size_t)reps);

    /* the shape of Go's "values=%.1f" on a slice: [1.0 2.0 3.0] */
    fprintf(stderr, "%s: size=%lld repeats=%lld values=[", workload,
            (long long)size, (long long)reps);
    for (int64_t r = 0; r < reps; r++)
        fprintf(stderr, "%s%.1f", r ? " " : "", vals[r]);
    fprintf(stderr, "] median=%.1f\n", m);
    free(vals);
    return m;
}

int64_t bench_now(void)
{
    return grt_now();
}

double bench_ns_per(int64_t t0, int64_t ops)
{
    int64_t t1 = grt_now();
    return (double)(t1 - t0) / (double)ops;
}

void bench_quiesce(void)
{
    int64_t deadline = grt_now() + INT64_C(10000000000);
    for (int i = 0; grt_num_goroutine() > base_goroutines; i++) {
        if (grt_now() > deadline)
            bench_fatalf("%d goroutines still alive after 10 s (want %d)",
                         grt_num_goroutine(), base_goroutines);
        if (i < 1000)
            grt_yield();
        else
            grt_sleep(100000);
    }
}

void *bench_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        bench_fatalf("out of memory (%zu x %zu bytes)", n, size);
    return p;
}
