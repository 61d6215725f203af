/*
 * test_control_secret.c: the secret box (control/secret.c): keys in hex and base64, the
 * key file created 0600, seal/open round trips, a wrong key or damaged text refused, and
 * the URL masking and scrubbing that keep secrets out of responses and logs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "control/secret.h"
#include "core/url.h"

static const char HEX[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

static void test_key_parse(void **state)
{
    (void)state;
    sl_secret_key_t a, b;
    sl_err_t err;
    assert_int_equal(sl_secret_key_parse(HEX, &a, &err), 0);
    assert_int_equal(a.k[31], 0x1f);
    /* The same 32 bytes in base64. */
    assert_int_equal(sl_secret_key_parse("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", &b, &err), 0);
    assert_memory_equal(a.k, b.k, sizeof a.k);
    assert_int_equal(sl_secret_key_parse("too short", &a, &err), -1);
    assert_int_equal(err.code, SL_E_CONFIG);
    assert_int_equal(sl_secret_key_parse("AAEC", &a, &err), -1);
}

static void test_key_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/sl-secret-XXXXXX";
    assert_non_null(mkdtemp(dir));
    sl_secret_key_t a, b;
    sl_err_t err;
    assert_int_equal(sl_secret_key_load(NULL, dir, &a, &err), 0);
    char path[128];
    snprintf(path, sizeof path, "%s/secret.key", dir);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(sl_secret_key_load("", dir, &b, &err), 0); /* read back */
    assert_memory_equal(a.k, b.k, sizeof a.k);
    assert_int_equal(sl_secret_key_load(HEX, dir, &b, &err), 0); /* the environment wins */
    assert_int_equal(b.k[1], 1);
    unlink(path);
    rmdir(dir);
}

static void test_seal_open(void **state)
{
    (void)state;
    sl_secret_key_t k, other;
    sl_err_t err;
    sl_secret_key_parse(HEX, &k, &err);
    other = k;
    other.k[0] ^= 1;
    const char *plain = "{\"url\": \"postgres://u:hunter2@h/db\"}";
    char *a = sl_secret_seal(&k, plain, strlen(plain));
    char *b = sl_secret_seal(&k, plain, strlen(plain));
    assert_null(strstr(a, "hunter2"));
    assert_string_not_equal(a, b); /* a fresh nonce each time */
    size_t len;
    char *o = sl_secret_open(&k, a, &len, &err);
    assert_non_null(o);
    assert_int_equal(len, strlen(plain));
    assert_string_equal(o, plain);
    free(o);
    assert_null(sl_secret_open(&other, a, NULL, &err));
    assert_int_equal(err.code, SL_E_CONFIG);
    a[10] = a[10] == 'A' ? 'B' : 'A';
    assert_null(sl_secret_open(&k, a, NULL, &err));
    assert_null(sl_secret_open(&k, "not base64 !", NULL, &err));
    assert_null(sl_secret_open(&k, "", NULL, &err));
    free(a);
    free(b);
}

static void test_urls(void **state)
{
    (void)state;
    char *s = sl_url_mask("postgres://u:p%40ss@h:5432/db?x=1");
    assert_string_equal(s, "postgres://u:****@h:5432/db?x=1");
    free(s);
    s = sl_url_mask("mysql://u@h/db");
    assert_string_equal(s, "mysql://u@h/db");
    free(s);
    s = sl_url_mask("not a url");
    assert_string_equal(s, "not a url");
    free(s);
    /* The masker and the parser split alike: a '#' in the password is refused by the
     * parser and all of the userinfo is masked. */
    s = sl_url_mask("postgres://u:p#ss@h/db");
    assert_string_equal(s, "postgres://****@h/db");
    free(s);
    assert_null(sl_secret_url_password("postgres://u:p#ss@h/db"));
    s = sl_secret_url_password("postgres://u:p%40ss@h/db");
    assert_string_equal(s, "p@ss");
    free(s);
    assert_null(sl_secret_url_password("postgres://u@h/db"));
    s = sl_url_with_password("postgres://u:old@h/db", "n@w pw");
    assert_string_equal(s, "postgres://u:n%40w%20pw@h/db");
    free(s);
    assert_null(sl_url_with_password("postgres://h/db", "x"));
    const char *secrets[] = {"hunter2", "", "p@ss", NULL};
    s = sl_secret_scrub("a hunter2 b hunter2 p@ss", secrets);
    assert_string_equal(s, "a **** b **** ****");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_parse),
        cmocka_unit_test(test_key_file),
        cmocka_unit_test(test_seal_open),
        cmocka_unit_test(test_urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
