/*
 * test_options.c: the property tables (src/engine/options.c, core/opt.h) hold what the
 * parsers do. Every row of every table is fed to the parser it describes: defaults,
 * bounds (the edge values in, one past them out), every choice in the modes that accept
 * it (and refused in the others, write_mode "upsert" in both), unknown values refused.
 * Then the forms generated from the tables: the JSON of GET /api/v1/options, the
 * OpenAPI schema of "options" and the Markdown of docs/.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "control/route.h"
#include "engine/options.h"
#include "engine/spec.h"
#include "source/mysql/gtid.h"
#include "target/file/file_int.h"
#include "target/store/s3_conf.h"

/* sl_spec_parse of a spec in mode with "options": {name: json}; 0 or -1, err filled. */
static int spec_with(const char *mode, const char *name, const char *json, sl_err_t *err)
{
    char text[1024];
    snprintf(text, sizeof text,
             "{\"name\":\"a\",\"mode\":\"%s\",\"source\":{\"url\":\"mysql://u@h/db\"},"
             "\"target\":{\"url\":\"postgres://u@h/db\"},\"options\":{\"%s\":%s}}",
             mode, name, json);
    sl_spec_t *s = NULL;
    int rc = sl_spec_parse(text, &s, err);
    sl_spec_free(s);
    return rc;
}

static void spec_rows_match_the_parser(void **state)
{
    (void)state;
    const sl_opt_table_t *t = sl_options_table("spec");
    assert_ptr_equal(t, &sl_spec_option_table);
    sl_err_t err;
    static const char *const modes[] = {"load", "cdc"};
    for (int i = 0; i < t->n; i++) {
        const sl_opt_t *o = &t->rows[i];
        char v[64];
        for (int m = 0; m < 2; m++) {
            unsigned bit = m ? SL_OPT_CDC : SL_OPT_LOAD;
            if (o->type == SL_OPT_ENUM)
                snprintf(v, sizeof v, "\"%s\"", o->dflt);
            else
                snprintf(v, sizeof v, "%s", o->dflt);
            if (spec_with(modes[m], o->name, v, &err))
                fail_msg("%s: the default %s is refused: %s", o->name, v, err.message);
            switch (o->type) {
            case SL_OPT_INT:
                snprintf(v, sizeof v, "%" PRId64, o->min);
                assert_int_equal(spec_with(modes[m], o->name, v, &err), 0);
                snprintf(v, sizeof v, "%" PRId64, o->max);
                assert_int_equal(spec_with(modes[m], o->name, v, &err), 0);
                snprintf(v, sizeof v, "%" PRId64, o->min - 1);
                assert_int_equal(spec_with(modes[m], o->name, v, &err), -1);
                assert_non_null(strstr(err.message, o->name));
                snprintf(v, sizeof v, "from %" PRId64 " to %" PRId64, o->min, o->max);
                assert_non_null(strstr(err.message, v));
                snprintf(v, sizeof v, "%" PRId64, o->max + 1);
                assert_int_equal(spec_with(modes[m], o->name, v, &err), -1);
                break;
            case SL_OPT_BOOL:
                assert_int_equal(spec_with(modes[m], o->name, "false", &err), 0);
                assert_int_equal(spec_with(modes[m], o->name, "\"yes\"", &err), -1);
                break;
            case SL_OPT_ENUM:
                for (int c = 0; o->choices[c].name; c++) {
                    snprintf(v, sizeof v, "\"%s\"", o->choices[c].name);
                    /* a row that does not matter in a mode accepts every choice there */
                    bool want = (o->choices[c].modes & bit) || !(o->modes & bit);
                    if ((spec_with(modes[m], o->name, v, &err) == 0) != want)
                        fail_msg("%s %s in %s: the table says %s", o->name, v, modes[m],
                                 want ? "accepted" : "refused");
                }
                assert_int_equal(spec_with(modes[m], o->name, "\"no_such_choice\"", &err), -1);
                assert_non_null(strstr(err.hint, o->choices[0].name));
                break;
            case SL_OPT_MAP:
                assert_int_equal(spec_with(modes[m], o->name, "{\"time\": \"interval\"}", &err), 0);
                assert_int_equal(spec_with(modes[m], o->name, "{\"time\": 3}", &err), -1);
                assert_int_equal(spec_with(modes[m], o->name, "[\"time\"]", &err), -1);
                assert_non_null(strstr(err.message, o->name));
                break;
            default:
                fail_msg("%s: a spec option of type %s", o->name, sl_opt_type_name(o->type));
            }
        }
    }
    /* the table's own words for the cases the UI had wrong */
    const sl_opt_t *br = sl_opt_find(t, "batch_rows");
    assert_int_equal(br->max, 1000000);
    assert_int_equal(sl_opt_find(t, "batch_bytes")->min, 65536);
    assert_int_equal(sl_opt_find(t, "chunk_rows")->min, 1000);
    assert_int_equal(spec_with("load", "write_mode", "\"upsert\"", &err), -1);
    assert_string_equal(err.message, "write_mode \"upsert\" is not built yet for loads");
    assert_string_equal(err.hint, "use one of: insert, truncate_insert");
    assert_int_equal(spec_with("cdc", "write_mode", "\"upsert\"", &err), -1);
    assert_non_null(strstr(err.message, "not built yet for cdc streams"));
    assert_int_equal(spec_with("load", "write_mode", "\"upsert_all\"", &err), -1);
    assert_string_equal(err.hint, "use one of: insert, truncate_insert");
}

/* sl_file_opts_parse of scheme://…?query: 0 when every parameter was the file target's. */
static int file_params(const char *url_text, sl_err_t *err)
{
    sl_url_t *u;
    if (sl_url_parse(url_text, &u, err))
        fail_msg("sl_url_parse(%s): %s", url_text, err->message);
    fopts_t o;
    sl_url_t rest;
    int rc = sl_file_opts_parse(u, &o, &rest, err);
    if (rc == 0) {
        if (rest.nparams)
            fail_msg("%s: parameter \"%s\" is not the file target's", url_text, rest.params[0].key);
        free(rest.params);
        sl_file_opts_free(&o);
    }
    sl_url_free(u);
    return rc;
}

/* name=value alone on a file:// URL is accepted (rc 0) or refused (-1). */
static void expect_file(const char *name, const char *value, int rc)
{
    char url[512];
    sl_err_t err;
    snprintf(url, sizeof url, "file:///tmp/x?%s=%s", name, value);
    if (file_params(url, &err) != rc)
        fail_msg("%s: the table says %s", url, rc ? "refused" : "accepted");
}

static void file_rows_match_the_parser(void **state)
{
    (void)state;
    extern const sl_opt_table_t sl_file_url_params;
    const sl_opt_table_t *t = sl_options_table("file");
    assert_ptr_equal(t, &sl_file_url_params);
    sl_err_t err;
    char url[512];
    for (int i = 0; i < t->n; i++) {
        const sl_opt_t *o = &t->rows[i];
        if (o->dflt) {
            snprintf(url, sizeof url, "file:///tmp/x?format=parquet&%s=%s", o->name, o->dflt);
            if (strcmp(o->name, "format") && file_params(url, &err))
                fail_msg("%s: the default is refused: %s", url, err.message);
        }
        switch (o->type) {
        case SL_OPT_INT:
        case SL_OPT_BYTES:
            snprintf(url, sizeof url, "file:///tmp/x?%s=%" PRId64, o->name, o->min);
            assert_int_equal(file_params(url, &err), 0);
            snprintf(url, sizeof url, "file:///tmp/x?%s=%" PRId64, o->name, o->min - 1);
            assert_int_equal(file_params(url, &err), -1);
            assert_non_null(strstr(err.message, o->name));
            if (o->type == SL_OPT_BYTES)
                expect_file(o->name, "3M", 0);
            break;
        case SL_OPT_ENUM:
            for (int c = 0; o->choices[c].name; c++) {
                snprintf(url, sizeof url, "file:///tmp/x?%s=%s%s%s", o->name, o->choices[c].name,
                         o->choices[c].when ? "&" : "", o->choices[c].when ? o->choices[c].when : "");
                if (file_params(url, &err))
                    fail_msg("%s: refused: %s", url, err.message);
            }
            expect_file(o->name, "no_such_choice", -1);
            break;
        case SL_OPT_BOOL:
            expect_file(o->name, "false", 0);
            expect_file(o->name, "maybe", -1);
            break;
        case SL_OPT_CHAR:
            expect_file(o->name, "tab", 0);
            expect_file(o->name, "ab", -1);
            break;
        case SL_OPT_STRING:
            expect_file(o->name, "/var/tmp/y", 0);
            break;
        case SL_OPT_MAP: /* spec options only */
            fail_msg("%s: a URL parameter cannot be a map", o->name);
        }
    }
    /* a choice's condition is checked: snappy is for Parquet only */
    assert_int_equal(file_params("file:///tmp/x?format=csv&compression=snappy", &err), -1);
    assert_non_null(strstr(err.message, "snappy"));
}

static int s3_conf(const char *query, sl_err_t *err)
{
    char text[512];
    snprintf(text, sizeof text, "s3://AKID:SECRET@bucket/p?%s", query);
    sl_url_t *u;
    if (sl_url_parse(text, &u, err))
        fail_msg("sl_url_parse(%s): %s", text, err->message);
    sl_s3_conf_t c;
    int rc = sl_s3_conf_from_url(u, &c, err);
    if (rc == 0)
        sl_s3_conf_clear(&c);
    sl_url_free(u);
    return rc;
}

static void s3_rows_match_the_parser(void **state)
{
    (void)state;
    const sl_opt_table_t *t = sl_options_table("s3");
    assert_ptr_equal(t, &sl_s3_url_params);
    sl_err_t err;
    char q[256];
    for (int i = 0; i < t->n; i++) {
        const sl_opt_t *o = &t->rows[i];
        assert_true(sl_s3_conf_param(o->name));
        if (o->type == SL_OPT_ENUM) {
            for (int c = 0; o->choices[c].name; c++) {
                snprintf(q, sizeof q, "%s=%s", o->name, o->choices[c].name);
                if (s3_conf(q, &err))
                    fail_msg("%s: refused: %s", q, err.message);
            }
            snprintf(q, sizeof q, "%s=no_such_choice", o->name);
            assert_int_equal(s3_conf(q, &err), -1);
        } else if (o->type == SL_OPT_INT) {
            /* the default and the edges in, one past each edge out */
            const struct {
                int64_t v;
                int rc;
            } cases[] = {{strtoll(o->dflt, NULL, 10), 0}, {o->min, 0}, {o->max, 0}, {o->min - 1, -1}, {o->max + 1, -1}};
            for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
                snprintf(q, sizeof q, "%s=%" PRId64, o->name, cases[k].v);
                if (s3_conf(q, &err) != cases[k].rc)
                    fail_msg("%s: the table says %s", q, cases[k].rc ? "refused" : "accepted");
            }
        }
    }
    assert_false(sl_s3_conf_param("secret_access_key"));
    assert_false(sl_s3_conf_param("format")); /* the file target's, not the store's */
}

static void database_rows_match_their_readers(void **state)
{
    (void)state;
    /* mysql position: every choice is a mode of gtid.c, anything else refused */
    const sl_opt_t *pos = sl_opt_find(sl_options_table("mysql"), "position");
    assert_non_null(pos);
    sl_err_t err;
    char text[128];
    for (int c = 0; pos->choices[c].name; c++) {
        snprintf(text, sizeof text, "mysql://u@h/db?position=%s", pos->choices[c].name);
        sl_url_t *u;
        assert_int_equal(sl_url_parse(text, &u, &err), 0);
        sl_my_posmode_t mode;
        assert_int_equal(sl_my_posmode_parse(u, &mode, &err), 0);
        assert_string_equal(sl_my_posmode_name(mode), pos->choices[c].name);
        sl_url_free(u);
    }
    sl_url_t *u;
    assert_int_equal(sl_url_parse("mysql://u@h/db?position=lsn", &u, &err), 0);
    sl_my_posmode_t mode;
    assert_int_equal(sl_my_posmode_parse(u, &mode, &err), -1);
    sl_url_free(u);
    /* postgres sslmode: libpq's default is the table's */
    const sl_opt_t *ssl = sl_opt_find(sl_options_table("postgres"), "sslmode");
    assert_non_null(ssl);
    PQconninfoOption *d = PQconndefaults();
    bool found = false;
    for (PQconninfoOption *p = d; p && p->keyword; p++)
        if (!strcmp(p->keyword, "sslmode")) {
            found = true;
            assert_string_equal(p->compiled ? p->compiled : "", ssl->dflt);
        }
    PQconninfoFree(d);
    assert_true(found);
    assert_true(sl_opt_choice(ssl, ssl->dflt) >= 0);
}

static void json_schema_and_markdown(void **state)
{
    (void)state;
    json_t *j = sl_options_json();
    json_t *opts = json_object_get(j, "options");
    assert_int_equal(json_array_size(opts), (size_t)sl_spec_option_table.n);
    json_t *wm = NULL, *br = NULL;
    size_t i;
    json_t *r;
    json_array_foreach(opts, i, r)
    {
        if (!strcmp(json_string_value(json_object_get(r, "name")), "write_mode"))
            wm = r;
        if (!strcmp(json_string_value(json_object_get(r, "name")), "batch_rows"))
            br = r;
    }
    assert_non_null(wm);
    assert_non_null(br);
    assert_int_equal(json_integer_value(json_object_get(br, "max")), 1000000);
    assert_int_equal(json_integer_value(json_object_get(br, "default")), 100000);
    json_t *up = json_array_get(json_object_get(wm, "choices"), 1);
    assert_string_equal(json_string_value(json_object_get(up, "value")), "upsert");
    assert_int_equal(json_array_size(json_object_get(up, "modes")), 0);
    json_t *urls = json_object_get(j, "url_parameters");
    assert_int_equal(json_array_size(urls), 4);
    assert_string_equal(json_string_value(json_object_get(json_array_get(urls, 2), "name")), "file");
    assert_string_equal(json_string_value(json_array_get(json_object_get(json_array_get(urls, 2), "schemes"), 1)), "s3");
    json_decref(j);

    json_t *s = sl_options_schema();
    assert_true(json_is_false(json_object_get(s, "additionalProperties")));
    json_t *p = json_object_get(s, "properties");
    assert_int_equal(json_object_size(p), (size_t)sl_spec_option_table.n);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(p, "batch_bytes"), "minimum")), 65536);
    json_t *e = json_object_get(json_object_get(p, "write_mode"), "enum");
    assert_int_equal(json_array_size(e), 2); /* insert, truncate_insert: not upsert */
    assert_string_equal(json_string_value(json_object_get(json_object_get(p, "ordering"), "type")), "string");
    json_decref(s);

    char *md = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&md, &len);
    sl_options_markdown(&sl_spec_option_table, f);
    fclose(f);
    assert_non_null(strstr(md, "| `batch_rows` | int | `100000` | 1 to 1000000 | all |"));
    assert_non_null(strstr(md, "`upsert` (not built yet)"));
    assert_non_null(strstr(md, "| `ordering` | enum | `transaction` | `transaction`, `key` | cdc |"));
    free(md);
}

/* The OpenAPI document takes a spec's "options" from the table, and lists GET
 * /api/v1/options behind the key like every /api route. */
static void openapi_from_the_table(void **state)
{
    (void)state;
    json_t *doc = sl_route_openapi("test");
    json_t *opts = json_object_get(
        json_object_get(json_object_get(json_object_get(json_object_get(doc, "components"), "schemas"),
                                        "StreamSpec"),
                        "properties"),
        "options");
    assert_true(json_is_false(json_object_get(opts, "additionalProperties")));
    json_t *br = json_object_get(json_object_get(opts, "properties"), "batch_rows");
    assert_int_equal(json_integer_value(json_object_get(br, "maximum")), 1000000);
    json_t *get = json_object_get(json_object_get(json_object_get(doc, "paths"), "/api/v1/options"), "get");
    assert_non_null(get);
    assert_null(json_object_get(get, "security")); /* the document's default: the bearer key */
    json_decref(doc);
    sl_route_match_t m;
    assert_int_equal(sl_route_match("GET", "/api/v1/options", &m), SL_MATCH_OK);
    assert_int_equal(m.route->access, SL_ACCESS_READ);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spec_rows_match_the_parser),
        cmocka_unit_test(file_rows_match_the_parser),
        cmocka_unit_test(s3_rows_match_the_parser),
        cmocka_unit_test(database_rows_match_their_readers),
        cmocka_unit_test(json_schema_and_markdown),
        cmocka_unit_test(openapi_from_the_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
