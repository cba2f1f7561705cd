/*
 * tcp_echo - request/response over loopback TCP: an echo server and C=16
 * client goroutines in the same process, on all processors.  Each client
 * owns one connection and does N/C round trips of a 64-byte message; the
 * result is the aggregate time per round trip (ns_per_roundtrip, median
 * of R runs after a warm-up at N/10).  See WORKLOADS.md for the
 * definition this follows line for line.
 *
 * The sockets go through the runtime's poller (grt_accept, grt_connect,
 * grt_read, grt_write), so a read that would block parks only the
 * goroutine.  TCP_NODELAY is set on both ends because Go's net package
 * sets it on every TCP connection by default.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <grt.h>

#include "harness.h"

#define MSG_SIZE 64

static struct sockaddr_in server_addr;
static int64_t nclients;
static grt_wg wg = GRT_WG_INIT;

static void nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* io.ReadFull: 0 when all n bytes came, -1 on EOF or error. */
static int read_full(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = grt_read(fd, (char *)buf + got, n - got);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* handler(conn): read exactly 64 bytes (stop on EOF); write them back. */
static void handler(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[MSG_SIZE];
    for (;;) {
        if (read_full(fd, buf, MSG_SIZE) != 0)
            break;
        if (grt_write(fd, buf, MSG_SIZE) != MSG_SIZE)
            break;
    }
    grt_close(fd);
}

static void serve(void *arg)
{
    int lfd = (int)(intptr_t)arg;
    for (;;) {
        int c = grt_accept(lfd, NULL, NULL);
        if (c < 0)
            return;
        nodelay(c);
        grt_go(handler, (void *)(intptr_t)c);
    }
}

struct client_arg {
    int fd;
    uint64_t id;
    int64_t n;
};

static void put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void client(void *arg)
{
    struct client_arg *a = arg;
    unsigned char out[MSG_SIZE] = {0}, in[MSG_SIZE];
    for (int64_t i = 0; i < a->n; i++) {
        uint64_t v = a->id << 32 | (uint64_t)i;
        put_le64(out, v);
        if (grt_write(a->fd, out, MSG_SIZE) != MSG_SIZE)
            bench_fatalf("client %llu write: %s", (unsigned long long)a->id,
                         strerror(errno));
        if (read_full(a->fd, in, MSG_SIZE) != 0)
            bench_fatalf("client %llu read: %s", (unsigned long long)a->id,
                         errno ? strerror(errno) : "EOF");
        if (get_le64(in) != v)
            bench_fatalf("client %llu: echo mismatch at %lld",
                         (unsigned long long)a->id, (long long)i);
    }
    grt_wg_done(&wg);
}

static int dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || grt_connect(fd, (struct sockaddr *)&server_addr,
                              sizeof server_addr) != 0)
        bench_fatalf("dial: %s", strerror(errno));
    nodelay(fd);
    return fd;
}

static double run(int64_t n)
{
    int64_t per = n / nclients;
    if (per == 0)
        bench_fatalf("N=%lld is less than C=%lld", (long long)n,
                     (long long)nclients);
    struct client_arg *args = bench_calloc((size_t)nclients, sizeof *args);
    for (int64_t i = 0; i < nclients; i++) /* before t0 */
        args[i] = (struct client_arg){dial(), (uint64_t)i, per};
    int64_t t0 = bench_now();
    grt_wg_add(&wg, nclients);
    for (int64_t i = 0; i < nclients; i++)
        grt_go(client, &args[i]);
    grt_wg_wait(&wg);
    double ns = bench_ns_per(t0, per * nclients);
    for (int64_t i = 0; i < nclients; i++) /* after the timed region */
        grt_close(args[i].fd);
    free(args);
    return ns;
}

int main(int argc, char **argv)
{
    const char *w = bench_workload(argc, argv, "tcp_echo");
    int p = bench_procs(0);
    nclients = bench_size("C", 16, 16);
    int64_t total = bench_size("N", 200000, 20000);
    int64_t reps = bench_size("R", 5, 3);
    bench_logf("%s: GOMAXPROCS=%d C=%lld N=%lld R=%lld", w, p,
               (long long)nclients, (long long)total, (long long)reps);

    /* server: listen on 127.0.0.1, port 0; started once, before any run */
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    server_addr = (struct sockaddr_in){.sin_family = AF_INET};
    server_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof server_addr;
    if (lfd < 0 ||
        bind(lfd, (struct sockaddr *)&server_addr, sizeof server_addr) ||
        listen(lfd, 4096) ||
        getsockname(lfd, (struct sockaddr *)&server_addr, &len))
        bench_fatalf("listen: %s", strerror(errno));
    grt_go(serve, (void *)(intptr_t)lfd);

    bench_report(w, "ns_per_roundtrip",
                 bench_repeat(w, total / 10, total, reps, run), "ns");
    return 0;
}
