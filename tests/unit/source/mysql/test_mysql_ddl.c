/*
 * test_mysql_ddl.c: unit tests of the binlog DDL reader (src/source/mysql/mysql_ddl.c):
 * which tables a statement names and what it does to them, the ALTER TABLE clauses a
 * target can follow and the ones it cannot, comments and quoting, and statements cut
 * off anywhere (never read past their end).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "source/mysql/mysql_ddl.h"

/* What a statement names, as "KIND db.table;..." */
typedef struct seen {
    char text[1024];
    int stop_after; /* stop the parse after this many tables (0: never) */
    int n;
} seen_t;

static int note(void *ctx, sl_my_ddl_kind_t kind, const char *db, const char *table)
{
    static const char *const names[] = {"TRUNCATE", "ALTER", "REFUSED", "REPLACE", "DROPDB"};
    seen_t *s = ctx;
    size_t len = strlen(s->text);
    snprintf(s->text + len, sizeof s->text - len, "%s %s.%s;", names[kind], db, table);
    return ++s->n == s->stop_after ? 7 : 0;
}

static const char *parse(const char *sql, seen_t *s)
{
    memset(s, 0, sizeof *s);
    assert_int_equal(sl_my_ddl_parse(sql, strlen(sql), "shop", note, s), 0);
    return s->text;
}

static void test_truncate(void **state)
{
    (void)state;
    seen_t s;
    assert_string_equal(parse("TRUNCATE TABLE orders", &s), "TRUNCATE shop.orders;");
    assert_string_equal(parse("truncate `other`.`my``t`", &s), "TRUNCATE other.my`t;");
    assert_string_equal(parse("/* c */ TRUNCATE -- x\n orders", &s), "TRUNCATE shop.orders;");
}

static void test_alter(void **state)
{
    (void)state;
    seen_t s;
    /* clauses that leave the rows as they are */
    assert_string_equal(parse("ALTER TABLE orders ADD COLUMN note text", &s), "ALTER shop.orders;");
    assert_string_equal(parse("ALTER ONLINE IGNORE TABLE IF EXISTS x.orders ADD INDEX i (a, b), DROP COLUMN c, "
                              "ALTER COLUMN d SET DEFAULT 'a,b', ALGORITHM=INPLACE, LOCK=NONE, COMMENT 'x, y'",
                              &s),
                        "ALTER x.orders;");
    assert_string_equal(parse("alter table t rename index a to b, engine=InnoDB, auto_increment = 5", &s),
                        "ALTER shop.t;");
    /* clauses that a target cannot follow */
    assert_string_equal(parse("ALTER TABLE orders MODIFY c bigint", &s), "REFUSED shop.orders;");
    assert_string_equal(parse("ALTER TABLE orders ADD COLUMN a int, CHANGE b c int", &s), "REFUSED shop.orders;");
    assert_string_equal(parse("ALTER TABLE orders RENAME TO orders2", &s), "REFUSED shop.orders;");
    assert_string_equal(parse("ALTER TABLE orders ADD PRIMARY KEY (id)", &s), "REFUSED shop.orders;");
    assert_string_equal(parse("ALTER TABLE orders DROP PRIMARY KEY", &s), "REFUSED shop.orders;");
    assert_string_equal(parse("ALTER TABLE orders ALTER COLUMN a TYPE int", &s), "REFUSED shop.orders;");
    /* a comma inside parentheses or quotes does not start a clause */
    assert_string_equal(parse("ALTER TABLE t ADD COLUMN e enum('a,MODIFY', \"b\\\",x\"), ADD INDEX (a, b)", &s),
                        "ALTER shop.t;");
    /* not a table */
    assert_string_equal(parse("ALTER USER bob IDENTIFIED BY 'x'", &s), "");
    assert_string_equal(parse("ALTER DATABASE shop CHARACTER SET utf8mb4", &s), "");
}

static void test_replace(void **state)
{
    (void)state;
    seen_t s;
    assert_string_equal(parse("DROP TABLE IF EXISTS a, b.c", &s), "REPLACE shop.a;REPLACE b.c;");
    assert_string_equal(parse("DROP TEMPORARY TABLES t", &s), "REPLACE shop.t;");
    assert_string_equal(parse("RENAME TABLE a TO b, c.d TO e", &s),
                        "REPLACE shop.a;REPLACE shop.b;REPLACE c.d;REPLACE shop.e;");
    assert_string_equal(parse("CREATE OR REPLACE TABLE t (id int)", &s), "REPLACE shop.t;");
    assert_string_equal(parse("CREATE TABLE t (id int)", &s), "");
    assert_string_equal(parse("CREATE INDEX i ON t (a)", &s), "");
    assert_string_equal(parse("DROP DATABASE IF EXISTS shop", &s), "DROPDB shop.;");
    assert_string_equal(parse("drop schema `x`", &s), "DROPDB x.;");
    assert_string_equal(parse("DROP VIEW v", &s), "");
    assert_string_equal(parse("GRANT ALL ON *.* TO bob", &s), "");
    /* a callback's non-zero return stops the parse and is returned */
    memset(&s, 0, sizeof s);
    s.stop_after = 2;
    const char *sql = "DROP TABLE a, b, c";
    assert_int_equal(sl_my_ddl_parse(sql, strlen(sql), "shop", note, &s), 7);
    assert_string_equal(s.text, "REPLACE shop.a;REPLACE shop.b;");
}

static void test_is(void **state)
{
    (void)state;
    assert_true(sl_my_ddl_is("BEGIN", 5, "BEGIN"));
    assert_true(sl_my_ddl_is("  commit ; ", 11, "COMMIT"));
    assert_true(sl_my_ddl_is("/* x */ROLLBACK", 15, "ROLLBACK"));
    assert_false(sl_my_ddl_is("BEGINNING", 9, "BEGIN"));
    assert_false(sl_my_ddl_is("COMMIT WORK", 11, "COMMIT"));
    assert_false(sl_my_ddl_is("", 0, "BEGIN"));
}

/* Every prefix of some statements, each in a buffer of exactly its length (ASan sees
 * a read past the end). */
static void test_cut(void **state)
{
    (void)state;
    const char *sqls[] = {"ALTER TABLE `a``b`.c ADD COLUMN x enum('1,2'), DROP y /* ok */",
                          "RENAME TABLE a TO b, c TO d", "TRUNCATE TABLE t -- x",
                          "ALTER TABLE t ADD e text DEFAULT 'it\\'s, fine'"};
    for (size_t i = 0; i < sizeof sqls / sizeof sqls[0]; i++)
        for (size_t n = 0; n <= strlen(sqls[i]); n++) {
            char *p = malloc(n ? n : 1);
            memcpy(p, sqls[i], n);
            seen_t s = {{0}, 0, 0};
            assert_int_equal(sl_my_ddl_parse(p, n, "db", note, &s), 0);
            (void)sl_my_ddl_is(p, n, "BEGIN");
            free(p);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_truncate), cmocka_unit_test(test_alter), cmocka_unit_test(test_replace),
        cmocka_unit_test(test_is),       cmocka_unit_test(test_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
