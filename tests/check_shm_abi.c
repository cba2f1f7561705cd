/*
 * check_shm_abi.c - the shared-memory segment layout (grt/shm_abi.h) is
 * pinned: every offset and size a reader in another language relies on
 * (docs/shm-abi.md) is checked again here, at run time, against numbers
 * written out by hand, and the header's seqlock helpers and the G
 * record's state-word protocol are exercised with a real concurrent
 * writer.
 *
 * A layout change that breaks these numbers is an ABI change: bump
 * GRT_SHM_VERSION (and GRT_SHM_COMPAT unless it is additive), then
 * update this file and docs/shm-abi.md together.
 *
 * No runtime here: plain pthreads.
 */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "grt/shm_abi.h"

#define OFF(T, f) ((long)offsetof(struct T, f))
#define SZ(T) ((long)sizeof(struct T))

START_TEST(t_constants)
{
    ck_assert_uint_eq(GRT_SHM_MAGIC, UINT64_C(0x01004D4853545247));
    /* "GRTSHM\0\1" in memory order on a little-endian machine */
    uint64_t m = GRT_SHM_MAGIC;
    ck_assert_int_eq(memcmp(&m, "GRTSHM\0\1", 8), 0);
    ck_assert_int_eq(GRT_SHM_VERSION, 3);
    ck_assert_int_eq(GRT_SHM_COMPAT, 1);
    ck_assert_int_eq(GRT_SHM_PAGE, 4096);
    ck_assert_int_eq(GRT_SHM_T_INFO, 0);
    ck_assert_int_eq(GRT_SHM_T_REQUEST, 1);
    ck_assert_int_eq(GRT_SHM_T_DUMP, 2);
    ck_assert_int_eq(GRT_SHM_T_SAMPLES, 3);
    ck_assert_int_eq(GRT_SHM_T_G, 4);
    ck_assert_int_eq(GRT_SHM_T_M, 5);
    ck_assert_int_eq(GRT_SHM_T_P, 6);
    ck_assert_int_eq(GRT_SHM_T_CHAN, 7);
    ck_assert_int_eq(GRT_SHM_T_SITE, 8);
    ck_assert_int_eq(GRT_SHM_T_MAX, 16);
    ck_assert_int_eq(GRT_SHM_G_RUNNABLE, 1);
    ck_assert_int_eq(GRT_SHM_G_RUNNING, 2);
    ck_assert_int_eq(GRT_SHM_G_WAITING, 3);
    ck_assert_int_eq(GRT_SHM_G_SYSCALL, 4);
    ck_assert_int_eq(GRT_SHM_G_DEAD, 5);
    ck_assert_int_eq(GRT_SHM_WAIT_CHAN_RECV, 1);
    ck_assert_int_eq(GRT_SHM_WAIT_SELECT, 5);
    ck_assert_int_eq(GRT_SHM_WAIT_SLEEP, 7);
    ck_assert_int_eq(GRT_SHM_WAIT_PREEMPTED, 15);
    ck_assert_int_eq(GRT_SHM_REQ_POSTED, 2);
    ck_assert_int_eq(GRT_SHM_DUMP_ONE, 2);
    ck_assert_int_eq(GRT_SHM_DS_NOUNWIND, 4);
    ck_assert_uint_eq(GRT_SHM_G_STATUS(0x00120703u), 3);
    ck_assert_uint_eq(GRT_SHM_G_REASON(0x00120703u), 7);
    ck_assert_uint_eq(GRT_SHM_G_GEN(0x00120703u), 0x12);
}
END_TEST

START_TEST(t_header)
{
    ck_assert_int_eq(SZ(grt_shm_table), 32);
    ck_assert_int_eq(OFF(grt_shm_table, offset), 0);
    ck_assert_int_eq(OFF(grt_shm_table, stride), 8);
    ck_assert_int_eq(OFF(grt_shm_table, capacity), 12);
    ck_assert_int_eq(OFF(grt_shm_table, count), 16);
    ck_assert_int_eq(OFF(grt_shm_table, size), 24);
    ck_assert_int_eq(SZ(grt_shm_header), 4096);
    ck_assert_int_eq(OFF(grt_shm_header, magic), 0);
    ck_assert_int_eq(OFF(grt_shm_header, version), 8);
    ck_assert_int_eq(OFF(grt_shm_header, compat_version), 12);
    ck_assert_int_eq(OFF(grt_shm_header, header_size), 16);
    ck_assert_int_eq(OFF(grt_shm_header, flags), 20);
    ck_assert_int_eq(OFF(grt_shm_header, segment_size), 24);
    ck_assert_int_eq(OFF(grt_shm_header, pid), 32);
    ck_assert_int_eq(OFF(grt_shm_header, start_ticks), 40);
    ck_assert_int_eq(OFF(grt_shm_header, created_mono_ns), 48);
    ck_assert_int_eq(OFF(grt_shm_header, created_real_ns), 56);
    ck_assert_int_eq(OFF(grt_shm_header, uid), 64);
    ck_assert_int_eq(OFF(grt_shm_header, page_size), 68);
    ck_assert_int_eq(OFF(grt_shm_header, ntables), 72);
    ck_assert_int_eq(OFF(grt_shm_header, table_entry_size), 76);
    ck_assert_int_eq(OFF(grt_shm_header, heartbeat_ns), 80);
    ck_assert_int_eq(OFF(grt_shm_header, reserved0), 88);
    ck_assert_int_eq(OFF(grt_shm_header, tables), 96);
    ck_assert_int_eq(OFF(grt_shm_header, reserved), 608);
}
END_TEST

START_TEST(t_info)
{
    ck_assert_int_eq(SZ(grt_shm_info), 6384);
    ck_assert_int_eq(OFF(grt_shm_info, argc), 0);
    ck_assert_int_eq(OFF(grt_shm_info, cmdline_len), 4);
    ck_assert_int_eq(OFF(grt_shm_info, nstatus), 8);
    ck_assert_int_eq(OFF(grt_shm_info, nwait), 12);
    ck_assert_int_eq(OFF(grt_shm_info, name), 16);
    ck_assert_int_eq(OFF(grt_shm_info, exe), 80);
    ck_assert_int_eq(OFF(grt_shm_info, version), 1104);
    ck_assert_int_eq(OFF(grt_shm_info, status_name), 1136);
    ck_assert_int_eq(OFF(grt_shm_info, wait_name), 1264);
    ck_assert_int_eq(OFF(grt_shm_info, cmdline), 2288);
}
END_TEST

START_TEST(t_records)
{
    ck_assert_int_eq(SZ(grt_shm_g), 128);
    ck_assert_int_eq(OFF(grt_shm_g, state), 0);
    ck_assert_int_eq(OFF(grt_shm_g, flags), 4);
    ck_assert_int_eq(OFF(grt_shm_g, goid), 8);
    ck_assert_int_eq(OFF(grt_shm_g, wait_since), 16);
    ck_assert_int_eq(OFF(grt_shm_g, wait_obj), 24);
    ck_assert_int_eq(OFF(grt_shm_g, m_id), 32);
    ck_assert_int_eq(OFF(grt_shm_g, p_id), 36);
    ck_assert_int_eq(OFF(grt_shm_g, parent_goid), 40);
    ck_assert_int_eq(OFF(grt_shm_g, start_ns), 48);
    ck_assert_int_eq(OFF(grt_shm_g, site), 56);
    ck_assert_int_eq(OFF(grt_shm_g, stack_reserved), 64);
    ck_assert_int_eq(OFF(grt_shm_g, stack_committed), 72);
    ck_assert_int_eq(OFF(grt_shm_g, name), 80);
    ck_assert_int_eq(OFF(grt_shm_g, wait_owner), 112);
    ck_assert_int_eq(OFF(grt_shm_g, unlock_ns), 120);

    ck_assert_int_eq(SZ(grt_shm_m), 64);
    ck_assert_int_eq(OFF(grt_shm_m, seq), 0);
    ck_assert_int_eq(OFF(grt_shm_m, flags), 4);
    ck_assert_int_eq(OFF(grt_shm_m, id), 8);
    ck_assert_int_eq(OFF(grt_shm_m, tid), 16);
    ck_assert_int_eq(OFF(grt_shm_m, p_id), 20);
    ck_assert_int_eq(OFF(grt_shm_m, curg), 24);
    ck_assert_int_eq(OFF(grt_shm_m, lockedg), 32);
    ck_assert_int_eq(OFF(grt_shm_m, updated_ns), 40);

    ck_assert_int_eq(SZ(grt_shm_p), 128);
    ck_assert_int_eq(OFF(grt_shm_p, status), 4);
    ck_assert_int_eq(OFF(grt_shm_p, id), 8);
    ck_assert_int_eq(OFF(grt_shm_p, runq), 12);
    ck_assert_int_eq(OFF(grt_shm_p, m_id), 16);
    ck_assert_int_eq(OFF(grt_shm_p, runnext), 24);
    ck_assert_int_eq(OFF(grt_shm_p, ntimers), 28);
    ck_assert_int_eq(OFF(grt_shm_p, schedtick), 32);
    ck_assert_int_eq(OFF(grt_shm_p, ctxswitches), 40);
    ck_assert_int_eq(OFF(grt_shm_p, syscalls), 80);
    ck_assert_int_eq(OFF(grt_shm_p, timer0_when), 88);
    ck_assert_int_eq(OFF(grt_shm_p, updated_ns), 96);
    ck_assert_int_eq(OFF(grt_shm_p, ngfree), 104);

    ck_assert_int_eq(SZ(grt_shm_chan), 128);
    ck_assert_int_eq(OFF(grt_shm_chan, addr), 8);
    ck_assert_int_eq(OFF(grt_shm_chan, elem_size), 16);
    ck_assert_int_eq(OFF(grt_shm_chan, cap), 24);
    ck_assert_int_eq(OFF(grt_shm_chan, len), 32);
    ck_assert_int_eq(OFF(grt_shm_chan, nsend), 40);
    ck_assert_int_eq(OFF(grt_shm_chan, nrecv), 44);
    ck_assert_int_eq(OFF(grt_shm_chan, oldest_wait), 48);
    ck_assert_int_eq(OFF(grt_shm_chan, updated_ns), 56);
    ck_assert_int_eq(OFF(grt_shm_chan, name), 64);

    ck_assert_int_eq(SZ(grt_shm_site), 256);
    ck_assert_int_eq(OFF(grt_shm_site, line), 4);
    ck_assert_int_eq(OFF(grt_shm_site, fn), 8);
    ck_assert_int_eq(OFF(grt_shm_site, caller), 72);
    ck_assert_int_eq(OFF(grt_shm_site, file), 136);
}
END_TEST

START_TEST(t_samples_dumps)
{
    ck_assert_int_eq(SZ(grt_shm_sample), 512);
    ck_assert_int_eq(OFF(grt_shm_sample, index), 8);
    ck_assert_int_eq(OFF(grt_shm_sample, mono_ns), 16);
    ck_assert_int_eq(OFF(grt_shm_sample, goroutines), 32);
    ck_assert_int_eq(OFF(grt_shm_sample, maxprocs), 48);
    ck_assert_int_eq(OFF(grt_shm_sample, created), 56);
    ck_assert_int_eq(OFF(grt_shm_sample, ctxswitches), 72);
    ck_assert_int_eq(OFF(grt_shm_sample, stack_inuse), 104);
    ck_assert_int_eq(OFF(grt_shm_sample, heap_alloc), 120);
    ck_assert_int_eq(OFF(grt_shm_sample, global_runq), 152);
    ck_assert_int_eq(OFF(grt_shm_sample, states_ns), 160);
    ck_assert_int_eq(OFF(grt_shm_sample, nstate), 168);
    ck_assert_int_eq(OFF(grt_shm_sample, nwait), 200);
    ck_assert_int_eq(OFF(grt_shm_sample, dropped_g), 328);
    ck_assert_int_eq(OFF(grt_shm_sample, dumps), 352);
    ck_assert_int_eq(OFF(grt_shm_sample, tick_ns), 360);
    /* version 3 */
    ck_assert_int_eq(OFF(grt_shm_sample, mallocs), 368);
    ck_assert_int_eq(OFF(grt_shm_sample, frees), 376);
    ck_assert_int_eq(OFF(grt_shm_sample, total_alloc), 384);
    ck_assert_int_eq(OFF(grt_shm_sample, reserved), 392);

    ck_assert_int_eq(SZ(grt_shm_request), 64);
    ck_assert_int_eq(OFF(grt_shm_request, state), 0);
    ck_assert_int_eq(OFF(grt_shm_request, kind), 4);
    ck_assert_int_eq(OFF(grt_shm_request, id), 8);
    ck_assert_int_eq(OFF(grt_shm_request, goid), 16);
    ck_assert_int_eq(OFF(grt_shm_request, max_frames), 24);

    ck_assert_int_eq(SZ(grt_shm_dump), 136);
    ck_assert_int_eq(OFF(grt_shm_dump, status), 4);
    ck_assert_int_eq(OFF(grt_shm_dump, id), 8);
    ck_assert_int_eq(OFF(grt_shm_dump, used), 24);
    ck_assert_int_eq(OFF(grt_shm_dump, ngoroutines), 32);
    ck_assert_int_eq(OFF(grt_shm_dump, goroutines_off), 40);
    ck_assert_int_eq(OFF(grt_shm_dump, nframes), 48);
    ck_assert_int_eq(OFF(grt_shm_dump, frames_off), 56);
    ck_assert_int_eq(OFF(grt_shm_dump, nmodules), 64);
    ck_assert_int_eq(OFF(grt_shm_dump, modules_off), 72);
    ck_assert_int_eq(OFF(grt_shm_dump, strings_off), 80);
    ck_assert_int_eq(OFF(grt_shm_dump, strings_size), 88);
    ck_assert_int_eq(OFF(grt_shm_dump, elapsed_ns), 96);
    ck_assert_int_eq(SZ(grt_shm_dump_g), 32);
    ck_assert_int_eq(OFF(grt_shm_dump_g, first_frame), 24);
    ck_assert_int_eq(OFF(grt_shm_dump_g, nframes), 28);
    ck_assert_int_eq(SZ(grt_shm_dump_module), 40);
    ck_assert_int_eq(OFF(grt_shm_dump_module, path_off), 24);
    ck_assert_int_eq(OFF(grt_shm_dump_module, build_id_len), 36);
}
END_TEST

/* ---- the seqlock helpers under a real concurrent writer ---- */

struct rec {
    uint32_t seq, pad;
    uint64_t a, b, c; /* the writer keeps a == b == c */
};

static struct rec shared_rec __attribute__((aligned(64)));
static int stop_writer; /* atomic */

static void *seq_writer(void *arg)
{
    (void)arg;
    for (uint64_t v = 1; !__atomic_load_n(&stop_writer, __ATOMIC_RELAXED);
         v++) {
        uint32_t s = grt_shm_seq_write_begin(&shared_rec.seq);
        __atomic_store_n(&shared_rec.a, v, __ATOMIC_RELAXED);
        __atomic_store_n(&shared_rec.b, v, __ATOMIC_RELAXED);
        __atomic_store_n(&shared_rec.c, v, __ATOMIC_RELAXED);
        grt_shm_seq_write_end(&shared_rec.seq, s);
    }
    return NULL;
}

START_TEST(t_seqlock)
{
    /* empty: 0 means "never written" */
    ck_assert_uint_eq(grt_shm_seq_read_begin(&shared_rec.seq), 0);
    pthread_t th;
    __atomic_store_n(&stop_writer, 0, __ATOMIC_RELAXED);
    ck_assert_int_eq(pthread_create(&th, NULL, seq_writer, NULL), 0);
    while (__atomic_load_n(&shared_rec.seq, __ATOMIC_ACQUIRE) == 0)
        sched_yield(); /* the writer has started */
    long good = 0, retried = 0;
    for (int i = 0; i < 200000 || good < 1000; i++) {
        struct rec copy;
        uint32_t s = grt_shm_seq_read_begin(&shared_rec.seq);
        grt_shm_copy_words(&copy, &shared_rec, sizeof copy);
        if (grt_shm_seq_read_retry(&shared_rec.seq, s)) {
            retried++;
            continue;
        }
        good++;
        if (s == 0)
            continue;
        ck_assert_uint_eq(s & 1, 0);
        ck_assert_uint_eq(copy.a, copy.b);
        ck_assert_uint_eq(copy.b, copy.c);
    }
    __atomic_store_n(&stop_writer, 1, __ATOMIC_RELAXED);
    pthread_join(th, NULL);
    ck_assert_int_gt(good, 0);
    (void)retried;
    /* a writer's end never leaves 0 (wrap) */
    uint32_t z = UINT32_MAX - 1;
    uint32_t s = grt_shm_seq_write_begin(&z);
    ck_assert_uint_eq(z, UINT32_MAX);
    grt_shm_seq_write_end(&z, s);
    ck_assert_uint_ne(z, 0);
    ck_assert_uint_eq(z & 1, 0);
}
END_TEST

/* ---- the G record protocol (state word as sequence) ---- */

static struct grt_shm_g shared_g __attribute__((aligned(64)));

/* Follows the agent's rules: wait fields written only while RUNNING,
 * where (m_id, p_id) only while RUNNABLE, each with a release fence
 * before and a release store of the new state after.  Invariants a
 * consistent read must see: WAITING => wait_obj == wait_since * 3;
 * RUNNING => p_id == m_id + 1. */
static void *g_writer(void *arg)
{
    (void)arg;
    uint32_t gen = 0x10000;
    for (int64_t v = 1; !__atomic_load_n(&stop_writer, __ATOMIC_RELAXED); v++) {
        /* park */
        gen += 0x10000;
        __atomic_thread_fence(__ATOMIC_RELEASE);
        __atomic_store_n(&shared_g.wait_since, v, __ATOMIC_RELAXED);
        __atomic_store_n(&shared_g.wait_obj, (uint64_t)v * 3, __ATOMIC_RELAXED);
        __atomic_store_n(&shared_g.state,
                         gen | GRT_SHM_WAIT_CHAN_RECV << 8 | GRT_SHM_G_WAITING,
                         __ATOMIC_RELEASE);
        /* ready */
        __atomic_store_n(&shared_g.state, gen | GRT_SHM_G_RUNNABLE,
                         __ATOMIC_RELEASE);
        /* run */
        __atomic_thread_fence(__ATOMIC_RELEASE);
        __atomic_store_n(&shared_g.m_id, (int32_t)v, __ATOMIC_RELAXED);
        __atomic_store_n(&shared_g.p_id, (int32_t)v + 1, __ATOMIC_RELAXED);
        __atomic_store_n(&shared_g.state, gen | GRT_SHM_G_RUNNING,
                         __ATOMIC_RELEASE);
    }
    return NULL;
}

START_TEST(t_g_protocol)
{
    struct grt_shm_g v;
    ck_assert_int_eq(grt_shm_g_read(&shared_g, &v, sizeof v), 0);
    pthread_t th;
    __atomic_store_n(&stop_writer, 0, __ATOMIC_RELAXED);
    ck_assert_int_eq(pthread_create(&th, NULL, g_writer, NULL), 0);
    while (__atomic_load_n(&shared_g.state, __ATOMIC_ACQUIRE) == 0)
        sched_yield(); /* the writer has started */
    long ok = 0;
    for (int i = 0; i < 200000 || ok < 1000; i++) {
        int r = grt_shm_g_read(&shared_g, &v, sizeof v);
        if (r != 1)
            continue;
        ok++;
        switch (GRT_SHM_G_STATUS(v.state)) {
        case GRT_SHM_G_WAITING:
            ck_assert_uint_eq(GRT_SHM_G_REASON(v.state),
                              GRT_SHM_WAIT_CHAN_RECV);
            ck_assert_uint_eq(v.wait_obj, (uint64_t)v.wait_since * 3);
            break;
        case GRT_SHM_G_RUNNING:
            ck_assert_int_eq(v.p_id, v.m_id + 1);
            break;
        case GRT_SHM_G_RUNNABLE:
            break;
        default:
            ck_abort_msg("bad status %u", GRT_SHM_G_STATUS(v.state));
        }
    }
    __atomic_store_n(&stop_writer, 1, __ATOMIC_RELAXED);
    pthread_join(th, NULL);
    ck_assert_int_gt(ok, 0);
}
END_TEST

static Suite *shm_abi_suite(void)
{
    Suite *s = suite_create("shm_abi");
    TCase *tc = tcase_create("layout");
    tcase_add_test(tc, t_constants);
    tcase_add_test(tc, t_header);
    tcase_add_test(tc, t_info);
    tcase_add_test(tc, t_records);
    tcase_add_test(tc, t_samples_dumps);
    suite_add_tcase(s, tc);
    tc = tcase_create("seqlock");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, t_seqlock);
    tcase_add_test(tc, t_g_protocol);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(shm_abi_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
