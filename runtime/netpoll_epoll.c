/*
 * netpoll_epoll.c - the network poller (Go's netpoll_epoll.go and
 * netpoll.go, abridged) and the I/O calls built on it: grt_read,
 * grt_write, grt_accept, grt_connect, grt_fd_wait.
 *
 * An fd is registered once, on first use: made non-blocking and added to
 * one epoll instance edge-triggered for both directions.  A call tries the
 * operation first; on EAGAIN it parks its goroutine on the fd's poll
 * descriptor ("IO wait") until the poller sees the edge, a deadline timer
 * fires, or the fd is closed through grt_close.  An edge with nobody
 * waiting is remembered (rready/wready), so a goroutine that parks just
 * after the edge is not lost.
 *
 * Who polls: the scheduler, never a dedicated thread.  A P short of work
 * polls without blocking (grt__netpoll(0)) before stealing; the idle M
 * that sleeps until the next timer sleeps in epoll_wait instead of on
 * its futex when goroutines wait for I/O, and is woken through an
 * eventfd (grt__netpoll_break); sysmon polls when nobody has for 10 ms.
 *
 * Poll descriptors live in a two-level table indexed by fd (no realloc
 * under readers) and are never freed; their seq counts closes, so a
 * deadline timer of a previous use of the fd does nothing.
 *
 * Drained TCP sockets (not in Go): a request/response loop reads a
 * message, answers it and reads again, and that second read fails with
 * EAGAIN, a system call for nothing (a quarter of tcp_echo's).  TCP
 * sockets are registered with TCP_INQ, so grt_read's recvmsg learns how
 * many bytes are left; when a read leaves the socket empty and the same
 * fd is read again within INQ_WINDOW_NS, the read parks first and tries
 * after the poller's edge.  The edge of any byte that arrives after the
 * draining read is caught (rready or the waiter), so nothing is lost;
 * the price is that bytes arriving within the window wait for the next
 * poll instead of being read at once, at most sysmon's 10 ms on a
 * machine whose every P is busy.  Beyond the window the read goes first,
 * as Go's.
 */
#include "config.h"

#include "rt.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#define L1 1024
#define L2 1024 /* fds 0 .. L1*L2-1 */
#define INQ_WINDOW_NS 20000 /* a drained socket read again within this
                               parks before reading (file comment) */

struct pd {
    spinlock lock;        /* guards everything below */
    int fd;               /* immutable */
    uint32_t seq;         /* bumped by grt_close */
    bool registered;      /* added to epoll (and O_NONBLOCK set) */
    bool closing;         /* grt_close in progress: waiters get EBADF */
    bool rready, wready;  /* edge seen with no waiter */
    struct g *rg, *wg;    /* parked reader / writer */
    bool rtimedout, wtimedout; /* their deadline fired */
    bool inq;             /* a TCP socket with TCP_INQ on; immutable
                             while registered */
    uint64_t drained_at;  /* atomic: when grt_read left it empty
                             (inq_stamp); 0 */
};

static int epfd = -1;
static int evfd = -1;
static spinlock init_lock;
/* L1 pointers to arrays of L2.  Every I/O call reads it (pd_get), so it
 * has cache lines of its own: it shared one with the counters below,
 * which every park on the poller and every poll writes (tcp_echo's
 * profile: 88% of pd_get's samples on that one load). */
static _Alignas(CACHELINE) struct pd **table[L1];
static struct {
    _Alignas(CACHELINE) int32_t nwaiters; /* goroutines parked on the
                                             poller */
    uint32_t break_pending; /* an eventfd write is in flight */
    int64_t lastpoll;       /* coarse ns of the last poll; 0 if an M is
                               blocked in epoll_wait */
} poll_state; /* atomic, each; a line of its own */

static bool netpoll_init(void)
{
    if (LOAD_ACQ(&epfd) >= 0)
        return true;
    lock(&init_lock);
    if (epfd < 0) {
        int e = epoll_create1(EPOLL_CLOEXEC);
        int b = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (e < 0 || b < 0) {
            if (e >= 0)
                close(e);
            if (b >= 0)
                close(b);
            unlock(&init_lock);
            return false;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
        epoll_ctl(e, EPOLL_CTL_ADD, b, &ev);
        evfd = b;
        STORE_RLX(&poll_state.lastpoll, coarse_now());
        STORE_REL(&epfd, e);
    }
    unlock(&init_lock);
    return true;
}

static struct pd *pd_get(int fd)
{
    if (fd < 0 || fd >= L1 * L2)
        return NULL;
    struct pd **chunk = LOAD_ACQ(&table[fd / L2]);
    if (!chunk) {
        lock(&init_lock);
        chunk = table[fd / L2];
        if (!chunk) {
            chunk = calloc(L2, sizeof *chunk);
            if (!chunk) {
                unlock(&init_lock);
                return NULL;
            }
            STORE_REL(&table[fd / L2], chunk);
        }
        unlock(&init_lock);
    }
    struct pd *pd = LOAD_ACQ(&chunk[fd % L2]);
    if (!pd) {
        struct pd *n = calloc(1, sizeof *n);
        if (!n)
            return NULL;
        n->fd = fd;
        struct pd *expect = NULL;
        if (__atomic_compare_exchange_n(&chunk[fd % L2], &expect, n, false,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            pd = n;
        else {
            free(n);
            pd = expect;
        }
    }
    return pd;
}

/* Make fd pollable; false with errno set when it cannot be. */
static struct pd *pd_open(int fd)
{
    if (!netpoll_init()) {
        errno = ENOMEM;
        return NULL;
    }
    struct pd *pd = pd_get(fd);
    if (!pd) {
        errno = fd < 0 ? EBADF : ENOMEM;
        return NULL;
    }
    if (LOAD_ACQ(&pd->registered))
        return pd;
    lock(&pd->lock);
    if (!pd->registered) {
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0) {
            unlock(&pd->lock);
            return NULL; /* errno from fcntl: EBADF */
        }
        if (!(fl & O_NONBLOCK))
            fcntl(fd, F_SETFL, fl | O_NONBLOCK);
        struct epoll_event ev;
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        ev.data.ptr = pd;
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 && errno != EEXIST) {
            /* regular files cannot be polled: they never block */
            if (errno != EPERM) {
                unlock(&pd->lock);
                return NULL;
            }
        }
        pd->rready = pd->wready = false;
        pd->closing = false;
        /* fails on anything but a TCP socket (ENOTSOCK, EOPNOTSUPP,
         * ENOPROTOOPT): those are read with read() */
        int one = 1;
        pd->inq = setsockopt(fd, IPPROTO_TCP, TCP_INQ, &one, sizeof one) == 0;
        STORE_RLX(&pd->drained_at, 0);
        STORE_REL(&pd->registered, true);
    }
    unlock(&pd->lock);
    return pd;
}

/* Deadline timer: wake the waiter of one direction of one use of pd. */
struct io_timer {
    struct timer t;
    struct pd *pd;
    uint32_t seq;
    struct g *g;          /* the waiter, in rg, wg or both */
};

static void io_timeout(struct timer *t, int64_t now)
{
    (void)now;
    struct io_timer *it = (struct io_timer *)t;
    struct pd *pd = it->pd;
    struct g *gp = NULL;
    lock(&pd->lock);
    if (pd->seq == it->seq && (pd->rg == it->g || pd->wg == it->g)) {
        gp = it->g;
        if (pd->rg == gp)
            pd->rg = NULL;
        if (pd->wg == gp)
            pd->wg = NULL;
        pd->rtimedout = true;
    }
    unlock(&pd->lock);
    if (gp) {
        XADD(&poll_state.nwaiters, -1);
        grt__ready(gp);
    }
}

/*
 * Park until pd is ready for one of mask (GRT_READ, GRT_WRITE or both)
 * or the deadline (absolute monotonic ns; 0 none) passes.  Returns 0
 * when (maybe) ready: the caller retries its call; -1 with errno
 * ETIMEDOUT, EBADF (grt_close) or EBUSY (another goroutine already waits
 * on that direction of the fd).
 */
static int pd_wait(struct pd *pd, int mask, int64_t deadline)
{
    struct g *gp = getg();
    lock(&pd->lock);
    if (pd->closing) {
        unlock(&pd->lock);
        errno = EBADF;
        return -1;
    }
    if (((mask & GRT_READ) && pd->rready) ||
        ((mask & GRT_WRITE) && pd->wready)) {
        if (mask & GRT_READ)
            pd->rready = false;
        if (mask & GRT_WRITE)
            pd->wready = false;
        unlock(&pd->lock);
        return 0;
    }
    if (((mask & GRT_READ) && pd->rg) || ((mask & GRT_WRITE) && pd->wg)) {
        unlock(&pd->lock);
        errno = EBUSY;
        return -1;
    }
    if (mask & GRT_READ)
        pd->rg = gp;
    if (mask & GRT_WRITE)
        pd->wg = gp;
    pd->rtimedout = pd->wtimedout = false;
    uint32_t seq = pd->seq;
    struct io_timer it;
    if (deadline) {
        memset(&it, 0, sizeof it);
        it.t.f = io_timeout;
        it.t.idx = -1;
        it.pd = pd;
        it.seq = pd->seq;
        it.g = gp;
    }
    XADD(&poll_state.nwaiters, 1);
    if (deadline)
        grt__timer_add(&it.t, deadline);
    grt__park(WAIT_IO, pd, &pd->lock);
    if (deadline)
        grt__timer_del(&it.t);
    lock(&pd->lock);
    /* woken through one direction: leave the other slot */
    if (pd->rg == gp)
        pd->rg = NULL;
    if (pd->wg == gp)
        pd->wg = NULL;
    bool to = pd->rtimedout || pd->wtimedout;
    bool closed = pd->closing || pd->seq != seq;
    pd->rtimedout = pd->wtimedout = false;
    unlock(&pd->lock);
    if (closed) {
        errno = EBADF;
        return -1;
    }
    if (to) {
        errno = ETIMEDOUT;
        return -1;
    }
    return 0;
}

/*
 * Poll once, waiting at most ns (< 0: until something happens; 0: not at
 * all).  Readied goroutines are linked through schedlink and returned;
 * *n counts them.  Called without a P or with one, no locks held.
 */
struct g *grt__netpoll(int64_t ns, int *n)
{
    *n = 0;
    if (LOAD_ACQ(&epfd) < 0)
        return NULL;
    struct epoll_event evs[128];
    int timeout = ns < 0 ? -1 : ns == 0 ? 0 : (int)((ns + 999999) / 1000000);
    if (ns > 0 && timeout == 0)
        timeout = 1;
    if (ns != 0)
        STORE_RLX(&poll_state.lastpoll, 0);
    int k = epoll_wait(epfd, evs, 128, timeout);
    STORE_RLX(&poll_state.lastpoll, grt__nanotime());
    struct g *list = NULL;
    for (int i = 0; i < k; i++) {
        struct pd *pd = evs[i].data.ptr;
        if (!pd) {
            uint64_t v;
            if (read(evfd, &v, sizeof v) < 0) {
            }
            STORE_REL(&poll_state.break_pending, 0);
            continue;
        }
        uint32_t e = evs[i].events;
        struct g *r = NULL, *w = NULL;
        lock(&pd->lock);
        if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
            if (pd->rg) {
                r = pd->rg;
                pd->rg = NULL;
            } else {
                pd->rready = true;
            }
        }
        if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
            if (pd->wg) {
                w = pd->wg;
                pd->wg = NULL;
            } else {
                pd->wready = true;
            }
        }
        if (r && pd->wg == r)
            pd->wg = NULL; /* it waited on both directions */
        if (w && pd->rg == w)
            pd->rg = NULL;
        unlock(&pd->lock);
        if (r) {
            r->schedlink = list;
            list = r;
            ++*n;
        }
        if (w && w != r) {
            w->schedlink = list;
            list = w;
            ++*n;
        }
    }
    if (*n)
        XADD(&poll_state.nwaiters, -*n);
    return list;
}

/* Interrupt an M blocked in grt__netpoll (Go's netpollBreak). */
void grt__netpoll_break(void)
{
    if (LOAD_ACQ(&epfd) < 0)
        return;
    uint32_t zero = 0;
    if (!__atomic_compare_exchange_n(&poll_state.break_pending, &zero, 1, false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
        return;
    uint64_t one = 1;
    if (write(evfd, &one, sizeof one) < 0) {
    }
}

bool grt__netpoll_active(void)
{
    return LOAD_ACQ(&epfd) >= 0 && LOAD_RLX(&poll_state.nwaiters) > 0;
}

int64_t grt__netpoll_lastpoll(void)
{
    return LOAD_RLX(&poll_state.lastpoll);
}

/* ---------------------------------------------------------------------
 * The I/O calls
 * --------------------------------------------------------------------- */

static int64_t deadline_of(int64_t timeout_ns)
{
    if (timeout_ns < 0)
        return 0;
    int64_t now = grt__nanotime();
    if (timeout_ns > INT64_MAX - now)
        return 0;
    return now + (timeout_ns ? timeout_ns : 1);
}

/* A time stamp for the drained window, twice per read of a TCP socket:
 * the tick counter where it is usable (rt.h: 9 ns against the clock's
 * 26), else the clock; *win gets INQ_WINDOW_NS in the same unit, never
 * longer (the tick rate is a lower bound).  A window that comes out wrong
 * (the rate measured between a drain and the next read) only changes
 * which goes first, the read or the park: both are correct. */
static inline uint64_t inq_stamp(uint64_t *win)
{
    uint64_t f = LOAD_RLX(&grt__ticks_per_ns_q32);
    if (f) {
        *win = (uint64_t)INQ_WINDOW_NS * f >> 32;
        return cpu_ticks();
    }
    *win = INQ_WINDOW_NS;
    return (uint64_t)grt__nanotime();
}

/* read() on a TCP_INQ socket: recvmsg, noting whether it is now empty */
static ssize_t read_inq(struct pd *pd, int fd, void *buf, size_t n)
{
    struct iovec iov = {.iov_base = buf, .iov_len = n};
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int))];
    } cbuf;
    struct msghdr msg = {.msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = &cbuf,
                         .msg_controllen = sizeof cbuf};
    ssize_t r = recvmsg(fd, &msg, 0);
    if (r <= 0)
        return r;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (c && c->cmsg_level == IPPROTO_TCP && c->cmsg_type == TCP_CM_INQ) {
        int left; /* bytes still queued; 1 at EOF (tcp_inq_hint) */
        memcpy(&left, CMSG_DATA(c), sizeof left);
        uint64_t win;
        if (left == 0)
            STORE_RLX(&pd->drained_at, inq_stamp(&win) | 1); /* not 0 */
    }
    return r;
}

/* Did a read just leave pd's socket empty?  (Clears the mark.) */
static bool drained_just_now(struct pd *pd)
{
    uint64_t d = LOAD_RLX(&pd->drained_at);
    if (d == 0)
        return false;
    STORE_RLX(&pd->drained_at, 0);
    uint64_t win;
    return inq_stamp(&win) - d < win;
}

ssize_t grt_read(int fd, void *buf, size_t n)
{
    struct pd *pd = pd_open(fd);
    if (!pd)
        return -1;
    if (pd->inq && n > 0 && drained_just_now(pd) &&
        pd_wait(pd, GRT_READ, 0) < 0)
        return -1;
    for (;;) {
        ssize_t r = pd->inq ? read_inq(pd, fd, buf, n) : read(fd, buf, n);
        if (r >= 0)
            return r;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        if (pd_wait(pd, GRT_READ, 0) < 0)
            return -1;
    }
}

ssize_t grt_write(int fd, const void *buf, size_t n)
{
    struct pd *pd = pd_open(fd);
    if (!pd)
        return -1;
    size_t done = 0;
    while (done < n || n == 0) {
        /* send(2) on a TCP socket: write(2)'s semantics (SIGPIPE
         * included) for ~60 ns less here */
        const char *p = (const char *)buf + done;
        ssize_t r = pd->inq ? send(fd, p, n - done, 0) : write(fd, p, n - done);
        if (r >= 0) {
            done += (size_t)r;
            if (n == 0)
                break;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return done ? (ssize_t)done : -1;
        if (pd_wait(pd, GRT_WRITE, 0) < 0)
            return done ? (ssize_t)done : -1;
    }
    return (ssize_t)done;
}

int grt_accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    struct pd *pd = pd_open(fd);
    if (!pd)
        return -1;
    for (;;) {
        int c = accept4(fd, addr, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c >= 0)
            return c;
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        if (pd_wait(pd, GRT_READ, 0) < 0)
            return -1;
    }
}

int grt_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    struct pd *pd = pd_open(fd);
    if (!pd)
        return -1;
    int r = connect(fd, addr, len);
    if (r == 0)
        return 0;
    if (errno != EINPROGRESS && errno != EINTR && errno != EAGAIN)
        return -1;
    for (;;) {
        if (pd_wait(pd, GRT_WRITE, 0) < 0)
            return -1;
        int err = 0;
        socklen_t el = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
            return -1;
        if (err == 0) {
            /* writable with no error: connected, unless still pending */
            struct sockaddr_storage ss;
            socklen_t sl = sizeof ss;
            if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
                return 0;
            if (errno != ENOTCONN)
                return -1;
            continue;
        }
        errno = err;
        return -1;
    }
}

int grt_fd_wait(int fd, int events, int64_t timeout_ns)
{
    if (!(events & (GRT_READ | GRT_WRITE)) ||
        (events & ~(GRT_READ | GRT_WRITE))) {
        errno = EINVAL;
        return -1;
    }
    struct pd *pd = pd_open(fd);
    if (!pd)
        return -1;
    int64_t deadline = deadline_of(timeout_ns);
    for (;;) {
        /* what is ready now (level), without blocking */
        struct pollfd pf = {.fd = fd, .events = 0};
        if (events & GRT_READ)
            pf.events |= POLLIN | POLLRDHUP;
        if (events & GRT_WRITE)
            pf.events |= POLLOUT;
        int r = poll(&pf, 1, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (pf.revents & POLLNVAL) {
            errno = EBADF;
            return -1;
        }
        int ready = 0;
        if (pf.revents & (POLLIN | POLLRDHUP | POLLERR | POLLHUP))
            ready |= events & GRT_READ;
        if (pf.revents & (POLLOUT | POLLERR | POLLHUP))
            ready |= events & GRT_WRITE;
        if (ready)
            return ready;
        if (timeout_ns == 0)
            return 0;
        if (pd_wait(pd, events, deadline) < 0)
            return errno == ETIMEDOUT ? 0 : -1;
    }
}

int grt_close(int fd)
{
    struct pd *pd = fd >= 0 ? pd_get(fd) : NULL;
    struct g *r = NULL, *w = NULL;
    if (pd && LOAD_ACQ(&pd->registered)) {
        lock(&pd->lock);
        pd->closing = true;
        pd->seq++;
        r = pd->rg;
        w = pd->wg;
        pd->rg = pd->wg = NULL;
        STORE_REL(&pd->registered, false);
        pd->rready = pd->wready = false;
        if (LOAD_ACQ(&epfd) >= 0)
            epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
        unlock(&pd->lock);
        int n = (r != NULL) + (w != NULL && w != r);
        if (n)
            XADD(&poll_state.nwaiters, -n);
        if (r)
            grt__ready(r);
        if (w && w != r)
            grt__ready(w);
    }
    return close(fd);
}
