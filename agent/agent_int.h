/*
 * agent_int.h - state shared by the agent's files (agent.c, publish.c,
 * ring.c, dump.c); not seen by the runtime, which only calls the hooks in
 * agent.h.
 *
 * One agent per process: the segment mapping, pointers to its regions,
 * the channel registry and the sampler thread.  All of it is written once
 * by grt__agent_init (before the sampler starts and before any goroutine
 * other than main exists) unless a field says otherwise.
 */
#ifndef GRT_AGENT_INT_H
#define GRT_AGENT_INT_H

#include "agent.h"

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "grt/shm_abi.h"

/* Capacities (records) of the version-1 layout; GRT_AGENT_GMAX and
 * GRT_AGENT_DUMP_MB change the two big ones. */
#define AGENT_GCAP_DEFAULT (1u << 20)
#define AGENT_MCAP 4096u
#define AGENT_PCAP MAXPROCS_LIMIT
#define AGENT_CHANCAP 16384u
#define AGENT_SITECAP 16384u
#define AGENT_SAMPLES 8192u          /* 13.6 minutes at 10 Hz */
#define AGENT_DUMP_DEFAULT (32u << 20)
#define AGENT_CHUNK (64u * 1024)     /* fallocate granule of growing tables */

struct agent {
    bool on;                   /* publishing; false: everything is dummy */
    pid_t pid;                 /* creator (a forked child is not it) */
    int fd;                    /* the segment file; holds the flock */
    char *base;                /* the mapping */
    size_t size;               /* bytes mapped (= segment_size) */
    char path[PATH_MAX];       /* for unlink at exit (async-signal-safe) */
    struct grt_shm_header *hdr;
    struct grt_shm_info *info;
    struct grt_shm_request *req;
    struct grt_shm_dump *dump;
    size_t dump_size;
    struct grt_shm_sample *samples;
    struct grt_shm_g *g;
    uint32_t gcap;
    struct grt_shm_m *m;
    struct grt_shm_p *p;
    struct grt_shm_chan *chan;
    struct grt_shm_site *site;
    /* G struct of each G slot (publish.c); gtab[i] store-released before
     * the slot's first record write, read by the sampler and dumper */
    struct g **gtab;
    pthread_t thread;          /* the sampler (ring.c) */
    bool thread_started;
};

HIDDEN extern struct agent grt__agent;

/*
 * The sampler and the dumper read the runtime's structures (Ms, Ps, Gs)
 * while the scheduler changes them, by design, as grt_read_memstats does:
 * every such read is of a word of an object that is never freed, and a
 * stale value only makes one refresh stale.  Functions that do so are
 * marked AGENT_RACY, which ThreadSanitizer leaves uninstrumented, and
 * read each field once with RACY(), a volatile load (an atomic load
 * would still be instrumented, and seen racing the runtime's plain
 * stores).  AGENT_RAW also leaves out AddressSanitizer, for the unwinder's
 * reads of other goroutines' stacks.
 */
#if defined(__has_attribute)
#if __has_attribute(no_sanitize)
#define AGENT_RACY __attribute__((no_sanitize("thread")))
#define AGENT_RAW __attribute__((no_sanitize("thread", "address")))
#endif
#endif
#ifndef AGENT_RACY
#define AGENT_RACY
#define AGENT_RAW
#endif
#define RACY(x) (*(volatile __typeof__(x) *)&(x))

/* Monotonic and real-time clocks in ns. */
HIDDEN int64_t grt__agent_mono(void);
HIDDEN int64_t grt__agent_real(void);

/*
 * Make sure the bytes [off, off + len) of the segment are backed
 * (fallocate, so that a full tmpfs is an error here rather than a SIGBUS
 * on first touch).  Returns false when they cannot be.  Any thread;
 * takes no runtime lock; may make a system call.
 */
HIDDEN bool grt__agent_commit(size_t off, size_t len);

/* Print "grt: agent: ..." once per process on stderr (later calls are
 * silent).  Any thread; not async-signal-safe. */
HIDDEN void grt__agent_warn(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* publish.c: fill the records of G structs that existed before the
 * segment (goroutine 1); called by grt__agent_init once mapped. */
HIDDEN void grt__agent_publish_init(void);

/* publish.c: the sampler's refresh of M, P and channel records and of
 * some goroutines' committed stack bytes.  Sampler thread only. */
HIDDEN void grt__agent_refresh_mp(int64_t now);
HIDDEN void grt__agent_refresh_chans(int64_t now);
HIDDEN void grt__agent_refresh_stacks(void);
/* publish.c: G slots in use (high-water). */
HIDDEN uint32_t grt__agent_gcount(void);
/* publish.c: in a forked child, release the agent's locks (their holder
 * was not copied). */
HIDDEN void grt__agent_publish_atfork_child(void);
/* publish.c: counters of dropped registrations. */
HIDDEN void grt__agent_dropped(uint64_t *g, uint64_t *chan, uint64_t *site);

/* ring.c: start the sampler thread (agent on); false if it cannot. */
HIDDEN bool grt__agent_sampler_start(void);

/* dump.c: answer a posted request, if any (sampler thread).  Returns true
 * when one was answered. */
HIDDEN bool grt__agent_dump_poll(int64_t now);
/* dump.c: whether stack dumps are built in (libunwind). */
HIDDEN bool grt__agent_dump_available(void);
/* dump.c: requests answered so far. */
HIDDEN uint64_t grt__agent_dumps_answered(void);

#endif /* GRT_AGENT_INT_H */
