/*
 * reader.h - the reader library: finds grt processes of this user,
 * attaches to the shared-memory segment of one (include/grt/shm_abi.h,
 * docs/shm-abi.md), validates it, takes consistent snapshots into plain
 * structs, asks for stack dumps and symbolises their program counters.
 * Every tool (gtop, gdump, leak checks) goes through it; none parses the
 * segment itself.
 *
 * The segment is hostile input.  Every offset, stride, count and string
 * is checked before use, with overflow-checked arithmetic; a segment that
 * is truncated, corrupt, from a newer writer, of another user or
 * malicious yields an RD_E* code (rd_strerror), never a crash, a hang or
 * a read outside the mapping.  The reader never waits for the writer: a
 * record that keeps changing while it is copied is reported as torn.
 *
 * Threads: a target may be used by one thread at a time; snapshots and
 * dumps are plain heap objects, immutable after they are returned.
 */
#ifndef GRT_READER_H
#define GRT_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "grt/shm_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The newest segment version this reader knows; it accepts segments
 * whose compat_version is at most this. */
#define RD_SHM_VERSION 3

/* ---- errors ---- */

enum rd_error {
    RD_OK = 0,
    RD_ENOENT = -1,     /* no segment for that process */
    RD_EACCES = -2,     /* permission denied opening or mapping it */
    RD_EFOREIGN = -3,   /* the file or its directory belongs to another
                           user */
    RD_EINSECURE = -4,  /* directory or file fails the safety checks
                           (symbolic link, group/other writable, not a
                           regular file) */
    RD_ENOTREADY = -5,  /* magic not set yet: the writer is starting */
    RD_EBADMAGIC = -6,  /* not a grt segment */
    RD_EVERSION = -7,   /* written by a newer, incompatible grt */
    RD_ETRUNCATED = -8, /* the file is shorter than the segment claims */
    RD_ECORRUPT = -9,   /* a size, offset, count or string is invalid */
    RD_ESTALE = -10,    /* the writer is gone (exited, killed, pid reused) */
    RD_ENOMEM = -11,    /* out of memory */
    RD_ESYS = -12,      /* a system call failed (see errno) */
    RD_ETIMEDOUT = -13, /* the agent did not answer in time */
    RD_EBUSY = -14,     /* another reader's request is in progress, or
                           the file to remove is live */
    RD_ENODUMP = -15,   /* the agent cannot dump stacks (no libunwind) */
    RD_EINVAL = -16,    /* bad argument */
    RD_ENOTFOUND = -17, /* no such goroutine */
    RD_ENOSYM = -18     /* no symbolisation (built without libdw) */
};

/* A sentence for an RD_E* code ("segment from a newer grt version"). */
const char *rd_strerror(int err);

/* ---- finding processes ---- */

struct rd_proc {
    int pid;
    char name[64];           /* program name */
    char path[4096];         /* the segment file */
    uint64_t goroutines;     /* live goroutines at the last sample */
    uint64_t threads;        /* Ms */
    int64_t uptime_ns;       /* since the segment was made */
    int status;              /* RD_OK live, RD_ESTALE stale, or the error
                                that prevented reading it */
};

/*
 * The grt processes of this user: every segment file in the directories
 * the agent uses ($GRT_AGENT_DIR, /dev/shm/grt-<uid>,
 * $XDG_RUNTIME_DIR/grt), sorted by pid.  Stale and unreadable ones are
 * listed with their status.  *procs is malloc'd (rd_list_free).
 */
int rd_list(struct rd_proc **procs, size_t *n);
void rd_list_free(struct rd_proc *procs);

/* The path of pid's segment (the first directory that has it), or
 * RD_ENOENT. */
int rd_find(int pid, char *path, size_t len);

/*
 * Remove a stale segment file.  Refuses (RD_EBUSY) while its writer
 * lives, and files that fail the ownership checks.  Returns RD_OK when
 * removed.
 */
int rd_cleanup(const char *path);

/* ---- attaching ---- */

struct rd_target;

/*
 * Attach to pid's segment: open it (no symbolic links), check owner and
 * mode, map it read-only (its request page read-write) and validate the
 * header and every table.  On success *t is the target (rd_detach).
 */
int rd_attach(int pid, struct rd_target **t);
/* The same for a file by path. */
int rd_attach_path(const char *path, struct rd_target **t);
/*
 * The same for an image in memory (tests, fuzzing, saved segments): buf
 * must stay valid and unchanged until rd_detach; no liveness, no dumps.
 */
int rd_attach_mem(const void *buf, size_t len, struct rd_target **t);
void rd_detach(struct rd_target *t);

/*
 * Is the writer still there?  RD_OK if so; RD_ESTALE when it exited (the
 * EXITING flag), its pid is dead, its pid now belongs to another process
 * (start time differs) or nobody holds the segment's lock; an RD_E* code
 * if the segment changed size under us.
 */
int rd_target_check(struct rd_target *t);
int rd_target_pid(const struct rd_target *t);

/* ---- snapshots ---- */

struct rd_g {
    uint32_t slot;           /* G table slot */
    bool torn;               /* kept changing: only slot is valid */
    int status;              /* GRT_SHM_G_* */
    int wait_reason;         /* GRT_SHM_WAIT_* (when waiting) */
    int64_t goid;
    int64_t wait_since;      /* CLOCK_MONOTONIC ns; 0 */
    uint64_t wait_obj;
    int32_t m_id, p_id;      /* when running; -1 */
    int64_t parent_goid;
    int64_t start_ns;
    uint32_t site;           /* index + 1 into rd_snapshot.site; 0 */
    uint32_t flags;          /* GRT_SHM_GF_* */
    uint64_t stack_reserved;
    uint64_t stack_committed;
    char name[32];           /* NUL-terminated */
    /* segment version 2; 0 from a version-1 writer: */
    int64_t wait_owner;      /* WAITING on a mutex: the holder's goid it
                                saw when it parked; 0 unknown */
    int64_t unlock_ns;       /* WAITING on a mutex: its last unlock of
                                a mutex with waiters before it parked
                                (CLOCK_MONOTONIC ns); 0 never */
};

struct rd_m {
    int64_t id;
    int32_t tid;
    int32_t p_id;
    int64_t curg, lockedg;
    uint32_t flags;          /* GRT_SHM_MF_* */
    int64_t updated_ns;
};

struct rd_p {
    int32_t id;
    int status;              /* GRT_SHM_P_* */
    int64_t m_id;
    uint32_t runq, runnext, ntimers, ngfree;
    uint64_t schedtick, ctxswitches, steals, created, exited, preemptions,
        syscalls;
    int64_t timer0_when, updated_ns;
};

struct rd_chan {
    uint64_t addr;
    uint32_t flags;          /* GRT_SHM_CF_* */
    uint64_t elem_size, cap, len;
    uint32_t nsend, nrecv;
    int64_t oldest_wait, updated_ns;
    char name[32];
};

struct rd_site {
    int32_t line;
    char fn[64], caller[64], file[120]; /* NUL-terminated */
};

/* One sample of the ring (every field of struct grt_shm_sample). */
struct rd_sample {
    uint64_t index;
    int64_t mono_ns, real_ns;
    uint64_t goroutines, threads;
    uint32_t maxprocs, ncpu;
    uint64_t created, exited, ctxswitches, steals, preemptions, syscalls;
    uint64_t stack_inuse, stack_sys, heap_alloc, heap_sys;
    uint64_t idle_ps, spinning_ms, global_runq;
    int64_t states_ns;
    uint32_t nstate[8];
    uint32_t nwait[32];
    uint64_t dropped_g, dropped_chan, dropped_site, dumps, tick_ns;
    /* segment version 3: the objects libgrt made for the program, as
     * grt_read_memstats counts them (grt.h; docs/shm-abi.md "Objects");
     * 0 and have_objects false from an older writer */
    bool have_objects;
    uint64_t mallocs, frees, total_alloc;
};

struct rd_snapshot {
    int pid;
    uint32_t version;        /* writer's GRT_SHM_VERSION */
    uint32_t flags;          /* GRT_SHM_F_* */
    uint64_t start_ticks;
    int64_t created_mono_ns, created_real_ns;
    int64_t heartbeat_ns;    /* agent's last tick */
    int64_t taken_mono_ns;   /* our CLOCK_MONOTONIC when taken */
    char name[64];
    char exe[1024];
    char grt_version[32];
    int argc;
    char **argv;             /* argc strings, NULL-terminated */
    char status_name[8][16];
    char wait_name[32][32];
    bool have_stats;         /* stats holds the newest sample */
    struct rd_sample stats;
    struct rd_g *g;          /* live goroutines (and torn records) */
    size_t ng;
    size_t ntorn;            /* goroutine records reported torn */
    size_t ntorn_other;      /* M, P, channel and site records skipped
                                because torn (their writer stalled in the
                                middle of an update) */
    struct rd_m *m;
    size_t nm;
    struct rd_p *p;
    size_t np;
    struct rd_chan *chan;    /* registered channels (flags LIVE) */
    size_t nchan;
    struct rd_site *site;    /* creation sites; rd_g.site - 1 indexes it */
    size_t nsite;
};

/*
 * Copy the target's current state.  Never waits for the writer: a record
 * still changing after GRT_SHM_READ_TRIES attempts is reported torn.
 * *s is malloc'd (rd_snapshot_free).  Errors: RD_ENOMEM, RD_ECORRUPT (a
 * count beyond its table), RD_ETRUNCATED (the file shrank).
 */
int rd_snapshot_take(struct rd_target *t, struct rd_snapshot **s);
void rd_snapshot_free(struct rd_snapshot *s);

/* Text of a status / wait reason, from the segment ("?" if unknown). */
const char *rd_status_name(const struct rd_snapshot *s, int status);
const char *rd_wait_name(const struct rd_snapshot *s, int reason);
/* The kind of object a goroutine waiting for reason waits on ("chan",
 * "mutex", "rwmutex", "waitgroup", "cond", "fd"); NULL when the reason
 * has none (sleep, select with no case...). */
const char *rd_wait_obj_kind(int reason);
/*
 * The public call a frame of libgrt's function func stands for, for a
 * goroutine waiting for reason; NULL when it stands for none.  A channel
 * operation that blocks tail-calls grt__chan_block (runtime/chan.h), so
 * that frame is where grt_chan_send's or grt_chan_recv's was: the tools
 * show it under that name where they show the public call (a goroutine
 * whose own frames all tail-called away).
 */
const char *rd_public_call(const char *func, int reason);

/*
 * Samples since *cursor (the index of the next one wanted; 0 the first
 * time gets the oldest still kept), at most max into out.  Advances
 * *cursor; adds samples overwritten before they could be read to *lost.
 */
int rd_samples_read(struct rd_target *t, uint64_t *cursor,
                    struct rd_sample *out, size_t max, size_t *n,
                    uint64_t *lost);

/* ---- stack dumps ---- */

struct rd_dump_g {
    int64_t goid;
    int status, wait_reason;
    int64_t wait_since;
    uint32_t flags;          /* GRT_SHM_DG_* */
    const uint64_t *pcs;     /* innermost first; into rd_dump storage */
    uint32_t npcs;
};

struct rd_module {
    uint64_t bias, lo, hi;
    char *path;              /* NUL-terminated */
    unsigned char build_id[64];
    size_t build_id_len;
};

struct rd_dump {
    int status;              /* GRT_SHM_DS_* */
    uint64_t id;
    int64_t mono_ns;
    uint64_t elapsed_ns;     /* agent's time */
    struct rd_dump_g *g;
    size_t ng;
    struct rd_module *mods;
    size_t nmods;
    int pid;                 /* for symbolisation through /proc */
    uint64_t *pcs_store;     /* private: storage of every g[].pcs */
    char *strs_store;        /* private: storage of every mods[].path */
};

/*
 * Ask the agent for the stacks of goroutine goid (0: all) with at most
 * max_frames frames each (0: the agent's default, 64), and wait for the
 * answer up to timeout_ms.  *d is malloc'd (rd_dump_free).  Errors:
 * RD_EBUSY (another request pending past the timeout), RD_ETIMEDOUT,
 * RD_ESTALE (the program exited), RD_ENODUMP, RD_EACCES (attached
 * read-only), RD_ENOTFOUND (no such goroutine), RD_ECORRUPT (a bad
 * answer).  Blocks the calling thread (polls every 0.2 ms).
 */
int rd_dump_request(struct rd_target *t, int64_t goid, unsigned max_frames,
                    int timeout_ms, struct rd_dump **d);
void rd_dump_free(struct rd_dump *d);

/*
 * Parse a dump area image (validated as hostile input); for tests and
 * fuzzing.  want_id: the request id it must answer (0: any).
 */
int rd_dump_parse(const void *area, size_t size, uint64_t want_id,
                  struct rd_dump **d);

/* ---- symbolisation (libdw) ---- */

struct rd_sym;

struct rd_frame_info {
    uint64_t pc;
    const char *module;      /* path, or NULL when no module has pc */
    char func[256];          /* "" when unknown */
    uint64_t offset;         /* pc - function start */
    char file[512];          /* "" when no line information */
    int line;                /* 0 when unknown */
};

/*
 * Load the modules of dump d (ELF files, their debug information when
 * present) for symbolisation outside the target.  RD_ENOSYM when built
 * without libdw.  *s: rd_sym_close.
 */
int rd_sym_open(const struct rd_dump *d, struct rd_sym **s);
/*
 * Describe pc.  is_return: pc is a return address (every frame but the
 * innermost), so the call instruction before it is looked up.  Fills
 * what it can and returns RD_OK, or RD_ENOTFOUND when no module holds pc.
 */
int rd_sym_lookup(struct rd_sym *s, uint64_t pc, bool is_return,
                  struct rd_frame_info *out);
void rd_sym_close(struct rd_sym *s);

#ifdef __cplusplus
}
#endif

#endif /* GRT_READER_H */
