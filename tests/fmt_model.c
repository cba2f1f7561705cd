/*
 * fmt_model.c - prints hand-built goroutines through the one dump writer
 * (cli/reader/format.c), plain and with grt's extras, for tests/gdump.sh:
 * the output must equal tests/fixtures/format-golden.txt and parse as
 * Go's traceback grammar (tests/go-traceback.awk).  No runtime.
 */
#include "config.h"

#include "format.h"

#define MIN 60000000000LL

static const struct grt__fmt_frame main_frames[] = {
    {0x401000, "grt_sleep", 0xd0, "/src/grt/runtime/time.c", 345, NULL},
    {0x402000, "main", 0x6f, "/src/app/main.c", 88, NULL},
};
static const struct grt__fmt_frame worker_frames[] = {
    {0x403000, "grt_chan_recv", 0x1b, "/src/grt/runtime/chan.c", 150, NULL},
    {0x404000, "worker", 0x2a, "/src/app/main.c", 41, NULL},
};
static const struct grt__fmt_frame nodebug_frames[] = {
    {0x405000, "compute", 0x40, NULL, 0, "/usr/lib/libcompute.so.1"},
    {0x7f0000001234, NULL, 0, NULL, 0, NULL},
};

int main(int argc, char **argv)
{
    (void)argv;
    struct grt__fmt_g gs[] = {
        {.goid = 1, .state = "sleep", .wait_ns = 1500000, .frames = main_frames,
         .nframes = 2, .m_id = -1, .p_id = -1,
         .stack_committed = 0, .stack_reserved = 0},
        {.goid = 7, .state = "chan receive", .wait_ns = 2 * MIN + 3500000000LL,
         .frames = worker_frames, .nframes = 2, .created_fn = "main",
         .created_goid = 1, .created_file = "/src/app/main.c",
         .created_line = 80, .created_off = 0x51, .name = "worker",
         .wait_obj_kind = "chan", .wait_obj = 0x7f00deadbeef,
         .wait_obj_name = "jobs", .stack_committed = 8192,
         .stack_reserved = 16 << 20, .m_id = -1, .p_id = -1},
        {.goid = 9, .state = "running", .wait_ns = -1, .locked = true,
         .no_frames = "running on a thread: not unwound", .created_fn = "spawn",
         .created_goid = 7, .created_file = "/src/app/pool.c",
         .created_line = 12, .m_id = 3, .p_id = 1},
        {.goid = 12, .state = "syscall", .wait_ns = 61 * MIN, .locked = true,
         .frames = nodebug_frames, .nframes = 2, .created_fn = "main",
         .created_goid = 1, .created_file = NULL, .created_line = 0,
         .m_id = 2, .p_id = -1},
    };
    struct grt__fmt_sink sink = {grt__fmt_fd_write, &(int){1}};
    unsigned flags = argc > 1 ? GRT__FMT_EXTRAS : 0;
    for (size_t i = 0; i < sizeof gs / sizeof gs[0]; i++)
        grt__fmt_goroutine(&sink, &gs[i], flags);
    return 0;
}
