/*
 * grt/shm_abi.h - the layout of the shared-memory segment a grt program
 * publishes its live state in, version 3.  Shared by the writer (libgrt's
 * agent/) and every reader (cli/reader/); installed, so that tools outside
 * this tree can read the segment too.  The prose specification, enough to
 * write a reader in another language, is docs/shm-abi.md.
 *
 * Rules of the layout (after Linux perf's mmap page):
 *   - Only fixed-width integers and char arrays; no pointers, no bit-fields,
 *     no _Atomic.  Addresses of the writer's objects are plain uint64_t
 *     values, never dereferenced by a reader.  Little-endian only.
 *   - Everything is found through the table directory in the header, as an
 *     offset from the segment base plus a stride and a capacity.  A reader
 *     reads min(stride, sizeof what it knows) bytes of each record, so an
 *     old reader skips fields a newer writer appended.
 *   - The writer fills the whole segment, then store-releases `magic`
 *     (publish-last).  A reader load-acquires it first.
 *   - A record the writer may change while a reader reads it starts with a
 *     32-bit sequence counter (a seqlock, one writer per record):
 *
 *       writer                              reader
 *       s = seq                             do {
 *       seq = s + 1        (relaxed)            s = seq         (acquire)
 *       fence(release)                          if (s odd or 0) retry/skip
 *       fields = ...       (relaxed)            copy fields     (relaxed)
 *       seq = s + 2        (release)            fence(acquire)
 *                                           } while (seq != s && tries--)
 *
 *     A record counts only once its seq is even and non-zero.  (G
 *     records use their state word instead of a seq: see grt_shm_g.)  A reader
 *     never waits for the writer: after GRT_SHM_READ_TRIES it reports the
 *     record as torn.  A writer that died mid-write leaves seq odd for ever.
 *     grt_shm_seq_* below are those two loops.
 *   - Versioning: an additive change (a field carved from `reserved`, a
 *     field appended to a record within its stride, a new table, a new flag
 *     bit) bumps GRT_SHM_VERSION only.  Anything else also bumps
 *     GRT_SHM_COMPAT.  A reader accepts a segment when
 *     compat_version <= the version it was written for.
 *   - Reader-written words exist only in the request page (its own page);
 *     the writer treats them as hostile input.
 *
 * Every offset below is pinned by a _Static_assert and checked again by
 * tests/check_shm_abi.c.
 */
#ifndef GRT_SHM_ABI_H
#define GRT_SHM_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GRT_SHM_MAGIC UINT64_C(0x01004D4853545247) /* "GRTSHM\0\1" LE */
#define GRT_SHM_VERSION 3 /* bump on any layout change */
#define GRT_SHM_COMPAT 1  /* oldest reader version that can read this */
#define GRT_SHM_PAGE 4096 /* unit of alignment of every region */
#define GRT_SHM_READ_TRIES 64 /* seqlock retries before "torn" */

/* Header flags (GRT_SHM_F_*); a bit is never reused. */
#define GRT_SHM_F_EXITING 0x1u  /* the program is exiting; file goes away */
#define GRT_SHM_F_DUMPS 0x2u    /* the agent answers stack-dump requests */
#define GRT_SHM_F_STOPPED 0x4u  /* publishing stopped after an agent error */

/* Table directory indexes (GRT_SHM_T_*).  New tables are appended. */
enum {
    GRT_SHM_T_INFO = 0,    /* one struct grt_shm_info; immutable */
    GRT_SHM_T_REQUEST = 1, /* one struct grt_shm_request; reader-written */
    GRT_SHM_T_DUMP = 2,    /* the dump area: struct grt_shm_dump + data */
    GRT_SHM_T_SAMPLES = 3, /* ring of struct grt_shm_sample; count = head */
    GRT_SHM_T_G = 4,       /* struct grt_shm_g, one per G struct */
    GRT_SHM_T_M = 5,       /* struct grt_shm_m, one per OS thread (M) */
    GRT_SHM_T_P = 6,       /* struct grt_shm_p, one per processor */
    GRT_SHM_T_CHAN = 7,    /* struct grt_shm_chan, channels that blocked */
    GRT_SHM_T_SITE = 8,    /* struct grt_shm_site, goroutine creation sites */
    GRT_SHM_T_COUNT_V1 = 9, /* tables a version-1 writer fills; not ABI */
    GRT_SHM_T_MAX = 16      /* slots in the directory */
};

/* ---- the header ---- */

/* One directory entry: a region of the segment holding records. */
struct grt_shm_table {
    uint64_t offset;   /* from the segment base; multiple of GRT_SHM_PAGE */
    uint32_t stride;   /* bytes per record as written; >= the known size */
    uint32_t capacity; /* records the region holds; power of two for the
                          sample ring */
    uint64_t count;    /* writer: store-release; reader: load-acquire.
                          Records [0, min(count, capacity)) may be in use
                          (G, M, P, chan, site: a high-water mark; samples:
                          the ring head, samples ever written) */
    uint64_t size;     /* bytes of the region; >= capacity * stride */
};

struct grt_shm_header {        /* at offset 0; exactly one page */
    uint64_t magic;            /* GRT_SHM_MAGIC, store-released last */
    uint32_t version;          /* GRT_SHM_VERSION of the writer */
    uint32_t compat_version;   /* GRT_SHM_COMPAT of the writer */
    uint32_t header_size;      /* bytes of this struct the writer knows */
    uint32_t flags;            /* GRT_SHM_F_*; atomic */
    uint64_t segment_size;     /* bytes of the file */
    int64_t pid;               /* the writer's process id */
    uint64_t start_ticks;      /* field 22 of /proc/<pid>/stat: start time
                                  in clock ticks after boot; tells a reused
                                  pid apart */
    int64_t created_mono_ns;   /* CLOCK_MONOTONIC when the segment was made */
    int64_t created_real_ns;   /* CLOCK_REALTIME, same instant */
    uint32_t uid;              /* effective uid of the writer */
    uint32_t page_size;        /* the writer's page size */
    uint32_t ntables;          /* directory entries filled (>= 9 in v1) */
    uint32_t table_entry_size; /* sizeof(struct grt_shm_table) = 32 */
    int64_t heartbeat_ns;      /* CLOCK_MONOTONIC of the agent's last tick;
                                  atomic (relaxed) */
    uint64_t reserved0;        /* zero */
    struct grt_shm_table tables[GRT_SHM_T_MAX]; /* GRT_SHM_T_* */
    uint8_t reserved[4096 - 608]; /* zero; new fields are carved here */
};

/* ---- immutable information (GRT_SHM_T_INFO) ---- */

#define GRT_SHM_NSTATUS 8        /* status name slots */
#define GRT_SHM_NWAIT 32         /* wait reason name slots */
#define GRT_SHM_CMDLINE_MAX 4096

struct grt_shm_info {
    uint32_t argc;             /* arguments in cmdline (may be truncated) */
    uint32_t cmdline_len;      /* bytes used in cmdline */
    uint32_t nstatus;          /* status names filled */
    uint32_t nwait;            /* wait reason names filled */
    char name[64];             /* program name (basename of argv[0]) */
    char exe[1024];            /* path of the executable, at start-up */
    char version[32];          /* libgrt version, "0.1.0" */
    char status_name[GRT_SHM_NSTATUS][16];  /* "runnable", ... by status */
    char wait_name[GRT_SHM_NWAIT][32]; /* Go's text: "chan receive", ... */
    char cmdline[GRT_SHM_CMDLINE_MAX];  /* argv, each NUL-terminated */
};
/* Every char array in the segment is NUL-padded; a reader bounds it with
 * strnlen(field, sizeof field) and never trusts a NUL to be there. */

/* ---- goroutines (GRT_SHM_T_G) ---- */

/* Goroutine status, bits 0-7 of grt_shm_g.state (the runtime's gstatus). */
enum {
    GRT_SHM_G_IDLE = 0,     /* being made, or a slot never used */
    GRT_SHM_G_RUNNABLE = 1, /* in a run queue */
    GRT_SHM_G_RUNNING = 2,  /* on an M */
    GRT_SHM_G_WAITING = 3,  /* parked; see the wait reason */
    GRT_SHM_G_SYSCALL = 4,  /* in a blocking call, on its M */
    GRT_SHM_G_DEAD = 5      /* exited; the slot is free for reuse */
};

/* Wait reasons, bits 8-15 of grt_shm_g.state (the runtime's wait_reason);
 * their text is in grt_shm_info.wait_name. */
enum {
    GRT_SHM_WAIT_NONE = 0,
    GRT_SHM_WAIT_CHAN_RECV = 1,
    GRT_SHM_WAIT_CHAN_SEND = 2,
    GRT_SHM_WAIT_CHAN_RECV_NIL = 3,
    GRT_SHM_WAIT_CHAN_SEND_NIL = 4,
    GRT_SHM_WAIT_SELECT = 5,
    GRT_SHM_WAIT_SELECT_NO_CASES = 6,
    GRT_SHM_WAIT_SLEEP = 7,
    GRT_SHM_WAIT_IO = 8,
    GRT_SHM_WAIT_MUTEX_LOCK = 9,
    GRT_SHM_WAIT_RWMUTEX_RLOCK = 10,
    GRT_SHM_WAIT_RWMUTEX_LOCK = 11,
    GRT_SHM_WAIT_WAITGROUP = 12,
    GRT_SHM_WAIT_COND = 13,
    GRT_SHM_WAIT_SYSCALL = 14,
    GRT_SHM_WAIT_PREEMPTED = 15
};

#define GRT_SHM_GF_NAMED 0x1u  /* name[] holds a grt_go_named label */
#define GRT_SHM_GF_MAIN 0x2u   /* goroutine 1 (on the OS main stack) */

/* Fields of grt_shm_g.state. */
#define GRT_SHM_G_STATUS(st) ((st) & 0xffu)
#define GRT_SHM_G_REASON(st) (((st) >> 8) & 0xffu)
#define GRT_SHM_G_GEN(st) ((st) >> 16)

/*
 * One record per G struct, by the struct's allocation index (stable: G
 * structs are never freed, and a slot is reused by the goroutines that
 * later run in the same struct).  Slots whose status is DEAD or IDLE hold
 * no live goroutine.  Written by whichever thread changes the goroutine
 * (never two at once: the scheduler hands a goroutine over under locks).
 *
 * G records are not guarded by a seqlock (the scheduler writes them on
 * every switch, and two extra stores there cost too much): their state
 * word is their sequence word.  Each field belongs to the statuses in
 * which it is meaningful, and a writer changes a field only while the
 * record's status is one that does not use it, then store-releases a new
 * state word; creation fields and the wait fields are written with a new
 * generation (bits 16-31), so a state value never comes back while they
 * differ:
 *   creation fields (goid, parent_goid, start_ns, site, flags,
 *     stack_reserved, name): every live status; written while DEAD/IDLE;
 *   wait_since, wait_obj, wait reason: WAITING and SYSCALL; written while
 *     RUNNING;
 *   m_id, p_id (one aligned 8-byte word): RUNNING and SYSCALL; written
 *     while RUNNABLE (or rewritten with the same values).
 * A reader load-acquires state, copies the fields (relaxed), issues an
 * acquire fence and reloads state: if it changed, retry; if not, every
 * field meaningful in that status is consistent with it.  Fields not
 * meaningful in the status read are stale and must be ignored.
 */
struct grt_shm_g {
    uint32_t state;          /* status | reason << 8 | generation << 16;
                                0: never written */
    uint32_t flags;          /* GRT_SHM_GF_* */
    int64_t goid;            /* goroutine id; 1 is main */
    int64_t wait_since;      /* CLOCK_MONOTONIC ns it parked (about 1 ms
                                coarse) */
    uint64_t wait_obj;       /* address of the object it waits on: the
                                channel (chan send/receive, one-case
                                select), mutex, cond...; 0 if none */
    int32_t m_id;            /* M it runs on, -1 none */
    int32_t p_id;            /* P it runs on, -1 none */
    int64_t parent_goid;     /* goroutine that created it; 0 for main */
    int64_t start_ns;        /* CLOCK_MONOTONIC ns of its creation */
    uint32_t site;           /* creation site: index + 1 in GRT_SHM_T_SITE;
                                0 unknown */
    uint32_t reserved0;      /* zero */
    uint64_t stack_reserved; /* bytes of address space of its stack */
    uint64_t stack_committed; /* resident bytes of its stack, refreshed by
                                 the sampler now and then; independent of
                                 state: one atomic 8-byte load; 0 unknown */
    char name[32];           /* label, "" if none */
    /* Version 2 (carved from reserved[16]; zero in version 1): */
    int64_t wait_owner;      /* WAITING for a sync.Mutex.Lock,
                                sync.RWMutex.Lock or sync.RWMutex.RLock:
                                the goid the mutex named as its holder
                                just before the goroutine parked (for
                                RLock, the writer's), 0 unknown (readers
                                hold it, or not yet recorded).  A wait
                                field: written while RUNNING */
    int64_t unlock_ns;       /* with wait_owner (same statuses, written
                                likewise): CLOCK_MONOTONIC ns (the
                                runtime's coarse clock) of this
                                goroutine's last unlock of a mutex that
                                had waiters, before it parked; 0 never.
                                An edge "W waits for X = W.wait_owner" is
                                current while X is parked on a mutex too
                                and X.unlock_ns < W.wait_since - 10 ms
                                (docs/shm-abi.md, "Mutex owners") */
};

/* ---- threads (GRT_SHM_T_M) and processors (GRT_SHM_T_P) ---- */

#define GRT_SHM_MF_SPINNING 0x1u /* looking for work */
#define GRT_SHM_MF_BLOCKED 0x2u  /* in a blocking call */
#define GRT_SHM_MF_IDLE 0x4u     /* asleep on the idle list */
#define GRT_SHM_MF_EXITED 0x8u   /* its thread ended (locked G exited) */
#define GRT_SHM_MF_LOCKED 0x10u  /* a goroutine is locked to it */

/* One record per M, by M id; refreshed by the agent's sampler (10 Hz). */
struct grt_shm_m {
    uint32_t seq;         /* seqlock */
    uint32_t flags;       /* GRT_SHM_MF_* */
    int64_t id;           /* M id; 0 is the initial thread */
    int32_t tid;          /* OS thread id */
    int32_t p_id;         /* P it holds, -1 none */
    int64_t curg;         /* goid it runs, 0 none (scheduling or idle) */
    int64_t lockedg;      /* goid locked to it, 0 none */
    int64_t updated_ns;   /* CLOCK_MONOTONIC of this refresh */
    uint8_t reserved[16]; /* zero */
};

/* P status (the runtime's pstatus). */
enum {
    GRT_SHM_P_IDLE = 0,
    GRT_SHM_P_RUNNING = 1,
    GRT_SHM_P_SYSCALL = 2,
    GRT_SHM_P_GCSTOP = 3,
    GRT_SHM_P_DEAD = 4 /* beyond grt_maxprocs */
};

/* One record per P, by P id; refreshed by the sampler (10 Hz). */
struct grt_shm_p {
    uint32_t seq;          /* seqlock */
    uint32_t status;       /* GRT_SHM_P_* */
    int32_t id;            /* P id */
    uint32_t runq;         /* goroutines in its local run queue */
    int64_t m_id;          /* M holding it, -1 none */
    uint32_t runnext;      /* 1 if its runnext slot holds a goroutine */
    uint32_t ntimers;      /* timers in its heap */
    uint64_t schedtick;    /* scheduling rounds */
    uint64_t ctxswitches;  /* goroutines started running on it */
    uint64_t steals;       /* successful steals by it */
    uint64_t created;      /* goroutines created on it */
    uint64_t exited;       /* goroutines that exited on it */
    uint64_t preemptions;  /* asynchronous preemptions */
    uint64_t syscalls;     /* blocking calls entered */
    int64_t timer0_when;   /* CLOCK_MONOTONIC ns of its next timer, 0 */
    int64_t updated_ns;    /* CLOCK_MONOTONIC of this refresh */
    uint32_t ngfree;       /* free G structs cached */
    uint32_t reserved0;
    uint8_t reserved[16];  /* zero */
};

/* ---- channels (GRT_SHM_T_CHAN) ---- */

#define GRT_SHM_CF_LIVE 0x1u    /* the slot holds a channel */
#define GRT_SHM_CF_CLOSED 0x2u  /* closed */
#define GRT_SHM_CF_STALE 0x4u   /* its lock was busy at the last refresh:
                                   counts are from an earlier one */
#define GRT_SHM_CF_PARTIAL 0x8u /* counts are lower bounds (no longer
                                   set: the queues keep exact counts) */

/*
 * One record per channel on which some goroutine has blocked (it is
 * registered then and stays until grt_chan_free).  Refreshed by the
 * sampler; a slot is reused after its channel is freed (LIVE clear).
 * Select waiters count in nsend/nrecv of each channel of their select.
 */
struct grt_shm_chan {
    uint32_t seq;          /* seqlock */
    uint32_t flags;        /* GRT_SHM_CF_* */
    uint64_t addr;         /* the grt_chan's address (matches wait_obj) */
    uint64_t elem_size;    /* bytes per element */
    uint64_t cap;          /* buffer capacity; 0 unbuffered */
    uint64_t len;          /* buffered elements */
    uint32_t nsend;        /* goroutines blocked sending */
    uint32_t nrecv;        /* goroutines blocked receiving */
    int64_t oldest_wait;   /* CLOCK_MONOTONIC ns the longest waiter
                              parked; 0 none */
    int64_t updated_ns;    /* CLOCK_MONOTONIC of this refresh */
    char name[32];         /* grt_chan_set_name, "" */
    uint8_t reserved[32];  /* zero */
};

/* ---- creation sites (GRT_SHM_T_SITE) ---- */

/* A goroutine creation site; written once, then immutable (seq stays). */
struct grt_shm_site {
    uint32_t seq;          /* seqlock (written once) */
    int32_t line;          /* line of the grt_go call */
    char fn[64];           /* function started ("worker") */
    char caller[64];       /* function containing the grt_go call */
    char file[120];        /* file of the call; the tail if it is longer */
};

/* ---- samples (GRT_SHM_T_SAMPLES) ---- */

/*
 * A ring of periodic samples (10 per second by default).  count in the
 * directory entry is the head: samples ever written.  Sample i lives in
 * slot i & (capacity - 1) and carries index == i; a reader that finds
 * another index there has been lapped (count the gap as lost, as perf's
 * PERF_RECORD_LOST).  The newest sample (count - 1) holds the current
 * counters.
 */
struct grt_shm_sample {
    uint32_t seq;           /* seqlock */
    uint32_t flags;         /* zero */
    uint64_t index;         /* which sample this slot holds */
    int64_t mono_ns;        /* CLOCK_MONOTONIC when taken */
    int64_t real_ns;        /* CLOCK_REALTIME, same instant */
    uint64_t goroutines;    /* live goroutines (created - exited) */
    uint64_t threads;       /* Ms created (OS threads of the runtime) */
    uint32_t maxprocs;      /* grt_maxprocs */
    uint32_t ncpu;          /* CPUs usable */
    uint64_t created;       /* goroutines ever created */
    uint64_t exited;        /* goroutines ever exited */
    uint64_t ctxswitches;   /* goroutine switches */
    uint64_t steals;        /* successful work steals */
    uint64_t preemptions;   /* asynchronous preemptions */
    uint64_t syscalls;      /* blocking calls */
    uint64_t stack_inuse;   /* stack bytes committed: the sum of the
                               G records' stack_committed (not main's) */
    uint64_t stack_sys;     /* stack bytes reserved */
    uint64_t heap_alloc;    /* C heap in use (mallinfo2, ~1 s) */
    uint64_t heap_sys;      /* C heap obtained from the OS */
    uint64_t idle_ps;       /* Ps idle */
    uint64_t spinning_ms;   /* Ms spinning */
    uint64_t global_runq;   /* goroutines in the global run queue */
    int64_t states_ns;      /* CLOCK_MONOTONIC when nstate/nwait were
                               counted (may lag with many goroutines) */
    uint32_t nstate[8];     /* goroutines per status (GRT_SHM_G_*) */
    uint32_t nwait[32];     /* waiting goroutines per wait reason */
    uint64_t dropped_g;     /* G structs with no slot (table full) */
    uint64_t dropped_chan;  /* channels not registered (table full) */
    uint64_t dropped_site;  /* sites not registered (table full) */
    uint64_t dumps;         /* dump requests answered */
    uint64_t tick_ns;       /* sampler CPU time of this tick */
    /* Version 3 (carved from reserved[144]; zero in versions 1 and 2):
     * the objects libgrt made for the program, as grt_read_memstats
     * counts them (grt.h): goroutines, channels, timers, tickers,
     * contexts.  Go's MemStats Mallocs, Frees, TotalAlloc. */
    uint64_t mallocs;       /* objects ever made */
    uint64_t frees;         /* objects ever freed (at most mallocs) */
    uint64_t total_alloc;   /* bytes of the objects ever made */
    uint8_t reserved[120];  /* zero */
};

/* ---- stack dumps: request (GRT_SHM_T_REQUEST) and answer (T_DUMP) ---- */

/* Request states.  Protocol (docs/shm-abi.md, "Stack dumps"):
 *   reader: CAS state IDLE -> CLAIMED; write kind, goid, max_frames, id;
 *           store-release state = POSTED; FUTEX_WAKE (shared) on state;
 *           poll the dump header until its id == the request's id.
 *   agent:  sees POSTED; copies and checks the request; stores TAKEN;
 *           writes the dump; stores IDLE.  A CLAIMED slot left for more
 *           than a second (a reader died) is reset to IDLE. */
enum {
    GRT_SHM_REQ_IDLE = 0,
    GRT_SHM_REQ_CLAIMED = 1,
    GRT_SHM_REQ_POSTED = 2,
    GRT_SHM_REQ_TAKEN = 3
};
enum {
    GRT_SHM_DUMP_ALL = 1, /* every live goroutine */
    GRT_SHM_DUMP_ONE = 2  /* only goroutine goid */
};

struct grt_shm_request {   /* alone on its page; reader-written */
    uint32_t state;        /* GRT_SHM_REQ_*; CAS by readers */
    uint32_t kind;         /* GRT_SHM_DUMP_* */
    uint64_t id;           /* non-zero, chosen by the reader */
    int64_t goid;          /* for GRT_SHM_DUMP_ONE */
    uint32_t max_frames;   /* per goroutine; the agent caps it to 256 */
    uint32_t reserved0;
    uint8_t reserved[32];
};

/* Dump status (grt_shm_dump.status). */
enum {
    GRT_SHM_DS_NONE = 0,      /* nothing dumped yet */
    GRT_SHM_DS_OK = 1,
    GRT_SHM_DS_TRUNCATED = 2, /* the area filled up: some left out */
    GRT_SHM_DS_BADREQ = 3,    /* the request made no sense */
    GRT_SHM_DS_NOUNWIND = 4   /* built without libunwind: no frames */
};

/* Per-goroutine dump flags (grt_shm_dump_g.flags). */
#define GRT_SHM_DG_RUNNING 0x1u     /* on a CPU: no frames */
#define GRT_SHM_DG_CHANGED 0x2u     /* resumed while being unwound */
#define GRT_SHM_DG_TRUNCATED 0x4u   /* deeper than max_frames */
#define GRT_SHM_DG_UNWIND_ERR 0x8u  /* the unwinder stopped early */
#define GRT_SHM_DG_NOT_STARTED 0x10u /* created, never ran */
#define GRT_SHM_DG_CAUGHT 0x20u     /* on a CPU: frames caught by a signal
                                       to its thread */

/*
 * The dump area starts with this header; every offset in it is from the
 * start of the area and must be checked against the area's size.  The
 * whole area is one seqlock: copy what you need, then re-check seq.
 */
struct grt_shm_dump {
    uint32_t seq;            /* seqlock over the whole area */
    uint32_t status;         /* GRT_SHM_DS_* */
    uint64_t id;             /* request answered */
    int64_t mono_ns;         /* CLOCK_MONOTONIC when written */
    uint64_t used;           /* bytes of the area in use */
    uint32_t ngoroutines;    /* entries of struct grt_shm_dump_g */
    uint32_t goroutine_size; /* stride of those entries */
    uint64_t goroutines_off;
    uint32_t nframes;        /* uint64_t program counters in all */
    uint32_t reserved0;
    uint64_t frames_off;
    uint32_t nmodules;       /* entries of struct grt_shm_dump_module */
    uint32_t module_size;    /* stride of those entries */
    uint64_t modules_off;
    uint64_t strings_off;    /* module paths and build ids */
    uint64_t strings_size;
    uint64_t elapsed_ns;     /* time the agent took */
    uint8_t reserved[32];
};

struct grt_shm_dump_g {
    int64_t goid;
    uint32_t state;          /* status | wait reason << 8, when unwound */
    uint32_t flags;          /* GRT_SHM_DG_* */
    int64_t wait_since;      /* as in grt_shm_g */
    uint32_t first_frame;    /* index into the frames array */
    uint32_t nframes;        /* frames[first_frame .. +nframes): the
                                innermost first; frame 0 is where it
                                stopped, the others are return addresses */
};

struct grt_shm_dump_module {
    uint64_t bias;           /* load bias (ELF vaddr + bias = address) */
    uint64_t lo, hi;         /* [lo, hi): its executable mapping */
    uint32_t path_off;       /* in the strings area */
    uint32_t path_len;       /* bytes, no NUL */
    uint32_t build_id_off;   /* in the strings area */
    uint32_t build_id_len;   /* raw bytes; 0 unknown */
};

/* ---- pinned layout ---- */

#ifdef __cplusplus
#define GRT_SHM__ASSERT(e, msg) static_assert(e, msg)
#else
#define GRT_SHM__ASSERT(e, msg) _Static_assert(e, msg)
#endif
#define GRT_SHM__PIN(T, f, off) \
    GRT_SHM__ASSERT(offsetof(struct T, f) == (off), #T "." #f " moved")

GRT_SHM__PIN(grt_shm_table, offset, 0);
GRT_SHM__PIN(grt_shm_table, stride, 8);
GRT_SHM__PIN(grt_shm_table, capacity, 12);
GRT_SHM__PIN(grt_shm_table, count, 16);
GRT_SHM__PIN(grt_shm_table, size, 24);
GRT_SHM__ASSERT(sizeof(struct grt_shm_table) == 32, "grt_shm_table size");

GRT_SHM__PIN(grt_shm_header, magic, 0);
GRT_SHM__PIN(grt_shm_header, version, 8);
GRT_SHM__PIN(grt_shm_header, compat_version, 12);
GRT_SHM__PIN(grt_shm_header, header_size, 16);
GRT_SHM__PIN(grt_shm_header, flags, 20);
GRT_SHM__PIN(grt_shm_header, segment_size, 24);
GRT_SHM__PIN(grt_shm_header, pid, 32);
GRT_SHM__PIN(grt_shm_header, start_ticks, 40);
GRT_SHM__PIN(grt_shm_header, created_mono_ns, 48);
GRT_SHM__PIN(grt_shm_header, created_real_ns, 56);
GRT_SHM__PIN(grt_shm_header, uid, 64);
GRT_SHM__PIN(grt_shm_header, page_size, 68);
GRT_SHM__PIN(grt_shm_header, ntables, 72);
GRT_SHM__PIN(grt_shm_header, table_entry_size, 76);
GRT_SHM__PIN(grt_shm_header, heartbeat_ns, 80);
GRT_SHM__PIN(grt_shm_header, reserved0, 88);
GRT_SHM__PIN(grt_shm_header, tables, 96);
GRT_SHM__PIN(grt_shm_header, reserved, 608);
GRT_SHM__ASSERT(sizeof(struct grt_shm_header) == 4096, "grt_shm_header size");

GRT_SHM__PIN(grt_shm_info, argc, 0);
GRT_SHM__PIN(grt_shm_info, cmdline_len, 4);
GRT_SHM__PIN(grt_shm_info, nstatus, 8);
GRT_SHM__PIN(grt_shm_info, nwait, 12);
GRT_SHM__PIN(grt_shm_info, name, 16);
GRT_SHM__PIN(grt_shm_info, exe, 80);
GRT_SHM__PIN(grt_shm_info, version, 1104);
GRT_SHM__PIN(grt_shm_info, status_name, 1136);
GRT_SHM__PIN(grt_shm_info, wait_name, 1264);
GRT_SHM__PIN(grt_shm_info, cmdline, 2288);
GRT_SHM__ASSERT(sizeof(struct grt_shm_info) == 6384, "grt_shm_info size");

GRT_SHM__PIN(grt_shm_g, state, 0);
GRT_SHM__PIN(grt_shm_g, flags, 4);
GRT_SHM__PIN(grt_shm_g, goid, 8);
GRT_SHM__PIN(grt_shm_g, wait_since, 16);
GRT_SHM__PIN(grt_shm_g, wait_obj, 24);
GRT_SHM__PIN(grt_shm_g, m_id, 32);
GRT_SHM__PIN(grt_shm_g, p_id, 36);
GRT_SHM__PIN(grt_shm_g, parent_goid, 40);
GRT_SHM__PIN(grt_shm_g, start_ns, 48);
GRT_SHM__PIN(grt_shm_g, site, 56);
GRT_SHM__PIN(grt_shm_g, reserved0, 60);
GRT_SHM__PIN(grt_shm_g, stack_reserved, 64);
GRT_SHM__PIN(grt_shm_g, stack_committed, 72);
GRT_SHM__PIN(grt_shm_g, name, 80);
GRT_SHM__PIN(grt_shm_g, wait_owner, 112);
GRT_SHM__PIN(grt_shm_g, unlock_ns, 120);
GRT_SHM__ASSERT(sizeof(struct grt_shm_g) == 128, "grt_shm_g size");

GRT_SHM__PIN(grt_shm_m, seq, 0);
GRT_SHM__PIN(grt_shm_m, flags, 4);
GRT_SHM__PIN(grt_shm_m, id, 8);
GRT_SHM__PIN(grt_shm_m, tid, 16);
GRT_SHM__PIN(grt_shm_m, p_id, 20);
GRT_SHM__PIN(grt_shm_m, curg, 24);
GRT_SHM__PIN(grt_shm_m, lockedg, 32);
GRT_SHM__PIN(grt_shm_m, updated_ns, 40);
GRT_SHM__ASSERT(sizeof(struct grt_shm_m) == 64, "grt_shm_m size");

GRT_SHM__PIN(grt_shm_p, seq, 0);
GRT_SHM__PIN(grt_shm_p, status, 4);
GRT_SHM__PIN(grt_shm_p, id, 8);
GRT_SHM__PIN(grt_shm_p, runq, 12);
GRT_SHM__PIN(grt_shm_p, m_id, 16);
GRT_SHM__PIN(grt_shm_p, runnext, 24);
GRT_SHM__PIN(grt_shm_p, ntimers, 28);
GRT_SHM__PIN(grt_shm_p, schedtick, 32);
GRT_SHM__PIN(grt_shm_p, ctxswitches, 40);
GRT_SHM__PIN(grt_shm_p, steals, 48);
GRT_SHM__PIN(grt_shm_p, created, 56);
GRT_SHM__PIN(grt_shm_p, exited, 64);
GRT_SHM__PIN(grt_shm_p, preemptions, 72);
GRT_SHM__PIN(grt_shm_p, syscalls, 80);
GRT_SHM__PIN(grt_shm_p, timer0_when, 88);
GRT_SHM__PIN(grt_shm_p, updated_ns, 96);
GRT_SHM__PIN(grt_shm_p, ngfree, 104);
GRT_SHM__ASSERT(sizeof(struct grt_shm_p) == 128, "grt_shm_p size");

GRT_SHM__PIN(grt_shm_chan, seq, 0);
GRT_SHM__PIN(grt_shm_chan, flags, 4);
GRT_SHM__PIN(grt_shm_chan, addr, 8);
GRT_SHM__PIN(grt_shm_chan, elem_size, 16);
GRT_SHM__PIN(grt_shm_chan, cap, 24);
GRT_SHM__PIN(grt_shm_chan, len, 32);
GRT_SHM__PIN(grt_shm_chan, nsend, 40);
GRT_SHM__PIN(grt_shm_chan, nrecv, 44);
GRT_SHM__PIN(grt_shm_chan, oldest_wait, 48);
GRT_SHM__PIN(grt_shm_chan, updated_ns, 56);
GRT_SHM__PIN(grt_shm_chan, name, 64);
GRT_SHM__ASSERT(sizeof(struct grt_shm_chan) == 128, "grt_shm_chan size");

GRT_SHM__PIN(grt_shm_site, seq, 0);
GRT_SHM__PIN(grt_shm_site, line, 4);
GRT_SHM__PIN(grt_shm_site, fn, 8);
GRT_SHM__PIN(grt_shm_site, caller, 72);
GRT_SHM__PIN(grt_shm_site, file, 136);
GRT_SHM__ASSERT(sizeof(struct grt_shm_site) == 256, "grt_shm_site size");

GRT_SHM__PIN(grt_shm_sample, seq, 0);
GRT_SHM__PIN(grt_shm_sample, index, 8);
GRT_SHM__PIN(grt_shm_sample, mono_ns, 16);
GRT_SHM__PIN(grt_shm_sample, real_ns, 24);
GRT_SHM__PIN(grt_shm_sample, goroutines, 32);
GRT_SHM__PIN(grt_shm_sample, threads, 40);
GRT_SHM__PIN(grt_shm_sample, maxprocs, 48);
GRT_SHM__PIN(grt_shm_sample, ncpu, 52);
GRT_SHM__PIN(grt_shm_sample, created, 56);
GRT_SHM__PIN(grt_shm_sample, exited, 64);
GRT_SHM__PIN(grt_shm_sample, ctxswitches, 72);
GRT_SHM__PIN(grt_shm_sample, steals, 80);
GRT_SHM__PIN(grt_shm_sample, preemptions, 88);
GRT_SHM__PIN(grt_shm_sample, syscalls, 96);
GRT_SHM__PIN(grt_shm_sample, stack_inuse, 104);
GRT_SHM__PIN(grt_shm_sample, stack_sys, 112);
GRT_SHM__PIN(grt_shm_sample, heap_alloc, 120);
GRT_SHM__PIN(grt_shm_sample, heap_sys, 128);
GRT_SHM__PIN(grt_shm_sample, idle_ps, 136);
GRT_SHM__PIN(grt_shm_sample, spinning_ms, 144);
GRT_SHM__PIN(grt_shm_sample, global_runq, 152);
GRT_SHM__PIN(grt_shm_sample, states_ns, 160);
GRT_SHM__PIN(grt_shm_sample, nstate, 168);
GRT_SHM__PIN(grt_shm_sample, nwait, 200);
GRT_SHM__PIN(grt_shm_sample, dropped_g, 328);
GRT_SHM__PIN(grt_shm_sample, dropped_chan, 336);
GRT_SHM__PIN(grt_shm_sample, dropped_site, 344);
GRT_SHM__PIN(grt_shm_sample, dumps, 352);
GRT_SHM__PIN(grt_shm_sample, tick_ns, 360);
GRT_SHM__PIN(grt_shm_sample, mallocs, 368);
GRT_SHM__PIN(grt_shm_sample, frees, 376);
GRT_SHM__PIN(grt_shm_sample, total_alloc, 384);
GRT_SHM__PIN(grt_shm_sample, reserved, 392);
GRT_SHM__ASSERT(sizeof(struct grt_shm_sample) == 512, "grt_shm_sample size");

GRT_SHM__PIN(grt_shm_request, state, 0);
GRT_SHM__PIN(grt_shm_request, kind, 4);
GRT_SHM__PIN(grt_shm_request, id, 8);
GRT_SHM__PIN(grt_shm_request, goid, 16);
GRT_SHM__PIN(grt_shm_request, max_frames, 24);
GRT_SHM__ASSERT(sizeof(struct grt_shm_request) == 64, "grt_shm_request size");

GRT_SHM__PIN(grt_shm_dump, seq, 0);
GRT_SHM__PIN(grt_shm_dump, status, 4);
GRT_SHM__PIN(grt_shm_dump, id, 8);
GRT_SHM__PIN(grt_shm_dump, mono_ns, 16);
GRT_SHM__PIN(grt_shm_dump, used, 24);
GRT_SHM__PIN(grt_shm_dump, ngoroutines, 32);
GRT_SHM__PIN(grt_shm_dump, goroutine_size, 36);
GRT_SHM__PIN(grt_shm_dump, goroutines_off, 40);
GRT_SHM__PIN(grt_shm_dump, nframes, 48);
GRT_SHM__PIN(grt_shm_dump, frames_off, 56);
GRT_SHM__PIN(grt_shm_dump, nmodules, 64);
GRT_SHM__PIN(grt_shm_dump, module_size, 68);
GRT_SHM__PIN(grt_shm_dump, modules_off, 72);
GRT_SHM__PIN(grt_shm_dump, strings_off, 80);
GRT_SHM__PIN(grt_shm_dump, strings_size, 88);
GRT_SHM__PIN(grt_shm_dump, elapsed_ns, 96);
GRT_SHM__ASSERT(sizeof(struct grt_shm_dump) == 136, "grt_shm_dump size");

GRT_SHM__PIN(grt_shm_dump_g, goid, 0);
GRT_SHM__PIN(grt_shm_dump_g, state, 8);
GRT_SHM__PIN(grt_shm_dump_g, flags, 12);
GRT_SHM__PIN(grt_shm_dump_g, wait_since, 16);
GRT_SHM__PIN(grt_shm_dump_g, first_frame, 24);
GRT_SHM__PIN(grt_shm_dump_g, nframes, 28);
GRT_SHM__ASSERT(sizeof(struct grt_shm_dump_g) == 32, "grt_shm_dump_g size");

GRT_SHM__PIN(grt_shm_dump_module, bias, 0);
GRT_SHM__PIN(grt_shm_dump_module, lo, 8);
GRT_SHM__PIN(grt_shm_dump_module, hi, 16);
GRT_SHM__PIN(grt_shm_dump_module, path_off, 24);
GRT_SHM__PIN(grt_shm_dump_module, path_len, 28);
GRT_SHM__PIN(grt_shm_dump_module, build_id_off, 32);
GRT_SHM__PIN(grt_shm_dump_module, build_id_len, 36);
GRT_SHM__ASSERT(sizeof(struct grt_shm_dump_module) == 40,
               "grt_shm_dump_module size");

/* ---- seqlock helpers (both sides; __atomic builtins, GCC and clang) ---- */

/*
 * Writer: open a write of the record guarded by *seq (one writer per
 * record).  Returns the value grt_shm_seq_write_end must store.
 * (W1) the odd store is ordered before the field stores by the release
 * fence; pairs with (R2) in grt_shm_seq_read_retry.
 */
static inline uint32_t grt_shm_seq_write_begin(uint32_t *seq)
{
    uint32_t s = __atomic_load_n(seq, __ATOMIC_RELAXED);
    s |= 1; /* a record left odd by a crashed writer stays consistent */
    __atomic_store_n(seq, s, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE); /* (W1) */
    return s + 1;
}

/* Writer: close the write; (W2) pairs with (R1) in read_begin. */
static inline void grt_shm_seq_write_end(uint32_t *seq, uint32_t s)
{
    __atomic_store_n(seq, s ? s : 2, __ATOMIC_RELEASE); /* (W2) */
}

/*
 * Reader: the sequence value to pass to grt_shm_seq_read_retry; odd means
 * a write is in progress (copy anyway or retry), 0 means never written.
 * (R1) pairs with (W2).
 */
static inline uint32_t grt_shm_seq_read_begin(const uint32_t *seq)
{
    return __atomic_load_n(seq, __ATOMIC_ACQUIRE); /* (R1) */
}

/*
 * Reader: after copying the fields with relaxed loads, non-zero when the
 * copy may be torn (retry it).  (R2) pairs with (W1).
 */
static inline int grt_shm_seq_read_retry(const uint32_t *seq, uint32_t s)
{
    __atomic_thread_fence(__ATOMIC_ACQUIRE); /* (R2) */
    return (s & 1) || __atomic_load_n(seq, __ATOMIC_RELAXED) != s;
}

/*
 * Copy n bytes (a multiple of 8, both sides 8-byte aligned) with relaxed
 * 8-byte atomic loads and stores: the way records' fields are read and
 * written, so that a concurrent write is not a data race in C11's sense.
 */
static inline void grt_shm_copy_words(void *dst, const void *src, size_t n)
{
    uint64_t *d = (uint64_t *)dst;
    const uint64_t *s = (const uint64_t *)src;
    for (size_t i = 0; i < n / 8; i++)
        __atomic_store_n(&d[i], __atomic_load_n(&s[i], __ATOMIC_RELAXED),
                         __ATOMIC_RELAXED);
}

/*
 * Reader of a G record (see grt_shm_g): copy the first n bytes (a
 * multiple of 8, at least 8) of the record at rec into dst, consistent
 * with the state word copied with them (dst's first 4 bytes).  Returns 1
 * when consistent, 0 when the slot was never written, -1 when it kept
 * changing for GRT_SHM_READ_TRIES attempts (torn).
 */
static inline int grt_shm_g_read(const struct grt_shm_g *rec, void *dst,
                                 size_t n)
{
    for (int t = 0; t < GRT_SHM_READ_TRIES; t++) {
        uint32_t s = __atomic_load_n(&rec->state, __ATOMIC_ACQUIRE);
        if (s == 0)
            return 0;
        grt_shm_copy_words(dst, rec, n);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&rec->state, __ATOMIC_RELAXED) == s) {
            *(uint32_t *)dst = s;
            return 1;
        }
    }
    return -1;
}

#ifdef __cplusplus
}
#endif

#endif /* GRT_SHM_ABI_H */
