/*
 * verify.c: `sluice verify SPEC.json|- [--table T] [--json] [--report FILE]`: per table,
 * row counts and an order-independent checksum of canonicalised values on both sides.
 * Exit 0 when every table is equal, 1 on any difference, 2 when a side could not be
 * read.
 *
 * The result is one JSON report (docs/api.md "Verify"), printed as a table or as JSON;
 * `sluice server` runs this command as a child for POST /api/v1/streams/{id}/verify
 * (the resolved spec on stdin, the report written to a file) and `sluice stream verify`
 * prints the report it gets back with the same sl_verify_print.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/client.h"
#include "core/log.h"
#include "core/mem.h"
#include "engine/spec.h"
#include "engine/verify.h"
#include "source/source.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: sluice verify SPEC.json|- [--table NAME]... [--json] [--report FILE]\n"
               "\n"
               "Compares every table of the spec (or the named ones) between source and target:\n"
               "row counts and an order-independent checksum of the values, normalised so that\n"
               "the same value compares equal across engines. Prints one line per table and,\n"
               "for a table that differs, sample keys of missing, extra or different rows.\n"
               "It compares under the spec's mapping (docs/mapping.md); rows options.on_error\n"
               "\"reject\" recorded in _sluice_rejects are counted apart, not as differences.\n"
               "- reads the spec from standard input.\n"
               "\n"
               "  --json         print the report as JSON (docs/api.md \"Verify\")\n"
               "  --report FILE  also write the JSON report to FILE\n"
               "\n"
               "exit status: 0 all equal, 1 a difference was found, 2 an error.\n");
}

static json_t *table_json(const sl_verify_result_t *r)
{
    json_t *samples = json_array();
    for (int k = 0; k < r->nsamples; k++)
        json_array_append_new(samples, json_string(r->samples[k]));
    bool compared = !r->problem[0];
    json_t *t = json_pack("{s:s, s:o, s:o, s:o, s:o, s:I, s:b, s:o, s:o}", "table", r->table, "source_rows",
                          compared ? json_integer(r->source_rows) : json_null(), "target_rows",
                          compared ? json_integer(r->target_rows) : json_null(), "source_checksum",
                          compared ? json_string(r->source_checksum) : json_null(), "target_checksum",
                          compared ? json_string(r->target_checksum) : json_null(), "rejected",
                          (json_int_t)r->rejected, "equal", compared && r->equal,
                          "problem", compared ? json_null() : json_string(r->problem), "samples", samples);
    if (!t)
        sl_oom();
    return t;
}

static json_t *err_json(const sl_err_t *err)
{
    json_t *e = json_pack("{s:s}", "message", err->message);
    if (err->detail[0])
        json_object_set_new(e, "detail", json_string(err->detail));
    if (err->hint[0])
        json_object_set_new(e, "hint", json_string(err->hint));
    return e;
}

/* Writes text to path through a temp file and a rename, so a reader sees all or nothing. */
static int write_atomic(const char *path, const char *text, sl_err_t *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f)
        return sl_err_set(err, SL_E_IO, "could not write report \"%s\": %m", tmp);
    bool ok = fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path)) {
        unlink(tmp);
        return sl_err_set(err, SL_E_IO, "could not write report \"%s\"", path);
    }
    return 0;
}

int sl_verify_print(const json_t *report, FILE *out)
{
    const json_t *error = json_object_get(report, "error");
    const json_t *tables = json_object_get(report, "tables");
    if (json_array_size(tables) > 0)
        fprintf(out, "%-32s %14s %14s  %s\n", "table", "source rows", "target rows", "result");
    size_t i;
    json_t *t;
    int differ = 0;
    json_array_foreach(tables, i, t)
    {
        const char *name = json_string_value(json_object_get(t, "table"));
        const char *problem = json_string_value(json_object_get(t, "problem"));
        bool equal = json_is_true(json_object_get(t, "equal"));
        if (!equal)
            differ++;
        if (problem) {
            fprintf(out, "%-32s %14s %14s  DIFFERENT: %s\n", name ? name : "?", "-", "-", problem);
            continue;
        }
        json_int_t rejected = json_integer_value(json_object_get(t, "rejected"));
        char rej[48] = "";
        if (rejected > 0)
            snprintf(rej, sizeof rej, " (%" JSON_INTEGER_FORMAT " rejected)", rejected);
        fprintf(out, "%-32s %14" JSON_INTEGER_FORMAT " %14" JSON_INTEGER_FORMAT "  %s%s\n", name ? name : "?",
                json_integer_value(json_object_get(t, "source_rows")),
                json_integer_value(json_object_get(t, "target_rows")), equal ? "equal" : "DIFFERENT", rej);
        size_t k;
        json_t *s;
        json_array_foreach(json_object_get(t, "samples"), k, s) fprintf(out, "    %s\n", json_string_value(s));
    }
    if (json_is_object(error)) {
        sl_err_t err = {0};
        sl_client_err_from_json(error, SL_E_INTERNAL, &err);
        sl_cli_print_err(&err);
        return SL_EXIT_USAGE;
    }
    if (differ)
        fprintf(out, "%d of %zu tables differ\n", differ, json_array_size(tables));
    else
        fprintf(out, "all %zu tables equal\n", json_array_size(tables));
    return differ ? SL_EXIT_DIFF : SL_EXIT_OK;
}

/* Compares the tables of spec (or only[0..nonly)) into report's "tables"; a side that
 * cannot be read is an error (err), the tables compared so far stay in the report. */
static int compare(const sl_spec_t *spec, char **only, int nonly, json_t *tables, sl_err_t *err)
{
    sl_source_t *src = NULL, *tgt = NULL;
    char **names = NULL;
    int nnames = 0, rc = -1;
    if (sl_source_open(spec->source_url, &src, err)) {
        sl_err_prefix(err, "source: ");
        goto out;
    }
    if (sl_source_open(spec->target_url, &tgt, err)) {
        sl_err_prefix(err, "target: ");
        goto out;
    }
    if (nonly) {
        names = calloc((size_t)nonly, sizeof *names);
        for (int i = 0; i < nonly; i++)
            names[i] = strdup(only[i]);
        nnames = nonly;
    } else if (!sl_spec_all_tables(spec)) {
        names = calloc((size_t)spec->ntables, sizeof *names);
        for (int i = 0; i < spec->ntables; i++)
            names[i] = strdup(spec->tables[i]);
        nnames = spec->ntables;
    } else if (src->ops->list_tables(src, &names, &nnames, err)) {
        sl_err_prefix(err, "source: ");
        goto out;
    }
    for (int i = 0; i < nnames; i++) {
        sl_verify_result_t res;
        if (sl_verify_table(src, tgt, spec, names[i], &res, err))
            goto out;
        /* a line per table for whoever follows the log (the server's job) */
        sl_info("verify: table %s (%d of %d): %s", res.table, i + 1, nnames,
                res.problem[0] ? res.problem : res.equal ? "equal" : "DIFFERENT");
        json_array_append_new(tables, table_json(&res));
    }
    rc = 0;
out:
    for (int i = 0; i < nnames; i++)
        free(names[i]);
    free(names);
    sl_source_close(src);
    sl_source_close(tgt);
    return rc;
}

int sl_cli_verify(int argc, char **argv)
{
    static const struct option longopts[] = {{"table", required_argument, NULL, 't'},
                                             {"json", no_argument, NULL, 'j'},
                                             {"report", required_argument, NULL, 'r'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    char **only = NULL;
    const char *report_file = NULL;
    bool as_json = false;
    int nonly = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 't') {
            only = realloc(only, sizeof *only * (size_t)(nonly + 1));
            only[nonly++] = optarg;
        } else if (c == 'j') {
            as_json = true;
        } else if (c == 'r') {
            report_file = optarg;
        } else if (c == 'h') {
            usage(stdout);
            free(only);
            return SL_EXIT_OK;
        } else {
            usage(stderr);
            free(only);
            return SL_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        free(only);
        return SL_EXIT_USAGE;
    }
    sl_err_t err = {0};
    sl_spec_t *spec = NULL;
    json_t *tables = json_array();
    int rc = sl_spec_load_file(argv[optind], &spec, &err);
    if (rc == 0 && (rc = compare(spec, only, nonly, tables, &err)) != 0)
        sl_spec_password_hint(spec, &err);
    bool equal = rc == 0;
    size_t i;
    json_t *t;
    json_array_foreach(tables, i, t) equal = equal && json_is_true(json_object_get(t, "equal"));
    json_t *report = json_pack("{s:o, s:b, s:o, s:o}", "stream", spec ? json_string(spec->name) : json_null(),
                               "equal", equal, "tables", tables, "error", rc ? err_json(&err) : json_null());
    int exit_code;
    if (as_json) {
        char *text = json_dumps(report, JSON_COMPACT);
        puts(text);
        free(text);
        exit_code = rc ? SL_EXIT_USAGE : equal ? SL_EXIT_OK : SL_EXIT_DIFF;
        if (rc)
            sl_cli_print_err(&err);
    } else {
        exit_code = sl_verify_print(report, stdout);
    }
    fflush(stdout);
    if (report_file) {
        char *text = json_dumps(report, JSON_COMPACT);
        sl_err_t werr = {0};
        if (write_atomic(report_file, text, &werr)) {
            sl_cli_print_err(&werr);
            exit_code = SL_EXIT_USAGE;
        }
        free(text);
    }
    json_decref(report);
    free(only);
    sl_spec_free(spec);
    return exit_code;
}
