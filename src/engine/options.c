/*
 * options.c: the catalogue of property tables and its Markdown, JSON and JSON Schema
 * forms (see options.h).
 *
 * The tables of postgres:// and mysql:// URL parameters live here: their values are read
 * by db/pg/ (libpq takes sslmode and checks it) and source/mysql/gtid.c (position), which
 * tests/unit/engine/test_options.c holds to these rows. The spec's options and the file
 * and S3 parameters live beside the parsers they drive.
 */
#include "engine/options.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "engine/spec.h"
#include "target/store/s3_conf.h"

extern const sl_opt_table_t sl_file_url_params; /* target/file/file_opts.c */

#define ALL SL_OPT_MODES
#define BOTH (SL_OPT_SOURCE | SL_OPT_TARGET)

static const sl_opt_t pg_rows[] = {
    {.name = "schema", .type = SL_OPT_STRING, .dflt = "public", .modes = ALL, .roles = BOTH,
     .doc = "source: the schema of unqualified table names; target: the schema tables are created in "
            "(it must exist)"},
    {.name = "sslmode", .type = SL_OPT_ENUM,
     .choices = {{"disable", ALL}, {"allow", ALL}, {"prefer", ALL}, {"require", ALL}, {"verify-ca", ALL},
                 {"verify-full", ALL}},
     .dflt = "prefer", .modes = ALL, .roles = BOTH, .doc = "TLS to the server, as libpq's sslmode"},
};

static const sl_opt_t my_rows[] = {
    {.name = "position", .type = SL_OPT_ENUM, .choices = {{"auto", ALL}, {"gtid", ALL}, {"file", ALL}},
     .dflt = "auto", .modes = SL_OPT_CDC, .roles = SL_OPT_SOURCE,
     .doc = "how a cdc stream keeps its place: auto (MariaDB GTIDs when the binlog has one GTID domain, "
            "else binlog file and offset), gtid or file (docs/cdc.md)"},
};

static const sl_opt_table_t pg_params = {.name = "postgres",
                                         .title = "PostgreSQL URL parameters",
                                         .schemes = {"postgres", "postgresql"},
                                         .rows = pg_rows,
                                         .n = (int)(sizeof pg_rows / sizeof pg_rows[0])};
static const sl_opt_table_t my_params = {.name = "mysql",
                                         .title = "MariaDB/MySQL URL parameters",
                                         .schemes = {"mysql", "mariadb"},
                                         .rows = my_rows,
                                         .n = (int)(sizeof my_rows / sizeof my_rows[0])};

static const sl_opt_table_t *const tables[] = {&sl_spec_option_table, &pg_params, &my_params,
                                               &sl_file_url_params, &sl_s3_url_params};
#define NTABLES (int)(sizeof tables / sizeof tables[0])

const sl_opt_table_t *const *sl_options_tables(int *n)
{
    *n = NTABLES;
    return tables;
}

const sl_opt_table_t *sl_options_table(const char *name)
{
    for (int i = 0; i < NTABLES; i++)
        if (strcmp(tables[i]->name, name) == 0)
            return tables[i];
    return NULL;
}

static bool bounded(const sl_opt_t *o)
{
    return o->type == SL_OPT_INT || o->type == SL_OPT_BYTES;
}

/* ---- Markdown ------------------------------------------------------------------- */

static void md_values(const sl_opt_t *o, FILE *out)
{
    switch (o->type) {
    case SL_OPT_BOOL:
        fputs("`true`, `false`", out);
        break;
    case SL_OPT_INT:
    case SL_OPT_BYTES:
        if (o->max == SL_OPT_NO_MAX)
            fprintf(out, "%" PRId64 " or more", o->min);
        else
            fprintf(out, "%" PRId64 " to %" PRId64, o->min, o->max);
        if (o->type == SL_OPT_BYTES)
            fputs(" (bytes; `K`, `M`, `G` suffixes)", out);
        break;
    case SL_OPT_ENUM:
        for (int c = 0; c < SL_OPT_NCHOICES && o->choices[c].name; c++) {
            const sl_opt_choice_t *ch = &o->choices[c];
            fprintf(out, "%s`%s`", c ? ", " : "", ch->name);
            if (!ch->modes)
                fputs(" (not built yet)", out);
            else if (ch->modes != ALL && ch->modes != o->modes)
                fprintf(out, " (%s only)", sl_opt_mode_name(ch->modes));
            if (ch->when)
                fprintf(out, " (%s)", ch->when);
        }
        break;
    case SL_OPT_CHAR:
        fputs("one character, or `tab`", out);
        break;
    case SL_OPT_STRING:
        fputs("text", out);
        break;
    case SL_OPT_MAP:
        fputs("an object of texts", out);
        break;
    }
}

/* "cdc; source; format=csv": what restricts where the row applies ("all": nothing). */
static void md_applies(const sl_opt_t *o, FILE *out)
{
    const char *sep = "";
    if (o->modes != ALL) {
        fputs(sl_opt_mode_name(o->modes), out);
        sep = "; ";
    }
    if (o->roles == SL_OPT_SOURCE) {
        fprintf(out, "%ssource", sep);
        sep = "; ";
    }
    if (o->when) {
        fprintf(out, "%s%s", sep, o->when);
        sep = "; ";
    }
    if (!*sep)
        fputs("all", out);
}

void sl_options_markdown(const sl_opt_table_t *t, FILE *out)
{
    fprintf(out, "| %s | type | default | values | applies to | meaning |\n|---|---|---|---|---|---|\n",
            t->schemes[0] ? "parameter" : "option");
    for (int i = 0; i < t->n; i++) {
        const sl_opt_t *o = &t->rows[i];
        fprintf(out, "| `%s` | %s | ", o->name, sl_opt_type_name(o->type));
        if (o->dflt)
            fprintf(out, "`%s`", o->dflt);
        else
            fputs(o->dflt_doc ? o->dflt_doc : "none", out);
        fputs(" | ", out);
        md_values(o, out);
        fputs(" | ", out);
        md_applies(o, out);
        fprintf(out, " | %s |\n", o->doc);
    }
}

/* ---- JSON ------------------------------------------------------------------------ */

static json_t *modes_json(unsigned modes)
{
    json_t *a = json_array();
    if (modes & SL_OPT_LOAD)
        json_array_append_new(a, json_string("load"));
    if (modes & SL_OPT_CDC)
        json_array_append_new(a, json_string("cdc"));
    return a;
}

/* The default as a JSON value of the row's type (bytes keep their suffix: a string). */
static json_t *default_json(const sl_opt_t *o)
{
    if (!o->dflt)
        return json_null();
    if (o->type == SL_OPT_BOOL)
        return json_boolean(strcmp(o->dflt, "true") == 0);
    if (o->type == SL_OPT_INT)
        return json_integer(strtoll(o->dflt, NULL, 10));
    if (o->type == SL_OPT_MAP)
        return json_loads(o->dflt, 0, NULL);
    return json_string(o->dflt);
}

/* The bounds of an INT or BYTES row under the given keys (no max key when unbounded). */
static void set_bounds(json_t *j, const sl_opt_t *o, const char *min_key, const char *max_key)
{
    if (!bounded(o))
        return;
    json_object_set_new(j, min_key, json_integer(o->min));
    if (o->max != SL_OPT_NO_MAX)
        json_object_set_new(j, max_key, json_integer(o->max));
}

static json_t *row_json(const sl_opt_t *o)
{
    json_t *j = json_pack("{s:s, s:s, s:o}", "name", o->name, "type", sl_opt_type_name(o->type),
                          "default", default_json(o));
    if (!o->dflt && o->dflt_doc)
        json_object_set_new(j, "default_doc", json_string(o->dflt_doc));
    set_bounds(j, o, "min", "max");
    if (o->type == SL_OPT_ENUM) {
        json_t *cs = json_array();
        for (int c = 0; c < SL_OPT_NCHOICES && o->choices[c].name; c++) {
            json_t *cj = json_pack("{s:s, s:o}", "value", o->choices[c].name, "modes",
                                   modes_json(o->choices[c].modes));
            if (o->choices[c].when)
                json_object_set_new(cj, "when", json_string(o->choices[c].when));
            json_array_append_new(cs, cj);
        }
        json_object_set_new(j, "choices", cs);
    }
    json_object_set_new(j, "modes", modes_json(o->modes));
    if (o->roles) {
        json_t *r = json_array();
        if (o->roles & SL_OPT_SOURCE)
            json_array_append_new(r, json_string("source"));
        if (o->roles & SL_OPT_TARGET)
            json_array_append_new(r, json_string("target"));
        json_object_set_new(j, "roles", r);
    }
    if (o->when)
        json_object_set_new(j, "when", json_string(o->when));
    json_object_set_new(j, "doc", json_string(o->doc));
    return j;
}

static json_t *rows_json(const sl_opt_table_t *t)
{
    json_t *a = json_array();
    for (int i = 0; i < t->n; i++)
        json_array_append_new(a, row_json(&t->rows[i]));
    return a;
}

json_t *sl_options_json(void)
{
    json_t *urls = json_array();
    for (int i = 0; i < NTABLES; i++) {
        const sl_opt_table_t *t = tables[i];
        if (!t->schemes[0])
            continue;
        json_t *schemes = json_array();
        for (int s = 0; s < 4 && t->schemes[s]; s++)
            json_array_append_new(schemes, json_string(t->schemes[s]));
        json_array_append_new(urls, json_pack("{s:s, s:s, s:o, s:o}", "name", t->name, "title", t->title,
                                              "schemes", schemes, "parameters", rows_json(t)));
    }
    return json_pack("{s:o, s:o}", "options", rows_json(&sl_spec_option_table), "url_parameters", urls);
}

json_t *sl_options_schema(void)
{
    static const char *const types[] = {[SL_OPT_BOOL] = "boolean", [SL_OPT_INT] = "integer",
                                        [SL_OPT_BYTES] = "integer", [SL_OPT_ENUM] = "string",
                                        [SL_OPT_CHAR] = "string",   [SL_OPT_STRING] = "string",
                                        [SL_OPT_MAP] = "object"};
    const sl_opt_table_t *t = &sl_spec_option_table;
    json_t *props = json_object();
    for (int i = 0; i < t->n; i++) {
        const sl_opt_t *o = &t->rows[i];
        json_t *p = json_pack("{s:s, s:o}", "type", types[o->type], "default", default_json(o));
        set_bounds(p, o, "minimum", "maximum");
        if (o->type == SL_OPT_MAP)
            json_object_set_new(p, "additionalProperties", json_pack("{s:s}", "type", "string"));
        if (o->type == SL_OPT_ENUM) {
            /* only what some mode accepts: a listed choice not built yet is refused */
            json_t *e = json_array();
            for (int c = 0; c < SL_OPT_NCHOICES && o->choices[c].name; c++)
                if (o->choices[c].modes)
                    json_array_append_new(e, json_string(o->choices[c].name));
            json_object_set_new(p, "enum", e);
        }
        char desc[512];
        snprintf(desc, sizeof desc, "%s%s%s", o->modes == ALL ? "" : sl_opt_mode_name(o->modes),
                 o->modes == ALL ? "" : " only: ", o->doc);
        json_object_set_new(p, "description", json_string(desc));
        json_object_set_new(props, o->name, p);
    }
    return json_pack("{s:s, s:b, s:o}", "type", "object", "additionalProperties", 0, "properties", props);
}
