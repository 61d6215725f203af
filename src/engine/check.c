/*
 * check.c: `sluice check` (see check.h): every table described and mapped as a run
 * would, the target's DDL rendered without running it, the target's tables looked at,
 * the change source's needs checked, and with --scan every kept row screened with the
 * target's refuses op. Nothing is written: the target is only read (table_state), the
 * source only read (describe, scan, the CDC check).
 *
 * Thread: the caller's.
 */
#include "engine/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/url.h"
#include "engine/mapping.h"
#include "source/cdc.h"
#include "source/source.h"
#include "target/target.h"

static json_t *err_json(const sl_err_t *e)
{
    json_t *o = json_pack("{s:s}", "message", e->message);
    if (e->detail[0])
        json_object_set_new(o, "detail", json_string(e->detail));
    if (e->hint[0])
        json_object_set_new(o, "hint", json_string(e->hint));
    return o;
}

static void on_note(void *ctx, const char *table, const char *column, bool warning, const char *text)
{
    (void)table;
    json_array_append_new((json_t *)ctx, json_pack("{s:o, s:b, s:s}", "column", column ? json_string(column) : json_null(),
                                                   "warning", warning, "text", text));
}

/* A value for the report: text, cut at 200 bytes; bytes as \x and hex. */
static json_t *value_json(const sl_column_t *c, const sl_value_t *v)
{
    if (v->len < 0)
        return json_null();
    size_t n = v->len > 200 ? 200 : (size_t)v->len;
    if (!sl_type_is_binary(c->type)) {
        json_t *s = json_stringn(v->p, n);
        if (s)
            return s;
    }
    char hex[2 * 100 + 3] = "\\x";
    for (size_t i = 0; i < n && i < 100; i++)
        snprintf(hex + 2 + 2 * i, 3, "%02x", (unsigned char)v->p[i]);
    return json_string(hex);
}

/* ---- --scan ------------------------------------------------------------------------- */

typedef struct scanctx {
    const sl_map_t *m;
    const struct sl_target_ops *tops;
    const sl_target_t *tgt; /* NULL when the target could not be reached */
    bool local;          /* filter and project here (a file source) */
    sl_value_t *proj;
    json_int_t rows, refused_rows;
    json_t *refused;
    json_t *casts;       /* column -> the cast that carries its refused values */
} scanctx_t;

static int on_row(void *ctx, const sl_value_t *vals, int n, sl_err_t *err)
{
    scanctx_t *s = ctx;
    const sl_table_t *t = s->m->tgt;
    if (s->local) {
        int keep = sl_map_filter_row(s->m, vals, n, s->proj, err);
        if (keep <= 0)
            return keep;
        vals = s->proj;
    }
    s->rows++;
    bool bad = false;
    for (int i = 0; i < t->ncolumns; i++) {
        const sl_column_t *c = &t->columns[i];
        sl_refusal_t r = {0};
        if (vals[i].len < 0 || c->target_expr || !s->tops->refuses(s->tgt, t, c, &vals[i], &r))
            continue;
        bad = true;
        if (r.cast && !json_object_get(s->casts, sl_column_source(c)))
            json_object_set_new(s->casts, sl_column_source(c), json_string(r.cast));
        if (json_array_size(s->refused) >= SL_CHECK_SAMPLES)
            continue;
        json_t *key = json_null();
        if (sl_table_pk_count(t)) {
            key = json_array();
            for (int k = 0; k < sl_table_pk_count(t); k++) {
                int kc = sl_table_pk_col(t, k);
                json_array_append_new(key, value_json(&t->columns[kc], &vals[kc]));
            }
        }
        json_array_append_new(s->refused, json_pack("{s:s, s:o, s:o, s:s, s:o}", "column", sl_column_source(c), "key",
                                                     key, "value", value_json(c, &vals[i]), "reason", r.why, "cast",
                                                     r.cast ? json_string(r.cast) : json_null()));
    }
    s->refused_rows += bad;
    return 0;
}

static int scan_table(sl_source_t *src, const sl_map_t *m, const struct sl_target_ops *tops, const sl_target_t *tgt,
                      json_t *tj, sl_err_t *err)
{
    scanctx_t s = {.m = m, .tops = tops, .tgt = tgt, .refused = json_array(), .casts = json_object()};
    sl_scan_t scan = {.table = m->scan, .filter = m->filter};
    if (m->filter && src->ops->units) {
        s.local = true;
        scan.table = m->src;
        scan.filter = NULL;
        if (!(s.proj = calloc((size_t)m->tgt->ncolumns + 1, sizeof *s.proj)))
            sl_oom();
    }
    int rc = tops->refuses ? src->ops->scan(src, &scan, on_row, &s, err) : 0;
    free(s.proj);
    json_object_set_new(tj, "scanned_rows", json_integer(s.rows));
    json_object_set_new(tj, "refused_rows", json_integer(s.refused_rows));
    json_object_set_new(tj, "refused", s.refused);
    json_object_set_new(tj, "casts", s.casts);
    return rc;
}

/* ---- one table ---------------------------------------------------------------------- */

static json_t *columns_json(const sl_map_t *m)
{
    json_t *a = json_array();
    for (int i = 0; i < m->tgt->ncolumns; i++) {
        const sl_column_t *c = &m->tgt->columns[i];
        const sl_column_t *s = &m->src->columns[m->proj[i]];
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:o, s:b, s:b}", "source", s->name, "target", c->name, "type",
                                           s->native ? s->native : sl_type_name(s->type), "cast",
                                           c->cast ? json_string(c->cast) : json_null(), "key", c->pk_pos > 0,
                                           "generated", c->generated));
    }
    return a;
}

static json_t *risks_json(const sl_map_t *m, const struct sl_target_ops *tops, const sl_target_t *tgt)
{
    json_t *a = json_array();
    for (int i = 0; tops->may_refuse && i < m->tgt->ncolumns; i++) {
        const sl_column_t *c = &m->tgt->columns[i];
        sl_refusal_t r = {0};
        if (!c->target_expr && tops->may_refuse(tgt, m->tgt, c, &r))
            json_array_append_new(a, json_pack("{s:s, s:s, s:o}", "column", sl_column_source(c), "reason", r.why, "cast",
                                               r.cast ? json_string(r.cast) : json_null()));
    }
    return a;
}

static int any_ckpt(void *ctx, const char *key, const sl_ckpt_t *ck, sl_err_t *err)
{
    (void)key, (void)ck, (void)err;
    *(bool *)ctx = true;
    return 0;
}

/* What the target holds now, and whether the job would refuse it (as a load does; a
 * stream that has started resumes into the rows it wrote). */
static int target_state(const sl_spec_t *spec, sl_target_t *tgt, const sl_table_t *t, json_t *tj, sl_err_t *err)
{
    bool started = false;
    sl_err_t ignore = {0};
    if (tgt->ops->ckpt_list(tgt, spec->name, any_ckpt, &started, &ignore) == 0 && started) {
        json_object_set_new(tj, "target_state", json_string("started"));
        return 0;
    }
    bool exists = false, rows = false;
    if (tgt->ops->table_state(tgt, t, &exists, &rows, err)) {
        sl_err_prefix(err, "target: ");
        return -1;
    }
    json_object_set_new(tj, "target_state", json_string(!exists ? "absent" : rows ? "has rows" : "empty"));
    if (!exists && spec->opt.schema == SL_SCHEMA_NONE) {
        sl_err_set(err, SL_E_SCHEMA, "target table \"%s\" does not exist", t->name);
        sl_err_hint(err, "create it, or set options.schema to \"create_missing\"");
        return -1;
    }
    bool copies = spec->mode == SL_MODE_LOAD || spec->opt.initial_load;
    if (exists && rows && copies && spec->opt.schema != SL_SCHEMA_RECREATE && spec->opt.write_mode == SL_WRITE_INSERT) {
        sl_err_set(err, SL_E_CONFLICT, "target table \"%s\" already holds rows", t->name);
        sl_err_detail(err, "write_mode \"insert\" loads into empty tables only, so that no row is doubled");
        sl_err_hint(err, "empty the table, or set options.write_mode to \"truncate_insert\" or options.schema to "
                         "\"recreate\"");
        return -1;
    }
    return 0;
}

/* Checks source table `name`; its map (when it has one) into *out. */
static int check_table(const sl_spec_t *spec, bool scan, sl_source_t *src, sl_target_t *tgt, const sl_url_t *turl,
                       const char *name, json_t *tj, sl_map_t **out, sl_err_t *err)
{
    sl_map_env_t env;
    sl_table_t *t = NULL;
    json_t *notes = json_array();
    json_object_set_new(tj, "notes", notes);
    if (sl_map_env(spec, &env, err))
        return -1;
    env.note = on_note;
    env.note_ctx = notes;
    if (src->ops->describe(src, name, &t, err)) {
        sl_err_prefix(err, "source: ");
        return -1;
    }
    int rc = sl_map_build(spec, t, &env, out, err);
    sl_table_free(t);
    if (rc)
        return -1;
    const sl_map_t *m = *out;
    char target[600];
    snprintf(target, sizeof target, "%s%s%s", m->tgt->target_schema ? m->tgt->target_schema : "",
             m->tgt->target_schema ? "." : "", m->tgt->name);
    json_object_set_new(tj, "source", json_string(m->label));
    json_object_set_new(tj, "target", json_string(target));
    json_object_set_new(tj, "view", json_boolean(m->src->view));
    json_object_set_new(tj, "where", m->filter ? json_string(sl_filter_text(m->filter)) : json_null());
    json_object_set_new(tj, "columns", columns_json(m));
    json_object_set_new(tj, "risks", risks_json(m, env.tops, tgt));
    if (env.tops->create_sql) {
        sl_buf_t b;
        sl_buf_init(&b, 16u << 20);
        if (env.tops->create_sql(turl, m->tgt, &b, err)) {
            sl_buf_free(&b);
            return -1;
        }
        json_object_set_new(tj, "ddl", json_string(b.data ? b.data : ""));
        sl_buf_free(&b);
    }
    if (spec->mode == SL_MODE_CDC && m->filter && sl_filter_check_old_row(m->filter, m->src->old_full, err))
        return -1;
    if (tgt && target_state(spec, tgt, m->tgt, tj, err))
        return -1;
    if (scan && scan_table(src, m, env.tops, tgt, tj, err)) {
        sl_err_prefix(err, "source: reading table \"%s\": ", m->label);
        return -1;
    }
    return 0;
}

/* A table json with every key of check.h, unknown ones null. */
static json_t *table_stub(const char *name)
{
    return json_pack("{s:s, s:n, s:b, s:n, s:n, s:n, s:[], s:[], s:[], s:n, s:n, s:[], s:{}, s:n}", "source", name,
                     "target", "view", 0, "where", "target_state", "ddl", "columns", "notes", "risks", "scanned_rows",
                     "refused_rows", "refused", "casts", "error");
}

/* ---- the stream ---------------------------------------------------------------------- */

/* What a change stream needs of its source (settings, privileges, replica identity). */
static void check_cdc_source(const sl_spec_t *spec, sl_map_t **maps, int n, json_t *errors)
{
    sl_table_t **tables = calloc((size_t)n + 1, sizeof *tables);
    if (!tables)
        sl_oom();
    int k = 0;
    for (int i = 0; i < n; i++)
        if (maps[i])
            tables[k++] = maps[i]->src;
    sl_cdc_id_t id = {.stream = spec->name};
    sl_cdc_t *c = NULL;
    sl_err_t err = {0};
    if (sl_cdc_open(spec->source_url, &id, &c, &err) || c->ops->check(c, tables, k, &err)) {
        sl_err_prefix(&err, "source: ");
        json_array_append_new(errors, err_json(&err));
    }
    sl_cdc_close(c);
    free(tables);
}

static const char *kind(const char *url)
{
    return !strncmp(url, "postgres", 8) ? "pg" : !strncmp(url, "mysql", 5) || !strncmp(url, "mariadb", 7) ? "mysql" : "file";
}

int sl_check_run(const sl_spec_t *spec, bool scan, json_t **report, sl_err_t *err)
{
    (void)err;
    json_t *errors = json_array(), *tables = json_array();
    *report = json_pack("{s:s, s:s, s:s, s:s, s:b, s:b, s:o, s:o}", "stream", spec->name, "mode",
                        spec->mode == SL_MODE_CDC ? "cdc" : "load", "source", kind(spec->source_url), "target",
                        kind(spec->target_url), "scan", scan, "would_run", 0, "errors", errors, "tables", tables);
    sl_source_t *src = NULL;
    sl_target_t *tgt = NULL;
    sl_url_t *turl = NULL;
    char **names = NULL;
    int n = 0;
    sl_map_t **maps = NULL;
    bool refused = false;
    sl_err_t e = {0};
    if (sl_url_parse(spec->target_url, &turl, &e) || sl_source_open(spec->source_url, &src, &e)) {
        sl_err_prefix(&e, turl ? "source: " : "target: ");
        json_array_append_new(errors, err_json(&e));
        goto out;
    }
    if (sl_target_open(spec->target_url, &tgt, &e)) {
        sl_err_prefix(&e, "target: ");
        json_array_append_new(errors, err_json(&e));
        tgt = NULL; /* the tables are still checked */
    }
    if (!sl_spec_all_tables(spec)) {
        names = calloc((size_t)spec->ntables + 1, sizeof *names);
        for (int i = 0; i < spec->ntables; i++)
            names[n++] = sl_strdup(spec->tables[i]);
    } else if (src->ops->list_tables(src, &names, &n, &e)) {
        sl_err_prefix(&e, "source: ");
        json_array_append_new(errors, err_json(&e));
        goto out;
    }
    maps = calloc((size_t)n + 1, sizeof *maps);
    for (int i = 0; i < n; i++) {
        json_t *tj = table_stub(names[i]);
        json_array_append_new(tables, tj);
        sl_err_clear(&e);
        if (check_table(spec, scan, src, tgt, turl, names[i], tj, &maps[i], &e)) {
            json_object_set_new(tj, "error", err_json(&e));
            refused = true;
            continue;
        }
        for (int j = 0; j < i; j++)
            if (maps[j] && !strcmp(maps[j]->tgt->name, maps[i]->tgt->name) &&
                !strcmp(maps[j]->tgt->target_schema ? maps[j]->tgt->target_schema : "",
                        maps[i]->tgt->target_schema ? maps[i]->tgt->target_schema : "")) {
                sl_err_set(&e, SL_E_CONFIG, "two source tables would both go into target table \"%s\"", maps[i]->tgt->name);
                sl_err_hint(&e, "give one of them another \"target\" in source.tables");
                json_object_set_new(tj, "error", err_json(&e));
                refused = true;
            }
        if (spec->opt.on_error == SL_ON_ERROR_FAIL && json_integer_value(json_object_get(tj, "refused_rows")) > 0)
            refused = true;
    }
    if (n == 0) {
        sl_err_set(&e, SL_E_NOT_FOUND, "the source database has no tables");
        sl_err_hint(&e, "check the database (and schema) in the source URL");
        json_array_append_new(errors, err_json(&e));
    }
    if (spec->mode == SL_MODE_CDC && n > 0)
        check_cdc_source(spec, maps, n, errors);
out:
    json_object_set_new(*report, "would_run", json_boolean(!refused && json_array_size(errors) == 0));
    for (int i = 0; i < n; i++) {
        free(names[i]);
        if (maps)
            sl_map_free(maps[i]);
    }
    free(names);
    free(maps);
    sl_source_close(src);
    sl_target_close(tgt);
    sl_url_free(turl);
    return json_is_true(json_object_get(*report, "would_run")) ? 0 : 1;
}

/* ---- text ------------------------------------------------------------------------------ */

static void print_err(const json_t *e, const char *indent, FILE *out)
{
    fprintf(out, "%serror: %s\n", indent, json_string_value(json_object_get(e, "message")));
    if (json_object_get(e, "detail"))
        fprintf(out, "%sdetail: %s\n", indent, json_string_value(json_object_get(e, "detail")));
    if (json_object_get(e, "hint"))
        fprintf(out, "%shint: %s\n", indent, json_string_value(json_object_get(e, "hint")));
}

static void print_table(const json_t *t, FILE *out)
{
    const char *src = json_string_value(json_object_get(t, "source"));
    const char *tgt = json_string_value(json_object_get(t, "target"));
    fprintf(out, "table %s", src ? src : "?");
    if (tgt)
        fprintf(out, " -> %s", tgt);
    if (json_is_true(json_object_get(t, "view")))
        fputs(" (a view, copied as a table)", out);
    if (json_is_string(json_object_get(t, "target_state")))
        fprintf(out, "  [target: %s]", json_string_value(json_object_get(t, "target_state")));
    fputc('\n', out);
    if (json_is_string(json_object_get(t, "where")))
        fprintf(out, "  rows where %s\n", json_string_value(json_object_get(t, "where")));
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(t, "notes"), i, v)
    {
        const json_t *col = json_object_get(v, "column");
        fprintf(out, "  %s%s%s%s%s\n", json_is_true(json_object_get(v, "warning")) ? "warning: " : "",
                json_is_string(col) ? "column " : "", json_is_string(col) ? json_string_value(col) : "",
                json_is_string(col) ? ": " : "", json_string_value(json_object_get(v, "text")));
    }
    json_array_foreach(json_object_get(t, "risks"), i, v)
    {
        const char *cast = json_string_value(json_object_get(v, "cast"));
        fprintf(out, "  may not fit: column %s: %s%s%s%s\n", json_string_value(json_object_get(v, "column")),
                json_string_value(json_object_get(v, "reason")), cast ? " (a cast to " : "", cast ? cast : "",
                cast ? " carries them)" : "");
    }
    if (json_is_string(json_object_get(t, "ddl"))) {
        fputs("  ", out);
        for (const char *p = json_string_value(json_object_get(t, "ddl")); *p; p++) {
            fputc(*p, out);
            if (*p == '\n')
                fputs("  ", out);
        }
        fputs(";\n", out);
    }
    if (json_is_integer(json_object_get(t, "scanned_rows")))
        fprintf(out, "  scanned %" JSON_INTEGER_FORMAT " rows: %" JSON_INTEGER_FORMAT " with a value the target refuses\n",
                json_integer_value(json_object_get(t, "scanned_rows")),
                json_integer_value(json_object_get(t, "refused_rows")));
    json_array_foreach(json_object_get(t, "refused"), i, v)
    {
        char *key = json_dumps(json_object_get(v, "key"), JSON_ENCODE_ANY | JSON_COMPACT);
        char *val = json_dumps(json_object_get(v, "value"), JSON_ENCODE_ANY | JSON_COMPACT);
        const char *cast = json_string_value(json_object_get(v, "cast"));
        fprintf(out, "    refused: column %s, key %s, value %s: %s%s%s%s\n", json_string_value(json_object_get(v, "column")),
                key ? key : "?", val ? val : "?", json_string_value(json_object_get(v, "reason")),
                cast ? " (cast: \"" : "", cast ? cast : "", cast ? "\")" : "");
        free(key);
        free(val);
    }
    if (json_object_size(json_object_get(t, "casts"))) {
        char *casts = json_dumps(json_object_get(t, "casts"), JSON_COMPACT | JSON_SORT_KEYS);
        fprintf(out, "  casts that carry them: {\"name\": \"%s\", \"cast\": %s}\n", src ? src : "?", casts ? casts : "{}");
        free(casts);
    }
    if (json_is_object(json_object_get(t, "error")))
        print_err(json_object_get(t, "error"), "  ", out);
}

void sl_check_print(const json_t *report, FILE *out)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(report, "tables"), i, v)
    {
        print_table(v, out);
        fputc('\n', out);
    }
    json_array_foreach(json_object_get(report, "errors"), i, v) print_err(v, "", out);
    fprintf(out, "%s\n", json_is_true(json_object_get(report, "would_run")) ? "the stream would run"
                                                                            : "the stream would be refused");
}
