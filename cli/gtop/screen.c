/*
 * screen.c - gtop's main loop (htop's ScreenManager): wait for a key up
 * to the refresh delay; on each tick take a snapshot (model_refresh) and
 * rebuild the view on screen; then redraw everything from the model.
 * Keys go to the mode in front: the picker, a list view, the stack pager,
 * the help screen, the sort menu, or a search / filter prompt.
 *
 * Keys follow htop (F1 help, F3 or / search, F4 or \ filter, F5 or t
 * tree, F6 sort menu, < > sort column, I invert, Space tag, Z pause, q or
 * F10 quit, digits select a goroutine id) and tokio-console (j/k, gg/G,
 * Enter/Esc).  Only the view on screen is rebuilt on a tick, so the cost
 * of a refresh is one snapshot, one build and one sort of the shown view,
 * and drawing formats only the rows that fit.
 */
#include "config.h"

#include "gtop.h"

#include <curses.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum mode { M_PICKER, M_LIST, M_STACK, M_HELP, M_SORT };
enum input { IN_NONE, IN_SEARCH, IN_FILTER };

#define NVIEWS 5 /* view_all */

struct screen {
    const struct gtop_opts *o;
    struct model m;
    bool attached;
    struct view views[NVIEWS];
    bool dirty[NVIEWS]; /* built from an older snapshot */
    int cur;            /* index in views */
    struct view picker;
    struct rd_proc *procs;
    size_t nprocs;
    enum mode mode, back; /* back: where Esc returns from help/stack */
    enum input input;
    char inbuf[256];
    char *stack; /* pager text */
    char **lines;
    size_t nlines, stack_top;
    size_t sort_sel;   /* sort menu selection */
    int64_t digits;    /* typed goroutine id */
    int64_t digits_at; /* when the last digit was typed */
    bool pending_g;    /* first g of gg */
    int graph;         /* second graph */
    char msg[256];     /* one-line message at the bottom */
    int64_t next_tick;
    bool quit;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct view *curview(struct screen *s)
{
    return s->mode == M_PICKER ? &s->picker : &s->views[s->cur];
}

static void update_view(struct screen *s, int i)
{
    if (panel_update(&s->views[i], &s->m) != RD_OK)
        snprintf(s->msg, sizeof s->msg, "out of memory building the view");
    s->dirty[i] = false;
}

static void tick(struct screen *s)
{
    if (s->mode == M_PICKER) {
        if (s->procs)
            rd_list_free(s->procs);
        s->procs = NULL;
        s->nprocs = 0;
        if (rd_list(&s->procs, &s->nprocs) != RD_OK) {
            s->procs = NULL;
            s->nprocs = 0;
        }
        view_picker_set(&s->picker, s->procs, s->nprocs);
        panel_update(&s->picker, NULL);
        return;
    }
    if (!s->attached)
        return;
    uint64_t before = s->m.refreshes;
    model_refresh(&s->m);
    if (s->m.refreshes != before) {
        for (int i = 0; i < NVIEWS; i++)
            s->dirty[i] = true;
    }
    if (s->dirty[s->cur])
        update_view(s, s->cur);
}

static void set_view(struct screen *s, int i)
{
    s->cur = i;
    s->mode = M_LIST;
    s->m.want_leaks = view_all[i] == &view_leaks_ops;
    if (s->m.want_leaks && s->m.snap && s->m.leaks_at != s->m.now) {
        model_find_leaks(&s->m);
        s->dirty[i] = true;
    }
    if (s->dirty[i])
        update_view(s, i);
}

static bool attach(struct screen *s, int pid)
{
    int rc = model_open_pid(&s->m, pid);
    if (rc != RD_OK) {
        snprintf(s->msg, sizeof s->msg, "pid %d: %s", pid, rd_strerror(rc));
        return false;
    }
    s->m.leak_threshold_ns = s->o->leak_threshold_ns;
    s->m.leaks_lazy = true;
    s->m.want_leaks = view_all[s->cur] == &view_leaks_ops;
    rc = model_refresh(&s->m);
    if (rc != RD_OK) {
        snprintf(s->msg, sizeof s->msg, "pid %d: %s", pid, rd_strerror(rc));
        model_close(&s->m);
        return false;
    }
    s->attached = true;
    for (int i = 0; i < NVIEWS; i++)
        s->dirty[i] = true;
    set_view(s, s->cur);
    return true;
}

/* ---- drawing ---- */

static void fill_line(int y, int attr)
{
    attrset(attr);
    move(y, 0);
    for (int x = 0; x < COLS; x++)
        addch(' ');
    attrset(A_NORMAL);
}

static void draw_fkeys(struct screen *s)
{
    int y = LINES - 1;
    move(y, 0);
    clrtoeol();
    if (s->input != IN_NONE) {
        crt_print(y, 0, crt_attr[CRT_FKEY_LABEL], "%s",
                  s->input == IN_SEARCH ? "Search: " : "Filter: ");
        crt_print(-1, 0, A_NORMAL, "%s", s->inbuf);
        curs_set(1);
        return;
    }
    curs_set(0);
    if (s->msg[0]) {
        crt_print(y, 0, crt_attr[CRT_ALERT], "%s", s->msg);
        return;
    }
    static const char *const list[][2] = {
        {"F1", "Help"},   {"F2", "View"},  {"F3", "Search"},
        {"F4", "Filter"}, {"F5", "Tree"},  {"F6", "SortBy"},
        {"F7", "Group"},  {"F8", "Pause"}, {"F10", "Quit"},
    };
    static const char *const pager[][2] = {
        {"Esc", "Back"},
        {"j/k", "Scroll"},
        {"r", "Reload"},
        {"q", "Back"},
    };
    static const char *const pick[][2] = {
        {"Enter", "Open"},
        {"F1", "Help"},
        {"F3", "Search"},
        {"F10", "Quit"},
    };
    const char *const(*keys)[2] = list;
    size_t n = sizeof list / sizeof *list;
    if (s->mode == M_STACK || s->mode == M_HELP) {
        keys = pager;
        n = sizeof pager / sizeof *pager;
    } else if (s->mode == M_PICKER) {
        keys = pick;
        n = sizeof pick / sizeof *pick;
    }
    move(y, 0);
    fill_line(y, crt_attr[CRT_FKEY_LABEL]);
    move(y, 0);
    for (size_t i = 0; i < n; i++) {
        crt_print(-1, 0, crt_attr[CRT_FKEY], "%s", keys[i][0]);
        crt_print(-1, 0, crt_attr[CRT_FKEY_LABEL], "%-7s", keys[i][1]);
    }
}

static void draw_list(struct screen *s, struct view *v, int y, int h)
{
    char line[1200];
    char info[512] = "";
    if (v->ops->info)
        v->ops->info(v, &s->m, info, sizeof info);
    int ntag = (int)v->tagged.n;
    int ia = crt_attr[CRT_INFO];
    crt_print(y, 0, ia, "%s", info);
    crt_print(-1, 0, ia, "  [sort: %s%s]", v->ops->cols[v->sort_col].name,
              v->invert ? " desc" : "");
    if (v->filter[0])
        crt_print(-1, 0, ia, "  [filter: %s, %zu shown]", v->filter, v->nrows);
    if (ntag)
        crt_print(-1, 0, ia, "  [%d tagged]", ntag);
    y++;
    h--;
    panel_header_text(v, line, sizeof line, COLS);
    fill_line(y, crt_attr[CRT_TITLE]);
    attrset(crt_attr[CRT_TITLE]);
    mvaddnstr(y, 0, line, COLS);
    /* the sort column stands out */
    int sx = panel_col_x(v, v->sort_col);
    if (sx < COLS) {
        attrset(crt_attr[CRT_TAB] | A_UNDERLINE);
        const struct column *c = &v->ops->cols[v->sort_col];
        int w = c->width ? c->width : (int)strlen(c->title);
        mvaddnstr(y, sx, line + sx, sx + w > COLS ? COLS - sx : w);
    }
    attrset(A_NORMAL);
    y++;
    h--;
    panel_scroll(v, h);
    for (int r = 0; r < h; r++) {
        size_t row = v->top + (size_t)r;
        if (row >= v->nrows)
            break;
        panel_row_text(v, row, line, sizeof line, COLS);
        bool tagged =
            idmap_get(&v->tagged, v->ops->id(panel_item(v, row)), NULL);
        int attr = row == v->sel ? crt_attr[CRT_SELECTED]
                   : tagged      ? crt_attr[CRT_TAGGED]
                                 : (int)A_NORMAL;
        if (row == v->sel)
            fill_line(y + r, attr);
        attrset(attr);
        mvaddnstr(y + r, 0, line, COLS);
        attrset(A_NORMAL);
    }
    if (v->nrows == 0)
        crt_print(y, 0, A_NORMAL, "%s",
                  v->filter[0] ? "(no row matches the filter)"
                               : "(nothing to show)");
}

static void split_lines(struct screen *s)
{
    free(s->lines);
    s->lines = NULL;
    s->nlines = 0;
    s->stack_top = 0;
    size_t cap = 1;
    for (const char *p = s->stack; *p; p++)
        cap += *p == '\n';
    s->lines = calloc(cap + 1, sizeof *s->lines);
    if (!s->lines)
        return;
    for (char *p = s->stack; p && *p;) {
        s->lines[s->nlines++] = p;
        char *nl = strchr(p, '\n');
        if (!nl)
            break;
        *nl = 0;
        p = nl + 1;
    }
}

static void draw_pager(struct screen *s, int y, int h, const char *title)
{
    fill_line(y, crt_attr[CRT_TITLE]);
    attrset(crt_attr[CRT_TITLE]);
    mvaddnstr(y, 0, title, COLS);
    attrset(A_NORMAL);
    y++;
    h--;
    if (s->nlines > (size_t)h && s->stack_top > s->nlines - (size_t)h)
        s->stack_top = s->nlines - (size_t)h;
    if (s->nlines <= (size_t)h)
        s->stack_top = 0;
    for (int r = 0; r < h && s->stack_top + (size_t)r < s->nlines; r++) {
        const char *l = s->lines[s->stack_top + (size_t)r];
        move(y + r, 0);
        /* tabs as 8 columns */
        int x = 0;
        for (const char *p = l; *p && x < COLS; p++) {
            if (*p == '\t') {
                do
                    addch(' ');
                while (++x % 8 && x < COLS);
            } else {
                addch((chtype)(unsigned char)*p);
                x++;
            }
        }
    }
}

static const char help_text[] =
    "gtop - a live view of a grt program's goroutines (see gtop(1))\n"
    "\n"
    "Views:   o goroutines   s groups (same site and state)   p processors "
    "and threads\n"
    "         c channels     l leaks      Tab/F2 next view   Shift-Tab "
    "previous\n"
    "Moving:  j/k or arrows, PgUp/PgDn, gg/Home top, G/End bottom,\n"
    "         digits: select goroutine id (typed within a second)\n"
    "Enter    the full stack of the selected goroutine (of tagged ones, if "
    "any),\n"
    "         asked from the program now; Esc or q returns\n"
    "F3 /     incremental search (n or F3 again: next match)\n"
    "F4 \\     filter: rows containing every term, ignoring case; Esc "
    "clears\n"
    "F5 t     tree by parent goroutine (collapsed): + or Right opens, - or "
    "Left\n"
    "         closes, * opens all\n"
    "F6       sort menu;  < > previous / next sort column;  I invert\n"
    "F7 s     group goroutines by creation site and state, with counts;\n"
    "         S there: by unwound stack (asks for every stack once)\n"
    "Space    tag (U untags all)\n"
    "F8 Z     pause / resume refreshing\n"
    "m        cycle the second graph (switches/s, created/s, runnable)\n"
    "Ctrl-L   redraw      q F10  quit\n"
    "\n"
    "Header: goroutines by state (bar: running, runnable, in a blocking "
    "call,\n"
    "waiting), processors busy of GOMAXPROCS, stack and heap in use of "
    "obtained,\n"
    "threads, rates per second, leaks, and graphs of the last two "
    "minutes.\n"
    "When the program exits the header says so and the screen is kept.\n";

static void open_pager(struct screen *s, char *text)
{
    free(s->stack);
    s->stack = text;
    split_lines(s);
}

static void draw(struct screen *s)
{
    erase();
    if (LINES < 8 || COLS < 30) {
        crt_print(0, 0, A_NORMAL, "terminal too small");
        refresh();
        return;
    }
    int y = 0;
    if (s->mode == M_PICKER) {
        crt_print(0, 0, A_BOLD, "gtop: choose a grt process");
        draw_list(s, &s->picker, 2, LINES - 3);
        draw_fkeys(s);
        refresh();
        return;
    }
    y = header_draw(&s->m, 0, COLS, LINES - 8, s->graph);
    /* the view bar */
    move(y, 0);
    for (int i = 0; i < NVIEWS; i++) {
        const struct view_ops *ops = view_all[i];
        crt_print(-1, 0,
                  i == s->cur && s->mode == M_LIST ? crt_attr[CRT_TAB]
                                                   : crt_attr[CRT_LABEL],
                  " %s:%s ", ops->key, ops->name);
        crt_print(-1, 0, A_NORMAL, " ");
    }
    y++;
    int h = LINES - 1 - y;
    if (s->mode == M_STACK) {
        draw_pager(s, y, h, "Stack (Esc: back, r: reload)");
    } else if (s->mode == M_HELP) {
        draw_pager(s, y, h, "Help (Esc: back)");
    } else if (s->mode == M_SORT) {
        struct view *v = curview(s);
        fill_line(y, crt_attr[CRT_TITLE]);
        crt_print(y, 0, crt_attr[CRT_TITLE],
                  "Sort by (Enter: choose, Esc: cancel)");
        for (int c = 0; c < v->ops->ncols && y + 1 + c < LINES - 1; c++) {
            crt_print(y + 1 + c, 0,
                      (size_t)c == s->sort_sel ? crt_attr[CRT_SELECTED]
                                               : (int)A_NORMAL,
                      "%-12s %s", v->ops->cols[c].title,
                      v->ops->cols[c].description);
        }
    } else {
        draw_list(s, curview(s), y, h);
    }
    draw_fkeys(s);
    refresh();
}

/* ---- keys ---- */

static void show_stack(struct screen *s)
{
    struct view *v = curview(s);
    int64_t *goids = NULL;
    size_t n = 0;
    if (v->tagged.n && v->ops == &view_goroutines_ops) {
        goids = calloc(v->tagged.n, sizeof *goids);
        for (size_t i = 0; goids && i < v->tagged.cap; i++)
            if (v->tagged.keys[i])
                goids[n++] = v->tagged.keys[i] - 1;
    } else if (v->nrows && v->ops->goid) {
        int64_t g = v->ops->goid(panel_item(v, v->sel));
        if (g > 0) {
            goids = malloc(sizeof *goids);
            if (goids)
                goids[n++] = g;
        }
    }
    if (n == 0) {
        snprintf(s->msg, sizeof s->msg, "no goroutine here to show");
        free(goids);
        return;
    }
    open_pager(s, view_stack_text(&s->m, goids, n));
    free(goids);
    s->mode = M_STACK;
}

static void prompt_key(struct screen *s, int ch)
{
    struct view *v = curview(s);
    size_t len = strlen(s->inbuf);
    if (ch == 27) { /* Esc */
        if (s->input == IN_FILTER) {
            panel_set_filter(v, "");
            panel_layout(v);
        }
        s->input = IN_NONE;
        return;
    }
    if (ch == '\r' || ch == '\n' || ch == KEY_ENTER) {
        s->input = IN_NONE;
        return;
    }
    if (ch == KEY_F(3) && s->input == IN_SEARCH) {
        panel_search(v, s->inbuf, true);
        return;
    }
    if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
        if (len)
            s->inbuf[len - 1] = 0;
    } else if (ch >= 32 && ch < 127 && len + 1 < sizeof s->inbuf) {
        s->inbuf[len] = (char)ch;
        s->inbuf[len + 1] = 0;
    } else {
        return;
    }
    if (s->input == IN_FILTER) {
        panel_set_filter(v, s->inbuf);
        panel_layout(v);
    } else if (!panel_search(v, s->inbuf, false) && s->inbuf[0]) {
        beep();
    }
}

static void pager_key(struct screen *s, int ch)
{
    int h = LINES - 10;
    if (h < 1)
        h = 1;
    switch (ch) {
    case 'j':
    case KEY_DOWN:
        s->stack_top++;
        break;
    case 'k':
    case KEY_UP:
        if (s->stack_top)
            s->stack_top--;
        break;
    case KEY_NPAGE:
    case ' ':
        s->stack_top += (size_t)h;
        break;
    case KEY_PPAGE:
        s->stack_top = s->stack_top > (size_t)h ? s->stack_top - (size_t)h : 0;
        break;
    case 'g':
    case KEY_HOME:
        s->stack_top = 0;
        break;
    case 'G':
    case KEY_END:
        s->stack_top = s->nlines;
        break;
    case 'r':
        if (s->mode == M_STACK)
            show_stack(s);
        break;
    case 27:
    case 'q':
    case '\r':
    case '\n':
    case KEY_ENTER:
    case KEY_BACKSPACE:
    case KEY_F(1):
    case KEY_F(10):
        s->mode = s->back;
        break;
    }
}

static void sort_key(struct screen *s, int ch)
{
    struct view *v = curview(s);
    switch (ch) {
    case 'j':
    case KEY_DOWN:
        if (s->sort_sel + 1 < (size_t)v->ops->ncols)
            s->sort_sel++;
        break;
    case 'k':
    case KEY_UP:
        if (s->sort_sel)
            s->sort_sel--;
        break;
    case '\r':
    case '\n':
    case KEY_ENTER:
        panel_set_sort(v, (int)s->sort_sel);
        panel_layout(v);
        s->mode = M_LIST;
        break;
    case 27:
    case 'q':
    case KEY_F(6):
        s->mode = M_LIST;
        break;
    }
}

static void list_key(struct screen *s, int ch)
{
    struct view *v = curview(s);
    int h = LINES - 14;
    if (h < 1)
        h = 1;
    bool was_g = s->pending_g;
    s->pending_g = false;
    if (ch >= '0' && ch <= '9' && s->mode == M_LIST) {
        int64_t t = now_ns();
        if (t - s->digits_at > 1000000000)
            s->digits = 0;
        s->digits_at = t;
        if (s->digits < INT64_MAX / 100)
            s->digits = s->digits * 10 + (ch - '0');
        if (!panel_jump(v, s->digits))
            snprintf(s->msg, sizeof s->msg, "no goroutine %" PRId64, s->digits);
        return;
    }
    s->digits = 0;
    switch (ch) {
    case 'q':
    case KEY_F(10):
        s->quit = true;
        break;
    case 'h':
    case '?':
    case KEY_F(1):
        s->back = s->mode;
        open_pager(s, strdup(help_text));
        s->mode = M_HELP;
        break;
    case 'j':
    case KEY_DOWN:
        panel_move(v, 1);
        break;
    case 'k':
    case KEY_UP:
        panel_move(v, -1);
        break;
    case KEY_NPAGE:
        panel_move(v, h);
        break;
    case KEY_PPAGE:
        panel_move(v, -h);
        break;
    case 'g':
        if (was_g)
            panel_select(v, 0);
        else
            s->pending_g = true;
        break;
    case KEY_HOME:
        panel_select(v, 0);
        break;
    case 'G':
    case KEY_END:
        panel_select(v, v->nrows ? v->nrows - 1 : 0);
        break;
    case '/':
    case KEY_F(3):
        s->input = IN_SEARCH;
        s->inbuf[0] = 0;
        break;
    case 'n':
        if (!panel_search(v, s->inbuf, true))
            beep();
        break;
    case '\\':
    case KEY_F(4):
        s->input = IN_FILTER;
        snprintf(s->inbuf, sizeof s->inbuf, "%s", v->filter);
        break;
    case '<':
    case ',':
        panel_set_sort(v,
                       v->sort_col > 0 ? v->sort_col - 1 : v->ops->ncols - 1);
        panel_layout(v);
        break;
    case '>':
    case '.':
        panel_set_sort(v, (v->sort_col + 1) % v->ops->ncols);
        panel_layout(v);
        break;
    case 'I':
        v->invert = !v->invert;
        panel_layout(v);
        break;
    case ' ':
        panel_tag(v);
        panel_move(v, 1);
        break;
    case 'U':
        idmap_clear(&v->tagged);
        break;
    case 12: /* Ctrl-L */
        clearok(curscr, TRUE);
        break;
    case '\r':
    case '\n':
    case KEY_ENTER:
        if (s->mode == M_PICKER) {
            const struct rd_proc *p = panel_item(v, v->sel);
            if (p && attach(s, p->pid))
                s->msg[0] = 0;
            break;
        }
        s->back = M_LIST;
        show_stack(s);
        break;
    }
    if (s->mode == M_PICKER)
        return;
    switch (ch) {
    case 27:
        if (v->ops == &view_groups_ops) {
            set_view(s, 0);
        } else if (v->filter[0]) {
            panel_set_filter(v, "");
            panel_layout(v);
        }
        break;
    case '\t':
    case KEY_F(2):
        set_view(s, (s->cur + 1) % NVIEWS);
        break;
    case KEY_BTAB:
        set_view(s, (s->cur + NVIEWS - 1) % NVIEWS);
        break;
    case 'o':
        set_view(s, 0);
        break;
    case 's':
    case KEY_F(7):
        set_view(s, s->cur == 1 ? 0 : 1);
        break;
    case 'p':
        set_view(s, 2);
        break;
    case 'c':
        set_view(s, 3);
        break;
    case 'l':
        set_view(s, 4);
        break;
    case 't':
    case KEY_F(5):
        if (v->ops->tree_col < 0) {
            snprintf(s->msg, sizeof s->msg, "no tree in this view");
            break;
        }
        v->tree = !v->tree;
        v->expand_all = false;
        panel_layout(v);
        break;
    case '+':
    case '=':
    case KEY_RIGHT:
        panel_expand(v, true);
        break;
    case '-':
    case KEY_LEFT:
        panel_expand(v, false);
        break;
    case '*':
        v->expand_all = !v->expand_all;
        if (!v->expand_all)
            idmap_clear(&v->expanded);
        panel_layout(v);
        break;
    case KEY_F(6):
        s->sort_sel = (size_t)v->sort_col;
        s->mode = M_SORT;
        break;
    case 'Z':
    case 'z':
    case KEY_F(8):
        s->m.paused = !s->m.paused;
        break;
    case 'm':
        s->graph = s->graph % (METER_G_COUNT - 1) + 1;
        break;
    case 'S':
        if (v->ops != &view_groups_ops) {
            snprintf(s->msg, sizeof s->msg,
                     "S groups by stack in the groups view (s)");
            break;
        }
        if (s->m.dump) {
            model_dump_drop(&s->m);
        } else {
            int rc = model_dump_all(&s->m);
            if (rc != RD_OK)
                snprintf(s->msg, sizeof s->msg, "no stacks: %s",
                         rd_strerror(rc));
        }
        update_view(s, s->cur);
        break;
    }
}

static void on_key(struct screen *s, int ch)
{
    if (ch != ERR && ch != KEY_RESIZE && s->input == IN_NONE)
        s->msg[0] = 0;
    if (ch == KEY_RESIZE || ch == ERR)
        return;
    if (s->input != IN_NONE) {
        prompt_key(s, ch);
        return;
    }
    switch (s->mode) {
    case M_STACK:
    case M_HELP:
        pager_key(s, ch);
        break;
    case M_SORT:
        sort_key(s, ch);
        break;
    default:
        list_key(s, ch);
    }
}

int screen_run(const struct gtop_opts *o)
{
    static struct screen scr;
    struct screen *s = &scr;
    s->o = o;
    s->graph = METER_G_CTXSW;
    for (int i = 0; i < NVIEWS; i++) {
        panel_init(&s->views[i], view_all[i]);
        s->dirty[i] = true;
    }
    panel_init(&s->picker, &view_picker_ops);
    const struct view_ops *start = o->view ? view_by_name(o->view) : NULL;
    for (int i = 0; start && i < NVIEWS; i++)
        if (view_all[i] == start)
            s->cur = i;
    struct view *g = &s->views[0];
    if (o->sort) {
        int c = panel_find_col(g, o->sort);
        if (c >= 0)
            panel_set_sort(g, c);
    }
    if (o->filter)
        panel_set_filter(g, o->filter);
    g->tree = o->tree;
    if (o->invert)
        g->invert = !g->invert;

    if (o->image) {
        const char *why;
        int rc = model_open_image(&s->m, o->image, &why);
        if (rc == RD_OK) {
            s->m.leak_threshold_ns = o->leak_threshold_ns;
            rc = model_refresh(&s->m);
        }
        if (rc != RD_OK) {
            fprintf(stderr, "gtop: %s: %s\n", o->image,
                    why ? why : rd_strerror(rc));
            return 1;
        }
        s->attached = true;
        s->mode = M_LIST;
    } else if (o->pid > 0) {
        int rc = model_open_pid(&s->m, o->pid);
        if (rc == RD_OK) {
            s->m.leak_threshold_ns = o->leak_threshold_ns;
            s->m.leaks_lazy = true;
            s->m.want_leaks = view_all[s->cur] == &view_leaks_ops;
            rc = model_refresh(&s->m);
        }
        if (rc != RD_OK) {
            fprintf(stderr, "gtop: pid %d: %s\n", o->pid, rd_strerror(rc));
            return 1;
        }
        s->attached = true;
        s->mode = M_LIST;
    } else {
        s->mode = M_PICKER;
    }

    crt_init(o->mono);
    int64_t delay = (int64_t)(o->delay_s * 1e9);
    if (delay < 10000000)
        delay = 10000000;
    s->next_tick = 0;
    while (!s->quit && !crt_quit_signal) {
        int64_t t = now_ns();
        if (t >= s->next_tick) {
            tick(s);
            s->next_tick = t + delay;
        } else if (s->mode == M_LIST && s->dirty[s->cur]) {
            update_view(s, s->cur);
        }
        draw(s);
        int64_t wait = (s->next_tick - now_ns()) / 1000000;
        timeout(wait < 0 ? 0 : wait > 1000 ? 1000 : (int)wait);
        on_key(s, getch());
    }
    crt_done();
    for (int i = 0; i < NVIEWS; i++)
        panel_free(&s->views[i]);
    panel_free(&s->picker);
    if (s->procs)
        rd_list_free(s->procs);
    free(s->stack);
    free(s->lines);
    if (s->attached)
        model_close(&s->m);
    return 0;
}
