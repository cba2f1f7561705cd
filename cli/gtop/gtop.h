/*
 * gtop.h - gtop's internal interfaces.
 *
 * gtop is two layers, as htop is:
 *   the model (no curses; unit-tested by tests/check_gtop_model.c and
 *   printed as text by batch mode):
 *     model.c      the target, its snapshots and sample history;
 *     meter.c      header figures (counts, rates, graphs) from a model;
 *     panel.c      a generic list: sort on any column, invert, filter,
 *                  incremental search, tree by parent, selection, tags;
 *     view_*.c     one file and one struct view_ops per view: the
 *                  columns and how to build rows from a snapshot;
 *     batch.c      `gtop -b`: the model as text;
 *   the terminal (thin; tested end to end in tmux):
 *     crt.c        curses set-up, colours, teardown, crt_fatal;
 *     header.c     draws the meters;
 *     screen.c     the main loop: keys, refresh ticks, drawing panels;
 *     main.c       options.
 * Views draw only from the immutable struct rd_snapshot a model holds,
 * never from the segment (the reader library owns the segment).
 */
#ifndef GTOP_H
#define GTOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "leaks.h"
#include "reader.h"

/* ---- model.c: the target and what was read from it ---- */

#define MODEL_HIST 8192 /* samples kept: about 13 minutes at 10 Hz */

struct model {
    struct rd_target *t; /* NULL when detached */
    int pid;
    bool image;                /* a saved segment (--image): time stands
                                  still at its heartbeat, no dumps */
    void *image_buf;           /* its bytes (image only) */
    struct rd_snapshot *snap;  /* the newest snapshot; NULL before one */
    int64_t now;               /* CLOCK_MONOTONIC ns that wait times are
                                  measured to: snap->taken_mono_ns, or the
                                  image's heartbeat */
    bool exited;               /* the program is gone: snap is its last
                                  state and stays */
    int exit_err;              /* why (RD_ESTALE, or the error that ended
                                  reading) */
    bool paused;               /* Z: no new snapshots */
    uint64_t cursor;           /* next sample index wanted */
    uint64_t lost;             /* samples overwritten before read */
    struct rd_sample *hist;    /* ring of MODEL_HIST samples */
    uint64_t nhist;            /* samples ever stored; newest at
                                  (nhist - 1) % MODEL_HIST */
    struct rd_leaks *leaks;    /* analysis of snap; NULL if it failed */
    int64_t leak_threshold_ns; /* <= 0: the library's default */
    bool leaks_lazy;           /* analyse leaks only when wanted or every
                                  MODEL_LEAKS_EVERY (the screen: the
                                  analysis costs as much as a snapshot) */
    bool want_leaks;           /* lazy: the leaks view is on screen */
    int64_t leaks_at;          /* snapshot time of the last analysis */
    uint64_t refreshes;        /* snapshots taken */
    struct rd_dump *dump;      /* every goroutine's stack, taken on demand
                                  (model_dump_all) for grouping by stack;
                                  NULL */
    struct rd_sym *dump_sym;   /* its symbols; NULL without libdw */
    int64_t dump_at;           /* model time it was taken */
};

/* Attach to pid (rd_attach) or to a saved image file; returns RD_OK or an
 * RD_E* code; *why is a sentence for errors that are not RD_E* codes
 * (reading the image file). */
int model_open_pid(struct model *m, int pid);
int model_open_image(struct model *m, const char *path, const char **why);
/* Use an image already in memory (tests); buf must outlive the model. */
int model_open_mem(struct model *m, const void *buf, size_t len);
/* Take a new snapshot and read new samples, unless paused or exited.  A
 * target that went away sets exited and keeps the last snapshot.
 * Returns RD_OK, or the error of the first snapshot (no snapshot yet). */
int model_refresh(struct model *m);
void model_close(struct model *m);
/* Ask the agent for the stacks of every goroutine (up to 32 frames each)
 * into m->dump, replacing an older one; RD_OK or the RD_E* of the
 * request (RD_ESTALE after the exit, RD_ENODUMP for an image...). */
int model_dump_all(struct model *m);
void model_dump_drop(struct model *m);
/* Analyse the snapshot for leaks now (m->leaks; NULL if it failed). */
void model_find_leaks(struct model *m);
#define MODEL_LEAKS_EVERY INT64_C(5000000000)
/* The i-th newest sample (0 newest), or NULL. */
const struct rd_sample *model_sample(const struct model *m, uint64_t i);
/* The goroutine goid in the snapshot, or NULL. */
const struct rd_g *model_find_g(const struct model *m, int64_t goid);
/* The creation site of g, or NULL. */
const struct rd_site *model_site(const struct model *m, const struct rd_g *g);
/* "file.c:42" of a creation site (the file's last component); "" when
 * unknown.  Returns buf. */
char *model_site_text(const struct rd_site *site, char *buf, size_t len);
/* Go's word for g's state: the wait reason when waiting. */
const char *model_state(const struct model *m, const struct rd_g *g);
/* Nanoseconds g has waited, or -1 when it is not waiting. */
int64_t model_wait_ns(const struct model *m, const struct rd_g *g);

/* ---- formatting helpers (meter.c) ---- */

/* "8K", "1.5M", "12G": bytes in binary units, at most 4 characters of
 * number.  Returns buf. */
char *fmt_bytes(char *buf, size_t len, uint64_t n);
/* "1m2s", "350ms": a duration (Go's style, 3 significant digits). */
char *fmt_dur(char *buf, size_t len, int64_t ns);
/* "1:02:03" or "2d 3:04:05": an uptime. */
char *fmt_uptime(char *buf, size_t len, int64_t ns);

/* ---- meter.c: the header's figures ---- */

struct meters {
    uint64_t total, running, runnable, waiting, syscall; /* goroutines */
    uint64_t threads, threads_idle, threads_spinning, threads_blocked;
    uint32_t procs_busy, maxprocs, ncpu;
    uint64_t stack_inuse, stack_sys, heap_alloc, heap_sys;
    bool have_rates; /* two samples a second or more apart */
    double ctxsw, steals, preempt, created, exited, syscalls; /* per s */
    size_t leaks_suspected, leaks_proven;
    int64_t uptime_ns;
};

void meter_compute(const struct model *m, struct meters *out);
/* Which counter the second graph shows (cycled by the `m` key). */
enum meter_graph {
    METER_G_GOROUTINES,
    METER_G_CTXSW,
    METER_G_CREATED,
    METER_G_RUNNABLE,
    METER_G_COUNT
};
const char *meter_graph_name(int which);
/* Values of graph which over the last span_ns, one per column (width of
 * them, oldest first, each the maximum of its bucket; -1 where there is no
 * sample); returns the largest value. */
double meter_graph(const struct model *m, int which, int64_t span_ns,
                   double *vals, int width);
/* A graph as text: one character per value, levels from chars (blank
 * first), e.g. " _.-=*#" or block elements.  nchars levels. */
void meter_spark(const double *vals, int width, double max,
                 const char *const *levels, int nlevels, char *buf, size_t len);
/* The header as lines of text (batch mode; the curses header draws the
 * same figures as bars).  Writes to f. */
void meter_print(FILE *f, const struct model *m, int graph_width);

/* ---- panel.c: a generic list ---- */

struct view;

struct column {
    const char *name;  /* for -s and the sort menu ("gid") */
    const char *title; /* column heading ("GID") */
    int width;         /* characters; the last column takes the rest */
    bool right;        /* right-aligned */
    /* ascending order of two items (rows of the view's items array) */
    int (*compare)(const void *a, const void *b);
    const char *description;
};

/* Define a column comparator fname of items of type T, ordered by the
 * integer (PANEL_CMP) or string (PANEL_CMP_STR) expression expr of x, a
 * const T *.  Integers compare as int64_t. */
#define PANEL_CMP(fname, T, expr)                                              \
    static int fname(const void *a_, const void *b_)                           \
    {                                                                          \
        const T *x = a_;                                                       \
        int64_t u_ = (int64_t)(expr);                                          \
        x = b_;                                                                \
        int64_t v_ = (int64_t)(expr);                                          \
        return (u_ > v_) - (u_ < v_);                                          \
    }
#define PANEL_CMP_STR(fname, T, expr)                                          \
    static int fname(const void *a_, const void *b_)                           \
    {                                                                          \
        const T *x = a_;                                                       \
        const char *u_ = (expr);                                               \
        x = b_;                                                                \
        return strcmp(u_, (expr));                                             \
    }

struct view_ops {
    const char *name; /* "goroutines": -v, and the view bar */
    const char *key;  /* its key, for the help screen */
    const struct column *cols;
    int ncols;
    int default_sort;    /* column */
    bool default_invert; /* descending */
    int tree_col;        /* column indented in tree mode; -1: no tree */
    size_t item_size;
    /* Rebuild v->items (v->nitems) from m; RD_OK or RD_ENOMEM. */
    int (*build)(struct view *v, const struct model *m);
    /* Text of column col of item. */
    void (*cell)(const struct view *v, const void *item, int col, char *buf,
                 size_t len);
    /* The text filters and searches look in (lower or mixed case). */
    void (*text)(const struct view *v, const void *item, char *buf, size_t len);
    int64_t (*id)(const void *item);     /* stable across snapshots */
    int64_t (*parent)(const void *item); /* tree: the parent's id; NULL */
    /* The goroutine Enter shows (0: none); NULL: the view has none. */
    int64_t (*goid)(const void *item);
    /* A line of context above the table (may be NULL). */
    void (*info)(const struct view *v, const struct model *m, char *buf,
                 size_t len);
    void (*release)(struct view *v); /* free what build kept; NULL */
};

/* A set of ids (open addressing); also maps ids to a size_t value. */
struct idmap {
    int64_t *keys;
    size_t *vals;
    size_t cap, n; /* cap: power of two or 0 */
};
bool idmap_put(struct idmap *s, int64_t key, size_t val); /* false: ENOMEM */
bool idmap_get(const struct idmap *s, int64_t key, size_t *val);
bool idmap_del(struct idmap *s, int64_t key);
void idmap_clear(struct idmap *s);
void idmap_free(struct idmap *s);

struct view {
    const struct view_ops *ops;
    void *items; /* nitems of ops->item_size, built by ops */
    size_t nitems, capitems;
    void *priv; /* the view's own storage (build) */
    /* the rows shown, in order: indexes into items */
    size_t *rows;
    size_t nrows, caprows;
    uint16_t *depth; /* tree: depth of each row */
    uint32_t *nkids; /* tree: children of each row */
    char *mark;      /* tree: '+' collapsed, '-' expanded, ' ' */
    int sort_col;
    bool invert;
    char filter[256]; /* terms separated by spaces; all must match,
                         ignoring case */
    bool tree;
    bool expand_all;       /* tree: every node open (batch mode) */
    struct idmap expanded; /* tree: open nodes */
    struct idmap tagged;   /* Space */
    size_t sel;            /* selected row */
    size_t top;            /* first row on screen */
    int64_t sel_id;        /* the selected item's id, kept across
                              snapshots */
    bool have_sel;
};

void panel_init(struct view *v, const struct view_ops *ops);
void panel_free(struct view *v);
/* Rebuild the items from m and lay the rows out again. */
int panel_update(struct view *v, const struct model *m);
/* Filter, sort and (tree) arrange items into rows; keeps the selection on
 * the same id when it is still shown. */
int panel_layout(struct view *v);
/* Grow v->items to hold n items (for builders); NULL on ENOMEM. */
void *panel_items(struct view *v, size_t n);
const void *panel_item(const struct view *v, size_t row);
int panel_find_col(const struct view *v, const char *name);
void panel_set_sort(struct view *v, int col);
void panel_set_filter(struct view *v, const char *filter);
bool panel_matches(const struct view *v, const void *item, const char *terms);
/* Move the selection to the next row (from the selected one, or the one
 * after it when next) whose text contains s, ignoring case; wraps.  False
 * if none does. */
bool panel_search(struct view *v, const char *s, bool next);
void panel_select(struct view *v, size_t row);
void panel_move(struct view *v, long delta);
/* Select the item with this id (expanding its ancestors in tree mode);
 * without an exact match, the first row whose id starts with the digits
 * of id.  False if none. */
bool panel_jump(struct view *v, int64_t id);
/* Tree: open or close the selected node; all of them. */
void panel_expand(struct view *v, bool open);
void panel_tag(struct view *v);
/* Keep the selection on screen in a window of height rows. */
void panel_scroll(struct view *v, int height);
/* The heading and row row, laid out in width characters (no newline). */
void panel_header_text(const struct view *v, char *buf, size_t len, int width);
void panel_row_text(const struct view *v, size_t row, char *buf, size_t len,
                    int width);
/* Column x positions for the curses layer: start of column col. */
int panel_col_x(const struct view *v, int col);

/* ---- the views ---- */

extern const struct view_ops view_goroutines_ops;
extern const struct view_ops view_groups_ops;
extern const struct view_ops view_procs_ops;
extern const struct view_ops view_chans_ops;
extern const struct view_ops view_leaks_ops;
extern const struct view_ops view_picker_ops;

/* The views a key or -v can pick, in Tab order. */
extern const struct view_ops *const view_all[];
extern const size_t view_nall;
const struct view_ops *view_by_name(const char *name);

/* view_picker.c: the processes are read by the caller (rd_list) and
 * handed to the view before panel_update. */
void view_picker_set(struct view *v, const struct rd_proc *procs, size_t n);

/* view_stack.c: the full stacks of goroutines goids, asked from the agent
 * and symbolised, as Go-format text (malloc'd, NUL-terminated).  Never
 * fails: an error becomes a line of the text. */
char *view_stack_text(struct model *m, const int64_t *goids, size_t n);

/* Is the module at path libgrt itself (libgrt.so.0, libgrt-0.1.so)? */
bool view_stack_is_libgrt(const char *path);
/* "func (file.c:42)" of dg's first frame that is not libgrt's own
 * (symbolised with sym; a bare pc without it); "" when it has none.
 * Returns buf. */
char *view_stack_where(struct rd_sym *sym, const struct rd_dump_g *dg,
                       char *buf, size_t len);

/* ---- batch.c ---- */

struct batch_opts {
    const char *views; /* comma-separated view names; "all" */
    const char *sort;  /* column name; NULL: the view's default */
    bool invert;
    const char *filter;
    bool tree;
    bool stacks;       /* the stack of each row's goroutine */
    bool stack_groups; /* groups view: by unwound stack (a full dump) */
    int graph_width;
};
/* Print the header and each view of m to f. */
int batch_print(FILE *f, struct model *m, const struct batch_opts *o);
/* Print the picker (processes of this user) to f. */
int batch_print_procs(FILE *f);

/* ---- curses layer ---- */

struct gtop_opts {
    int pid; /* 0: picker */
    const char *image;
    double delay_s;
    bool mono;
    const char *sort;
    const char *filter;
    bool invert;
    bool tree;
    const char *view;
    int64_t leak_threshold_ns;
};
int screen_run(const struct gtop_opts *o);

/* crt.c: colours by role; the attributes are curses attr_t values. */
enum crt_color {
    CRT_DEFAULT,
    CRT_TITLE,    /* column headings */
    CRT_SELECTED, /* the selected row */
    CRT_TAGGED,   /* tagged rows */
    CRT_LABEL,    /* meter labels */
    CRT_VALUE,    /* meter values */
    CRT_RUNNING,  /* bar segments by goroutine state */
    CRT_RUNNABLE,
    CRT_WAITING,
    CRT_SYSCALL,
    CRT_GRAPH,
    CRT_ALERT,      /* "program exited", errors */
    CRT_FKEY,       /* F-key numbers */
    CRT_FKEY_LABEL, /* their labels */
    CRT_TAB,        /* the current view's tab */
    CRT_INFO,       /* view info line */
    CRT_COUNT
};
extern int crt_attr[CRT_COUNT];
extern bool crt_utf8; /* the locale's charset is UTF-8: block graphs */
/* The signal that asks gtop to quit (SIGINT, SIGTERM, SIGHUP), or 0. */
extern volatile sig_atomic_t crt_quit_signal;
/* Set up the terminal (mono: no colours); idempotent teardown. */
void crt_init(bool mono);
void crt_done(void);
/* Print at (y, x) (y < 0: at the cursor) in attr, clipped at the right
 * edge: curses would wrap the rest onto the next line.  ASCII only. */
void crt_print(int y, int x, int attr, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Restore the terminal, print gtop: message, exit 1. */
_Noreturn void crt_fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
/* header.c: draw the meters from line y; returns the lines used. */
int header_draw(const struct model *m, int y, int width, int maxlines,
                int graph);

#endif /* GTOP_H */
