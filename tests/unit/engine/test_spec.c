/*
 * test_spec.c: stream spec parsing: defaults, validation, clear errors, and the plan's
 * JSON round trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "engine/plan.h"
#include "core/url.h"
#include "engine/spec.h"

static void defaults(void **state)
{
    (void)state;
    sl_spec_t *s;
    sl_err_t err;
    assert_int_equal(sl_spec_parse("{\"name\":\"a\",\"mode\":\"load\",\"source\":{\"url\":\"mysql://u@h/db\","
                                   "\"tables\":[\"t1\",\"t2\"]},\"target\":{\"url\":\"postgres://u@h/db\"}}",
                                   &s, &err),
                     0);
    assert_string_equal(s->name, "a");
    assert_int_equal(s->ntables, 2);
    assert_int_equal(s->opt.writers, 0); /* auto */
    assert_true(sl_spec_writers(s) >= 1 && sl_spec_writers(s) <= 4);
    assert_int_equal(s->opt.batch_rows, 100000);
    assert_int_equal(s->opt.schema, SL_SCHEMA_CREATE_MISSING);
    assert_int_equal(s->opt.write_mode, SL_WRITE_INSERT);
    assert_false(sl_spec_all_tables(s));
    sl_spec_free(s);
}

static void password_merged(void **state)
{
    (void)state;
    sl_spec_t *s;
    sl_err_t err;
    assert_int_equal(sl_spec_parse("{\"name\":\"a\",\"source\":{\"url\":\"mysql://root@h:3306/db\",\"password\":\"p@s:s\"},"
                                   "\"target\":{\"url\":\"postgres://u:old@h/db\"},\"options\":{\"writers\":2}}",
                                   &s, &err),
                     0);
    assert_string_equal(s->source_url, "mysql://root:p%40s%3As@h:3306/db");
    assert_true(sl_spec_all_tables(s));
    assert_int_equal(s->opt.writers, 2);
    /* a refused login's hint says where the password was given */
    assert_true(s->source_password);
    assert_false(s->target_password);
    sl_err_set(&err, SL_E_CONNECT, "source: could not connect to MySQL at \"h:3306\": Access denied");
    sl_err_hint(&err, SL_URL_HINT_PASSWORD);
    sl_spec_password_hint(s, &err);
    assert_string_equal(err.hint, "check the user name in the URL and the password in \"source\".password");
    sl_err_set(&err, SL_E_CONNECT, "target: could not connect to PostgreSQL at \"h\": password authentication failed");
    sl_err_hint(&err, SL_URL_HINT_PASSWORD);
    sl_spec_password_hint(s, &err);
    assert_string_equal(err.hint, SL_URL_HINT_PASSWORD); /* the target's was in its URL */
    sl_err_set(&err, SL_E_PRIVILEGE, "source: user lacks SELECT");
    sl_err_hint(&err, "GRANT SELECT ON x TO y");
    sl_spec_password_hint(s, &err);
    assert_string_equal(err.hint, "GRANT SELECT ON x TO y"); /* other hints stay */
    sl_spec_free(s);
}

/* A cdc stream into files writes its initial load with the change files' columns: the
 * spec tells the file target through its URL; a load and a database target do not. */
static void change_columns_marked(void **state)
{
    (void)state;
    sl_spec_t *s;
    sl_err_t err;
    assert_int_equal(sl_spec_parse("{\"name\":\"a\",\"mode\":\"cdc\",\"source\":{\"url\":\"postgres://h/d\"},"
                                   "\"target\":{\"url\":\"file:///out?format=parquet\"}}",
                                   &s, &err),
                     0);
    assert_string_equal(s->target_url, "file:///out?format=parquet&change_columns=true");
    sl_spec_free(s);
    assert_int_equal(sl_spec_parse("{\"name\":\"a\",\"mode\":\"cdc\",\"source\":{\"url\":\"postgres://h/d\"},"
                                   "\"target\":{\"url\":\"s3://b/p?change_columns=false\"}}",
                                   &s, &err),
                     0);
    assert_string_equal(s->target_url, "s3://b/p?change_columns=false");
    sl_spec_free(s);
    assert_int_equal(sl_spec_parse("{\"name\":\"a\",\"source\":{\"url\":\"postgres://h/d\"},"
                                   "\"target\":{\"url\":\"file:///out\"}}",
                                   &s, &err),
                     0);
    assert_string_equal(s->target_url, "file:///out");
    sl_spec_free(s);
    assert_int_equal(sl_spec_parse("{\"name\":\"a\",\"mode\":\"cdc\",\"source\":{\"url\":\"postgres://h/d\"},"
                                   "\"target\":{\"url\":\"postgres://h/e\"}}",
                                   &s, &err),
                     0);
    assert_string_equal(s->target_url, "postgres://h/e");
    sl_spec_free(s);
}

static void errors_name_the_field(void **state)
{
    (void)state;
    sl_spec_t *s = NULL;
    sl_err_t err;
    assert_int_equal(sl_spec_parse("{\"name\":\"a\",\"source\":{\"url\":\"mysql://h/d\"},\"target\":{\"url\":\"postgres://h/d\"},"
                                   "\"options\":{\"writer\":2}}",
                                   &s, &err),
                     -1);
    assert_non_null(strstr(err.message, "unknown field \"writer\""));
    assert_non_null(strstr(err.hint, "writers"));
    assert_int_equal(sl_spec_parse("{\"name\":\"a\",\"sauce\":{}}", &s, &err), -1);
    assert_non_null(strstr(err.message, "\"sauce\""));
    assert_int_equal(sl_spec_parse("{\"name\":\"a\",\"source\":{\"url\":\"mysql://h/d\"},\"target\":{\"url\":\"postgres://h/d\"},"
                                   "\"options\":{\"writers\":-1}}",
                                   &s, &err),
                     -1);
    assert_non_null(strstr(err.message, "writers"));
    assert_int_equal(sl_spec_parse("{\"name\":\"a b\",\"source\":{\"url\":\"mysql://h/d\"},\"target\":{\"url\":\"postgres://h/d\"}}",
                                   &s, &err),
                     -1);
    assert_int_equal(sl_spec_parse("{not json", &s, &err), -1);
    assert_non_null(strstr(err.message, "line 1"));
    assert_int_equal(sl_spec_parse("{\"name\":\"a\",\"source\":{\"url\":\"nourl\"},\"target\":{\"url\":\"postgres://h/d\"}}",
                                   &s, &err),
                     -1);
    assert_non_null(strstr(err.message, "scheme"));
}

static void plan_round_trip(void **state)
{
    (void)state;
    sl_plan_t p = {0};
    sl_table_t *t = calloc(1, sizeof *t);
    t->engine = sl_strdup("mysql");
    t->name = sl_strdup("Album");
    t->est_rows = 10;
    sl_column_t *c = sl_table_add_col(t);
    c->name = sl_strdup("id");
    c->type = SL_T_INT32;
    c->pk_pos = 1;
    c->nullable = false;
    c = sl_table_add_col(t);
    c->name = sl_strdup("mood");
    c->type = SL_T_ENUM;
    c->labels = calloc(2, sizeof *c->labels);
    c->labels[0] = sl_strdup("happy");
    c->labels[1] = sl_strdup("sad");
    c->nlabels = 2;
    /* a table stored before mappings (bare) reads back as its identity map */
    json_t *tj = sl_table_to_json(t);
    sl_map_t *m = NULL;
    sl_err_t merr;
    assert_int_equal(sl_map_from_json(tj, &m, &merr), 0);
    json_decref(tj);
    sl_table_free(t);
    assert_true(m->identity);
    assert_null(m->filter);
    p.maps = calloc(1, sizeof *p.maps);
    p.tables = calloc(1, sizeof *p.tables);
    p.maps[0] = m;
    p.tables[0] = m->tgt;
    p.ntables = 1;
    p.stripes = calloc(2, sizeof *p.stripes);
    p.stripes[0] = (sl_stripe_t){0, NULL, sl_strdup("[\"5\"]")};
    p.stripes[1] = (sl_stripe_t){0, sl_strdup("[\"5\"]"), NULL};
    p.nstripes = 2;
    char *json = sl_plan_to_json(&p);
    sl_plan_t q;
    sl_err_t err;
    assert_int_equal(sl_plan_from_json(json, &q, &err), 0);
    assert_int_equal(q.ntables, 1);
    assert_int_equal(q.nstripes, 2);
    assert_string_equal(q.tables[0]->name, "Album");
    assert_int_equal(q.tables[0]->columns[0].pk_pos, 1);
    assert_false(q.tables[0]->columns[0].nullable);
    assert_int_equal(q.tables[0]->columns[1].nlabels, 2);
    assert_string_equal(q.tables[0]->columns[1].labels[1], "sad");
    assert_null(q.stripes[0].after_key);
    assert_string_equal(q.stripes[1].after_key, "[\"5\"]");
    assert_true(sl_plan_keyed(q.tables[0]));
    char *again = sl_plan_to_json(&q);
    assert_string_equal(json, again);
    free(json);
    free(again);
    sl_plan_free(&p);
    sl_plan_free(&q);
    assert_int_equal(sl_plan_from_json("{\"tables\":[],\"stripes\":[{\"table\":3}]}", &q, &err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(password_merged),
        cmocka_unit_test(change_columns_marked),
        cmocka_unit_test(errors_name_the_field),
        cmocka_unit_test(plan_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
