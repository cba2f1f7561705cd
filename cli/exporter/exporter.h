/*
 * exporter.h - the pieces of grt-exporter: an output buffer and the
 * exposition writer (expo.c), the per-process figures and the scrape that
 * gathers them through the reader library (collect.c), and the small
 * HTTP/1.1 server that answers /metrics (http.c).  main.c parses the
 * command line and runs the server.
 *
 * Single-threaded throughout: the server calls the scrape from its poll
 * loop, so nothing here takes a lock.
 */
#ifndef GRT_EXPORTER_H
#define GRT_EXPORTER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reader.h"

/* ---- growable byte buffer (expo.c) ---- */

struct buf {
    char *p;    /* malloc'd; not NUL-terminated */
    size_t len; /* bytes used */
    size_t cap; /* bytes allocated */
    bool oom;   /* an append failed: the content is incomplete */
};

void buf_put(struct buf *b, const void *s, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Drop the first n bytes (what was written to a socket). */
void buf_consume(struct buf *b, size_t n);
void buf_free(struct buf *b);

/* ---- exposition format (expo.c) ---- */

/* "# HELP name help" (help escaped: \\ and \n) and "# TYPE name type". */
void expo_family(struct buf *b, const char *name, const char *type,
                 const char *help);
/* A label value, escaped (\\, \", \n), between the quotes. */
void expo_label_value(struct buf *b, const char *v);
/* A sample value: an exact integer when it is one, else %.17g, or
 * +Inf/-Inf/NaN. */
void expo_value(struct buf *b, double v);

/* ---- what one scrape knows of one process (collect.c) ---- */

struct pm {
    int pid;
    char name[64];    /* program name, from the segment */
    char version[40]; /* "grt0.1.0" */
    bool have_stats;  /* st holds the newest sample */
    struct rd_sample st;
    /* from the snapshot's goroutine table */
    uint64_t ng;            /* live goroutines listed */
    uint64_t nstatus[8];    /* per GRT_SHM_G_* */
    uint64_t nwait[32];     /* waiting ones per wait reason */
    char wait_name[32][32]; /* the segment's text of each reason */
    uint64_t blocked_chans; /* channels with a blocked sender or receiver */
    uint64_t blocked_senders, blocked_receivers;
    uint64_t nm, np; /* Ms and Ps listed */
    /* leak analysis (rd_leaks_find) */
    bool have_leaks;
    uint64_t leaks_suspected, leaks_proven;
    bool all_asleep;
    double longest_wait_s;
    /* /proc/<pid> (the process collector's figures) */
    bool have_proc;
    double cpu_seconds, start_time, rss, vsize;
    double open_fds, max_fds, max_vm; /* -1: unknown or unlimited */
};

/* Reasons a segment could not be read, for grt_exporter_errors_total. */
enum {
    ERR_CORRUPT,   /* RD_ECORRUPT, RD_EBADMAGIC */
    ERR_TRUNCATED, /* RD_ETRUNCATED */
    ERR_VERSION,   /* RD_EVERSION */
    ERR_FOREIGN,   /* RD_EFOREIGN, RD_EINSECURE */
    ERR_ACCESS,    /* RD_EACCES */
    ERR_TORN,      /* a snapshot kept failing (RD_ESYS, RD_ENOMEM, ...) */
    ERR_LIST,      /* rd_list itself failed */
    ERR_NREASONS
};
extern const char *const exporter_err_reason[ERR_NREASONS];

struct exporter_opts {
    int64_t leak_threshold_ns; /* rd_leaks_find threshold; <= 0 default */
};

/*
 * Gather every grt process of this user (rd_list) and write the whole
 * /metrics page into out.  Attachments are kept across calls, keyed by
 * pid and process start time; processes gone since the last call are
 * detached.  A segment that cannot be read is skipped and counted.
 * Never fails: at worst the page has only the exporter's own families.
 */
void exporter_scrape(const struct exporter_opts *o, struct buf *out);
/* Detach everything (at exit, so that leak checkers stay quiet). */
void exporter_shutdown(void);

/* ---- HTTP server (http.c) ---- */

/*
 * Serve until SIGINT/SIGTERM on listening socket lfd: GET/HEAD /metrics
 * (exporter_scrape), / (an HTML page linking to it), 404 for anything
 * else.  Returns 0 on a signal, 1 on a fatal poll error.
 */
int http_serve(int lfd, const struct exporter_opts *o);

#endif /* GRT_EXPORTER_H */
