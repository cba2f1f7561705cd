/*
 * http.c - the smallest HTTP/1.1 server Prometheus needs: one thread, one
 * poll(2) loop, non-blocking sockets.
 *
 * Requests: GET or HEAD of /metrics (the query string is ignored) answers
 * the scrape; / answers a short HTML page linking to it; any other path
 * is 404, any other method 405; a malformed request 400, a request head
 * over REQ_MAX bytes 431, a request with a body 400 (none of ours takes
 * one), each followed by closing the connection.  Keep-alive follows
 * HTTP/1.1 (persistent unless "Connection: close"; HTTP/1.0 only with
 * "Connection: keep-alive"); pipelined requests are answered in order,
 * and held back while OUT_MAX bytes of answers wait for a slow reader.
 *
 * Robustness: at most MAX_CLIENTS connections (more are accepted and
 * closed at once, so the backlog never fills); a connection idle or
 * stalled mid-request for IDLE_MS is closed; SIGPIPE is ignored and every
 * socket error closes only that connection.  A scrape runs inside the
 * loop, so other connections wait for it; scrapes are fast (a second for
 * a hundred processes of ten thousand goroutines is the goal).
 *
 * Left out: TLS, authentication, gzip (Prometheus accepts identity),
 * chunked request bodies.
 */
#include "config.h"

#include "exporter.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 64
#define REQ_MAX 8192  /* bytes of a request head */
#define IDLE_MS 30000 /* idle or stalled connections are closed */
/* no more pipelined answers while this much waits to be written */
#define OUT_MAX (1 << 18)

struct client {
    int fd;           /* -1: free slot */
    struct buf in;    /* bytes received, not yet a whole request */
    struct buf out;   /* response bytes not yet written */
    bool close_after; /* close once out is written */
    int64_t last_ms;  /* last activity */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void client_close(struct client *c)
{
    close(c->fd);
    c->fd = -1;
    buf_free(&c->in);
    buf_free(&c->out);
    c->close_after = false;
}

static void respond(struct client *c, int code, const char *reason,
                    const char *ctype, const char *body, size_t len, bool head,
                    const char *extra)
{
    buf_printf(&c->out,
               "HTTP/1.1 %d %s\r\n"
               "Server: grt-exporter/" PACKAGE_VERSION "\r\n"
               "Content-Type: %s\r\n"
               "Content-Length: %zu\r\n"
               "%s%s\r\n",
               code, reason, ctype, len, extra ? extra : "",
               c->close_after ? "Connection: close\r\n" : "");
    if (!head)
        buf_put(&c->out, body, len);
}

static void respond_text(struct client *c, int code, const char *reason,
                         const char *msg, bool head, const char *extra)
{
    respond(c, code, reason, "text/plain; charset=utf-8", msg, strlen(msg),
            head, extra);
}

static const char index_html[] =
    "<!DOCTYPE html>\n<html><head><title>grt exporter</title></head>\n"
    "<body><h1>grt exporter</h1>\n"
    "<p>Metrics of every grt program of this user: "
    "<a href=\"/metrics\">/metrics</a></p>\n</body></html>\n";

/* The value of header name in the header block hdr (lines after the
 * request line, "\r\n"-separated), without surrounding blanks, into
 * val; false if absent. */
static bool header_get(const char *hdr, const char *name, char *val,
                       size_t vlen)
{
    size_t nl = strlen(name);
    const char *l = hdr;
    while (*l) {
        const char *end = strstr(l, "\r\n");
        size_t ll = end ? (size_t)(end - l) : strlen(l);
        if (ll > nl && strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
            const char *v = l + nl + 1;
            size_t n = ll - nl - 1;
            while (n && (*v == ' ' || *v == '\t'))
                v++, n--;
            while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
                n--;
            snprintf(val, vlen, "%.*s", (int)(n < vlen ? n : vlen - 1), v);
            return true;
        }
        if (!end)
            break;
        l = end + 2;
    }
    return false;
}

static bool header_has(const char *hdr, const char *name, const char *token)
{
    char v[256];
    return header_get(hdr, name, v, sizeof v) && strcasestr(v, token);
}

/* Answer the request whose head is req (NUL-terminated, without the
 * blank line). */
static void handle(struct client *c, char *req, const struct exporter_opts *o)
{
    char *eol = strstr(req, "\r\n");
    char *hdr = eol ? eol + 2 : req + strlen(req);
    if (eol)
        *eol = 0;
    char method[16], target[2048], version[16];
    char extra;
    if (sscanf(req, "%15s %2047s %15s%c", method, target, version, &extra) !=
            3 ||
        strncmp(version, "HTTP/1.", 7) != 0 ||
        (version[7] != '0' && version[7] != '1') || version[8]) {
        c->close_after = true;
        respond_text(c, 400, "Bad Request", "bad request\n", false, NULL);
        return;
    }
    bool http10 = version[7] == '0';
    if (http10)
        c->close_after = !header_has(hdr, "Connection", "keep-alive");
    else if (header_has(hdr, "Connection", "close"))
        c->close_after = true;
    char v[256];
    if (header_get(hdr, "Transfer-Encoding", v, sizeof v) ||
        (header_get(hdr, "Content-Length", v, sizeof v) &&
         strcmp(v, "0") != 0)) {
        c->close_after = true;
        respond_text(c, 400, "Bad Request", "request bodies not accepted\n",
                     false, NULL);
        return;
    }
    bool head = strcmp(method, "HEAD") == 0;
    if (!head && strcmp(method, "GET") != 0) {
        respond_text(c, 405, "Method Not Allowed", "method not allowed\n",
                     false, "Allow: GET, HEAD\r\n");
        return;
    }
    char *q = strchr(target, '?');
    if (q)
        *q = 0;
    if (strcmp(target, "/metrics") == 0) {
        struct buf page = {0};
        exporter_scrape(o, &page);
        if (page.oom) {
            c->close_after = true;
            respond_text(c, 500, "Internal Server Error", "out of memory\n",
                         head, NULL);
        } else {
            respond(c, 200, "OK", "text/plain; version=0.0.4; charset=utf-8",
                    page.p, page.len, head, NULL);
        }
        buf_free(&page);
    } else if (strcmp(target, "/") == 0) {
        respond(c, 200, "OK", "text/html; charset=utf-8", index_html,
                sizeof index_html - 1, head, NULL);
    } else {
        respond_text(c, 404, "Not Found", "not found; try /metrics\n", head,
                     NULL);
    }
}

/* Answer every whole request in c->in. */
static void parse_requests(struct client *c, const struct exporter_opts *o)
{
    while (!c->close_after && c->in.len && c->out.len < OUT_MAX) {
        char *end = memmem(c->in.p, c->in.len, "\r\n\r\n", 4);
        if (!end) {
            if (c->in.len > REQ_MAX) {
                c->close_after = true;
                respond_text(c, 431, "Request Header Fields Too Large",
                             "request too large\n", false, NULL);
            }
            return;
        }
        size_t hlen = (size_t)(end - c->in.p);
        if (hlen > REQ_MAX || memchr(c->in.p, 0, hlen)) {
            c->close_after = true;
            respond_text(c, hlen > REQ_MAX ? 431 : 400,
                         hlen > REQ_MAX ? "Request Header Fields Too Large"
                                        : "Bad Request",
                         "bad request\n", false, NULL);
            return;
        }
        char *req = malloc(hlen + 1);
        if (!req) {
            c->close_after = true;
            return;
        }
        memcpy(req, c->in.p, hlen);
        req[hlen] = 0;
        buf_consume(&c->in, hlen + 4);
        handle(c, req, o);
        free(req);
    }
}

static void on_readable(struct client *c, const struct exporter_opts *o)
{
    char tmp[4096];
    for (;;) {
        ssize_t n = read(c->fd, tmp, sizeof tmp);
        if (n > 0) {
            if (!c->close_after)
                buf_put(&c->in, tmp, (size_t)n);
            if (c->in.oom) {
                client_close(c);
                return;
            }
            if (c->in.len > 2 * REQ_MAX)
                break;
            continue;
        }
        if (n == 0) { /* peer closed its end: answer what came, close */
            parse_requests(c, o);
            c->close_after = true;
            if (!c->out.len)
                client_close(c);
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            break;
        client_close(c);
        return;
    }
    parse_requests(c, o);
}

static void on_writable(struct client *c)
{
    while (c->out.len) {
        ssize_t n = send(c->fd, c->out.p, c->out.len, MSG_NOSIGNAL);
        if (n > 0) {
            buf_consume(&c->out, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        client_close(c);
        return;
    }
    if (c->close_after) {
        /* half-close, so the peer reads everything before the reset a
         * close with unread input could cause */
        shutdown(c->fd, SHUT_WR);
        client_close(c);
    }
}

static void accept_all(int lfd, struct client *cl)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN, or an error of that one connection */
        int slot = -1;
        for (int i = 0; i < MAX_CLIENTS && slot < 0; i++)
            if (cl[i].fd < 0)
                slot = i;
        if (slot < 0) {
            close(fd); /* full: refuse rather than let the backlog grow */
            continue;
        }
        memset(&cl[slot], 0, sizeof cl[slot]);
        cl[slot].fd = fd;
        cl[slot].last_ms = now_ms();
    }
}

int http_serve(int lfd, const struct exporter_opts *o)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: poll returns EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct client cl[MAX_CLIENTS];
    for (int i = 0; i < MAX_CLIENTS; i++) {
        memset(&cl[i], 0, sizeof cl[i]);
        cl[i].fd = -1;
    }
    struct pollfd pfd[MAX_CLIENTS + 1];
    int who[MAX_CLIENTS + 1];
    int rc = 0;
    while (!stop) {
        int n = 0;
        pfd[n].fd = lfd;
        pfd[n].events = POLLIN;
        who[n++] = -1;
        for (int i = 0; i < MAX_CLIENTS; i++) {
            if (cl[i].fd < 0)
                continue;
            pfd[n].fd = cl[i].fd;
            pfd[n].events = cl[i].out.len ? POLLOUT : POLLIN;
            who[n++] = i;
        }
        int r = poll(pfd, (nfds_t)n, 1000);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            perror("grt-exporter: poll");
            rc = 1;
            break;
        }
        int64_t now = now_ms();
        for (int k = 0; k < n; k++) {
            if (who[k] < 0) {
                if (pfd[k].revents & POLLIN)
                    accept_all(lfd, cl);
                continue;
            }
            struct client *c = &cl[who[k]];
            if (c->fd != pfd[k].fd)
                continue;
            if (pfd[k].revents) {
                c->last_ms = now;
                if (pfd[k].revents & (POLLIN | POLLHUP | POLLERR)) {
                    if (!c->out.len)
                        on_readable(c, o);
                    else if (pfd[k].revents & (POLLHUP | POLLERR))
                        client_close(c);
                }
                if (c->fd >= 0 && c->out.len)
                    on_writable(c);
                else if (c->fd >= 0 && c->close_after)
                    client_close(c);
                /* pipelined requests held back: answer them while the
                 * answers leave at once (else POLLOUT brings us back) */
                while (c->fd >= 0 && !c->out.len && c->in.len &&
                       !c->close_after) {
                    parse_requests(c, o);
                    if (!c->out.len)
                        break; /* only part of a request is there */
                    on_writable(c);
                }
            } else if (now - c->last_ms > IDLE_MS) {
                client_close(c);
            }
        }
    }
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (cl[i].fd >= 0)
            client_close(&cl[i]);
    return rc;
}
