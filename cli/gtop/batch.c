/*
 * batch.c - `gtop -b`: the model printed as text, for scripts and
 * `ssh host gtop -b -n 1` (top's batch mode).  The same meters, views,
 * sort, filter and tree as the screen, every row instead of a window of
 * them; a tree is printed fully expanded.  Output is plain ASCII and,
 * for a saved image (--image), a function of the image alone, which is
 * what the golden tests (tests/gtop-batch.sh) compare.
 */
#include "config.h"

#include "gtop.h"

#include <stdlib.h>
#include <string.h>

/* The heading and every row of v; with stacks, the stack of each row's
 * goroutine under it. */
static void print_rows(FILE *f, struct model *m, const struct view *v,
                       bool stacks)
{
    char line[2048];
    panel_header_text(v, line, sizeof line, 1000);
    fprintf(f, "%s\n", line);
    for (size_t r = 0; r < v->nrows; r++) {
        panel_row_text(v, r, line, sizeof line, 1000);
        fprintf(f, "%s\n", line);
        int64_t g = stacks && v->ops->goid ? v->ops->goid(panel_item(v, r)) : 0;
        if (g > 0) {
            char *st = view_stack_text(m, &g, 1);
            fputs(st, f);
            free(st);
        }
    }
}

/* One view: a title line, the view's info line, heading and rows. */
static int print_view(FILE *f, struct model *m, const struct view_ops *ops,
                      const struct batch_opts *o)
{
    struct view v;
    panel_init(&v, ops);
    if (o->sort) {
        int c = panel_find_col(&v, o->sort);
        if (c >= 0)
            panel_set_sort(&v, c);
    }
    if (o->invert)
        v.invert = !v.invert;
    if (o->filter)
        panel_set_filter(&v, o->filter);
    v.tree = o->tree && ops->tree_col >= 0;
    if (ops == &view_groups_ops && o->stack_groups && !m->dump) {
        int drc = model_dump_all(m);
        if (drc != RD_OK)
            fprintf(f, "(no stacks to group by: %s)\n",
                    m->image ? "a saved image holds none" : rd_strerror(drc));
    }
    v.expand_all = true;
    int rc = panel_update(&v, m);
    if (rc != RD_OK) {
        panel_free(&v);
        return rc;
    }
    char info[512] = "";
    if (ops->info)
        ops->info(&v, m, info, sizeof info);
    fprintf(f, "\n== %s: %zu of %zu shown, sorted by %s%s%s%s%s ==\n",
            ops->name, v.nrows, v.nitems, ops->cols[v.sort_col].name,
            v.invert ? " (descending)" : "", v.filter[0] ? ", filter \"" : "",
            v.filter, v.filter[0] ? "\"" : "");
    if (info[0])
        fprintf(f, "%s\n", info);
    print_rows(f, m, &v, o->stacks);
    panel_free(&v);
    return RD_OK;
}

int batch_print(FILE *f, struct model *m, const struct batch_opts *o)
{
    meter_print(f, m, o->graph_width);
    const char *list = o->views && o->views[0] ? o->views : "goroutines";
    if (strcmp(list, "all") == 0)
        list = "goroutines,groups,procs,chans,leaks";
    char names[256];
    snprintf(names, sizeof names, "%s", list);
    char *save = NULL;
    for (char *n = strtok_r(names, ",", &save); n;
         n = strtok_r(NULL, ",", &save)) {
        const struct view_ops *ops = view_by_name(n);
        if (!ops)
            continue; /* main.c checked the names */
        int rc = print_view(f, m, ops, o);
        if (rc != RD_OK)
            return rc;
    }
    return RD_OK;
}

int batch_print_procs(FILE *f)
{
    struct rd_proc *procs = NULL;
    size_t n = 0;
    int rc = rd_list(&procs, &n);
    if (rc != RD_OK)
        return rc;
    struct view v;
    panel_init(&v, &view_picker_ops);
    view_picker_set(&v, procs, n);
    rc = panel_update(&v, NULL);
    if (rc == RD_OK)
        print_rows(f, NULL, &v, false);
    panel_free(&v);
    rd_list_free(procs);
    return rc;
}
