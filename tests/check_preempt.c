/*
 * check_preempt.c - asynchronous preemption: a goroutine that runs 10 ms
 * without reaching the scheduler is interrupted (SIGURG from sysmon) and
 * made to yield, with every register restored exactly when it resumes.
 *
 * Every case runs on one processor (grt_maxprocs(1)), where a goroutine
 * spinning in a loop with no calls can only give up the processor if it
 * is preempted.  So each check is a liveness check, not a timing one:
 *
 * "starvation": three spinners never call anything; main still completes
 * its yields and sleeps (else Check's timeout fails the test), and the
 * preemption counter has moved.
 * "registers": a goroutine runs an assembly loop with every general
 * register, the flags, its red zone (the 128 bytes below the stack
 * pointer) and the vector registers (xmm0-15; ymm0-15 with AVX;
 * zmm0-31 and k0-7 with AVX-512F) holding known values, competing with a
 * spinner for the one processor.  After each call it compares what the
 * loop reads back with what it loaded.  It keeps going until several of
 * its calls have been interrupted (the spinner moved during the call,
 * which on one processor means it was preempted), so the comparisons
 * cover real preemptions.
 * "disable": inside grt_preempt_disable/enable (nested too) main spins
 * for 50 ms with a spinner waiting; the spinner does not move and the
 * counter does not change; after the last enable main is preempted again.
 * "env": a child with GRT_ASYNCPREEMPT=0 is never preempted (main resumes
 * only after the spinner ends of itself; the counter stays 0), while the
 * same child without it is.
 *
 * Preemption needs x86-64 and a runtime that is not built for
 * ThreadSanitizer (which keeps signals to itself); elsewhere only the
 * cases that need none run.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <grt.h>

#include "testutil.h"

#if defined(__x86_64__) && !defined(GRT_TSAN)
#define HAVE_PREEMPT 1
#else
#define HAVE_PREEMPT 0
#endif

#define MS INT64_C(1000000)

static uint64_t preemptions(void)
{
    grt_memstats ms;
    grt_read_memstats(&ms);
    return ms.preemptions;
}

/* ------------------------------------------------------------------ */
/* spinners: loops with no calls                                       */
/* ------------------------------------------------------------------ */

static volatile uint64_t sink;
static grt_wg spinners;

#if HAVE_PREEMPT

static int stop;          /* spinners end when set */
static uint64_t progress; /* bumped by spinners as they run */

static uint64_t ld64(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void spinner(void *arg)
{
    (void)arg;
    uint64_t x = 1;
    while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
        for (int i = 0; i < 20000; i++)
            x = x * 6364136223846793005u + 1442695040888963407u;
        sink = x;
        __atomic_store_n(&progress, ld64(&progress) + 1, __ATOMIC_RELAXED);
    }
    grt_wg_done(&spinners);
}

static void start_spinners(int n)
{
    stop = 0;
    grt_wg_add(&spinners, n);
    for (int i = 0; i < n; i++)
        grt_go(spinner, NULL);
}

static void stop_spinners(void)
{
    __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
    grt_wg_wait(&spinners);
}

/* Spin without calls into anything but the clock for ns. */
static void busy(int64_t ns)
{
    int64_t end = grt_now() + ns;
    uint64_t x = 7;
    while (grt_now() < end)
        for (int i = 0; i < 1000; i++)
            x = x * 6364136223846793005u + 1442695040888963407u;
    sink = x;
}

/* ------------------------------------------------------------------ */
/* starvation                                                          */
/* ------------------------------------------------------------------ */

START_TEST(t_starvation)
{
    grt_maxprocs(1);
    uint64_t p0 = preemptions();
    start_spinners(3);
    for (int i = 0; i < 20; i++)
        grt_yield();
    for (int i = 0; i < 10; i++)
        grt_sleep(MS);
    uint64_t p1 = preemptions();
    stop_spinners();
    fprintf(stderr, "starvation: %llu preemptions\n",
            (unsigned long long)(p1 - p0));
    ck_assert_uint_gt(p1, p0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* registers                                                           */
/* ------------------------------------------------------------------ */

/*
 * The state block, in 64-bit words:
 *   0..13  rax rbx rdx rsi rbp rdi r8 r9 r10 r11 r12 r13 r14 r15
 *   14     unused (rcx counts the loop)
 *   15     rflags
 *   16..31 the red zone, -8(%rsp) down to -128(%rsp)
 *   32..   vector registers, then (AVX-512) k0-k7 at byte 2304
 */
enum {
    W_FLAGS = 15,
    W_RED = 16,
    NRED = 16,
    VEC_OFF = 256,
    K_OFF = VEC_OFF + 32 * 64,
    STATE_BYTES = K_OFF + 8 * 8,
};
/* Flags a user program may set and read back: CF PF AF ZF SF OF. */
#define FLAGS_MASK 0x8D5u

/*
 * regs_<kind>(in, out, loops): load everything from in, count rcx down
 * from loops with instructions that leave the flags alone (lea, jrcxz,
 * jmp), then store everything into out.  loops must be >= 1.  Leaf
 * functions, so their red zone is theirs.
 */
uint64_t regs_sse(const uint64_t *in, uint64_t *out, uint64_t loops);
uint64_t regs_avx(const uint64_t *in, uint64_t *out, uint64_t loops);
uint64_t regs_avx512(const uint64_t *in, uint64_t *out, uint64_t loops);

/* clang-format off */
#define REGS_FN(name, vload, vstore, leave)                                  \
    ".text\n.p2align 4\n.globl " name "\n.type " name ",@function\n" name    \
    ":\n"                                                                    \
    "push %rbx\npush %rbp\npush %r12\npush %r13\npush %r14\npush %r15\n"     \
    "push %rsi\n"                     /* out, at (%rsp) */                   \
    "mov %rdx, %rcx\n"                                                       \
    "pushq 120(%rdi)\npopfq\n"        /* before the red zone is filled */    \
    ".irp k,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"                         \
    "mov (128+\\k*8)(%rdi), %rax\nmov %rax, -(8+\\k*8)(%rsp)\n.endr\n"       \
    vload                                                                    \
    "mov 0(%rdi), %rax\nmov 8(%rdi), %rbx\nmov 16(%rdi), %rdx\n"             \
    "mov 24(%rdi), %rsi\nmov 32(%rdi), %rbp\nmov 48(%rdi), %r8\n"            \
    "mov 56(%rdi), %r9\nmov 64(%rdi), %r10\nmov 72(%rdi), %r11\n"            \
    "mov 80(%rdi), %r12\nmov 88(%rdi), %r13\nmov 96(%rdi), %r14\n"           \
    "mov 104(%rdi), %r15\nmov 40(%rdi), %rdi\n"                              \
    "1: lea -1(%rcx), %rcx\njrcxz 2f\njmp 1b\n2:\n"                          \
    "xchg %rdi, (%rsp)\n"             /* rdi = out */                        \
    "mov %rax, 0(%rdi)\nmov %rbx, 8(%rdi)\nmov %rdx, 16(%rdi)\n"             \
    "mov %rsi, 24(%rdi)\nmov %rbp, 32(%rdi)\nmov %r8, 48(%rdi)\n"            \
    "mov %r9, 56(%rdi)\nmov %r10, 64(%rdi)\nmov %r11, 72(%rdi)\n"            \
    "mov %r12, 80(%rdi)\nmov %r13, 88(%rdi)\nmov %r14, 96(%rdi)\n"           \
    "mov %r15, 104(%rdi)\nmov (%rsp), %rax\nmov %rax, 40(%rdi)\n"            \
    ".irp k,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"                         \
    "mov -(8+\\k*8)(%rsp), %rax\nmov %rax, (128+\\k*8)(%rdi)\n.endr\n"       \
    "pushfq\npop %rax\nmov %rax, 120(%rdi)\n" /* the red zone is read */     \
    vstore                                                                   \
    "add $8, %rsp\n"                                                         \
    "pop %r15\npop %r14\npop %r13\npop %r12\npop %rbp\npop %rbx\n"           \
    leave "xor %eax, %eax\nret\n.size " name ", .-" name "\n"

#define IRP16 ".irp k,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
#define IRP32                                                                \
    ".irp k,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23," \
    "24,25,26,27,28,29,30,31\n"
#define IRP8 ".irp k,0,1,2,3,4,5,6,7\n"

__asm__(REGS_FN("regs_sse",
                IRP16 "movdqu (256+\\k*16)(%rdi), %xmm\\k\n.endr\n",
                IRP16 "movdqu %xmm\\k, (256+\\k*16)(%rdi)\n.endr\n", ""));
__asm__(REGS_FN("regs_avx",
                IRP16 "vmovdqu (256+\\k*32)(%rdi), %ymm\\k\n.endr\n",
                IRP16 "vmovdqu %ymm\\k, (256+\\k*32)(%rdi)\n.endr\n",
                "vzeroupper\n"));
__asm__(REGS_FN("regs_avx512",
                IRP32 "vmovdqu64 (256+\\k*64)(%rdi), %zmm\\k\n.endr\n"
                IRP8 "kmovw (2304+\\k*8)(%rdi), %k\\k\n.endr\n",
                IRP32 "vmovdqu64 %zmm\\k, (256+\\k*64)(%rdi)\n.endr\n"
                IRP8 "kmovw %k\\k, (2304+\\k*8)(%rdi)\n.endr\n",
                "vzeroupper\n"));

/* clang-format on */

struct kind {
    const char *name;
    uint64_t (*fn)(const uint64_t *, uint64_t *, uint64_t);
    size_t vec_bytes; /* compared from VEC_OFF */
    int kregs;        /* k0-k7, low 16 bits each */
};

static const struct kind kinds[] = {
    {"sse", regs_sse, 16 * 16, 0},
    {"avx", regs_avx, 16 * 32, 0},
    {"avx512", regs_avx512, 32 * 64, 8},
};

static bool kind_supported(int k)
{
    __builtin_cpu_init();
    switch (k) {
    case 0:
        return true;
    case 1:
        return __builtin_cpu_supports("avx");
    default:
        return __builtin_cpu_supports("avx512f");
    }
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static void fill(uint64_t *in, uint64_t seed)
{
    for (size_t i = 0; i < STATE_BYTES / 8; i++)
        in[i] = splitmix(&seed);
    /* the flags: alternately all of the mask set and none; bit 1 is
     * always 1 */
    in[W_FLAGS] = (seed & 1 ? FLAGS_MASK : 0) | 0x2;
}

/* Index of the first differing word (bytes for k-regs), or -1. */
static int compare(const struct kind *k, const uint64_t *in,
                   const uint64_t *out)
{
    for (int i = 0; i < W_RED + NRED; i++) {
        if (i == 14)
            continue;
        uint64_t a = in[i], b = out[i];
        if (i == W_FLAGS) {
            a &= FLAGS_MASK;
            b &= FLAGS_MASK;
        }
        if (a != b)
            return i;
    }
    for (size_t i = VEC_OFF / 8; i < (VEC_OFF + k->vec_bytes) / 8; i++)
        if (in[i] != out[i])
            return (int)i;
    for (int r = 0; r < k->kregs; r++) {
        size_t i = K_OFF / 8 + (size_t)r;
        if ((in[i] & 0xFFFF) != (out[i] & 0xFFFF))
            return (int)i;
    }
    return -1;
}

struct regrun {
    const struct kind *kind;
    uint64_t loops; /* per call: about 20 ms */
    int calls, interrupted, bad, first_bad_word;
    grt_chan *done;
};

/* Call until 8 calls were interrupted by the spinner running. */
static void checker(void *arg)
{
    struct regrun *r = arg;
    static uint64_t in[STATE_BYTES / 8], out[STATE_BYTES / 8];
    while (r->interrupted < 8 || r->calls < 16) {
        fill(in, (uint64_t)r->calls * 7919u + 1);
        memset(out, 0, sizeof out);
        uint64_t s0 = ld64(&progress);
        r->kind->fn(in, out, r->loops);
        uint64_t s1 = ld64(&progress);
        r->calls++;
        if (s1 != s0)
            r->interrupted++;
        int w = compare(r->kind, in, out);
        if (w >= 0 && r->bad++ == 0)
            r->first_bad_word = w;
    }
    grt_chan_send(r->done, NULL);
}

START_TEST(t_registers)
{
    const struct kind *k = &kinds[_i];
    if (!kind_supported(_i)) {
        fprintf(stderr, "registers: %s: not supported here, skipped\n",
                k->name);
        return;
    }
    grt_maxprocs(1);
    /* calibrate, alone: loops for about 20 ms per call */
    static uint64_t in[STATE_BYTES / 8], out[STATE_BYTES / 8];
    fill(in, 1);
    uint64_t loops = 1 << 20;
    int64_t took;
    for (;;) {
        int64_t t0 = grt_now();
        k->fn(in, out, loops);
        took = grt_now() - t0;
        if (took >= 5 * MS)
            break;
        loops *= 2;
    }
    ck_assert_int_eq(compare(k, in, out), -1);
    static struct regrun r;
    r = (struct regrun){
        k, loops * 20 * MS / (uint64_t)took, 0, 0, 0, -1, grt_chan_make(0, 0)};
    start_spinners(1);
    grt_go(checker, &r);
    grt_chan_recv(r.done, NULL);
    stop_spinners();
    fprintf(stderr,
            "registers: %s: %d calls, %d interrupted, %d corrupted; "
            "%llu preemptions in all\n",
            k->name, r.calls, r.interrupted, r.bad,
            (unsigned long long)preemptions());
    ck_assert_msg(r.bad == 0,
                  "%s: %d of %d calls saw corrupted state (first at word "
                  "%d)",
                  k->name, r.bad, r.calls, r.first_bad_word);
    grt_chan_free(r.done);
}
END_TEST

/* ------------------------------------------------------------------ */
/* disable                                                             */
/* ------------------------------------------------------------------ */

/* Spin until a spinner moved: only a preemption of main lets it. */
static void await_spinner(void)
{
    uint64_t s = ld64(&progress);
    uint64_t x = 3;
    while (ld64(&progress) == s)
        x = x * 6364136223846793005u + 1442695040888963407u;
    sink = x;
}

/* In a region with `depth` disables still in force: nothing moves. */
static void assert_not_preempted(const char *what)
{
    uint64_t p0 = preemptions(), s0 = ld64(&progress);
    busy(50 * MS);
    uint64_t p1 = preemptions(), s1 = ld64(&progress);
    ck_assert_msg(s1 == s0 && p1 == p0,
                  "%s: the spinner moved %llu times, %llu preemptions", what,
                  (unsigned long long)(s1 - s0), (unsigned long long)(p1 - p0));
}

START_TEST(t_disable)
{
    grt_maxprocs(1);
    start_spinners(1);
    await_spinner();

    grt_preempt_disable();
    assert_not_preempted("disabled");
    grt_preempt_enable();
    uint64_t p = preemptions();
    await_spinner();
    ck_assert_uint_gt(preemptions(), p);

    /* nested: two disables, one enable: still disabled */
    grt_preempt_disable();
    grt_preempt_disable();
    grt_preempt_enable();
    assert_not_preempted("nested");
    /* voluntary yields still let others run (and main come back) */
    uint64_t s = ld64(&progress);
    while (ld64(&progress) == s)
        grt_yield();
    assert_not_preempted("nested, after a yield");
    grt_preempt_enable();
    p = preemptions();
    await_spinner();
    ck_assert_uint_gt(preemptions(), p);

    /* an extra enable does not go below zero */
    grt_preempt_enable();
    grt_preempt_disable();
    assert_not_preempted("after an extra enable");
    grt_preempt_enable();
    await_spinner();
    stop_spinners();
}
END_TEST

#endif /* HAVE_PREEMPT */

/* ------------------------------------------------------------------ */
/* GRT_ASYNCPREEMPT=0                                                  */
/* ------------------------------------------------------------------ */

static int main_ran;   /* main resumed after its yield */
static int spin_ended; /* the spinner left its loop */

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Spin until main runs again or for limit_ns, whichever comes first. */
static void bounded_spinner(void *arg)
{
    int64_t end = mono_ns() + *(int64_t *)arg;
    uint64_t x = 1;
    while (!__atomic_load_n(&main_ran, __ATOMIC_RELAXED) && mono_ns() < end)
        for (int i = 0; i < 10000; i++)
            x = x * 6364136223846793005u + 1442695040888963407u;
    sink = x;
    __atomic_store_n(&spin_ended, 1, __ATOMIC_RELAXED);
    grt_wg_done(&spinners);
}

/*
 * main yields to a spinner on one processor and notes whether the
 * spinner had already ended when main got the processor back.  Exit
 * status: 0 as expected (want_preempt says which), 1 otherwise.
 */
static void yield_to_spinner(bool want_preempt, int64_t limit_ns)
{
    grt_maxprocs(1);
    static int64_t limit;
    limit = limit_ns;
    grt_wg_add(&spinners, 1);
    grt_go(bounded_spinner, &limit);
    grt_yield();
    int ended_first = __atomic_load_n(&spin_ended, __ATOMIC_RELAXED);
    __atomic_store_n(&main_ran, 1, __ATOMIC_RELAXED);
    grt_wg_wait(&spinners);
    uint64_t p = preemptions();
    fprintf(stderr, "spinner ended before main resumed: %d; preemptions %llu\n",
            ended_first, (unsigned long long)p);
    bool preempted = !ended_first && p > 0;
    bool never = ended_first && p == 0;
    grt_exit(want_preempt ? !preempted : !never);
}

static void child_env_off(void)
{
    setenv("GRT_ASYNCPREEMPT", "0", 1);
    yield_to_spinner(false, 200 * MS);
}

#if HAVE_PREEMPT
static void child_env_on(void)
{
    unsetenv("GRT_ASYNCPREEMPT");
    yield_to_spinner(true, 60000 * MS);
}
#endif

START_TEST(t_env_off)
{
    char err[4096];
    int status;
    tu_child(child_env_off, err, sizeof err, &status);
    tu_assert_child(status, err, 0, NULL);
#if HAVE_PREEMPT
    tu_child(child_env_on, err, sizeof err, &status);
    tu_assert_child(status, err, 0, NULL);
#endif
}
END_TEST

static Suite *preempt_suite(void)
{
    Suite *s = suite_create("preempt");
    TCase *tc;
#if HAVE_PREEMPT
    tc = tcase_create("starvation");
    tcase_add_test(tc, t_starvation);
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);

    tc = tcase_create("registers");
    tcase_add_loop_test(tc, t_registers, 0,
                        (int)(sizeof kinds / sizeof kinds[0]));
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);

    tc = tcase_create("disable");
    tcase_add_test(tc, t_disable);
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);
#else
    fprintf(stderr, "check_preempt: no asynchronous preemption in this "
                    "build (not x86-64, or ThreadSanitizer); only the "
                    "GRT_ASYNCPREEMPT=0 case runs\n");
#endif
    tc = tcase_create("env");
    tcase_add_test(tc, t_env_off);
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(preempt_suite());
}
