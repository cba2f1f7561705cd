/*
 * blocking_io - goroutines blocked on the network do not hold threads.
 *
 * Mirrors the Go example, which fetches a page from a web server:
 *
 *     for i := 0; i < 10; i++ {
 *         go func(i int) {
 *             resp, _ := http.Get(url)
 *             body, _ := io.ReadAll(resp.Body)
 *             ...
 *         }(i)
 *     }
 *     // meanwhile: fmt.Println(runtime.NumGoroutine(), threads)
 *
 * To run anywhere (no network) the demo starts its own minimal HTTP/1.0
 * server on 127.0.0.1: an accept loop (grt_accept) with one goroutine per
 * connection that reads the request (grt_read), waits a little as a slow
 * server would, and writes a page (grt_write).  Ten goroutines each dial
 * it (grt_connect), send a GET, read the response to EOF and check the
 * status, the Content-Length and every byte of the body.  A monitor
 * goroutine prints the goroutine and thread counts meanwhile: about
 * twenty goroutines wait on sockets at once, yet the thread count stays
 * at a handful, because a read that would block parks only the goroutine
 * on the runtime's poller (epoll), as Go's netpoller does.
 *
 * Prints one line per fetch, the monitor's lines and a summary.  Exits 1
 * if a fetch failed or a body was wrong.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <grt.h>

enum { NFETCHERS = 10, PAGE_LINES = 400, MAXRESP = 64 * 1024 };

static int port;
static int64_t slow_ns; /* how long the server "works" per request */
static int rounds;      /* pages each fetcher gets */
static grt_wg fetchers = GRT_WG_INIT;
static grt_chan *done; /* closed when every fetcher finished */
static int failures;

/* The page for path /page/<n>: PAGE_LINES numbered lines. */
static size_t make_page(int n, char *buf, size_t len)
{
    size_t off = 0;
    for (int i = 1; i <= PAGE_LINES && off < len; i++)
        off +=
            (size_t)snprintf(buf + off, len - off,
                             "page %d, line %d: goroutines are cheap\n", n, i);
    return off < len ? off : len;
}

/* ---- the server ---------------------------------------------------- */

static void handle(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char req[1024];
    size_t got = 0;
    /* read the request head, up to the blank line */
    while (got < sizeof req - 1) {
        ssize_t n = grt_read(fd, req + got, sizeof req - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
        req[got] = '\0';
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    req[got] = '\0';
    int page = -1;
    char *body = malloc(MAXRESP);
    char head[256];
    size_t blen = 0;
    int hlen;
    if (body && sscanf(req, "GET /page/%d HTTP/1.0", &page) == 1) {
        grt_sleep(slow_ns); /* a slow backend: the fetchers all wait */
        blen = make_page(page, body, MAXRESP);
        hlen = snprintf(head, sizeof head,
                        "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
                        "Content-Length: %zu\r\n\r\n",
                        blen);
    } else {
        hlen = snprintf(head, sizeof head,
                        "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    }
    grt_write(fd, head, (size_t)hlen);
    if (blen)
        grt_write(fd, body, blen);
    free(body);
    grt_close(fd); /* HTTP/1.0: the end of the body is EOF */
}

static void serve(void *arg)
{
    int lfd = (int)(intptr_t)arg;
    for (;;) {
        int c = grt_accept(lfd, NULL, NULL);
        if (c < 0) {
            perror("accept");
            return;
        }
        grt_go(handle, (void *)(intptr_t)c);
    }
}

/* ---- the clients --------------------------------------------------- */

/* GET /page/n; returns 0 when the response is exactly the page. */
static int fetch(int n, size_t *body_len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (grt_connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        grt_close(fd);
        return -1;
    }
    char req[128];
    int rl = snprintf(req, sizeof req,
                      "GET /page/%d HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", n);
    char *resp = malloc(MAXRESP + 1024), *want = malloc(MAXRESP);
    size_t got = 0;
    int rc = -1;
    if (!resp || !want || grt_write(fd, req, (size_t)rl) != rl)
        goto out;
    for (;;) { /* io.ReadAll: to EOF */
        ssize_t r = grt_read(fd, resp + got, MAXRESP + 1023 - got);
        if (r < 0)
            goto out;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    resp[got] = '\0';
    size_t clen;
    char *sep = strstr(resp, "\r\n\r\n");
    char *cl = strstr(resp, "Content-Length: ");
    if (strncmp(resp, "HTTP/1.0 200 OK\r\n", 17) != 0 || !sep || !cl ||
        sscanf(cl, "Content-Length: %zu", &clen) != 1)
        goto out;
    char *body = sep + 4;
    size_t blen = got - (size_t)(body - resp);
    size_t wlen = make_page(n, want, MAXRESP);
    *body_len = blen;
    if (clen == blen && blen == wlen && memcmp(body, want, blen) == 0)
        rc = 0;
out:
    free(resp);
    free(want);
    grt_close(fd);
    return rc;
}

static void fetcher(void *arg)
{
    int id = (int)(intptr_t)arg;
    for (int r = 0; r < rounds; r++) {
        int n = id + NFETCHERS * r;
        size_t len = 0;
        if (fetch(n, &len) == 0) {
            printf("fetcher %d: GET /page/%d -> 200 OK, %zu bytes, body "
                   "verified\n",
                   id, n, len);
        } else {
            printf("fetcher %d: GET /page/%d FAILED\n", id, n);
            __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
        }
    }
    grt_wg_done(&fetchers);
}

static void closer(void *arg)
{
    (void)arg;
    grt_wg_wait(&fetchers);
    grt_chan_close(done);
}

/* ---- the monitor --------------------------------------------------- */

static grt_chan *monitor_done;

static void monitor(void *arg)
{
    int64_t period = *(int64_t *)arg;
    grt_ticker *t = grt_ticker_make(period);
    grt_case cs[] = {{grt_ticker_chan(t), GRT_RECV, NULL, false},
                     {done, GRT_RECV, NULL, false}};
    for (;;) {
        grt_memstats ms;
        grt_read_memstats(&ms);
        printf("monitor: %3d goroutines, %2llu threads\n", grt_num_goroutine(),
               (unsigned long long)ms.num_thread);
        if (grt_select(cs, 2, false) == 1)
            break;
    }
    grt_ticker_free(t);
    grt_chan_close(monitor_done);
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    slow_ns = quick ? 50000000 : 300000000; /* 50 ms or 300 ms */
    rounds = quick ? 1 : 3;
    static int64_t mon_period;
    mon_period = quick ? 20000000 : 100000000;

    printf("=== blocking_io: %d goroutines fetch from a local HTTP server "
           "===\n",
           NFETCHERS);
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(lfd, 128) != 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &len) != 0) {
        perror("listen");
        return 1;
    }
    port = ntohs(sa.sin_port);
    printf("server listening on http://127.0.0.1:%d/\n", port);
    fflush(stdout);

    done = grt_chan_make(0, 0);
    monitor_done = grt_chan_make(0, 0);
    grt_go(monitor, &mon_period);
    grt_go(serve, (void *)(intptr_t)lfd);
    grt_wg_add(&fetchers, NFETCHERS);
    int64_t t0 = grt_now();
    for (int i = 0; i < NFETCHERS; i++)
        grt_go(fetcher, (void *)(intptr_t)i);
    grt_go(closer, NULL);
    grt_chan_recv(monitor_done, NULL); /* closed after done was */

    grt_memstats ms;
    grt_read_memstats(&ms);
    int pages = NFETCHERS * rounds;
    printf("%d goroutines fetched %d pages in %.0f ms on %llu threads "
           "(GOMAXPROCS=%d)\n",
           NFETCHERS, pages - failures, (double)(grt_now() - t0) / 1e6,
           (unsigned long long)ms.num_thread, grt_maxprocs(0));
    if (failures) {
        printf("%d fetches failed\n", failures);
        return 1;
    }
    printf("%d goroutines fetched %d pages, all bodies verified\n", NFETCHERS,
           pages);
    return 0;
}
