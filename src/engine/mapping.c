/*
 * mapping.c: building a table's map from its rules, its stored form, and applying it to
 * rows and changes (see mapping.h).
 *
 * The rules are JSON (what the spec said), not the spec itself, so that a change stream
 * whose source table gains a column maps the new description with the rules it started
 * with (engine/cdc_schema.c), and so that a rerun can tell whether the spec still says
 * the same.
 */
#include "engine/mapping.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/url.h"
#include "target/target.h"

/* ---- environment and rules ------------------------------------------------------- */

int sl_map_env(const sl_spec_t *spec, sl_map_env_t *env, sl_err_t *err)
{
    memset(env, 0, sizeof *env);
    sl_url_t *u;
    if (sl_url_parse(spec->target_url, &u, err))
        return -1;
    env->tops = sl_target_lookup(u->scheme);
    env->cdc = spec->mode == SL_MODE_CDC;
    snprintf(env->target_kind, sizeof env->target_kind, "%s",
             !strncmp(u->scheme, "postgres", 8) ? "pg"
             : !strcmp(u->scheme, "mysql") || !strcmp(u->scheme, "mariadb") ? "mysql"
                                                                              : "file");
    sl_url_free(u);
    if (!env->tops)
        return sl_err_set(err, SL_E_CONFIG, "unsupported target URL scheme");
    return 0;
}

static json_t *strv_json(char *const *v, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static json_t *strmap_json(const sl_strmap_t *m)
{
    json_t *o = json_object();
    for (int i = 0; i < m->n; i++)
        json_object_set_new(o, m->keys[i], json_string(m->vals[i]));
    return o;
}

json_t *sl_map_rules(const sl_spec_t *spec, const sl_table_t *src)
{
    return sl_map_entry_rules(spec, sl_spec_entry(spec, src->schema, src->name));
}

json_t *sl_map_entry_rules(const sl_spec_t *spec, const sl_table_spec_t *e)
{
    json_t *r = json_object();
    if (e && e->target)
        json_object_set_new(r, "target", json_string(e->target));
    if (e && e->columns)
        json_object_set_new(r, "columns", strv_json(e->columns, e->ncolumns));
    if (e && e->exclude)
        json_object_set_new(r, "exclude", strv_json(e->exclude, e->nexclude));
    if (e && e->rename.n)
        json_object_set_new(r, "rename", strmap_json(&e->rename));
    if (e && e->cast.n)
        json_object_set_new(r, "cast", strmap_json(&e->cast));
    if (e && e->where)
        json_object_set_new(r, "where", json_string(e->where));
    if (spec->opt.cast.n)
        json_object_set_new(r, "types", strmap_json(&spec->opt.cast));
    return r;
}

/* ---- type names (options.cast) ---------------------------------------------------- */

/* A type name as the source prints it, reduced to a key that every spelling of the same
 * type shares: lower case, modifiers "(…)" dropped, PostgreSQL's aliases to its own
 * names ("timestamptz" and "timestamp with time zone"), "[]" kept. */
static void type_key(const char *s, char *out, size_t size)
{
    static const char *const alias[][2] = {
        {"int", "integer"},         {"int4", "integer"},
        {"int8", "bigint"},         {"int2", "smallint"},
        {"float8", "double precision"}, {"float4", "real"},
        {"bool", "boolean"},        {"varchar", "character varying"},
        {"char", "character"},      {"bpchar", "character"},
        {"decimal", "numeric"},     {"timestamp", "timestamp without time zone"},
        {"timestamptz", "timestamp with time zone"}, {"time", "time without time zone"},
        {"timetz", "time with time zone"},
    };
    char buf[256];
    size_t n = 0;
    int depth = 0;
    bool space = false;
    for (const char *p = s; *p && n + 2 < sizeof buf; p++) {
        if (*p == '(') {
            depth++;
            continue;
        }
        if (*p == ')') {
            depth -= depth > 0;
            continue;
        }
        if (depth)
            continue;
        if (isspace((unsigned char)*p)) {
            space = n > 0;
            continue;
        }
        if (space)
            buf[n++] = ' ';
        space = false;
        buf[n++] = (char)tolower((unsigned char)*p);
    }
    buf[n] = '\0';
    bool arr = n >= 2 && !strcmp(buf + n - 2, "[]");
    if (arr)
        buf[n - 2] = '\0';
    for (size_t i = 0; i < sizeof alias / sizeof alias[0]; i++)
        if (!strcmp(buf, alias[i][0])) {
            snprintf(buf, sizeof buf, "%s", alias[i][1]);
            break;
        }
    snprintf(out, size, "%s%s", buf, arr ? "[]" : "");
}

/* The cast options.cast ("types") gives column c by its source type name, NULL when none. */
static const char *type_cast(const json_t *types, const sl_column_t *c)
{
    if (!types || !c->native)
        return NULL;
    char want[256], have[256];
    type_key(c->native, have, sizeof have);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)types, k, v)
    {
        type_key(k, want, sizeof want);
        if (!strcmp(want, have) || !strcasecmp(k, c->native))
            return json_string_value(v);
    }
    return NULL;
}

/* ---- building ---------------------------------------------------------------------- */

static void note(const sl_map_env_t *env, const char *table, const char *column, bool warning, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void note(const sl_map_env_t *env, const char *table, const char *column, bool warning, const char *fmt, ...)
{
    char text[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (env->note) {
        env->note(env->note_ctx, table, column, warning, text);
    } else if (warning) {
        if (column)
            sl_warn("table \"%s\", column \"%s\": %s", table, column, text);
        else
            sl_warn("table \"%s\": %s", table, text);
    } else {
        sl_debug("table \"%s\"%s%s%s: %s", table, column ? ", column \"" : "", column ? column : "",
                 column ? "\"" : "", text);
    }
}

static bool in_array(const json_t *a, const char *name)
{
    size_t i;
    json_t *e;
    json_array_foreach((json_t *)a, i, e)
    if (json_is_string(e) && !strcmp(json_string_value(e), name))
        return true;
    return false;
}

/* Every column name a rule lists must be a column of src. */
static int check_names(const sl_table_t *src, const char *label, const json_t *rules, sl_err_t *err)
{
    static const char *const lists[] = {"columns", "exclude"};
    static const char *const maps[] = {"rename", "cast"};
    const char *bad = NULL, *field = NULL;
    for (int l = 0; l < 2 && !bad; l++) {
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(rules, lists[l]), i, e)
        if (!bad && sl_table_find_col(src, json_string_value(e)) < 0)
        {
            bad = json_string_value(e);
            field = lists[l];
        }
    }
    for (int m = 0; m < 2 && !bad; m++) {
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(rules, maps[m]), k, v)
        if (!bad && sl_table_find_col(src, k) < 0)
        {
            bad = k;
            field = maps[m];
        }
    }
    if (!bad)
        return 0;
    sl_err_set(err, SL_E_CONFIG, "column \"%s\" in \"%s\" of table \"%s\" does not exist", bad, field, label);
    for (int i = 0; i < src->ncolumns; i++)
        if (!strcasecmp(src->columns[i].name, bad)) {
            sl_err_hint(err, "column names match exactly: perhaps you meant \"%s\"", src->columns[i].name);
            return -1;
        }
    sl_err_hint(err, "`sluice check` lists the table's columns");
    return -1;
}

/* What becomes of a generated column of another engine (PostgreSQL's change stream does
 * not send generated columns): recreated on a MariaDB target when its expression
 * translates; else a change stream leaves it out and a load copies its values into a
 * plain column. Returns 1 when the column is kept (c->target_expr set when recreated),
 * 0 when left out, -1 with err. */
static int generated(const sl_map_env_t *env, const sl_table_t *src, int col, const char *const *names,
                     const char *label, char **expr, sl_err_t *err)
{
    const sl_column_t *c = &src->columns[col];
    char why[300] = "";
    *expr = NULL;
    if (env->tops->generated && !c->pk_pos) {
        sl_buf_t b;
        sl_buf_init(&b, 1u << 20);
        int rc = env->tops->generated(src, col, names, &b, why, sizeof why, err);
        if (rc < 0) {
            sl_buf_free(&b);
            return -1;
        }
        if (rc == 0) {
            *expr = sl_strdup(b.data ? b.data : "");
            sl_buf_free(&b);
            note(env, label, c->name, false, "generated column recreated on the target as %s", *expr);
            return 1;
        }
        sl_buf_free(&b);
    } else if (env->tops->generated) {
        snprintf(why, sizeof why, "it is part of the primary key, which MariaDB does not allow");
    } else {
        snprintf(why, sizeof why, "the target has no generated columns");
    }
    if (!env->cdc) {
        note(env, label, c->name, true,
             "generated column copied as a plain column holding its values (%s); "
             "exclude it to leave it out",
             why);
        return 1;
    }
    if (c->pk_pos) {
        sl_err_set(err, SL_E_SCHEMA, "column \"%s\" of the primary key of table \"%s\" is generated", c->name,
                   label);
        sl_err_detail(err, "PostgreSQL does not send generated columns in its change stream, and %s", why);
        sl_err_hint(err, "stream the table into PostgreSQL, or copy it with a load");
        return -1;
    }
    note(env, label, c->name, true, "generated column left out: PostgreSQL does not send it in its change stream, "
                                    "and it cannot be recreated (%s); add it to \"exclude\" to say so",
         why);
    return 0;
}

/* The target table's name ("schema.name" on PostgreSQL) onto tgt. */
static int set_target_name(sl_table_t *tgt, const char *target, const sl_map_env_t *env, const char *label,
                           sl_err_t *err)
{
    const char *dot = strchr(target, '.');
    if (dot && strcmp(env->target_kind, "pg")) {
        sl_err_set(err, SL_E_CONFIG, "table \"%s\": target \"%s\" names a schema", label, target);
        sl_err_detail(err, "only a PostgreSQL target takes \"schema.name\"; this target creates tables where its URL "
                           "says");
        sl_err_hint(err, "give \"target\" as a table name, or put the database in the target URL");
        return -1;
    }
    if (dot && (dot == target || !dot[1]))
        return sl_err_set(err, SL_E_CONFIG, "table \"%s\": target \"%s\" is not \"schema.name\"", label, target);
    free(tgt->name);
    free(tgt->target_schema);
    tgt->name = sl_strdup(dot ? dot + 1 : target);
    tgt->target_schema = dot ? strndup(target, (size_t)(dot - target)) : NULL;
    if (dot && !tgt->target_schema)
        sl_oom();
    return 0;
}

/* Casts onto tgt's columns: the entry's by source column name, else options.cast's by
 * source type name. */
static int set_casts(sl_table_t *tgt, const json_t *rules, const sl_map_env_t *env, const char *label,
                     sl_err_t *err)
{
    const json_t *cast = json_object_get(rules, "cast"), *types = json_object_get(rules, "types");
    for (int i = 0; i < tgt->ncolumns; i++) {
        sl_column_t *c = &tgt->columns[i];
        const char *src_name = sl_column_source(c);
        const char *to = json_string_value(json_object_get(cast, src_name));
        bool by_type = false;
        if (!to && (to = type_cast(types, c)))
            by_type = true;
        if (!to)
            continue;
        bool computed = c->generated && (c->target_expr || (c->generation_expr && tgt->engine &&
                                                             !strcmp(tgt->engine, env->target_kind)));
        if (computed) {
            if (by_type)
                continue; /* options.cast does not reach a column the target computes */
            sl_err_set(err, SL_E_SCHEMA, "column \"%s\" of table \"%s\" is generated and cannot be cast", src_name,
                       label);
            sl_err_hint(err, "the target computes it with its expression's type; leave the cast out, or exclude "
                             "the column");
            return -1;
        }
        c->cast = sl_strdup(to);
        free(c->default_value);
        c->default_value = NULL;
        c->autoinc = false;
        c->generated = false;
        note(env, label, c->name, false, "cast to %s%s", to, by_type ? " (options.cast)" : "");
    }
    return 0;
}

static int bind_filter(sl_map_t *m, const json_t *rules, sl_err_t *err)
{
    const char *w = json_string_value(json_object_get(rules, "where"));
    if (!w)
        return 0;
    if (sl_filter_parse(w, &m->filter, err) || sl_filter_bind(m->filter, m->src, err)) {
        sl_err_prefix(err, "table \"%s\": where: ", m->label);
        return -1;
    }
    return 0;
}

/* scan and proj from src and tgt (by tgt's source names). */
static int finish_map(sl_map_t *m, sl_err_t *err)
{
    int n = m->tgt->ncolumns;
    m->proj = calloc((size_t)n + 1, sizeof *m->proj);
    sl_col_edit_t *edits = calloc((size_t)n + 1, sizeof *edits);
    if (!m->proj || !edits)
        sl_oom();
    m->identity = n == m->src->ncolumns;
    for (int i = 0; i < n; i++) {
        const char *name = sl_column_source(&m->tgt->columns[i]);
        int s = sl_table_find_col(m->src, name);
        if (s < 0) {
            free(edits);
            return sl_err_set(err, SL_E_PROTOCOL, "target column \"%s\" of table \"%s\" comes from no source column",
                              m->tgt->columns[i].name, m->label);
        }
        m->proj[i] = s;
        m->identity = m->identity && s == i;
        edits[i].from = &m->src->columns[s];
    }
    int rc = sl_table_derive(m->src, edits, n, SL_TABLE_NO_INDEXES, &m->scan, err);
    free(edits);
    return rc;
}

static sl_map_t *map_new(const sl_table_t *src)
{
    sl_map_t *m = calloc(1, sizeof *m);
    if (!m)
        sl_oom();
    m->src = sl_table_copy(src);
    char label[300];
    m->label = sl_strdup(sl_table_label(src, label, sizeof label));
    return m;
}

/* Which columns of src the rules keep (1), leave out (0), before generated columns. */
static int keep_columns(const sl_table_t *src, const json_t *rules, const char *label, int *keep, sl_err_t *err)
{
    const json_t *cols = json_object_get(rules, "columns"), *excl = json_object_get(rules, "exclude");
    for (int i = 0; i < src->ncolumns; i++) {
        const sl_column_t *c = &src->columns[i];
        keep[i] = (!cols || in_array(cols, c->name)) && !in_array(excl, c->name);
        if (!keep[i] && c->pk_pos) {
            sl_err_set(err, SL_E_CONFIG, "column \"%s\" of table \"%s\" is part of its primary key and cannot be left "
                                         "out",
                       c->name, label);
            sl_err_detail(err, "without its key, a row cannot be found again to update or delete it");
            sl_err_hint(err, cols ? "add it to \"columns\"" : "remove it from \"exclude\"");
            return -1;
        }
        const char *to = json_string_value(json_object_get(json_object_get(rules, "rename"), c->name));
        bool cast = json_object_get(json_object_get(rules, "cast"), c->name) != NULL;
        if (!keep[i] && (to || cast)) {
            sl_err_set(err, SL_E_CONFIG, "column \"%s\" of table \"%s\" is %s and left out", c->name, label,
                       to ? "renamed" : "cast");
            sl_err_hint(err, "keep the column, or leave its %s out", to ? "rename" : "cast");
            return -1;
        }
    }
    return 0;
}

int sl_map_make(const json_t *rules, const sl_table_t *src, const sl_map_env_t *env, sl_map_t **out, sl_err_t *err)
{
    sl_map_t *m = map_new(src);
    m->rules = json_deep_copy(rules);
    int n = src->ncolumns, ne = 0, rc = -1;
    int *keep = calloc((size_t)n + 1, sizeof *keep);
    char **expr = calloc((size_t)n + 1, sizeof *expr);
    const char **names = calloc((size_t)n + 1, sizeof *names);
    sl_col_edit_t *edits = calloc((size_t)n + 1, sizeof *edits);
    if (!keep || !expr || !names || !edits)
        sl_oom();
    const json_t *rename = json_object_get(rules, "rename");
    if (src->view && env->cdc) {
        sl_err_set(err, SL_E_CONFIG, "table \"%s\" is a view", m->label);
        sl_err_detail(err, "a view has no change stream of its own: its rows change when its tables do");
        sl_err_hint(err, "stream the tables the view reads, or copy the view with a load stream");
        goto out;
    }
    if (check_names(src, m->label, rules, err) || keep_columns(src, rules, m->label, keep, err))
        goto out;
    bool other_engine = src->engine && strcmp(src->engine, "pg") == 0 && strcmp(env->target_kind, "pg");
    for (int i = 0; i < n; i++) {
        const char *to = json_string_value(json_object_get(rename, src->columns[i].name));
        bool cast = json_object_get(json_object_get(rules, "cast"), src->columns[i].name) ||
                    type_cast(json_object_get(rules, "types"), &src->columns[i]);
        names[i] = keep[i] && !cast ? (to ? to : src->columns[i].name) : NULL;
        if (!keep[i])
            note(env, m->label, src->columns[i].name, false, "left out");
        else if (to)
            note(env, m->label, src->columns[i].name, false, "renamed to \"%s\"", to);
    }
    for (int i = 0; i < n; i++) {
        if (!keep[i] || !src->columns[i].generated || !other_engine)
            continue;
        int g = generated(env, src, i, names, m->label, &expr[i], err);
        if (g < 0)
            goto out;
        keep[i] = g;
    }
    for (int i = 0; i < n; i++)
        if (keep[i])
            edits[ne++] = (sl_col_edit_t){
                .from = &src->columns[i],
                .name = json_string_value(json_object_get(rename, src->columns[i].name))};
    if (sl_table_derive(src, edits, ne, 0, &m->tgt, err)) {
        sl_err_hint(err, "give each column its own target name in \"rename\"");
        goto out;
    }
    for (int i = 0, j = 0; i < n; i++)
        if (keep[i]) {
            sl_column_t *c = &m->tgt->columns[j++];
            c->target_expr = expr[i];
            expr[i] = NULL;
            if (other_engine && c->generated && !c->target_expr)
                c->generated = false; /* copied as a plain column (a load) */
        }
    const char *target = json_string_value(json_object_get(rules, "target"));
    if ((target && set_target_name(m->tgt, target, env, m->label, err)) || set_casts(m->tgt, rules, env, m->label, err) ||
        bind_filter(m, rules, err) || finish_map(m, err))
        goto out;
    rc = 0;
out:
    for (int i = 0; i < n; i++)
        free(expr[i]);
    free(expr);
    free(keep);
    free(names);
    free(edits);
    if (rc) {
        sl_map_free(m);
        return -1;
    }
    *out = m;
    return 0;
}

int sl_map_build(const sl_spec_t *spec, const sl_table_t *src, const sl_map_env_t *env, sl_map_t **out,
                 sl_err_t *err)
{
    json_t *rules = sl_map_rules(spec, src);
    int rc = sl_map_make(rules, src, env, out, err);
    json_decref(rules);
    return rc;
}

bool sl_map_same_target(const sl_map_t *a, const sl_map_t *b)
{
    return strcmp(a->tgt->name, b->tgt->name) == 0 &&
           !strcmp(a->tgt->target_schema ? a->tgt->target_schema : "",
                   b->tgt->target_schema ? b->tgt->target_schema : "");
}

void sl_map_free(sl_map_t *m)
{
    if (!m)
        return;
    sl_table_free(m->src);
    sl_table_free(m->tgt);
    sl_table_free(m->scan);
    free(m->proj);
    sl_filter_free(m->filter);
    json_decref(m->rules);
    free(m->label);
    free(m);
}

/* The map of the table fk references among maps[], NULL when it is not one of them. */
static const sl_map_t *referenced(sl_map_t **maps, int n, const sl_fkey_t *fk)
{
    for (int j = 0; j < n; j++)
        if (!strcmp(maps[j]->src->name, fk->ref_table) &&
            (!fk->ref_schema || !maps[j]->src->schema || !strcmp(fk->ref_schema, maps[j]->src->schema)))
            return maps[j];
    return NULL;
}

/* Renames fk's references to the target names of ref; false when it cannot follow them. */
static bool relink(sl_fkey_t *fk, const sl_table_t *t, const sl_map_t *ref)
{
    const char *a = t->target_schema ? t->target_schema : "", *b = ref->tgt->target_schema ? ref->tgt->target_schema : "";
    if (strcmp(a, b))
        return false;
    for (int c = 0; c < fk->ncolumns; c++) {
        int k = 0;
        while (k < ref->tgt->ncolumns && strcmp(sl_column_source(&ref->tgt->columns[k]), fk->ref_columns[c]))
            k++;
        if (k == ref->tgt->ncolumns)
            return false;
        free(fk->ref_columns[c]);
        fk->ref_columns[c] = sl_strdup(ref->tgt->columns[k].name);
    }
    free(fk->ref_table);
    fk->ref_table = sl_strdup(ref->tgt->name);
    return true;
}

void sl_map_link(sl_map_t **maps, int n)
{
    for (int i = 0; i < n; i++) {
        sl_table_t *t = maps[i]->tgt;
        for (int f = 0; f < t->nfkeys;) {
            const sl_map_t *ref = referenced(maps, n, &t->fkeys[f]);
            if (!ref || relink(&t->fkeys[f], t, ref)) {
                f++;
                continue;
            }
            sl_warn("table \"%s\": foreign key \"%s\" is not recreated: the table it references is mapped into "
                    "another schema or without the columns it names",
                    maps[i]->label, t->fkeys[f].name);
            sl_table_drop_fkey(t, f);
        }
    }
}

/* ---- stored form ------------------------------------------------------------------- */

json_t *sl_map_to_json(const sl_map_t *m)
{
    return json_pack("{s:o, s:o, s:O}", "source", sl_table_to_json(m->src), "target", sl_table_to_json(m->tgt),
                     "rules", m->rules);
}

int sl_map_from_json(const json_t *j, sl_map_t **out, sl_err_t *err)
{
    sl_table_t *src = NULL;
    const json_t *sj = json_object_get(j, "source"), *tj = json_object_get(j, "target");
    bool bare = json_object_get(j, "columns") != NULL; /* stored before mappings: identity */
    if (sl_table_from_json(bare ? j : sj, &src, err))
        return -1;
    sl_map_t *m = map_new(src);
    sl_table_free(src);
    const json_t *rules = json_object_get(j, "rules");
    m->rules = json_is_object(rules) ? json_deep_copy(rules) : json_object();
    if ((bare ? (m->tgt = sl_table_copy(m->src), 0) : sl_table_from_json(tj, &m->tgt, err)) ||
        bind_filter(m, m->rules, err) || finish_map(m, err)) {
        sl_map_free(m);
        return -1;
    }
    *out = m;
    return 0;
}

int sl_map_same_rules(const sl_map_t *m, const sl_spec_t *spec, const char *what, sl_err_t *err)
{
    json_t *now = sl_map_rules(spec, m->src);
    bool same = json_equal(now, m->rules);
    if (!same) {
        char *a = json_dumps(m->rules, JSON_COMPACT | JSON_SORT_KEYS);
        char *b = json_dumps(now, JSON_COMPACT | JSON_SORT_KEYS);
        sl_err_set(err, SL_E_CONFLICT, "the mapping of table \"%s\" changed since the %s started", m->label, what);
        sl_err_detail(err, "it started with %s; the spec now says %s", a ? a : "?", b ? b : "?");
        sl_err_hint(err, "restore the table's entry to finish the %s as it started, or run with --restart to copy "
                         "again under the new mapping",
                    what);
        free(a);
        free(b);
    }
    json_decref(now);
    return same ? 0 : -1;
}

/* ---- rows and changes ---------------------------------------------------------------- */

void sl_map_row(const sl_map_t *m, const sl_value_t *in, sl_value_t *out)
{
    for (int i = 0; i < m->tgt->ncolumns; i++)
        out[i] = in[m->proj[i]];
}

int sl_map_filter_row(const sl_map_t *m, const sl_value_t *in, int n, sl_value_t *out, sl_err_t *err)
{
    sl_filter_result_t f = m->filter ? sl_filter_eval(m->filter, in, n, err) : SL_FILTER_TRUE;
    if (f == SL_FILTER_ERROR) {
        sl_err_prefix(err, "table \"%s\": ", m->label);
        return -1;
    }
    if (f != SL_FILTER_TRUE)
        return 0;
    sl_map_row(m, in, out);
    return 1;
}

int sl_map_change(const sl_map_t *m, const sl_change_t *in, sl_value_t *scratch, sl_change_t *out, sl_err_t *err)
{
    sl_change_t ch = *in;
    int n = m->src->ncolumns;
    if (m->filter && in->op != SL_OP_TRUNCATE) {
        int act = sl_filter_route(m->filter, in, m->src->old_full, scratch, &ch, err);
        if (act < 0) {
            sl_err_prefix(err, "table \"%s\": ", m->label);
            return -1;
        }
        if (act == SL_FILTER_SKIP)
            return 0;
    }
    *out = ch;
    if (m->identity)
        return 1;
    out->ncols = m->tgt->ncolumns;
    if (ch.row) {
        sl_map_row(m, ch.row, scratch + n);
        out->row = scratch + n;
    }
    if (ch.old) {
        sl_map_row(m, ch.old, scratch + 2 * n);
        out->old = scratch + 2 * n;
    }
    return 1;
}
