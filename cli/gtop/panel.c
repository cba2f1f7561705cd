/*
 * panel.c - the generic list every gtop view is (after htop's Panel):
 * items built by a view from a snapshot, laid out into rows by filter,
 * sort and, optionally, a tree by parent; a selection that follows its
 * item across snapshots; incremental search; tags.  No curses: the
 * screen draws rows as text, batch mode prints them.
 *
 * Layout cost for n items: the filter is one pass (only when set: it
 * formats each row's text), the sort one qsort_r of row indexes with the
 * column's comparator, ties by id so the order is total and stable from
 * one snapshot to the next; the tree an id map and one depth-first walk
 * that descends only into open nodes, so 100,000 children of a collapsed
 * main cost one pass.  Drawing formats only the rows on screen.
 */
#include "config.h"

#include "gtop.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- idmap ---- */

static size_t hash64(int64_t k)
{
    uint64_t x = (uint64_t)k * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(x ^ (x >> 29));
}

/* Keys are stored + 1 so that 0 marks an empty slot; INT64_MAX is not a
 * key any view uses. */
static bool idmap_grow(struct idmap *s)
{
    size_t nc = s->cap ? s->cap * 2 : 64;
    int64_t *k = calloc(nc, sizeof *k);
    size_t *v = calloc(nc, sizeof *v);
    if (!k || !v) {
        free(k);
        free(v);
        return false;
    }
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->keys[i])
            continue;
        size_t j = hash64(s->keys[i]) & (nc - 1);
        while (k[j])
            j = (j + 1) & (nc - 1);
        k[j] = s->keys[i];
        v[j] = s->vals[i];
    }
    free(s->keys);
    free(s->vals);
    s->keys = k;
    s->vals = v;
    s->cap = nc;
    return true;
}

bool idmap_put(struct idmap *s, int64_t key, size_t val)
{
    if ((s->n + 1) * 2 > s->cap && !idmap_grow(s))
        return false;
    int64_t k = key + 1;
    size_t j = hash64(k) & (s->cap - 1);
    while (s->keys[j] && s->keys[j] != k)
        j = (j + 1) & (s->cap - 1);
    if (!s->keys[j])
        s->n++;
    s->keys[j] = k;
    s->vals[j] = val;
    return true;
}

bool idmap_get(const struct idmap *s, int64_t key, size_t *val)
{
    if (!s->cap)
        return false;
    int64_t k = key + 1;
    size_t j = hash64(k) & (s->cap - 1);
    while (s->keys[j]) {
        if (s->keys[j] == k) {
            if (val)
                *val = s->vals[j];
            return true;
        }
        j = (j + 1) & (s->cap - 1);
    }
    return false;
}

bool idmap_del(struct idmap *s, int64_t key)
{
    if (!s->cap)
        return false;
    int64_t k = key + 1;
    size_t j = hash64(k) & (s->cap - 1);
    while (s->keys[j] && s->keys[j] != k)
        j = (j + 1) & (s->cap - 1);
    if (!s->keys[j])
        return false;
    /* backward-shift deletion keeps probe chains whole */
    s->keys[j] = 0;
    s->n--;
    for (size_t i = (j + 1) & (s->cap - 1); s->keys[i];
         i = (i + 1) & (s->cap - 1)) {
        int64_t rk = s->keys[i];
        size_t rv = s->vals[i];
        s->keys[i] = 0;
        s->n--;
        idmap_put(s, rk - 1, rv);
    }
    return true;
}

void idmap_clear(struct idmap *s)
{
    if (s->cap)
        memset(s->keys, 0, s->cap * sizeof *s->keys);
    s->n = 0;
}

void idmap_free(struct idmap *s)
{
    free(s->keys);
    free(s->vals);
    memset(s, 0, sizeof *s);
}

/* ---- the panel ---- */

void panel_init(struct view *v, const struct view_ops *ops)
{
    memset(v, 0, sizeof *v);
    v->ops = ops;
    v->sort_col = ops->default_sort;
    v->invert = ops->default_invert;
}

void panel_free(struct view *v)
{
    if (v->ops && v->ops->release)
        v->ops->release(v);
    free(v->items);
    free(v->rows);
    free(v->depth);
    free(v->nkids);
    free(v->mark);
    idmap_free(&v->expanded);
    idmap_free(&v->tagged);
    memset(v, 0, sizeof *v);
}

void *panel_items(struct view *v, size_t n)
{
    if (n > v->capitems || !v->items) { /* never NULL, even for 0 */
        size_t nc = n < 64 ? 64 : n + n / 2;
        void *p = realloc(v->items, nc * v->ops->item_size);
        if (!p)
            return NULL;
        v->items = p;
        v->capitems = nc;
    }
    return v->items;
}

const void *panel_item(const struct view *v, size_t row)
{
    if (row >= v->nrows)
        return NULL;
    return (const char *)v->items + v->rows[row] * v->ops->item_size;
}

static const void *item_at(const struct view *v, size_t i)
{
    return (const char *)v->items + i * v->ops->item_size;
}

int panel_update(struct view *v, const struct model *m)
{
    int rc = v->ops->build(v, m);
    if (rc != RD_OK)
        v->nitems = 0;
    int rc2 = panel_layout(v);
    return rc != RD_OK ? rc : rc2;
}

int panel_find_col(const struct view *v, const char *name)
{
    for (int i = 0; i < v->ops->ncols; i++)
        if (strcasecmp(v->ops->cols[i].name, name) == 0 ||
            strcasecmp(v->ops->cols[i].title, name) == 0)
            return i;
    return -1;
}

void panel_set_sort(struct view *v, int col)
{
    if (col >= 0 && col < v->ops->ncols)
        v->sort_col = col;
}

void panel_set_filter(struct view *v, const char *filter)
{
    snprintf(v->filter, sizeof v->filter, "%s", filter ? filter : "");
}

/* Does every space-separated term of terms occur in text, ignoring case? */
static bool match_terms(const char *text, const char *terms)
{
    const char *p = terms;
    char term[256];
    for (;;) {
        while (*p == ' ')
            p++;
        if (!*p)
            return true;
        size_t n = strcspn(p, " ");
        if (n >= sizeof term)
            n = sizeof term - 1;
        memcpy(term, p, n);
        term[n] = 0;
        p += strcspn(p, " ");
        if (!strcasestr(text, term))
            return false;
    }
}

bool panel_matches(const struct view *v, const void *item, const char *terms)
{
    char text[1024];
    v->ops->text(v, item, text, sizeof text);
    return match_terms(text, terms);
}

static int row_cmp(const void *a, const void *b, void *ctx)
{
    const struct view *v = ctx;
    const void *x = item_at(v, *(const size_t *)a);
    const void *y = item_at(v, *(const size_t *)b);
    int c = v->ops->cols[v->sort_col].compare(x, y);
    if (v->invert)
        c = -c;
    if (c == 0) {
        int64_t i = v->ops->id(x), j = v->ops->id(y);
        c = (i > j) - (i < j);
    }
    return c;
}

static bool grow_rows(struct view *v, size_t n)
{
    if (n <= v->caprows)
        return true;
    size_t nc = n + n / 2 + 16;
    size_t *r = realloc(v->rows, nc * sizeof *r);
    if (r)
        v->rows = r;
    uint16_t *d = realloc(v->depth, nc * sizeof *d);
    if (d)
        v->depth = d;
    uint32_t *k = realloc(v->nkids, nc * sizeof *k);
    if (k)
        v->nkids = k;
    char *mk = realloc(v->mark, nc);
    if (mk)
        v->mark = mk;
    if (!r || !d || !k || !mk)
        return false;
    v->caprows = nc;
    return true;
}

/* Arrange the sorted rows as a tree by parent: roots in sorted order, each
 * followed by its children (sorted) when it is open. */
static int tree_layout(struct view *v, size_t n)
{
    int rc = RD_ENOMEM;
    size_t *sorted = malloc((n ? n : 1) * sizeof *sorted);
    size_t *first = malloc((n ? n : 1) * sizeof *first);
    size_t *last = malloc((n ? n : 1) * sizeof *last);
    size_t *next = malloc((n ? n : 1) * sizeof *next);
    size_t *stack = malloc((n ? n : 1) * sizeof *stack);
    uint16_t *sdepth = malloc((n ? n : 1) * sizeof *sdepth);
    bool *seen = calloc(n ? n : 1, sizeof *seen);
    bool *child = calloc(n ? n : 1, sizeof *child);
    uint32_t *kids = calloc(n ? n : 1, sizeof *kids);
    struct idmap pos = {0};
    if (!sorted || !first || !last || !next || !stack || !sdepth || !seen ||
        !child || !kids)
        goto out;
    memcpy(sorted, v->rows, n * sizeof *sorted);
    for (size_t i = 0; i < n; i++) {
        first[i] = last[i] = next[i] = SIZE_MAX;
        if (!idmap_put(&pos, v->ops->id(item_at(v, sorted[i])), i))
            goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const void *it = item_at(v, sorted[i]);
        size_t p;
        if (idmap_get(&pos, v->ops->parent(it), &p) && p != i) {
            child[i] = true;
            kids[p]++;
            if (first[p] == SIZE_MAX)
                first[p] = i;
            else
                next[last[p]] = i;
            last[p] = i;
        }
    }
    size_t out_n = 0;
    /* Depth-first from the roots in sorted order.  Every node reached is
     * marked seen, shown or not (under a closed node it is hidden), so
     * that the second pass finds only what a cycle of parents kept from
     * any root, and shows it as roots. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t r = 0; r < n; r++) {
            if (seen[r] || (pass == 0 && child[r]))
                continue;
            size_t sp = 0;
            stack[sp] = r;
            sdepth[sp++] = 0;
            seen[r] = true;
            while (sp) {
                size_t i = stack[--sp];
                uint16_t d = sdepth[sp];
                bool shown = !(d & 0x8000);
                d &= 0x7fff;
                int64_t id = v->ops->id(item_at(v, sorted[i]));
                bool open = v->expand_all || idmap_get(&v->expanded, id, NULL);
                if (shown) {
                    v->rows[out_n] = sorted[i];
                    v->depth[out_n] = d;
                    v->nkids[out_n] = kids[i];
                    v->mark[out_n] = kids[i] == 0 ? ' ' : open ? '-' : '+';
                    out_n++;
                }
                /* push children in reverse so the first pops first */
                size_t nk = 0;
                for (size_t c = first[i]; c != SIZE_MAX; c = next[c])
                    if (!seen[c])
                        nk++;
                size_t base = sp;
                sp += nk;
                size_t k = 0;
                uint16_t cd = (uint16_t)(d < 0x7ffe ? d + 1 : d);
                if (!(shown && open))
                    cd |= 0x8000; /* hidden */
                for (size_t c = first[i]; c != SIZE_MAX; c = next[c]) {
                    if (seen[c])
                        continue;
                    seen[c] = true;
                    stack[base + nk - 1 - k] = c;
                    sdepth[base + nk - 1 - k] = cd;
                    k++;
                }
            }
        }
    }
    v->nrows = out_n;
    rc = RD_OK;
out:
    idmap_free(&pos);
    free(sorted);
    free(first);
    free(last);
    free(next);
    free(stack);
    free(sdepth);
    free(seen);
    free(child);
    free(kids);
    return rc;
}

int panel_layout(struct view *v)
{
    if (!grow_rows(v, v->nitems + 1))
        return RD_ENOMEM;
    size_t n = 0;
    bool filtering = v->filter[strspn(v->filter, " ")] != 0;
    for (size_t i = 0; i < v->nitems; i++)
        if (!filtering || panel_matches(v, item_at(v, i), v->filter))
            v->rows[n++] = i;
    if (v->sort_col >= v->ops->ncols || v->sort_col < 0)
        v->sort_col = v->ops->default_sort;
    qsort_r(v->rows, n, sizeof *v->rows, row_cmp, v);
    v->nrows = n;
    for (size_t i = 0; i < n; i++) {
        v->depth[i] = 0;
        v->nkids[i] = 0;
        v->mark[i] = ' ';
    }
    int rc = RD_OK;
    if (v->tree && v->ops->parent && v->ops->tree_col >= 0)
        rc = tree_layout(v, n);
    /* keep the selection on its item */
    if (v->have_sel) {
        for (size_t i = 0; i < v->nrows; i++) {
            if (v->ops->id(panel_item(v, i)) == v->sel_id) {
                v->sel = i;
                return rc;
            }
        }
    }
    if (v->sel >= v->nrows)
        v->sel = v->nrows ? v->nrows - 1 : 0;
    if (v->nrows)
        panel_select(v, v->sel);
    return rc;
}

void panel_select(struct view *v, size_t row)
{
    if (v->nrows == 0) {
        v->sel = 0;
        v->have_sel = false;
        return;
    }
    if (row >= v->nrows)
        row = v->nrows - 1;
    v->sel = row;
    v->sel_id = v->ops->id(panel_item(v, row));
    v->have_sel = true;
}

void panel_move(struct view *v, long delta)
{
    long r = (long)v->sel + delta;
    if (r < 0)
        r = 0;
    panel_select(v, (size_t)r);
}

bool panel_search(struct view *v, const char *s, bool next)
{
    if (!s[0] || v->nrows == 0)
        return false;
    char text[1024];
    for (size_t k = next ? 1 : 0; k < v->nrows + (next ? 1 : 0); k++) {
        size_t r = (v->sel + k) % v->nrows;
        v->ops->text(v, panel_item(v, r), text, sizeof text);
        if (strcasestr(text, s)) {
            panel_select(v, r);
            return true;
        }
    }
    return false;
}

/* Does the decimal form of id start with the digits of want? */
static bool id_prefix(int64_t id, int64_t want)
{
    char a[24], b[24];
    snprintf(a, sizeof a, "%" PRId64, id);
    snprintf(b, sizeof b, "%" PRId64, want);
    return strncmp(a, b, strlen(b)) == 0;
}

bool panel_jump(struct view *v, int64_t id)
{
    /* tree: open the ancestors of a hidden item first */
    if (v->tree && v->ops->parent) {
        const void *it = NULL;
        for (size_t i = 0; i < v->nitems && !it; i++)
            if (v->ops->id(item_at(v, i)) == id)
                it = item_at(v, i);
        for (int guard = 0; it && guard < 10000; guard++) {
            int64_t p = v->ops->parent(it);
            const void *pit = NULL;
            for (size_t i = 0; i < v->nitems && !pit; i++)
                if (v->ops->id(item_at(v, i)) == p)
                    pit = item_at(v, i);
            if (!pit || idmap_get(&v->expanded, p, NULL))
                break;
            idmap_put(&v->expanded, p, 1);
            it = pit;
        }
        panel_layout(v);
    }
    for (size_t r = 0; r < v->nrows; r++)
        if (v->ops->id(panel_item(v, r)) == id) {
            panel_select(v, r);
            return true;
        }
    for (size_t r = 0; r < v->nrows; r++)
        if (id_prefix(v->ops->id(panel_item(v, r)), id)) {
            panel_select(v, r);
            return true;
        }
    return false;
}

void panel_expand(struct view *v, bool open)
{
    if (!v->tree || v->nrows == 0)
        return;
    int64_t id = v->ops->id(panel_item(v, v->sel));
    if (open) {
        idmap_put(&v->expanded, id, 1);
    } else if (!idmap_del(&v->expanded, id) && v->depth[v->sel] > 0) {
        /* a closed node or a leaf: close its parent, select it */
        int64_t p = v->ops->parent(panel_item(v, v->sel));
        idmap_del(&v->expanded, p);
        v->sel_id = p;
    }
    panel_layout(v);
}

void panel_tag(struct view *v)
{
    if (v->nrows == 0)
        return;
    int64_t id = v->ops->id(panel_item(v, v->sel));
    if (!idmap_del(&v->tagged, id))
        idmap_put(&v->tagged, id, 1);
}

void panel_scroll(struct view *v, int height)
{
    if (height < 1)
        height = 1;
    if (v->sel < v->top)
        v->top = v->sel;
    if (v->sel >= v->top + (size_t)height)
        v->top = v->sel - (size_t)height + 1;
    if (v->top + (size_t)height > v->nrows)
        v->top = v->nrows > (size_t)height ? v->nrows - (size_t)height : 0;
}

int panel_col_x(const struct view *v, int col)
{
    int x = 0;
    for (int i = 0; i < col && i < v->ops->ncols; i++)
        x += v->ops->cols[i].width + 1;
    return x;
}

/* Append cell text to buf at column position x with width w. */
static size_t put_cell(char *buf, size_t len, size_t o, const char *text, int w,
                       bool right, bool last, int maxw)
{
    int tl = (int)strlen(text);
    if (last) {
        w = maxw - (int)o;
        if (w < 0)
            w = 0;
        if (tl < w)
            w = tl;
    }
    if (tl > w)
        tl = w;
    int pad = w - tl;
    if (o + (size_t)w + 2 >= len)
        return o;
    if (right) {
        memset(buf + o, ' ', (size_t)pad);
        memcpy(buf + o + pad, text, (size_t)tl);
    } else {
        memcpy(buf + o, text, (size_t)tl);
        memset(buf + o + tl, ' ', (size_t)pad);
    }
    o += (size_t)w;
    buf[o] = 0;
    return o;
}

void panel_header_text(const struct view *v, char *buf, size_t len, int width)
{
    size_t o = 0;
    buf[0] = 0;
    for (int c = 0; c < v->ops->ncols; c++) {
        const struct column *col = &v->ops->cols[c];
        bool last = c == v->ops->ncols - 1;
        o = put_cell(buf, len, o, col->title, col->width, col->right, last,
                     width);
        if (!last && o + 1 < len && (int)o < width) {
            buf[o++] = ' ';
            buf[o] = 0;
        }
    }
    while (o > 0 && buf[o - 1] == ' ')
        buf[--o] = 0;
}

void panel_row_text(const struct view *v, size_t row, char *buf, size_t len,
                    int width)
{
    const void *it = panel_item(v, row);
    size_t o = 0;
    buf[0] = 0;
    if (!it)
        return;
    for (int c = 0; c < v->ops->ncols; c++) {
        const struct column *col = &v->ops->cols[c];
        bool last = c == v->ops->ncols - 1;
        char cell[512];
        v->ops->cell(v, it, c, cell, sizeof cell);
        if (v->tree && c == v->ops->tree_col) {
            char t[600];
            int ind = 2 * v->depth[row];
            if (ind > 60)
                ind = 60;
            if (v->mark[row] == '+')
                snprintf(t, sizeof t, "%*s+ %s (%" PRIu32 ")", ind, "", cell,
                         v->nkids[row]);
            else
                snprintf(t, sizeof t, "%*s%c %s", ind, "", v->mark[row], cell);
            snprintf(cell, sizeof cell, "%.500s", t);
        }
        o = put_cell(buf, len, o, cell, col->width, col->right, last, width);
        if (!last && o + 1 < len && (int)o < width) {
            buf[o++] = ' ';
            buf[o] = 0;
        }
    }
    while (o > 0 && buf[o - 1] == ' ')
        buf[--o] = 0;
}

/* ---- the views, in Tab order ---- */

const struct view_ops *const view_all[] = {
    &view_goroutines_ops, &view_groups_ops, &view_procs_ops,
    &view_chans_ops,      &view_leaks_ops,
};
const size_t view_nall = sizeof view_all / sizeof *view_all;

const struct view_ops *view_by_name(const char *name)
{
    for (size_t i = 0; i < view_nall; i++)
        if (strcmp(view_all[i]->name, name) == 0)
            return view_all[i];
    return NULL;
}
