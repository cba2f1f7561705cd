/*
 * check_netpoll.c - the network poller and the I/O calls built on it:
 * grt_read, grt_write, grt_accept, grt_connect, grt_fd_wait, grt_close.
 *
 * "echo": a loopback echo server with one goroutine per connection runs
 * in a forked child process (its own runtime); the test process dials
 * GRT_TEST_CONNS (default 10,000) connections from as many goroutines,
 * holds them all open at once (a barrier after connecting), sends
 * messages of assorted sizes and checks every byte that comes back, then
 * half-closes and waits for the server's EOF.  Each handler greets its
 * client with one byte, and a client counts as connected once it has read
 * it, so the server provably had every connection open at once.  Two
 * processes, because one would need an fd per connection end and the hard
 * fd limit here is 20,000; when RLIMIT_NOFILE is lower the test uses what
 * it allows and says so.  The server reports what it served through a
 * pipe.
 * "half-close": after shutdown(SHUT_WR) the reader parked on the other
 * end sees EOF, and writing the other way (megabytes, so the writer
 * parks too) still works.
 * "fd-wait": a timeout returns 0 no sooner than asked; a ready fd returns
 * its events at once (with any timeout, none or zero); a parked waiter
 * wakes when the fd becomes ready; bad arguments give EINVAL and EBADF.
 * "close": grt_close wakes goroutines parked in grt_read, grt_fd_wait and
 * grt_accept on the fd with -1/EBADF.
 * "errno": failures come back as -1 with exactly libc's errno (each case
 * makes the libc call first on a twin fd and compares).
 * "not-deadlock": goroutines all parked on sockets that another process
 * writes to (or connects to) later is not "all goroutines are asleep".
 * "drained": a read that empties a TCP socket makes the next read
 * within 20 us park before reading (netpoll_epoll.c); bytes that arrive
 * in between (written before that read, or by a goroutine while it is
 * parked) and an EOF right after the drain all still come back.
 */
#include "config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <grt.h>

#include "testutil.h"

#define MS INT64_C(1000000)

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

/* A listening TCP socket on 127.0.0.1, any port; *port gets it. */
static int listen_any(int backlog, int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(listen(fd, backlog), 0);
    socklen_t len = sizeof sa;
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

static struct sockaddr_in loopback(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sa;
}

/* A connected TCP pair on loopback: *a dialled, *b accepted. */
static void tcp_pair(int *a, int *b)
{
    int port;
    int l = listen_any(1, &port);
    struct sockaddr_in sa = loopback(port);
    *a = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(*a, 0);
    ck_assert_int_eq(grt_connect(*a, (struct sockaddr *)&sa, sizeof sa), 0);
    *b = grt_accept(l, NULL, NULL);
    ck_assert_int_ge(*b, 0);
    grt_close(l);
}

/* Read exactly n bytes (fewer only at EOF or on error: returns what
 * grt_read last returned then). */
static ssize_t read_full(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = grt_read(fd, (char *)buf + got, n - got);
        if (r <= 0)
            return r;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static uint8_t pattern(uint64_t id, uint64_t i)
{
    uint64_t x = (id + 1) * 0x9E3779B97F4A7C15u + i * 0xBF58476D1CE4E5B9u;
    return (uint8_t)(x >> 56);
}

/* Current soft RLIMIT_NOFILE raised to the hard one; returns it. */
static long raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1024;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur == RLIM_INFINITY ? 1L << 20 : (long)rl.rlim_cur;
}

/* ------------------------------------------------------------------ */
/* echo: the server (a child process)                                  */
/* ------------------------------------------------------------------ */

#define NMSG 3
#define MAXMSG 3000

/* Message m of client id is this long. */
static size_t msg_len(int id, int m)
{
    return 1 + ((size_t)id * 37 + (size_t)m * 1031) % MAXMSG;
}

static struct {
    int nconns;
    int open, max_open, finished;
    int64_t bytes;
    grt_chan *all_done;
} srv;

static void serve_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[4096];
    int64_t total = 0;
    int open = __atomic_add_fetch(&srv.open, 1, __ATOMIC_ACQ_REL);
    int max = __atomic_load_n(&srv.max_open, __ATOMIC_RELAXED);
    while (open > max &&
           !__atomic_compare_exchange_n(&srv.max_open, &max, open, false,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
    /* the greeting: the client's barrier waits for it, so every
     * handler has counted itself open before any client finishes */
    if (grt_write(fd, "!", 1) != 1)
        goto out;
    for (;;) {
        ssize_t n = grt_read(fd, buf, sizeof buf);
        if (n <= 0)
            break;
        if (grt_write(fd, buf, (size_t)n) != n)
            break;
        total += n;
    }
out:
    __atomic_sub_fetch(&srv.open, 1, __ATOMIC_ACQ_REL);
    grt_close(fd);
    __atomic_add_fetch(&srv.bytes, total, __ATOMIC_RELAXED);
    if (__atomic_add_fetch(&srv.finished, 1, __ATOMIC_ACQ_REL) == srv.nconns)
        grt_chan_close(srv.all_done);
}

/* The server process: echo nconns connections, report, exit 0. */
static _Noreturn void server_main(int lfd, int report, int nconns)
{
    signal(SIGPIPE, SIG_IGN);
    srv.nconns = nconns;
    srv.all_done = grt_chan_make(0, 0);
    for (int i = 0; i < nconns; i++) {
        int c = grt_accept(lfd, NULL, NULL);
        if (c < 0) {
            dprintf(report, "accept: %s\n", strerror(errno));
            grt_exit(1);
        }
        grt_go(serve_conn, (void *)(intptr_t)c);
    }
    grt_chan_recv(srv.all_done, NULL);
    dprintf(report, "served %d max_open %d bytes %lld\n", srv.finished,
            srv.max_open, (long long)srv.bytes);
    grt_exit(0);
}

/* ------------------------------------------------------------------ */
/* echo: the clients (the test process)                                */
/* ------------------------------------------------------------------ */

static struct {
    int port;
    int connected;
    grt_wg dialled; /* every client connected (or failed) */
    grt_chan *go;   /* closed when all are connected */
    grt_wg finished;
    int errors;
    int64_t bytes; /* echoed and verified */
    char first_error[200];
} cli;

static void client_fail(int id, const char *what, int err)
{
    if (__atomic_fetch_add(&cli.errors, 1, __ATOMIC_ACQ_REL) == 0)
        snprintf(cli.first_error, sizeof cli.first_error, "client %d: %s: %s",
                 id, what, err ? strerror(err) : "-");
}

static void client(void *arg)
{
    int id = (int)(intptr_t)arg;
    struct sockaddr_in sa = loopback(cli.port);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || grt_connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        client_fail(id, fd < 0 ? "socket" : "connect", errno);
        grt_wg_done(&cli.dialled);
        grt_wg_done(&cli.finished);
        if (fd >= 0)
            grt_close(fd);
        return;
    }
    char hello;
    ssize_t hr = grt_read(fd, &hello, 1);
    if (hr != 1 || hello != '!') {
        client_fail(id, "greeting", hr < 0 ? errno : 0);
        grt_wg_done(&cli.dialled);
        grt_wg_done(&cli.finished);
        grt_close(fd);
        return;
    }
    __atomic_add_fetch(&cli.connected, 1, __ATOMIC_RELAXED);
    grt_wg_done(&cli.dialled);
    grt_chan_recv(cli.go, NULL); /* all connections are open now */

    uint8_t *out = malloc(2 * MAXMSG), *in = out + MAXMSG;
    for (int m = 0; m < NMSG && out; m++) {
        size_t len = msg_len(id, m);
        for (size_t i = 0; i < len; i++)
            out[i] = pattern((uint64_t)id, (uint64_t)m * MAXMSG + i);
        if (grt_write(fd, out, len) != (ssize_t)len) {
            client_fail(id, "write", errno);
            break;
        }
        memset(in, 0, len);
        ssize_t r = read_full(fd, in, len);
        if (r != (ssize_t)len) {
            client_fail(id, r < 0 ? "read" : "short read", r < 0 ? errno : 0);
            break;
        }
        if (memcmp(in, out, len) != 0) {
            client_fail(id, "echo differs", 0);
            break;
        }
        __atomic_add_fetch(&cli.bytes, (int64_t)len, __ATOMIC_RELAXED);
    }
    free(out);
    /* half-close: the server sees EOF, closes, and we see EOF */
    char c;
    if (shutdown(fd, SHUT_WR) != 0)
        client_fail(id, "shutdown", errno);
    else if (grt_read(fd, &c, 1) != 0)
        client_fail(id, "no EOF after half-close", errno);
    grt_close(fd);
    grt_wg_done(&cli.finished);
}

START_TEST(t_echo)
{
    signal(SIGPIPE, SIG_IGN);
    long limit = raise_nofile();
    const char *env = getenv("GRT_TEST_CONNS");
    int want = env && atoi(env) > 0 ? atoi(env) : 10000;
    int n = want;
    if (n > limit - 64)
        n = (int)(limit - 64);
    ck_assert_int_gt(n, 0);

    int report[2];
    ck_assert_int_eq(pipe2(report, O_CLOEXEC), 0);
    int lfd = listen_any(4096, &cli.port);
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        close(report[0]);
        server_main(lfd, report[1], n);
    }
    close(lfd);
    close(report[1]);

    /* from here on this process runs the runtime */
    int64_t t0 = grt_now();
    cli.go = grt_chan_make(0, 0);
    grt_wg_add(&cli.dialled, n);
    grt_wg_add(&cli.finished, n);
    for (int i = 0; i < n; i++)
        grt_go(client, (void *)(intptr_t)i);
    grt_wg_wait(&cli.dialled);
    int connected = cli.connected;
    grt_chan_close(cli.go);
    grt_wg_wait(&cli.finished);

    char line[256] = "";
    ssize_t r = read_full(report[0], line, sizeof line - 1);
    ck_assert_int_ge(r, 0);
    grt_close(report[0]);
    int status;
    grt_syscall_enter();
    pid_t w = waitpid(pid, &status, 0);
    grt_syscall_exit();
    ck_assert_int_eq(w, pid);

    int64_t expect = 0;
    for (int i = 0; i < n; i++)
        for (int m = 0; m < NMSG; m++)
            expect += (int64_t)msg_len(i, m);
    fprintf(stderr,
            "echo: %d connections (wanted %d, RLIMIT_NOFILE %ld), all open "
            "at once; %lld bytes each way verified in %.2f s; server: %s",
            n, want, limit, (long long)cli.bytes,
            (double)(grt_now() - t0) / 1e9, line);
    ck_assert_msg(cli.errors == 0, "%d clients failed; first: %s", cli.errors,
                  cli.first_error);
    ck_assert_int_eq(connected, n);
    ck_assert_int_eq(cli.bytes, expect);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "server status %#x: %s", (unsigned)status, line);
    int served = -1, max_open = -1;
    long long bytes = -1;
    ck_assert_int_eq(sscanf(line, "served %d max_open %d bytes %lld", &served,
                            &max_open, &bytes),
                     3);
    ck_assert_int_eq(served, n);
    ck_assert_int_eq(max_open, n);
    ck_assert_int_eq(bytes, expect);
    grt_chan_free(cli.go);
}
END_TEST

/* ------------------------------------------------------------------ */
/* half-close                                                          */
/* ------------------------------------------------------------------ */

#define BIG (4 << 20)

static struct {
    int fd;
    char got[16];
    ssize_t got_len;
    ssize_t eof; /* the read after the data: 0 is EOF */
    ssize_t wrote;
    int err;
    grt_chan *done;
} hc;

/* Read to EOF on the accepted end, then write BIG bytes back. */
static void half_close_peer(void *arg)
{
    (void)arg;
    hc.got_len = read_full(hc.fd, hc.got, 5);
    hc.eof = grt_read(hc.fd, hc.got + 5, sizeof hc.got - 5);
    uint8_t *buf = malloc(BIG);
    for (size_t i = 0; buf && i < BIG; i++)
        buf[i] = pattern(7, i);
    hc.wrote = buf ? grt_write(hc.fd, buf, BIG) : -1;
    hc.err = errno;
    free(buf);
    grt_close(hc.fd);
    grt_chan_send(hc.done, NULL);
}

START_TEST(t_half_close)
{
    int a, b;
    tcp_pair(&a, &b);
    hc.fd = b;
    hc.done = grt_chan_make(0, 1);
    grt_go(half_close_peer, NULL);
    grt_sleep(10 * MS); /* the peer parks in grt_read */
    ck_assert_int_eq(grt_write(a, "hello", 5), 5);
    ck_assert_int_eq(shutdown(a, SHUT_WR), 0);
    grt_sleep(10 * MS); /* the peer's write fills the buffers and parks */
    uint8_t *buf = malloc(BIG);
    ck_assert_ptr_nonnull(buf);
    ssize_t r = read_full(a, buf, BIG);
    ck_assert_int_eq(r, BIG);
    for (size_t i = 0; i < BIG; i++)
        if (buf[i] != pattern(7, i))
            ck_abort_msg("byte %zu differs", i);
    ck_assert_int_eq(grt_read(a, buf, 1), 0); /* the peer closed */
    free(buf);
    grt_chan_recv(hc.done, NULL);
    ck_assert_int_eq(hc.got_len, 5);
    ck_assert_int_eq(memcmp(hc.got, "hello", 5), 0);
    ck_assert_int_eq(hc.eof, 0);
    ck_assert_msg(hc.wrote == BIG, "wrote %zd: %s", hc.wrote, strerror(hc.err));
    grt_close(a);
    grt_chan_free(hc.done);
}
END_TEST

/* ------------------------------------------------------------------ */
/* fd-wait                                                             */
/* ------------------------------------------------------------------ */

START_TEST(t_fd_wait_timeout)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    int64_t timeouts[] = {1 * MS, 20 * MS, 50 * MS};
    for (size_t i = 0; i < sizeof timeouts / sizeof timeouts[0]; i++) {
        int64_t t0 = grt_now();
        int r = grt_fd_wait(p[0], GRT_READ, timeouts[i]);
        int64_t took = grt_now() - t0;
        ck_assert_int_eq(r, 0);
        ck_assert_msg(took >= timeouts[i],
                      "timeout %lld ns returned after "
                      "%lld ns",
                      (long long)timeouts[i], (long long)took);
    }
    /* zero: just look */
    ck_assert_int_eq(grt_fd_wait(p[0], GRT_READ, 0), 0);
    /* a full pipe is not writable */
    fcntl(p[1], F_SETFL, fcntl(p[1], F_GETFL) | O_NONBLOCK);
    char junk[4096] = {0};
    while (write(p[1], junk, sizeof junk) > 0)
        ;
    ck_assert_int_eq(grt_fd_wait(p[1], GRT_WRITE, 0), 0);
    int64_t t0 = grt_now();
    ck_assert_int_eq(grt_fd_wait(p[1], GRT_WRITE, 20 * MS), 0);
    ck_assert_int_ge(grt_now() - t0, 20 * MS);
    /* ... until it is drained a little */
    ck_assert_int_gt(read(p[0], junk, sizeof junk), 0);
    ck_assert_int_eq(grt_fd_wait(p[1], GRT_WRITE, 20 * MS), GRT_WRITE);
    ck_assert_int_eq(grt_fd_wait(p[0], GRT_READ | GRT_WRITE, 0), GRT_READ);
    grt_close(p[0]);
    grt_close(p[1]);
}
END_TEST

START_TEST(t_fd_wait_ready)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(write(p[1], "x", 1), 1);
    /* no timeout, a long one, none at all: ready now either way (a
     * wait would hang the test until Check's timeout) */
    ck_assert_int_eq(grt_fd_wait(p[0], GRT_READ, -1), GRT_READ);
    ck_assert_int_eq(grt_fd_wait(p[0], GRT_READ, 3600 * 1000 * MS), GRT_READ);
    ck_assert_int_eq(grt_fd_wait(p[0], GRT_READ, 0), GRT_READ);
    ck_assert_int_eq(grt_fd_wait(p[1], GRT_WRITE, -1), GRT_WRITE);
    /* a socket with data and room: both */
    int a, b;
    tcp_pair(&a, &b);
    ck_assert_int_eq(grt_write(b, "y", 1), 1);
    ck_assert_int_eq(grt_fd_wait(a, GRT_READ | GRT_WRITE, -1),
                     GRT_READ | GRT_WRITE);
    char c;
    ck_assert_int_eq(grt_read(a, &c, 1), 1);
    ck_assert_int_eq(grt_fd_wait(a, GRT_READ | GRT_WRITE, -1), GRT_WRITE);
    ck_assert_int_eq(grt_fd_wait(a, GRT_READ, 0), 0);
    /* EOF counts as readable */
    ck_assert_int_eq(shutdown(b, SHUT_WR), 0);
    ck_assert_int_eq(grt_fd_wait(a, GRT_READ, -1), GRT_READ);
    grt_close(a);
    grt_close(b);
    grt_close(p[0]);
    grt_close(p[1]);
}
END_TEST

struct waiter {
    int fd, events;
    int64_t timeout;
    int result, err;
    grt_chan *done;
};

static void fd_waiter(void *arg)
{
    struct waiter *w = arg;
    w->result = grt_fd_wait(w->fd, w->events, w->timeout);
    w->err = errno;
    grt_chan_send(w->done, NULL);
}

/* A parked waiter wakes when the fd becomes ready. */
START_TEST(t_fd_wait_wake)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    static struct waiter w[2];
    grt_chan *done = grt_chan_make(0, 2);
    w[0] = (struct waiter){p[0], GRT_READ, -1, 0, 0, done};
    w[1] = (struct waiter){p[0], GRT_READ, 3600 * 1000 * MS, 0, 0, done};
    grt_go(fd_waiter, &w[0]);
    grt_sleep(10 * MS);
    ck_assert_int_eq(write(p[1], "x", 1), 1);
    grt_chan_recv(done, NULL);
    ck_assert_int_eq(w[0].result, GRT_READ);
    char c;
    ck_assert_int_eq(read(p[0], &c, 1), 1);
    grt_go(fd_waiter, &w[1]);
    grt_sleep(10 * MS);
    ck_assert_int_eq(write(p[1], "x", 1), 1);
    grt_chan_recv(done, NULL);
    ck_assert_int_eq(w[1].result, GRT_READ);
    grt_close(p[0]);
    grt_close(p[1]);
    grt_chan_free(done);
}
END_TEST

START_TEST(t_fd_wait_errors)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    errno = 0;
    ck_assert_int_eq(grt_fd_wait(p[0], 0, 0), -1);
    ck_assert_int_eq(errno, EINVAL);
    errno = 0;
    ck_assert_int_eq(grt_fd_wait(p[0], 4, 0), -1);
    ck_assert_int_eq(errno, EINVAL);
    int bad = p[1] + 100;
    errno = 0;
    ck_assert_int_eq(grt_fd_wait(bad, GRT_READ, 10 * MS), -1);
    ck_assert_int_eq(errno, EBADF);
    errno = 0;
    ck_assert_int_eq(grt_fd_wait(-1, GRT_READ, -1), -1);
    ck_assert_int_eq(errno, EBADF);
    close(p[0]);
    close(p[1]);
}
END_TEST

/* ------------------------------------------------------------------ */
/* close                                                               */
/* ------------------------------------------------------------------ */

enum { OP_READ, OP_WAIT, OP_ACCEPT, OP_WRITE };

struct parked {
    int op, fd;
    ssize_t result;
    int err;
    grt_chan *done;
};

static void park_on(void *arg)
{
    struct parked *pk = arg;
    char buf[64];
    switch (pk->op) {
    case OP_READ:
        pk->result = grt_read(pk->fd, buf, sizeof buf);
        break;
    case OP_WAIT:
        pk->result = grt_fd_wait(pk->fd, GRT_READ, -1);
        break;
    case OP_ACCEPT:
        pk->result = grt_accept(pk->fd, NULL, NULL);
        break;
    default: {
        /* write until the buffer is full and the write parks */
        static char big[1 << 20];
        pk->result = grt_write(pk->fd, big, sizeof big);
        break;
    }
    }
    pk->err = errno;
    grt_chan_send(pk->done, NULL);
}

START_TEST(t_close_wakes)
{
    int p[2], q[2], port, a, b;
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(pipe(q), 0);
    int l = listen_any(1, &port);
    tcp_pair(&a, &b);
    grt_chan *done = grt_chan_make(0, 4);
    static struct parked pk[4];
    pk[0] = (struct parked){OP_READ, p[0], 0, 0, done};
    pk[1] = (struct parked){OP_WAIT, q[0], 0, 0, done};
    pk[2] = (struct parked){OP_ACCEPT, l, 0, 0, done};
    pk[3] = (struct parked){OP_WRITE, a, 0, 0, done};
    for (int i = 0; i < 4; i++)
        grt_go(park_on, &pk[i]);
    grt_sleep(20 * MS); /* all four park */
    grt_close(p[0]);
    grt_close(q[0]);
    grt_close(l);
    grt_close(a);
    for (int i = 0; i < 4; i++)
        grt_chan_recv(done, NULL);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(pk[i].result, -1);
        ck_assert_int_eq(pk[i].err, EBADF);
    }
    /* a write that had written part returns that part (as write(2)
     * would have), else -1/EBADF */
    ck_assert(pk[3].result > 0 || (pk[3].result == -1 && pk[3].err == EBADF));
    close(p[1]);
    close(q[1]);
    grt_close(b);
    grt_chan_free(done);
}
END_TEST

/* ------------------------------------------------------------------ */
/* errno, as libc's                                                    */
/* ------------------------------------------------------------------ */

#define SAME_ERRNO(libc_call, grt_call, want)                                  \
    do {                                                                       \
        errno = 0;                                                             \
        long lr_ = (long)(libc_call);                                          \
        int le_ = errno;                                                       \
        errno = 0;                                                             \
        long gr_ = (long)(grt_call);                                           \
        int ge_ = errno;                                                       \
        ck_assert_msg(lr_ == -1 && le_ == (want),                              \
                      "libc: %s returned %ld, errno %d (%s); test wants %s",   \
                      #libc_call, lr_, le_, strerror(le_), #want);             \
        ck_assert_msg(gr_ == -1 && ge_ == le_,                                 \
                      "%s returned %ld, errno %d (%s); libc's errno %d (%s)",  \
                      #grt_call, gr_, ge_, strerror(ge_), le_, strerror(le_)); \
    } while (0)

/* A port with nothing listening: bound, read, closed. */
static int closed_port(void)
{
    int port;
    int fd = listen_any(1, &port);
    close(fd);
    return port;
}

static int tcp_socket(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    return fd;
}

/* A socket whose peer reset the connection. */
static int reset_socket(void)
{
    int a, b;
    tcp_pair(&a, &b);
    struct linger lg = {1, 0};
    ck_assert_int_eq(setsockopt(b, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    grt_close(b); /* RST */
    while (grt_fd_wait(a, GRT_READ, -1) != GRT_READ)
        ;
    return a;
}

START_TEST(t_errno)
{
    signal(SIGPIPE, SIG_IGN);
    char buf[16];

    /* bad and closed fds (a high number, which the poller's own fds
     * will not take) */
    SAME_ERRNO(read(-1, buf, 1), grt_read(-1, buf, 1), EBADF);
    int gone = fcntl(0, F_DUPFD_CLOEXEC, 1000);
    ck_assert_int_ge(gone, 1000);
    close(gone);
    SAME_ERRNO(read(gone, buf, 1), grt_read(gone, buf, 1), EBADF);
    SAME_ERRNO(write(gone, buf, 1), grt_write(gone, buf, 1), EBADF);
    SAME_ERRNO(accept(gone, NULL, NULL), grt_accept(gone, NULL, NULL), EBADF);

    /* a pipe with no reader */
    int p[2], q[2];
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(pipe(q), 0);
    close(p[0]);
    close(q[0]);
    SAME_ERRNO(write(p[1], "x", 1), grt_write(q[1], "x", 1), EPIPE);

    /* reading a directory */
    int d1 = open("/", O_RDONLY | O_DIRECTORY);
    int d2 = open("/", O_RDONLY | O_DIRECTORY);
    SAME_ERRNO(read(d1, buf, 1), grt_read(d2, buf, 1), EISDIR);
    close(d1);
    grt_close(d2);

    /* connect to a port where nobody listens */
    struct sockaddr_in sa = loopback(closed_port());
    int s1 = tcp_socket(), s2 = tcp_socket();
    SAME_ERRNO(connect(s1, (struct sockaddr *)&sa, sizeof sa),
               grt_connect(s2, (struct sockaddr *)&sa, sizeof sa),
               ECONNREFUSED);
    close(s1);
    grt_close(s2);

    /* connect on something that is not a socket */
    SAME_ERRNO(connect(p[1], (struct sockaddr *)&sa, sizeof sa),
               grt_connect(q[1], (struct sockaddr *)&sa, sizeof sa), ENOTSOCK);
    close(p[1]);
    grt_close(q[1]);

    int a1, b1, a2, b2;
    tcp_pair(&a1, &b1);
    tcp_pair(&a2, &b2);
    /* writing after our own shutdown(SHUT_WR) */
    shutdown(a1, SHUT_WR);
    shutdown(a2, SHUT_WR);
    SAME_ERRNO(write(a1, "x", 1), grt_write(a2, "x", 1), EPIPE);
    grt_close(a1);
    grt_close(b1);
    grt_close(a2);
    grt_close(b2);

    /* accept on a socket that does not listen */
    s1 = tcp_socket();
    s2 = tcp_socket();
    SAME_ERRNO(accept(s1, NULL, NULL), grt_accept(s2, NULL, NULL), EINVAL);
    close(s1);
    grt_close(s2);

    /* reading a reset connection */
    s1 = reset_socket();
    s2 = reset_socket();
    SAME_ERRNO(read(s1, buf, 1), grt_read(s2, buf, 1), ECONNRESET);
    grt_close(s1);
    grt_close(s2);
}
END_TEST

/* ------------------------------------------------------------------ */
/* not a deadlock                                                      */
/* ------------------------------------------------------------------ */

/*
 * Fork a helper process (before the runtime starts) that sleeps 200 ms
 * and then writes "ping" to fd, or when port > 0 connects to it and
 * writes "ping" there.  It dies with its parent.
 */
static pid_t late_writer(int fd, int port)
{
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
    if (port > 0) {
        struct sockaddr_in sa = loopback(port);
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
            _exit(1);
    }
    _exit(write(fd, "ping", 4) == 4 ? 0 : 1);
}

static void reap(pid_t pid)
{
    int st;
    grt_syscall_enter();
    pid_t w = waitpid(pid, &st, 0);
    grt_syscall_exit();
    if (w != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        grt_exit(4);
}

/* main alone, parked in grt_read on a socket. */
static void child_main_reads(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        exit(3);
    pid_t pid = late_writer(sv[1], 0);
    char buf[8] = "";
    if (read_full(sv[0], buf, 4) != 4 || memcmp(buf, "ping", 4) != 0)
        grt_exit(1);
    reap(pid);
}

/* a goroutine parked in grt_fd_wait, main on a channel it will send to */
struct fd_and_chan {
    int fd;
    grt_chan *c;
};

static void wait_then_send(void *arg)
{
    struct fd_and_chan *fc = arg;
    int r = grt_fd_wait(fc->fd, GRT_READ, -1);
    grt_chan_send(fc->c, &r);
}

static void child_goroutine_waits(void)
{
    static struct fd_and_chan fc;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        exit(3);
    pid_t pid = late_writer(sv[1], 0);
    fc = (struct fd_and_chan){sv[0], grt_chan_make(sizeof(int), 0)};
    grt_go(wait_then_send, &fc);
    int r = 0;
    grt_chan_recv(fc.c, &r);
    if (r != GRT_READ)
        grt_exit(1);
    reap(pid);
}

/* main parked in grt_accept until another process dials in */
static void child_accept(void)
{
    int port;
    int l = listen_any(1, &port);
    pid_t pid = late_writer(-1, port);
    int c = grt_accept(l, NULL, NULL);
    char buf[8] = "";
    if (c < 0 || read_full(c, buf, 4) != 4 || memcmp(buf, "ping", 4) != 0)
        grt_exit(1);
    reap(pid);
}

/* ------------------------------------------------------------------ */
/* drained                                                             */
/* ------------------------------------------------------------------ */

/* The bytes of the next read are written (on loopback: queued on b)
 * before the read is made, right after the read that drained b. */
START_TEST(t_drained_then_written)
{
    int a, b;
    tcp_pair(&a, &b);
    uint64_t v = 0, got;
    ck_assert_int_eq(grt_write(a, &v, sizeof v), (ssize_t)sizeof v);
    for (uint64_t i = 1; i <= 2000; i++) {
        ck_assert_int_eq(read_full(b, &got, sizeof got), (ssize_t)sizeof got);
        ck_assert_uint_eq(got, i - 1);
        /* b is empty now; the next bytes land before the next read */
        ck_assert_int_eq(write(a, &i, sizeof i), (ssize_t)sizeof i);
    }
    ck_assert_int_eq(read_full(b, &got, sizeof got), (ssize_t)sizeof got);
    ck_assert_uint_eq(got, 2000);
    /* an EOF right after the drain */
    ck_assert_int_eq(shutdown(a, SHUT_WR), 0);
    ck_assert_int_eq(grt_read(b, &got, sizeof got), 0);
    grt_close(a);
    grt_close(b);
}
END_TEST

struct pingpong_fd {
    int fd;
    int n;
    grt_chan *done;
};

/* Echo n 8-byte messages back, then report. */
static void drained_echo(void *arg)
{
    struct pingpong_fd *pp = arg;
    uint64_t v;
    int n = 0;
    while (read_full(pp->fd, &v, sizeof v) == (ssize_t)sizeof v) {
        v = ~v;
        if (grt_write(pp->fd, &v, sizeof v) != (ssize_t)sizeof v)
            break;
        n++;
    }
    pp->n = n;
    grt_chan_send(pp->done, NULL);
}

/* Request/response on one P and on two: every read after the first
 * finds its socket just drained, so each waits for the poller. */
START_TEST(t_drained_pingpong)
{
    int old = grt_maxprocs(_i + 1);
    int a, b;
    tcp_pair(&a, &b);
    struct pingpong_fd es = {.fd = b, .done = grt_chan_make(0, 0)};
    grt_go(drained_echo, &es);
    for (uint64_t i = 0; i < 5000; i++) {
        uint64_t v;
        ck_assert_int_eq(grt_write(a, &i, sizeof i), (ssize_t)sizeof i);
        ck_assert_int_eq(read_full(a, &v, sizeof v), (ssize_t)sizeof v);
        ck_assert_uint_eq(v, ~i);
    }
    ck_assert_int_eq(shutdown(a, SHUT_WR), 0);
    grt_chan_recv(es.done, NULL);
    ck_assert_int_eq(es.n, 5000);
    grt_close(a);
    grt_close(b);
    grt_chan_free(es.done);
    grt_maxprocs(old);
}
END_TEST

static void (*const not_deadlocks[])(void) = {
    child_main_reads,
    child_goroutine_waits,
    child_accept,
};

START_TEST(t_not_deadlock)
{
    char err[4096];
    int status;
    tu_child(not_deadlocks[_i], err, sizeof err, &status);
    tu_assert_child(status, err, 0, NULL);
}
END_TEST

static Suite *netpoll_suite(void)
{
    Suite *s = suite_create("netpoll");
    TCase *tc = tcase_create("echo");
    tcase_add_test(tc, t_echo);
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);

    tc = tcase_create("half-close");
    tcase_add_test(tc, t_half_close);
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);

    tc = tcase_create("fd-wait");
    tcase_add_test(tc, t_fd_wait_timeout);
    tcase_add_test(tc, t_fd_wait_ready);
    tcase_add_test(tc, t_fd_wait_wake);
    tcase_add_test(tc, t_fd_wait_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("close");
    tcase_add_test(tc, t_close_wakes);
    suite_add_tcase(s, tc);

    tc = tcase_create("errno");
    tcase_add_test(tc, t_errno);
    suite_add_tcase(s, tc);

    tc = tcase_create("drained");
    tcase_add_test(tc, t_drained_then_written);
    tcase_add_loop_test(tc, t_drained_pingpong, 0, 2);
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);

    tc = tcase_create("not-deadlock");
    tcase_add_loop_test(tc, t_not_deadlock, 0,
                        (int)(sizeof not_deadlocks / sizeof not_deadlocks[0]));
    tcase_set_timeout(tc, TU_TIMEOUT);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(netpoll_suite());
}
