/*
 * test_mapping.c: table entries in specs (source.tables objects, options.cast,
 * options.on_error) and the mapping derived from them (engine/mapping.h): kept, renamed
 * and cast columns, target names, errors that name the column, options.cast by type name
 * and its aliases, generated columns across engines, views, the stored form (also the
 * bare tables stored before mappings), a rerun whose mapping changed, and changes through
 * the filter and the projection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mapping.h"
#include "engine/spec.h"
#include "target/target.h"

static sl_spec_t *spec_of(const char *tables, const char *options, const char *target, const char *mode)
{
    char text[4096];
    snprintf(text, sizeof text,
             "{\"name\":\"m\",\"mode\":\"%s\",\"source\":{\"url\":\"postgres://u@h/db\",\"tables\":%s},"
             "\"target\":{\"url\":\"%s\"},\"options\":%s}",
             mode, tables, target, options);
    sl_spec_t *s = NULL;
    sl_err_t err = {0};
    if (sl_spec_parse(text, &s, &err))
        fail_msg("spec refused: %s (%s)", err.message, text);
    return s;
}

static int spec_err(const char *tables, const char *options, sl_err_t *err)
{
    char text[4096];
    snprintf(text, sizeof text,
             "{\"name\":\"m\",\"source\":{\"url\":\"postgres://u@h/db\",\"tables\":%s},"
             "\"target\":{\"url\":\"mysql://u@h/db\"},\"options\":%s}",
             tables, options);
    sl_spec_t *s = NULL;
    int rc = sl_spec_parse(text, &s, err);
    sl_spec_free(s);
    return rc;
}

static sl_column_t *col(sl_table_t *t, const char *name, sl_type_t type, const char *native, int pk)
{
    sl_column_t *c = sl_table_add_col(t);
    c->name = sl_strdup(name);
    c->type = type;
    c->native = sl_strdup(native);
    c->pk_pos = pk;
    c->nullable = pk == 0;
    return c;
}

/* customers(id integer PK, email text, region text, ssn text, signup time, score numeric,
 * g integer GENERATED (id * 2)) of a PostgreSQL source. */
static sl_table_t *customers(void)
{
    sl_table_t *t = calloc(1, sizeof *t);
    t->engine = sl_strdup("pg");
    t->schema = sl_strdup("shop");
    t->name = sl_strdup("customers");
    t->est_rows = t->est_bytes = -1;
    col(t, "id", SL_T_INT32, "integer", 1);
    col(t, "email", SL_T_TEXT, "text", 0);
    col(t, "region", SL_T_TEXT, "text", 0);
    col(t, "ssn", SL_T_TEXT, "text", 0);
    col(t, "signup", SL_T_TIME, "time without time zone", 0);
    col(t, "score", SL_T_DECIMAL, "numeric(10,2)", 0)->default_value = sl_strdup("0");
    sl_column_t *g = col(t, "g", SL_T_INT32, "integer", 0);
    g->generated = true;
    g->generation_expr = sl_strdup("(id * 2)");
    return t;
}

static sl_map_t *build(const sl_spec_t *s, const sl_table_t *t, sl_err_t *err)
{
    sl_map_env_t env;
    assert_int_equal(sl_map_env(s, &env, err), 0);
    sl_map_t *m = NULL;
    return sl_map_build(s, t, &env, &m, err) ? NULL : m;
}

static void spec_entries(void **state)
{
    (void)state;
    sl_spec_t *s = spec_of("[\"orders\", {\"name\": \"shop.customers\", \"target\": \"crm.clients\", \"columns\": "
                           "[\"id\", \"email\", \"region\"], \"exclude\": [\"ssn\"], \"rename\": {\"email\": "
                           "\"email_address\"}, \"cast\": {\"signup\": \"interval\"}, \"where\": \"region = 'EU'\"}]",
                           "{\"on_error\": \"reject\", \"cast\": {\"time\": \"interval\", \"numeric\": \"text\"}}",
                           "postgres://u@h/db", "load");
    assert_int_equal(s->ntables, 2);
    assert_string_equal(s->tables[0], "orders");
    assert_string_equal(s->tables[1], "shop.customers");
    assert_false(sl_table_spec_maps(&s->entries[0]));
    const sl_table_spec_t *e = sl_spec_entry(s, "shop", "customers");
    assert_ptr_equal(e, &s->entries[1]);
    assert_true(sl_table_spec_maps(e));
    assert_string_equal(e->target, "crm.clients");
    assert_int_equal(e->ncolumns, 3);
    assert_int_equal(e->nexclude, 1);
    assert_string_equal(sl_strmap_get(&e->rename, "email"), "email_address");
    assert_string_equal(sl_strmap_get(&e->cast, "signup"), "interval");
    assert_string_equal(e->where, "region = 'EU'");
    assert_null(sl_spec_entry(s, "other", "customers"));
    assert_ptr_equal(sl_spec_entry(s, "public", "orders"), &s->entries[0]);
    assert_int_equal(s->opt.on_error, SL_ON_ERROR_REJECT);
    assert_int_equal(s->opt.cast.n, 2);
    assert_string_equal(sl_strmap_get(&s->opt.cast, "numeric"), "text");
    sl_spec_free(s);
    s = spec_of("[\"t\"]", "{}", "mysql://u@h/db", "cdc");
    assert_int_equal(s->opt.on_error, SL_ON_ERROR_FAIL);
    assert_int_equal(s->opt.cast.n, 0);
    sl_spec_free(s);
}

static void spec_errors(void **state)
{
    (void)state;
    sl_err_t err;
    assert_int_equal(spec_err("[{\"name\": \"t\", \"colums\": [\"a\"]}]", "{}", &err), -1);
    assert_non_null(strstr(err.message, "unknown field \"colums\""));
    assert_non_null(strstr(err.hint, "columns"));
    assert_int_equal(spec_err("[{\"target\": \"x\"}]", "{}", &err), -1);
    assert_non_null(strstr(err.message, "needs a \"name\""));
    assert_int_equal(spec_err("[{\"name\": \"t\", \"columns\": []}]", "{}", &err), -1);
    assert_non_null(strstr(err.message, "\"columns\""));
    assert_int_equal(spec_err("[{\"name\": \"t\", \"rename\": {\"a\": 1}}]", "{}", &err), -1);
    assert_non_null(strstr(err.message, "rename"));
    assert_int_equal(spec_err("[{\"name\": \"t\", \"where\": \"region == 'EU'\"}]", "{}", &err), -1);
    assert_non_null(strstr(err.message, "table \"t\": where: syntax error"));
    assert_int_equal(spec_err("[\"t\", {\"name\": \"t\"}]", "{}", &err), -1);
    assert_non_null(strstr(err.message, "named twice"));
    assert_int_equal(spec_err("[\"*\", \"t\"]", "{}", &err), -1);
    assert_non_null(strstr(err.message, "stands alone"));
    assert_int_equal(spec_err("[3]", "{}", &err), -1);
    assert_int_equal(spec_err("[\"t\"]", "{\"on_error\": \"skip\"}", &err), -1);
    assert_non_null(strstr(err.hint, "reject"));
    assert_int_equal(spec_err("[\"t\"]", "{\"cast\": {\"time\": \"\"}}", &err), -1);
}

static void derive(void **state)
{
    (void)state;
    sl_err_t err = {0};
    sl_spec_t *s = spec_of("[{\"name\": \"shop.customers\", \"target\": \"crm.clients\", \"exclude\": [\"ssn\", \"g\"], "
                           "\"rename\": {\"email\": \"email_address\"}, \"cast\": {\"score\": \"text\"}, "
                           "\"where\": \"region = 'EU'\"}]",
                           "{\"cast\": {\"time\": \"interval\"}}", "postgres://u@h/db", "load");
    sl_table_t *t = customers();
    sl_map_t *m = build(s, t, &err);
    assert_non_null(m);
    assert_false(m->identity);
    assert_string_equal(m->label, "shop.customers");
    assert_string_equal(m->tgt->name, "clients");
    assert_string_equal(m->tgt->target_schema, "crm");
    assert_int_equal(m->tgt->ncolumns, 5);
    assert_string_equal(m->tgt->columns[1].name, "email_address");
    assert_string_equal(sl_column_source(&m->tgt->columns[1]), "email");
    /* options.cast by type name ("time" is "time without time zone") */
    assert_string_equal(m->tgt->columns[3].name, "signup");
    assert_string_equal(m->tgt->columns[3].cast, "interval");
    /* the entry's cast; the cast drops the default */
    assert_string_equal(m->tgt->columns[4].cast, "text");
    assert_null(m->tgt->columns[4].default_value);
    assert_null(m->tgt->columns[0].cast);
    /* projection and scan table: tgt's columns under their source names */
    int want[] = {0, 1, 2, 4, 5};
    for (int i = 0; i < 5; i++)
        assert_int_equal(m->proj[i], want[i]);
    assert_string_equal(m->scan->columns[1].name, "email");
    assert_int_equal(sl_table_pk_count(m->scan), 1);
    assert_non_null(m->filter);
    /* the stored form reads back the same, and a bare table as the identity */
    json_t *j = sl_map_to_json(m);
    sl_map_t *back = NULL;
    assert_int_equal(sl_map_from_json(j, &back, &err), 0);
    assert_string_equal(back->tgt->columns[1].name, "email_address");
    assert_int_equal(back->proj[3], 4);
    assert_string_equal(sl_filter_text(back->filter), "region = 'EU'");
    assert_int_equal(sl_map_same_rules(back, s, "load", &err), 0);
    json_decref(j);
    sl_map_free(back);
    j = sl_table_to_json(t);
    assert_int_equal(sl_map_from_json(j, &back, &err), 0);
    assert_true(back->identity);
    assert_int_equal(back->tgt->ncolumns, t->ncolumns);
    json_decref(j);
    sl_map_free(back);
    /* a spec that maps the table differently is refused, naming it */
    sl_spec_t *s2 = spec_of("[{\"name\": \"shop.customers\", \"target\": \"crm.clients\", \"exclude\": [\"ssn\", "
                            "\"g\"], \"rename\": {\"email\": \"email_address\"}, \"cast\": {\"score\": \"text\"}, "
                            "\"where\": \"region = 'UK'\"}]",
                            "{\"cast\": {\"time\": \"interval\"}}", "postgres://u@h/db", "load");
    assert_int_equal(sl_map_same_rules(m, s2, "load", &err), -1);
    assert_int_equal(err.code, SL_E_CONFLICT);
    assert_non_null(strstr(err.message, "\"shop.customers\""));
    assert_non_null(strstr(err.detail, "region = 'UK'"));
    assert_non_null(strstr(err.hint, "--restart"));
    sl_spec_free(s2);
    sl_map_free(m);
    sl_spec_free(s);
    sl_table_free(t);
}

static void derive_errors(void **state)
{
    (void)state;
    sl_err_t err = {0};
    sl_table_t *t = customers();
    static const struct {
        const char *tables, *target, *mode, *msg, *hint;
    } cases[] = {
        {"[{\"name\": \"customers\", \"columns\": [\"email\"]}]", "mysql://u@h/d", "load", "\"id\"",
         "add it to \"columns\""},
        {"[{\"name\": \"customers\", \"exclude\": [\"id\"]}]", "mysql://u@h/d", "load", "primary key",
         "remove it from \"exclude\""},
        {"[{\"name\": \"customers\", \"exclude\": [\"Email\"]}]", "mysql://u@h/d", "load", "\"Email\"",
         "perhaps you meant \"email\""},
        {"[{\"name\": \"customers\", \"rename\": {\"nope\": \"x\"}}]", "mysql://u@h/d", "load", "\"nope\"", NULL},
        {"[{\"name\": \"customers\", \"exclude\": [\"ssn\"], \"cast\": {\"ssn\": \"text\"}}]", "mysql://u@h/d", "load",
         "cast and left out", NULL},
        {"[{\"name\": \"customers\", \"rename\": {\"email\": \"region\"}}]", "mysql://u@h/d", "load",
         "both be called \"region\"", NULL},
        {"[{\"name\": \"customers\", \"target\": \"a.b\"}]", "mysql://u@h/d", "load", "names a schema", NULL},
        {"[{\"name\": \"customers\", \"cast\": {\"g\": \"text\"}}]", "postgres://u@h/d", "load", "generated", NULL},
        {"[{\"name\": \"customers\", \"where\": \"nope = 1\"}]", "mysql://u@h/d", "load", "where", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sl_spec_t *s = spec_of(cases[i].tables, "{}", cases[i].target, cases[i].mode);
        memset(&err, 0, sizeof err);
        sl_map_t *m = build(s, t, &err);
        if (m)
            fail_msg("case %zu: mapped", i);
        if (!strstr(err.message, cases[i].msg))
            fail_msg("case %zu: message \"%s\" lacks %s", i, err.message, cases[i].msg);
        if (cases[i].hint && !strstr(err.hint, cases[i].hint))
            fail_msg("case %zu: hint \"%s\" lacks %s", i, err.hint, cases[i].hint);
        sl_spec_free(s);
    }
    /* a view in a change stream */
    t->view = true;
    sl_spec_t *s = spec_of("[\"customers\"]", "{}", "postgres://u@h/d", "cdc");
    assert_null(build(s, t, &err));
    assert_non_null(strstr(err.message, "is a view"));
    sl_spec_free(s);
    s = spec_of("[\"customers\"]", "{}", "postgres://u@h/d", "load");
    sl_map_t *m = build(s, t, &err);
    assert_non_null(m); /* a load copies it as a table */
    assert_true(m->identity);
    sl_map_free(m);
    sl_spec_free(s);
    sl_table_free(t);
}

typedef struct notes {
    char text[2048];
} notes_t;

static void collect(void *ctx, const char *table, const char *column, bool warning, const char *text)
{
    notes_t *n = ctx;
    (void)table;
    snprintf(n->text + strlen(n->text), sizeof n->text - strlen(n->text), "%s%s:%s|", warning ? "W " : "",
             column ? column : "-", text);
}

/* PostgreSQL generated columns bound for MariaDB: recreated when the expression
 * translates; otherwise a change stream leaves them out and a load copies them. */
static void generated(void **state)
{
    (void)state;
    sl_err_t err = {0};
    sl_table_t *t = customers();
    sl_spec_t *s = spec_of("[\"customers\"]", "{}", "mysql://u@h/d", "cdc");
    sl_map_env_t env;
    notes_t n = {{0}};
    assert_int_equal(sl_map_env(s, &env, &err), 0);
    env.note = collect;
    env.note_ctx = &n;
    sl_map_t *m = NULL;
    assert_int_equal(sl_map_build(s, t, &env, &m, &err), 0);
    assert_int_equal(m->tgt->ncolumns, 7);
    assert_non_null(m->tgt->columns[6].target_expr);
    assert_non_null(strstr(m->tgt->columns[6].target_expr, "`id` * 2"));
    assert_non_null(strstr(n.text, "g:generated column recreated"));
    sl_map_free(m);
    /* an expression that does not translate */
    free(t->columns[6].generation_expr);
    t->columns[6].generation_expr = sl_strdup("(upper(email))");
    n.text[0] = '\0';
    assert_int_equal(sl_map_build(s, t, &env, &m, &err), 0);
    assert_int_equal(m->tgt->ncolumns, 6);
    assert_non_null(strstr(n.text, "W g:generated column left out"));
    sl_map_free(m);
    sl_spec_free(s);
    s = spec_of("[\"customers\"]", "{}", "mysql://u@h/d", "load");
    n.text[0] = '\0';
    assert_int_equal(sl_map_env(s, &env, &err), 0);
    env.note = collect;
    env.note_ctx = &n;
    assert_int_equal(sl_map_build(s, t, &env, &m, &err), 0);
    assert_int_equal(m->tgt->ncolumns, 7);
    assert_false(m->tgt->columns[6].generated); /* a plain column holding the values */
    assert_null(m->tgt->columns[6].target_expr);
    assert_non_null(strstr(n.text, "W g:generated column copied as a plain column"));
    sl_map_free(m);
    sl_spec_free(s);
    sl_table_free(t);
}

/* options.cast names types as the source prints them, with or without modifiers. */
static void cast_by_type(void **state)
{
    (void)state;
    sl_err_t err = {0};
    sl_table_t *t = customers();
    static const struct {
        const char *name;
        unsigned cols; /* the columns it reaches (bits); the load copies generated g plainly */
    } cases[] = {
        {"time", 1u << 4}, {"TIME WITHOUT TIME ZONE", 1u << 4}, {"numeric", 1u << 5}, {"decimal", 1u << 5},
        {"numeric(10,2)", 1u << 5}, {"int4", 1u | 1u << 6}, {"integer", 1u | 1u << 6}, {"timetz", 0},
        {"text", 1u << 1 | 1u << 2 | 1u << 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char opts[128];
        snprintf(opts, sizeof opts, "{\"cast\": {\"%s\": \"varchar(9)\"}}", cases[i].name);
        sl_spec_t *s = spec_of("[\"customers\"]", opts, "mysql://u@h/d", "load");
        sl_map_t *m = build(s, t, &err);
        assert_non_null(m);
        for (int c = 0; c < m->tgt->ncolumns; c++) {
            bool want = (cases[i].cols >> c) & 1u;
            if ((m->tgt->columns[c].cast != NULL) != want)
                fail_msg("\"%s\": column %s %s", cases[i].name, m->tgt->columns[c].name,
                         want ? "not cast" : "cast");
        }
        sl_map_free(m);
        sl_spec_free(s);
    }
    /* the entry's own cast wins */
    sl_spec_t *s = spec_of("[{\"name\": \"customers\", \"cast\": {\"signup\": \"text\"}}]",
                           "{\"cast\": {\"time\": \"interval\"}}", "postgres://u@h/d", "load");
    sl_map_t *m = build(s, t, &err);
    assert_string_equal(m->tgt->columns[4].cast, "text");
    sl_map_free(m);
    sl_spec_free(s);
    sl_table_free(t);
}

static sl_value_t v(const char *s)
{
    return s ? (sl_value_t){s, (int64_t)strlen(s)} : (sl_value_t){NULL, -1};
}

/* Changes through the filter (REPLICA IDENTITY FULL: old_full) and the projection. */
static void changes(void **state)
{
    (void)state;
    sl_err_t err = {0};
    sl_table_t *t = customers();
    t->old_full = true;
    sl_spec_t *s = spec_of("[{\"name\": \"customers\", \"columns\": [\"id\", \"region\"], \"where\": \"region = 'EU'\"}]",
                           "{}", "postgres://u@h/d", "cdc");
    sl_map_t *m = build(s, t, &err);
    assert_non_null(m);
    sl_value_t eu[7] = {v("1"), v("a@x"), v("EU"), v("s"), v("10:00:00"), v("1"), v(NULL)};
    sl_value_t us[7] = {v("1"), v("a@x"), v("US"), v("s"), v("10:00:00"), v("1"), v(NULL)};
    sl_value_t scratch[21];
    sl_change_t out;
    sl_change_t ins = {.op = SL_OP_INSERT, .ncols = 7, .row = eu};
    assert_int_equal(sl_map_change(m, &ins, scratch, &out, &err), 1);
    assert_int_equal(out.op, SL_OP_INSERT);
    assert_int_equal(out.ncols, 2);
    assert_memory_equal(out.row[1].p, "EU", 2);
    ins.row = us;
    assert_int_equal(sl_map_change(m, &ins, scratch, &out, &err), 0);
    sl_change_t upd = {.op = SL_OP_UPDATE, .ncols = 7, .row = eu, .old = us}; /* moves in */
    assert_int_equal(sl_map_change(m, &upd, scratch, &out, &err), 1);
    assert_int_equal(out.op, SL_OP_INSERT);
    assert_null(out.old);
    assert_int_equal(out.ncols, 2);
    upd = (sl_change_t){.op = SL_OP_UPDATE, .ncols = 7, .row = us, .old = eu}; /* moves out */
    assert_int_equal(sl_map_change(m, &upd, scratch, &out, &err), 1);
    assert_int_equal(out.op, SL_OP_DELETE);
    assert_memory_equal(out.old[0].p, "1", 1);
    upd.old = us; /* outside before and after */
    assert_int_equal(sl_map_change(m, &upd, scratch, &out, &err), 0);
    sl_change_t del = {.op = SL_OP_DELETE, .ncols = 7, .old = eu};
    assert_int_equal(sl_map_change(m, &del, scratch, &out, &err), 1);
    assert_int_equal(out.op, SL_OP_DELETE);
    sl_map_free(m);
    sl_spec_free(s);
    /* without whole old rows, a filter on a non-key column cannot be decided */
    t->old_full = false;
    s = spec_of("[{\"name\": \"customers\", \"where\": \"region = 'EU'\"}]", "{}", "postgres://u@h/d", "cdc");
    m = build(s, t, &err);
    assert_int_equal(sl_filter_check_old_row(m->filter, false, &err), -1);
    assert_non_null(strstr(err.hint, "REPLICA IDENTITY FULL"));
    sl_value_t key[7] = {v("1"), v(NULL), v(NULL), v(NULL), v(NULL), v(NULL), v(NULL)};
    del.old = key;
    assert_int_equal(sl_map_change(m, &del, scratch, &out, &err), -1);
    assert_non_null(strstr(err.message, "table \"shop.customers\""));
    sl_map_free(m);
    sl_spec_free(s);
    sl_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spec_entries), cmocka_unit_test(spec_errors), cmocka_unit_test(derive),
        cmocka_unit_test(derive_errors), cmocka_unit_test(generated), cmocka_unit_test(cast_by_type),
        cmocka_unit_test(changes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
