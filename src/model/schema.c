/*
 * schema.c: table shapes: building, copying, deriving, and their JSON form (see
 * schema.h).
 */
#include "model/schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void free_strv(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void fkey_free(sl_fkey_t *f)
{
    free(f->name);
    free_strv(f->columns, f->ncolumns);
    free(f->ref_schema);
    free(f->ref_table);
    free_strv(f->ref_columns, f->ncolumns);
    free(f->on_delete);
    free(f->on_update);
}

void sl_table_drop_fkey(sl_table_t *t, int i)
{
    if (i < 0 || i >= t->nfkeys)
        return;
    fkey_free(&t->fkeys[i]);
    memmove(&t->fkeys[i], &t->fkeys[i + 1], sizeof *t->fkeys * (size_t)(t->nfkeys - i - 1));
    t->nfkeys--;
}

void sl_table_free(sl_table_t *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->ncolumns; i++) {
        sl_column_t *c = &t->columns[i];
        free(c->name);
        free(c->source);
        free(c->native);
        free(c->default_value);
        free_strv(c->labels, c->nlabels);
        free(c->elem_native);
        free(c->generation_expr);
        free(c->charset);
        free(c->cast);
        free(c->target_expr);
    }
    free(t->columns);
    for (int i = 0; i < t->nindexes; i++) {
        free(t->indexes[i].name);
        free_strv(t->indexes[i].columns, t->indexes[i].ncolumns);
    }
    free(t->indexes);
    for (int i = 0; i < t->nfkeys; i++)
        fkey_free(&t->fkeys[i]);
    free(t->fkeys);
    free(t->engine);
    free(t->schema);
    free(t->name);
    free(t->target_schema);
    free(t);
}

int sl_table_pk_count(const sl_table_t *t)
{
    int n = 0;
    for (int i = 0; i < t->ncolumns; i++)
        if (t->columns[i].pk_pos > 0)
            n++;
    return n;
}

int sl_table_pk_col(const sl_table_t *t, int i)
{
    for (int c = 0; c < t->ncolumns; c++)
        if (t->columns[c].pk_pos == i + 1)
            return c;
    return -1;
}

int sl_table_find_col(const sl_table_t *t, const char *name)
{
    for (int c = 0; c < t->ncolumns; c++)
        if (strcmp(t->columns[c].name, name) == 0)
            return c;
    return -1;
}

#define GROW(arr, n)                                                                 \
    do {                                                                             \
        void *p_ = realloc((arr), sizeof *(arr) * (size_t)((n) + 1));                \
        if (!p_)                                                                     \
            return NULL;                                                             \
        (arr) = p_;                                                                  \
        memset(&(arr)[(n)], 0, sizeof *(arr));                                       \
        return &(arr)[(n)++];                                                        \
    } while (0)

sl_column_t *sl_table_add_col(sl_table_t *t)
{
    sl_column_t *c;
    void *p = realloc(t->columns, sizeof *t->columns * (size_t)(t->ncolumns + 1));
    if (!p)
        return NULL;
    t->columns = p;
    c = &t->columns[t->ncolumns++];
    memset(c, 0, sizeof *c);
    c->nullable = true;
    c->scale = -1;
    return c;
}

sl_index_t *sl_table_add_index(sl_table_t *t) { GROW(t->indexes, t->nindexes); }
sl_fkey_t *sl_table_add_fkey(sl_table_t *t) { GROW(t->fkeys, t->nfkeys); }

const char *sl_table_label(const sl_table_t *t, char *buf, int size)
{
    if (t->schema && t->schema[0] && strcmp(t->engine ? t->engine : "", "pg") == 0)
        snprintf(buf, (size_t)size, "%s.%s", t->schema, t->name);
    else
        snprintf(buf, (size_t)size, "%s", t->name);
    return buf;
}

const char *sl_column_source(const sl_column_t *c) { return c->source ? c->source : c->name; }

/* ---- copying and deriving --------------------------------------------------- */

/* calloc of n elements, NULL for none; out of memory aborts. */
static void *alloc_array(int n, size_t size)
{
    if (n <= 0)
        return NULL;
    void *p = calloc((size_t)n, size);
    if (!p)
        sl_oom();
    return p;
}

static char **copy_strv(char *const *v, int n)
{
    if (!v)
        return NULL;
    char **out = alloc_array(n, sizeof *out);
    for (int i = 0; i < n; i++)
        out[i] = sl_strdup(v[i]);
    return out;
}

/* The type part of a column (what a cast replaces), copied from src into dst. */
static void copy_type(sl_column_t *dst, const sl_column_t *src)
{
    dst->type = src->type;
    dst->native = sl_strdup(src->native);
    dst->length = src->length;
    dst->fixed = src->fixed;
    dst->precision = src->precision;
    dst->scale = src->scale;
    dst->labels = copy_strv(src->labels, src->nlabels);
    dst->nlabels = dst->labels ? src->nlabels : 0;
    dst->elem = src->elem;
    dst->elem_native = sl_strdup(src->elem_native);
    dst->charset = sl_strdup(src->charset);
}

/* Fills dst (zeroed) with a deep copy of src. */
static void copy_col(sl_column_t *dst, const sl_column_t *src)
{
    dst->name = sl_strdup(src->name);
    dst->source = sl_strdup(src->source);
    copy_type(dst, src);
    dst->nullable = src->nullable;
    dst->default_value = sl_strdup(src->default_value);
    dst->autoinc = src->autoinc;
    dst->generated = src->generated;
    dst->generation_expr = sl_strdup(src->generation_expr);
    dst->pk_pos = src->pk_pos;
    dst->cast = sl_strdup(src->cast);
    dst->target_expr = sl_strdup(src->target_expr);
}

/* A new table with t's table-level fields and no column, index or foreign key. */
static sl_table_t *copy_head(const sl_table_t *t)
{
    sl_table_t *out = calloc(1, sizeof *out);
    if (!out)
        sl_oom();
    out->engine = sl_strdup(t->engine);
    out->schema = sl_strdup(t->schema);
    out->name = sl_strdup(t->name);
    out->est_rows = t->est_rows;
    out->est_bytes = t->est_bytes;
    out->view = t->view;
    out->old_full = t->old_full;
    out->target_schema = sl_strdup(t->target_schema);
    return out;
}

/* dst (zeroed) becomes a copy of src whose columns are `names` (taken over). */
static void copy_index(sl_index_t *dst, const sl_index_t *src, char **names)
{
    dst->name = sl_strdup(src->name);
    dst->unique = src->unique;
    dst->columns = names;
    dst->ncolumns = names ? src->ncolumns : 0;
}

/* dst (zeroed) becomes a copy of src whose own columns are `names` (taken over); the
 * referenced columns are copied as they are. */
static void copy_fkey(sl_fkey_t *dst, const sl_fkey_t *src, char **names)
{
    dst->name = sl_strdup(src->name);
    dst->columns = names;
    dst->ref_columns = copy_strv(src->ref_columns, src->ncolumns);
    dst->ncolumns = names ? src->ncolumns : 0;
    dst->ref_schema = sl_strdup(src->ref_schema);
    dst->ref_table = sl_strdup(src->ref_table);
    dst->on_delete = sl_strdup(src->on_delete);
    dst->on_update = sl_strdup(src->on_update);
}

sl_table_t *sl_table_copy(const sl_table_t *t)
{
    sl_table_t *out = copy_head(t);
    out->columns = alloc_array(t->ncolumns, sizeof *out->columns);
    for (; out->ncolumns < t->ncolumns; out->ncolumns++)
        copy_col(&out->columns[out->ncolumns], &t->columns[out->ncolumns]);
    out->indexes = alloc_array(t->nindexes, sizeof *out->indexes);
    for (; out->nindexes < t->nindexes; out->nindexes++) {
        const sl_index_t *x = &t->indexes[out->nindexes];
        copy_index(&out->indexes[out->nindexes], x, copy_strv(x->columns, x->ncolumns));
    }
    out->fkeys = alloc_array(t->nfkeys, sizeof *out->fkeys);
    for (; out->nfkeys < t->nfkeys; out->nfkeys++) {
        const sl_fkey_t *f = &t->fkeys[out->nfkeys];
        copy_fkey(&out->fkeys[out->nfkeys], f, copy_strv(f->columns, f->ncolumns));
    }
    return out;
}

/* The derived column made from e. */
static int derive_col(const sl_table_t *base, sl_column_t *c, const sl_col_edit_t *e, sl_err_t *err)
{
    char label[300];
    const sl_column_t *f = e->from;
    if (e->cast && f->generated)
        return sl_err_set(err, SL_E_SCHEMA, "column \"%s\" of table \"%s\" is generated and cannot change type",
                          f->name, sl_table_label(base, label, sizeof label));
    copy_col(c, f);
    if (e->name && strcmp(e->name, f->name) != 0) {
        free(c->name);
        c->name = sl_strdup(e->name);
        if (!c->source)
            c->source = sl_strdup(f->name);
    }
    if (e->cast) {
        free(c->native);
        free(c->elem_native);
        free(c->charset);
        for (int i = 0; i < c->nlabels; i++)
            free(c->labels[i]);
        free(c->labels);
        copy_type(c, e->cast);
        free(c->default_value);
        c->default_value = NULL;
        c->autoinc = c->autoinc && sl_type_is_integer(c->type);
    }
    if (e->flags & SL_COL_NULLABLE)
        c->nullable = true;
    if (e->flags & SL_COL_NO_KEY)
        c->pk_pos = 0;
    if (e->flags & SL_COL_NO_DEFAULT) {
        free(c->default_value);
        c->default_value = NULL;
    }
    return 0;
}

/* The derived table's key positions must be 1..k, each once. */
static int check_key(const sl_table_t *base, const sl_table_t *t, sl_err_t *err)
{
    char label[300];
    int k = sl_table_pk_count(t);
    for (int pos = 1; pos <= k; pos++) {
        int hits = 0;
        for (int i = 0; i < t->ncolumns; i++)
            hits += t->columns[i].pk_pos == pos;
        if (hits == 1)
            continue;
        sl_table_label(base, label, sizeof label);
        if (hits > 1)
            return sl_err_set(err, SL_E_SCHEMA, "two columns of table \"%s\" would take place %d of its primary key",
                              label, pos);
        int b = sl_table_pk_col(base, pos - 1);
        sl_err_set(err, SL_E_SCHEMA, "column \"%s\" of the primary key of table \"%s\" would be left out",
                   b >= 0 ? base->columns[b].name : "?", label);
        sl_err_detail(err, "without every column of its key, a row cannot be found again to update or delete it");
        sl_err_hint(err, "keep every column of the primary key, or none of them");
        return -1;
    }
    return 0;
}

/* The derived name of base's column `name`, NULL when no column is made from it. */
static const char *renamed(const sl_col_edit_t *cols, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(cols[i].from->name, name) == 0)
            return cols[i].name ? cols[i].name : name;
    return NULL;
}

/* Copies of names[0..n) under their derived names into *out; false when one is not
 * kept. */
static bool rename_all(const sl_col_edit_t *cols, int ncols, char *const *names, int n, char ***out)
{
    for (int i = 0; i < n; i++)
        if (!renamed(cols, ncols, names[i]))
            return false;
    *out = alloc_array(n, sizeof **out);
    for (int i = 0; i < n; i++)
        (*out)[i] = sl_strdup(renamed(cols, ncols, names[i]));
    return true;
}

/* base's indexes and foreign keys whose columns are all kept, under their new names. */
static void derive_keys(const sl_table_t *base, sl_table_t *t, const sl_col_edit_t *cols, int n)
{
    char **names;
    t->indexes = alloc_array(base->nindexes, sizeof *t->indexes);
    for (int i = 0; i < base->nindexes; i++)
        if (rename_all(cols, n, base->indexes[i].columns, base->indexes[i].ncolumns, &names))
            copy_index(&t->indexes[t->nindexes++], &base->indexes[i], names);
    t->fkeys = alloc_array(base->nfkeys, sizeof *t->fkeys);
    for (int i = 0; i < base->nfkeys; i++)
        if (rename_all(cols, n, base->fkeys[i].columns, base->fkeys[i].ncolumns, &names))
            copy_fkey(&t->fkeys[t->nfkeys++], &base->fkeys[i], names);
}

int sl_table_derive(const sl_table_t *base, const sl_col_edit_t *cols, int n, unsigned flags, sl_table_t **out,
                    sl_err_t *err)
{
    char label[300];
    for (int i = 0; i < n; i++)
        if (!cols[i].from)
            return sl_err_set(err, SL_E_INTERNAL, "column %d of a derived table is made from nothing", i);
    sl_table_t *t = copy_head(base);
    t->columns = alloc_array(n, sizeof *t->columns);
    for (; t->ncolumns < n; t->ncolumns++) {
        if (derive_col(base, &t->columns[t->ncolumns], &cols[t->ncolumns], err))
            goto fail;
        const char *name = t->columns[t->ncolumns].name;
        for (int j = 0; j < t->ncolumns; j++)
            if (strcmp(t->columns[j].name, name) == 0) {
                t->ncolumns++; /* freed with the table */
                sl_err_set(err, SL_E_SCHEMA, "two columns of table \"%s\" would both be called \"%s\"",
                           sl_table_label(base, label, sizeof label), name);
                goto fail;
            }
    }
    if (check_key(base, t, err))
        goto fail;
    if (!(flags & SL_TABLE_NO_INDEXES))
        derive_keys(base, t, cols, n);
    *out = t;
    return 0;
fail:
    sl_table_free(t);
    return -1;
}

/* ---- JSON ---------------------------------------------------------------- */

static json_t *strv_json(char **v, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static void set_str(json_t *o, const char *k, const char *v)
{
    if (v)
        json_object_set_new(o, k, json_string(v));
}

json_t *sl_table_to_json(const sl_table_t *t)
{
    json_t *o = json_object();
    set_str(o, "engine", t->engine);
    set_str(o, "schema", t->schema);
    set_str(o, "name", t->name);
    json_object_set_new(o, "est_rows", json_integer(t->est_rows));
    json_object_set_new(o, "est_bytes", json_integer(t->est_bytes));
    if (t->view)
        json_object_set_new(o, "view", json_true());
    if (t->old_full)
        json_object_set_new(o, "old_full", json_true());
    set_str(o, "target_schema", t->target_schema);
    json_t *cols = json_array();
    for (int i = 0; i < t->ncolumns; i++) {
        const sl_column_t *c = &t->columns[i];
        json_t *j = json_object();
        set_str(j, "name", c->name);
        set_str(j, "source", c->source);
        set_str(j, "type", sl_type_name(c->type));
        set_str(j, "native", c->native);
        json_object_set_new(j, "length", json_integer(c->length));
        json_object_set_new(j, "fixed", json_boolean(c->fixed));
        json_object_set_new(j, "precision", json_integer(c->precision));
        json_object_set_new(j, "scale", json_integer(c->scale));
        json_object_set_new(j, "nullable", json_boolean(c->nullable));
        set_str(j, "default", c->default_value);
        if (c->nlabels)
            json_object_set_new(j, "labels", strv_json(c->labels, c->nlabels));
        if (c->type == SL_T_ARRAY) {
            set_str(j, "elem", sl_type_name(c->elem));
            set_str(j, "elem_native", c->elem_native);
        }
        json_object_set_new(j, "autoinc", json_boolean(c->autoinc));
        json_object_set_new(j, "generated", json_boolean(c->generated));
        set_str(j, "generation_expr", c->generation_expr);
        set_str(j, "charset", c->charset);
        json_object_set_new(j, "pk_pos", json_integer(c->pk_pos));
        set_str(j, "cast", c->cast);
        set_str(j, "target_expr", c->target_expr);
        json_array_append_new(cols, j);
    }
    json_object_set_new(o, "columns", cols);
    json_t *idx = json_array();
    for (int i = 0; i < t->nindexes; i++) {
        json_t *j = json_object();
        set_str(j, "name", t->indexes[i].name);
        json_object_set_new(j, "unique", json_boolean(t->indexes[i].unique));
        json_object_set_new(j, "columns", strv_json(t->indexes[i].columns, t->indexes[i].ncolumns));
        json_array_append_new(idx, j);
    }
    json_object_set_new(o, "indexes", idx);
    json_t *fks = json_array();
    for (int i = 0; i < t->nfkeys; i++) {
        const sl_fkey_t *f = &t->fkeys[i];
        json_t *j = json_object();
        set_str(j, "name", f->name);
        json_object_set_new(j, "columns", strv_json(f->columns, f->ncolumns));
        set_str(j, "ref_schema", f->ref_schema);
        set_str(j, "ref_table", f->ref_table);
        json_object_set_new(j, "ref_columns", strv_json(f->ref_columns, f->ncolumns));
        set_str(j, "on_delete", f->on_delete);
        set_str(j, "on_update", f->on_update);
        json_array_append_new(fks, j);
    }
    json_object_set_new(o, "fkeys", fks);
    return o;
}

static char *get_str(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) ? sl_strdup(json_string_value(v)) : NULL;
}

static int get_int(const json_t *o, const char *k, int dflt)
{
    const json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (int)json_integer_value(v) : dflt;
}

static bool get_bool(const json_t *o, const char *k)
{
    return json_is_true(json_object_get(o, k));
}

static char **get_strv(const json_t *o, const char *k, int *n)
{
    const json_t *a = json_object_get(o, k);
    *n = 0;
    if (!json_is_array(a) || json_array_size(a) == 0)
        return NULL;
    size_t sz = json_array_size(a);
    char **v = calloc(sz, sizeof *v);
    if (!v)
        sl_oom();
    for (size_t i = 0; i < sz; i++) {
        const json_t *s = json_array_get(a, i);
        v[i] = sl_strdup(json_is_string(s) ? json_string_value(s) : "");
    }
    *n = (int)sz;
    return v;
}

int sl_table_from_json(const json_t *j, sl_table_t **out, sl_err_t *err)
{
    if (!json_is_object(j) || !json_is_string(json_object_get(j, "name")) ||
        !json_is_array(json_object_get(j, "columns")))
        return sl_err_set(err, SL_E_PROTOCOL, "malformed table description in the plan");
    sl_table_t *t = calloc(1, sizeof *t);
    if (!t)
        sl_oom();
    t->engine = get_str(j, "engine");
    t->schema = get_str(j, "schema");
    t->name = get_str(j, "name");
    json_t *er = json_object_get(j, "est_rows"), *eb = json_object_get(j, "est_bytes");
    t->est_rows = json_is_integer(er) ? json_integer_value(er) : -1;
    t->est_bytes = json_is_integer(eb) ? json_integer_value(eb) : -1;
    t->view = get_bool(j, "view");
    t->old_full = get_bool(j, "old_full");
    t->target_schema = get_str(j, "target_schema");
    size_t i;
    json_t *cj;
    json_array_foreach(json_object_get(j, "columns"), i, cj)
    {
        sl_column_t *c = sl_table_add_col(t);
        if (!c)
            sl_oom();
        c->name = get_str(cj, "name");
        c->source = get_str(cj, "source");
        char *ty = get_str(cj, "type");
        c->type = ty ? sl_type_from_name(ty) : SL_T_UNKNOWN;
        free(ty);
        c->native = get_str(cj, "native");
        c->length = get_int(cj, "length", 0);
        c->fixed = get_bool(cj, "fixed");
        c->precision = get_int(cj, "precision", 0);
        c->scale = get_int(cj, "scale", -1);
        c->nullable = get_bool(cj, "nullable");
        c->default_value = get_str(cj, "default");
        c->labels = get_strv(cj, "labels", &c->nlabels);
        char *el = get_str(cj, "elem");
        c->elem = el ? sl_type_from_name(el) : SL_T_UNKNOWN;
        free(el);
        c->elem_native = get_str(cj, "elem_native");
        c->autoinc = get_bool(cj, "autoinc");
        c->generated = get_bool(cj, "generated");
        c->generation_expr = get_str(cj, "generation_expr");
        c->charset = get_str(cj, "charset");
        c->pk_pos = get_int(cj, "pk_pos", 0);
        c->cast = get_str(cj, "cast");
        c->target_expr = get_str(cj, "target_expr");
        if (!c->name || c->type == SL_T_UNKNOWN) {
            sl_table_free(t);
            return sl_err_set(err, SL_E_PROTOCOL, "malformed column in the plan");
        }
    }
    json_t *ij;
    json_array_foreach(json_object_get(j, "indexes"), i, ij)
    {
        sl_index_t *x = sl_table_add_index(t);
        if (!x)
            sl_oom();
        x->name = get_str(ij, "name");
        x->unique = get_bool(ij, "unique");
        x->columns = get_strv(ij, "columns", &x->ncolumns);
    }
    json_t *fj;
    json_array_foreach(json_object_get(j, "fkeys"), i, fj)
    {
        sl_fkey_t *f = sl_table_add_fkey(t);
        if (!f)
            sl_oom();
        int nref = 0;
        f->name = get_str(fj, "name");
        f->columns = get_strv(fj, "columns", &f->ncolumns);
        f->ref_schema = get_str(fj, "ref_schema");
        f->ref_table = get_str(fj, "ref_table");
        f->ref_columns = get_strv(fj, "ref_columns", &nref);
        f->on_delete = get_str(fj, "on_delete");
        f->on_update = get_str(fj, "on_update");
        if (nref != f->ncolumns) {
            sl_table_free(t);
            return sl_err_set(err, SL_E_PROTOCOL, "malformed foreign key in the plan");
        }
    }
    *out = t;
    return 0;
}
