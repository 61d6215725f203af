/*
 * test_target_apply.c: unit tests of the engine-independent rules of apply_changes
 * (src/target/apply.c): which changes are malformed, where the key comes from, how
 * runs of inserts are cut, and how a row is named in messages. No server needed; the
 * live test tests/live/test_apply.c covers the targets themselves.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "target/apply.h"

#define V(s) ((sl_value_t){(s), (int64_t)strlen(s)})
#define NUL_V ((sl_value_t){NULL, -1})
#define UNCH ((sl_value_t){NULL, SL_VALUE_UNCHANGED})

static sl_table_t *table(int npk)
{
    sl_table_t *t = calloc(1, sizeof *t);
    t->name = sl_strdup("t");
    const char *names[] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
        sl_column_t *c = sl_table_add_col(t);
        c->name = sl_strdup(names[i]);
        c->type = i == 2 ? SL_T_BYTES : SL_T_INT32;
        c->pk_pos = i < npk ? i + 1 : 0;
    }
    return t;
}

static sl_change_t ch(sl_change_op_t op, const sl_value_t *row, const sl_value_t *old)
{
    return (sl_change_t){.op = op, .pos = {0x16B3748, 2}, .ncols = 3, .row = row, .old = old};
}

static void test_check(void **state)
{
    (void)state;
    sl_table_t *t = table(2), *k = table(0);
    sl_value_t row[] = {V("1"), V("2"), V("x")}, unch[] = {V("1"), V("2"), UNCH};
    sl_value_t nokey[] = {V("1"), NUL_V, V("x")};
    sl_err_t err;
    assert_int_equal(sl_apply_check(t, &(sl_change_t){.op = SL_OP_TRUNCATE}, &err), 0);
    sl_change_t c = ch(SL_OP_INSERT, row, NULL);
    assert_int_equal(sl_apply_check(t, &c, &err), 0);
    c = ch(SL_OP_INSERT, unch, NULL);
    assert_int_equal(sl_apply_check(t, &c, &err), -1);
    assert_int_equal(err.code, SL_E_PROTOCOL);
    assert_non_null(strstr(err.message, "column \"c\" is marked unchanged"));
    assert_non_null(strstr(err.message, "0/16B3748"));
    c = ch(SL_OP_UPDATE, unch, NULL); /* unchanged outside the key is fine */
    assert_int_equal(sl_apply_check(t, &c, &err), 0);
    c = ch(SL_OP_UPDATE, nokey, NULL); /* a NULL key value is not */
    assert_int_equal(sl_apply_check(t, &c, &err), -1);
    assert_non_null(strstr(err.message, "key column \"b\" is NULL"));
    c = ch(SL_OP_UPDATE, nokey, row); /* ... unless the key comes from old */
    assert_int_equal(sl_apply_check(t, &c, &err), 0);
    c = ch(SL_OP_DELETE, NULL, NULL);
    assert_int_equal(sl_apply_check(t, &c, &err), -1);
    c = ch(SL_OP_UPDATE, row, NULL); /* keyless needs old */
    assert_int_equal(sl_apply_check(k, &c, &err), -1);
    assert_non_null(strstr(err.message, "REPLICA IDENTITY FULL"));
    c = ch(SL_OP_UPDATE, row, nokey);
    assert_int_equal(sl_apply_check(k, &c, &err), 0);
    c.ncols = 2;
    assert_int_equal(sl_apply_check(k, &c, &err), -1);
    assert_non_null(strstr(err.message, "2 columns, the table has 3"));
    sl_table_free(t);
    sl_table_free(k);
}

static void test_key_and_runs(void **state)
{
    (void)state;
    sl_table_t *t = table(2), *k = table(0);
    sl_value_t row[] = {V("1"), V("2"), {"a\0\xff", 3}}, old[] = {V("7"), V("8"), NUL_V};
    char buf[200];
    sl_change_t c = ch(SL_OP_UPDATE, row, NULL);
    assert_ptr_equal(sl_apply_key_row(&c), row);
    assert_string_equal(sl_apply_key_text(t, &c, buf, sizeof buf), "key=(1, 2)");
    c.old = old;
    assert_string_equal(sl_apply_key_text(t, &c, buf, sizeof buf), "key=(7, 8)");
    c.old = row;
    assert_string_equal(sl_apply_key_text(k, &c, buf, sizeof buf), "row=(1, 2, \\x6100ff)");
    /* a tiny buffer is cut, never overrun */
    assert_string_equal(sl_apply_key_text(k, &c, buf, 6), "row=(");

    sl_err_t err;
    c = ch(SL_OP_DELETE, NULL, old);
    assert_int_equal(sl_apply_missing(t, &c, "s.t", &err), -1);
    assert_int_equal(err.code, SL_E_NOT_FOUND);
    assert_true(err.fatal);
    assert_string_equal(err.message, "delete of a row missing from the target table \"s.t\"");
    assert_string_equal(err.detail, "key=(7, 8)");

    sl_change_t chs[] = {ch(SL_OP_INSERT, row, NULL), ch(SL_OP_INSERT, row, NULL),
                         ch(SL_OP_UPDATE, row, NULL), ch(SL_OP_INSERT, row, NULL)};
    assert_int_equal(sl_apply_insert_run(chs, 0, 4), 2);
    assert_int_equal(sl_apply_insert_run(chs, 2, 4), 0);
    assert_int_equal(sl_apply_insert_run(chs, 3, 4), 1);
    sl_table_free(t);
    sl_table_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_key_and_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
