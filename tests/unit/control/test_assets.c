/*
 * test_assets.c: unit tests of the embedded web UI (src/control/assets.c, generated from
 * web/ by web/embed.cmake): lookups and content types, files that must not be served, and
 * that every module a script imports ("from './x.js'") is embedded too, so that a file
 * left out of the embedding fails here rather than in a browser.
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "control/assets.h"

static void test_index_and_types(void **state)
{
    const sl_asset_t *root = sl_asset_find("/");
    assert_non_null(root);
    assert_ptr_equal(root, sl_asset_find("/index.html"));
    assert_string_equal(root->content_type, "text/html; charset=utf-8");
    assert_non_null(memmem(root->data, root->len, "/js/app.js", 10));

    const sl_asset_t *js = sl_asset_find("/js/app.js");
    assert_non_null(js);
    assert_string_equal(js->content_type, "text/javascript; charset=utf-8");
    const sl_asset_t *css = sl_asset_find("/style.css");
    assert_non_null(css);
    assert_string_equal(css->content_type, "text/css; charset=utf-8");
    const sl_asset_t *svg = sl_asset_find("/favicon.svg");
    assert_non_null(svg);
    assert_string_equal(svg->content_type, "image/svg+xml");
}

static void test_not_served(void **state)
{
    assert_null(sl_asset_find(NULL));
    assert_null(sl_asset_find(""));
    assert_null(sl_asset_find("/nope.js"));
    assert_null(sl_asset_find("index.html"));   /* paths start with / */
    assert_null(sl_asset_find("/package.json")); /* web/'s build files stay out */
    assert_null(sl_asset_find("/embed.cmake"));
    assert_null(sl_asset_find("/CMakeLists.txt"));
    assert_null(sl_asset_find("/js/../index.html"));
    assert_null(sl_asset_find("/index.html?x=1")); /* the caller cuts the query */
}

/* Resolves import specifier spec (spec_len bytes, "./x.js" or "../x.js") against the
 * asset path from ("/js/views/a.js") into out; returns 0, or -1 when it is not relative. */
static int resolve(const char *from, const char *spec, size_t spec_len, char *out, size_t cap)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s", from);
    *strrchr(dir, '/') = '\0';
    int up = 0;
    while (spec_len >= 3 && strncmp(spec, "../", 3) == 0) {
        up++;
        char *slash = strrchr(dir, '/');
        if (slash == NULL)
            return -1;
        *slash = '\0';
        spec += 3;
        spec_len -= 3;
    }
    if (spec_len >= 2 && strncmp(spec, "./", 2) == 0) {
        spec += 2;
        spec_len -= 2;
    } else if (!up) {
        return -1; /* a bare or absolute specifier: not one of ours */
    }
    snprintf(out, cap, "%s/%.*s", dir, (int)spec_len, spec);
    return 0;
}

static void test_imports_are_embedded(void **state)
{
    static const char *const modules[] = {"/js/app.js", "/js/api.js", "/js/dom.js",
                                          "/js/views/wizard.js", "/js/views/stream.js",
                                          "/js/lib/spec.js"};
    int checked = 0;
    for (size_t m = 0; m < sizeof modules / sizeof modules[0]; m++) {
        const sl_asset_t *a = sl_asset_find(modules[m]);
        assert_non_null(a);
        assert_int_equal(a->data[a->len], 0); /* the generator's NUL, not counted */
        const char *p = (const char *)a->data, *end = p + a->len;
        while ((p = memmem(p, (size_t)(end - p), "from '", 6)) != NULL) {
            p += 6;
            const char *q = memchr(p, '\'', (size_t)(end - p));
            assert_non_null(q);
            char path[512];
            if (resolve(modules[m], p, (size_t)(q - p), path, sizeof path) == 0) {
                if (sl_asset_find(path) == NULL)
                    fail_msg("%s imports %.*s, but %s is not embedded", modules[m], (int)(q - p), p,
                             path);
                checked++;
            }
            p = q;
        }
    }
    if (checked < 10)
        fail_msg("only %d imports found", checked);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_and_types),
        cmocka_unit_test(test_not_served),
        cmocka_unit_test(test_imports_are_embedded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
