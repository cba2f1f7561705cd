/*
 * grt.h - Go's concurrency for C: goroutines, channels, select, sync, timers.
 *
 * The one installed header of libgrt (pkg-config name `grt`, link -lgrt).
 * C11, Linux, x86-64 first class, aarch64 builds.  Sections follow
 * docs/API.md (the contract): start-up and goroutines, channels, time,
 * cancellation, synchronisation, statistics, dumps and leak checks.  Every call behaves as its Go
 * counterpart unless its comment says otherwise.
 *
 * A program needs no special main(): the first call into the runtime starts
 * it, and the calling thread's flow becomes goroutine 1.  Returning from
 * main() (or grt_exit) ends the process whatever goroutines remain, as Go.
 */
#ifndef GRT_H
#define GRT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GRT_API __attribute__((visibility("default")))

/* Library version; the libtool current:revision:age triple lives beside it. */
#define GRT_VERSION_MAJOR 0
#define GRT_VERSION_MINOR 1
#define GRT_VERSION_PATCH 0
#define GRT_ABI_CURRENT 0
#define GRT_ABI_REVISION 0
#define GRT_ABI_AGE 0

/* ------------------------------------------------------------------------
 * Start-up and goroutines
 * ------------------------------------------------------------------------ */

/*
 * Start a goroutine running fn(arg), as Go's `go fn(arg)`.  Returns its id
 * (ids start at 1, goroutine 1 is main, and are never reused).  Never
 * blocks; the new goroutine goes to the caller's processor and usually runs
 * before any goroutine queued earlier elsewhere (Go's runnext).  fn_name,
 * file, line and caller record the creation site shown by gtop and gdump;
 * use the grt_go() macro, which fills them in.
 */
GRT_API int64_t grt_go_at(void (*fn)(void *), void *arg, const char *fn_name,
                          const char *file, int line, const char *caller);
GRT_API int64_t grt_go(void (*fn)(void *), void *arg);
#define grt_go(fn, arg) \
    grt_go_at((fn), (arg), #fn, __FILE__, __LINE__, __func__)

/*
 * As grt_go, with a label (copied, at most 31 bytes kept) that gtop and
 * gdump show next to the goroutine.
 */
GRT_API int64_t grt_go_named_at(const char *name, void (*fn)(void *),
                                void *arg, const char *fn_name,
                                const char *file, int line,
                                const char *caller);
GRT_API int64_t grt_go_named(const char *name, void (*fn)(void *), void *arg);
#define grt_go_named(name, fn, arg) \
    grt_go_named_at((name), (fn), (arg), #fn, __FILE__, __LINE__, __func__)

/* The calling goroutine's id. */
GRT_API int64_t grt_self(void);

/* Let other goroutines run (runtime.Gosched); the caller stays runnable. */
GRT_API void grt_yield(void);

/*
 * End the calling goroutine (runtime.Goexit).  Called by main, the program
 * goes on running the other goroutines and, when none is left, dies with
 * "fatal error: no goroutines (main called runtime.Goexit) - deadlock!".
 */
GRT_API _Noreturn void grt_goexit(void);

/* End the process at once with status code (os.Exit); no deferred work. */
GRT_API _Noreturn void grt_exit(int code);

/*
 * Print "panic: <message>" and the traceback GRT_TRACEBACK selects to
 * stderr, then exit with status 2 (Go's panic without recover).
 */
GRT_API _Noreturn void grt_panic(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/*
 * runtime.GOMAXPROCS: set the number of processors to n (clamped to
 * 1..1024) and return the previous value; n <= 0 only queries.  May be
 * called at any time from any goroutine.
 */
GRT_API int grt_maxprocs(int n);

/* runtime.NumCPU: CPUs in the calling thread's affinity mask at start-up. */
GRT_API int grt_num_cpu(void);

/* runtime.NumGoroutine: goroutines that exist now (not yet exited). */
GRT_API int grt_num_goroutine(void);

/*
 * runtime.LockOSThread: until a matching unlock, the calling goroutine
 * runs only on its current OS thread and no other goroutine runs there.
 * Calls nest (as Go's).  A goroutine that exits locked takes its thread
 * with it.
 */
GRT_API void grt_lock_os_thread(void);
GRT_API void grt_unlock_os_thread(void);

/*
 * A goroutine that runs 10 ms without reaching the scheduler is
 * preempted asynchronously (a signal makes it yield at a safe point in
 * its own code) and may then resume on another thread.  These bracket a
 * region where that must not happen (for instance one that holds the
 * address of a thread-local variable); they nest.  GRT_ASYNCPREEMPT=0
 * turns asynchronous preemption off for the whole program.
 */
GRT_API void grt_preempt_disable(void);
GRT_API void grt_preempt_enable(void);

/* ------------------------------------------------------------------------
 * Channels
 * ------------------------------------------------------------------------ */

typedef struct grt_chan grt_chan;

/*
 * A channel of elements of elem_size bytes (0 is Go's chan struct{}) with a
 * buffer of cap elements (0: unbuffered).  Never returns NULL: out of
 * memory is a fatal error.
 */
GRT_API grt_chan *grt_chan_make(size_t elem_size, size_t cap);

/*
 * Send *elem (copied; may be NULL when elem_size is 0).  Blocks until a
 * receiver takes it or buffer space frees up.  On a NULL channel blocks
 * forever.  panic: send on closed channel.
 */
GRT_API void grt_chan_send(grt_chan *c, const void *elem);

/*
 * Receive into *out (may be NULL to discard).  Returns true with a value,
 * false when the channel is closed and drained (then *out is zeroed).
 * Blocks while the channel is empty and open; forever on a NULL channel.
 */
GRT_API bool grt_chan_recv(grt_chan *c, void *out);

/*
 * Close: every blocked receiver wakes with false, every blocked sender
 * panics.  panic: close of closed channel; panic: close of nil channel.
 */
GRT_API void grt_chan_close(grt_chan *c);

/* Elements buffered now / buffer capacity; 0 for NULL. */
GRT_API size_t grt_chan_len(const grt_chan *c);
GRT_API size_t grt_chan_cap(const grt_chan *c);

/* A label (copied, at most 31 bytes kept) shown by gtop and gdump. */
GRT_API void grt_chan_set_name(grt_chan *c, const char *name);

/* Release the channel; no goroutine may still use it.  NULL is ignored. */
GRT_API void grt_chan_free(grt_chan *c);

enum { GRT_RECV = 1, GRT_SEND = 2 };

/* One case of grt_select. */
typedef struct grt_case {
    grt_chan *chan; /* NULL: never ready (Go's nil channel) */
    int op;         /* GRT_RECV or GRT_SEND */
    void *elem;     /* SEND: value to send; RECV: where to store (or NULL) */
    bool ok;        /* RECV: false when the case ran because of a close */
} grt_case;

/*
 * Go's select.  Runs one ready case, chosen uniformly at random among the
 * ready ones, and returns its index; with has_default and no case ready,
 * returns -1 at once; otherwise blocks until a case can run.  With no
 * cases and no default it blocks forever (Go's select {}).  A send case on
 * a closed channel panics as grt_chan_send.  At most 65536 cases.
 */
GRT_API int grt_select(grt_case *cases, int ncases, bool has_default);

/* ------------------------------------------------------------------------
 * Time
 * ------------------------------------------------------------------------ */

/* Monotonic clock, nanoseconds (CLOCK_MONOTONIC). */
GRT_API int64_t grt_now(void);

/* time.Sleep: park the goroutine for at least ns (<= 0 returns at once). */
GRT_API void grt_sleep(int64_t ns);

/*
 * time.After: a new channel (cap 1, of int64_t) that receives grt_now()
 * once, ns from now.  The caller owns it: grt_chan_free also cancels the
 * timer if it has not fired.
 */
GRT_API grt_chan *grt_after(int64_t ns);

typedef struct grt_ticker grt_ticker;
typedef struct grt_timer grt_timer;

/*
 * time.NewTicker: a channel that receives grt_now() every ns, dropping
 * ticks for a slow receiver.  panic: non-positive interval for NewTicker.
 */
GRT_API grt_ticker *grt_ticker_make(int64_t ns);
GRT_API grt_chan *grt_ticker_chan(grt_ticker *t);
/* Stop ticking; the channel is not closed; no stale tick is received after. */
GRT_API void grt_ticker_stop(grt_ticker *t);
/* time.Ticker.Reset: stop and restart with period ns (> 0). */
GRT_API void grt_ticker_reset(grt_ticker *t, int64_t ns);
/* Stop (if needed) and release the ticker and its channel. */
GRT_API void grt_ticker_free(grt_ticker *t);

/* time.NewTimer: its channel receives grt_now() once, ns from now. */
GRT_API grt_timer *grt_timer_make(int64_t ns);
GRT_API grt_chan *grt_timer_chan(grt_timer *t);
/*
 * Timer.Stop: true if the call stopped the timer, false if it had already
 * been stopped or its value had been received.  Afterwards no stale value
 * is received; a value sent but not yet received is discarded and counts
 * as stopped (Go 1.23's unbuffered timer channels).
 */
GRT_API bool grt_timer_stop(grt_timer *t);
/* Timer.Reset: as stop, then start again with ns; returns what stop would. */
GRT_API bool grt_timer_reset(grt_timer *t, int64_t ns);
/* Stop (if needed) and release the timer and its channel. */
GRT_API void grt_timer_free(grt_timer *t);

/* ------------------------------------------------------------------------
 * Cancellation (Go's context)
 * ------------------------------------------------------------------------ */

typedef struct grt_ctx grt_ctx;

enum { GRT_CANCELED = 1, GRT_DEADLINE_EXCEEDED = 2 };

/* context.Background(): never cancelled, never freed. */
GRT_API grt_ctx *grt_ctx_background(void);
/* context.WithCancel(parent). */
GRT_API grt_ctx *grt_ctx_with_cancel(grt_ctx *parent);
/* context.WithTimeout(parent, ns). */
GRT_API grt_ctx *grt_ctx_with_timeout(grt_ctx *parent, int64_t ns);
/* The CancelFunc: cancels ctx and its descendants (idempotent). */
GRT_API void grt_ctx_cancel(grt_ctx *ctx);
/* ctx.Done(): closed when ctx is cancelled or times out; owned by ctx. */
GRT_API grt_chan *grt_ctx_done(grt_ctx *ctx);
/* ctx.Err(): 0, GRT_CANCELED or GRT_DEADLINE_EXCEEDED. */
GRT_API int grt_ctx_err(grt_ctx *ctx);
/* Cancel if needed and release; children stay valid until freed. */
GRT_API void grt_ctx_free(grt_ctx *ctx);

/* ------------------------------------------------------------------------
 * Synchronisation
 *
 * Plain structs that may live anywhere; all-zero is valid and empty or
 * unlocked, as Go's zero values (the initialisers are all zeros).  The
 * fields are private.  A blocked goroutine never blocks its thread.
 * ------------------------------------------------------------------------ */

/* sync.WaitGroup */
typedef struct grt_wg {
    uint64_t state_; /* private: counter << 32 | waiters */
    uint64_t wait_;  /* private: parked waiters, or wake-ups owed */
} grt_wg;
#define GRT_WG_INIT {0, 0}
/* Add delta (may be negative).  panic: sync: negative WaitGroup counter. */
GRT_API void grt_wg_add(grt_wg *wg, int64_t delta);
/* grt_wg_add(wg, -1). */
GRT_API void grt_wg_done(grt_wg *wg);
/* Block until the counter is zero. */
GRT_API void grt_wg_wait(grt_wg *wg);

/* sync.Mutex, with Go's normal and starvation modes. */
typedef struct grt_mutex {
    int32_t state_; /* private: locked | woken | starving | waiters << 3 */
    uint32_t sema_; /* private */
    int64_t owner_; /* private: id of the goroutine that locked it, 0 */
} grt_mutex;
#define GRT_MUTEX_INIT {0, 0, 0}
GRT_API void grt_mutex_lock(grt_mutex *m);
/* fatal error: sync: unlock of unlocked mutex.  Any goroutine may unlock. */
GRT_API void grt_mutex_unlock(grt_mutex *m);
/* Lock if free now; true when locked. */
GRT_API bool grt_mutex_trylock(grt_mutex *m);

/* sync.RWMutex: writers are preferred once waiting, as Go. */
typedef struct grt_rwmutex {
    grt_mutex w_;           /* private */
    uint32_t writer_sem_;   /* private */
    uint32_t reader_sem_;   /* private */
    int32_t reader_count_;  /* private */
    int32_t reader_wait_;   /* private */
} grt_rwmutex;
#define GRT_RWMUTEX_INIT {GRT_MUTEX_INIT, 0, 0, 0, 0}
GRT_API void grt_rwmutex_rlock(grt_rwmutex *rw);
/* fatal error: sync: RUnlock of unlocked RWMutex. */
GRT_API void grt_rwmutex_runlock(grt_rwmutex *rw);
GRT_API void grt_rwmutex_lock(grt_rwmutex *rw);
/* fatal error: sync: Unlock of unlocked RWMutex. */
GRT_API void grt_rwmutex_unlock(grt_rwmutex *rw);
GRT_API bool grt_rwmutex_trylock(grt_rwmutex *rw);
GRT_API bool grt_rwmutex_tryrlock(grt_rwmutex *rw);

/* sync.Once */
typedef struct grt_once {
    uint32_t done_; /* private */
    uint32_t pad_;  /* private */
    grt_mutex m_;   /* private */
} grt_once;
#define GRT_ONCE_INIT {0, 0, GRT_MUTEX_INIT}
/*
 * Run fn(arg) once across all calls on this once; every call returns only
 * after that one run has finished.
 */
GRT_API void grt_once_do(grt_once *o, void (*fn)(void *), void *arg);

/* sync.Cond, used with a grt_mutex. */
typedef struct grt_cond {
    uint32_t wait_;   /* private: next ticket */
    uint32_t notify_; /* private: next ticket to notify */
    uint32_t lock_;   /* private: spin lock of the list */
    uint32_t pad_;    /* private */
    void *head_;      /* private */
    void *tail_;      /* private */
} grt_cond;
#define GRT_COND_INIT {0, 0, 0, 0, NULL, NULL}
/* Atomically unlock m and park; re-lock m before returning. */
GRT_API void grt_cond_wait(grt_cond *c, grt_mutex *m);
GRT_API void grt_cond_signal(grt_cond *c);
GRT_API void grt_cond_broadcast(grt_cond *c);

/* ------------------------------------------------------------------------
 * Blocking calls and I/O
 * ------------------------------------------------------------------------ */

/*
 * Bracket any call that may block the thread (Go's entersyscall /
 * exitsyscall).  While inside, the goroutine shows as "syscall"; if the
 * call lasts longer than a monitor tick (about 20 us to 1 ms) its
 * processor is handed to another thread, so other goroutines keep running.
 * grt_syscall_exit returns on a processor (maybe after waiting for one).
 * Do not call other grt functions between the two.
 */
GRT_API void grt_syscall_enter(void);
GRT_API void grt_syscall_exit(void);

enum { GRT_READ = 1, GRT_WRITE = 2 };

/*
 * As read(2), write(2), accept(2) and connect(2), but a call that would
 * block parks only the calling goroutine ("IO wait") on the runtime's
 * poller; other goroutines run on its thread meanwhile.  The fd is made
 * non-blocking on first use.  Errors are -1 and errno, as libc's.
 * grt_write writes all n bytes unless an error stops it (then it returns
 * what was written, or -1).  grt_accept returns a non-blocking,
 * close-on-exec socket.  One goroutine at a time may wait on each
 * direction of an fd (another gets EBUSY).  On a TCP socket the first
 * use also turns on TCP_INQ (grt_read learns when it emptied the socket
 * and parks before its next read instead of failing one with EAGAIN), so
 * the program's own recvmsg calls with a control buffer on that socket
 * also receive a TCP_CM_INQ message.
 */
GRT_API ssize_t grt_read(int fd, void *buf, size_t n);
GRT_API ssize_t grt_write(int fd, const void *buf, size_t n);
GRT_API int grt_accept(int fd, struct sockaddr *addr, socklen_t *len);
GRT_API int grt_connect(int fd, const struct sockaddr *addr, socklen_t len);

/*
 * Park until fd is ready for events (GRT_READ, GRT_WRITE or both) or
 * timeout_ns passes (negative: no timeout; 0: just look).  Returns the
 * ready events, 0 on timeout, -1 and errno on error.
 */
GRT_API int grt_fd_wait(int fd, int events, int64_t timeout_ns);

/* close(2) that first wakes the goroutines waiting on fd (they get
 * EBADF) and forgets the fd in the poller.  Close every fd used with the
 * calls above with grt_close, not close(2): otherwise the poller still
 * believes the fd number registered, and a new fd that reuses the number
 * is not made non-blocking, so a grt_read on it can block its thread. */
GRT_API int grt_close(int fd);

/*
 * errno for goroutines.  A goroutine may resume on another thread after
 * any call that can park, and compilers cache errno's address (glibc
 * declares __errno_location const), so in code that includes this header
 * errno goes through a non-const accessor that is evaluated anew each
 * time.  Still unsafe to hold across a call that can park: the address of
 * errno or of any thread-local variable, pthread_self(), and a pthread
 * mutex (it blocks the whole thread; use grt_mutex).  See docs/errno.md.
 */
GRT_API int *grt_errno_location(void);
#ifndef GRT_NO_ERRNO_OVERRIDE
#undef errno
#define errno (*grt_errno_location())
#endif

/* ------------------------------------------------------------------------
 * Statistics
 * ------------------------------------------------------------------------ */

/*
 * alloc and sys: memory libgrt owns now for its own structures (goroutine
 * descriptors, processors, threads) and goroutine stacks.
 *
 * mallocs, frees, total_alloc (Go's Mallocs, Frees, TotalAlloc): the
 * objects libgrt allocates on the program's behalf, counted as Go counts
 * the heap objects a Go program allocates (not calls of malloc):
 *   - a goroutine: one object of the size of its descriptor, made by
 *     grt_go (the main goroutine counts one) and freed when it exits,
 *     whether the descriptor is new or reused; its stack is in
 *     stack_inuse, as Go's stacks are not heap;
 *   - a channel: one object, header and buffer together (as Go's
 *     makechan), freed by grt_chan_free;
 *   - a timer or ticker (grt_timer_make, grt_ticker_make, grt_after): one
 *     object plus its channel; a context (grt_ctx_with_cancel,
 *     grt_ctx_with_timeout): one object plus its done channel; freed with
 *     them.
 * mallocs - frees is the number of those objects alive (Go's
 * HeapObjects); total_alloc is the bytes of all ever made.  Not counted:
 * libgrt's own structures, and memory handed to the caller to free()
 * (grt_goroutine_ids).  Every counter only grows; frees <= mallocs.
 */
typedef struct grt_memstats {
    uint64_t alloc, total_alloc, sys, mallocs, frees; /* see above */
    uint64_t heap_alloc, heap_sys, heap_inuse; /* process heap (mallinfo2) */
    uint64_t stack_inuse, stack_sys; /* goroutine stack committed / reserved */
    uint64_t num_goroutine, num_thread, maxprocs;
    uint64_t goroutines_created, goroutines_exited;
    uint64_t context_switches, steals, preemptions, syscalls;
} grt_memstats;

/* runtime.ReadMemStats; does not stop the other goroutines. */
GRT_API void grt_read_memstats(grt_memstats *ms);

/* ------------------------------------------------------------------------
 * Dumps and leak checks
 *
 * Every dump is written in Go's traceback format (docs/leaks.md shows
 * one): "goroutine 7 [chan receive, 2 minutes]:", then a "function(...)"
 * line and a "\tfile:line +0xoff" line per frame (file:line when the
 * object has debug information, the object file and line 0 otherwise),
 * then "created by F in goroutine N" with its file:line, and a blank
 * line.  libgrt's own frames are hidden, as Go hides the runtime's.  The
 * calling goroutine comes first, "[running]"; a goroutine running on
 * another thread at that moment is interrupted there for a moment by a
 * signal (SIGURG, as preemption) and shown with the frames unwound on
 * its own thread; one in a blocking call (grt_syscall_enter), or whose
 * thread does not answer within 50 ms (SIGURG blocked there), is listed
 * without frames, as every running one is in ThreadSanitizer builds.
 *
 * Panics and fatal errors print the goroutines GRT_TRACEBACK selects
 * (none, single: the default, all).  A SIGSEGV, SIGBUS, SIGFPE or SIGILL
 * in user code prints Go's crash report ("[signal SIGSEGV: segmentation
 * violation code=... addr=... pc=...]" and the goroutine) and exits 2,
 * unless the application installed its own handler before the runtime
 * started; SIGQUIT, unless the application handled it then (an ignored
 * SIGQUIT, as a shell's background job inherits it, is taken, as Go
 * does), prints every goroutine and exits 2, as Go.  See docs/leaks.md.
 * ------------------------------------------------------------------------ */

/*
 * Write every goroutine to out (NULL: stderr), as runtime.Stack(buf,
 * true) and SIGQUIT do; out is flushed.  Does not stop the other
 * goroutines.  Blocks the calling thread while it unwinds and looks up
 * symbols (the first call reads the debug information: milliseconds).
 */
GRT_API void grt_dump(FILE *out);

/*
 * runtime.Stack: write the calling goroutine (all: and every other) into
 * buf and return the bytes written, at most len; the text is cut
 * silently where buf ends, as Go's.  A NUL follows the text when there
 * is room for it (not counted).
 */
GRT_API size_t grt_stack(char *buf, size_t len, bool all);

/*
 * Options of grt_leak_verify_none (goleak's).  A zeroed struct, or NULL,
 * means the defaults.  Lists are NULL-terminated (ids: 0-terminated) and
 * may be NULL.  Function names are C symbols ("worker").
 */
typedef struct grt_leak_opts {
    /* ignore a goroutine whose top frame (the innermost frame outside
     * libgrt, e.g. the function blocked in grt_chan_recv) is one of these
     * (goleak.IgnoreTopFunction) */
    const char *const *ignore_top;
    /* ignore a goroutine created by one of these functions: the function
     * that called grt_go (goleak.IgnoreCreatedBy) */
    const char *const *ignore_created_by;
    /* ignore these goroutines (goleak.IgnoreCurrent with
     * grt_goroutine_ids) */
    const int64_t *ignore_ids;
    /* how long to wait for goroutines to end; <= 0: 1 s */
    int64_t timeout_ns;
    /* grt's own, beyond goleak: */
    /* 0: every goroutine; else only goroutines of this leak scope
     * (grt_leak_scope_begin) */
    int64_t scope;
    /* ignore a goroutine with one of these functions anywhere in its
     * stack, or as its entry function (goleak.IgnoreAnyFunction) */
    const char *const *ignore_any;
    void *reserved_[4]; /* zero */
} grt_leak_opts;

/*
 * goleak.VerifyNone: wait (retrying with backoff, 1 us doubling up to
 * 100 ms) until no goroutine is left but the caller and the ignored
 * ones, or until opts->timeout_ns has passed.  Returns how many are left
 * then, and writes them to report (may be NULL) after the line "found
 * unexpected goroutines:", each in the dump format.  Returns at once when
 * none is left.  The caller parks between tries (other goroutines run).
 * May be called from a thread that is not a goroutine (then it only
 * sleeps; no goroutine is the caller).
 */
GRT_API int grt_leak_verify_none(const grt_leak_opts *opts, FILE *report);

/*
 * The ids of every goroutine alive now, the caller's included, in
 * ascending order, 0-terminated, in memory from malloc (the caller frees
 * it); NULL when out of memory.  Pass as ignore_ids to ignore them later
 * (goleak.IgnoreCurrent).
 */
GRT_API int64_t *grt_goroutine_ids(void);

/*
 * Leak scopes (not in goleak).  grt_leak_scope_begin starts a new scope
 * and puts the calling goroutine in it; every goroutine it creates from
 * then on is in the scope too, and so are theirs, transitively.  A check
 * with opts->scope set looks only at the scope's goroutines (those of
 * scopes begun inside it included), so a leak is blamed on the test that
 * caused it even when tests run in parallel.
 * Returns the scope's id (> 0).  Never blocks.
 */
GRT_API int64_t grt_leak_scope_begin(void);

/* Put the calling goroutine back in the scope it was in when it began
 * scope.  Goroutines already created stay in scope. */
GRT_API void grt_leak_scope_end(int64_t scope);

/* The calling goroutine's leak scope, 0 for none. */
GRT_API int64_t grt_leak_scope(void);

#ifdef __cplusplus
}
#endif

#endif /* GRT_H */
