/*
 * test_file_spool.c: the file target's private spool (target/file/file_spool.c): spool
 * files are created 0600 and never over an existing file or through a symlink (the link's
 * target stays untouched); the spool directory is made 0700; a given spool_dir that is
 * open to others, or (as root) another user's, is refused; the default one is narrowed;
 * the s3 default follows the data dir, else a private temporary directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "target/file/file_int.h"

static char root[256];

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/sl-test-spool-XXXXXX");
    return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_open_private_never_follows(void **state)
{
    (void)state;
    char path[300], victim[300];
    sl_err_t err = {0};
    snprintf(path, sizeof path, "%s/a.spool", root);
    int fd = sl_file_spool_open(path, &err);
    assert_true(fd >= 0);
    close(fd);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    /* An existing file is never reused. */
    assert_int_equal(sl_file_spool_open(path, &err), -1);
    assert_non_null(strstr(err.hint, "remove it"));
    /* A planted symlink is never followed: its target stays as it was. */
    snprintf(victim, sizeof victim, "%s/victim", root);
    FILE *f = fopen(victim, "w");
    fputs("precious\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/b.spool", root);
    assert_int_equal(symlink(victim, path), 0);
    assert_int_equal(sl_file_spool_open(path, &err), -1);
    char buf[32] = "";
    f = fopen(victim, "r");
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_string_equal(buf, "precious\n");
    /* A dangling one neither: no file appears at its target. */
    snprintf(victim, sizeof victim, "%s/created-through-link", root);
    snprintf(path, sizeof path, "%s/c.spool", root);
    assert_int_equal(symlink(victim, path), 0);
    assert_int_equal(sl_file_spool_open(path, &err), -1);
    assert_int_equal(access(victim, F_OK), -1);
}

static void test_prepare(void **state)
{
    (void)state;
    char dir[300];
    sl_err_t err = {0};
    struct stat sb;
    /* Made 0700, parents as the umask says. */
    snprintf(dir, sizeof dir, "%s/new/spool", root);
    fopts_t o = {.spool_dir = dir};
    assert_int_equal(sl_file_spool_prepare(&o, true, &err), 0);
    assert_int_equal(stat(dir, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    /* Given and open to others: refused; the default one is narrowed. */
    chmod(dir, 0777);
    assert_int_equal(sl_file_spool_prepare(&o, true, &err), -1);
    assert_non_null(strstr(err.message, "group or others may write"));
    assert_non_null(strstr(err.hint, "chmod 700"));
    assert_int_equal(sl_file_spool_prepare(&o, false, &err), 0);
    assert_int_equal(stat(dir, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    /* Another user's (needs root to make one). */
    if (geteuid() == 0) {
        assert_int_equal(chown(dir, 65534, 65534), 0);
        assert_int_equal(sl_file_spool_prepare(&o, false, &err), -1);
        assert_non_null(strstr(err.message, "belongs to uid 65534"));
        assert_int_equal(sl_file_spool_prepare(&o, true, &err), -1);
    }
    /* Not a directory. */
    char file[300];
    snprintf(file, sizeof file, "%s/plain", root);
    close(open(file, O_WRONLY | O_CREAT, 0600));
    fopts_t p = {.spool_dir = file};
    assert_int_equal(sl_file_spool_prepare(&p, true, &err), -1);
}

static void test_defaults(void **state)
{
    (void)state;
    sl_url_t *u;
    sl_err_t err = {0};
    assert_int_equal(sl_url_parse("s3://bucket/p", &u, &err), 0);
    sl_target_spool_root(NULL);
    assert_null(sl_file_spool_default(u));
    /* Without a data dir: a private temporary directory, 0700, removed by its target. */
    fopts_t o = {0};
    assert_int_equal(sl_file_spool_prepare(&o, false, &err), 0);
    assert_true(o.spool_temp);
    struct stat sb;
    assert_int_equal(stat(o.spool_dir, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    rmdir(o.spool_dir);
    free(o.spool_dir);
    sl_target_spool_root("/var/lib/sluice/streams/s_1");
    char *d = sl_file_spool_default(u);
    assert_string_equal(d, "/var/lib/sluice/streams/s_1/spool");
    free(d);
    sl_url_free(u);
    assert_int_equal(sl_url_parse("file:///data/out", &u, &err), 0);
    d = sl_file_spool_default(u);
    assert_string_equal(d, "/data/out/_sluice/.spool");
    free(d);
    sl_url_free(u);
    sl_target_spool_root(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_private_never_follows),
        cmocka_unit_test(test_prepare),
        cmocka_unit_test(test_defaults),
    };
    return cmocka_run_group_tests_name("file_spool", tests, setup, teardown);
}
