/*
 * reject.c: the rejects of one writer lane's transaction: recording them (key and row
 * as JSON), screening a row with the target's refuses op, the "fail" error that names the
 * cast, and writing them (see reject.h). reject_apply.c writes batches and changes with
 * them.
 */
#include "core/mem.h"
#include "engine/reject.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

void sl_rejects_init(sl_rejects_t *rj, const char *stream, bool reject, int ntables)
{
    memset(rj, 0, sizeof *rj);
    rj->stream = stream;
    rj->reject = reject;
    rj->ntables = ntables;
    rj->counts = calloc((size_t)ntables + 1, sizeof *rj->counts);
    if (!rj->counts)
        sl_oom();
}

void sl_rejects_reset(sl_rejects_t *rj)
{
    for (int i = 0; i < rj->n; i++) {
        sl_reject_t *r = &rj->items[i];
        free((char *)r->table);
        free((char *)r->key);
        free((char *)r->column);
        free((char *)r->reason);
        free((char *)r->row);
        free((char *)r->position);
    }
    rj->n = 0;
    memset(rj->counts, 0, sizeof *rj->counts * (size_t)(rj->ntables + 1));
}

void sl_rejects_free(sl_rejects_t *rj)
{
    sl_rejects_reset(rj);
    free(rj->items);
    free(rj->counts);
    memset(rj, 0, sizeof *rj);
}

bool sl_rejects_isolable(const sl_rejects_t *rj, const sl_err_t *err)
{
    return rj->reject && !err->retriable && (err->code == SL_E_DATA || err->code == SL_E_NOT_FOUND);
}

int sl_rejects_write(sl_rejects_t *rj, sl_target_t *tgt, const char *clear_table, sl_err_t *err)
{
    if (!rj->n && !clear_table)
        return 0;
    if (!tgt->ops->rejects_write)
        return sl_err_set(err, SL_E_INTERNAL, "this target cannot record rejected rows");
    if (tgt->ops->rejects_write(tgt, rj->stream, rj->items, rj->n, clear_table, err)) {
        sl_err_prefix(err, "target: ");
        return -1;
    }
    return 0;
}

/* ---- JSON of keys and rows --------------------------------------------------------- */

static json_t *value_json(const sl_column_t *c, const sl_value_t *v)
{
    if (v->len < 0)
        return json_null();
    json_t *s = sl_type_is_binary(c->type) ? NULL : json_stringn(v->p, (size_t)v->len);
    if (s)
        return s;
    /* bytes (and text that is not UTF-8) as PostgreSQL writes bytea: \x and hex */
    char *hex = malloc((size_t)v->len * 2 + 3);
    if (!hex)
        sl_oom();
    static const char digits[] = "0123456789abcdef";
    hex[0] = '\\';
    hex[1] = 'x';
    for (int64_t i = 0; i < v->len; i++) {
        hex[2 + 2 * i] = digits[(unsigned char)v->p[i] >> 4];
        hex[3 + 2 * i] = digits[(unsigned char)v->p[i] & 15];
    }
    s = json_stringn(hex, (size_t)v->len * 2 + 2);
    free(hex);
    return s;
}

static char *dump(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(j);
    if (!s)
        sl_oom();
    return s;
}

/* The key of row (t's columns) as a JSON array in key order; NULL for a keyless table. */
static char *key_json(const sl_table_t *t, const sl_value_t *row)
{
    int npk = sl_table_pk_count(t);
    if (!npk)
        return NULL;
    json_t *a = json_array();
    for (int i = 0; i < npk; i++) {
        int c = sl_table_pk_col(t, i);
        json_array_append_new(a, value_json(&t->columns[c], &row[c]));
    }
    return dump(a);
}

/* The row as a JSON object by source column name (unchanged TOASTed values left out). */
static char *row_json(const sl_table_t *t, const sl_value_t *row)
{
    json_t *o = json_object();
    for (int i = 0; row && i < t->ncolumns; i++)
        if (row[i].len != SL_VALUE_UNCHANGED)
            json_object_set_new(o, sl_column_source(&t->columns[i]), value_json(&t->columns[i], &row[i]));
    return dump(o);
}

/* ---- recording ------------------------------------------------------------------------ */

void sl_rejects_add(sl_rejects_t *rj, const sl_map_t *m, int ti, const sl_value_t *row, const sl_value_t *keyrow,
                    const char *column, const char *reason, const char *position)
{
    if (rj->n == rj->cap) {
        rj->cap = rj->cap ? rj->cap * 2 : 64;
        sl_reject_t *v = realloc(rj->items, sizeof *v * (size_t)rj->cap);
        if (!v)
            sl_oom();
        rj->items = v;
    }
    sl_reject_t *r = &rj->items[rj->n++];
    r->table = sl_strdup(m->label);
    r->key = key_json(m->tgt, keyrow ? keyrow : row);
    r->column = sl_strdup(column);
    r->reason = sl_strdup(reason);
    r->row = row_json(m->tgt, row ? row : keyrow);
    r->position = sl_strdup(position);
    if (ti >= 0 && ti < rj->ntables)
        rj->counts[ti]++;
}

bool sl_rejects_has_key(const sl_rejects_t *rj, const sl_map_t *m, const sl_value_t *keyrow)
{
    char *key = key_json(m->tgt, keyrow);
    bool hit = false;
    for (int i = 0; key && i < rj->n && !hit; i++)
        hit = rj->items[i].key && !strcmp(rj->items[i].key, key) && !strcmp(rj->items[i].table, m->label);
    free(key);
    return hit;
}

char *sl_rejects_key(const sl_map_t *m, const sl_value_t *keyrow)
{
    return key_json(m->tgt, keyrow);
}

/* "key (id=3)" or "row (a=1, b=2)" of row, into buf. */
static const char *key_text(const sl_table_t *t, const sl_value_t *row, char *buf, size_t size)
{
    int npk = sl_table_pk_count(t);
    int shown = npk ? npk : (t->ncolumns < 3 ? t->ncolumns : 3);
    size_t n = (size_t)snprintf(buf, size, "%s", npk ? "key (" : "row (");
    for (int i = 0; i < shown && n < size; i++) {
        int c = npk ? sl_table_pk_col(t, i) : i;
        const sl_value_t *v = &row[c];
        if (v->len < 0 || sl_type_is_binary(t->columns[c].type))
            n += (size_t)snprintf(buf + n, size - n, "%s%s=%s", i ? ", " : "", sl_column_source(&t->columns[c]),
                                  v->len < 0 ? "NULL" : "(bytes)");
        else
            n += (size_t)snprintf(buf + n, size - n, "%s%s=%.*s", i ? ", " : "", sl_column_source(&t->columns[c]),
                                  (int)(v->len > 64 ? 64 : v->len), v->p);
    }
    if (n < size)
        snprintf(buf + n, size - n, ")");
    return buf;
}

int sl_rejects_screen(sl_rejects_t *rj, const sl_target_t *tgt, const sl_map_t *m, int ti, const sl_value_t *row,
                      const sl_value_t *keyrow, const char *position, sl_err_t *err)
{
    const sl_table_t *t = m->tgt;
    for (int i = 0; i < t->ncolumns; i++) {
        const sl_column_t *c = &t->columns[i];
        if (row[i].len < 0 || c->target_expr)
            continue;
        sl_refusal_t r = {0};
        if (!tgt->ops->refuses(tgt, t, c, &row[i], &r))
            continue;
        if (rj->reject) {
            sl_rejects_add(rj, m, ti, row, keyrow, sl_column_source(c), r.why, position);
            return 1;
        }
        char key[300];
        int show = row[i].len > 80 ? 80 : (int)row[i].len;
        sl_err_set(err, SL_E_DATA, "cannot store a value in column \"%s\" of table \"%s\" at %s", sl_column_source(c),
                   m->label, key_text(t, keyrow ? keyrow : row, key, sizeof key));
        sl_err_detail(err, "value \"%.*s\": %s", sl_type_is_binary(c->type) ? 7 : show,
                      sl_type_is_binary(c->type) ? "(bytes)" : row[i].p, r.why);
        if (r.cast)
            sl_err_hint(err, "carry it with a cast: {\"name\": \"%s\", \"cast\": {\"%s\": \"%s\"}} in source.tables, or "
                             "set options.on_error to \"reject\" to record such rows in %s",
                        m->label, sl_column_source(c), r.cast, SL_REJECTS_TABLE);
        else
            sl_err_hint(err, "set options.on_error to \"reject\" to record such rows in %s, or clean the value at "
                             "the source",
                        SL_REJECTS_TABLE);
        return -1;
    }
    return 0;
}
