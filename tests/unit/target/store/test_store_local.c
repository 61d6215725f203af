/*
 * test_store_local.c: the store key check (store.c) and the local store (local.c) on a
 * temp directory: keys that escape the root are refused, put/get/list/remove round trip,
 * put_file consumes the file, list is lexical and hides temp files, and the file target
 * refuses unknown URL parameters and unsafe table names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "target/store/store.h"
#include "target/target.h"

static void test_key_ok(void **state)
{
    assert_true(sl_store_key_ok("orders/part-1.parquet"));
    assert_true(sl_store_key_ok("_sluice/s/manifest.json"));
    assert_true(sl_store_key_ok("Ünïcode table/x"));
    assert_false(sl_store_key_ok(""));
    assert_false(sl_store_key_ok(NULL));
    assert_false(sl_store_key_ok("/etc/passwd"));
    assert_false(sl_store_key_ok("../x"));
    assert_false(sl_store_key_ok("a/../../x"));
    assert_false(sl_store_key_ok("a/..b"));
    assert_false(sl_store_key_ok("a\\b"));
    assert_false(sl_store_key_ok("a//b"));
    assert_false(sl_store_key_ok("a/"));
    assert_false(sl_store_key_ok("./a"));
    assert_false(sl_store_key_ok("a\nb"));
}

static int collect(void *ctx, const char *key, uint64_t size, sl_err_t *err)
{
    char *out = ctx;
    char line[300];
    snprintf(line, sizeof line, "%s=%llu;", key, (unsigned long long)size);
    strcat(out, line);
    return 0;
}

static sl_store_t *open_dir(const char *dir)
{
    char url[512];
    snprintf(url, sizeof url, "file://%s", dir);
    sl_url_t *u;
    sl_err_t err = {0};
    assert_int_equal(sl_url_parse(url, &u, &err), 0);
    const struct sl_store_ops *ops = sl_store_lookup("file");
    assert_non_null(ops);
    sl_store_t *st = NULL;
    assert_int_equal(ops->open(u, &st, &err), 0);
    sl_url_free(u);
    return st;
}

static void test_local_roundtrip(void **state)
{
    char dir[] = "/tmp/sluice-test-store.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char root[600];
    snprintf(root, sizeof root, "%s/root", dir);
    sl_store_t *st = open_dir(root);
    sl_err_t err = {0};
    assert_int_equal(st->ops->put(st, "b/x.json", "{}", 2, &err), 0);
    assert_int_equal(st->ops->put(st, "a/y", "hello", 5, &err), 0);
    assert_int_equal(st->ops->put(st, "a/y", "hello!", 6, &err), 0); /* replaces */
    assert_int_equal(st->ops->put(st, "../escape", "x", 1, &err), -1);
    assert_int_equal(err.code, SL_E_CONFIG);

    /* put_file consumes the file */
    char spool[700];
    snprintf(spool, sizeof spool, "%s/spool.tmpfile", dir);
    FILE *f = fopen(spool, "w");
    fputs("0123456789", f);
    fclose(f);
    assert_int_equal(st->ops->put_file(st, "a/part-1.csv", spool, &err), 0);
    assert_int_not_equal(access(spool, F_OK), 0);

    /* a temp file of a dead process is hidden and removed */
    char tmp[700];
    snprintf(tmp, sizeof tmp, "%s/a/.z.tmp-999999999-1", root);
    f = fopen(tmp, "w");
    fclose(f);

    char out[2000] = "";
    assert_int_equal(st->ops->list(st, "", collect, out, &err), 0);
    assert_string_equal(out, "a/part-1.csv=10;a/y=6;b/x.json=2;");
    assert_int_not_equal(access(tmp, F_OK), 0);
    out[0] = '\0';
    assert_int_equal(st->ops->list(st, "a/p", collect, out, &err), 0);
    assert_string_equal(out, "a/part-1.csv=10;");

    sl_buf_t b;
    bool found = false;
    sl_buf_init(&b, 1024);
    assert_int_equal(st->ops->get(st, "a/y", &b, &found, &err), 0);
    assert_true(found);
    assert_string_equal(b.data, "hello!");
    sl_buf_reset(&b);
    assert_int_equal(st->ops->get(st, "nope/z", &b, &found, &err), 0);
    assert_false(found);
    sl_buf_free(&b);

    assert_int_equal(st->ops->remove(st, "a/y", &err), 0);
    assert_int_equal(st->ops->remove(st, "a/y", &err), 0); /* absent: fine */
    out[0] = '\0';
    assert_int_equal(st->ops->list(st, "a/", collect, out, &err), 0);
    assert_string_equal(out, "a/part-1.csv=10;");
    st->ops->close(st);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_target_url_errors(void **state)
{
    sl_target_t *tgt = NULL;
    sl_err_t err = {0};
    assert_int_equal(sl_target_open("file:///tmp/sluice-test-x?format=csv&colour=blue", &tgt, &err), -1);
    assert_non_null(strstr(err.message, "\"colour\""));
    memset(&err, 0, sizeof err);
    assert_int_equal(sl_target_open("file:///tmp/sluice-test-x?format=xml", &tgt, &err), -1);
    assert_non_null(strstr(err.message, "\"format\""));
    memset(&err, 0, sizeof err);
    assert_int_equal(sl_target_open("file:///tmp/sluice-test-x?format=csv&compression=snappy", &tgt, &err), -1);
    assert_non_null(strstr(err.message, "snappy"));
    memset(&err, 0, sizeof err);
    assert_int_equal(sl_target_open("file://host/tmp/x", &tgt, &err), -1);
    assert_non_null(strstr(err.hint, "three slashes"));

    /* a table name that is not a safe directory name is refused before any write */
    memset(&err, 0, sizeof err);
    assert_int_equal(sl_target_open("file:///tmp/sluice-test-x?format=jsonl", &tgt, &err), 0);
    sl_column_t col = {.name = "id", .type = SL_T_INT32};
    sl_table_t t = {.name = "../evil", .columns = &col, .ncolumns = 1};
    bool exists, rows;
    assert_int_equal(tgt->ops->table_state(tgt, &t, &exists, &rows, &err), -1);
    assert_non_null(strstr(err.message, "../evil"));
    t.name = "_sluice";
    assert_int_equal(tgt->ops->create_table(tgt, &t, false, &err), -1);
    sl_target_close(tgt);
    assert_int_equal(system("rm -rf /tmp/sluice-test-x"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_ok),
        cmocka_unit_test(test_local_roundtrip),
        cmocka_unit_test(test_target_url_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
