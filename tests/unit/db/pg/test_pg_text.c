/*
 * test_pg_text.c: unit tests of the pure PostgreSQL text helpers (src/db/pg/pg_text.c):
 * identifier and literal quoting, COPY text escaping and its inverse, line splitting
 * with NULLs, and bytea hex decoding. No server needed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "db/pg/pg.h"

static void test_ident_quoting(void **state)
{
    sl_buf_t b;
    sl_buf_init(&b, 1024);
    assert_int_equal(sl_pg_add_ident(&b, "we\"ird", NULL), 0);
    assert_string_equal(b.data, "\"we\"\"ird\"");
    sl_buf_reset(&b);
    assert_int_equal(sl_pg_add_qname(&b, "Sales", "Order Items", NULL), 0);
    assert_string_equal(b.data, "\"Sales\".\"Order Items\"");
    sl_buf_free(&b);
    /* a role in a hint's GRANT: quoted, so that it pastes whatever its case or characters */
    char r[16];
    assert_string_equal(sl_pg_role_text("nc-User", r, sizeof r), "\"nc-User\"");
    assert_string_equal(sl_pg_role_text("a\"b", r, sizeof r), "\"a\"\"b\"");
    assert_string_equal(sl_pg_role_text(NULL, r, sizeof r), "CURRENT_USER");
    assert_string_equal(sl_pg_role_text("a_name_longer_than_this", r, sizeof r), "CURRENT_USER");
}

static void test_literal_quoting(void **state)
{
    sl_buf_t b;
    sl_buf_init(&b, 1024);
    assert_int_equal(sl_pg_add_literal(&b, "it's", 4, NULL), 0);
    assert_string_equal(b.data, "'it''s'");
    sl_buf_reset(&b);
    assert_int_equal(sl_pg_add_literal(&b, "a\\b'", 4, NULL), 0);
    assert_string_equal(b.data, " E'a\\\\b'''");
    sl_buf_reset(&b);
    sl_err_t err = {0};
    assert_int_equal(sl_pg_add_literal(&b, "a\0b", 3, &err), -1);
    assert_int_equal(err.code, SL_E_DATA);
    sl_buf_reset(&b);
    assert_int_equal(sl_pg_add_bytea_literal(&b, "\x00\xff", 2, NULL), 0);
    assert_string_equal(b.data, "'\\x00ff'::bytea");
    sl_buf_free(&b);
}

static void test_copy_escape(void **state)
{
    sl_buf_t b;
    sl_buf_init(&b, 1024);
    const char in[] = "a\tb\nc\rd\\e \xf0\x9f\x98\x80";
    assert_int_equal(sl_pg_copy_escape(&b, in, strlen(in), NULL), 0);
    assert_string_equal(b.data, "a\\tb\\nc\\rd\\\\e \xf0\x9f\x98\x80");
    sl_buf_reset(&b);
    assert_int_equal(sl_pg_copy_escape(&b, "", 0, NULL), 0);
    assert_int_equal(b.len, 0);
    /* NUL cannot be stored in PostgreSQL text: reported, not written */
    assert_int_equal(sl_pg_copy_escape(&b, "ab\0cd", 5, NULL), 1);
    sl_buf_reset(&b);
    assert_int_equal(sl_pg_copy_add_bytea(&b, "\x00\x10\xff", 3, NULL), 0);
    assert_string_equal(b.data, "\\\\x0010ff");
    sl_buf_free(&b);
}

static void test_copy_escape_limit(void **state)
{
    sl_buf_t b;
    sl_buf_init(&b, 8);
    sl_err_t err = {0};
    assert_int_equal(sl_pg_copy_escape(&b, "\\\\\\\\\\", 5, &err), -1);
    assert_int_equal(err.code, SL_E_LIMIT);
    sl_buf_free(&b);
}

static void test_copy_unescape(void **state)
{
    char s[] = "a\\tb\\nc\\\\d\\101\\x41\\x4g\\b\\f\\v\\r\\q";
    size_t n = sl_pg_copy_unescape(s, strlen(s));
    const char want[] = "a\tb\nc\\dAA\x04g\b\f\v\rq";
    assert_int_equal(n, sizeof want - 1);
    assert_memory_equal(s, want, n);
    char plain[] = "nothing to do";
    assert_int_equal(sl_pg_copy_unescape(plain, strlen(plain)), strlen("nothing to do"));
}

static void test_escape_roundtrip(void **state)
{
    sl_buf_t b;
    sl_buf_init(&b, 4096);
    char all[255];
    for (int i = 0; i < 255; i++)
        all[i] = (char)(i + 1); /* every byte but NUL */
    assert_int_equal(sl_pg_copy_escape(&b, all, sizeof all, NULL), 0);
    assert_null(memchr(b.data, '\t', b.len));
    assert_null(memchr(b.data, '\n', b.len));
    size_t n = sl_pg_copy_unescape(b.data, b.len);
    assert_int_equal(n, sizeof all);
    assert_memory_equal(b.data, all, n);
    sl_buf_free(&b);
}

static void test_copy_split(void **state)
{
    char line[] = "1\t\\N\t\t\\\\N\tx\\ty\n";
    sl_value_t v[5];
    assert_int_equal(sl_pg_copy_split(line, strlen(line), v, 5), 5);
    assert_int_equal(v[0].len, 1);
    assert_memory_equal(v[0].p, "1", 1);
    assert_int_equal(v[1].len, -1); /* \N is NULL */
    assert_int_equal(v[2].len, 0);  /* empty string is not NULL */
    assert_int_equal(v[3].len, 2);  /* an escaped backslash then N is the text \N */
    assert_memory_equal(v[3].p, "\\N", 2);
    assert_int_equal(v[4].len, 3);
    assert_memory_equal(v[4].p, "x\ty", 3);

    char short_line[] = "1\t2\n";
    assert_int_equal(sl_pg_copy_split(short_line, strlen(short_line), v, 5), 2);
    char long_line[] = "1\t2\t3";
    assert_int_equal(sl_pg_copy_split(long_line, strlen(long_line), v, 2), 3);
}

static void test_hex_decode(void **state)
{
    char s[] = "\\x00ff10Ab";
    assert_int_equal(sl_pg_hex_decode(s, strlen(s)), 4);
    assert_memory_equal(s, "\x00\xff\x10\xab", 4);
    char empty[] = "\\x";
    assert_int_equal(sl_pg_hex_decode(empty, 2), 0);
    char odd[] = "\\x0";
    assert_int_equal(sl_pg_hex_decode(odd, 3), -1);
    char bad[] = "\\xzz";
    assert_int_equal(sl_pg_hex_decode(bad, 4), -1);
    char esc[] = "\\000"; /* escape format is not what we ask the server for */
    assert_int_equal(sl_pg_hex_decode(esc, 4), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ident_quoting),    cmocka_unit_test(test_literal_quoting),
        cmocka_unit_test(test_copy_escape),      cmocka_unit_test(test_copy_escape_limit),
        cmocka_unit_test(test_copy_unescape),    cmocka_unit_test(test_escape_roundtrip),
        cmocka_unit_test(test_copy_split),       cmocka_unit_test(test_hex_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
