/*
 * main.c - grt-exporter: serves the state of every grt program of this
 * user in Prometheus' text format, with the metric names of client_golang's
 * Go and process collectors, so that dashboards made for Go services work
 * for C programs built on grt.  See docs/grt-exporter.1.
 *
 * Command line, listening socket, then the server loop (http.c); each
 * scrape reads the programs' shared-memory segments through the reader
 * library (collect.c), with no cooperation from the programs.
 *
 * Exit status: 0 after SIGINT/SIGTERM, 1 when it cannot listen (address
 * in use, permission, bad address) or the server loop fails, 2 for a
 * usage error.
 */
#include "config.h"

#include "exporter.h"

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_LISTEN "127.0.0.1:9973"

static const char usage_text[] =
    "Usage: grt-exporter [--listen ADDR:PORT] [--leak-threshold SECONDS]\n"
    "Serve Prometheus metrics of every grt program of this user on\n"
    "http://ADDR:PORT/metrics (default " DEFAULT_LISTEN ").\n"
    "\n"
    "  -l, --listen ADDR:PORT       address to listen on; ADDR may be a\n"
    "                               name, an IPv4 address or [IPv6];\n"
    "                               PORT 0 picks a free port\n"
    "  -t, --leak-threshold SECONDS blocked this long counts as a suspected\n"
    "                               leak (default 10)\n"
    "  -h, --help                   show this help and exit\n"
    "  -V, --version                show the version and exit\n";

static _Noreturn void usage_error(const char *what, const char *arg,
                                  const char *why)
{
    fprintf(stderr, "grt-exporter: %s '%s'%s (see --help)\n", what, arg, why);
    exit(2);
}

/* Split "host:port" / "[v6]:port" into host and port; false if bad. */
static bool split_listen(const char *s, char *host, size_t hl, char *port,
                         size_t pl)
{
    const char *colon;
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || rb[1] != ':')
            return false;
        snprintf(host, hl, "%.*s", (int)(rb - s - 1), s + 1);
        colon = rb + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || memchr(s, ':', (size_t)(colon - s)))
            return false; /* none, or a bare IPv6 address */
        snprintf(host, hl, "%.*s", (int)(colon - s), s);
    }
    snprintf(port, pl, "%s", colon + 1);
    if (!*port || strlen(port) > 5 ||
        strspn(port, "0123456789") != strlen(port))
        return false;
    return atoi(port) <= 65535;
}

/* Bind and listen on spec; returns the socket or -1 with a message. */
static int listen_on(const char *spec)
{
    char host[256], port[8];
    if (!split_listen(spec, host, sizeof host, port, sizeof port)) {
        fprintf(stderr,
                "grt-exporter: bad --listen '%s': want ADDR:PORT, e.g. "
                "127.0.0.1:9973 or [::1]:9973\n",
                spec);
        exit(2);
    }
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(*host ? host : NULL, port, &hints, &res);
    if (gai != 0) {
        fprintf(stderr, "grt-exporter: cannot listen on %s: %s\n", spec,
                gai_strerror(gai));
        return -1;
    }
    int fd = -1, err = 0;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family,
                    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 64) != 0) {
            err = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        if (err == EADDRINUSE)
            fprintf(stderr,
                    "grt-exporter: cannot listen on %s: address already in "
                    "use (another exporter? pick one with --listen)\n",
                    spec);
        else
            fprintf(stderr, "grt-exporter: cannot listen on %s: %s\n", spec,
                    strerror(err));
        return -1;
    }
    return fd;
}

/* Print where we listen (the real port when 0 was asked). */
static void announce(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char host[256], port[16];
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0 ||
        getnameinfo((struct sockaddr *)&ss, len, host, sizeof host, port,
                    sizeof port, NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return;
    bool v6 = ss.ss_family == AF_INET6;
    fprintf(stderr, "grt-exporter: listening on http://%s%s%s:%s/metrics\n",
            v6 ? "[" : "", host, v6 ? "]" : "", port);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"leak-threshold", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *listen_spec = DEFAULT_LISTEN;
    struct exporter_opts o = {.leak_threshold_ns = 0};
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, ":l:t:hV", longopts, NULL)) != -1) {
        switch (ch) {
        case 'l':
            listen_spec = optarg;
            break;
        case 't': {
            char *end;
            errno = 0;
            double s = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(s > 0) || s > 1e9)
                usage_error("bad --leak-threshold", optarg,
                            ": want seconds > 0");
            o.leak_threshold_ns = (int64_t)(s * 1e9);
            if (o.leak_threshold_ns < 1)
                o.leak_threshold_ns = 1;
            break;
        }
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        case 'V':
            printf("grt-exporter (grt) %s\n", PACKAGE_VERSION);
            return 0;
        case ':':
            usage_error("option", argv[optind - 1], " needs an argument");
        default:
            usage_error("unknown option", argv[optind - 1], "");
        }
    }
    if (optind < argc)
        usage_error("unexpected argument", argv[optind], "");

    int fd = listen_on(listen_spec);
    if (fd < 0)
        return 1;
    announce(fd);
    int rc = http_serve(fd, &o);
    close(fd);
    exporter_shutdown();
    return rc;
}
