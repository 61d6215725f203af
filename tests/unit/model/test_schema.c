/*
 * test_schema.c: the table API of model/schema.h: deep copies, derived tables (columns
 * kept, renamed, cast, added, flags), their keys and indexes, the errors, and the JSON
 * form of a renamed column. Run under ASan it also proves that a copy shares nothing
 * with its original and that no path leaks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "model/schema.h"

static char **strv(int n, ...)
{
    va_list ap;
    va_start(ap, n);
    char **v = calloc((size_t)n, sizeof *v);
    for (int i = 0; i < n; i++)
        v[i] = sl_strdup(va_arg(ap, const char *));
    va_end(ap);
    return v;
}

static sl_column_t *col(sl_table_t *t, const char *name, sl_type_t type, const char *native, int pk_pos)
{
    sl_column_t *c = sl_table_add_col(t);
    c->name = sl_strdup(name);
    c->type = type;
    c->native = sl_strdup(native);
    c->pk_pos = pk_pos;
    return c;
}

/* A table with every field set: shop.orders (id, customer_id, note, price, mood, tags,
 * total), keyed on (id, customer_id), with two indexes and a foreign key. */
static sl_table_t *orders(void)
{
    sl_table_t *t = calloc(1, sizeof *t);
    t->engine = sl_strdup("pg");
    t->schema = sl_strdup("shop");
    t->name = sl_strdup("orders");
    t->est_rows = 1234;
    t->est_bytes = 56789;
    sl_column_t *c = col(t, "id", SL_T_INT64, "bigint", 1);
    c->nullable = false;
    c->autoinc = true;
    c = col(t, "customer_id", SL_T_INT32, "integer", 2);
    c->nullable = false;
    c = col(t, "note", SL_T_TEXT, "character varying(40)", 0);
    c->length = 40;
    c->default_value = sl_strdup("none");
    c->charset = sl_strdup("utf8mb4");
    c = col(t, "price", SL_T_DECIMAL, "numeric(10,2)", 0);
    c->precision = 10;
    c->scale = 2;
    c->default_value = sl_strdup("0.00");
    c = col(t, "mood", SL_T_ENUM, "shop.mood", 0);
    c->labels = strv(3, "sad", "ok", "happy");
    c->nlabels = 3;
    c = col(t, "tags", SL_T_ARRAY, "text[]", 0);
    c->elem = SL_T_TEXT;
    c->elem_native = sl_strdup("text");
    c = col(t, "total", SL_T_DECIMAL, "numeric", 0);
    c->generated = true;
    c->generation_expr = sl_strdup("price * 2");
    sl_index_t *x = sl_table_add_index(t);
    x->name = sl_strdup("orders_note_idx");
    x->columns = strv(1, "note");
    x->ncolumns = 1;
    x = sl_table_add_index(t);
    x->name = sl_strdup("orders_mood_price_key");
    x->unique = true;
    x->columns = strv(2, "mood", "price");
    x->ncolumns = 2;
    sl_fkey_t *f = sl_table_add_fkey(t);
    f->name = sl_strdup("orders_customer_fk");
    f->columns = strv(1, "customer_id");
    f->ref_columns = strv(1, "id");
    f->ncolumns = 1;
    f->ref_schema = sl_strdup("shop");
    f->ref_table = sl_strdup("customers");
    f->on_delete = sl_strdup("CASCADE");
    f->on_update = sl_strdup("NO ACTION");
    return t;
}

static char *json_text(const sl_table_t *t)
{
    json_t *j = sl_table_to_json(t);
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    return s;
}

static void assert_same_json(const sl_table_t *a, const sl_table_t *b)
{
    char *x = json_text(a), *y = json_text(b);
    assert_string_equal(x, y);
    free(x);
    free(y);
}

static void copy_is_deep_and_whole(void **state)
{
    (void)state;
    sl_table_t *t = orders();
    sl_table_t *c = sl_table_copy(t);
    assert_same_json(t, c);
    assert_ptr_not_equal(c->columns, t->columns);
    assert_ptr_not_equal(c->columns[4].labels, t->columns[4].labels);
    assert_ptr_not_equal(c->columns[4].labels[0], t->columns[4].labels[0]);
    assert_ptr_not_equal(c->indexes[1].columns[0], t->indexes[1].columns[0]);
    assert_ptr_not_equal(c->fkeys[0].ref_columns[0], t->fkeys[0].ref_columns[0]);
    assert_int_equal(c->columns[5].elem, SL_T_TEXT);
    char *before = json_text(c);
    sl_table_free(t); /* the copy must not point into it (ASan) */
    char *after = json_text(c);
    assert_string_equal(before, after);
    assert_string_equal(c->columns[4].labels[2], "happy");
    free(before);
    free(after);
    sl_table_free(c);
}

static void copy_of_bare_table(void **state)
{
    (void)state;
    sl_table_t *t = calloc(1, sizeof *t);
    t->name = sl_strdup("bare");
    t->est_rows = -1;
    t->est_bytes = -1;
    sl_table_t *c = sl_table_copy(t);
    assert_string_equal(c->name, "bare");
    assert_null(c->engine);
    assert_null(c->schema);
    assert_int_equal(c->ncolumns, 0);
    assert_null(c->columns);
    assert_int_equal(c->nindexes, 0);
    assert_int_equal(c->nfkeys, 0);
    assert_same_json(t, c);
    sl_table_free(t);
    sl_table_free(c);
}

/* Keeping every column as it is gives the same table. */
static void identity_derive_is_a_copy(void **state)
{
    (void)state;
    sl_table_t *t = orders(), *d = NULL;
    sl_col_edit_t e[7];
    for (int i = 0; i < t->ncolumns; i++)
        e[i] = (sl_col_edit_t){.from = &t->columns[i]};
    sl_err_t err = {0};
    assert_int_equal(sl_table_derive(t, e, t->ncolumns, 0, &d, &err), 0);
    assert_same_json(t, d);
    sl_table_free(t);
    sl_table_free(d);
}

/* What a mapping does: keep some columns, rename one, cast one, reorder. */
static void mapping_keeps_renames_casts(void **state)
{
    (void)state;
    sl_table_t *t = orders(), *d = NULL;
    sl_column_t as_float = {.type = SL_T_FLOAT64, .scale = -1};
    sl_col_edit_t e[] = {
        {.from = &t->columns[1]},                                   /* customer_id */
        {.from = &t->columns[0], .name = "order_id"},               /* id */
        {.from = &t->columns[2], .name = "remark"},                 /* note */
        {.from = &t->columns[3], .name = "amount", .cast = &as_float}, /* price */
    };
    sl_err_t err = {0};
    assert_int_equal(sl_table_derive(t, e, 4, 0, &d, &err), 0);
    assert_string_equal(d->name, "orders");
    assert_string_equal(d->schema, "shop");
    assert_string_equal(d->engine, "pg");
    assert_int_equal(d->est_rows, 1234);
    assert_int_equal(d->ncolumns, 4);

    assert_string_equal(d->columns[0].name, "customer_id");
    assert_null(d->columns[0].source);
    assert_string_equal(sl_column_source(&d->columns[0]), "customer_id");
    assert_int_equal(d->columns[0].pk_pos, 2);

    assert_string_equal(d->columns[1].name, "order_id");
    assert_string_equal(d->columns[1].source, "id");
    assert_int_equal(d->columns[1].pk_pos, 1);
    assert_true(d->columns[1].autoinc);
    assert_false(d->columns[1].nullable);
    assert_int_equal(sl_table_pk_col(d, 0), 1);
    assert_int_equal(sl_table_pk_col(d, 1), 0);

    /* renamed, type kept */
    assert_string_equal(d->columns[2].source, "note");
    assert_int_equal(d->columns[2].type, SL_T_TEXT);
    assert_string_equal(d->columns[2].native, "character varying(40)");
    assert_int_equal(d->columns[2].length, 40);
    assert_string_equal(d->columns[2].default_value, "none");
    assert_string_equal(d->columns[2].charset, "utf8mb4");

    /* cast: the old type's description and default are gone */
    sl_column_t *a = &d->columns[3];
    assert_string_equal(a->source, "price");
    assert_int_equal(a->type, SL_T_FLOAT64);
    assert_null(a->native);
    assert_int_equal(a->precision, 0);
    assert_int_equal(a->scale, -1);
    assert_null(a->default_value);

    /* the index on note follows the rename; the one on (mood, price) lost mood and goes;
     * the foreign key keeps its referenced column */
    assert_int_equal(d->nindexes, 1);
    assert_string_equal(d->indexes[0].name, "orders_note_idx");
    assert_int_equal(d->indexes[0].ncolumns, 1);
    assert_string_equal(d->indexes[0].columns[0], "remark");
    assert_int_equal(d->nfkeys, 1);
    assert_string_equal(d->fkeys[0].columns[0], "customer_id");
    assert_string_equal(d->fkeys[0].ref_columns[0], "id");
    assert_string_equal(d->fkeys[0].ref_table, "customers");

    /* the base is untouched */
    assert_string_equal(t->columns[0].name, "id");
    assert_null(t->columns[0].source);
    assert_int_equal(t->columns[3].type, SL_T_DECIMAL);
    sl_table_free(t);
    sl_table_free(d);
}

/* A cast to a labelled or array type takes its labels and element from the cast. */
static void cast_takes_the_whole_type(void **state)
{
    (void)state;
    sl_table_t *t = orders(), *d = NULL;
    char *labels[] = {"x", "y"};
    sl_column_t to_enum = {.type = SL_T_ENUM, .native = "public.xy", .labels = labels, .nlabels = 2, .scale = -1};
    sl_column_t to_text = {.type = SL_T_TEXT, .length = 10, .fixed = true, .scale = -1};
    sl_column_t to_int = {.type = SL_T_INT32, .scale = -1};
    sl_column_t to_text2 = {.type = SL_T_TEXT, .scale = -1};
    sl_col_edit_t e[] = {
        {.from = &t->columns[0], .cast = &to_int},   /* bigint identity -> int: stays identity */
        {.from = &t->columns[1]},
        {.from = &t->columns[2], .cast = &to_enum},  /* note */
        {.from = &t->columns[4], .cast = &to_text},  /* mood: labels go */
        {.from = &t->columns[5], .cast = &to_text2}, /* tags: element goes */
    };
    sl_err_t err = {0};
    assert_int_equal(sl_table_derive(t, e, 5, 0, &d, &err), 0);
    assert_true(d->columns[0].autoinc);
    assert_int_equal(d->columns[0].type, SL_T_INT32);
    assert_int_equal(d->columns[0].pk_pos, 1);
    assert_int_equal(d->columns[2].nlabels, 2);
    assert_string_equal(d->columns[2].labels[1], "y");
    assert_ptr_not_equal(d->columns[2].labels[1], labels[1]);
    assert_string_equal(d->columns[2].native, "public.xy");
    assert_null(d->columns[2].charset);
    assert_int_equal(d->columns[3].nlabels, 0);
    assert_null(d->columns[3].labels);
    assert_int_equal(d->columns[3].length, 10);
    assert_true(d->columns[3].fixed);
    assert_int_equal(d->columns[4].elem, SL_T_UNKNOWN);
    assert_null(d->columns[4].elem_native);
    sl_table_free(d);

    /* an identity column cast to text is no identity any more */
    sl_col_edit_t e2[] = {{.from = &t->columns[0], .cast = &to_text2}, {.from = &t->columns[1]}};
    assert_int_equal(sl_table_derive(t, e2, 2, 0, &d, &err), 0);
    assert_false(d->columns[0].autoinc);
    sl_table_free(d);
    sl_table_free(t);
}

/* A mapping of a mapping still names the column of the first source. */
static void source_name_survives_a_second_rename(void **state)
{
    (void)state;
    sl_table_t *t = orders(), *d = NULL, *d2 = NULL, *back = NULL;
    sl_col_edit_t e[] = {{.from = &t->columns[0], .name = "order_id"}, {.from = &t->columns[1]}};
    sl_err_t err = {0};
    assert_int_equal(sl_table_derive(t, e, 2, 0, &d, &err), 0);
    sl_col_edit_t e2[] = {{.from = &d->columns[0], .name = "oid"}, {.from = &d->columns[1], .name = "cid"}};
    assert_int_equal(sl_table_derive(d, e2, 2, 0, &d2, &err), 0);
    assert_string_equal(d2->columns[0].name, "oid");
    assert_string_equal(d2->columns[0].source, "id");
    assert_string_equal(d2->columns[1].source, "customer_id");
    /* the key and the foreign key follow the second rename too */
    assert_int_equal(d2->nfkeys, 1);
    assert_string_equal(d2->fkeys[0].columns[0], "cid");
    /* renaming back to the same name is no rename */
    sl_col_edit_t e3[] = {{.from = &t->columns[0], .name = "id"}, {.from = &t->columns[1]}};
    sl_table_t *same = NULL;
    assert_int_equal(sl_table_derive(t, e3, 2, 0, &same, &err), 0);
    assert_null(same->columns[0].source);
    sl_table_free(same);

    /* the plan's JSON carries the source name, and only where there is one */
    json_t *j = sl_table_to_json(d2);
    json_t *c0 = json_array_get(json_object_get(j, "columns"), 0);
    assert_string_equal(json_string_value(json_object_get(c0, "source")), "id");
    assert_int_equal(sl_table_from_json(j, &back, &err), 0);
    json_decref(j);
    assert_same_json(d2, back);
    assert_string_equal(back->columns[1].source, "customer_id");
    j = sl_table_to_json(t);
    assert_null(json_object_get(json_array_get(json_object_get(j, "columns"), 0), "source"));
    json_decref(j);
    sl_table_free(back);
    sl_table_free(d2);
    sl_table_free(d);
    sl_table_free(t);
}

/* The file targets' change table: literal leading columns, then the source's columns,
 * all nullable, without key, defaults, indexes or foreign keys. */
static void added_columns_and_flags(void **state)
{
    (void)state;
    sl_table_t *t = orders(), *d = NULL;
    static const sl_column_t op = {.name = "_op", .type = SL_T_TEXT, .scale = -1};
    static const sl_column_t ts = {.name = "_ts", .type = SL_T_TIMESTAMPTZ, .nullable = true, .scale = 6};
    sl_col_edit_t e[9] = {{.from = &op}, {.from = &ts}};
    for (int i = 0; i < t->ncolumns; i++)
        e[2 + i] = (sl_col_edit_t){.from = &t->columns[i], .flags = SL_COL_NULLABLE | SL_COL_NO_KEY | SL_COL_NO_DEFAULT};
    sl_err_t err = {0};
    assert_int_equal(sl_table_derive(t, e, 9, SL_TABLE_NO_INDEXES, &d, &err), 0);
    assert_int_equal(d->ncolumns, 9);
    assert_string_equal(d->columns[0].name, "_op");
    assert_false(d->columns[0].nullable);
    assert_int_equal(d->columns[1].scale, 6);
    assert_int_equal(sl_table_pk_count(d), 0);
    for (int i = 2; i < 9; i++) {
        assert_true(d->columns[i].nullable);
        assert_null(d->columns[i].default_value);
        assert_null(d->columns[i].source);
    }
    assert_string_equal(d->columns[6].labels[0], "sad");
    assert_string_equal(d->columns[8].generation_expr, "price * 2");
    assert_int_equal(d->nindexes, 0);
    assert_int_equal(d->nfkeys, 0);
    sl_table_free(d);
    sl_table_free(t);
}

/* A schema change: the relation's columns, kept ones from the old description, added
 * ones from the source's new description. */
static void columns_from_another_description(void **state)
{
    (void)state;
    sl_table_t *t = orders(), *fresh = sl_table_copy(t), *d = NULL;
    sl_column_t *added = col(fresh, "shipped", SL_T_BOOL, "boolean", 0);
    added->nullable = true;
    sl_col_edit_t e[] = {{.from = &t->columns[0]}, {.from = &t->columns[1]}, {.from = &t->columns[3]},
                         {.from = &fresh->columns[fresh->ncolumns - 1]}, {.from = &t->columns[6]}};
    sl_err_t err = {0};
    assert_int_equal(sl_table_derive(t, e, 5, 0, &d, &err), 0);
    sl_table_free(fresh);
    assert_string_equal(d->columns[3].name, "shipped");
    assert_string_equal(d->columns[3].native, "boolean");
    assert_true(d->columns[4].generated);
    /* note and mood were dropped: their indexes went with them */
    assert_int_equal(d->nindexes, 0);
    assert_int_equal(d->nfkeys, 1);
    sl_table_free(d);
    sl_table_free(t);
}

static void errors_name_the_column(void **state)
{
    (void)state;
    sl_table_t *t = orders(), *d = NULL;
    sl_err_t err = {0};

    sl_col_edit_t dup[] = {{.from = &t->columns[0]}, {.from = &t->columns[1]}, {.from = &t->columns[2], .name = "id"}};
    assert_int_equal(sl_table_derive(t, dup, 3, 0, &d, &err), -1);
    assert_int_equal(err.code, SL_E_SCHEMA);
    assert_string_equal(err.message, "two columns of table \"shop.orders\" would both be called \"id\"");
    assert_null(d);

    sl_col_edit_t half_key[] = {{.from = &t->columns[1]}, {.from = &t->columns[2]}};
    assert_int_equal(sl_table_derive(t, half_key, 2, 0, &d, &err), -1);
    assert_string_equal(err.message, "column \"id\" of the primary key of table \"shop.orders\" would be left out");
    assert_true(err.hint[0] != '\0');

    /* leaving the whole key out, or taking it out, is fine */
    sl_col_edit_t no_key[] = {{.from = &t->columns[2]}, {.from = &t->columns[0], .flags = SL_COL_NO_KEY}};
    assert_int_equal(sl_table_derive(t, no_key, 2, 0, &d, &err), 0);
    assert_int_equal(sl_table_pk_count(d), 0);
    sl_table_free(d);
    d = NULL;

    sl_col_edit_t two_firsts[] = {{.from = &t->columns[0]}, {.from = &t->columns[0], .name = "id2"}};
    assert_int_equal(sl_table_derive(t, two_firsts, 2, 0, &d, &err), -1);
    assert_string_equal(err.message, "two columns of table \"shop.orders\" would take place 1 of its primary key");

    sl_column_t to_int = {.type = SL_T_INT64, .scale = -1};
    sl_col_edit_t gen[] = {{.from = &t->columns[6], .cast = &to_int}};
    assert_int_equal(sl_table_derive(t, gen, 1, 0, &d, &err), -1);
    assert_string_equal(err.message, "column \"total\" of table \"shop.orders\" is generated and cannot change type");

    sl_col_edit_t none[] = {{.from = NULL}};
    assert_int_equal(sl_table_derive(t, none, 1, 0, &d, &err), -1);
    assert_int_equal(err.code, SL_E_INTERNAL);
    assert_null(d);
    sl_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(copy_is_deep_and_whole),
        cmocka_unit_test(copy_of_bare_table),
        cmocka_unit_test(identity_derive_is_a_copy),
        cmocka_unit_test(mapping_keeps_renames_casts),
        cmocka_unit_test(cast_takes_the_whole_type),
        cmocka_unit_test(source_name_survives_a_second_rename),
        cmocka_unit_test(added_columns_and_flags),
        cmocka_unit_test(columns_from_another_description),
        cmocka_unit_test(errors_name_the_column),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
