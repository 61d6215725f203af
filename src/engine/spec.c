/*
 * spec.c: parsing and validating stream specs (see spec.h).
 */
#include "engine/spec.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/url.h"
#include "filter/filter.h"
#include "model/schema.h"
#include "source/source.h"
#include "target/target.h"

/* The option property table (core/opt.h): one row per field of "options", in the order
 * of offs[] below. It drives parsing here and everything that describes the options
 * (engine/options.c: `sluice options`, docs/spec.md, GET /api/v1/options, the UI). */
static const sl_opt_t rows[] = {
    {.name = "initial_load", .type = SL_OPT_BOOL, .dflt = "true", .modes = SL_OPT_CDC,
     .doc = "copy the tables from a consistent snapshot before streaming changes"},
    {.name = "writers", .type = SL_OPT_INT, .min = 0, .max = 64, .dflt = "0", .modes = SL_OPT_MODES,
     .doc = "parallel writer lanes, each with its own target connection (0 = one per two CPU cores, 1 to 4)"},
    {.name = "readers", .type = SL_OPT_INT, .min = 0, .max = 64, .dflt = "0", .modes = SL_OPT_MODES,
     .doc = "parallel reader connections sharing one snapshot (0 = as many as writers)"},
    {.name = "batch_rows", .type = SL_OPT_INT, .min = 1, .max = SL_BATCH_MAX_ROWS, .dflt = "100000",
     .modes = SL_OPT_MODES, .doc = "most rows in one batch (one target transaction); batch_bytes bounds it too"},
    {.name = "batch_bytes", .type = SL_OPT_INT, .min = 65536, .max = 64 << 20, .dflt = "4194304",
     .modes = SL_OPT_MODES, .doc = "most bytes in one batch on the broker; a larger row is refused"},
    {.name = "chunk_rows", .type = SL_OPT_INT, .min = 1000, .max = 1 << 30, .dflt = "250000",
     .modes = SL_OPT_MODES, .doc = "rows per key-range chunk (the unit of resume and of read parallelism)"},
    {.name = "schema", .type = SL_OPT_ENUM,
     .choices = {{"create_missing", SL_OPT_MODES}, {"recreate", SL_OPT_MODES}, {"none", SL_OPT_MODES}},
     .dflt = "create_missing", .modes = SL_OPT_MODES,
     .doc = "create_missing: create absent tables; recreate: drop and create; none: tables must exist"},
    {.name = "write_mode", .type = SL_OPT_ENUM,
     .choices = {{"insert", SL_OPT_MODES}, {"upsert", 0}, {"truncate_insert", SL_OPT_MODES}},
     .dflt = "insert", .modes = SL_OPT_MODES,
     .doc = "insert: target tables must be empty; truncate_insert: empty them first"},
    {.name = "ordering", .type = SL_OPT_ENUM,
     .choices = {{"transaction", SL_OPT_MODES}, {"key", SL_OPT_MODES}}, .dflt = "transaction",
     .modes = SL_OPT_CDC, .doc = "apply whole source transactions in commit order, or lanes by key"},
    {.name = "table_errors", .type = SL_OPT_ENUM,
     .choices = {{"stop_stream", SL_OPT_MODES}, {"stop_table", SL_OPT_MODES}}, .dflt = "stop_stream",
     .modes = SL_OPT_CDC,
     .doc = "a table whose changes the target refuses stops the whole stream, or only itself (resync it once fixed)"},
    {.name = "placement", .type = SL_OPT_ENUM,
     .choices = {{"local", SL_OPT_MODES}, {"workers", SL_OPT_LOAD}, {"any", SL_OPT_LOAD}}, .dflt = "local",
     .modes = SL_OPT_MODES,
     .doc = "where writer lanes and read stripes run: local (the stream's own process), workers "
            "(`sluice worker` processes on the NATS cluster) or any (both); docs/cluster.md"},
    {.name = "on_error", .type = SL_OPT_ENUM, .choices = {{"fail", SL_OPT_MODES}, {"reject", SL_OPT_MODES}},
     .dflt = "fail", .modes = SL_OPT_MODES,
     .doc = "a value the target cannot store: fail the stream, or reject the row (recorded in _sluice_rejects; "
            "docs/mapping.md)"},
    {.name = "cast", .type = SL_OPT_MAP, .dflt = "{}", .modes = SL_OPT_MODES,
     .doc = "target SQL types by source type name, for every table, e.g. {\"time\": \"interval\"} "
            "(docs/mapping.md)"},
};
#define NROWS (int)(sizeof rows / sizeof rows[0])

/* Where each row's value goes in sl_options_t (bool, int, or an enum stored as int). */
static const size_t offs[] = {
    offsetof(sl_options_t, initial_load), offsetof(sl_options_t, writers),
    offsetof(sl_options_t, readers),      offsetof(sl_options_t, batch_rows),
    offsetof(sl_options_t, batch_bytes),  offsetof(sl_options_t, chunk_rows),
    offsetof(sl_options_t, schema),       offsetof(sl_options_t, write_mode),
    offsetof(sl_options_t, ordering),     offsetof(sl_options_t, table_errors),
    offsetof(sl_options_t, placement),
    offsetof(sl_options_t, on_error),     offsetof(sl_options_t, cast),
};
_Static_assert(sizeof offs / sizeof offs[0] == sizeof rows / sizeof rows[0], "one offset per row");

const sl_opt_table_t sl_spec_option_table = {
    .name = "spec", .title = "Stream options", .rows = rows, .n = NROWS};

int sl_spec_writers(const sl_spec_t *spec)
{
    if (spec->opt.writers > 0)
        return spec->opt.writers;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int n = cpus > 0 ? (int)(cpus / 2) : 1;
    return n < 1 ? 1 : n > 4 ? 4 : n;
}

static void strv_free(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void strmap_free(sl_strmap_t *m)
{
    strv_free(m->keys, m->n);
    strv_free(m->vals, m->n);
    memset(m, 0, sizeof *m);
}

const char *sl_strmap_get(const sl_strmap_t *m, const char *key)
{
    for (int i = 0; i < m->n; i++)
        if (strcmp(m->keys[i], key) == 0)
            return m->vals[i];
    return NULL;
}

static void entry_free(sl_table_spec_t *e)
{
    free(e->name);
    free(e->target);
    strv_free(e->columns, e->ncolumns);
    strv_free(e->exclude, e->nexclude);
    strmap_free(&e->rename);
    strmap_free(&e->cast);
    free(e->where);
}

void sl_spec_free(sl_spec_t *spec)
{
    if (!spec)
        return;
    free(spec->name);
    free(spec->source_url);
    for (int i = 0; i < spec->ntables; i++) {
        free(spec->tables[i]);
        if (spec->entries)
            entry_free(&spec->entries[i]);
    }
    free(spec->tables);
    free(spec->entries);
    free(spec->target_url);
    strmap_free(&spec->opt.cast);
    free(spec);
}

bool sl_table_spec_maps(const sl_table_spec_t *e)
{
    return e && (e->target || e->columns || e->exclude || e->rename.n || e->cast.n || e->where);
}

const sl_table_spec_t *sl_spec_entry(const sl_spec_t *spec, const char *schema, const char *name)
{
    for (int i = 0; spec->entries && i < spec->ntables; i++) {
        const char *n = spec->entries[i].name;
        size_t sl = schema ? strlen(schema) : 0;
        if (strcmp(n, name) == 0 || (sl && strncmp(n, schema, sl) == 0 && n[sl] == '.' && strcmp(n + sl + 1, name) == 0))
            return &spec->entries[i];
    }
    return NULL;
}

bool sl_spec_all_tables(const sl_spec_t *spec)
{
    return spec->ntables == 0 || (spec->ntables == 1 && strcmp(spec->tables[0], "*") == 0);
}

/* {"k": "v", ...} (texts, not empty) into m; `what` names the field in errors. */
static int parse_strmap(const json_t *v, const char *what, sl_strmap_t *m, sl_err_t *err)
{
    if (!json_is_object(v)) {
        sl_err_set(err, SL_E_CONFIG, "\"%s\" must be an object of texts", what);
        sl_err_hint(err, "e.g. \"%s\": {\"a\": \"b\"}; see docs/mapping.md", what);
        return -1;
    }
    size_t n = json_object_size(v);
    m->keys = calloc(n + 1, sizeof *m->keys);
    m->vals = calloc(n + 1, sizeof *m->vals);
    if (!m->keys || !m->vals)
        sl_oom();
    const char *k;
    json_t *e;
    json_object_foreach((json_t *)v, k, e)
    {
        if (!json_is_string(e) || !json_string_length(e) || !k[0]) {
            sl_err_set(err, SL_E_CONFIG, "\"%s\".\"%s\" must be a non-empty text", what, k);
            strmap_free(m);
            return -1;
        }
        m->keys[m->n] = sl_strdup(k);
        m->vals[m->n++] = sl_strdup(json_string_value(e));
    }
    return 0;
}

static int set_prop(sl_options_t *o, int row, const json_t *v, unsigned mode, sl_err_t *err)
{
    const sl_opt_t *p = &rows[row];
    char *field = (char *)o + offs[row];
    switch (p->type) {
    case SL_OPT_BOOL:
        if (!json_is_boolean(v)) {
            sl_err_set(err, SL_E_CONFIG, "option \"%s\" must be true or false", p->name);
            sl_err_hint(err, "write it without quotes: \"%s\": %s", p->name, p->dflt);
            return -1;
        }
        *(bool *)field = json_is_true(v);
        return 0;
    case SL_OPT_INT:
        if (!json_is_integer(v) || json_integer_value(v) < p->min || json_integer_value(v) > p->max) {
            sl_err_set(err, SL_E_CONFIG, "option \"%s\" must be an integer from %" PRId64 " to %" PRId64,
                       p->name, p->min, p->max);
            sl_err_hint(err, "leave it out for the default, \"%s\": %s", p->name, p->dflt);
            return -1;
        }
        *(int *)field = (int)json_integer_value(v);
        return 0;
    case SL_OPT_ENUM: {
        int c = json_is_string(v) ? sl_opt_choice(p, json_string_value(v)) : -1;
        if (c >= 0) {
            *(int *)field = c;
            return 0;
        }
        char list[256];
        sl_err_set(err, SL_E_CONFIG, "option \"%s\" has an invalid value", p->name);
        sl_err_hint(err, "use one of: %s", sl_opt_choices_text(p, mode, list, sizeof list));
        return -1;
    }
    case SL_OPT_MAP: {
        sl_strmap_t m = {0};
        if (parse_strmap(v, p->name, &m, err))
            return -1;
        strmap_free((sl_strmap_t *)field);
        *(sl_strmap_t *)field = m;
        return 0;
    }
    default:
        break;
    }
    return sl_err_set(err, SL_E_INTERNAL, "option \"%s\" has a type specs do not take", p->name);
}

/* A choice the table lists but the spec's mode does not accept (write_mode "upsert"). */
static int check_choices(const sl_options_t *o, sl_mode_t mode, sl_err_t *err)
{
    unsigned bit = mode == SL_MODE_CDC ? SL_OPT_CDC : SL_OPT_LOAD;
    for (int i = 0; i < NROWS; i++) {
        const sl_opt_t *p = &rows[i];
        if (p->type != SL_OPT_ENUM || !(p->modes & bit))
            continue;
        const sl_opt_choice_t *c = &p->choices[*(const int *)((const char *)o + offs[i])];
        if (c->modes & bit)
            continue;
        char list[256];
        if (c->modes)
            sl_err_set(err, SL_E_CONFIG, "%s \"%s\" is for %s streams only", p->name, c->name,
                       sl_opt_mode_name(c->modes));
        else
            sl_err_set(err, SL_E_CONFIG, "%s \"%s\" is not built yet for %s", p->name, c->name,
                       mode == SL_MODE_CDC ? "cdc streams" : "loads");
        sl_err_hint(err, "use one of: %s", sl_opt_choices_text(p, bit, list, sizeof list));
        return -1;
    }
    return 0;
}

static int set_defaults(sl_options_t *o, sl_err_t *err)
{
    for (int i = 0; i < NROWS; i++) {
        json_error_t je;
        json_t *v = json_loads(rows[i].dflt, JSON_DECODE_ANY, &je);
        if (!v)
            v = json_string(rows[i].dflt);
        int rc = set_prop(o, i, v, SL_OPT_MODES, err);
        json_decref(v);
        if (rc)
            return rc;
    }
    return 0;
}

/* Rejects any key of obj not in allowed (NULL-terminated). */
static int check_keys(const json_t *obj, const char *where, const char *const *allowed, sl_err_t *err)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        bool ok = false;
        for (int i = 0; allowed[i]; i++)
            ok = ok || strcmp(k, allowed[i]) == 0;
        if (!ok) {
            sl_err_set(err, SL_E_CONFIG, "unknown field \"%s\" in %s", k, where);
            char list[256] = "";
            for (int i = 0; allowed[i]; i++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                         allowed[i]);
            sl_err_hint(err, "fields allowed in %s: %s", where, list);
            return -1;
        }
    }
    return 0;
}

/* A list of column names (non-empty texts) into *out. */
static int parse_names(const json_t *a, const char *what, char ***out, int *n, sl_err_t *err)
{
    if (!json_is_array(a) || json_array_size(a) == 0)
        return sl_err_set(err, SL_E_CONFIG, "%s must be a non-empty array of column names", what);
    *out = calloc(json_array_size(a), sizeof **out);
    if (!*out)
        sl_oom();
    size_t i;
    json_t *e;
    json_array_foreach((json_t *)a, i, e)
    {
        if (!json_is_string(e) || !json_string_length(e))
            return sl_err_set(err, SL_E_CONFIG, "%s[%zu] must be a column name", what, i);
        (*out)[(*n)++] = sl_strdup(json_string_value(e));
    }
    return 0;
}

/* One entry of source.tables: a name, or {"name", "target", "columns", "exclude",
 * "rename", "cast", "where"} (docs/mapping.md). A filter is parsed here so that a typo is
 * an invalid spec (`sluice check` exit code 2), and bound once the table is described. */
static int parse_entry(const json_t *e, size_t i, sl_table_spec_t *en, sl_err_t *err)
{
    static const char *const keys[] = {"name", "target", "columns", "exclude", "rename", "cast", "where", NULL};
    char where[96];
    snprintf(where, sizeof where, "\"source\".tables[%zu]", i);
    if (json_is_string(e) && json_string_length(e)) {
        en->name = sl_strdup(json_string_value(e));
        return 0;
    }
    if (!json_is_object(e)) {
        sl_err_set(err, SL_E_CONFIG, "%s must be a table name or an object", where);
        sl_err_hint(err, "e.g. \"orders\" or {\"name\": \"orders\", \"exclude\": [\"notes\"]}; see docs/mapping.md");
        return -1;
    }
    if (check_keys(e, where, keys, err))
        return -1;
    const json_t *name = json_object_get(e, "name"), *target = json_object_get(e, "target");
    if (!json_is_string(name) || !json_string_length(name))
        return sl_err_set(err, SL_E_CONFIG, "%s needs a \"name\": the source table", where);
    en->name = sl_strdup(json_string_value(name));
    snprintf(where, sizeof where, "table \"%s\"", en->name);
    if (target && (!json_is_string(target) || !json_string_length(target)))
        return sl_err_set(err, SL_E_CONFIG, "%s: \"target\" must be a table name", where);
    en->target = target ? sl_strdup(json_string_value(target)) : NULL;
    char what[160];
    const json_t *v;
    snprintf(what, sizeof what, "%s: \"columns\"", where);
    if ((v = json_object_get(e, "columns")) && parse_names(v, what, &en->columns, &en->ncolumns, err))
        return -1;
    snprintf(what, sizeof what, "%s: \"exclude\"", where);
    if ((v = json_object_get(e, "exclude")) && parse_names(v, what, &en->exclude, &en->nexclude, err))
        return -1;
    snprintf(what, sizeof what, "%s: rename", where);
    if ((v = json_object_get(e, "rename")) && parse_strmap(v, what, &en->rename, err))
        return -1;
    snprintf(what, sizeof what, "%s: cast", where);
    if ((v = json_object_get(e, "cast")) && parse_strmap(v, what, &en->cast, err))
        return -1;
    if ((v = json_object_get(e, "where"))) {
        if (!json_is_string(v) || !json_string_length(v))
            return sl_err_set(err, SL_E_CONFIG, "%s: \"where\" must be a condition", where);
        sl_filter_t *f = NULL;
        if (sl_filter_parse(json_string_value(v), &f, err)) {
            sl_err_prefix(err, "%s: where: ", where);
            return -1;
        }
        sl_filter_free(f);
        en->where = sl_strdup(json_string_value(v));
    }
    return 0;
}

int sl_table_spec_parse(const json_t *e, size_t i, sl_table_spec_t *out, sl_err_t *err)
{
    memset(out, 0, sizeof *out);
    if (parse_entry(e, i, out, err) == 0)
        return 0;
    sl_table_spec_clear(out);
    return -1;
}

void sl_table_spec_clear(sl_table_spec_t *e)
{
    entry_free(e);
    memset(e, 0, sizeof *e);
}

/* {"url": "...", "password": "...", "tables": [...]} -> url with the password merged. */
static int parse_endpoint(const json_t *j, const char *where, bool with_tables, char **url,
                          sl_spec_t *spec, sl_err_t *err)
{
    static const char *const src_keys[] = {"url", "password", "tables", "connection", NULL};
    static const char *const tgt_keys[] = {"url", "password", "connection", NULL};
    if (!json_is_object(j))
        return sl_err_set(err, SL_E_CONFIG, "\"%s\" must be an object with a \"url\"", where);
    if (check_keys(j, where, with_tables ? src_keys : tgt_keys, err))
        return -1;
    if (json_object_get(j, "connection")) {
        sl_err_set(err, SL_E_CONFIG, "\"%s\".connection needs a sluice server", where);
        sl_err_hint(err, "stored connections are managed by `sluice server`; with `sluice run` give \"url\"");
        return -1;
    }
    const json_t *u = json_object_get(j, "url");
    if (!json_is_string(u))
        return sl_err_set(err, SL_E_CONFIG, "\"%s\" needs a \"url\" string", where);
    sl_url_t *parsed;
    if (sl_url_parse(json_string_value(u), &parsed, err)) {
        sl_err_prefix(err, "%s: ", where);
        return -1;
    }
    bool known = with_tables ? sl_source_lookup(parsed->scheme) != NULL
                             : sl_target_lookup(parsed->scheme) != NULL;
    if (!known) {
        sl_err_set(err, SL_E_CONFIG, "%s: unsupported URL scheme \"%s\"", where, parsed->scheme);
        sl_err_hint(err, with_tables ? "%s URLs start with postgres:// or mysql:// (or mariadb://)"
                                     : "%s URLs start with postgres://, mysql:// (or mariadb://), "
                                       "file:// or s3://",
                    where);
        sl_url_free(parsed);
        return -1;
    }
    sl_url_free(parsed);
    const json_t *pw = json_object_get(j, "password");
    if (pw && !json_is_string(pw))
        return sl_err_set(err, SL_E_CONFIG, "\"%s\".password must be a string", where);
    if (pw) {
        *url = sl_url_with_password(json_string_value(u), json_string_value(pw));
        if (!*url)
            return sl_err_set(err, SL_E_CONFIG, "\"%s\".password given but the URL names no user", where);
        if (with_tables)
            spec->source_password = true;
        else
            spec->target_password = true;
    } else {
        *url = sl_strdup(json_string_value(u));
    }
    if (with_tables) {
        const json_t *t = json_object_get(j, "tables");
        if (t && !json_is_array(t))
            return sl_err_set(err, SL_E_CONFIG, "\"source\".tables must be an array of names");
        size_t i;
        json_t *e;
        size_t cap = json_array_size(t) + 1;
        spec->tables = calloc(cap, sizeof *spec->tables);
        spec->entries = calloc(cap, sizeof *spec->entries);
        if (!spec->tables || !spec->entries)
            sl_oom();
        json_array_foreach((json_t *)t, i, e)
        {
            sl_table_spec_t *en = &spec->entries[spec->ntables];
            if (parse_entry(e, i, en, err)) {
                entry_free(en);
                memset(en, 0, sizeof *en);
                return -1;
            }
            spec->tables[spec->ntables++] = sl_strdup(en->name);
            for (int j = 0; j + 1 < spec->ntables; j++)
                if (strcmp(spec->tables[j], en->name) == 0) {
                    sl_err_set(err, SL_E_CONFIG, "table \"%s\" is named twice in \"source\".tables", en->name);
                    sl_err_hint(err, "give each table one entry");
                    return -1;
                }
            if (!strcmp(en->name, "*") && (json_array_size(t) > 1 || sl_table_spec_maps(en))) {
                sl_err_set(err, SL_E_CONFIG, "\"*\" in \"source\".tables stands alone");
                sl_err_hint(err, "name every table in an entry of its own to map it; options.cast applies to all");
                return -1;
            }
        }
    }
    return 0;
}

/* A cdc stream into files writes its initial load with the change files' leading
 * columns (docs/files.md "CDC records"): the file target learns the mode from its URL,
 * the one thing every connection of it gets, as change_columns=true unless given. */
static void mark_change_columns(sl_spec_t *spec)
{
    sl_url_t *u = NULL;
    sl_err_t ignored;
    if (spec->mode != SL_MODE_CDC || sl_url_parse(spec->target_url, &u, &ignored))
        return;
    bool files = !strcmp(u->scheme, "file") || !strcmp(u->scheme, "s3");
    bool given = sl_url_param(u, "change_columns") != NULL;
    sl_url_free(u);
    if (!files || given)
        return;
    size_t n = strlen(spec->target_url) + 24;
    char *url = malloc(n);
    if (!url)
        sl_oom();
    snprintf(url, n, "%s%cchange_columns=true", spec->target_url, strchr(spec->target_url, '?') ? '&' : '?');
    free(spec->target_url);
    spec->target_url = url;
}

int sl_spec_parse(const char *text, sl_spec_t **out, sl_err_t *err)
{
    static const char *const top_keys[] = {"name", "mode", "source", "target", "options", NULL};
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    if (!root) {
        sl_err_set(err, SL_E_CONFIG, "invalid spec: %s at line %d, column %d", je.text, je.line,
                   je.column);
        sl_err_hint(err, "a spec is one JSON object with \"name\", \"source\" and \"target\"; see docs/spec.md");
        return -1;
    }
    sl_spec_t *spec = calloc(1, sizeof *spec);
    if (!spec)
        sl_oom();
    int rc = -1;
    if (!json_is_object(root)) {
        sl_err_set(err, SL_E_CONFIG, "invalid spec: the top level must be an object");
        sl_err_hint(err, "a spec is one JSON object with \"name\", \"source\" and \"target\"; see docs/spec.md");
        goto done;
    }
    if (check_keys(root, "the spec", top_keys, err) || set_defaults(&spec->opt, err))
        goto done;
    const json_t *name = json_object_get(root, "name");
    if (!json_is_string(name) || !json_string_length(name)) {
        sl_err_set(err, SL_E_CONFIG, "the spec needs a \"name\"");
        sl_err_hint(err, "a name identifies the stream's checkpoints, e.g. \"name\": \"shop-to-pg\"");
        goto done;
    }
    for (const char *c = json_string_value(name); *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || *c == '_')) {
            sl_err_set(err, SL_E_CONFIG, "invalid stream name \"%s\"", json_string_value(name));
            sl_err_hint(err, "use letters, digits, '-' and '_'");
            goto done;
        }
    if (json_string_length(name) > 100) {
        sl_err_set(err, SL_E_CONFIG, "stream name longer than 100 characters");
        goto done;
    }
    spec->name = sl_strdup(json_string_value(name));
    const json_t *mode = json_object_get(root, "mode");
    if (!mode || (json_is_string(mode) && !strcmp(json_string_value(mode), "load")))
        spec->mode = SL_MODE_LOAD;
    else if (json_is_string(mode) && !strcmp(json_string_value(mode), "cdc"))
        spec->mode = SL_MODE_CDC;
    else {
        sl_err_set(err, SL_E_CONFIG, "invalid mode");
        sl_err_hint(err, "\"mode\" is \"load\" or \"cdc\"");
        goto done;
    }
    if (!json_object_get(root, "source")) {
        sl_err_set(err, SL_E_CONFIG, "the spec needs a \"source\"");
        goto done;
    }
    if (!json_object_get(root, "target")) {
        sl_err_set(err, SL_E_CONFIG, "the spec needs a \"target\"");
        goto done;
    }
    if (parse_endpoint(json_object_get(root, "source"), "source", true, &spec->source_url, spec, err) ||
        parse_endpoint(json_object_get(root, "target"), "target", false, &spec->target_url, spec, err))
        goto done;
    const json_t *opts = json_object_get(root, "options");
    if (opts) {
        if (!json_is_object(opts)) {
            sl_err_set(err, SL_E_CONFIG, "\"options\" must be an object");
            goto done;
        }
        const char *k;
        json_t *v;
        unsigned bit = spec->mode == SL_MODE_CDC ? SL_OPT_CDC : SL_OPT_LOAD;
        json_object_foreach((json_t *)opts, k, v)
        {
            const sl_opt_t *p = sl_opt_find(&sl_spec_option_table, k);
            if (!p) {
                const char *names[NROWS + 1];
                for (int i = 0; i < NROWS; i++)
                    names[i] = rows[i].name;
                names[NROWS] = NULL;
                check_keys(opts, "options", names, err);
                goto done;
            }
            if (set_prop(&spec->opt, (int)(p - rows), v, bit, err))
                goto done;
        }
    }
    if (check_choices(&spec->opt, spec->mode, err))
        goto done;
    mark_change_columns(spec);
    rc = 0;
done:
    json_decref(root);
    if (rc) {
        sl_spec_free(spec);
        return rc;
    }
    *out = spec;
    return 0;
}

void sl_spec_password_hint(const sl_spec_t *spec, sl_err_t *err)
{
    bool src = !strncmp(err->message, "source: ", 8), tgt = !strncmp(err->message, "target: ", 8);
    if ((src && spec->source_password) || (tgt && spec->target_password))
        sl_url_hint_password(err, src ? "the password in \"source\".password" : "the password in \"target\".password");
    else if (!src && !tgt && (spec->source_password || spec->target_password))
        sl_url_hint_password(err, "the password in the URL, or in the endpoint's \"password\" field");
}

int sl_spec_load_file(const char *path, sl_spec_t **out, sl_err_t *err)
{
    /* "-": stdin (`sluice server` hands its children their spec this way, never on disk). */
    bool in = strcmp(path, "-") == 0;
    FILE *f = in ? stdin : fopen(path, "rb");
    if (!f) {
        sl_err_set(err, SL_E_CONFIG, "could not open spec file \"%s\": %m", path);
        sl_err_hint(err, "check the path; docs/spec.md shows what a spec file holds");
        return -1;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            if (cap > (16u << 20)) {
                if (!in)
                    fclose(f);
                free(text);
                return sl_err_set(err, SL_E_CONFIG, "spec file \"%s\" is larger than 16 MB", path);
            }
            char *p = realloc(text, cap);
            if (!p)
                sl_oom();
            text = p;
        }
        size_t n = fread(text + len, 1, 4096, f);
        len += n;
        if (n < 4096)
            break;
    }
    if (!in)
        fclose(f);
    text[len] = '\0';
    int rc = sl_spec_parse(text, out, err);
    if (rc)
        sl_err_prefix(err, "%s: ", path);
    free(text);
    return rc;
}
